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
from functools import wraps
from typing import NamedTuple
from urllib.parse import urlencode

from flask import Response, current_app, g, request, session
from flask_login import current_user
from werkzeug.datastructures import ImmutableMultiDict, MultiDict

from shop import content_clock
from shop.content_clock import Clock
from shop.extensions import cache
from shop.templating import site_root

_ADDED = "page_areas_added"  # on g while a page is drawn for the cache: the areas its view added
# What a cached page holds (see _Entry). Part of the key, so entries another version of the shop
# left in Redis (the plain body too, or no clocks) are never read as this shape.
_FORMAT = 3


class _Entry(NamedTuple):
    """A cached page: gzipped body, mimetype, and the clocks of areas its view added while drawing it."""

    body: bytes
    mimetype: str
    added: tuple[Clock, ...]


def public_page(*, params: tuple[str, ...] = (), areas: tuple[str, ...]):
    """Cache a page that is the same for every anonymous visitor; answer 304 to a matching ETag.

    ``params`` names the query parameters the page depends on. The view sees
    only those (others, such as utm_source or fbclid, are gone from
    ``request.args``), so every other parameter shares the cached entry.
    ``areas`` names the content the page shows ("catalog", "blog"): its entry
    goes stale when one of their clocks moves, and a save elsewhere leaves it be.
    """
    areas = tuple(content_clock.checked_area(area) for area in areas)

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            request.args = _only(request.args, params)
            # Staff see their own header, and a pending flash message is for one visitor only.
            if request.method not in ("GET", "HEAD") or "_flashes" in session or current_user.is_authenticated:
                return view(*args, **kwargs)
            return _cached_page(view, args, kwargs, areas)

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


def _only(args: MultiDict, params: tuple[str, ...]) -> ImmutableMultiDict:
    """The query parameters named in ``params``, in that order, each with all its values in the order given."""
    return ImmutableMultiDict([(name, value) for name in params for value in args.getlist(name)])


def _page_key(areas: tuple[str, ...]) -> str:
    """The cache key of this request's page: its areas' clocks, site root, path and the page's own parameters.

    The site root (SITE_URL, or the checked request host) is in the key because
    the page's absolute links are built on it, so two hosts never share an entry.
    """
    clocks = ";".join(content_clock.reading(area).key for area in areas)
    query = urlencode(list(request.args.items(multi=True)))
    return f"page:{_FORMAT}:{clocks}:{site_root()}{request.path}?{query}"


def _etag(key: str, added: tuple[Clock, ...] = ()) -> str:
    text = key + "".join(f";{clock.key}" for clock in added)
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def _cached_page(view, args, kwargs, areas: tuple[str, ...]) -> Response:
    key = _page_key(areas)
    # A page that added no area has the key's own ETag: answered without asking the cache store.
    if _etag(key) in request.if_none_match:
        return _not_modified(_etag(key))
    entry = cache.get(key)
    hit = entry is not None and not _outdated(entry)
    if not hit:
        entry = _draw(view, args, kwargs)
        if isinstance(entry, Response):
            return entry
        cache.set(key, entry)
    etag = _etag(key, entry.added)
    if etag in request.if_none_match:
        return _not_modified(etag)
    response = _from_cache(entry, etag)
    if current_app.config["PAGE_CACHE_DIAGNOSTICS"]:  # the benchmark counts hits per page
        response.headers["X-Page-Cache"] = "hit" if hit else "miss"
    return response


def _outdated(entry: _Entry) -> bool:
    """Whether an area the page added has changed since the page was drawn."""
    return any(content_clock.reading(clock.area).newer_than(clock) for clock in entry.added)


def _draw(view, args, kwargs) -> _Entry | Response:
    """The page drawn for the cache, with the clocks of the areas it added; any other response as it is."""
    # Every clock is read before the view reads content (one query, kept for the request), so a change
    # made while the page is drawn shows as a newer clock, never as an older page under a newer clock.
    clocks = {area: content_clock.reading(area) for area in content_clock.AREAS}
    setattr(g, _ADDED, set())
    try:
        response = current_app.make_response(view(*args, **kwargs))
    finally:
        added = g.pop(_ADDED)
    if response.status_code != 200 or response.direct_passthrough:
        return response
    # Compressed once, when cached, and kept compressed (a tenth of the memory); the rare
    # client that takes no gzip gets it unpacked.
    body = gzip.compress(response.get_data(), compresslevel=6)
    return _Entry(body, response.mimetype, tuple(clocks[area] for area in sorted(added)))


def _from_cache(entry: _Entry, etag: str) -> Response:
    response = Response(mimetype=entry.mimetype)
    if "gzip" in request.accept_encodings:
        response.set_data(entry.body)
        response.content_encoding = "gzip"
    else:
        response.set_data(gzip.decompress(entry.body))
    response.vary.add("Accept-Encoding")
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = current_app.config["PUBLIC_PAGE_MAX_AGE"]
    response.vary.add("Cookie")
    return response


def _not_modified(etag: str) -> Response:
    response = Response(status=304)
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = current_app.config["PUBLIC_PAGE_MAX_AGE"]
    response.vary.add("Cookie")
    return response
