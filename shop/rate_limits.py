"""What the forms open to anyone count beyond Flask-Limiter's per-route limits, and how they say when to try again.

Flask-Limiter counts requests per client address on the route itself; a form
that also counts what was typed (an e-mail address) hits a limit of its own here,
in the same storage (memory, or Redis with REDIS_URL).
"""

from datetime import UTC, datetime

from flask import current_app
from limits import parse

from shop.extensions import limiter


def retry_after(limit, at_least: int = 60) -> int:
    """Seconds until a limit that was hit lets the next request through (never fewer than ``at_least``)."""
    return max(at_least, limit.reset_at - int(datetime.now(UTC).timestamp()))


def in_minutes(seconds: int) -> int:
    """Whole minutes, rounded up, as a page tells the wait."""
    return -(-seconds // 60)


def allowed(setting: str, scope: str, value: str) -> bool:
    """Count one use of ``value`` (an e-mail address) against the limit in config[setting]; False once past it."""
    return limiter.limiter.hit(parse(current_app.config[setting]), scope, value)
