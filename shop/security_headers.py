"""Security headers on every response, and the client's real address behind a proxy.

Written here rather than with Flask-Talisman 1.1.0, which was considered: it
redirects http to https unless told not to, sets ``SESSION_COOKIE_SECURE`` on the
first request outside debug mode (``make run`` serves plain http, so signing in
would break), and decides on HSTS and the redirect from a raw
``X-Forwarded-Proto`` header that any client can send, whatever proxy is
trusted. What the shop needs is one after-request hook and a nonce for the back
office only, a few lines with none of those defaults to switch off.

Public pages use static files only: they are cached whole, and a nonce in a
cached page would be the same for every visitor. The back office (never
cached) gets a fresh nonce per request for Flask-Admin's own inline tags.
"""

import secrets

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

# No 'unsafe-inline' and no other origin: scripts and styles come from our static files.
# data: images are Bootstrap's inline SVG icons (select arrows, the navbar toggler).
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# Powerful browser features the shop never uses, refused for it and anything it embeds.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer", "autoplay", "camera", "display-capture", "geolocation", "gyroscope",
        "magnetometer", "microphone", "midi", "payment", "usb", "xr-spatial-tracking",
    )
)  # fmt: skip
FIXED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
}
# A year; browsers only honour it when it arrives over HTTPS, and it is only sent then.
STRICT_TRANSPORT_SECURITY = "max-age=31536000"
_NONCE_KEY = "cellshop.csp_nonce"
_OWN_POLICY_KEY = "cellshop.csp_own_policy"


def csp_nonce() -> str:
    """This request's nonce for inline tags (made on first use; the policy then allows it)."""
    # Kept in the request's environ: one per request, whatever app context the request runs in.
    return request.environ.setdefault(_NONCE_KEY, secrets.token_urlsafe(16))


def content_security_policy(nonce: str | None) -> str:
    """The policy header, allowing inline scripts and styles that carry ``nonce`` if one is given."""
    policy = dict(CONTENT_SECURITY_POLICY)
    if nonce:
        for directive in ("script-src", "style-src"):
            policy[directive] += f" 'nonce-{nonce}'"
    return "; ".join(f"{directive} {sources}" for directive, sources in policy.items())


_SITE_POLICY = content_security_policy(None)
# Over http and over https (which adds HSTS), as add_security_headers would send them.
_PUBLIC_HEADERS = {
    secure: (
        *FIXED_HEADERS.items(),
        ("Content-Security-Policy", _SITE_POLICY),
        *((("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY),) if secure else ()),
    )
    for secure in (False, True)
}


def use_own_policy(policy: dict[str, str]) -> None:
    """Send this request's response with ``policy`` instead of the site's (an e-mail's HTML in a sandboxed frame).

    For a document the shop did not write the markup of, to be framed by a
    back-office page: it gets a policy of its own that is stricter where it
    matters (no scripts at all, ``sandbox``), and may be framed by the shop only.
    """
    request.environ[_OWN_POLICY_KEY] = policy


def public_headers(secure: bool) -> list[tuple[str, str]]:
    """The headers of a response without a nonce or a policy of its own (a cached page, say)."""
    return list(_PUBLIC_HEADERS[secure])


def add_security_headers(response):
    """Add the headers to a response, error pages, 304s and cached pages alike."""
    own = request.environ.get(_OWN_POLICY_KEY)
    if own is not None and own.get("frame-ancestors") == "'self'":
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    for name, value in FIXED_HEADERS.items():
        response.headers.setdefault(name, value)
    if own is not None:
        response.headers["Content-Security-Policy"] = "; ".join(f"{d} {s}".strip() for d, s in own.items())
    else:
        nonce = request.environ.get(_NONCE_KEY)
        response.headers["Content-Security-Policy"] = content_security_policy(nonce) if nonce else _SITE_POLICY
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    return response


def trust_proxies(app: Flask) -> None:
    """Behind a proxy, take the client's address, scheme and host from the X-Forwarded-* headers it sets."""
    counts = {name: app.config.get(f"PROXY_FIX_{name.upper()}", 0) for name in ("x_for", "x_proto", "x_host")}
    # Only as many hops as there are proxies: a client can put anything in these headers itself.
    if any(counts.values()):
        app.wsgi_app = ProxyFix(app.wsgi_app, **counts)


def init_app(app: Flask) -> None:
    """Send the headers on every response; trust the configured proxies."""
    app.after_request(add_security_headers)
    trust_proxies(app)
