"""Search that understands donors: the words of a search that name a donor attribute become filters.

Every form the catalog promises to read (issue 15) is in one table, run through the parser and, for a
few, through the pages: the catalog, the site-wide search and the product page a filtered card links to.
"""

import re
from html import unescape

import pytest

from shop.catalog.donor_filters import donor_sentence, parse_query
from tests.catalog.cards import card_slugs
from tests.factories import CategoryFactory, DonorFactory, LotFactory, ProductFactory

# (typed, the filters it names, the words left to search as text)
FORMS = [
    # HLA alleles, in the forms people type
    ("HLA-A*02:01", {"hla": ["A*02:01"]}, ""),
    ("A*02:01", {"hla": ["A*02:01"]}, ""),
    ("a*02:01", {"hla": ["A*02:01"]}, ""),
    ("A*0201", {"hla": ["A*02:01"]}, ""),
    ("HLA-B*08:01", {"hla": ["B*08:01"]}, ""),
    ("DRB1*04:01", {"hla": ["DRB1*04:01"]}, ""),
    ("A2", {"hla": ["A*02"]}, ""),
    ("HLA-A2", {"hla": ["A*02"]}, ""),
    ("B8", {"hla": ["B*08"]}, ""),
    ("DR4", {"hla": ["DRB1*04"]}, ""),
    # CMV and EBV status
    ("CMV-", {"cmv": ["negative"]}, ""),
    ("CMV negative", {"cmv": ["negative"]}, ""),
    ("cmv neg", {"cmv": ["negative"]}, ""),
    ("CMV+", {"cmv": ["positive"]}, ""),
    ("CMV positive", {"cmv": ["positive"]}, ""),
    ("cmv-seronegative", {"cmv": ["negative"]}, ""),
    ("EBV-", {"ebv": ["negative"]}, ""),
    ("EBV pos", {"ebv": ["positive"]}, ""),
    # sex
    ("female", {"sex": ["F"]}, ""),
    ("female donors", {"sex": ["F"]}, ""),
    ("male", {"sex": ["M"]}, ""),
    ("women", {"sex": ["F"]}, ""),
    # age
    ("age 20-35", {"age": ["20-35"]}, ""),
    ("aged 20 to 35", {"age": ["20-35"]}, ""),
    ("age 30-39", {"age": ["30-39"]}, ""),
    ("under 40", {"age": ["18-39"]}, ""),
    ("over 50", {"age": ["51-100"]}, ""),
    ("50+ years", {"age": ["50+"]}, ""),
    ("20-35 years old", {"age": ["20-35"]}, ""),
    # smoking
    ("non-smoker", {"smoking": ["none"]}, ""),
    ("nonsmoker", {"smoking": ["none"]}, ""),
    ("smoker", {"smoking": ["tobacco", "vape", "thc"]}, ""),
    ("THC", {"smoking": ["thc"]}, ""),
    # BMI
    ("BMI under 30", {"bmi": ["-30"]}, ""),
    ("BMI < 25", {"bmi": ["-25"]}, ""),
    ("BMI 18.5-25", {"bmi": ["18.5-25"]}, ""),
    ("BMI over 30", {"bmi": ["30-"]}, ""),
    # blood type
    ("O+", {"blood": ["O+"]}, ""),
    ("AB-", {"blood": ["AB-"]}, ""),
    ("O neg", {"blood": ["O-"]}, ""),
    ("blood type A", {"blood": ["A+", "A-"]}, ""),
    ("blood group B+", {"blood": ["B+"]}, ""),
    # mixed with words, in any order
    ("PBMC HLA-A*02:01 CMV negative", {"hla": ["A*02:01"], "cmv": ["negative"]}, "PBMC"),
    (
        "cmv- leukopak female A*0201 under 40 fresh",
        {"hla": ["A*02:01"], "cmv": ["negative"], "sex": ["F"], "age": ["18-39"]},
        "leukopak fresh",
    ),  # fmt: skip
    # words that only look alike stay words
    ("CD3+ T cells", {}, "CD3+ T cells"),
    ("CD8+ CD45RA+", {}, "CD8+ CD45RA+"),
    ("CT-PBMC-A2CMV-CR-25M", {}, "CT-PBMC-A2CMV-CR-25M"),
    ("Leukopak", {}, "Leukopak"),
]


@pytest.mark.parametrize(("typed", "selected", "text"), FORMS, ids=[form[0] for form in FORMS])
def test_every_donor_form_is_read(typed, selected, text):
    """Each form becomes its filter, and the rest of the search is left as words, with nothing to note."""
    query = parse_query(typed)
    assert (query.selected, query.text, query.notes) == (selected, text, [])


# (typed, a piece of the note, the filters still applied)
BAD = [
    ("HLA-Z*01", "is not an HLA allele", {}),
    ("HLA-A*9", "is not written as an HLA allele", {}),
    ("CMV negative CMV positive", "both CMV negative and CMV positive", {"cmv": ["negative", "positive"]}),
    ("age 20-99999999999999999999", "ages are whole years, from 18 to 100", {}),
    ("age 12", "donors are adults", {}),
    ("under 9999999999999999999999999999", "from 18 to 100", {}),
    ("BMI 99999999999", "a BMI is between 10 and 80", {}),
    ("BMI 25", "give a range", {}),
    ("age 35-20", "no donor age is in that range", {}),
]


@pytest.mark.parametrize(("typed", "note", "selected"), BAD, ids=[form[0] for form in BAD])
def test_bad_donor_words_get_a_note(typed, note, selected):
    """A donor word the parser can't honour is noted (never silently searched for or dropped)."""
    query = parse_query(typed)
    assert any(note in n for n in query.notes), query.notes
    assert query.selected == selected


def test_the_sentence_says_what_the_filters_ask():
    """One sentence over every donor filter; values of one filter are alternatives."""
    assert donor_sentence({"hla": ["A*02:01"], "cmv": ["negative"]}) == (
        "Showing lots whose donor is HLA-A*02:01 and CMV negative."
    )
    assert donor_sentence({"sex": ["F"], "age": ["20-35"], "bmi": ["-30"], "blood": ["O+", "O-"]}) == (
        "Showing lots whose donor is female, aged 20–35, blood type O+ or blood type O- and BMI under 30."
    )
    assert donor_sentence({"format": ["fresh"]}) is None


def notes_of(html: str) -> list[str]:
    return [unescape(n) for n in re.findall(r'<p class="search-note" role="note">([^<]*)</p>', html)]


def test_an_allele_search_lists_what_the_allele_filter_lists(client, seeded):
    """Issue 15's first reproduction: `HLA-A*02:01` finds the 12 products the HLA filter shows, not 1."""
    by_filter = card_slugs(client.get("/products/?hla=A*02:01").text)
    html = client.get("/products/?q=HLA-A*02:01").text
    assert len(by_filter) == 12
    assert card_slugs(html) == by_filter
    assert "Showing lots whose donor is HLA-A*02:01." in html
    assert 'aria-label="Remove filter Donor HLA allele: HLA-A*02:01"' in html
    assert 'name="hla" value="A*02:01" checked' in html  # the facet shows it ticked


def test_cmv_negative_is_a_filter_not_a_word(client, seeded):
    """`CMV negative` found nothing as words; as a filter it finds the CMV-negative donors' products."""
    by_filter = card_slugs(client.get("/products/?cmv=negative").text)
    html = client.get("/products/?q=CMV+negative").text
    assert by_filter and card_slugs(html) == by_filter
    assert "Showing lots whose donor is CMV negative." in html


def test_words_and_donor_filters_together(client, seeded):
    """The rest of the query is searched as text, within the donor filters; chips link to tidy URLs."""
    html = client.get("/products/?q=leukopak+CMV-+A*02:01").text
    expected = card_slugs(client.get("/products/?q=leukopak&cmv=negative&hla=A*02:01").text)
    assert card_slugs(html) == expected
    # Taking off the CMV chip keeps the words and the allele, written as parameters.
    assert 'href="/products/?q=leukopak&amp;cmv=negative" aria-label="Remove filter Donor HLA allele' in html
    assert 'value="Leukopak CMV- A*02:01"' in html.replace("leukopak", "Leukopak")  # the box keeps what was typed


@pytest.mark.parametrize(("typed", "note"), [(typed, note) for typed, note, _ in BAD])
def test_bad_donor_words_on_the_page(client, seeded, typed, note):
    """The catalog and the site-wide search answer 200 with the note on the page."""
    for path in ("/products/", "/search"):
        response = client.get(path, query_string={"q": typed})
        assert response.status_code == 200
        assert any(note in n for n in notes_of(response.text)), (path, notes_of(response.text))


def test_an_allele_nobody_has_says_so(client, seeded):
    """A well-formed allele no donor in stock has: no results, and a note saying why (not a word search)."""
    html = client.get("/products/?q=A*99:99").text
    assert card_slugs(html) == []
    assert "No lot in stock comes from a donor who is HLA-A*99:99." in notes_of(html)


def test_a_serological_group_covers_its_alleles(client, seeded):
    """`A2` is every A*02 allele: at least the A*02:01 products."""
    group = set(card_slugs(client.get("/products/?q=A2").text))
    assert set(card_slugs(client.get("/products/?hla=A*02:01").text)) <= group


def test_site_search_reads_donor_words(client, seeded):
    """/search reads the same words as the catalog: the same products, and a link to them filtered."""
    html = client.get("/search?q=HLA-A*02:01").text
    assert card_slugs(html) == card_slugs(client.get("/products/?hla=A*02:01").text)
    assert "Showing lots whose donor is HLA-A*02:01." in html
    assert 'href="/products/?hla=A%2A02%3A01">Filter these in the catalog' in html


# Every allele reachable ------------------------------------------------------------------------


def test_every_allele_is_reachable_without_javascript(client, seeded):
    """B*08:01 is not among the most common alleles, but "Show all N" lists it: two steps from the catalog."""
    html = client.get("/products/").text
    assert 'name="hla" value="B*08:01"' not in html
    more = re.search(r'<a href="([^"]*)"[^>]*>Show all (\d+) alleles</a>', html)
    assert more and int(more[2]) > 12
    every = client.get(unescape(more[1])).text
    boxes = re.findall(r'type="checkbox" name="hla" value="([^"]*)"', every)
    assert "B*08:01" in boxes and len(boxes) == int(more[2])
    assert boxes[:3] == ["A*01:01", "A*02:01", "A*03:01"]  # by locus and allele, not by count
    assert client.get("/products/?hla=B*08:01").status_code == 200
    assert len(card_slugs(client.get("/products/?hla=B*08:01&more=hla").text)) > 0


def test_ticked_alleles_come_first_and_the_order_stays(client, seeded):
    """Ticking an allele moves it to the top; the others keep their order."""
    before = re.findall(r'type="checkbox" name="hla" value="([^"]*)"', client.get("/products/").text)
    after = re.findall(r'type="checkbox" name="hla" value="([^"]*)"', client.get(f"/products/?hla={before[4]}").text)
    assert after[0] == before[4]
    assert after[1:] == [a for a in before if a != before[4]]


# The matching lots first ------------------------------------------------------------------------


@pytest.fixture
def two_donor_product(db):
    """A product with a CMV-positive lot (newest) and a CMV-negative A*02:01 lot."""
    from datetime import date

    product = ProductFactory(slug="two-donors", name="Two donor PBMC", category=CategoryFactory())
    LotFactory(product=product, lot_number="2611-D20001-01", collected_on=date(2026, 11, 2),
               donor=DonorFactory(cmv_status="positive", hla=["A*02:01", "B*07:02"]))  # fmt: skip
    LotFactory(product=product, lot_number="2610-D20002-01", collected_on=date(2026, 10, 2),
               donor=DonorFactory(cmv_status="negative", hla=["A*02:01", "B*08:01"]))  # fmt: skip
    LotFactory(product=product, lot_number="2609-D20003-01", collected_on=date(2026, 9, 2),
               donor=DonorFactory(cmv_status="negative", hla=["A*02:01"]))  # fmt: skip
    db.session.commit()
    return product


def test_cards_count_matching_lots(client, two_donor_product):
    """With donor filters on, a card says how many of its lots match; the link carries the filters."""
    html = client.get("/products/?q=CMV+negative+A*02:01").text
    assert "2 matching lots" in html
    assert 'href="/products/two-donors?hla=A%2A02%3A01&amp;cmv=negative"' in html
    assert "1 matching lot<" in client.get("/products/?cmv=negative&hla=B*08:01").text
    assert "matching lot" not in client.get("/products/").text


def test_the_product_page_marks_and_lists_the_matching_lots_first(client, two_donor_product):
    """Issue 15's third reproduction: CMV-negative + A*02:01 marks the matching lots, lists them first, counts them."""
    html = client.get("/products/two-donors?hla=A*02:01&cmv=negative").text
    lots = re.findall(r'<li class="lot( lot-match| lot-other)"[^>]*>\s*<div class="lot-head">\s*<h3[^>]*>Lot '
                      r'<span class="mono">([^<]*)</span>', html)  # fmt: skip
    assert lots == [
        (" lot-match", "2610-D20002-01"),
        (" lot-match", "2609-D20003-01"),
        (" lot-other", "2611-D20001-01"),
    ]
    assert "<strong>2 of 3 lots match</strong>" in html
    assert "Showing lots whose donor is HLA-A*02:01 and CMV negative." in html
    # Without filters: every lot, newest first, nothing marked.
    plain = client.get("/products/two-donors").text
    assert "lot-match" not in plain and "lots match" not in plain
    assert plain.index("2611-D20001-01") < plain.index("2610-D20002-01")


def test_bad_filters_on_a_product_page_are_dropped(client, two_donor_product):
    """Unknown values in a product link are ignored, never a 500."""
    for query in ("cmv=maybe", "age=1-99999999999", "bmi=abc", "bmi=5-900", "hla=" + "A" * 5000, "sex=F" * 40):
        response = client.get(f"/products/two-donors?{query}")
        assert response.status_code == 200, query
        assert "lots match" not in response.text
    assert client.get("/products/two-donors?hla=%00").status_code == 400  # NUL bytes: refused for every page
