"""Donor alerts in the back office: one row per set of filters researchers wait on, which tells sales what donors
are wanted. Counts only: who asked is the researchers' own business (their addresses are not shown)."""

from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from markupsafe import Markup
from sqlalchemy.orm import undefer

from shop.admin.security import StaffModelView
from shop.alerts import stats
from shop.alerts.models import STATUSES, AlertFilter
from shop.alerts.services import catalog_url


def _sentence(view, context, model, name):
    return Markup('{} <a class="small text-nowrap" href="{}" target="_blank" rel="noopener">in the catalog</a>').format(
        model.sentence, catalog_url(model)
    )


class Waiting(BaseSQLAFilter):
    """Filters with (or without) active alerts waiting on them."""

    def __init__(self):
        super().__init__(AlertFilter.id, "Active alerts", options=(("yes", "some"), ("no", "none")))

    def validate(self, value) -> bool:
        """One of the two options (junk is Flask-Admin's "invalid filter value", not a query)."""
        return value in ("yes", "no")

    def apply(self, query, value, alias=None):
        """Only the filters with (yes) or without (no) an active alert."""
        return query.filter(AlertFilter.waiting > 0 if value == "yes" else AlertFilter.waiting == 0)

    def operation(self) -> str:
        """How the filter reads in the menu."""
        return "are"


class AtLeast(BaseSQLAFilter):
    """Filters with at least N active alerts waiting."""

    def __init__(self):
        super().__init__(AlertFilter.id, "Active alerts")

    def validate(self, value) -> bool:
        """A whole number from 0 to 1,000,000."""
        return value.isdigit() and int(value) <= 1_000_000

    def apply(self, query, value, alias=None):
        """Only the filters with at least ``value`` active alerts."""
        return query.filter(AlertFilter.waiting >= int(value))

    def operation(self) -> str:
        """How the filter reads in the menu."""
        return "at least"


class DonorAlertView(StaffModelView):
    """Alerts per filter: the words, how many active alerts wait on it (and how many await confirmation), the
    newest, how many lots were sent; filter, sort, search the words, export as CSV."""

    view_permission = "alerts.view"
    edit_permission = None  # researchers own their alerts; staff only read what is wanted
    allow_create = allow_edit = allow_delete = False
    can_export = True  # StaffModelView.get_export_value guards cells a spreadsheet would run
    export_types = ["csv"]
    named_filter_urls = True
    column_list = ("sentence", "waiting", "pending", "newest", "lots_sent", "created_at")
    column_export_list = ("sentence", "query", "waiting", "pending", "newest", "lots_sent", "created_at")
    column_details_list = column_export_list
    column_labels = {
        "sentence": "Researchers wait for",
        "query": "Catalog filters",
        "waiting": "Active alerts",
        "pending": "Awaiting confirmation",
        "newest": "Newest (UTC)",
        "lots_sent": "Lots sent",
        "created_at": "First asked (UTC)",
    }
    column_descriptions = {
        "waiting": "Confirmed alerts still running",
        "newest": "When the newest active alert was confirmed",
        "lots_sent": "Lots e-mailed to these alerts, each once per alert",
    }
    column_formatters = {"sentence": _sentence}
    column_formatters_export = {"sentence": lambda view, context, model, name: model.sentence}  # words, no link
    column_filters = (Waiting(), AtLeast(), "created_at")
    column_searchable_list = ("sentence",)
    column_sortable_list = ("sentence", "waiting", "pending", "newest", "lots_sent", "created_at")
    column_default_sort = [("waiting", True), ("id", True)]
    list_template = "admin/alerts/list.html"

    def get_query(self):
        """The filters with their counts, in one query (the counts are deferred everywhere else)."""
        counts = (AlertFilter.waiting, AlertFilter.pending, AlertFilter.newest, AlertFilter.lots_sent)
        return super().get_query().options(*(undefer(column) for column in counts))

    def render(self, template, **kwargs):
        """The list shows how many alerts are in each state above it."""
        if template == self.list_template:
            kwargs.update(by_status=stats.counts_by_status(), statuses=STATUSES)
        return super().render(template, **kwargs)
