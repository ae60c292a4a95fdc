"""The shop window: home, the catalog (search, filters, sort, pages), a product and its reviews."""
from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from flask import Blueprint, Response, abort, g, redirect, render_template, request, session, url_for

from ..api import ApiProblem
from ..dependencies import deps
from ..money import NotAnAmount, parse_amount
from ..page_cache import FORM_TOKEN, PageCache
from ..pages import FormState, positive_int
from ..sessions import SESSION_ID, current_user, require_user, user_call

blueprint = Blueprint("shop", __name__)
SORTS = {"-created_at": "Newest", "price": "Price: low to high", "-price": "Price: high to low",
         "-rating": "Best rated", "name": "Name: A to Z", "relevance": "Best match"}
# The catalog's own query parameters -> the API's (prices are typed in naira, the API takes kobo).
PRICE_FIELDS = {"min": "min_price", "max": "max_price"}


def _anonymous_visit() -> bool:
    """A visitor not signed in, with no message waiting: the shop window is the same for all of them."""
    return request.method == "GET" and SESSION_ID not in session and "_flashes" not in session


def _kept(cache: PageCache) -> Response | None:
    """The kept page for this address, when the visitor may be given it (see page_cache). Decided before
    the page is made: rendering takes a waiting message out of the session."""
    g.page_may_be_kept = cache.seconds > 0 and _anonymous_visit()
    if not g.page_may_be_kept:
        return None
    page = cache.get(request.full_path)
    return Response(page, mimetype="text/html") if page is not None else None


def _keep(cache: PageCache, response: Response) -> Response:
    """Kept only when it carries no form token (a form's token is the visitor's own)."""
    if g.get("page_may_be_kept") and response.status_code == 200 and not response.direct_passthrough:
        page = response.get_data()
        if FORM_TOKEN not in page:
            cache.put(request.full_path, page)
    return response


@blueprint.before_request
def kept_page() -> Response | None:
    return _kept(deps().page_cache)


@blueprint.after_request
def keep(response: Response) -> Response:
    return _keep(deps().page_cache, response)


def categories() -> list[dict[str, Any]]:
    return deps().api.categories()


@blueprint.get("/")
def home() -> str:
    api = deps().api
    featured = api.call("products", "GET", "/api/v1/products", params={"sort": "-rating", "per_page": 8})
    newest = api.call("products", "GET", "/api/v1/products", params={"sort": "-created_at", "per_page": 8})
    return render_template("home.html", categories=categories(), featured=featured["items"],
                           newest=newest["items"])


def _cursor_of(api_link: str | None) -> str | None:
    """The `cursor` of the API's `next` / `prev` link (a path with a query string)."""
    if not api_link:
        return None
    return (parse_qs(urlsplit(api_link).query).get("cursor") or [None])[0]


@blueprint.get("/products")
def catalog() -> tuple[str, int]:
    args = request.args
    filters = {name: args.get(name, "").strip() for name in ("q", "category", "min", "max", "sort")}
    form = FormState(values=dict(filters))
    params: dict[str, Any] = {"per_page": deps().settings.catalog_page_size}
    if filters["q"]:
        params["q"] = filters["q"]
    if filters["category"]:
        params["category"] = filters["category"]
    if filters["sort"] in SORTS and (filters["sort"] != "relevance" or filters["q"]):
        params["sort"] = filters["sort"]
    if args.get("in_stock") == "1":
        params["in_stock"] = "true"
        form.values["in_stock"] = "1"
    for own, api_name in PRICE_FIELDS.items():
        if filters[own]:
            try:
                params[api_name] = parse_amount(filters[own])
            except NotAnAmount as error:
                form.errors[own] = str(error)
    if args.get("cursor"):
        params["cursor"] = args["cursor"]
    else:
        params["page"] = positive_int(args.get("page"))
    page: dict[str, Any] = {"items": [], "total": 0, "next": None, "prev": None, "page": 1, "pages": 0}
    status = 200
    if not form.errors:
        try:
            page = deps().api.call("products", "GET", "/api/v1/products", params=params)
        except ApiProblem as problem:
            form.refused(problem, fields={api: own for own, api in PRICE_FIELDS.items()})
            status = 422
    else:
        form.message = "Check the price filter."
        status = 422
    kept = {key: value for key, value in {**filters, "in_stock": form.values.get("in_stock", "")}.items() if value}

    def link(cursor: str | None) -> str | None:
        return f"{url_for('shop.catalog')}?{urlencode({**kept, 'cursor': cursor})}" if cursor else None

    return render_template("catalog.html", page=page, form=form, sorts=SORTS, categories=categories(),
                           next_link=link(_cursor_of(page.get("next"))),
                           prev_link=link(_cursor_of(page.get("prev")))), status


def _product_or_404(product_id: str) -> dict[str, Any]:
    api = deps().api
    try:
        if current_user() is not None:  # a vendor sees their own inactive products
            return user_call("products", "GET", f"/api/v1/products/{product_id}")  # type: ignore[no-any-return]
        return api.call("products", "GET", f"/api/v1/products/{product_id}")  # type: ignore[no-any-return]
    except ApiProblem as problem:
        if problem.status in (404, 422):
            abort(404)
        raise


def render_product(product_id: str, *, cart_form: FormState | None = None, review_form: FormState | None = None,
                   status: int = 200) -> tuple[str, int]:
    product = _product_or_404(product_id)
    reviews = deps().api.call("products", "GET", f"/api/v1/products/{product_id}/reviews",
                              params={"per_page": 20})
    return render_template("product.html", product=product, reviews=reviews,
                           cart_form=cart_form or FormState(values={"quantity": "1"}),
                           review_form=review_form or FormState()), status


@blueprint.get("/products/<product_id>")
def product(product_id: str) -> tuple[str, int]:
    return render_product(product_id)


@blueprint.post("/products/<product_id>/reviews")
def write_review(product_id: str) -> Any:
    require_user()
    form = FormState.posted()
    body: dict[str, Any] = {"rating": positive_int(form.value("rating"), 0)}
    if form.value("comment").strip():
        body["comment"] = form.value("comment").strip()
    try:
        user_call("products", "POST", f"/api/v1/products/{product_id}/reviews", json=body)
    except ApiProblem as problem:
        if problem.status == 404:
            abort(404)
        if problem.status == 403:
            problem.detail = "Only customers can review products."
        return render_product(product_id, review_form=form.refused(problem), status=problem.status)
    return redirect(url_for("shop.product", product_id=product_id, _anchor="reviews"), 303)

