"""Orders in the back office: list, filters, CSV, the detail page's timeline, refunds; revenue on the dashboard."""

import csv
import io

from tests.conftest import Auth
from tests.payments.helpers import deliver, fresh, open_checkout


def paid_order(pay_client, fake_stripe, lot, units=2):
    order, session = open_checkout(pay_client, fake_stripe, lot, units)
    deliver(pay_client, "checkout.session.completed", fake_stripe.pay(session["id"]))
    return fresh(order)


def staff(pay_app, make_user, role="sales"):
    client = pay_app.test_client()
    Auth(client, make_user).login(role)
    return client


def test_sales_find_a_paid_order_and_read_its_timeline(pay_app, pay_client, fake_stripe, vials, make_user):
    _, (lot, other) = vials
    order = paid_order(pay_client, fake_stripe, lot)
    pending, _ = open_checkout(pay_app.test_client(), fake_stripe, other, 1)
    client = staff(pay_app, make_user)
    listing = client.get("/admin/order/").text
    assert order.reference in listing and pending.reference in listing and "$700.00" in listing
    paid_only = client.get("/admin/order/?flt0_status_equals=paid").text
    assert order.reference in paid_only and pending.reference not in paid_only
    assert order.reference in client.get("/admin/order/?search=ada@lab").text
    detail = client.get(f"/admin/order/details/?id={order.id}").text
    for text in ("Payment timeline", "Order created for 2 unit(s)", "Checkout Session", "Paid $700.00 through Stripe",
                 "webhook checkout.session.completed", "Building 4, Room 210", "Refund through Stripe"):  # fmt: skip
        assert text in detail, text


def test_orders_export_as_csv(pay_app, pay_client, fake_stripe, vials, make_user):
    _, (lot, _) = vials
    order = paid_order(pay_client, fake_stripe, lot)
    order.institution = "=HYPERLINK(1)"  # a formula must not run in a spreadsheet
    from shop.extensions import db

    db.session.commit()
    response = staff(pay_app, make_user).get("/admin/order/export/csv/")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows[0]["Reference"] == order.reference and rows[0]["Total"] == "700.00"
    assert rows[0]["Items"] == "2 × CT-PBMC-CR-10M lot 2506-D10482-01"
    assert rows[0]["Institution"] == "'=HYPERLINK(1)"


def test_a_refund_from_the_back_office_goes_through_stripe(pay_app, pay_client, fake_stripe, vials, make_user):
    _, (lot, _) = vials
    order = paid_order(pay_client, fake_stripe, lot)
    client = staff(pay_app, make_user)
    refused = [("", "Enter the amount to refund"), ("abc", "Enter the amount"), ("700.01", "Refund between"),
               ("1" * 30, "Enter the amount"), ("-5", "Enter the amount")]  # fmt: skip
    for amount, message in refused:
        page = client.post("/admin/order/refund/", data={"id": order.id, "amount": amount}, follow_redirects=True).text
        assert message in page, amount
    assert fake_stripe.refunds == []
    page = client.post("/admin/order/refund/", data={"id": order.id, "amount": "350.00"}, follow_redirects=True).text
    assert "Stripe accepted refund" in page and len(fake_stripe.refunds) == 1
    assert fake_stripe.refunds[0]["amount"] == 35_000
    assert fresh(order).events[-1].via == "back office: sales@staff.test"


def test_marketing_may_not_see_orders(pay_app, make_user, db):
    client = staff(pay_app, make_user, "marketing")
    assert client.get("/admin/order/").status_code == 403
    assert "Online revenue per week" not in client.get("/admin/").text


def test_the_dashboard_shows_revenue_per_week(pay_app, pay_client, fake_stripe, vials, make_user):
    _, (lot, _) = vials
    paid_order(pay_client, fake_stripe, lot)
    page = staff(pay_app, make_user).get("/admin/").text
    assert "Online revenue per week" in page and "$700</strong> in 12 weeks · $700 this week" in page
    assert page.split('class="revenue-chart"')[1].split("</svg>")[0].count('class="chart-bar"') == 12
