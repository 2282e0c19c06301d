"""Post text: HTML to plain text, and the links a post carries.

Platforms store bodies as HTML (Discourse `cooked`, Moodle `message`) or as markup
(Slack's `<url|label>` and `<@U123>`). The canonical `body_text` is plain text, so the
coder and the report never see markup, and script or style content is dropped.
"""

from __future__ import annotations

import html
import re

import polars as pl

URL_PATTERN = r"(?i)https?://[^\s<>|\"')\]]+"  # Python re and polars share this syntax
_URL = re.compile(URL_PATTERN)

# HTML to text as polars regex passes (Rust regex: no back-references, hence one pass per
# dropped element). Output is only ever text, never rendered as HTML, so a leftover of
# malformed markup costs a few characters of noise, not safety.
_DROPPED = [rf"(?is)<{tag}\b.*?</{tag}\s*>" for tag in ("script", "style", "template", "noscript", "head")]
_DROPPED += [r"(?s)<!--.*?-->", r"(?i)<!\[CDATA\[.*?\]\]>"]
_BLOCK = r"(?i)</?(?:p|div|br|hr|li|ul|ol|tr|td|th|table|blockquote|pre|h[1-6]|aside|section|article|details|summary|figure|figcaption|dd|dt|dl)\b[^>]*>"
_TAG = r"</?[A-Za-z][^>]*>|<![^>]*>"
_COMMON_ENTITIES = {
    "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'", "&#x27;": "'", "&apos;": "'",
    "&nbsp;": " ", "&hellip;": "\u2026", "&mdash;": "\u2014", "&ndash;": "\u2013", "&rsquo;": "\u2019",
    "&lsquo;": "\u2018", "&ldquo;": "\u201c", "&rdquo;": "\u201d", "&#8217;": "\u2019", "&#8220;": "\u201c", "&#8221;": "\u201d",
}
_OTHER_ENTITY = r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]{1,31});"
_LINK = r"(?i)<a\b[^>]*\bhref\s*=\s*[\"']?https?:"
_SLACK_LABELLED = r"<(?:https?|mailto):[^|>]+\|([^>]*)>"
_SLACK_BARE = r"<((?:https?|mailto):[^|>]+)>"
_SLACK_NAMED_MENTION = r"<@[A-Z0-9]+\|([^>]*)>"
_SLACK_CHANNEL = r"<#[A-Z0-9]+\|([^>]*)>"
_SLACK_MENTION = r"<[@#!][A-Za-z0-9^]+>"


def tidy_expr(expr: pl.Expr) -> pl.Expr:
    """Collapse runs of spaces, trim lines, keep at most one blank line, strip the ends."""
    return (
        expr.str.replace_all("\r\n?", "\n")
        # runs of blanks -> one space; a lone space already is one, so it is not matched
        # (rewriting every space made this the slowest step of reading a large export)
        .str.replace_all("[\t\f\v\u00a0][ \t\f\v\u00a0]*| [ \t\f\v\u00a0]+", " ")
        .str.replace_all(" ?\n ?", "\n")
        .str.replace_all("\n{3,}", "\n\n")
        .str.strip_chars()
    )


def html_to_text_series(bodies: pl.Series) -> pl.Series:
    """Plain text of a column of HTML fragments: block elements become line breaks,
    scripts, styles and comments vanish, entities are decoded. Vectorized: the common
    entities in one Aho-Corasick pass; the rare rows that still hold an entity after it
    (numeric or uncommon named ones) are decoded from the stripped text by the standard
    library, so nothing is decoded twice."""
    expr = pl.col("html").fill_null("")
    for pattern in _DROPPED:
        expr = expr.str.replace_all(pattern, "")
    stripped = pl.DataFrame({"html": bodies.cast(pl.String)}).select(
        expr.str.replace_all(_BLOCK, "\n").str.replace_all(_TAG, "")
    ).to_series()
    text = stripped.str.replace_many(list(_COMMON_ENTITIES), list(_COMMON_ENTITIES.values()))
    rare = text.str.contains(_OTHER_ENTITY).fill_null(False)
    if rare.any():
        text = text.scatter(rare.arg_true(), stripped.filter(rare).map_elements(html.unescape, return_dtype=pl.String))
    return pl.DataFrame({"t": text}).select(tidy_expr(pl.col("t"))).to_series().alias(bodies.name)


def html_links_series(bodies: pl.Series) -> pl.Series:
    """Number of hyperlinks (`<a href>` to a web URL) in each HTML fragment."""
    return bodies.cast(pl.String).str.count_matches(_LINK).fill_null(0).cast(pl.Int64)


def slack_to_text_series(texts: pl.Series) -> pl.Series:
    """Plain text of Slack messages: `<url|label>` becomes the label, bare `<url>` the url,
    mentions become "@name" (or "@member" when the export gives only an id)."""
    expr = (
        pl.col("t").fill_null("")
        .str.replace_all(_SLACK_LABELLED, "${1}")
        .str.replace_all(_SLACK_BARE, "${1}")
        .str.replace_all(_SLACK_NAMED_MENTION, "@${1}")
        .str.replace_all(_SLACK_CHANNEL, "#${1}")
        .str.replace_all(_SLACK_MENTION, "@member")
        .str.replace_many(["&lt;", "&gt;", "&amp;"], ["<", ">", "&"])
    )
    return pl.DataFrame({"t": texts.cast(pl.String)}).select(tidy_expr(expr)).to_series().alias(texts.name)


def html_to_text(fragment: str | None) -> str:
    """Plain text of one HTML fragment (the column version, on one value)."""
    return html_to_text_series(pl.Series([fragment], dtype=pl.String))[0] if fragment else ""


def html_links(fragment: str | None) -> int:
    """Number of hyperlinks (`<a href>` to a web URL) in one HTML fragment."""
    return int(html_links_series(pl.Series([fragment], dtype=pl.String))[0]) if fragment else 0


def slack_to_text(text: str | None) -> str:
    """Plain text of one Slack message."""
    return slack_to_text_series(pl.Series([text], dtype=pl.String))[0] if text else ""


# UTF-8 read as Windows-1252/Latin-1 and saved again ("CafÃ©", "teachersâ€™") leaves
# these two-character sequences; text without them is never touched.
_MOJIBAKE = re.compile("[\u00c2\u00c3\u00c5\u00e2][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]")


def repair_mojibake(text: str) -> str:
    """Repair double-encoded text (UTF-8 decoded as Windows-1252 and re-encoded) with ftfy.

    Only lines that show mojibake are handed to ftfy, so clean files cost one regex scan;
    ftfy's `fix_encoding` changes nothing but the encoding damage (quotes stay curly).
    """
    if not any(lead in text for lead in "\u00c2\u00c3\u00c5\u00e2") or not _MOJIBAKE.search(text):
        return text
    import ftfy

    return "".join(
        ftfy.fix_encoding(line) if _MOJIBAKE.search(line) else line for line in text.splitlines(keepends=True)
    )


def count_urls(text: str | None) -> int:
    """Number of http(s) URLs written out in plain text or Slack markup."""
    if not text:
        return 0
    return len(_URL.findall(text))
