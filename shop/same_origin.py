"""Same-origin checks for forms on cached public pages, which can't carry a session's CSRF token.

A page served from the whole-page cache is the same for every visitor, so a
form on it (the blog's subscribe box) has no per-visitor token. Browsers say
where a request comes from in headers no page can set: ``Sec-Fetch-Site``
(current browsers) and ``Origin`` (on every cross-origin request, and on
same-origin POSTs). A POST is accepted only when each header that is present
says "this site", and at least one is present; a client that sends neither
(an old browser, a script) is refused too.
"""

from functools import wraps
from urllib.parse import urlsplit

from flask import abort, request

from shop.templating import site_root

REFUSED = (
    "This form can only be sent from a page on this site. If you followed a link or a form elsewhere to get here, "
    "open the page on our site and send it from there."
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of a URL, ports spelled out, or None when it isn't an http(s) origin."""
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port


def is_same_origin() -> bool:
    """Whether the browser says this request comes from a page of this site."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    origin = request.headers.get("Origin")
    if fetch_site is None and origin is None:
        return False
    if fetch_site is not None and fetch_site != "same-origin":
        return False
    return origin is None or (_origin(origin) is not None and _origin(origin) == _origin(site_root()))


def same_origin_only(view):
    """Refuse (403, nothing done) a POST that the browser doesn't say comes from this site."""

    @wraps(view)
    def checked(*args, **kwargs):
        if request.method == "POST" and not is_same_origin():
            abort(403, description=REFUSED)
        return view(*args, **kwargs)

    return checked
