"""Fixed-window rate limits (the `limits` library), kept in process memory.

Each backend replica counts on its own: with N replicas a client gets at most N times the limit,
which still stops password guessing and chat floods. Use a shared store to make it global.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many requests; retry in {retry_after} s")
        self.retry_after = retry_after


class RateLimiter:
    def __init__(self) -> None:
        self._storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(self._storage)

    @staticmethod
    def parse(spec: str) -> RateLimitItem:
        return parse(spec)

    async def check(self, item: RateLimitItem, *keys: str) -> None:
        """Raise RateLimited if any key has used up its allowance (does not count a hit)."""
        for key in keys:
            if not await self._limiter.test(item, key):
                stats = await self._limiter.get_window_stats(item, key)
                raise RateLimited(max(1, math.ceil(stats.reset_time - time.time())))

    async def hit(self, item: RateLimitItem, *keys: str) -> None:
        for key in keys:
            await self._limiter.hit(item, key)

    async def consume(self, item: RateLimitItem, *keys: str) -> None:
        """Count a hit for every key, raising RateLimited when one is over its allowance."""
        await self.check(item, *keys)
        await self.hit(item, *keys)

    async def reset(self) -> None:
        await self._storage.reset()
