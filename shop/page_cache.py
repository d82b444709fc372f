"""Caching of public pages: in this process or Redis, and in browsers by ETag.

Pages that are the same for every visitor (home, catalog, product, blog,
feeds, sitemap) are cached whole for anonymous GET requests. Each page
declares the areas of content it shows (``@public_page(areas=...)``), and its
cache key holds those areas' clocks (``shop/content_clock.py``): a product
save makes the catalog's pages stale and leaves the blog's alone, a post save
the reverse. A page that learns while drawing that it shows another area too
(a post listing products) says so with :func:`page_shows`; its entry keeps
that area's clock and is drawn again once the clock moves. Browsers get an
ETag derived from the same clocks and a 304 when nothing changed.

The key names the page itself: the site root its absolute links start with
(SITE_URL, or the request's host once Flask has checked it against
TRUSTED_HOSTS), its path, and only the query parameters its view declares
(``@public_page(params=...)``). So utm_* tags and other junk share one entry,
and two hosts never share one. While the cache store is down, pages are drawn
uncached (``shop/cache_store.py``).

Each process keeps the clocks it read for ``CONTENT_STAMP_TTL`` seconds (2 by
default), so a cached page costs no query at all; a save in this process
forgets them at commit, so staff see their own change at once, and other
processes see it within the TTL.
"""

import gzip
import hashlib
from collections.abc import Callable
from functools import wraps
from typing import NamedTuple
from urllib.parse import urlencode

from flask import Response, current_app, g, request, session
from flask_login import current_user
from flask_login.config import COOKIE_NAME
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.http import quote_etag
from werkzeug.wrappers import Request as BaseRequest

from shop import content_clock
from shop.content_clock import Clock
from shop.extensions import cache
from shop.request_guards import address_has_control_characters
from shop.security_headers import public_headers
from shop.templating import site_root, site_root_of

_ADDED = "page_areas_added"  # on g while a page is drawn for the cache: the areas its view added
_ITEMS = "page_items_shown"  # on g while a page is drawn for the cache: the items it showed (page_shows_item)
# What a cached page holds (see _Entry). Part of the key, so entries another version of the shop
# left in Redis (the plain body too, or no clocks) are never read as this shape.
_FORMAT = 4


class ItemCheck(NamedTuple):
    """How pages follow one kind of item (a product's stock) without keying on a clock of it.

    ``position()`` says where this process has followed the item's changes to (a page drawn after reading
    it shows every change up to there); ``changed_since(item, position)`` whether the item changed after.
    """

    position: Callable[[], int]
    changed_since: Callable[[object, int], bool]


_item_checks: dict[str, ItemCheck] = {}


class _Entry(NamedTuple):
    """A cached page: gzipped body, mimetype, the clocks of areas its view added while drawing it, and the
    items it showed, each as (check, item, position)."""

    body: bytes
    mimetype: str
    added: tuple[Clock, ...]
    items: tuple[tuple[str, object, int], ...]


def public_page(*, params: tuple[str, ...] = (), areas: tuple[str, ...]):
    """Cache a page that is the same for every anonymous visitor; answer 304 to a matching ETag.

    ``params`` names the query parameters the page depends on. The view sees
    only those (others, such as utm_source or fbclid, are gone from
    ``request.args``), so every other parameter shares the cached entry.
    ``areas`` names the content the page shows ("catalog", "blog"): its entry
    goes stale when one of their clocks moves, and a save elsewhere leaves it be.
    A page that follows some kinds of an area item by item (:func:`page_shows_item`)
    names the kind it keys on instead ("catalog:content").
    """
    areas = tuple(content_clock.checked_page_area(area) for area in areas)

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            request.args = _only(request.args, params)
            # Staff see their own header, and a pending flash message is for one visitor only.
            if request.method not in ("GET", "HEAD") or "_flashes" in session or current_user.is_authenticated:
                return view(*args, **kwargs)
            return _cached_page(view, args, kwargs, areas)

        wrapper.cached_page = CachedPage(params, areas)  # what the shortcut needs to find the page's entry
        return wrapper

    return decorate


def page_shows(*areas: str) -> None:
    """The page being drawn shows these areas too (a post listing products: the catalog).

    Decide it from the content of the areas the page declared, never from
    another area's: a cached entry is found by the declared areas' clocks, and
    only then are the added ones checked.
    """
    added = g.get(_ADDED)
    if added is not None:  # drawn for the cache (not for staff, say)
        added.update(content_clock.checked_area(area) for area in areas)


def register_item_check(name: str, check: ItemCheck) -> None:
    """Let pages follow items of this kind one by one (see :func:`page_shows_item`)."""
    _item_checks[name] = check


def page_shows_item(name: str, item: object) -> None:
    """The page being drawn shows this item (a product's units): its entry is stale once the item changes.

    For a change that only a few pages show, so that it makes those pages stale and no other: the
    area's clock kind of it is followed per item (``content_clock.follow_per_item``) and the page keys on
    the area's other kinds ("catalog:content").
    """
    items = g.get(_ITEMS)
    if items is not None:
        items.add((name, item))


def _only(args: MultiDict, params: tuple[str, ...]) -> ImmutableMultiDict:
    """The query parameters named in ``params``, in that order, each with all its values in the order given."""
    return ImmutableMultiDict([(name, value) for name in params for value in args.getlist(name)])


def page_key(areas: tuple[str, ...], root: str, path: str, args: MultiDict) -> str:
    """A page's cache key: the clocks of its areas, the site root, its path and its own query parameters.

    The site root (SITE_URL, or the checked request host) is in the key because
    the page's absolute links are built on it, so two hosts never share an entry.
    """
    marks = ";".join(content_clock.page_reading(area).key for area in areas)
    return f"page:{_FORMAT}:{marks}:{root}{path}?{urlencode(list(args.items(multi=True)))}"


def _etag(key: str, entry: _Entry | None = None) -> str:
    text = key
    if entry is not None:
        text += "".join(f";{clock.key}" for clock in entry.added)
        text += "".join(f";{name}={item}@{position}" for name, item, position in entry.items)
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def _cached_page(view, args, kwargs, areas: tuple[str, ...]) -> Response:
    key = page_key(areas, site_root(), request.path, request.args)
    # A page that added no area nor item has the key's own ETag: answered without asking the cache store.
    if _etag(key) in request.if_none_match:
        return _not_modified(_etag(key))
    entry = _current_entry(key)
    hit = entry is not None
    if not hit:
        entry = _draw(view, args, kwargs)
        if isinstance(entry, Response):
            return entry
        cache.set(key, entry)
    etag = _etag(key, entry)
    if etag in request.if_none_match:
        return _not_modified(etag)
    response = _from_cache(entry, etag)
    if current_app.config["PAGE_CACHE_DIAGNOSTICS"]:  # the benchmark counts hits per page
        response.headers["X-Page-Cache"] = "hit" if hit else "miss"
    return response


def _current_entry(key: str) -> _Entry | None:
    """The entry cached under ``key``, unless an area the page added or an item it showed changed since."""
    entry = cache.get(key)
    if entry is None:
        return None
    areas_moved = any(content_clock.page_reading(clock.area).newer_than(clock) for clock in entry.added)
    if areas_moved or any(_item_checks[name].changed_since(item, at) for name, item, at in entry.items):
        return None
    return entry


def _draw(view, args, kwargs) -> _Entry | Response:
    """The page drawn for the cache, with the clocks of the areas it added and the items it showed; any other
    response as it is."""
    # Every clock and item position is read before the view reads content (one query, kept for the
    # request), so a change made while the page is drawn shows as a newer clock or a later position,
    # never as an older page under a newer one.
    clocks = {area: content_clock.page_reading(area) for area in content_clock.AREAS}
    positions = {name: check.position() for name, check in _item_checks.items()}
    setattr(g, _ADDED, set())
    setattr(g, _ITEMS, set())
    try:
        response = current_app.make_response(view(*args, **kwargs))
    finally:
        added, items = g.pop(_ADDED), g.pop(_ITEMS)
    if response.status_code != 200 or response.direct_passthrough:
        return response
    # Compressed once, when cached, and kept compressed (a tenth of the memory); the rare
    # client that takes no gzip gets it unpacked.
    body = gzip.compress(response.get_data(), compresslevel=6)
    shown = tuple((name, item, positions[name]) for name, item in sorted(items, key=repr))
    return _Entry(body, response.mimetype, tuple(clocks[area] for area in sorted(added)), shown)


def _from_cache(entry: _Entry, etag: str) -> Response:
    body, headers = _served(entry, etag, "gzip" in request.accept_encodings)
    return Response(body, headers=headers)


def _served(entry: _Entry, etag: str, gzipped: bool) -> tuple[bytes, list[tuple[str, str]]]:
    """A cached page's body and headers, gzipped for a client that takes it."""
    body = entry.body if gzipped else gzip.decompress(entry.body)
    headers = [("Content-Type", _content_type(entry.mimetype)), ("Content-Length", str(len(body)))]
    if gzipped:
        headers.append(("Content-Encoding", "gzip"))
    return body, [*headers, ("Vary", "Accept-Encoding, Cookie"), *_revalidation(etag)]


def _content_type(mimetype: str) -> str:
    return f"{mimetype}; charset=utf-8" if mimetype.startswith("text/") or mimetype.endswith("+xml") else mimetype


def _revalidation(etag: str) -> list[tuple[str, str]]:
    max_age = current_app.config["PUBLIC_PAGE_MAX_AGE"]
    return [("ETag", quote_etag(etag)), ("Cache-Control", f"public, max-age={max_age}")]


def _not_modified(etag: str) -> Response:
    return Response(status=304, headers=[("Vary", "Cookie"), *_revalidation(etag)])


# The shortcut: a hit served before Flask makes a request context


class CachedPage(NamedTuple):
    """What ``@public_page`` says of a view: the query parameters it reads and the areas it shows."""

    params: tuple[str, ...]
    areas: tuple[str, ...]


class CachedPageShortcut:
    """WSGI middleware: answer a page-cache hit for a visitor without a session, before Flask sees the request.

    A hit through Flask costs four times what it costs here (measured in the process: 300 µs against
    70 µs for the home page): a request context, the session, the sign-in and rate-limit hooks and a
    Response object, none of which a page the same for every visitor needs. So a GET or HEAD without a
    session or remember cookie, for a route that ``@public_page`` marks, whose entry is in the cache and
    current by the clocks this process read less than CONTENT_STAMP_TTL ago, is answered here, with the
    headers Flask's path would send (``security_headers.public_headers``, the same ETag, 304 included).
    Anything else (a miss, clocks due to be read, a host outside TRUSTED_HOSTS, a control character, an
    address that redirects or matches nothing) goes on to Flask, which answers it as before.
    """

    def __init__(self, app, wsgi_app):
        self.app, self.wsgi_app = app, wsgi_app
        self.cookies = (app.config["SESSION_COOKIE_NAME"], app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME))
        self.on = app.config["CACHE_TYPE"] != "NullCache" and app.config["CONTENT_STAMP_TTL"] > 0

    def __call__(self, environ, start_response):
        answer = self._guarded_hit(environ) if self.on and environ["REQUEST_METHOD"] in ("GET", "HEAD") else None
        if answer is None:
            return self.wsgi_app(environ, start_response)
        status, headers, body = answer
        start_response(status, headers)
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]

    def _guarded_hit(self, environ) -> tuple[str, list, bytes] | None:
        """The hit, or None; whatever goes wrong here (the database down while a product page checks its
        stock, say) is logged and left to Flask, which answers it with its error pages."""
        try:
            return self._hit(environ)
        except Exception:
            self.app.logger.exception("the page cache's shortcut failed; Flask answers the request")
            return None

    def _hit(self, environ) -> tuple[str, list, bytes] | None:
        cookies = environ.get("HTTP_COOKIE", "")
        if any(name in cookies for name in self.cookies):  # may be signed in, or have a message to see
            return None
        with self.app.app_context():
            readings = content_clock.kept_readings()
            if readings is None:
                return None
            content_clock.hold_readings(readings)
            visit = BaseRequest(environ)
            visit.trusted_hosts = self.app.config["TRUSTED_HOSTS"]
            try:
                root = site_root_of(self.app.config, visit)
                endpoint, _args = self.app.url_map.bind_to_environ(environ).match()
            except HTTPException:  # an untrusted host, a redirect, no such page: Flask answers
                return None
            page = getattr(self.app.view_functions.get(endpoint), "cached_page", None)
            if page is None or address_has_control_characters(visit.path, visit.args):
                return None
            key = page_key(page.areas, root, visit.path, _only(visit.args, page.params))
            entry = _current_entry(key)
            if entry is None:
                return None
            return self._answer(entry, _etag(key, entry), visit, environ)

    def _answer(self, entry: _Entry, etag: str, visit: BaseRequest, environ) -> tuple[str, list, bytes]:
        secure = environ.get("wsgi.url_scheme") == "https"
        if etag in visit.if_none_match:
            return "304 NOT MODIFIED", [("Vary", "Cookie"), *_revalidation(etag), *public_headers(secure)], b""
        body, headers = _served(entry, etag, "gzip" in visit.accept_encodings)
        if self.app.config["PAGE_CACHE_DIAGNOSTICS"]:
            headers.append(("X-Page-Cache", "hit"))
        return "200 OK", headers + public_headers(secure), body


def serve_hits_early(app) -> None:
    """Put the shortcut in front of the app (inside ProxyFix, which is added after it)."""
    app.wsgi_app = CachedPageShortcut(app, app.wsgi_app)
