"""The audit log and the sign-in list, read-only, for administrators.

The log lists changes a page at a time, one line each (what changed, not the values); an entry's
page shows the values before and after, field by field. Both lists filter by person, model (or
event) and day; times read "1 Dec 2026, 05:17 UTC".
"""

import json
import re
from datetime import UTC, datetime, time, timedelta

from flask import url_for
from flask_admin.babel import lazy_gettext
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterEqual, IntEqualFilter
from markupsafe import Markup
from sqlalchemy import select

from shop import audit
from shop.accounts.models import User
from shop.admin.security import StaffModelView
from shop.extensions import db
from shop.templating import format_money
from shop.times import format_datetime, parse_iso_datetime
from shop.urls import record_id

# Table names that don't read well as they are.
ENTITY_LABELS = {"user": "Staff account", "donor_allele": "Donor HLA allele"}
ACTION_LABELS = {"create": "Created", "update": "Changed", "delete": "Deleted", "import": "Imported"}
EVENT_LABELS = {audit.SIGNED_IN: "Signed in", audit.SIGNED_OUT: "Signed out"}
# What Flask-SQLAlchemy's repr of a row looks like: entries written before labels skipped it hold it.
REPR_LABEL = re.compile(r"<\w+ (\((transient|pending) \d+\)|[^>]*)>")
# How many changed fields a list row names before "and N more".
SUMMARY_FIELDS = 4


def entity_label(entity: str) -> str:
    """A model's name as staff say it: "lot" -> "Lot", "user" -> "Staff account"."""
    return ENTITY_LABELS.get(entity) or entity.replace("_", " ").capitalize()


def field_label(field: str) -> str:
    """A column's name as staff say it: "price_cents" -> "Price", "cmv_status" -> "CMV status"."""
    words = field.removesuffix("_cents").replace("_", " ").split()
    acronyms = {"cmv", "ebv", "bmi", "hla", "id", "url", "gmp", "ruo"}
    text = " ".join(word.upper() if word in acronyms else word for word in words)
    return text[:1].upper() + text[1:]


def display_value(value, field: str = "") -> str:
    """A logged value as people read it: times in words, money in currency, yes/no, lists joined, nothing as "–"."""
    if value is None or value == "":
        return "–"
    if field.endswith("_cents") and isinstance(value, int) and not isinstance(value, bool):
        return format_money(value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    moment = parse_iso_datetime(value)
    if moment is not None:
        return format_datetime(moment)
    if isinstance(value, list):
        return ", ".join(display_value(item) for item in value) or "–"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def diff_rows(entry: audit.AuditEntry) -> list[dict]:
    """The entry's fields as rows of a before/after table (a summary, such as an import's, as figures)."""
    rows = []
    for field, value in (entry.changes or {}).items():
        if entry.action == "update":
            before, after = value if isinstance(value, list) and len(value) == 2 else ("(hidden)", value)
        elif entry.action == "create":
            before, after = None, value
        elif entry.action == "delete":
            before, after = value, None
        else:
            before, after = None, value
        rows.append(
            {"field": field_label(field), "before": display_value(before, field), "after": display_value(after, field)}
        )
    return rows


def change_summary(entry: audit.AuditEntry) -> str:
    """One line for the list: the fields an update changed, how many a create or delete held."""
    changes = entry.changes or {}
    if entry.action == "update":
        names = [field_label(field).lower() for field in changes]
        shown = ", ".join(names[:SUMMARY_FIELDS])
        more = len(names) - SUMMARY_FIELDS
        return shown + (f" and {more} more" if more > 0 else "")
    if entry.action in ("create", "delete"):
        return f"{len(changes)} field{'s' if len(changes) != 1 else ''}"
    return ", ".join(f"{display_value(v)} {field_label(k).lower()}" for k, v in changes.items())


def record_name(entry: audit.AuditEntry) -> str:
    """The record as the entry names it, or "Lot #12" where it names none (or only SQLAlchemy's repr)."""
    if entry.label and not REPR_LABEL.fullmatch(entry.label):
        return entry.label
    return f"{entity_label(entry.entity)} #{entry.entity_id}" if entry.entity_id else entity_label(entry.entity)


def browser_summary(user_agent: str) -> str:
    """A browser and system named from a User-Agent header, e.g. "Chrome 131 on Linux"; "–" when unknown."""
    browser = re.search(r"(Edg|Firefox|Chrome|Version)/(\d+)", user_agent or "")
    system = re.search(r"Windows|Android|iPhone|iPad|Mac OS X|Linux|CrOS", user_agent or "")
    name = {"Edg": "Edge", "Version": "Safari"}.get(browser[1], browser[1]) if browser else ""
    parts = [f"{name} {browser[2]}" if browser else "", system[0].replace("Mac OS X", "macOS") if system else ""]
    return " on ".join(part for part in parts if part) or "–"


def model_options() -> list[tuple[str, str]]:
    """Every model the log records, by the name staff use, for the model filter."""
    return [(entity, entity_label(entity)) for entity in audit.tracked_entities()]


def staff_options() -> list[tuple[str, str]]:
    """Every staff account, by e-mail, for the person filter."""
    rows = db.session.execute(select(User.id, User.email).order_by(User.email)).all()
    return [(str(row.id), row.email) for row in rows]


class RecordIdFilter(IntEqualFilter):
    """Equals a record id; anything that can't be one is refused (not handed to the database)."""

    def clean(self, value):
        """A record id, or ValueError (Flask-Admin then skips the filter with a message)."""
        number = record_id(value)
        if number is None:
            raise ValueError("not a record id")
        return number


class PersonFilter(RecordIdFilter):
    """A staff account, chosen from the staff list as it is when the page is drawn (not at start-up)."""

    live_options = staticmethod(staff_options)


class ChoiceFilter(FilterEqual):
    """Equals one of a list of values, labelled; the list is read when the page is drawn; others are refused."""

    def __init__(self, column, name, choices):
        super().__init__(column, name)
        self.live_options = choices

    def clean(self, value):
        """The value when it is one of the choices, else ValueError."""
        if value not in dict(self.live_options()):
            raise ValueError("not one of the choices")
        return value


class DayFromFilter(BaseSQLAFilter):
    """On or after a day (UTC), typed or picked as YYYY-MM-DD."""

    def __init__(self, column, name):
        super().__init__(column, name, data_type="datepicker")

    def clean(self, value):
        """Midnight UTC at the start of the day (ValueError for anything but a date)."""
        return datetime.combine(datetime.strptime(value.strip(), "%Y-%m-%d").date(), time(), UTC)

    def apply(self, query, value, alias=None):
        """Rows at or after the day's start."""
        return query.filter(self.get_column(alias) >= value)

    def operation(self):
        """How the filter reads in the list's filter bar."""
        return lazy_gettext("from (day)")


class DayToFilter(DayFromFilter):
    """On or before a day (UTC): up to the end of that day."""

    def apply(self, query, value, alias=None):
        """Rows before the next day's start."""
        return query.filter(self.get_column(alias) < value + timedelta(days=1))

    def operation(self):
        """How the filter reads in the list's filter bar."""
        return lazy_gettext("up to (day)")


class ReadOnlyLogView(StaffModelView):
    """A list administrators read and export but nobody edits."""

    view_permission = "audit.view"
    edit_permission = None
    allow_create = allow_edit = allow_delete = False
    can_export = True  # StaffModelView.get_export_value guards cells a spreadsheet would run
    export_types = ["csv"]
    column_default_sort = ("at", True)

    def _get_filter_groups(self):
        """Flask-Admin's filter groups, with choices read now: staff come and go, models register after start-up."""
        groups = super()._get_filter_groups()
        for items in (groups or {}).values():
            for item in items:
                live = getattr(self._filters[item["index"]], "live_options", None)
                if live is not None:
                    item["options"] = live()
        return groups


def _record_link(view, context, model, name):
    """The record's label, linked to the entry's page (its before and after)."""
    return Markup('<a href="{}">{}</a>').format(url_for(".details_view", id=model.id), record_name(model))


class AuditView(ReadOnlyLogView):
    """Who created, changed or deleted what, and when; an entry's page shows before and after."""

    details_template = "admin/audit/details.html"
    column_list = ("at", "actor", "action", "entity", "label", "changes")
    column_labels = {
        "at": "When",
        "actor": "Who",
        "action": "What",
        "entity": "Model",
        "label": "Record",
        "changes": "Fields",
        "entity_id": "Record id",
    }
    column_formatters = {
        "action": lambda v, c, m, n: ACTION_LABELS.get(m.action, m.action.capitalize()),
        "entity": lambda v, c, m, n: entity_label(m.entity),
        "label": _record_link,
        "changes": lambda v, c, m, n: change_summary(m),
    }
    column_formatters_export = {"changes": lambda v, c, m, n: json.dumps(m.changes, ensure_ascii=False)}
    column_export_list = ("at", "actor", "action", "entity", "entity_id", "label", "changes")
    column_searchable_list = ("actor", "label")
    column_filters = (
        PersonFilter(audit.AuditEntry.user_id, "Person"),
        ChoiceFilter(audit.AuditEntry.entity, "Model", model_options),
        ChoiceFilter(audit.AuditEntry.action, "What", lambda: list(ACTION_LABELS.items())),
        DayFromFilter(audit.AuditEntry.at, "When"),
        DayToFilter(audit.AuditEntry.at, "When"),
        RecordIdFilter(audit.AuditEntry.entity_id, "Record id"),
    )

    def render(self, template, **kwargs):
        """The details page gets the entry's before/after rows and the model's name."""
        model = kwargs.get("model")
        if template == self.details_template and model is not None:
            kwargs.update(diff=diff_rows(model), entity_name=entity_label(model.entity), record=record_name(model),
                          action_name=ACTION_LABELS.get(model.action, model.action.capitalize()),
                          history_url=self.history_url(model))  # fmt: skip
        return super().render(template, **kwargs)

    def history_url(self, entry: audit.AuditEntry) -> str | None:
        """The list filtered to every entry of the same record, or None for a summary entry."""
        if entry.entity_id is None:
            return None
        model_index, record_index = 1, 5  # positions in column_filters
        model_arg = self.get_filter_arg(model_index, self._filters[model_index])
        record_arg = self.get_filter_arg(record_index, self._filters[record_index])
        return url_for(".index_view", **{f"flt0_{model_arg}": entry.entity, f"flt1_{record_arg}": entry.entity_id})


class SignInView(ReadOnlyLogView):
    """Who signed in or out, when, and from where (address and browser, as the request gave them)."""

    column_list = ("at", "email", "event", "address", "user_agent")
    column_details_list = ("at", "email", "event", "address", "user_agent")
    column_labels = {"at": "When", "email": "Who", "event": "What", "address": "From", "user_agent": "Browser"}
    column_formatters = {
        "event": lambda v, c, m, n: EVENT_LABELS.get(m.event, m.event),
        "user_agent": lambda v, c, m, n: Markup('<span title="{}">{}</span>').format(
            m.user_agent, browser_summary(m.user_agent)
        ),
        "address": lambda v, c, m, n: m.address or "–",
    }
    column_formatters_detail = {"event": column_formatters["event"]}
    column_searchable_list = ("email", "address")
    column_filters = (
        PersonFilter(audit.SignIn.user_id, "Person"),
        ChoiceFilter(audit.SignIn.event, "What", lambda: list(EVENT_LABELS.items())),
        DayFromFilter(audit.SignIn.at, "When"),
        DayToFilter(audit.SignIn.at, "When"),
    )
