"""move sign-ins out of the audit log into a sign-in list of their own

Revision ID: a3c6e9f1b2d4
Revises: a3c6e9f2b8d4
Create Date: 2026-12-02 01:00:00

Every sign-in used to be logged as a change of the user's ``last_login_at``, which buried real
changes. Those entries become rows of ``sign_in`` (when, who; where from was not recorded then);
downgrading turns sign-ins back into such entries.
"""

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "a3c6e9f1b2d4"
down_revision = "a3c6e9f2b8d4"
branch_labels = None
depends_on = None

audit_entry = sa.table(
    "audit_entry",
    sa.column("id", sa.Integer),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("user_id", sa.Integer),
    sa.column("actor", sa.String),
    sa.column("action", sa.String),
    sa.column("entity", sa.String),
    sa.column("entity_id", sa.Integer),
    sa.column("label", sa.String),
    sa.column("changes", sa.JSON),
)
sign_in = sa.table(
    "sign_in",
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("user_id", sa.Integer),
    sa.column("email", sa.String),
    sa.column("event", sa.String),
    sa.column("address", sa.String),
    sa.column("user_agent", sa.String),
)


def _changes(value) -> dict:
    """The JSON column's value as a dict (some drivers hand back the text)."""
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else {}


def _signed_in_at(entry) -> datetime:
    """When the sign-in happened: the new last_login_at the entry recorded, else the entry's own time."""
    change = _changes(entry.changes).get("last_login_at")
    try:
        moment = datetime.fromisoformat(change[1])
    except (TypeError, ValueError, IndexError):
        moment = entry.at
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def upgrade():
    op.create_table(
        "sign_in",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=45), nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_sign_in_user_id_user"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in")),
    )
    with op.batch_alter_table("sign_in", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sign_in_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_sign_in_user_id"), ["user_id"], unique=False)

    connection = op.get_bind()
    entries = connection.execute(
        sa.select(audit_entry).where(audit_entry.c.entity == "user", audit_entry.c.action == "update")
    ).all()
    # Only entries that say nothing but "signed in": one that also changed a name or role stays a change.
    moved = [e for e in entries if set(_changes(e.changes)) == {"last_login_at"}]
    if moved:
        rows = [
            {"at": _signed_in_at(e), "user_id": e.entity_id, "email": e.label, "event": "sign-in", "address": "",
             "user_agent": ""}
            for e in moved
        ]  # fmt: skip
        connection.execute(sa.insert(sign_in), rows)
        ids = [e.id for e in moved]
        for start in range(0, len(ids), 500):
            connection.execute(sa.delete(audit_entry).where(audit_entry.c.id.in_(ids[start : start + 500])))


def downgrade():
    connection = op.get_bind()
    signed_in = connection.execute(sa.select(sign_in).where(sign_in.c.event == "sign-in")).all()
    if signed_in:
        rows = [
            {"at": s.at, "user_id": s.user_id, "actor": s.email, "action": "update", "entity": "user",
             "entity_id": s.user_id, "label": s.email,
             "changes": {"last_login_at": [None, s.at.isoformat() if s.at else None]}}
            for s in signed_in
        ]  # fmt: skip
        connection.execute(sa.insert(audit_entry), rows)
    with op.batch_alter_table("sign_in", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_in_user_id"))
        batch_op.drop_index(batch_op.f("ix_sign_in_at"))
    op.drop_table("sign_in")
