"""Caching of public pages: in this process or Redis, and in browsers by ETag.

Pages that are the same for every visitor (home, catalog, product, blog,
feeds, sitemap) are cached whole for anonymous GET requests. The cache key
holds the *content stamp*: when staff save a catalog or blog row, the same
transaction moves the stamp on (see ``_touch_content``), so every cached
page is stale at once, in every process, without tracking which page shows
what. A scheduled post whose time has come also moves the stamp, by the
count in ``content_stamp``. Browsers get an ETag derived from the same key
and a 304 when nothing changed.

The key names the page itself: the site root its absolute links start with
(SITE_URL, or the request's host once Flask has checked it against
TRUSTED_HOSTS), its path, and only the query parameters its view declares
(``@public_page(params=...)``). So utm_* tags and other junk share one entry,
and two hosts never share one. While the cache store is down, pages are drawn
uncached (``shop/cache_store.py``).

Each process keeps the stamp it read for ``CONTENT_STAMP_TTL`` seconds (2 by
default), so a cached page costs no query at all; a save in this process
forgets it at commit, so staff see their own change at once, and other
processes see it within the TTL.
"""

import gzip
import hashlib
import time
from datetime import UTC, datetime
from functools import wraps
from urllib.parse import urlencode

from flask import Response, current_app, has_app_context, has_request_context, request, session
from flask_login import current_user
from sqlalchemy import Integer, event, func, insert, select, update
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.datastructures import ImmutableMultiDict, MultiDict

from shop.extensions import cache, db
from shop.models import UTCDateTime, utcnow
from shop.templating import site_root

_content_models: set[type] = set()
# What a cached page holds: (gzipped body, mimetype). Part of the key, so entries another version of
# the shop left in Redis (which held the plain body too) are never read as this shape.
_FORMAT = 2
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class SiteState(db.Model):
    """One row: when the public content last changed."""

    __tablename__ = "site_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def track_content(*models: type) -> None:
    """Saving rows of these models makes every cached page stale."""
    _content_models.update(models)


@event.listens_for(db.session, "before_flush")
def _touch_content(session, flush_context, instances) -> None:
    """Move the content stamp on in the transaction that changes public content."""
    changed = (*session.new, *session.dirty, *session.deleted)
    if _content_models and any(type(obj) in _content_models for obj in changed):
        session.info["content_changed"] = True


@event.listens_for(db.session, "after_flush")
def _write_stamp(session, flush_context) -> None:
    if session.info.pop("content_changed", False):
        mark_content_changed()


@event.listens_for(db.session, "after_commit")
def _forget_stamp(session) -> None:
    """A commit that moved the stamp: this process reads it again on its next request."""
    if session.info.pop("stamp_moved", False) and has_app_context():
        current_app.extensions.pop("cellshop.content_stamp", None)


def mark_content_changed() -> None:
    """Move the content stamp on, in the current transaction (for bulk writes that skip the ORM)."""
    db.session.info["stamp_moved"] = True
    connection = db.session.connection()
    if connection.execute(update(SiteState).values(content_changed_at=utcnow())).rowcount == 0:
        connection.execute(insert(SiteState).values(id=1, content_changed_at=utcnow()))


def content_stamp() -> str:
    """A string that changes whenever what the public sees may have changed (one small query per request)."""
    if not has_request_context():
        return _read_content_stamp()
    # Kept on the request (not on g, which tests share across requests) so it is read once per request.
    environ = request.environ
    if "cellshop.content_stamp" not in environ:
        environ["cellshop.content_stamp"] = _process_stamp()
    return environ["cellshop.content_stamp"]


def _process_stamp() -> str:
    """The stamp this process read less than CONTENT_STAMP_TTL seconds ago, or a fresh reading."""
    ttl = current_app.config["CONTENT_STAMP_TTL"]
    kept = current_app.extensions.get("cellshop.content_stamp")
    now = time.monotonic()
    if kept is not None and now < kept[1]:
        return kept[0]
    stamp = _read_content_stamp()
    if ttl > 0:
        current_app.extensions["cellshop.content_stamp"] = (stamp, now + ttl)
    return stamp


def _read_content_stamp() -> str:
    from shop.blog.models import Post  # the blog sits above this module's users; imported late

    changed_at = select(SiteState.content_changed_at).where(SiteState.id == 1).scalar_subquery()
    since = func.coalesce(changed_at, EPOCH)  # the row only goes missing when a test empties tables
    now = utcnow()
    # Scheduled posts that went live since the last change: their time passing changes pages too.
    went_live = (
        select(func.count(Post.id))
        .where(Post.status == "scheduled", Post.published_at > since, Post.published_at <= now)
        .scalar_subquery()
    )
    row = db.session.execute(select(changed_at.label("at"), went_live.label("live"))).one()
    at = row.at.timestamp() if isinstance(row.at, datetime) else row.at
    return f"{at}:{row.live}"


def public_page(*, params: tuple[str, ...] = ()):
    """Cache a page that is the same for every anonymous visitor; answer 304 to a matching ETag.

    ``params`` names the query parameters the page depends on. The view sees
    only those (others, such as utm_source or fbclid, are gone from
    ``request.args``), so every other parameter shares the cached entry.
    """

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            request.args = _only(request.args, params)
            # Staff see their own header, and a pending flash message is for one visitor only.
            if request.method not in ("GET", "HEAD") or "_flashes" in session or current_user.is_authenticated:
                return view(*args, **kwargs)
            return _cached_page(view, args, kwargs)

        return wrapper

    return decorate


def _only(args: MultiDict, params: tuple[str, ...]) -> ImmutableMultiDict:
    """The query parameters named in ``params``, in that order, each with all its values in the order given."""
    return ImmutableMultiDict([(name, value) for name in params for value in args.getlist(name)])


def _page_key() -> str:
    """The cache key of this request's page: content stamp, site root, path and the page's own parameters.

    The site root (SITE_URL, or the checked request host) is in the key because
    the page's absolute links are built on it, so two hosts never share an entry.
    """
    query = urlencode(list(request.args.items(multi=True)))
    return f"page:{_FORMAT}:{content_stamp()}:{site_root()}{request.path}?{query}"


def _cached_page(view, args, kwargs) -> Response:
    key = _page_key()
    etag = hashlib.blake2b(key.encode(), digest_size=12).hexdigest()
    if etag in request.if_none_match:
        return _not_modified(etag)
    cached = cache.get(key)
    if cached is None:
        response = current_app.make_response(view(*args, **kwargs))
        if response.status_code != 200 or response.direct_passthrough:
            return response
        # Compressed once, when cached, and kept compressed (a tenth of the memory); the rare
        # client that takes no gzip gets it unpacked.
        cached = (gzip.compress(response.get_data(), compresslevel=6), response.mimetype)
        cache.set(key, cached)
    return _from_cache(cached, etag)


def _from_cache(cached: tuple[bytes, str], etag: str) -> Response:
    compressed, mimetype = cached
    response = Response(mimetype=mimetype)
    if "gzip" in request.accept_encodings:
        response.set_data(compressed)
        response.content_encoding = "gzip"
    else:
        response.set_data(gzip.decompress(compressed))
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
