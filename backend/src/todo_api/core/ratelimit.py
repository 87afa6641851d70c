"""Rate limits kept in process memory: "N/period" allows a burst of N, then one more every
period/N (the generic cell rate algorithm: one timestamp per key, O(1) per check).

Each backend replica counts on its own: with N replicas a client gets at most N times the limit,
which still stops password guessing and chat floods. Use a shared store to make it global.

(The `limits` library's asyncio memory storage, used before, started a sweep over every key
after each hit, with a thread hand-off per key: most of a chat turn's CPU at 1,000 users.)
"""

from __future__ import annotations

import math
import time
from functools import lru_cache

from limits import RateLimitItem, parse

# Keys whose allowance is full again are dropped once this many are kept.
PRUNE_ABOVE_KEYS = 50_000


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many requests; retry in {retry_after} s")
        self.retry_after = retry_after


class RateLimiter:
    def __init__(self) -> None:
        # key -> the time at which the key's allowance is completely refilled
        self._full_at: dict[str, float] = {}

    @staticmethod
    @lru_cache(maxsize=16)  # the specs come from settings: a handful, parsed on every request
    def parse(spec: str) -> RateLimitItem:
        return parse(spec)

    async def check(self, item: RateLimitItem, *keys: str) -> None:
        """Raise RateLimited if any key has used up its allowance (does not count a hit)."""
        now = time.monotonic()
        for key in keys:
            wait = self._wait(item, key, now)
            if wait > 0:
                raise RateLimited(max(1, math.ceil(wait)))

    async def hit(self, item: RateLimitItem, *keys: str) -> None:
        now = time.monotonic()
        interval = item.get_expiry() / item.amount
        for key in keys:
            self._full_at[key] = max(self._full_at.get(key, now), now) + interval
        if len(self._full_at) > PRUNE_ABOVE_KEYS:
            self._full_at = {k: t for k, t in self._full_at.items() if t > now}

    async def consume(self, item: RateLimitItem, *keys: str) -> None:
        """Count a hit for every key, raising RateLimited when one is over its allowance."""
        await self.check(item, *keys)
        await self.hit(item, *keys)

    async def reset(self) -> None:
        self._full_at.clear()

    def _wait(self, item: RateLimitItem, key: str, now: float) -> float:
        """Seconds until `key` may make one more request (<= 0: it may now)."""
        full_at = self._full_at.get(key)
        if full_at is None:
            return 0.0
        interval = item.get_expiry() / item.amount
        # One more hit would push full_at past now + period: the burst is used up.
        return full_at + interval - (now + item.get_expiry())
