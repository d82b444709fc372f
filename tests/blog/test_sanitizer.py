"""Markdown to HTML: no known XSS payload survives, and the Markdown an editor writes renders as expected."""

import re
from html import unescape

import pytest
from markupsafe import Markup

import shop.markdown
from shop.markdown import render_markdown
from tests.blog.dom import parse

P = pytest.param
PAYLOADS = [
    P("<script>alert(1)</script>", id="script"),
    P("<SCRIPT SRC=//evil.example/xss.js></SCRIPT>", id="script-src-uppercase"),
    P("<scr<script>ipt>alert(1)</scr</script>ipt>", id="script-split"),
    P("<<script>script>alert(1)<</script>/script>", id="script-doubled-brackets"),
    P("<img src=x onerror=alert(1)>", id="img-onerror"),
    P('<IMG SRC="javascript:alert(1)">', id="img-javascript-src"),
    P("<svg onload=alert(1)>", id="svg-onload"),
    P("<svg><script>alert(1)</script></svg>", id="svg-script"),
    P('<iframe src="javascript:alert(1)"></iframe>', id="iframe"),
    P('<iframe srcdoc="<script>alert(1)</script>"></iframe>', id="iframe-srcdoc"),
    P('<object data="javascript:alert(1)"></object>', id="object"),
    P('<embed src="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">', id="embed"),
    P("[x](javascript:alert(1))", id="md-link-javascript"),
    P("[x](JaVaScRiPt:alert(1))", id="md-link-mixed-case"),
    P("[x](java&#x09;script:alert(1))", id="md-link-tab-entity"),
    P("[x](&#106;avascript:alert(1))", id="md-link-decimal-entity"),
    P("[x](&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;:alert(1))", id="md-link-hex-entities"),
    P("[x](<javascript:alert(1)>)", id="md-link-angle-brackets"),
    P("[x](javascript&colon;alert(1))", id="md-link-colon-entity"),
    P("<javascript:alert(1)>", id="autolink-javascript"),
    P("<JAVASCRIPT:alert(1)>", id="autolink-uppercase"),
    P("[x][ref]\n\n[ref]: javascript:alert(1)", id="reference-link"),
    P("[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", id="md-link-data-html"),
    P("![x](data:text/html,<script>alert(1)</script>)", id="md-image-data-html"),
    P("![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)", id="md-image-data-svg"),
    P("![x](data:image/png;base64,iVBORw0KGgo=)", id="md-image-data-png"),
    P("![x](javascript:alert(1))", id="md-image-javascript"),
    P("[x](vbscript:msgbox(1))", id="md-link-vbscript"),
    P("<a href=\"vbscript:msgbox('x')\">x</a>", id="a-vbscript"),
    P('<a href="https://example.com" onclick="alert(1)">x</a>', id="a-onclick"),
    P('<a href="javascript&colon;alert(1)">x</a>', id="a-colon-entity"),
    P('<a href=" &#14;javascript:alert(1)">x</a>', id="a-control-char"),
    P('<p onmouseover="alert(1)">hover</p>', id="p-onmouseover"),
    P("<body onload=alert(1)>", id="body-onload"),
    P("<details open ontoggle=alert(1)>", id="details-ontoggle"),
    P('<video><source onerror="alert(1)"></video>', id="video-source-onerror"),
    P('<style>body{background:url("javascript:alert(1)")}</style>', id="style-tag"),
    P('<p style="color:red;background:url(javascript:alert(1))">x</p>', id="style-attribute"),
    P('<div style="background:url(javascript:alert(1))">x</div>', id="div-style-javascript-url"),
    P(
        '<table><tr><td style="text-align:left;background:url(javascript:alert(1))">a</td></tr></table>',
        id="td-style-smuggled",
    ),
    P(
        '<table><tr><th style="text-align:right;position:fixed;top:0;width:100%;height:100%">x</th></tr></table>',
        id="th-style-overlay",
    ),
    P('<table><tr><td style="background:red;color:white">a</td></tr></table>', id="td-style-colours"),
    P('<math><mtext><a xlink:href="javascript:alert(1)">x</a></mtext></math>', id="math"),
    P('<form action="javascript:alert(1)"><input type="submit"></form>', id="form-input"),
    P('<button formaction="javascript:alert(1)">go</button>', id="button-formaction"),
    P("<!-- <script>alert(1)</script> -->", id="html-comment"),
    P("<!--><img src=x onerror=alert(1)>-->", id="html-comment-breakout"),
    P('<base href="javascript:alert(1)//">', id="base-href"),
    P('<meta http-equiv="refresh" content="0;url=javascript:alert(1)">', id="meta-refresh"),
    P('<link rel="import" href="data:text/html,<script>alert(1)</script>">', id="link-import"),
    P('![x](/img.png "a\\" onerror=\\"alert(1)")', id="md-image-title-breaks-quote"),
    P('![x" onerror="alert(1)](/img.png)', id="md-image-alt-breaks-quote"),
    P("[x](/path \"t' onmouseover='alert(1)\")", id="md-link-title-single-quote"),
    P('[x](https://example.com" onclick="alert(1))', id="md-link-url-breaks-quote"),
    P("<div><p><b onclick=alert(1)>unclosed <i>nested", id="nested-unclosed"),
    P("&lt;script&gt;alert(1)&lt;/script&gt;", id="entity-encoded-tag"),
    P("&#60;script&#62;alert(1)&#60;/script&#62;", id="numeric-entity-encoded-tag"),
    P("| a |\n|---|\n| <img src=x onerror=alert(1)> |", id="html-in-table"),
    P("Text[^1]\n\n[^1]: [x](javascript:alert(1)) <script>alert(1)</script>", id="footnote"),
    P("> <script>alert(1)</script>\n> [x](javascript:alert(1))", id="blockquote"),
    P("- <img src=x onerror=alert(1)>\n- [x](javascript:alert(1))", id="list"),
    P("```html\n<script>alert(1)</script>\n```", id="fenced-code"),
]

FORBIDDEN_TAGS = (
    "script", "iframe", "object", "embed", "style", "form", "base", "meta", "link", "svg", "math",
    "input", "button", "body", "video", "source", "details", "div", "textarea", "frame", "applet",
)  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "background", "poster", "srcdoc", "data"}
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")


def assert_safe(html: str) -> None:
    """Fail when the HTML could run script or restyle the page."""
    lower = html.lower()
    assert "<script" not in lower
    for tag in FORBIDDEN_TAGS:
        assert f"<{tag}" not in lower, tag
    for raw_tag in re.findall(r"<[^>]*>", html):
        outside_values = re.sub(r"\"[^\"]*\"|'[^']*'", "", raw_tag)
        assert not re.search(r"\son\w+\s*=", outside_values, re.I), raw_tag
        # No style attribute survives: the site's CSP refuses them (alignment is a class).
        assert "style=" not in outside_values, raw_tag
    for element in parse(html).iter():
        for name, value in element.attr_list:
            assert not name.lower().startswith("on"), (element, name)
            plain = re.sub(r"[\x00-\x20]", "", unescape(value)).lower()
            if name.lower() in URL_ATTRIBUTES:
                assert not plain.startswith(BAD_SCHEMES), (element, name, value)
            assert name.lower() != "style", (element, value)


@pytest.fixture
def fresh_cache():
    """Each test renders afresh (inline lines are cached by text)."""
    shop.markdown._render_short_inline.cache_clear()
    yield
    shop.markdown._render_short_inline.cache_clear()


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_is_neutralised(payload, fresh_cache):
    """Raw HTML is not rendered, unsafe links are not made, and nothing that can run survives."""
    assert_safe(str(render_markdown(payload)))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_is_neutralised_even_if_raw_html_were_allowed(payload, fresh_cache, monkeypatch):
    """The allow-list is a second line of defence: with markdown-it's raw HTML switched on, output is still safe."""
    monkeypatch.setitem(shop.markdown._md.options, "html", True)
    assert_safe(str(render_markdown(payload)))


def test_the_second_line_of_defence_sees_raw_html(fresh_cache, monkeypatch):
    """Switching raw HTML on really reaches the sanitiser (so the test above tests something)."""
    monkeypatch.setitem(shop.markdown._md.options, "html", True)
    assert str(render_markdown('<a href="https://example.com" onclick="alert(1)">x</a>')) == (
        '<p><a href="https://example.com" rel="noopener noreferrer">x</a></p>\n'
    )


def test_the_checker_catches_unsafe_html():
    """assert_safe itself fails on each kind of unsafe output."""
    for unsafe in (
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        '<a href="JaVaScRiPt:alert(1)">x</a>',
        '<img src="data:text/html,x">',
        '<p style="color:red">x</p>',
        '<td style="background:red">x</td>',
        "<iframe></iframe>",
    ):
        with pytest.raises(AssertionError):
            assert_safe(unsafe)


def test_raw_html_is_shown_as_text(fresh_cache):
    """A reader sees what the editor typed instead of a running script."""
    assert str(render_markdown("<script>alert(1)</script>")) == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"


def test_unsafe_markdown_link_is_not_a_link(fresh_cache):
    html = str(render_markdown("[click](javascript:alert(1)) and [ok](https://example.com)"))
    assert parse(html).links() == [("ok", "https://example.com")]


# What editors write ------------------------------------------------------------------------------------------------


def render(text: str) -> str:
    return str(render_markdown(text))


def test_result_is_markup_and_empty_text_is_empty(fresh_cache):
    assert isinstance(render_markdown("x"), Markup)
    assert render_markdown(None) == ""
    assert render_markdown("") == ""


def test_level_one_heading_becomes_level_two(fresh_cache):
    """The page title is the only h1: "# Results" in a body becomes an h2."""
    html = render("# Results\n\nText\n\nSetext title\n===\n\n### Detail")
    assert "<h1" not in html
    assert [(h.tag, h.text) for h in parse(html).iter() if h.tag.startswith("h")] == [
        ("h2", "Results"),
        ("h2", "Setext title"),
        ("h3", "Detail"),
    ]


def test_lists(fresh_cache):
    html = render("- CD4\n- CD8\n\n3. third\n4. fourth")
    doc = parse(html)
    assert [li.text for li in doc.one("ul").find_all("li")] == ["CD4", "CD8"]
    ordered = doc.one("ol")
    assert ordered.get("start") == "3"
    assert [li.text for li in ordered.find_all("li")] == ["third", "fourth"]


def test_links_get_noopener_noreferrer(fresh_cache):
    html = render(
        '[CellShop](https://cellshop.example/products/ "Our cells"), [T cells](/products/?category=t-cell) '
        "and [mail](mailto:sales@cellshop.example)"
    )
    links = parse(html).find_all("a")
    assert [(a["href"], a.text, a.get("rel")) for a in links] == [
        ("https://cellshop.example/products/", "CellShop", "noopener noreferrer"),
        ("/products/?category=t-cell", "T cells", "noopener noreferrer"),
        ("mailto:sales@cellshop.example", "mail", "noopener noreferrer"),
    ]
    assert links[0]["title"] == "Our cells"


def test_images(fresh_cache):
    img = parse(render('![CD3+ T cells under the microscope](/uploads/posts/cells.png "Figure 1")')).one("img")
    assert img.attrs == {
        "src": "/uploads/posts/cells.png",
        "alt": "CD3+ T cells under the microscope",
        "title": "Figure 1",
    }


def test_tables_with_alignment(fresh_cache):
    html = render("| Marker | Cells | % |\n|:--|:-:|--:|\n| CD4 | T | 60 |")
    doc = parse(html)
    # Alignment is a class, not style="": the site's CSP refuses style attributes.
    assert [(th.text, th.get("class"), th.get("style")) for th in doc.one("thead").find_all("th")] == [
        ("Marker", "align-left", None),
        ("Cells", "align-center", None),
        ("%", "align-right", None),
    ]
    assert [td.text for td in doc.one("tbody").find_all("td")] == ["CD4", "T", "60"]
    assert [td.get("class") for td in doc.one("tbody").find_all("td")] == [
        "align-left",
        "align-center",
        "align-right",
    ]


def test_footnotes(fresh_cache):
    """[^1] becomes a superscript link to a footnotes section, which links back."""
    html = render("STAT5 keeps CAR-T cells alive[^1].\n\n[^1]: Henderson, E. (2020). News-Medical.net.")
    doc = parse(html)
    sup = doc.one("sup", class_="footnote-ref")
    ref = sup.one("a")
    assert ref.text == "[1]"
    target = ref["href"].removeprefix("#")
    section = doc.one("section", class_="footnotes")
    note = section.one(id=target)
    assert note.tag == "li"
    assert "Henderson, E. (2020)" in note.text
    back = note.one("a", class_="footnote-backref")
    assert back["href"] == f"#{ref['id']}"


def test_blockquotes_and_code(fresh_cache):
    html = render("> Quoted *finding*\n\nUse `x < y` here.\n\n```python\nif a < b:\n    pass\n```")
    doc = parse(html)
    assert doc.one("blockquote").one("em").text == "finding"
    assert [c.text for c in doc.find_all("code")] == ["x < y", "if a < b: pass"]
    assert "<pre><code>if a &lt; b:\n    pass\n</code></pre>" in html


def test_emphasis(fresh_cache):
    assert render("**bold** and *italic*") == "<p><strong>bold</strong> and <em>italic</em></p>\n"
