"""Roles are data: each role is a set of permissions, and views ask for a permission.

Adding a role, or a permission to a role, is an edit to this table, never an
``if role == ...`` in a view.
"""

PERMISSIONS = {
    "catalog.view": "See products, donors and lots in the back office",
    "catalog.edit": "Create, change and delete products, donors and lots; import CSV",
    "blog.edit": "Write and publish posts and topics",
    "pages.edit": "Write the site's pages (About, Quality, Shipping, Terms, Privacy ...)",
    "subscribers.view": "See blog subscribers, their counts and chart; export them as CSV",
    "subscribers.manage": "Unsubscribe and delete blog subscribers",
    "mail.view": "Read the mail outbox: what was sent, what waits, what failed",
    "alerts.view": "See what donors researchers wait for (donor alerts per filter, counts only); export them as CSV",
    "mail.retry": "Retry outgoing mail that failed",
    "inquiries.work": "Work the inquiry inbox and send quotes",
    "orders.view": "See orders and payments; export them as CSV; the revenue chart",
    "orders.refund": "Refund paid orders through Stripe",
    "users.manage": "Create, change and deactivate staff accounts",
    "audit.view": "Read the audit log",
}

ROLES: dict[str, dict] = {
    "admin": {
        "label": "Administrator",
        "permissions": frozenset(PERMISSIONS),
    },
    "marketing": {
        "label": "Marketing",
        "permissions": frozenset(
            {
                "catalog.view",
                "catalog.edit",
                "blog.edit",
                "pages.edit",
                "subscribers.view",
                "subscribers.manage",
                "mail.view",
                "mail.retry",
                "alerts.view",
            }
        ),
    },
    "sales": {
        "label": "Sales",
        "permissions": frozenset({"catalog.view", "inquiries.work", "orders.view", "orders.refund", "alerts.view"}),
    },
}


def role_permissions(role: str) -> frozenset[str]:
    """The permissions a role grants (none for an unknown role)."""
    return ROLES.get(role, {}).get("permissions", frozenset())


def role_choices() -> list[tuple[str, str]]:
    """(value, label) pairs for forms."""
    return [(name, spec["label"]) for name, spec in ROLES.items()]
