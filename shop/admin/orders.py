"""Orders in the back office: list, filter, export, read one with its payment timeline, refund through Stripe."""

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import selectinload

from shop.admin.security import StaffModelView
from shop.admin.strict_params import require_record_id
from shop.catalog import rules
from shop.extensions import db
from shop.payments import services
from shop.payments.models import STATUSES, Order
from shop.payments.stripe_api import StripeUnavailable
from shop.templating import format_money

BADGES = {
    "pending": "secondary",
    "processing": "info",
    "paid": "success",
    "payment_failed": "danger",
    "expired": "light",
    "partially_refunded": "warning",
    "refunded": "dark",
}


def _status(view, context, model, name):
    return Markup('<span class="badge badge-{}">{}</span>').format(
        BADGES.get(model.status, "light"), model.status_label
    )


def _money(view, context, model, name):
    return format_money(getattr(model, name), model.currency)


def _items(view, context, model, name):
    return "; ".join(f"{i.units} × {i.catalog_number} lot {i.lot_number}" for i in model.items)


def parse_amount(raw: str) -> int | None:
    """An amount typed in currency units ("350", "1,050.00") as cents, by the catalog's price rule; None if not one."""
    try:
        return rules.price_cents(raw or "")
    except rules.RuleError:
        return None


class OrderView(StaffModelView):
    """Every order: who, what, how much, in which state; the timeline of its payment; refunds."""

    view_permission = "orders.view"
    edit_permission = "orders.refund"
    allow_create = allow_edit = allow_delete = False
    can_export = True
    export_types = ["csv"]
    named_filter_urls = True
    column_list = ("reference", "created_at", "status", "email", "institution", "total_cents", "source", "paid_at")
    column_export_list = (
        "reference", "created_at", "paid_at", "status", "source", "quote_reference", "email", "name", "institution",
        "currency", "total_cents", "amount_refunded_cents", "items", "stripe_session_id", "stripe_payment_intent",
    )  # fmt: skip
    column_labels = {
        "created_at": "Created (UTC)",
        "paid_at": "Paid (UTC)",
        "total_cents": "Total",
        "amount_refunded_cents": "Refunded",
        "email": "E-mail",
        "quote_reference": "Quote",
        "stripe_session_id": "Checkout Session",
        "stripe_payment_intent": "PaymentIntent",
    }
    column_choices = {"status": list(STATUSES.items()), "source": [("cart", "Cart"), ("quote", "Accepted quote")]}
    column_formatters = {"status": _status, "total_cents": _money, "amount_refunded_cents": _money}
    column_formatters_export = {
        "total_cents": lambda v, c, m, n: f"{m.total_cents / 100:.2f}",
        "amount_refunded_cents": lambda v, c, m, n: f"{m.amount_refunded_cents / 100:.2f}",
        "items": _items,
    }
    column_filters = ("status", "source", "created_at", "paid_at", "email", "institution", "total_cents")
    column_searchable_list = ("reference", "email", "institution", "name")
    column_sortable_list = ("reference", "created_at", "status", "email", "total_cents", "paid_at")
    column_default_sort = ("id", True)
    details_template = "admin/orders/details.html"

    def get_query(self):
        """Orders with their items (the CSV lists them, after the request's session is gone)."""
        return super().get_query().options(selectinload(Order.items))

    @expose("/refund/", methods=["POST"])
    def refund_view(self):
        """Refund part or all of a paid order through Stripe (staff who may refund)."""
        order = db.get_or_404(Order, require_record_id(request.form.get("id")))
        back = redirect(url_for(".details_view", id=order.id))
        if not self.may_edit():
            flash("Your role may not refund orders.", "error")
            return back
        amount = parse_amount(request.form.get("amount", ""))
        if amount is None:
            flash("Enter the amount to refund, such as 350 or 350.00.", "error")
            return back
        try:
            refund_id = services.refund_order(order, amount, current_user.email)
        except services.CheckoutProblem as problem:
            flash(str(problem), "error")
        except StripeUnavailable as error:
            flash(f"{error} Nothing was refunded; try again.", "error")
        else:
            flash(f"Stripe accepted refund {refund_id} of {format_money(amount, order.currency)}. The order shows "
                  "it once Stripe confirms (charge.refunded).", "success")  # fmt: skip
        return back
