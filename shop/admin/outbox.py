"""The mail outbox in the back office: what was sent, what waits, what failed and why; retry.

Staff read a message as it went out: its headers, the plain text, and the
HTML part in a sandboxed frame that has a policy of its own (no scripts, no
requests out, framed by the back office only), since an e-mail's HTML is
not a page of the shop.
"""

import hashlib
import re
from base64 import b64encode

from flask import flash, request
from flask_admin import expose
from flask_admin.actions import action
from markupsafe import Markup

from shop.admin.security import StaffModelView
from shop.admin.strict_params import require_record_id
from shop.extensions import db
from shop.mail.models import FAILED, SENT, STATUSES, OutboxMessage
from shop.mail.services import counts_by_status, retry_messages
from shop.security_headers import use_own_policy

_STYLE_ELEMENT = re.compile(r"<style[^>]*>(.*?)</style>", re.S | re.I)
BADGES = {"queued": "secondary", "sending": "info", "sent": "success", "failed": "danger"}


def _status(view, context, model, name):
    return Markup('<span class="badge badge-{}">{}</span>').format(BADGES[model.status], STATUSES[model.status])


def _short(view, context, model, name):
    text = getattr(model, name) or ""
    return text if len(text) <= 90 else text[:89] + "…"


def email_html_policy(html: str) -> dict[str, str]:
    """The HTML part's own policy: its <style> blocks by hash, our images, nothing else; sandboxed, framed by us."""
    hashes = " ".join(
        f"'sha256-{b64encode(hashlib.sha256(css.encode()).digest()).decode()}'" for css in _STYLE_ELEMENT.findall(html)
    )
    return {
        "default-src": "'none'",
        "style-src": hashes or "'none'",
        "img-src": "'self' data:",
        "base-uri": "'none'",
        "form-action": "'none'",
        "frame-ancestors": "'self'",
        "sandbox": "",
    }


class OutboxView(StaffModelView):
    """Every message the shop queued: filter by state, template or recipient; read one; retry what failed."""

    view_permission = "mail.view"
    edit_permission = "mail.retry"
    allow_create = allow_edit = allow_delete = False
    column_list = (
        "created_at",
        "to_address",
        "subject",
        "template",
        "status",
        "attempts",
        "available_at",
        "last_error",
    )
    column_labels = {
        "created_at": "Queued (UTC)",
        "to_address": "To",
        "available_at": "Due (UTC)",
        "last_error": "Last error",
        "sent_at": "Sent (UTC)",
        "last_attempt_at": "Last attempt (UTC)",
        "message_id": "Message-ID",
    }
    column_descriptions = {"available_at": "Next attempt of a queued message; end of the worker's claim while sending"}
    column_formatters = {"status": _status, "last_error": _short, "subject": _short}
    column_filters = ("status", "template", "to_address", "created_at", "sent_at")
    column_searchable_list = ("to_address", "subject")
    column_sortable_list = ("created_at", "to_address", "template", "status", "attempts", "available_at")
    column_default_sort = ("id", True)
    column_details_list = (
        "status", "to_address", "from_address", "reply_to", "subject", "template", "message_id", "created_at",
        "attempts", "last_attempt_at", "available_at", "sent_at", "claimed_by", "last_error",
    )  # fmt: skip
    details_template = "admin/outbox/details.html"
    list_template = "admin/outbox/list.html"

    def is_action_allowed(self, name: str) -> bool:
        """Retrying is for staff who may retry."""
        return self.may_edit() and super().is_action_allowed(name)

    @action("retry", "Retry now", "Queue the selected failed or waiting messages again, due now?")
    def action_retry(self, ids):
        """Queue the ticked messages again (sent ones are left alone)."""
        count = retry_messages([int(i) for i in ids])  # parsed as record ids already (StrictParams)
        db.session.commit()
        flash(f"{count} message(s) queued again; the worker sends them on its next round.", "success")

    @expose("/html/")
    def html_view(self):
        """The message's HTML part, for the details page's sandboxed frame."""
        message = db.get_or_404(OutboxMessage, require_record_id(request.args.get("id")))
        use_own_policy(email_html_policy(message.html_body))
        return message.html_body or "<p>This message has no HTML part.</p>"

    def render(self, template, **kwargs):
        """Every outbox page shows how many messages are in each state."""
        return super().render(template, counts=counts_by_status(), retryable={FAILED, "queued"}, sent=SENT, **kwargs)
