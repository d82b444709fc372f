"""The audit log: who created, changed or deleted what, and when, with the changed fields; and sign-ins.

Entries are written by a session hook for the models passed to ``track``, in
the same transaction as the change itself, so a change is never saved without
its entry (nor an entry without its change). The actor is the signed-in user
or, for commands, whatever ``acting_as`` names.

Signing in and out are not changes: they go to their own list (``SignIn``, written by
``record_sign_in``), with the address and browser they came from, and the bookkeeping a sign-in
touches (``last_login_at``, the session version) never makes an audit entry.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import JSON, ForeignKey, Integer, String, event, insert, inspect
from sqlalchemy.orm import Mapped, mapped_column

from shop.extensions import db
from shop.models import UTCDateTime, utcnow
from shop.text import strip_control_characters

# Fields whose values are never copied into the log (only the fact that they changed).
SECRET_FIELDS = {"password_hash"}
# Bookkeeping fields that change on every save and say nothing by themselves.
NOISE_FIELDS = {"version", "session_version", "updated_at", "revision", "body_html", "description_html"}
# What signing in writes on the user: the sign-in list holds it, with more (where from, which browser).
SIGN_IN_FIELDS = {"last_login_at"}
# Long texts: the log says they changed; their history is kept elsewhere (post revisions).
LARGE_FIELDS = {"body"}

# The sign-in list's events.
SIGNED_IN, SIGNED_OUT = "sign-in", "sign-out"

_tracked: set[type] = set()
_actor: ContextVar[str | None] = ContextVar("audit_actor", default=None)


class AuditEntry(db.Model):
    """One change to one row."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(20))
    entity: Mapped[str] = mapped_column(String(40), index=True)
    entity_id: Mapped[int | None] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(300), default="")
    changes: Mapped[dict] = mapped_column(JSON, default=dict)


class SignIn(db.Model):
    """One sign-in or sign-out of a member of staff, and where it came from."""

    __tablename__ = "sign_in"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    event: Mapped[str] = mapped_column(String(20), default=SIGNED_IN)
    # The client's address as the app sees it (behind a proxy, once ProxyFix is configured) and its browser.
    address: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")


def track(*models: type) -> None:
    """Record creates, updates and deletes of these models in the audit log."""
    _tracked.update(models)


def tracked_entities() -> list[str]:
    """The table names of the tracked models, sorted: what the log can be filtered by."""
    return sorted(model.__tablename__ for model in _tracked)


def record_sign_in(user, event: str = SIGNED_IN) -> None:
    """Add ``user``'s sign-in (or sign-out) to the sign-in list, with the request's address and browser."""
    address = user_agent = ""
    if has_request_context():
        address = (request.remote_addr or "")[:45]
        user_agent = strip_control_characters(request.user_agent.string or "")[:300]
    db.session.add(SignIn(user_id=user.id, email=user.email, event=event, address=address, user_agent=user_agent))


@contextmanager
def acting_as(actor: str):
    """Attribute changes made inside the block to ``actor`` (e.g. "cli: flask catalog import")."""
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def _who() -> tuple[int | None, str]:
    """(user id, name) of whoever is making the change."""
    if _actor.get():
        return None, _actor.get()
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.id, current_user.email
    return None, "system"


def _plain(value):
    """A JSON-friendly copy of a column value."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | dict | str | int | float | bool) or value is None:
        return value
    return str(value)


def _column_values(obj) -> dict:
    state = inspect(obj)
    return {
        attr.key: (
            "(hidden)" if attr.key in SECRET_FIELDS else "(text)" if attr.key in LARGE_FIELDS else _plain(attr.value)
        )
        for attr in state.attrs
        if attr.key in state.mapper.columns and attr.key not in NOISE_FIELDS | SIGN_IN_FIELDS
    }


def _changed_values(obj) -> dict:
    state = inspect(obj)
    changes = {}
    # committed_state holds exactly the attributes changed since load: no need to scan every column.
    for key in state.committed_state:
        if key not in state.mapper.columns or key in NOISE_FIELDS | SIGN_IN_FIELDS:
            continue
        history = state.attrs[key].history
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if old == new:
            continue
        changes[key] = "(changed)" if key in SECRET_FIELDS | LARGE_FIELDS else [_plain(old), _plain(new)]
    return changes


def _entry(obj, action: str, changes: dict, who: tuple[int | None, str]) -> dict:
    return {
        "at": utcnow(),
        "user_id": who[0],
        "actor": who[1],
        "action": action,
        "entity": type(obj).__tablename__,
        "entity_id": getattr(obj, "id", None),
        "label": record_label(obj)[:300],
        "changes": changes,
    }


def record_label(obj) -> str:
    """What the model calls the row (its ``__str__``), or "" for a model that names none (not its repr)."""
    return str(obj) if type(obj).__str__ is not object.__str__ else ""


@event.listens_for(db.session, "after_flush")
def _record_changes(session, flush_context) -> None:
    """Write entries for tracked objects; runs after the flush so new rows have their ids."""
    if not _tracked:
        return
    who = _who()
    rows = [_entry(o, "create", _column_values(o), who) for o in session.new if type(o) in _tracked]
    rows += [_entry(o, "delete", _column_values(o), who) for o in session.deleted if type(o) in _tracked]
    for obj in session.dirty:
        if type(obj) in _tracked and session.is_modified(obj, include_collections=False):
            changes = _changed_values(obj)
            if changes:
                rows.append(_entry(obj, "update", changes, who))
    if rows:
        session.connection().execute(insert(AuditEntry), rows)


def record(action: str, entity: str, label: str, changes: dict | None = None) -> None:
    """Add an entry that no single row change describes (e.g. a CSV import's summary)."""
    user_id, actor = _who()
    db.session.add(
        AuditEntry(user_id=user_id, actor=actor, action=action, entity=entity, label=label[:300], changes=changes or {})
    )
