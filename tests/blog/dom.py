"""A tiny HTML tree for assertions about what a reader sees (no third-party parser needed)."""

import re
from html.parser import HTMLParser

VOID_TAGS = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "param",
    "source",
    "track",
    "wbr",
}


class Element:
    """One element: its tag, attributes and children (elements and text)."""

    def __init__(self, tag: str, attrs: list[tuple[str, str | None]], parent: "Element | None" = None):
        self.tag = tag
        self.attrs = {name: value or "" for name, value in attrs}
        self.attr_list = [(name, value or "") for name, value in attrs]
        self.parent = parent
        self.children: list[Element | str] = []

    def __getitem__(self, name: str) -> str:
        return self.attrs[name]

    def get(self, name: str, default: str | None = None) -> str | None:
        """An attribute's value, or ``default``."""
        return self.attrs.get(name, default)

    @property
    def classes(self) -> set[str]:
        """The element's classes."""
        return set(self.attrs.get("class", "").split())

    @property
    def text(self) -> str:
        """The text inside the element, with runs of white space collapsed."""
        return re.sub(r"\s+", " ", "".join(self._texts())).strip()

    def _texts(self):
        for child in self.children:
            if isinstance(child, str):
                yield child
            else:
                yield from child._texts()

    def iter(self):
        """This element and every element inside it, in document order."""
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, tag: str | None = None, class_: str | None = None, **attrs: str) -> list["Element"]:
        """Elements inside this one with the tag, class and attribute values given."""
        return [
            element
            for element in self.iter()
            if element is not self
            and (tag is None or element.tag == tag)
            and (class_ is None or class_ in element.classes)
            and all(element.attrs.get(name.replace("_", "-")) == value for name, value in attrs.items())
        ]

    def find(self, tag: str | None = None, class_: str | None = None, **attrs: str) -> "Element | None":
        """The first element :meth:`find_all` would return, or None."""
        found = self.find_all(tag, class_, **attrs)
        return found[0] if found else None

    def one(self, tag: str | None = None, class_: str | None = None, **attrs: str) -> "Element":
        """The only element matching; fails the test when there are none or several."""
        found = self.find_all(tag, class_, **attrs)
        assert len(found) == 1, f"expected one <{tag} class={class_} {attrs}>, found {len(found)}"
        return found[0]

    def section_headed(self, heading: str) -> "Element":
        """The element whose h2 reads ``heading`` (e.g. a sidebar box)."""
        for h2 in self.find_all("h2"):
            if h2.text == heading:
                return h2.parent
        raise AssertionError(f"no section headed {heading!r}")

    def links(self) -> list[tuple[str, str]]:
        """(text, href) of every link inside the element."""
        return [(a.text, a.get("href", "")) for a in self.find_all("a")]

    def __repr__(self) -> str:
        return f"<{self.tag} {self.attrs}>"


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", [])
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        element = Element(tag, attrs, self.current)
        self.current.children.append(element)
        if tag not in VOID_TAGS:
            self.current = element

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Element(tag, attrs, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(html: str) -> Element:
    """Parse a page or fragment into a tree."""
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def meta_content(document: Element, key: str) -> str | None:
    """The content of <meta property=key> or <meta name=key>."""
    for meta in document.find_all("meta"):
        if key in (meta.get("property"), meta.get("name")):
            return meta.get("content")
    return None
