"""The cache the shop uses: while its store (Redis) is down, pages are served uncached instead of failing."""

import sys
import time
from typing import Any

from flask import current_app
from flask_caching import Cache

# Where each app keeps when to try its store again (the Cache object is shared by every app in tests).
_STATE = "cellshop.cache_store"


class ResilientCache(Cache):
    """Flask-Caching's Cache whose ``get`` misses and ``set`` does nothing while the store fails.

    After a failure the store is left alone for CACHE_RETRY_AFTER seconds, so no
    request waits on a dead store, and the failure is logged once per pause, not
    once per request.
    """

    def get(self, *args: Any, **kwargs: Any) -> Any:
        """The cached value, or None when it is missing or the store is unavailable."""
        return self._call_store("get", None, *args, **kwargs)

    def set(self, *args: Any, **kwargs: Any) -> bool | None:
        """Store a value; False when the store is unavailable."""
        return self._call_store("set", False, *args, **kwargs)

    def _call_store(self, operation: str, fallback: Any, *args: Any, **kwargs: Any) -> Any:
        state = current_app.extensions.setdefault(_STATE, {"retry_at": 0.0, "down": False})
        if time.monotonic() < state["retry_at"]:
            return fallback
        try:
            result = getattr(self.cache, operation)(*args, **kwargs)
        except _store_errors() as error:  # the store is down or unreachable; a bug elsewhere still raises
            pause = current_app.config["CACHE_RETRY_AFTER"]
            state.update(retry_at=time.monotonic() + pause, down=True)
            current_app.logger.warning("Cache store unavailable (%s); serving uncached for %s s.", error, pause)
            return fallback
        if state["down"]:
            state["down"] = False
            current_app.logger.warning("Cache store available again.")
        return result


def _store_errors() -> tuple[type[Exception], ...]:
    """What a store that is down raises: OSError, and Redis's errors when Redis is the store.

    redis is imported by the Redis store only (a web worker on the in-process cache saves its 6 MB), and
    without it imported none of its errors can be raised.
    """
    redis = sys.modules.get("redis.exceptions")
    return (OSError, redis.RedisError) if redis is not None else (OSError,)
