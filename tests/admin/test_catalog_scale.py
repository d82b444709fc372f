"""The back office on a large catalog: no form lists a whole table, lookups are bounded, lists cost a page."""

import pytest
from sqlalchemy import insert, inspect

from shop.admin.lookups import LOOKUP_RESULTS, MAX_LOOKUP_TERM
from shop.audit import AuditEntry
from shop.blog.models import Post, Topic
from shop.catalog.models import Lot, Product
from tests.admin.forms import form_fields
from tests.factories import CategoryFactory, DonorFactory, LotFactory, ProductFactory

LOT_LOOKUP = "/admin/lot/ajax/lookup/"
_topics = iter(range(1, 10**6))


def make_topic(db) -> Topic:
    """A topic of its own name."""
    n = next(_topics)
    topic = Topic(name=f"Topic {n}", slug=f"topic-{n}")
    db.session.add(topic)
    db.session.commit()
    return topic


def many_products(db, count: int, prefix: str = "CT-BULK") -> Product:
    """``count`` products in one bulk insert, copies of one made by the factory; returns that one."""
    model = ProductFactory(catalog_number=f"{prefix}-0", slug=f"{prefix.lower()}-0", name=f"{prefix} cells 0")
    columns = {c.key: getattr(model, c.key) for c in inspect(Product).column_attrs if c.key != "id"}
    rows = [
        {**columns, "catalog_number": f"{prefix}-{n}", "slug": f"{prefix.lower()}-{n}", "name": f"{prefix} cells {n}"}
        for n in range(1, count)
    ]
    db.session.execute(insert(Product), rows)
    db.session.commit()
    return model


def lookup(client, query: str, name: str = "product", url: str = LOT_LOOKUP, **args):
    return client.get(url, query_string={"name": name, "query": query, **args})


def test_lot_edit_form_with_thousands_of_products_lists_none_of_them(client, auth, db):
    product = many_products(db, 3_000)
    lot = LotFactory(product=product)
    auth.login("marketing")
    for url in (f"/admin/lot/edit/?id={lot.id}", "/admin/lot/new/", f"/admin/topic/edit/?id={make_topic(db).id}"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert len(page.data) < 200_000, url
        assert page.text.count("<option") < 50, url  # the status choices only
        assert "CT-BULK-2999" not in page.text, url
    assert "CT-BULK-0" in client.get(f"/admin/lot/edit/?id={lot.id}").text  # the lot's own product is shown


def test_lot_form_takes_a_typed_catalog_number_and_donor_code(client, auth, db):
    """Without JavaScript the lookup is a text box: the catalog number typed there is saved."""
    lot = LotFactory()
    other = ProductFactory(catalog_number="CT-OTHER-1")
    donor = DonorFactory(code="D77777")
    auth.login("marketing")
    url = f"/admin/lot/edit/?id={lot.id}"
    fields = form_fields(client.get(url).text)
    assert fields["product"] == lot.product.catalog_number
    response = client.post(url, data={**fields, "product": "ct-other-1", "donor": " D77777 "})
    assert response.status_code == 302
    db.session.expire_all()
    assert (lot.product, lot.donor) == (other, donor)


@pytest.mark.parametrize("typed", ["CT-NOPE", "%", "1", "x" * 500])
def test_lot_form_explains_a_product_it_cannot_find(client, auth, db, typed):
    lot = LotFactory()
    auth.login("marketing")
    url = f"/admin/lot/edit/?id={lot.id}"
    response = client.post(url, data={**form_fields(client.get(url).text), "product": typed})
    assert response.status_code == 200
    assert "Nothing found for" in response.text and "pick from the list" in response.text
    db.session.expire_all()
    assert db.session.get(Lot, lot.id).version == lot.version


def test_lookup_finds_products_by_name_and_catalog_number(client, auth, db):
    ProductFactory(catalog_number="CT-CD8-NAIVE", name="CD8+ T cells, naive")
    ProductFactory(catalog_number="CT-MONO-1", name="Monocytes, CD14+")
    auth.login("sales")  # may see the catalog, so may look it up
    assert lookup(client, "cd8").json == [["CT-CD8-NAIVE", "CD8+ T cells, naive (CT-CD8-NAIVE)"]]
    assert [key for key, _label in lookup(client, "mono-1").json] == ["CT-MONO-1"]
    assert [key for key, _label in lookup(client, "monocytes").json] == ["CT-MONO-1"]
    assert lookup(client, "").json == []


def test_lookup_finds_donors_by_code(client, auth, db):
    DonorFactory(code="D31337")
    auth.login("marketing")
    assert [key for key, _label in lookup(client, "3133", name="donor").json] == ["D31337"]


@pytest.mark.parametrize("wildcard", ["%", "_", "%%", "_%_", "\\%", "*", '"', "%25"])
@pytest.mark.parametrize("name", ["product", "donor"])
def test_lookup_takes_wildcards_literally(client, auth, db, wildcard, name):
    """% and _ (and full-text syntax) match themselves, so they never list every record."""
    ProductFactory(catalog_number="CT-PLAIN-1", name="Plain cells")
    DonorFactory(code="D40404")
    auth.login("marketing")
    assert lookup(client, wildcard, name=name).json == []


def test_lookup_finds_words_around_wildcards(client, auth, db):
    ProductFactory(catalog_number="CT-ODD-2", name="Cells 100% viable_ish")
    ProductFactory(catalog_number="CT-PLAIN-1", name="Plain cells")
    auth.login("marketing")
    assert [key for key, _label in lookup(client, "100%").json] == ["CT-ODD-2"]
    assert [key for key, _label in lookup(client, "viable_").json] == ["CT-ODD-2"]


def test_lookup_returns_a_bounded_number_of_results(client, auth, db):
    many_products(db, 60)
    auth.login("marketing")
    assert len(lookup(client, "bulk").json) == LOOKUP_RESULTS
    assert len(lookup(client, "bulk", limit="100000").json) == LOOKUP_RESULTS
    assert len(lookup(client, "bulk", offset="50", limit="10").json) == 10
    assert len(lookup(client, "bulk", offset="55").json) == 5


@pytest.mark.parametrize(
    "args",
    [
        {"query": "x" * (MAX_LOOKUP_TERM + 1)},
        {"query": "x", "offset": "-1"},
        {"query": "x", "offset": "100000"},
        {"query": "x", "limit": "-5"},
        {"query": "x", "limit": "ten"},
        {"query": "x", "offset": "99999999999999999999"},
    ],
)
def test_lookup_refuses_hostile_arguments_with_a_400(client, auth, db, args):
    auth.login("marketing")
    response = client.get(LOT_LOOKUP, query_string={"name": "product", **args})
    assert response.status_code == 400


@pytest.mark.parametrize("query", ["x\x00y", "x\x1by"])
def test_lookup_refuses_control_characters(client, auth, db, query):
    auth.login("marketing")
    assert lookup(client, query).status_code == 400


def test_lookup_for_a_field_the_view_lacks_is_a_404(client, auth, db):
    auth.login("marketing")
    assert lookup(client, "x", name="category").status_code == 404
    assert lookup(client, "x", name="").status_code == 404


def test_lookup_is_refused_to_anonymous_visitors_and_roles_without_the_permission(client, auth, db):
    ProductFactory(catalog_number="CT-SECRET-1")
    anonymous = lookup(client, "secret")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    auth.login("sales")  # sales may not edit topics
    refused = lookup(client, "secret", name="products", url="/admin/topic/ajax/lookup/")
    assert refused.status_code == 403
    assert "CT-SECRET-1" not in refused.text


def test_topic_products_are_typed_as_catalog_numbers(client, auth, db):
    topic = make_topic(db)
    first, second = ProductFactory(catalog_number="CT-A-1"), ProductFactory(catalog_number="CT-B-2")
    auth.login("marketing")
    url = f"/admin/topic/edit/?id={topic.id}"
    response = client.post(url, data={**form_fields(client.get(url).text), "products": "CT-A-1, ct-b-2"})
    assert response.status_code == 302
    db.session.expire_all()
    assert set(topic.products) == {first, second}


LISTS = (
    "/admin/product/",
    "/admin/lot/",
    "/admin/donor/",
    "/admin/category/",
    "/admin/topic/",
    "/admin/posts/",
    "/admin/users/",
    "/admin/audit/",
    "/admin/",
)


def add_rows(db, count: int) -> None:
    """``count`` rows of every listed kind (products and their lots, donors, categories, topics, posts, users...)."""
    for n in range(count):
        category = CategoryFactory()
        lot = LotFactory(product=ProductFactory(category=category), units_available=1)
        topic = make_topic(db)
        post = Post(title=f"Post {lot.id}", slug=f"post-{lot.id}", body="Body", author_name="A", status="draft")
        post.topics = [topic]
        db.session.add(post)
        db.session.add(AuditEntry(actor=f"user{n}@staff.test", action="update", entity="lot", entity_id=lot.id))
    db.session.commit()


def test_lists_send_the_same_statements_for_10_rows_as_for_200(client, auth, db, count_queries):
    """No COUNT(*) of the whole table and nothing loaded per row: a list costs the same whatever its length."""
    from tests.conftest import statements_per_page

    auth.login("admin")
    add_rows(db, 10)
    few = statements_per_page(client, count_queries, LISTS)
    add_rows(db, 190)
    many = statements_per_page(client, count_queries, LISTS)
    assert many == few
    with count_queries() as queries:
        client.get("/admin/product/")
    assert not any("count(" in statement.lower() for statement in queries.statements)


def test_lists_show_a_page_at_a_time(client, auth, db):
    add_rows(db, 120)
    auth.login("admin")
    assert client.get("/admin/product/?page_size=100000").text.count("Edit Record") <= 50
    posts = client.get("/admin/posts/")
    assert posts.text.count("/edit") <= 51
    assert "Older" in posts.text
    assert client.get("/admin/posts/?page=2").status_code == 200
    assert client.get("/admin/posts/?page=-1").status_code == 400
    dashboard = client.get("/admin/").text
    assert dashboard.count("left</span>") <= 20


def test_deleting_a_category_counts_its_products_without_loading_them(client, auth, db, count_queries):
    category = CategoryFactory()
    for _ in range(3):
        ProductFactory(category=category)
    auth.login("admin")
    with count_queries() as queries:
        response = client.post("/admin/category/delete/", data={"id": str(category.id)}, follow_redirects=True)
    assert "still has 3 product(s)" in response.text
    assert not any("product.description" in statement for statement in queries.statements)
