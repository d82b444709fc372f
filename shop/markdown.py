"""Markdown to safe HTML: markdown-it-py renders, nh3 sanitises.

Staff-written text is never trusted. Raw HTML in the Markdown is not
rendered at all, and whatever the Markdown produces passes through an
allow-list of tags, attributes and classes; links may only use http(s),
mailto or site-relative addresses. Footnotes (``[^1]``) are supported for
references. A level-1 heading in a body becomes level 2: the page title is
the only h1.
"""

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup
from mdit_py_plugins.footnote import footnote_plugin

from shop.text import strip_control_characters

ALLOWED_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em", "figcaption", "figure",
    "h2", "h3", "h4", "h5", "h6", "hr", "img", "li", "ol", "p", "pre", "section", "strong", "sub", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "id"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "abbr": {"title"},
    "li": {"id"},
}
# Only the classes markdown-it's own footnote markup uses, and the column alignment below.
ALLOWED_CLASSES = {
    "th": {"align-left", "align-center", "align-right"},
    "td": {"align-left", "align-center", "align-right"},
    "sup": {"footnote-ref"},
    "a": {"footnote-backref"},
    "hr": {"footnotes-sep"},
    "section": {"footnotes"},
    "ol": {"footnotes-list"},
    "li": {"footnote-item"},
}


# C0 control characters other than tab, newline and carriage return (e.g. the vertical tab word
# processors paste): invisible in a page, and not allowed at all in XML such as the Atom feed.
# XML 1.0 also forbids U+FFFE, U+FFFF and lone surrogates (which could not even be encoded as UTF-8).
def _align_cells_by_class(state) -> None:
    """Table cells say their alignment with a class: the site's CSP refuses style="" attributes."""
    for token in state.tokens:
        if token.type in ("th_open", "td_open") and token.attrs.get("style", "").startswith("text-align:"):
            align = token.attrs.pop("style").removeprefix("text-align:")
            token.attrs["class"] = f"align-{align}"


_md = (
    MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": True})
    .enable("table")
    .use(footnote_plugin)
)
_md.core.ruler.push("align_cells_by_class", _align_cells_by_class)


# No cache here: bodies are rendered once, at save (posts, product descriptions), and a cache keyed on
# whole bodies grew by ~100 kB per distinct text the editor's live preview sent (hundreds of MB).
def _render(text: str) -> str:
    html = _md.render(strip_control_characters(text)).replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


def render_markdown(text: str | None) -> Markup:
    """Render Markdown to sanitised HTML that is safe to put in a page."""
    return Markup(_render(text or ""))


def _render_inline(text: str) -> str:
    html = _md.renderInline(strip_control_characters(text))
    return nh3.clean(html, tags={"a", "em", "strong", "code", "sub", "sup"}, attributes={"a": {"href", "title"}},
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer")  # fmt: skip


# A post page renders its references (one line each) on every miss; short lines are cached, so the
# cache holds at most INLINE_CACHE_SIZE lines of INLINE_CACHE_MAX_LENGTH characters (a few MB).
INLINE_CACHE_SIZE = 2048
INLINE_CACHE_MAX_LENGTH = 500
_render_short_inline = lru_cache(maxsize=INLINE_CACHE_SIZE)(_render_inline)


def render_markdown_inline(text: str | None) -> Markup:
    """Render one line of Markdown (emphasis, links) to sanitised HTML without a paragraph."""
    text = text or ""
    render = _render_short_inline if len(text) <= INLINE_CACHE_MAX_LENGTH else _render_inline
    return Markup(render(text))
