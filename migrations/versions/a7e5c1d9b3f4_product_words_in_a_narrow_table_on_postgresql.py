"""PostgreSQL: product words in a narrow table of their own (product_search), replacing product.search_vector

Revision ID: a7e5c1d9b3f4
Revises: f6a3d8b2c915
Create Date: 2026-11-29 09:50:00

A search for a common word reads the tsvector of nearly every product. Inside
`product` (descriptions and positions included) that was a 190 MB scan; the
words alone, without positions, in three columns (everything, the name and
catalog number, the markers and cell type), are a third of it, and tell in the
same pass where each word is found. A trigger keeps the table in step with
product saves (CSV imports included). SQLite keeps its FTS5 index: nothing
changes there.
"""

from alembic import op

revision = "a7e5c1d9b3f4"
down_revision = "f6a3d8b2c915"
branch_labels = None
depends_on = None

NAME = "coalesce({row}name, '') || ' ' || coalesce({row}catalog_number, '')"
SPEC = "coalesce({row}markers, '') || ' ' || coalesce({row}cell_type, '')"
EVERYTHING = f"{NAME} || ' ' || {SPEC} || ' ' || coalesce({{row}}description, '')"


def words(text: str, row: str) -> str:
    """SQL for the stripped tsvector (lexemes only, no positions or weights) of ``text``."""
    return f"strip(to_tsvector('english', {text.format(row=row)}))"


OLD_SEARCH_VECTOR = """
    setweight(to_tsvector('english', coalesce(name, '')), 'A')
    || setweight(to_tsvector('english', coalesce(catalog_number, '')), 'A')
    || setweight(to_tsvector('english', coalesce(markers, '') || ' ' || coalesce(cell_type, '')), 'B')
    || setweight(to_tsvector('english', coalesce(description, '')), 'D')
"""


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE TABLE product_search ("
        " product_id integer PRIMARY KEY REFERENCES product (id) ON DELETE CASCADE,"
        " words tsvector NOT NULL, name_words tsvector NOT NULL, spec_words tsvector NOT NULL)"
    )
    op.execute(
        "INSERT INTO product_search (product_id, words, name_words, spec_words) SELECT id, "
        f"{words(EVERYTHING, '')}, {words(NAME, '')}, {words(SPEC, '')} FROM product"
    )
    op.execute("CREATE INDEX ix_product_search_words ON product_search USING gin (words)")
    op.execute(
        "CREATE FUNCTION product_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "INSERT INTO product_search (product_id, words, name_words, spec_words) VALUES (NEW.id, "
        f"{words(EVERYTHING, 'NEW.')}, {words(NAME, 'NEW.')}, {words(SPEC, 'NEW.')}) "
        "ON CONFLICT (product_id) DO UPDATE SET words = EXCLUDED.words, "
        "name_words = EXCLUDED.name_words, spec_words = EXCLUDED.spec_words; "
        "RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER product_search_refresh AFTER INSERT OR UPDATE OF "
        "name, catalog_number, markers, cell_type, description ON product "
        "FOR EACH ROW EXECUTE FUNCTION product_search_refresh()"
    )
    op.execute("DROP INDEX ix_product_search_vector")
    op.execute("ALTER TABLE product DROP COLUMN search_vector")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE product ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({OLD_SEARCH_VECTOR}) STORED")
    op.execute("CREATE INDEX ix_product_search_vector ON product USING gin (search_vector)")
    op.execute("DROP TRIGGER product_search_refresh ON product")
    op.execute("DROP FUNCTION product_search_refresh()")
    op.execute("DROP TABLE product_search")
