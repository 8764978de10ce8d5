"""Descriptions: Markdown (the `markdown` package) → HTML, sanitised by nh3 so content cannot run script."""
from __future__ import annotations

import re
from html import unescape

import markdown as markdown_lib
import nh3

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "u", "s", "del",
    "blockquote", "ul", "ol", "li", "a", "code", "pre", "table", "thead", "tbody", "tr", "th", "td",
    "sub", "sup", "abbr",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto", "tel"}

# A heading `#` in a description would compete with the page's own <h1>: shift every level down.
_HEADING = re.compile(r"<(/?)h([1-6])\b")

_converter = markdown_lib.Markdown(extensions=["sane_lists", "tables"], output_format="html")


# Characters and line starts that can carry Markdown meaning. Text with none of them is plain
# prose, whose HTML Markdown would make is just its paragraphs: most descriptions are like that,
# and skipping the parser for them saves about a third of a cold build's loading time. Tests
# check that both paths give the same HTML. (Each pattern starts with what it looks for, not
# with an alternative or a lookbehind, so the regex engine can skip ahead: five times faster.)
_MARKUP_CHARACTERS = re.compile(r"[\\`*_\[\]<>&|\t\x00-\x08\x0b-\x1f]")
_MARKUP_LINE_START = re.compile(r"\n[ \d#=+>-]")  # a list, heading, quote, rule or code block
_BLANK_LINES = re.compile(r"\n[ ]*\n")
# The one piece of Markdown most descriptions use: `**words**` for bold, on one line, between
# spaces or punctuation, with no other markup inside. Half the descriptions of a catalogue went
# through the full parser for nothing else; anything less plain than this still does.
_STRONG = re.compile(r"\*\*(?<![^\s(]\*\*)([^\s*\\`_\[\]<>&|](?:[^*\\`_\[\]<>&|\n]*[^\s*\\`_\[\]<>&|])?)\*\*(?![^\s.,;:!?)])")


def plain_paragraphs(source: str) -> str | None:
    """The HTML of a text with no Markdown in it but bold words, or None if it may have more."""
    text = source.strip("\n")
    if not text or _has_markup(_STRONG.sub("x", text) if "**" in text else text):
        return None
    if "**" in text:
        text = _STRONG.sub(r"<strong>\1</strong>", text)
    return "\n".join(f"<p>{paragraph.strip(chr(10))}</p>" for paragraph in _BLANK_LINES.split(text) if paragraph.strip())


def _has_markup(text: str) -> bool:
    return bool(_MARKUP_CHARACTERS.search(text) or _MARKUP_LINE_START.search("\n" + text)
                or " \n" in text or text.endswith(" "))  # a line break


def render_markdown(source: str) -> str:
    """Render a description to safe HTML: raw HTML, scripts, event handlers and unsafe links removed."""
    html = plain_paragraphs(source)
    if html is None:
        _converter.reset()
        html = _converter.convert(source)
    html = _HEADING.sub(lambda m: f"<{m[1]}h{min(int(m[2]) + 1, 6)}", html)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


_TAG = re.compile(r"<[^>]*>")


def plain_text(html: str) -> str:
    """The words a reader sees in rendered (sanitised) HTML: tags and their attributes dropped."""
    return unescape(_TAG.sub(" ", html))
