"""Donor alerts in the back office: per filter, with counts; filter, sort, search, export; the dashboard's panel."""

import csv
import io

import pytest

from shop.alerts.services import stop_alert
from shop.consent import Where
from shop.extensions import db as _db
from tests.alerts import conftest as alert_data
from tests.alerts.conftest import make_alert, run_jobs
from tests.blog.dom import parse

catalog = alert_data.catalog  # the fixture, shared with the alerts' tests


@pytest.fixture
def waiting(catalog):
    """Three alerts on A*02:01 CMV negative (one stopped, one awaiting confirmation), one on B*08:01, a lot sent."""
    make_alert("ann@lab.example")
    make_alert("bob@lab.example")
    make_alert("new@lab.example", status="pending")
    stop_alert(make_alert("old@lab.example"), Where("", "test"))
    make_alert("cat@lab.example", query="hla=B%2A07%3A02")
    _db.session.commit()
    catalog.new_lot()
    run_jobs()
    return catalog


def rows(html: str) -> list[list[str]]:
    """The list's rows, a cell per column (sentence, active, awaiting, newest, lots sent, first asked)."""
    table = parse(html).one("table", class_="model-list")
    rows = [[td for td in tr.find_all("td") if "list-buttons-column" not in td.classes] for tr in table.find_all("tr")]
    return [[cell.text for cell in row] for row in rows if row]


@pytest.mark.parametrize("role", ["sales", "marketing", "admin"])
def test_staff_see_what_donors_researchers_wait_for_without_their_addresses(client, auth, waiting, role):
    auth.login(role)
    page = client.get("/admin/donor_alerts/")
    assert page.status_code == 200
    [a2, b7] = rows(page.text)  # most waited for first
    assert a2[0] == "Lots whose donor is HLA-A*02:01 and CMV negative in the catalog"
    assert (a2[1], a2[2], a2[4]) == ("2", "1", "2") and a2[3].endswith("UTC")
    assert (b7[0], b7[1], b7[2], b7[4]) == ("Lots whose donor is HLA-B*07:02 in the catalog", "1", "0", "0")
    assert "@lab.example" not in page.text  # counts only: who asked is the researchers' business
    assert "Active: 3" in parse(page.text).text and "Awaiting confirmation: 1" in parse(page.text).text
    assert 'href="http://localhost/products/?hla=A%2A02%3A01&amp;cmv=negative"' in page.text


def test_the_list_sorts_filters_searches_and_exports(client, auth, waiting):
    auth.login("sales")
    fewest_first = rows(client.get("/admin/donor_alerts/?sort=1").text)
    assert "HLA-B*07:02" in fewest_first[0][0]
    searched = rows(client.get("/admin/donor_alerts/?search=B*07").text)
    assert len(searched) == 1 and "HLA-B*07:02" in " ".join(searched[0])
    at_least_two = rows(client.get("/admin/donor_alerts/?flt0_active_alerts_at_least=2").text)
    assert len(at_least_two) == 1
    exported = client.get("/admin/donor_alerts/export/csv/")
    assert exported.status_code == 200
    table = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert table[0] == ["Researchers wait for", "Catalog filters", "Active alerts", "Awaiting confirmation",
                        "Newest (UTC)", "Lots sent", "First asked (UTC)"]  # fmt: skip
    a2 = next(row for row in table if row[1] == "hla=A%2A02%3A01&cmv=negative")
    assert (a2[0], a2[2], a2[3], a2[5]) == ("Lots whose donor is HLA-A*02:01 and CMV negative", "2", "1", "2")


def test_the_dashboard_shows_the_most_awaited_donors(client, auth, waiting):
    auth.login("sales")
    panel = parse(client.get("/admin/").text).one("section", aria_labelledby="alerts-heading")
    lines = [" · ".join(cell.text for cell in row.find_all("td")) for row in panel.find_all("tr")]
    assert lines[1:] == ["Lots whose donor is HLA-A*02:01 and CMV negative · 2", "Lots whose donor is HLA-B*07:02 · 1"]
    assert "3 active alerts · 1 awaiting confirmation" in panel.text
