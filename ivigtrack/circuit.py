"""A tiny process-local circuit breaker for Redis (the cache and the Celery broker).

When a call to Redis fails (refused, or no answer within its socket timeout), the circuit opens
for `cooldown` seconds: callers skip Redis at once instead of each waiting for the timeout
again, so a frozen Redis costs one request at most a timeout, and the rest nothing. After the
cooldown one call tries again."""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger(__name__)


class Circuit:
    def __init__(self, name: str, cooldown: float = 15.0) -> None:
        self.name = name
        self.cooldown = cooldown
        self._open_until = 0.0
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return time.monotonic() < self._open_until

    def trip(self, exc: BaseException) -> None:
        with self._lock:
            if not self.is_open:
                log.warning("%s unreachable (%s: %s); skipping it for %.0f s", self.name, type(exc).__name__, exc,
                            self.cooldown)  # fmt: skip
            self._open_until = time.monotonic() + self.cooldown

    def close(self) -> None:
        self._open_until = 0.0


cache_circuit = Circuit("cache (Redis)")
broker_circuit = Circuit("broker (Redis)")
