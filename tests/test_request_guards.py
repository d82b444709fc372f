"""The app-wide request guard: control characters in an address or a form field are a 400, before any view."""

import io

import pytest

from shop.request_guards import REFUSED

CONTROLS = ["\x00", "\x01", "\x08", "\x0b", "\x1b", "\x1f"]
URLS = ["/", "/products/", "/blog/", "/login", "/admin/", "/no-such-page"]


@pytest.mark.parametrize("char", CONTROLS + ["\t", "\n", "\r"])
def test_a_control_character_in_the_address_is_refused(client, char):
    encoded = f"%{ord(char):02X}"
    for url in URLS:
        for hostile in (f"{url}?q=a{encoded}b", f"{url}?a{encoded}=1", f"{url}{encoded}"):
            response = client.get(hostile)
            assert response.status_code == 400, hostile
            assert REFUSED in response.text.replace("&#39;", "'"), hostile


@pytest.mark.parametrize("char", CONTROLS)
def test_a_control_character_in_a_form_field_is_refused(client, char):
    for field in ("email", "password", f"x{char}"):
        response = client.post("/login", data={"email": "a@b.test", "password": "pw", field: f"a{char}b"})
        assert response.status_code == 400, field


def test_tab_and_line_breaks_are_fine_in_form_text(client, auth, db):
    auth.login("marketing")
    body = "Line one\r\n\tindented\nline three"
    response = client.post("/admin/posts/render", data={"body": body})
    assert response.status_code == 200 and "indented" in response.text


def test_file_contents_are_not_form_text(client, auth, db):
    auth.login("admin")
    upload = (io.BytesIO(b"catalog_number,name\x00\x01\n"), "products.csv")
    response = client.post("/admin/catalog_csv/import", data={"file": upload}, content_type="multipart/form-data")
    assert response.status_code != 400  # the importer judges the file (it may refuse it, with its own message)
