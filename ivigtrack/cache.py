"""The cache on Redis, degrading instead of failing when Redis is down.

Django's RedisCache raises when Redis is unreachable, so a frozen or stopped Redis turned the
token endpoint (DRF's throttle counters) and the timeline charts into 500s. This backend answers
as a cache that holds nothing: reads miss, writes are dropped, and the circuit
(`ivigtrack.circuit.cache_circuit`) skips Redis for a few seconds after a failure so no request
waits for more than one socket timeout. Throttles are not enforced while Redis is down (logged):
the login lockout (django-axes) is in the database and still holds.
"""

from __future__ import annotations

import logging

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

from ivigtrack.circuit import cache_circuit

log = logging.getLogger(__name__)
_MISSING = object()


def _degrading(name: str, fallback):
    method = getattr(RedisCache, name)

    def call(self, *args, **kwargs):
        if cache_circuit.is_open:
            return fallback(*args, **kwargs)
        try:
            return method(self, *args, **kwargs)
        except (RedisError, OSError) as exc:
            cache_circuit.trip(exc)
            return fallback(*args, **kwargs)

    call.__name__ = name
    call.__doc__ = method.__doc__
    return call


def _get_default(key, default=None, version=None):
    return default


def _incr(key, delta=1, version=None):
    raise ValueError(f"Key '{key}' not found (the cache is unavailable).")


class DegradingRedisCache(RedisCache):
    add = _degrading("add", lambda *a, **k: False)
    get = _degrading("get", _get_default)
    set = _degrading("set", lambda *a, **k: None)
    touch = _degrading("touch", lambda *a, **k: False)
    delete = _degrading("delete", lambda *a, **k: False)
    get_many = _degrading("get_many", lambda *a, **k: {})
    has_key = _degrading("has_key", lambda *a, **k: False)
    incr = _degrading("incr", _incr)
    set_many = _degrading("set_many", lambda *a, **k: list(a[0]) if a else [])
    delete_many = _degrading("delete_many", lambda *a, **k: None)
    clear = _degrading("clear", lambda *a, **k: False)
