"""Every SQL statement of the products service, as functions named for what they read or write.

Callers pass the session or connection and decide where transactions begin and end; nothing here commits,
except the one statement that `commit_in_one_statement` runs in autocommit. SQLite (local runs) differs from
PostgreSQL only in this module.

Hot statements (the catalogue's reads, the batch lookup, every reservation statement) are built once at
import: a select built per call costs its construction, its cache key and, on each execution, the adaptation
of the cached result columns to the new statement's (0.4 ms in-process, measured). Reservations run them
as Core statements on a plain connection: they build no ORM objects, and the ORM's unit of work and reloads
cost more CPU than the statements themselves.
"""
from __future__ import annotations

import csv
import io
import itertools
import json
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (CTE, ColumnElement, Connection, Engine, Float, Insert, Integer, Row, Select, Subquery, Table,
                        Update, Uuid, bindparam, case, cast, column, create_engine, exists, false, func, insert,
                        literal, literal_column, select, table, text, true, tuple_, union_all, update)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from storefront_common.db import autocommit, engine_options, insert_on_conflict

from .catalog_generator import CatalogSize, category_rows, product_rows
from .cursors import Position
from .dependencies import db
from .models import (MAX_STOCK, Category, Product, Reservation, ReservationItem, ReservationStatus, ReservationView,
                     ReservedLine, Review)
from .schemas import ProductQuery

T = TypeVar("T")


class CatalogReads:
    """A second pool for the public catalogue's read-only queries, in autocommit mode without pre-ping.

    Each catalogue read is one statement, so it needs no transaction: this saves the BEGIN, ROLLBACK and
    pre-ping round trips that a session request pays, three of the four round trips of a listing. A
    connection the server dropped is detected by the failing statement instead, and the read is retried
    once on a fresh one.
    """

    def __init__(self, database_url: str, pool_size: int) -> None:
        # SQLite (local runs) has no round trips to save, and a second pool could not see an in-memory
        # database: the session's engine serves there.
        self._engine: Engine | None = None if database_url.startswith("sqlite") else create_engine(
            database_url, isolation_level="AUTOCOMMIT", **engine_options(database_url, pool_size))

    @property
    def engine(self) -> Engine:
        return self._engine if self._engine is not None else db.engine

    def run(self, read: Callable[[Connection], T]) -> T:
        for attempt in (1, 2):
            try:
                with self.engine.connect() as connection:
                    return read(connection)
            except DBAPIError as error:
                if attempt == 2 or not error.connection_invalidated:
                    raise
        raise AssertionError("unreachable")


def add(session: Session, row: Category | Product | Review) -> None:
    session.add(row)


# Categories

def get_category(session: Session, category_id: uuid.UUID) -> Category | None:
    return session.get(Category, category_id)


def load_category(session: Session, category_id: uuid.UUID, *, lock: bool = False) -> Category | None:
    # The row lock (for a delete) makes a product created concurrently in this category wait, then fail its
    # foreign key.
    statement = select(Category).where(Category.id == category_id)
    return session.scalar(statement.with_for_update() if lock else statement)


def categories_by_name(session: Session) -> Sequence[Category]:
    return session.scalars(select(Category).order_by(Category.name, Category.id)).all()


def all_categories(session: Session) -> Sequence[Category]:
    return session.scalars(select(Category)).all()


def has_active_products(session: Session, category_id: uuid.UUID) -> bool:
    return bool(session.scalar(select(exists().where(Product.category_id == category_id, Product.is_active))))


def delete_category(session: Session, category: Category) -> None:
    session.delete(category)


# Products: the catalogue's reads

PRODUCTS: Table = Product.__table__
CATEGORIES: Table = Category.__table__

PRODUCT_COLUMNS = (
    Product.id, Product.name, Product.slug, Product.description, Product.price, Product.currency,
    Product.stock, Product.vendor_id, Product.attributes, Product.images, Product.is_active,
    Product.rating_average, Product.rating_count, Product.created_at, Product.updated_at,
    Product.category_id, Category.slug.label("category_slug"), Category.name.label("category_name"),
)

SORT_COLUMNS = {
    "name": Product.name,
    "price": Product.price,
    "created_at": Product.created_at,
    "rating": Product.rating_average,
}


def _product_select() -> Select[Any]:
    """Products with their category in one query (never one category query per product)."""
    return select(*PRODUCT_COLUMNS).outerjoin(Category, Category.id == Product.category_id)


FIND_PRODUCT = _product_select().where(Product.id == bindparam("product_id"))
# Every add-to-cart asks for this.
LOOKUP = select(Product.id, Product.name, Product.price, Product.currency, Product.stock, Product.is_active,
                Product.vendor_id).where(Product.id.in_(bindparam("ids", expanding=True)))


def find_product(connection: Connection, product_id: uuid.UUID) -> Row[Any] | None:
    """The product's columns plus its category's id, slug and name (`category_slug`, `category_name`)."""
    return connection.execute(FIND_PRODUCT, {"product_id": product_id}).one_or_none()


def lookup_products(connection: Connection, product_ids: list[uuid.UUID]) -> Sequence[Row[Any]]:
    """Price, stock and state of the products found among `product_ids`, inactive ones included."""
    return connection.execute(LOOKUP, {"ids": product_ids}).all()


def _category_filter(category: str) -> ColumnElement[bool]:
    try:
        return Product.category_id == uuid.UUID(category)
    except ValueError:
        # The slug's id as an uncorrelated subquery: PostgreSQL runs it once, first, and uses its value as an
        # index condition, so a category's pages walk the (category_id, sort column, id) indexes.
        category_id = select(CATEGORIES.c.id).where(CATEGORIES.c.slug == category.lower()).scalar_subquery()
        return Product.category_id == category_id


@dataclass(frozen=True)
class _Search:
    condition: ColumnElement[bool]
    rank: ColumnElement[float]  # higher is more relevant
    joined: Subquery | None = None  # SQLite: the FTS5 matches, joined on product_id
    # PostgreSQL full text: the query matched against the name alone (its own index). Sorted by relevance, the
    # page is then ranked among bounded candidates, name matches first (see _candidates).
    name_match: ColumnElement[bool] | None = None


# A broad search matches tens of thousands of products; ranking them all means reading every one. Sorted by
# relevance, a search ranks no more than this many: its name matches first, then the others.
RANKED_CANDIDATES = 1_000
ENGLISH = literal_column("'english'::regconfig")


PRODUCTS_FTS = table("products_fts", column("product_id", Uuid))
FTS_TERM = re.compile(r"[^\W_]+")


def _search(connection: Connection, searched: str, fallback: bool) -> _Search:
    """Full-text search, or with `fallback` the search with its typos corrected (PostgreSQL; see _corrected)."""
    if _on_postgresql(connection):
        if fallback:  # no word to correct: the search as it was, which finds nothing again (in a millisecond)
            searched = _corrected(connection, searched) or searched
        query = func.websearch_to_tsquery(ENGLISH, bindparam("q", searched))
        return _Search(Product.search_vector.op("@@")(query), cast(func.ts_rank(Product.search_vector, query), Float),
                       name_match=func.to_tsvector(ENGLISH, Product.name).op("@@")(query))
    # FTS5: every word, as a quoted string (no operators from the user's text); bm25 is lower when better.
    terms = " ".join(f'"{term}"' for term in FTS_TERM.findall(searched))
    if not terms:
        return _Search(false(), literal(0.0, Float))
    matches = (select(PRODUCTS_FTS.c.product_id,
                      (-func.bm25(literal_column("products_fts"), 10.0, 4.0, 1.0)).label("rank"))
               .where(literal_column("products_fts").op("MATCH")(bindparam("q", terms)))).subquery("matches")
    return _Search(true(), matches.c.rank, matches)


# Each word of a search and the catalogue's word most similar to it (trigrams; pg_trgm's `%` threshold, 0.3),
# itself when the catalogue has it: one round trip, a few index lookups in a table of distinct words.
CORRECTIONS = text(
    "SELECT term, (SELECT word FROM search_words WHERE word % term "
    "              ORDER BY similarity(word, term) DESC, word LIMIT 1) "
    "FROM unnest(CAST(:terms AS text[])) WITH ORDINALITY AS terms(term, position) ORDER BY position")


def _corrected(connection: Connection, searched: str) -> str | None:
    """The search with each word replaced by the catalogue's most similar word (typos, unfinished words:
    `hedphones` -> `headphones`, `wireles` -> `wireless`); None when no word changes, so the search would find
    nothing again."""
    terms = [term.lower() for term in FTS_TERM.findall(searched)]
    corrections = connection.execute(CORRECTIONS, {"terms": terms}).all() if terms else []
    words = [correction or term for term, correction in corrections]
    return " ".join(words) if words != terms else None


def _listing_filters(query: ProductQuery, search: _Search | None) -> list[ColumnElement[bool]]:
    # The bare column, not `IS true`: only that matches the partial indexes' `WHERE is_active`.
    filters: list[ColumnElement[bool]] = [Product.is_active.expression]
    if search is not None:
        filters.append(search.condition)
    if query.category is not None:
        filters.append(_category_filter(query.category))
    if query.vendor_id is not None:
        filters.append(Product.vendor_id == query.vendor_id)
    if query.min_price is not None:
        filters.append(Product.price >= query.min_price)
    if query.max_price is not None:
        filters.append(Product.price <= query.max_price)
    if query.in_stock is True:
        filters.append(Product.stock > 0)
    elif query.in_stock is False:
        filters.append(Product.stock == 0)
    return filters


def _matching(query: ProductQuery, search: _Search | None, *columns: Any) -> Select[Any]:
    """`columns` of the active products the query matches, each with its category."""
    joined = PRODUCTS.outerjoin(CATEGORIES, CATEGORIES.c.id == PRODUCTS.c.category_id)
    if search is not None and search.joined is not None:
        joined = joined.join(search.joined, search.joined.c.product_id == PRODUCTS.c.id)
    return select(*columns).select_from(joined).where(*_listing_filters(query, search))


def _capped_count(query: ProductQuery, search: _Search | None, limit: int) -> Select[Any]:
    """How many match, counting no further than limit + 1: a large result costs `limit` index entries, not a
    scan. Never correlated: it counts every match, not the page's rows."""
    capped = _matching(query, search, literal(1)).limit(limit + 1).correlate(None).subquery("capped")
    return select(func.count()).select_from(capped)


def _page_statement(query: ProductQuery, search: _Search | None, position: Position | None,
                    count_up_to: int | None) -> Select[Any]:
    """One page and one row more (to tell whether another follows), with the capped total on every row when
    `count_up_to` is given. The id breaks ties in the sort's direction, so pages never overlap or skip rows; a
    cursor continues after its row with a row comparison, which the (sort column, id) indexes answer without an
    offset."""
    ranked = search if query.order == "relevance" else None
    total = (literal(None, Integer) if count_up_to is None
             else _capped_count(query, search, count_up_to).scalar_subquery())
    if ranked is not None and ranked.name_match is not None:
        candidates = _candidates(query, ranked)
        key, row_id = candidates.c.sort_key, candidates.c.id
        statement = select(candidates, total.label("total"))
    elif ranked is None and search is not None and search.name_match is not None and count_up_to is not None:
        matches = _matches_first(query, search)
        key, row_id = matches.c.sort_key, matches.c.id
        statement = select(matches, total.label("total"))
    else:
        key = ranked.rank if ranked is not None else SORT_COLUMNS[query.order.lstrip("-")]
        row_id = Product.id
        statement = _matching(query, search, *PRODUCT_COLUMNS, key.label("sort_key"), total.label("total"))
    descending = ranked is not None or query.order.startswith("-")
    if position is not None:
        descending = descending != position.backwards
        after = tuple_(key, row_id)
        row = tuple_(literal(position.key, key.type), literal(position.id, Uuid()))
        statement = statement.where(after < row if descending else after > row)
    else:
        statement = statement.offset((query.page - 1) * query.per_page)
    order = (key.desc(), row_id.desc()) if descending else (key.asc(), row_id.asc())
    return statement.order_by(*order).limit(query.per_page + 1)


def _matches_first(query: ProductQuery, search: _Search) -> CTE:
    """A search sorted by a column that the planner expects to match few products (it is counted): its matches
    from the search's index, then sorted. Left to itself the planner may walk the sort column's index and test
    each product against the search, hoping to meet a page of matches soon; for a word that matches nothing
    (most typos) that walk reads the whole catalogue (3 s at a million products). MATERIALIZED keeps the
    matches a step of their own."""
    key = SORT_COLUMNS[query.order.lstrip("-")]
    return (_matching(query, search, *PRODUCT_COLUMNS, key.label("sort_key"))
            .cte("matches").prefix_with("MATERIALIZED"))


def _candidates(query: ProductQuery, search: _Search) -> Subquery:
    """What a full-text search sorted by relevance is ranked among: its name matches, then its other matches,
    RANKED_CANDIDATES in all, each with its rank as `sort_key`. The name matches come from their own index and
    the scan stops at the limit, so a broad search reads that many rows, not all its matches; the other matches
    are read only when the names match fewer."""
    assert search.name_match is not None
    columns = (*PRODUCT_COLUMNS, search.rank.label("sort_key"))
    by_name = _matching(query, search, *columns).where(search.name_match)
    others = _matching(query, search, *columns).where(~search.name_match)
    matches = union_all(by_name, others).subquery("matches")
    return select(matches).limit(RANKED_CANDIDATES).subquery("candidates")


@dataclass(frozen=True)
class ListingPage:
    rows: Sequence[Row[Any]]  # in the listing's order; each has `sort_key`
    more: bool  # rows lie beyond this page in the direction walked
    total: int | None  # None: not counted, or more than count_up_to matched
    fallback: bool  # the search found nothing and was run again with its typos corrected


def listing_page(connection: Connection, query: ProductQuery, position: Position | None,
                 count_up_to: int | None) -> ListingPage:
    """One round trip, except an empty page: then a count (beyond the last page) or, for a search that
    finds nothing on its first page, the same page with the search's typos corrected (PostgreSQL; with an
    estimate first when counting). `count_up_to`: count the matches, no further than that (None: do not count)."""
    fallback = position is not None and position.fallback
    search = None if query.q is None else _search(connection, query.q, fallback)
    rows = connection.execute(_page_statement(query, search, position, count_up_to)).all()
    first_page = position is None and query.page == 1
    if not rows and search is not None and first_page and not fallback and _on_postgresql(connection):
        fallback = True
        search = _search(connection, query.q or "", fallback)
        # The corrected search is counted only when the planner expects few matches, as the route decides for
        # any listing: a typo of a common word corrects to thousands of them.
        if count_up_to is not None and estimated_total(connection, query, fallback) > count_up_to:
            count_up_to = None
        rows = connection.execute(_page_statement(query, search, position, count_up_to)).all()
    total: int | None = None
    if not rows and first_page:
        total = 0
    elif count_up_to is not None:
        total = int(rows[0].total) if rows else int(connection.scalar(_capped_count(query, search, count_up_to)) or 0)
    page = rows[:query.per_page]
    if position is not None and position.backwards:
        page.reverse()
    exceeded = total is not None and count_up_to is not None and total > count_up_to
    return ListingPage(page, len(rows) > query.per_page, None if exceeded else total, fallback)


def _explain(connection: Connection, statement: Select[Any], analyze: bool = False) -> dict[str, Any]:
    # Literal values: EXPLAIN takes no parameters through the driver. SQLAlchemy quotes them.
    compiled = statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
    options = "ANALYZE, FORMAT JSON" if analyze else "FORMAT JSON"
    return connection.exec_driver_sql(f"EXPLAIN ({options}) {compiled}").scalar_one()[0]  # type: ignore[no-any-return]


def estimated_total(connection: Connection, query: ProductQuery, fallback: bool) -> int:
    """The planner's estimate of how many active products match: one planning, no scan (PostgreSQL). SQLite,
    for local runs, has no estimate to read: it counts."""
    search = None if query.q is None else _search(connection, query.q, fallback)
    if not _on_postgresql(connection):
        return int(connection.scalar(select(func.count()).select_from(
            _matching(query, search, literal(1)).subquery())) or 0)
    return int(_explain(connection, _matching(query, search, literal(1)))["Plan"]["Plan Rows"])


def explain_listing(connection: Connection, query: ProductQuery, position: Position | None = None,
                    count_up_to: int | None = None, analyze: bool = False) -> dict[str, Any]:
    """The PostgreSQL plan (EXPLAIN, JSON; `analyze`: run, with what each step read) of the listing's page
    statement, for tests and benchmarks."""
    search = None if query.q is None else _search(connection, query.q, position is not None and position.fallback)
    return _explain(connection, _page_statement(query, search, position, count_up_to), analyze)


# Products: vendors' writes, stock and ratings

def get_product(session: Session, product_id: uuid.UUID) -> Product | None:
    return session.get(Product, product_id)


def _write_stock(session: Session, product_id: uuid.UUID, new_stock: ColumnElement[int] | int) -> int | None:
    # The bounds are checked by the database on the row it updates, never on a value read earlier.
    guard = new_stock if isinstance(new_stock, ColumnElement) else None
    statement = update(Product).where(Product.id == product_id)
    if guard is not None:
        statement = statement.where(guard >= 0, guard <= MAX_STOCK)
    stock = session.execute(statement.values(stock=new_stock).returning(Product.stock)
                            .execution_options(synchronize_session=False)).scalar_one_or_none()
    return None if stock is None else int(stock)


def add_stock(session: Session, product_id: uuid.UUID, delta: int) -> int | None:
    """The new stock, or None when it would leave 0..MAX_STOCK (nothing changed)."""
    return _write_stock(session, product_id, Product.stock + delta)


def set_stock(session: Session, product_id: uuid.UUID, stock: int) -> int | None:
    """The new stock (`stock`, which the caller checked is within 0..MAX_STOCK)."""
    return _write_stock(session, product_id, stock)


def insert_review(session: Session, review: Review) -> None:
    """Raises IntegrityError when the user already reviewed the product: the unique (product_id, user_id)
    constraint decides, even between two concurrent requests."""
    session.add(review)
    session.flush()


def add_rating(session: Session, product_id: uuid.UUID, rating: int) -> None:
    # SQL arithmetic on the row itself: concurrent reviews each add their own rating, none is lost.
    session.execute(
        update(Product).where(Product.id == product_id)
        .values(rating_sum=Product.rating_sum + rating, rating_count=Product.rating_count + 1,
                rating_average=cast(Product.rating_sum + rating, Float) / (Product.rating_count + 1))
        .execution_options(synchronize_session=False))


def newest_reviews(product_id: uuid.UUID) -> Select[Any]:
    """The product's reviews, newest first (for storefront_common.pagination.paginate)."""
    return (select(Review).where(Review.product_id == product_id)
            .order_by(Review.created_at.desc(), Review.id.desc()))


# Reservations

RESERVATIONS: Table = Reservation.__table__
ITEMS: Table = ReservationItem.__table__
# The reservation's own columns, named and ordered as ReservationView's fields before `items`.
HEAD = tuple(field.name for field in fields(ReservationView) if field.name != "items")


def _load_by(key: str) -> Select[Any]:
    """The reservation whose `key` is :key, one row per line: its own columns, then the line's."""
    # An inner join: a reservation is written with its lines (at least one) in a single transaction.
    return (select(*(RESERVATIONS.c[name] for name in HEAD), *(ITEMS.c[name] for name in ReservedLine._fields))
            .join_from(RESERVATIONS, ITEMS).where(RESERVATIONS.c[key] == bindparam("key"))
            .order_by(ITEMS.c.product_id))


def _move_statement(*conditions: ColumnElement[bool]) -> Update:
    return (update(RESERVATIONS)
            .where(RESERVATIONS.c.id == bindparam("reservation_id"),
                   RESERVATIONS.c.status == bindparam("from_status"), *conditions)
            .values(status=bindparam("to_status")))


INSERT_RESERVATION = insert_on_conflict(RESERVATIONS, conflict=("order_id",))  # a repeat inserts nothing
INSERT_ITEMS = insert(ITEMS)
LOAD_BY_ID = _load_by("id")
LOAD_BY_ORDER = _load_by("order_id")
# Keyed by `due` (see move).
MOVES = {None: _move_statement(),
         True: _move_statement(RESERVATIONS.c.expires_at <= bindparam("now")),
         False: _move_statement(RESERVATIONS.c.expires_at > bindparam("now"))}


def _commit_and_load() -> Select[Any]:
    """The usual commit as one statement: move an active reservation within its time to committed, and read
    it with its lines. The read sees the rows as the statement found them (one snapshot for the whole
    statement), so the status is the move's when it moved; the last column says whether it did."""
    moved = MOVES[False].returning(RESERVATIONS.c.id, RESERVATIONS.c.status).cte("moved")
    head = [func.coalesce(moved.c.status, RESERVATIONS.c.status) if name == "status" else RESERVATIONS.c[name]
            for name in HEAD]
    return (select(*head, *(ITEMS.c[name] for name in ReservedLine._fields), moved.c.id.is_not(None))
            .join_from(RESERVATIONS, ITEMS).outerjoin(moved, moved.c.id == RESERVATIONS.c.id)
            .where(RESERVATIONS.c.id == bindparam("reservation_id")).order_by(ITEMS.c.product_id))


COMMIT_AND_LOAD = _commit_and_load()
# Never below zero: `stock` is always what can still be bought.
TAKE_UNITS = (update(PRODUCTS)
              .where(PRODUCTS.c.id == bindparam("product_id"), PRODUCTS.c.is_active,
                     PRODUCTS.c.stock >= bindparam("quantity"))
              .values(stock=PRODUCTS.c.stock - bindparam("quantity"))
              .returning(PRODUCTS.c.name, PRODUCTS.c.price, PRODUCTS.c.currency, PRODUCTS.c.vendor_id))


def _take_units_into_items() -> Insert:
    """One statement per line on PostgreSQL: take the units and record the line priced as they were taken.
    The hot product's row stays locked from here to COMMIT only, one round trip, not two."""
    taken = TAKE_UNITS.returning(PRODUCTS.c.id).cte("taken")
    priced = select(bindparam("reservation_id", type_=Uuid), taken.c.id, bindparam("quantity", type_=Integer),
                    taken.c.name, taken.c.price, taken.c.currency, taken.c.vendor_id)
    return (insert(ITEMS).from_select(["reservation_id", *ReservedLine._fields], priced).add_cte(taken)
            .returning(*(ITEMS.c[name] for name in ReservedLine._fields[2:])))


TAKE_UNITS_INTO_ITEMS = _take_units_into_items()
_RESTORED = PRODUCTS.c.stock + bindparam("quantity")
# Capped because the vendor may have raised the stock to the maximum meanwhile.
RETURN_UNITS = (update(PRODUCTS).where(PRODUCTS.c.id == bindparam("product_id"))
                .values(stock=case((_RESTORED > MAX_STOCK, MAX_STOCK), else_=_RESTORED)))
# Unknown and inactive products can never be bought: they report 0 available.
AVAILABLE = select(PRODUCTS.c.id, PRODUCTS.c.stock).where(
    PRODUCTS.c.id.in_(bindparam("product_ids", expanding=True)), PRODUCTS.c.is_active)
UNITS_OF = (select(ITEMS.c.product_id, func.sum(ITEMS.c.quantity))
            .where(ITEMS.c.reservation_id.in_(bindparam("reservation_ids", expanding=True)))
            .group_by(ITEMS.c.product_id))


def _on_postgresql(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def insert_reservation(connection: Connection, reservation_id: uuid.UUID, order_id: uuid.UUID,
                       expires_at: datetime, now: datetime) -> bool:
    """An active reservation for the order; False (nothing inserted) when the order already has one."""
    return bool(connection.execute(INSERT_RESERVATION, {
        "id": reservation_id, "order_id": order_id, "status": ReservationStatus.ACTIVE,
        "expires_at": expires_at, "created_at": now, "updated_at": now}).rowcount)


def take_units(connection: Connection, reservation_id: uuid.UUID, product_id: uuid.UUID,
               quantity: int) -> ReservedLine | None:
    """Take `quantity` units of an active product, or None when it has fewer (or is unknown or inactive).
    On PostgreSQL the line is recorded in the same statement; record_lines writes it on SQLite."""
    if _on_postgresql(connection):
        taken = connection.execute(TAKE_UNITS_INTO_ITEMS, {"reservation_id": reservation_id,
                                                           "product_id": product_id, "quantity": quantity}).first()
    else:
        taken = connection.execute(TAKE_UNITS, {"product_id": product_id, "quantity": quantity}).first()
    return None if taken is None else ReservedLine(product_id, quantity, *taken)


def record_lines(connection: Connection, reservation_id: uuid.UUID, lines: list[ReservedLine]) -> None:
    """The lines take_units took, on SQLite, which has no UPDATE inside WITH (PostgreSQL recorded them)."""
    if not _on_postgresql(connection):
        connection.execute(INSERT_ITEMS, [{"reservation_id": reservation_id, **line._asdict()} for line in lines])


def available_units(connection: Connection, product_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Stock of the active products among `product_ids` (the others are absent)."""
    return dict(connection.execute(AVAILABLE, {"product_ids": product_ids}).tuples().all())


def _view(rows: Sequence[Row[Any]]) -> ReservationView:
    """A reservation from its rows, one per line: its own columns, then the line's (then anything else)."""
    line_end = len(HEAD) + len(ReservedLine._fields)
    return ReservationView(*rows[0][:len(HEAD)], items=[ReservedLine(*row[len(HEAD):line_end]) for row in rows])


def _load(connection: Connection, statement: Select[Any], key: uuid.UUID) -> ReservationView | None:
    rows = connection.execute(statement, {"key": key}).all()
    return _view(rows) if rows else None


def reservation(connection: Connection, reservation_id: uuid.UUID) -> ReservationView | None:
    return _load(connection, LOAD_BY_ID, reservation_id)


def reservation_of_order(connection: Connection, order_id: uuid.UUID) -> ReservationView | None:
    return _load(connection, LOAD_BY_ORDER, order_id)


def move(connection: Connection, reservation_id: uuid.UUID, status: str, now: datetime, *,
         due: bool | None = None, from_status: str = ReservationStatus.ACTIVE) -> bool:
    """Move a reservation from `from_status` to `status` in one conditional UPDATE, without row locks. True
    only for the one call that moved it, so concurrent commits, releases and expiries can never both act on
    it. `due`: None moves regardless of the time, True only past expires_at, False only before it."""
    moved = connection.execute(MOVES[due], {"reservation_id": reservation_id, "from_status": from_status,
                                            "to_status": status, "now": now})
    return moved.rowcount == 1


def commit_in_one_statement(connection: Connection, reservation_id: uuid.UUID,
                            now: datetime) -> ReservationView | None:
    """Commit an active reservation within its time and read it back, one statement in autocommit; None when
    it did not move (already committed, due, released...) or on SQLite, which has no UPDATE inside WITH."""
    if not _on_postgresql(connection):
        return None
    with autocommit(connection):
        rows = connection.execute(COMMIT_AND_LOAD, {"reservation_id": reservation_id, "now": now,
                                                    "from_status": ReservationStatus.ACTIVE,
                                                    "to_status": ReservationStatus.COMMITTED}).all()
    return _view(rows) if rows and rows[0][-1] else None


def return_units(connection: Connection, quantities: dict[uuid.UUID, int]) -> None:
    # In product-id order, as units are taken, so two transactions never deadlock.
    connection.execute(RETURN_UNITS, [{"product_id": product_id, "quantity": quantities[product_id]}
                                      for product_id in sorted(quantities)])


def units_of(connection: Connection, reservation_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """The units the reservations hold, per product."""
    rows = connection.execute(UNITS_OF, {"reservation_ids": reservation_ids})
    return {product_id: int(quantity) for product_id, quantity in rows.tuples()}


def expire_due_batch(connection: Connection, moment: datetime, batch_size: int) -> list[uuid.UUID]:
    """Move up to `batch_size` active reservations due at `moment` to expired; their ids."""
    # SKIP LOCKED: a concurrent run, commit or release holding a row leaves it to them.
    due = (select(RESERVATIONS.c.id)
           .where(RESERVATIONS.c.status == ReservationStatus.ACTIVE, RESERVATIONS.c.expires_at <= moment)
           .order_by(RESERVATIONS.c.expires_at, RESERVATIONS.c.id).limit(batch_size)
           .with_for_update(skip_locked=True))
    return list(connection.scalars(
        update(RESERVATIONS)
        .where(RESERVATIONS.c.id.in_(due.scalar_subquery()), RESERVATIONS.c.status == ReservationStatus.ACTIVE)
        .values(status=ReservationStatus.EXPIRED).returning(RESERVATIONS.c.id)).all())


# A generated catalogue (flask load-catalog, bench/products)
COPY_BATCH_ROWS = 20_000


def _copy_value(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _batches(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _copy_products(connection: Connection, batch: list[dict[str, Any]]) -> None:
    columns = list(batch[0])
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in batch:
        writer.writerow([_copy_value(row[name]) for name in columns])
    buffer.seek(0)
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.copy_expert(f"COPY products ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buffer)
    finally:
        cursor.close()


def load_catalog(connection: Connection, size: CatalogSize, now: datetime) -> None:
    """Insert a generated catalogue: its categories, then its products with COPY (PostgreSQL) in batches, so
    memory stays flat whatever the size; SQLite gets batched INSERTs."""
    categories = category_rows(size, now)
    connection.execute(insert(CATEGORIES), categories)
    products = product_rows(size, [category["id"] for category in categories], now)
    for batch in _batches(products, COPY_BATCH_ROWS):
        if _on_postgresql(connection):
            _copy_products(connection, batch)
        else:
            connection.execute(insert(PRODUCTS), batch)
