"""Hostile ids, pages, sorts, filters, row ids and NUL bytes against every staff URL: never a 500.

PostgreSQL is where most of these were 500s (it refuses NUL bytes in text,
integers beyond int4, and comparing an integer id with text), so run this
file with TEST_DATABASE_URL too. Each variant also states what a bad input
must get: 400 (malformed) or 404 (an id no record can have).
"""

import itertools
from dataclasses import dataclass, field

import pytest
from flask_admin.model.filters import BaseFloatFilter, BaseFloatListFilter, BaseIntFilter, BaseIntListFilter
from sqlalchemy import select

from shop.accounts.models import User
from shop.blog.models import Post, Topic
from tests.admin.forms import form_fields
from tests.factories import CategoryFactory, DonorFactory, LotFactory, ProductFactory

BAD_REQUEST, NOT_FOUND = {400}, {404}
BAD_ID = {400, 404}
ANSWERED = set(range(200, 500))  # any answer but a server error (e.g. a flashed "invalid filter value")
MODEL_VIEWS = (
    "product", "category", "donor", "lot", "topic", "users", "audit", "subscribers", "outbox", "donor_alerts",
)  # fmt: skip
# An id no record can have: well-formed, but beyond PostgreSQL's integer (404), or not a whole number (400).
IDS_OUT_OF_RANGE = ["0", "2147483648", "99999999999999999999", "00000000000000000001"]
IDS_MALFORMED = ["abc", "-1", "1.0", "1e3", "0x1", " 1", "1 ", "1_0", "١", "²", "1,2", "%00", "1%00", "%01"]
NUMBERS_MALFORMED = ["-1", "99999999999999999999", "1.5", "abc", "١", "²", "0x10", "1e3", " 1", "1_0", "%00", "%1f"]
SEARCHES_FINE = ["%25", "_", "' OR 1=1 --", "x" * 3000, "%E2%80%AE", "%ff%fe", "\u00e9", "%7F"]
FILTER_VALUES = ["99999999999999999999", "-99999999999999999999", "abc", "1,abc", "1.5", "9999-99-99", "", "1e400"]
FILTER_KEYS_UNKNOWN = ["flt0_999", "flt0_-1", "flt0_abc", "fltX", "flt", "flt0_", "flt99999999999999999999_0"]
ACTION_ROWIDS_BAD = [["abc"], ["1", "abc"], ["-1"], ["1.5"], [""], ["١"], ["2147483648"], ["99999999999999999999"]]
ACTION_NAMES_BAD = ["", "nope", "__init__", "delete ", "DELETE", "action_delete", "delete%00"]


@dataclass
class Variant:
    """One hostile request and the status codes it may get."""

    method: str
    url: str
    expected: set[int]
    data: dict = field(default_factory=dict)


def filter_variants(base: str, filters: list) -> list[Variant]:
    """Junk values for the view's filters: every one for numeric filters, one each (in turn) for the rest."""
    variants = []
    for i, flt in enumerate(filters):
        numeric = isinstance(flt, (BaseIntFilter, BaseIntListFilter, BaseFloatFilter, BaseFloatListFilter))
        values = FILTER_VALUES if numeric else [FILTER_VALUES[i % len(FILTER_VALUES)]]
        variants += [Variant("GET", f"{base}?flt0_{i}={value}", ANSWERED) for value in values]
        if i % 10 == 0:
            variants.append(Variant("GET", f"{base}?flt0_{i}=a%00", BAD_REQUEST))
    return variants


def list_variants(base: str, filters: list) -> list[Variant]:
    """Page, page size, sort, order, search, filter and junk-parameter variants of a list (or export) URL."""
    variants = [Variant("GET", f"{base}?{name}={value}", BAD_REQUEST) for name in ("page", "page_size", "sort", "desc")
                for value in NUMBERS_MALFORMED]  # fmt: skip
    variants += [Variant("GET", f"{base}?page={p}&page={q}", BAD_REQUEST) for p, q in (("1", "-1"), ("abc", "1"))]
    variants += [Variant("GET", f"{base}?search={text}", ANSWERED) for text in SEARCHES_FINE]
    variants += [Variant("GET", f"{base}?search={text}", BAD_REQUEST) for text in ("%00", "a%00b", "%01", "%0A")]
    variants += [Variant("GET", f"{base}?{key}=1", ANSWERED) for key in FILTER_KEYS_UNKNOWN]
    variants += filter_variants(base, filters)
    variants += [Variant("GET", f"{base}?{junk}", BAD_REQUEST) for junk in ("utm=%00", "%00=1", "url=%00")]
    variants += [Variant("GET", f"{base}?sort=999&desc=1", ANSWERED), Variant("GET", f"{base}%00", BAD_REQUEST)]
    return variants


def id_variants(method: str, url: str, as_form: bool = False) -> list[Variant]:
    """A record URL (edit, details, delete) with every kind of bad id, in the query string or the form."""

    def variant(raw: str, expected: set[int]) -> Variant:
        if as_form:
            return Variant(method, url, expected, {"id": raw.replace("%00", "\x00").replace("%01", "\x01")})
        return Variant(method, f"{url}?id={raw}", expected)

    variants = [variant(raw, NOT_FOUND) for raw in IDS_OUT_OF_RANGE]
    variants += [variant(raw, BAD_REQUEST) for raw in IDS_MALFORMED]
    variants.append(variant("999999", ANSWERED))  # in range, no such record: Flask-Admin says so and goes back
    variants.append(variant("", {302}))  # no id at all: back to the list, as Flask-Admin does
    if not as_form:
        variants.append(Variant(method, f"{url}?id=1&id=2", BAD_REQUEST))
    return variants


def action_variants(url: str) -> list[Variant]:
    """Bulk actions with junk row ids and made-up action names."""
    variants = [Variant("POST", url, BAD_ID, {"action": "delete", "rowid": rowids}) for rowids in ACTION_ROWIDS_BAD]
    variants.append(Variant("POST", url, BAD_REQUEST, {"action": "delete", "rowid": ["1", "\x00"]}))
    variants.append(Variant("POST", url, ANSWERED, {"action": "delete", "rowid": ["999999", "999998"]}))
    variants += [Variant("POST", url, BAD_REQUEST, {"action": name.replace("%00", "\x00"), "rowid": ["999999"]})
                 for name in ACTION_NAMES_BAD]  # fmt: skip
    return variants


def model_view_variants(app, endpoint: str) -> list[Variant]:
    """Every hostile variant for one Flask-Admin model view: list, export, details, edit, delete, action, create."""
    view = next(v for v in app.extensions["admin"][0]._views if v.endpoint == endpoint)
    base = f"/admin/{endpoint}/"
    variants = list_variants(base, view._filters or [])
    variants += id_variants("GET", f"{base}details/")
    if endpoint == "outbox":  # read-only, no export
        return variants
    if endpoint in ("audit", "subscribers", "donor_alerts"):  # no edit form: the export reads the list's parameters
        return variants + list_variants(f"{base}export/csv/", view._filters or [])
    variants += id_variants("GET", f"{base}edit/") + id_variants("POST", f"{base}edit/")
    deletes = id_variants("POST", f"{base}delete/", as_form=True)
    if not view.allow_delete:  # staff accounts are never deleted: the view goes back to the list first
        deletes = [Variant(d.method, d.url, ANSWERED, d.data) for d in deletes]
    variants += deletes
    variants += action_variants(f"{base}action/")
    variants += [Variant("POST", f"{base}new/", BAD_REQUEST, {name: "x\x00"}) for name in ("name", "slug", "email")]
    return variants


def post_editor_variants() -> list[Variant]:
    """The post editor's own routes: ids in the path, the preview's form, the list's query."""
    variants = []
    for path in ("{}/edit", "{}/revisions"):
        variants += [Variant("GET", "/admin/posts/" + path.format(raw), NOT_FOUND)
                     for raw in ("2147483648", "99999999999999999999", "0", "-1", "abc", "1.5", "١")]  # fmt: skip
        variants.append(Variant("GET", "/admin/posts/" + path.format("1%00"), BAD_REQUEST))
    variants += [Variant("POST", f"/admin/posts/1/revisions/{raw}/restore", NOT_FOUND)
                 for raw in ("2147483648", "99999999999999999999", "-1", "abc")]  # fmt: skip
    variants += [Variant("GET", f"/admin/posts/?{query}", BAD_REQUEST) for query in ("status=%00", "q=%00", "q=a%01")]
    variants += [Variant("GET", f"/admin/posts/?{query}", ANSWERED) for query in ("q=" + "x" * 3000, "status=zzz")]
    preview = {"title": "T", "body": "B", "action": "preview"}
    variants += [Variant("POST", "/admin/posts/preview", BAD_ID, {**preview, "post_id": raw})
                 for raw in ("abc", "2147483648", "99999999999999999999", "-1", "1.5")]  # fmt: skip
    variants += [Variant("POST", "/admin/posts/preview", ANSWERED, {**preview, "topics": raw})
                 for raw in (["99999999999999999999"], ["abc"], ["-1"], ["2147483648"])]  # fmt: skip
    variants += [Variant("POST", "/admin/posts/new", ANSWERED, {**preview, "action": "save", "topics": raw})
                 for raw in (["99999999999999999999"], ["abc"], ["2147483648"])]  # fmt: skip
    variants += [
        Variant("POST", url, BAD_REQUEST, {**preview, "body": "a\x00b"})
        for url in ("/admin/posts/preview", "/admin/posts/render", "/admin/posts/new", "/admin/posts/1/edit")
    ]
    return variants


@pytest.fixture
def records(db) -> dict[str, int]:
    """One record of each kind, so valid ids exist; their ids by view (1 on a fresh database, more after others)."""
    lot = LotFactory()
    db.session.add_all([Topic(name="Cancer", slug="cancer"), Post(title="P", slug="p", body="B", author_name="A")])
    db.session.add(User(email="other@staff.test", name="Other", role="sales"))
    db.session.commit()
    return {"category": lot.product.category_id, "product": lot.product_id, "donor": lot.donor_id, "lot": lot.id}


def assert_answers(client, variants: list[Variant]) -> None:
    """Send each variant; collect every response outside its expected codes, then fail listing them all."""
    wrong = []
    for variant in variants:
        response = client.open(variant.url, method=variant.method, data=variant.data)
        response.get_data()  # a streamed export could still fail after its status line went out
        response.close()
        if response.status_code not in variant.expected:
            wrong.append(f"{variant.method} {variant.url} {variant.data!r:.80} -> {response.status_code}")
    assert not wrong, f"{len(wrong)} of {len(variants)} variants answered wrongly:\n" + "\n".join(wrong)


@pytest.mark.parametrize("endpoint", MODEL_VIEWS)
def test_model_view_survives_hostile_parameters(app, client, auth, records, endpoint):
    auth.login("admin")
    assert_answers(client, model_view_variants(app, endpoint))


def test_post_editor_survives_hostile_parameters(client, auth, records):
    auth.login("admin")
    assert_answers(client, post_editor_variants())


def test_variant_count(app):
    counts = {endpoint: len(model_view_variants(app, endpoint)) for endpoint in MODEL_VIEWS}
    counts["posts"] = len(post_editor_variants())
    assert sum(counts.values()) >= 900, counts


# Numeric form fields per editable view, filled with numbers their column can't hold (or no number at all).
NUMERIC_FIELDS = {
    "category": ["position"],
    "product": ["lead_time_days", "cells_per_unit", "min_purity"],
    "donor": ["age", "donations", "bmi"],
    "lot": ["units_available", "total_cells", "viability", "cd3_pct"],
}
NUMBERS_BEYOND = ["9223372036854775808", "99999999999999999999", "-99999999999999999999", "1e400", "-inf", "nan"]
INT4_FIELDS = {"position", "lead_time_days", "age", "donations", "units_available"}  # the rest are bigint or float


@pytest.mark.parametrize("endpoint", NUMERIC_FIELDS)
def test_numbers_beyond_a_column_are_refused_next_to_the_field(client, auth, db, records, endpoint):
    auth.login("admin")
    url = f"/admin/{endpoint}/edit/?id={records[endpoint]}"
    opened = form_fields(client.get(url).text)
    for name in NUMERIC_FIELDS[endpoint]:
        for value in NUMBERS_BEYOND + (["2147483648"] if name in INT4_FIELDS else []):
            response = client.post(url, data={**opened, name: value})
            assert response.status_code == 200, (name, value, response.status_code)
            assert "[SQL:" not in response.text and "Failed to update record" not in response.text, (name, value)
            assert "invalid-feedback" in response.text or "help-block" in response.text, (name, value)
    assert client.post(url, data=opened).status_code == 302  # the form as opened still saves


_numbers = itertools.count(1)
BULK_DELETABLE = {
    "product": lambda: ProductFactory(),
    "category": lambda: CategoryFactory(),
    "donor": lambda: DonorFactory(),
    "lot": lambda: LotFactory(),
    "topic": lambda: Topic(name=f"Topic {next(_numbers)}", slug=f"topic-{next(_numbers)}"),
}


@pytest.mark.parametrize("endpoint", BULK_DELETABLE)
def test_bulk_delete_of_ticked_rows_works(client, auth, db, endpoint):
    """The list's "Delete" action on two ticked rows (a 500 on PostgreSQL: integer = character varying)."""
    auth.login("admin")
    made = [BULK_DELETABLE[endpoint]() for _ in range(3)]
    db.session.add_all(made)
    db.session.commit()
    model, ids = type(made[0]), [r.id for r in made]
    response = client.post(f"/admin/{endpoint}/action/", data={"action": "delete", "rowid": [str(i) for i in ids[:2]]})
    assert response.status_code == 302
    db.session.expire_all()
    remaining = set(db.session.scalars(select(model.id).where(model.id.in_(ids))))
    assert [i not in remaining for i in ids] == [True, True, False]
