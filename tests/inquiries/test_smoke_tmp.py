from tests.inquiries.conftest import add, inquiries, messages, submit


def test_flow(client, stocked):
    first, second, lot = stocked
    r = add(client, first, lot, quantity=2)
    assert r.status_code == 303, r.text
    assert add(client, second).status_code == 303
    page = client.get("/quote/")
    assert page.status_code == 200, page.text
    assert "PBMC 10M" in page.text
    r = client.get("/quote/submit")
    assert r.status_code == 200, r.text
    r = submit(client)
    assert r.status_code == 303, r.text
    sent = client.get(r.headers["Location"])
    assert "Q-" in sent.text, sent.text
    [inquiry] = inquiries()
    assert len(inquiry.items) == 2
    print([m.template for m in messages()])
    p = client.get(f"/products/{first.slug}")
    assert p.status_code == 200
    assert "Request this lot" in p.text
    lst = client.get("/products/")
    assert "Request a quote" in lst.text
