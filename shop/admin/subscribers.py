"""Blog subscribers in the back office: filter, export as CSV, read the consent log, unsubscribe or delete."""

from flask import flash
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from markupsafe import Markup
from sqlalchemy import or_, select

from shop.admin.security import StaffModelView
from shop.blog.models import Topic
from shop.extensions import db
from shop.subscriptions import services, stats
from shop.subscriptions.models import FREQUENCIES, STATUSES, Subscriber
from shop.subscriptions.services import Where
from shop.times import format_datetime


def _topics(view, context, model, name):
    return model.topic_names()


def _consents(view, context, model, name):
    items = [
        Markup("<li><strong>{}</strong> {} · {} · {}<br><small>{}</small></li>").format(
            format_datetime(c.at), c.action, c.form, c.ip_address or "no address", c.statement
        )
        for c in model.consents
    ]
    return Markup('<ul class="list-unstyled mb-0">') + Markup("").join(items) + Markup("</ul>")


class TopicOptions:
    """The topics as filter options, read when the filter menu is drawn (Flask-Admin builds filters before any app)."""

    def __bool__(self) -> bool:
        return True

    def __iter__(self):
        rows = db.session.execute(select(Topic.id, Topic.name).order_by(Topic.name))
        return iter([(str(topic_id), name) for topic_id, name in rows])


class FollowsTopic(BaseSQLAFilter):
    """Subscribers who get a topic: those who chose it and those who get every topic."""

    def __init__(self):
        super().__init__(Subscriber.id, "Gets topic", options=TopicOptions())

    def validate(self, value) -> bool:
        """A topic id that exists (junk is Flask-Admin's "invalid filter value", not a query)."""
        return value in {key for key, _ in TopicOptions()}

    def apply(self, query, value, alias=None):
        """Only subscribers who get the topic."""
        return query.filter(or_(Subscriber.all_topics, Subscriber.topics.any(Topic.id == int(value))))

    def operation(self) -> str:
        """How the filter reads in the menu."""
        return "is"


class SubscriberView(StaffModelView):
    """Subscribers: who, in which state, which topics, since when; CSV export; unsubscribe or delete."""

    view_permission = "subscribers.view"
    edit_permission = "subscribers.manage"
    allow_create = allow_edit = False  # what a subscriber agreed to is theirs to change, on their own page
    can_export = True  # StaffModelView.get_export_value guards cells a spreadsheet would run
    export_types = ["csv"]
    named_filter_urls = True
    column_list = (
        "email",
        "status",
        "frequency",
        "topics",
        "created_at",
        "confirmed_at",
        "unsubscribed_at",
        "paused_at",
    )
    column_export_list = column_list + ("bounced_at", "last_digest_at")
    column_labels = {
        "created_at": "Signed up (UTC)",
        "confirmed_at": "Confirmed (UTC)",
        "unsubscribed_at": "Unsubscribed (UTC)",
        "paused_at": "Paused (UTC)",
        "bounced_at": "Bounced (UTC)",
        "consents": "Consent log",
    }
    column_choices = {"status": list(STATUSES.items()), "frequency": list(FREQUENCIES.items())}
    column_formatters = {"topics": _topics, "consents": _consents}
    column_formatters_export = {"topics": _topics}
    column_filters = (
        "status",
        "frequency",
        FollowsTopic(),
        "created_at",
        "confirmed_at",
        "unsubscribed_at",
        "paused_at",
    )
    column_searchable_list = ("email",)
    column_sortable_list = ("email", "status", "frequency", "created_at", "confirmed_at", "unsubscribed_at")
    column_default_sort = ("id", True)
    column_details_list = column_export_list + ("consents",)
    list_template = "admin/subscribers/list.html"

    def delete_model(self, model) -> bool:
        """Forget the address as the subscriber's own "delete" does: consent log, deliveries, queued e-mail."""
        services.delete_subscriber(model)
        db.session.commit()
        return True

    def is_action_allowed(self, name: str) -> bool:
        """Unsubscribing and deleting are for staff who may manage subscribers."""
        return self.may_edit() and super().is_action_allowed(name)

    @action("unsubscribe", "Unsubscribe", "Unsubscribe the selected subscribers (they get no more e-mail)?")
    def action_unsubscribe(self, ids):
        """Unsubscribe the ticked subscribers, noted in their consent logs as done by staff."""
        where = Where("", "back office")
        chosen = db.session.scalars(select(Subscriber).where(Subscriber.id.in_([int(i) for i in ids]))).all()
        count = sum(services.unsubscribe(s, where) for s in chosen)
        db.session.commit()
        flash(f"{count} subscriber(s) unsubscribed.", "success")

    def render(self, template, **kwargs):
        """The list shows counts by state and by topic above it."""
        if template == self.list_template:
            kwargs.update(by_status=stats.counts_by_status(), by_topic=stats.counts_by_topic())
        return super().render(template, **kwargs)
