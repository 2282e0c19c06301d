"""Post text: HTML to plain text, and the links a post carries.

Platforms store bodies as HTML (Discourse `cooked`, Moodle `message`) or as markup
(Slack's `<url|label>` and `<@U123>`). The canonical `body_text` is plain text, so the
coder and the report never see markup, and script or style content is dropped.
"""

from __future__ import annotations

import re

import tinyhtml5

_BLOCK_TAGS = {
    "p", "div", "br", "li", "ul", "ol", "tr", "table", "blockquote", "pre",
    "h1", "h2", "h3", "h4", "h5", "h6", "aside", "section", "article", "hr",
}
_DROPPED_TAGS = {"script", "style", "template", "noscript", "head"}
URL_PATTERN = r"(?i)https?://[^\s<>|\"')\]]+"  # Python re and polars share this syntax
_URL = re.compile(URL_PATTERN)
_SLACK_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
_SLACK_MENTION = re.compile(r"<[@#!]([A-Z0-9^]+)(?:\|([^>]*))?>")
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def html_to_text(html: str | None) -> str:
    """Plain text of an HTML fragment: block elements become line breaks, scripts vanish."""
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        return _tidy(html)
    root = tinyhtml5.parse(html)
    parts: list[str] = []

    def walk(element) -> None:
        tag = _local(element.tag)
        if tag in _DROPPED_TAGS:
            if element.tail:
                parts.append(element.tail)
            return
        if tag in _BLOCK_TAGS:
            parts.append("\n")
        if element.text:
            parts.append(element.text)
        for child in element:
            walk(child)
        if tag in _BLOCK_TAGS:
            parts.append("\n")
        if element.tail:
            parts.append(element.tail)

    walk(root)
    return _tidy("".join(parts))


def html_links(html: str | None) -> int:
    """Number of hyperlinks (`<a href>` to a URL) in an HTML fragment."""
    if not html:
        return 0
    root = tinyhtml5.parse(html)
    return sum(
        1
        for element in root.iter()
        if _local(element.tag) == "a" and str(element.get("href", "")).lower().startswith(("http:", "https:"))
    )


def slack_to_text(text: str | None) -> str:
    """Plain text of a Slack message: `<url|label>` becomes the label (or url), mentions drop ids."""
    if not text:
        return ""
    text = _SLACK_LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _SLACK_MENTION.sub(lambda m: "@" + (m.group(2) or "member"), text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return _tidy(text)


# UTF-8 read as Windows-1252/Latin-1 and saved again ("CafÃ©", "teachersâ€™") leaves
# these two-character sequences; text without them is never touched.
_MOJIBAKE = re.compile("[\u00c2\u00c3\u00c5\u00e2][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]")


def repair_mojibake(text: str) -> str:
    """Repair double-encoded text (UTF-8 decoded as Windows-1252 and re-encoded) with ftfy.

    Only lines that show mojibake are handed to ftfy, so clean files cost one regex scan;
    ftfy's `fix_encoding` changes nothing but the encoding damage (quotes stay curly).
    """
    if not _MOJIBAKE.search(text):
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


def _tidy(text: str) -> str:
    lines = (_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
