"""The sales inbox: inquiries to filter, search, count and export (Flask-Admin), and the page to work one.

The list, its filters, search and CSV export are Flask-Admin's; the inquiry's
own page shows everything asked, the timeline, and the steps sales take:
change the state, assign, add a note, write and send the quote. Every step
goes through ``shop.inquiries.services``, which refuses illegal transitions.
"""

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from shop.accounts.models import User
from shop.accounts.roles import ROLES
from shop.admin.security import StaffModelView
from shop.catalog import rules
from shop.catalog.models import Lot, Product
from shop.extensions import db
from shop.inquiries import services, stats
from shop.inquiries.forms import AssignForm, NoteForm, QuoteForm, StatusForm
from shop.inquiries.models import (
    DONOR_CMV,
    DONOR_SEX,
    INSTITUTION_TYPES,
    INTENDED_USES,
    PREFERRED_FORMATS,
    QUOTE_STATUSES,
    RECURRING,
    STATUSES,
    Inquiry,
    InquiryItem,
    Quote,
)
from shop.templating import format_money

WORKING_ROLES = [role for role, spec in ROLES.items() if "inquiries.work" in spec["permissions"]]


class AsksForProduct(BaseSQLAFilter):
    """Inquiries with an item whose product name or catalog number contains the text."""

    def __init__(self):
        super().__init__(Inquiry.id, "Product")

    def apply(self, query, value, alias=None):
        """Only inquiries asking for a matching product."""
        pattern = f"%{value.strip()[:100]}%"
        match = or_(InquiryItem.product_name.ilike(pattern), InquiryItem.catalog_number.ilike(pattern))
        return query.filter(Inquiry.items.any(match))

    def operation(self) -> str:
        """How the filter reads in the menu."""
        return "contains"


class StaffOptions:
    """Staff who work inquiries, as filter options, read when the menu is drawn."""

    def __bool__(self) -> bool:
        return True

    def __iter__(self):
        rows = db.session.execute(select(User.id, User.email).where(User.role.in_(WORKING_ROLES)).order_by(User.email))
        return iter([(str(user_id), email) for user_id, email in rows])


class AssignedTo(BaseSQLAFilter):
    """Inquiries assigned to a member of staff."""

    def __init__(self):
        super().__init__(Inquiry.assignee_id, "Assignee", options=StaffOptions())

    def validate(self, value) -> bool:
        """A staff id that is offered."""
        return value in {key for key, _ in StaffOptions()}

    def apply(self, query, value, alias=None):
        """Only the inquiries of that member of staff."""
        return query.filter(Inquiry.assignee_id == int(value))

    def operation(self) -> str:
        """How the filter reads in the menu."""
        return "is"


def _reference(view, context, model, name):
    link = url_for(".details", inquiry_id=model.id)
    return Markup('<a class="text-nowrap" href="{}">{}</a>').format(link, model.reference)


def _received(view, context, model, name):
    return model.created_at.strftime("%Y-%m-%d %H:%M")


def _status(view, context, model, name):
    return Markup('<span class="badge badge-status badge-{}">{}</span>').format(model.status, STATUSES[model.status])


def _items(view, context, model, name):
    return "; ".join(f"{i.quantity} × {i.catalog_number}" for i in model.items) or "custom request"


def _assignee(view, context, model, name):
    return model.assignee.email if model.assignee else ""


def _quote_total(view, context, model, name):
    quote = model.current_quote
    return format_money(quote.total_cents, quote.currency) if quote and quote.lines else ""


class InquiryView(StaffModelView):
    """The inbox (newest first, counts per state) and each inquiry's working page."""

    view_permission = edit_permission = "inquiries.work"
    allow_create = allow_edit = allow_delete = False  # inquiries change through the workflow, never as raw rows
    can_view_details = False
    can_export = True
    export_types = ["csv"]
    named_filter_urls = True
    list_template = "admin/inquiries/list.html"
    column_list = (
        "reference",
        "created_at",
        "status",
        "name",
        "institution",
        "items",
        "needed_by",
        "assignee",
        "quote",
    )
    column_export_list = (
        "reference", "created_at", "status", "name", "email", "phone", "institution", "institution_type", "department",
        "country", "items", "custom_request", "intended_use", "needed_by", "recurring", "donor_sex", "donor_age_min",
        "donor_age_max", "donor_bmi_max", "donor_cmv", "donor_hla", "donor_smoking", "same_donor", "donor_count",
        "po_number", "notes", "assignee", "quote",
    )  # fmt: skip
    column_labels = {"created_at": "Received (UTC)", "needed_by": "Needed by", "quote": "Quote total"}
    column_choices = {"status": list(STATUSES.items())}
    column_formatters = {"reference": _reference, "created_at": _received, "status": _status, "items": _items,
                         "assignee": _assignee, "quote": _quote_total}  # fmt: skip
    column_formatters_export = {"items": _items, "assignee": _assignee, "quote": _quote_total,
                                "status": lambda v, c, m, n: STATUSES[m.status]}  # fmt: skip
    column_filters = ("status", AssignedTo(), "created_at", AsksForProduct(), "needed_by")
    column_searchable_list = ("reference", "name", "email", "institution", "po_number")
    column_sortable_list = ("reference", "created_at", "status", "name", "institution", "needed_by")
    column_default_sort = ("created_at", True)

    def get_query(self):
        """Items, assignee and quotes loaded with the page (the CSV export is written after the session closes)."""
        return (
            super()
            .get_query()
            .options(selectinload(Inquiry.items), selectinload(Inquiry.quotes).selectinload(Quote.lines))
        )

    def render(self, template, **kwargs):
        """The list shows the counts per state above it."""
        if template == self.list_template:
            kwargs.update(by_status=stats.counts_by_status(), statuses=STATUSES)
        return super().render(template, **kwargs)

    # The working page ----------------------------------------------------------------------

    def _inquiry(self, inquiry_id: int) -> Inquiry:
        inquiry = db.session.get(Inquiry, inquiry_id)
        if inquiry is None:
            abort(404, description="There is no such inquiry.")
        return inquiry

    def _page(self, inquiry: Inquiry, status=200, **forms):
        assign = forms.get("assign_form") or AssignForm(prefix="assign")
        assign.assignee_id.choices = [("", "Nobody")] + list(StaffOptions())
        if "assign_form" not in forms:
            assign.assignee_id.data = str(inquiry.assignee_id or "")
        status_form = forms.get("status_form") or StatusForm(prefix="status")
        status_form.status.choices = [(s, STATUSES[s]) for s in services.allowed_transitions(inquiry)]
        body = self.render(
            "admin/inquiries/details.html", inquiry=inquiry, statuses=STATUSES, quote_statuses=QUOTE_STATUSES,
            status_form=status_form, note_form=forms.get("note_form") or NoteForm(prefix="note"), assign_form=assign,
            institution_types=INSTITUTION_TYPES, intended_uses=INTENDED_USES, recurring=RECURRING,
            formats=PREFERRED_FORMATS, donor_sex=DONOR_SEX, donor_cmv=DONOR_CMV,
        )  # fmt: skip
        return body, status

    @expose("/work/<id:inquiry_id>")
    def details(self, inquiry_id: int):
        """Everything about one inquiry, its timeline, and the steps that can be taken now."""
        return self._page(self._inquiry(inquiry_id))

    @expose("/work/<id:inquiry_id>/status", methods=["POST"])
    def change_status(self, inquiry_id: int):
        """Move the inquiry to another state (refused, with the reason, when the state machine doesn't allow it)."""
        inquiry = self._inquiry(inquiry_id)
        form = StatusForm(prefix="status")
        form.status.choices = [(s, STATUSES[s]) for s in STATUSES]
        if not form.validate_on_submit():
            return self._page(inquiry, 400, status_form=form)
        try:
            services.change_status(inquiry, form.status.data, services.staff(current_user), form.note.data or "")
        except services.IllegalTransition as refused:
            db.session.rollback()
            flash(str(refused), "error")
            return self._page(self._inquiry(inquiry_id), 409)
        db.session.commit()
        flash(f"{inquiry.reference} is now {STATUSES[inquiry.status].lower()}.", "success")
        return redirect(url_for(".details", inquiry_id=inquiry_id), code=303)

    @expose("/work/<id:inquiry_id>/note", methods=["POST"])
    def add_note(self, inquiry_id: int):
        """A note on the timeline."""
        inquiry = self._inquiry(inquiry_id)
        form = NoteForm(prefix="note")
        if not form.validate_on_submit():
            return self._page(inquiry, 400, note_form=form)
        services.add_note(inquiry, form.text.data.strip(), services.staff(current_user))
        db.session.commit()
        flash("Note added.", "success")
        return redirect(url_for(".details", inquiry_id=inquiry_id), code=303)

    @expose("/work/<id:inquiry_id>/assign", methods=["POST"])
    def assign(self, inquiry_id: int):
        """Give the inquiry to a member of staff who works inquiries (or to nobody)."""
        inquiry = self._inquiry(inquiry_id)
        form = AssignForm(prefix="assign")
        form.assignee_id.choices = [("", "Nobody")] + list(StaffOptions())
        if not form.validate_on_submit():
            return self._page(inquiry, 400, assign_form=form)
        user = db.session.get(User, int(form.assignee_id.data)) if form.assignee_id.data else None
        services.assign(inquiry, user, services.staff(current_user))
        db.session.commit()
        flash(f"Assigned to {user.email}." if user else "Unassigned.", "success")
        return redirect(url_for(".details", inquiry_id=inquiry_id), code=303)

    # The quote editor ----------------------------------------------------------------------

    @expose("/work/<id:inquiry_id>/quote", methods=["GET", "POST"])
    def quote(self, inquiry_id: int):
        """The quote editor: lines in the currency (kept in cents), lots by number, lead time, validity, terms."""
        inquiry = self._inquiry(inquiry_id)
        if not inquiry.is_open or inquiry.status == "accepted":
            flash("This inquiry is closed: its quote can no longer change.", "error")
            return redirect(url_for(".details", inquiry_id=inquiry_id), code=303)
        form = QuoteForm(data=None if request.method == "POST" else _editor_data(inquiry))
        products = _product_choices(inquiry)
        for entry in form.lines:
            entry.product_id.choices = products
        if request.method == "POST" and form.validate_on_submit():
            lines = _read_lines(form)
            if lines is not None:
                terms = {
                    name: getattr(form, name).data for name in ("currency", "lead_time_days", "valid_until", "terms")
                }
                services.save_quote(inquiry, lines, terms, services.staff(current_user))
                if request.form.get("action") == "send":
                    services.send_quote(inquiry, services.staff(current_user))
                    flash(f"Quote sent to {inquiry.email}.", "success")
                else:
                    flash("Draft saved.", "success")
                db.session.commit()
                return redirect(url_for(".details", inquiry_id=inquiry_id), code=303)
        status = 400 if request.method == "POST" else 200
        return self.render("admin/inquiries/quote.html", inquiry=inquiry, form=form), status

    @expose("/work/<id:inquiry_id>/quote/add-line", methods=["POST"])
    def add_quote_line(self, inquiry_id: int):
        """The editor with one more empty line (what was typed is kept)."""
        inquiry = self._inquiry(inquiry_id)
        form = QuoteForm()
        if len(form.lines) < form.lines.max_entries:
            form.lines.append_entry()
        for entry in form.lines:
            entry.product_id.choices = _product_choices(inquiry)
        return self.render("admin/inquiries/quote.html", inquiry=inquiry, form=form)


def _editor_data(inquiry: Inquiry) -> dict:
    """The editor's starting values: the draft's, else the inquiry's items at list price."""
    draft = inquiry.draft_quote or inquiry.current_quote
    if draft is not None and draft.lines:
        lines = [
            {"description": line.description, "product_id": str(line.product_id or ""),
             "lot_number": line.lot.lot_number if line.lot else "", "units": line.units,
             "unit_price": rules.price_text(line.unit_price_cents)}
            for line in draft.lines
        ]  # fmt: skip
        return {"lines": lines, "currency": draft.currency, "lead_time_days": draft.lead_time_days,
                "valid_until": draft.valid_until, "terms": draft.terms}  # fmt: skip
    lead = max((i.product.lead_time_days for i in inquiry.items if i.product), default=None)
    return {"lines": services.lines_from_inquiry(inquiry) or [{}], "currency": "USD", "lead_time_days": lead,
            "valid_until": services.default_valid_until(), "terms": DEFAULT_TERMS}  # fmt: skip


DEFAULT_TERMS = (
    "Prices exclude shipping and taxes. Payment within 30 days of invoice. Research use only unless GMP grade."
)


def _product_choices(inquiry: Inquiry) -> list[tuple[str, str]]:
    asked = {
        item.product_id: f"{item.product_name} ({item.catalog_number})" for item in inquiry.items if item.product_id
    }
    return [("", "No catalog product")] + [(str(pid), label) for pid, label in asked.items()]


def _read_lines(form: QuoteForm) -> list[services.LineValues] | None:
    """The filled-in lines as values; None (with messages beside the fields) when one is wrong."""
    lines, ok = [], True
    for entry in form.lines:
        values = _read_line(entry)
        if values is False:
            ok = False
        elif values is not None:
            lines.append(values)
    if ok and not lines:
        form.lines[0].description.errors.append("Write at least one line.")
        ok = False
    return lines if ok else None


def _read_line(entry) -> "services.LineValues | None | bool":
    """One line: None when left empty, False when it has an error (marked on the field)."""
    line = entry.form
    typed = [line.description.data, line.product_id.data, line.lot_number.data, line.units.data, line.unit_price.data]
    if not any(typed):
        return None
    product = db.session.get(Product, int(line.product_id.data)) if (line.product_id.data or "").isdigit() else None
    lot, ok = None, True
    if (line.lot_number.data or "").strip():
        lot = db.session.scalar(select(Lot).where(Lot.lot_number == line.lot_number.data.strip()))
        if lot is None:
            line.lot_number.errors.append("No lot has this number.")
            ok = False
        elif product is not None and lot.product_id != product.id:
            line.lot_number.errors.append(f"This lot is of {lot.product.name}, not of the product chosen.")
            ok = False
        elif not lot.in_stock or lot.units_available < (line.units.data or 1):
            line.lot_number.errors.append(f"Lot {lot.lot_number} has {lot.units_available} unit(s) free.")
            ok = False
    if not line.units.data:
        line.units.errors.append("How many units.")
        ok = False
    try:
        price = rules.price_cents(line.unit_price.data or "")
    except rules.RuleError as problem:
        line.unit_price.errors.append(str(problem))
        ok, price = False, None
    if price is None and ok:
        line.unit_price.errors.append("A unit price, like 1900.00 (0 for no charge).")
        ok = False
    description = (line.description.data or "").strip() or (
        f"{(product or lot.product).name}" if (product or lot) else ""
    )
    if not description and ok:
        line.description.errors.append("Describe the line, or choose a product.")
        ok = False
    if not ok:
        return False
    return services.LineValues(
        description[:300], product or (lot.product if lot else None), lot, line.units.data, price
    )
