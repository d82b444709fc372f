"""Landmarks: every landmark of a kind on a page has its own name (screen readers list them by name)."""

from collections import Counter
from html.parser import HTMLParser

import pytest

# Elements that are landmarks (a section or form only when it has a name), and the role each one is.
LANDMARKS = {"nav": "navigation", "main": "main", "aside": "complementary", "section": "region", "form": "form"}


class LandmarkReader(HTMLParser):
    """Collects (role, name) of the page's landmarks; names from aria-label or the labelling element's text."""

    def __init__(self):
        super().__init__()
        self.landmarks: list[tuple[str, str | None]] = []
        self.labelled_by: dict[str, int] = {}  # id -> index of the landmark it names
        self.texts: dict[str, list[str]] = {}
        self.open_ids: list[str] = []
        self.label_attrs: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        role = attrs.get("role") or LANDMARKS.get(tag)
        if role in ("navigation", "main", "complementary", "region", "form", "search", "banner", "contentinfo"):
            named = attrs.get("aria-label")
            if role in ("region", "form") and not (named or attrs.get("aria-labelledby")):
                pass  # without a name, a section or form is no landmark
            else:
                self.landmarks.append((role, named))
                if attrs.get("aria-labelledby"):
                    self.labelled_by[attrs["aria-labelledby"]] = len(self.landmarks) - 1
        if attrs.get("id"):
            self.texts.setdefault(attrs["id"], [])
        self.label_attrs.append(attrs.get("id"))

    def handle_endtag(self, tag):
        if self.label_attrs:
            self.label_attrs.pop()

    def handle_data(self, data):
        for element_id in self.label_attrs:
            if element_id in self.texts:
                self.texts[element_id].append(data)

    def names(self) -> list[tuple[str, str | None]]:
        found = list(self.landmarks)
        for element_id, place in self.labelled_by.items():
            found[place] = (found[place][0], " ".join("".join(self.texts.get(element_id, [])).split()))
        return found


@pytest.mark.parametrize(
    "path",
    ["/", "/products/", "/products/?q=PBMC+A*02:01+CMV-&more=hla",
     "/products/leukopak-non-mobilized-full-fresh?cmv=positive", "/search?q=A2+female"],
)  # fmt: skip
def test_landmark_names_are_unique(client, seeded, path):
    reader = LandmarkReader()
    reader.feed(client.get(path).text)
    landmarks = reader.names()
    repeated = {landmark: n for landmark, n in Counter(landmarks).items() if n > 1}
    assert not repeated, (path, repeated)
    # A landmark of a kind that appears more than once must be named.
    roles = Counter(role for role, _ in landmarks)
    assert all(name for role, name in landmarks if roles[role] > 1), (path, landmarks)
