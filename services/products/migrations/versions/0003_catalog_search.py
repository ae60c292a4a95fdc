"""Catalogue at scale: full-text search, trigram fallback, and the indexes the listing's filters and sorts use.

PostgreSQL: `products.search_vector` (name A, category name B, description C, English stemming) kept by
triggers, so every write path (the API, COPY, a category rename or delete) maintains it; a GIN index on it and
a trigram GIN index on the name (pg_trgm, trusted since PostgreSQL 13: the database owner may create it).
SQLite (local runs): an FTS5 table `products_fts` kept by triggers; no trigram fallback there.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 19:40:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

ACTIVE = sa.text("is_active")
SORTS = (("created", "created_at"), ("price", "price"), ("name", "name"), ("rating", "rating_average"))

POSTGRESQL_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """CREATE FUNCTION products_document(name text, category_id uuid, description text) RETURNS tsvector
       LANGUAGE sql STABLE AS $$
         SELECT setweight(to_tsvector('english', name), 'A')
             || setweight(to_tsvector('english', coalesce((SELECT c.name FROM categories c
                                                           WHERE c.id = category_id), '')), 'B')
             || setweight(to_tsvector('english', description), 'C')
       $$""",
    """CREATE FUNCTION products_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         NEW.search_vector := products_document(NEW.name, NEW.category_id, NEW.description);
         RETURN NEW;
       END $$""",
    # UPDATE OF: stock and rating updates (checkout's hot path) do not recompute it.
    """CREATE TRIGGER products_search_vector BEFORE INSERT OR UPDATE OF name, description, category_id
       ON products FOR EACH ROW EXECUTE FUNCTION products_search_vector()""",
    """CREATE FUNCTION categories_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         UPDATE products SET search_vector = products_document(name, category_id, description)
         WHERE category_id = NEW.id;
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER categories_renamed AFTER UPDATE OF name ON categories FOR EACH ROW
       WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION categories_renamed()""",
    "UPDATE products SET search_vector = products_document(name, category_id, description)",
]
POSTGRESQL_DOWN = [
    "DROP TRIGGER categories_renamed ON categories",
    "DROP FUNCTION categories_renamed()",
    "DROP TRIGGER products_search_vector ON products",
    "DROP FUNCTION products_search_vector()",
    "DROP FUNCTION products_document(text, uuid, text)",
]
SQLITE_DOCUMENT = ("NEW.name, coalesce((SELECT name FROM categories WHERE id = NEW.category_id), ''), "
                   "NEW.description")
SQLITE_UP = [
    "CREATE VIRTUAL TABLE products_fts USING fts5(product_id UNINDEXED, name, category, description, "
    "tokenize = 'porter unicode61')",
    f"""CREATE TRIGGER products_fts_insert AFTER INSERT ON products BEGIN
          INSERT INTO products_fts (product_id, name, category, description) VALUES (NEW.id, {SQLITE_DOCUMENT});
        END""",
    f"""CREATE TRIGGER products_fts_update AFTER UPDATE OF name, description, category_id ON products BEGIN
          DELETE FROM products_fts WHERE product_id = OLD.id;
          INSERT INTO products_fts (product_id, name, category, description) VALUES (NEW.id, {SQLITE_DOCUMENT});
        END""",
    """CREATE TRIGGER products_fts_delete AFTER DELETE ON products BEGIN
          DELETE FROM products_fts WHERE product_id = OLD.id;
        END""",
    """CREATE TRIGGER categories_fts_rename AFTER UPDATE OF name ON categories BEGIN
          UPDATE products_fts SET category = NEW.name
          WHERE product_id IN (SELECT id FROM products WHERE category_id = NEW.id);
        END""",
    """INSERT INTO products_fts (product_id, name, category, description)
       SELECT p.id, p.name, coalesce(c.name, ''), p.description FROM products p
       LEFT JOIN categories c ON c.id = p.category_id""",
]
SQLITE_DOWN = ["DROP TRIGGER categories_fts_rename", "DROP TRIGGER products_fts_delete",
               "DROP TRIGGER products_fts_update", "DROP TRIGGER products_fts_insert", "DROP TABLE products_fts"]


def _btree_indexes() -> list[tuple[str, list[str]]]:
    return [*((f"ix_products_active_category_{name}", ["category_id", column, "id"]) for name, column in SORTS),
            ("ix_products_active_vendor_created", ["vendor_id", "created_at", "id"])]


def upgrade() -> None:
    postgresql_dialect = op.get_bind().dialect.name == "postgresql"
    # SQLite gets the column too (always NULL), so the one model serves both.
    with op.batch_alter_table("products") as batch_op:
        batch_op.add_column(sa.Column("search_vector", postgresql.TSVECTOR().with_variant(sa.Text(), "sqlite"),
                                      nullable=True))
    for statement in POSTGRESQL_UP if postgresql_dialect else SQLITE_UP:
        op.execute(statement)
    for name, columns in _btree_indexes():
        op.create_index(name, "products", columns, postgresql_where=ACTIVE, sqlite_where=ACTIVE)
    if postgresql_dialect:
        op.create_index("ix_products_active_search", "products", ["search_vector"], postgresql_using="gin",
                        postgresql_where=ACTIVE)
        op.create_index("ix_products_active_name_trgm", "products", ["name"], postgresql_using="gin",
                        postgresql_ops={"name": "gin_trgm_ops"}, postgresql_where=ACTIVE)


def downgrade() -> None:
    postgresql_dialect = op.get_bind().dialect.name == "postgresql"
    if postgresql_dialect:
        op.drop_index("ix_products_active_name_trgm", "products")
        op.drop_index("ix_products_active_search", "products")
    for name, _ in reversed(_btree_indexes()):
        op.drop_index(name, "products")
    for statement in POSTGRESQL_DOWN if postgresql_dialect else SQLITE_DOWN:
        op.execute(statement)
    with op.batch_alter_table("products") as batch_op:
        batch_op.drop_column("search_vector")
