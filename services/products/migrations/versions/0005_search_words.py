"""Typos corrected word by word: the catalogue's words, kept by triggers, with a trigram index.

A search that finds nothing is run again with each of its words replaced by the most similar word of the
catalogue (store._corrected). It replaces ranking every product name by its trigram similarity to the whole
search, which read every name sharing a trigram with it (0.4 s for `hedphones` at a million products): the
index of the names' trigrams goes. Words are never removed: a word whose products are gone corrects to a search
that finds nothing, as the typo did. PostgreSQL only.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 22:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

ACTIVE = sa.text("is_active")

UP = [
    "CREATE TABLE search_words (word text NOT NULL, CONSTRAINT pk_search_words PRIMARY KEY (word))",
    "CREATE INDEX ix_search_words_trigrams ON search_words USING gin (word gin_trgm_ops)",
    # The words a product brings: its name's and description's, lower case, 3 to 40 letters or digits.
    """CREATE FUNCTION search_words_of(name text, description text) RETURNS SETOF text
       LANGUAGE sql IMMUTABLE AS $$
         SELECT DISTINCT word FROM regexp_split_to_table(lower(name || ' ' || description), '[^[:alnum:]]+') AS word
         WHERE length(word) BETWEEN 3 AND 40
       $$""",
    # Once per INSERT statement (a bulk COPY included), over the rows it added.
    """CREATE FUNCTION search_words_added() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         INSERT INTO search_words (word)
         SELECT DISTINCT word FROM added, search_words_of(added.name, added.description) AS word
         ON CONFLICT DO NOTHING;
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER products_words_added AFTER INSERT ON products REFERENCING NEW TABLE AS added
       FOR EACH STATEMENT EXECUTE FUNCTION search_words_added()""",
    """CREATE FUNCTION search_words_changed() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         INSERT INTO search_words (word) SELECT word FROM search_words_of(NEW.name, NEW.description) AS word
         ON CONFLICT DO NOTHING;
         RETURN NULL;
       END $$""",
    # Per row and only for a new name or description: stock and rating updates (checkout's hot path) skip it.
    """CREATE TRIGGER products_words_changed AFTER UPDATE OF name, description ON products FOR EACH ROW
       WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.description IS DISTINCT FROM NEW.description)
       EXECUTE FUNCTION search_words_changed()""",
    """INSERT INTO search_words (word) SELECT DISTINCT word FROM products, search_words_of(name, description) AS word
       ON CONFLICT DO NOTHING""",
]
DOWN = [
    "DROP TRIGGER products_words_changed ON products",
    "DROP FUNCTION search_words_changed()",
    "DROP TRIGGER products_words_added ON products",
    "DROP FUNCTION search_words_added()",
    "DROP FUNCTION search_words_of(text, text)",
    "DROP TABLE search_words",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in UP:
        op.execute(statement)
    op.drop_index("ix_products_active_name_trgm", "products")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index("ix_products_active_name_trgm", "products", ["name"], postgresql_using="gin",
                    postgresql_ops={"name": "gin_trgm_ops"}, postgresql_where=ACTIVE)
    for statement in DOWN:
        op.execute(statement)
