"""Pseudonymous member keys.

Raw author ids, names and emails never leave the readers: each reader turns the
identifier it has into `author_key`, a keyed hash (HMAC-SHA256) with a secret from the
environment. The same identifier gives the same key in every file and every run, so a
forum author and a survey respondent who gave the same email (or username) link without
the identifier being stored anywhere.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import warnings

import polars as pl

SECRET_ENV = "VALUE_PIPELINE_SECRET"
# Development default, clearly marked: keys made with it are only as secret as this repo.
DEVELOPMENT_SECRET = "DEVELOPMENT-ONLY-not-a-secret"
KEY_LENGTH = 16  # hex characters kept: 64 bits, ample for communities of any size


def secret_from_env() -> bytes:
    """The HMAC secret from VALUE_PIPELINE_SECRET, or the marked development default."""
    secret = os.environ.get(SECRET_ENV)
    if not secret:
        warnings.warn(
            f"{SECRET_ENV} is not set: using the development secret. "
            "Set it in production so member keys cannot be recomputed by others.",
            stacklevel=2,
        )
        secret = DEVELOPMENT_SECRET
    return secret.encode()


def normalize_identifier(kind: str, value: str, platform: str = "") -> str:
    """The canonical form of an identifier before hashing.

    Emails are matched case-insensitively on any platform; usernames are scoped to
    their platform so that `sam` on Slack and `sam` on Discourse stay different people.
    """
    value = value.strip().lower()
    if kind == "email":
        return f"email:{value}"
    return f"{kind}:{platform}:{value}"


class Pseudonymizer:
    """Turns identifiers into stable pseudonymous keys (HMAC-SHA256, truncated)."""

    def __init__(self, secret: bytes | None = None):
        self._secret = secret if secret is not None else secret_from_env()

    def key(self, kind: str, value: str | None, platform: str = "") -> str | None:
        if value is None or not str(value).strip():
            return None
        message = normalize_identifier(kind, str(value), platform).encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:KEY_LENGTH]

    def key_series(self, kind: str, values: pl.Series, platform: str = "") -> pl.Series:
        """Keys for a column of identifiers (HMAC is per value; the unique values are hashed once)."""
        unique = values.unique().drop_nulls().to_list()
        mapping = {value: self.key(kind, value, platform) for value in unique}
        return values.replace_strict(mapping, default=None, return_dtype=pl.String)
