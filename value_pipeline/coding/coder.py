"""Choosing a coder: the rules, the shipped model, or a community's own model.

The default is the shipped model when it is installed (it was chosen over the rules on
the held-out part of the development gold set), else the rules. A community with enough
hand-coded posts gets its own model (trained on the shipped training data plus its
codes), used only where cross-validation on its codes shows it beats the default.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from value_pipeline.coding.codebook import load_codebook
from value_pipeline.coding.model import shipped_model
from value_pipeline.coding.rules import code_posts
from value_pipeline.errors import InputError

Coder = Callable[[pl.DataFrame], pl.DataFrame]


def default_coder(name: str = "default") -> Coder:
    """A coder by name: default | rules | model."""
    codebook = load_codebook()
    if name == "rules":
        return lambda posts: code_posts(posts, codebook)
    model = shipped_model()
    if name == "model" and model is None:
        raise InputError("--coder", "no shipped model in this install")
    if name in ("default", "model") and model is not None:
        return lambda posts: model.code(posts, codebook)
    if name == "default":
        return lambda posts: code_posts(posts, codebook)
    raise InputError("--coder", f"unknown coder {name!r} (default, rules or model)")
