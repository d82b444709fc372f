"""create blog posts, topics and revisions, with post search (FTS5 on SQLite, tsvector on PostgreSQL)

Revision ID: b5d9e3a1c7f2
Revises: 7c1e2f9a4b3d
Create Date: 2026-11-29 06:20:00

"""
import sqlalchemy as sa
from alembic import op

revision = "b5d9e3a1c7f2"
down_revision = "7c1e2f9a4b3d"
branch_labels = None
depends_on = None

FTS_COLUMNS = "title, summary, body"
FTS_NEW = "new.title, new.summary, new.body"
FTS_OLD = "old.title, old.summary, old.body"
PG_SEARCH_VECTOR = """
    setweight(to_tsvector('english', coalesce(title, '')), 'A')
    || setweight(to_tsvector('english', coalesce(summary, '')), 'B')
    || setweight(to_tsvector('english', coalesce(body, '')), 'D')
"""


def upgrade():
    op.create_table(
        "topic",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topic")),
        sa.UniqueConstraint("name", name=op.f("uq_topic_name")),
        sa.UniqueConstraint("slug", name=op.f("uq_topic_slug")),
    )
    op.create_table(
        "post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.String(length=400), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("references", sa.JSON(), nullable=False),
        sa.Column("cover_image", sa.String(length=200), nullable=True),
        sa.Column("cover_alt", sa.String(length=300), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author_name", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["user.id"], name=op.f("fk_post_author_id_user"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post")),
        sa.UniqueConstraint("slug", name=op.f("uq_post_slug")),
    )
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_post_published_at"), ["published_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_post_status"), ["status"], unique=False)
    op.create_table(
        "post_topic",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["post.id"], name=op.f("fk_post_topic_post_id_post"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["topic_id"], ["topic.id"], name=op.f("fk_post_topic_topic_id_topic"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("post_id", "topic_id", name=op.f("pk_post_topic")),
    )
    with op.batch_alter_table("post_topic", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_post_topic_topic_id"), ["topic_id"], unique=False)
    op.create_table(
        "post_product",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"], ["post.id"], name=op.f("fk_post_product_post_id_post"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_post_product_product_id_product"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("post_id", "product_id", name=op.f("pk_post_product")),
    )
    op.create_table(
        "topic_product",
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["topic_id"], ["topic.id"], name=op.f("fk_topic_product_topic_id_topic"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_topic_product_product_id_product"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("topic_id", "product_id", name=op.f("pk_topic_product")),
    )
    op.create_table(
        "post_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.String(length=400), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("references", sa.JSON(), nullable=False),
        sa.Column("topic_names", sa.JSON(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("saved_by", sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"], ["post.id"], name=op.f("fk_post_revision_post_id_post"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_revision")),
        sa.UniqueConstraint("post_id", "number", name="post_revision_number"),
    )
    with op.batch_alter_table("post_revision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_post_revision_post_id"), ["post_id"], unique=False)
    create_post_search()


def create_post_search():
    """PostgreSQL: a generated tsvector with a GIN index. SQLite: an FTS5 index kept by triggers."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE post ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({PG_SEARCH_VECTOR}) STORED")
        op.execute("CREATE INDEX ix_post_search_vector ON post USING gin (search_vector)")
        return
    op.execute(
        f"CREATE VIRTUAL TABLE post_fts USING fts5({FTS_COLUMNS}, content='post', content_rowid='id', "
        "tokenize='porter unicode61', prefix='2 3')"
    )
    op.execute(
        f"CREATE TRIGGER post_fts_insert AFTER INSERT ON post BEGIN "
        f"INSERT INTO post_fts(rowid, {FTS_COLUMNS}) VALUES (new.id, {FTS_NEW}); END"
    )
    op.execute(
        f"CREATE TRIGGER post_fts_delete AFTER DELETE ON post BEGIN "
        f"INSERT INTO post_fts(post_fts, rowid, {FTS_COLUMNS}) VALUES ('delete', old.id, {FTS_OLD}); END"
    )
    op.execute(
        f"CREATE TRIGGER post_fts_update AFTER UPDATE ON post BEGIN "
        f"INSERT INTO post_fts(post_fts, rowid, {FTS_COLUMNS}) VALUES ('delete', old.id, {FTS_OLD}); "
        f"INSERT INTO post_fts(rowid, {FTS_COLUMNS}) VALUES (new.id, {FTS_NEW}); END"
    )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS post_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS post_fts")
    op.drop_table("post_revision")
    op.drop_table("topic_product")
    op.drop_table("post_product")
    op.drop_table("post_topic")
    op.drop_table("post")
    op.drop_table("topic")
