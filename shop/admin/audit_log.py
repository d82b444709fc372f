"""The audit log, read-only, for administrators."""

import json

from markupsafe import Markup, escape

from shop.admin.security import StaffModelView


def _changes(view, context, model, name):
    """Changed fields as a compact list: field: old → new."""
    items = []
    for field, value in (model.changes or {}).items():
        if isinstance(value, list) and len(value) == 2 and model.action == "update":
            text = f"{_short(value[0])} → {_short(value[1])}"
        else:
            text = _short(value)
        items.append(Markup("<li><strong>{}</strong>: {}</li>").format(field, text))
    if not items:
        return ""
    return Markup('<ul class="list-unstyled mb-0 small">') + Markup("").join(items) + Markup("</ul>")


def _short(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return escape(text if len(text) <= 80 else text[:77] + "…")


class AuditView(StaffModelView):
    """Who created, changed or deleted what, and when."""

    view_permission = "audit.view"
    edit_permission = None
    allow_create = allow_edit = allow_delete = False
    can_export = True  # StaffModelView.get_export_value guards cells a spreadsheet would run
    export_types = ["csv"]
    column_list = ("at", "actor", "action", "entity", "entity_id", "label", "changes")
    column_labels = {"at": "When (UTC)", "entity_id": "Id", "label": "Record"}
    column_formatters = {"changes": _changes}
    column_formatters_export = {"changes": lambda v, c, m, n: json.dumps(m.changes, ensure_ascii=False)}
    column_searchable_list = ("actor", "label", "entity")
    column_filters = ("action", "entity", "actor")
    column_default_sort = ("at", True)
