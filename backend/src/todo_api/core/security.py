"""Password hashing (argon2, off the event loop, bounded) and JWT access tokens (HS256)."""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import anyio.to_thread
import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from todo_api.models import MAX_ID

ALGORITHM = "HS256"
_T = TypeVar("_T")
_hasher = PasswordHasher()
# A real hash to verify against when the email is unknown, so both failures cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-but-costs-the-same")


class InvalidToken(Exception):
    pass


class HashingBusy(Exception):
    """No password-hashing slot came free in time (the API answers 503 with Retry-After)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("The server is busy signing people in; please retry shortly")
        self.retry_after = retry_after


class PasswordHashing:
    """argon2 hashes and checks in worker threads, at most `concurrency` at a time.

    Each costs 64 MiB and ~0.25 s of CPU on 4 lanes: unbounded (any thread the pool had), a
    burst of logins took the memory of a pod and the CPU of every other request. The rest
    wait their turn, first come first served, for at most `max_wait_seconds`, so a request
    fails fast (503) instead of outliving its client or proxy timeout.
    """

    def __init__(self, concurrency: int, max_wait_seconds: float) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self._max_wait = max_wait_seconds
        self._retry_after = max(1, math.ceil(max_wait_seconds))

    async def hash(self, password: str) -> str:
        return await self._run(_hash, password)

    async def verify(self, password: str, password_hash: str | None) -> bool:
        """Whether the password matches; an unknown account (None) costs the same and fails."""
        return await self._run(_verify, password, password_hash)

    async def _run(self, work: Callable[..., _T], *args: Any) -> _T:
        try:
            async with asyncio.timeout(self._max_wait):
                await self._slots.acquire()
        except TimeoutError:
            raise HashingBusy(self._retry_after) from None
        try:
            return await anyio.to_thread.run_sync(work, *args)
        finally:
            self._slots.release()


def _hash(password: str) -> str:
    return _hasher.hash(password)


def _verify(password: str, password_hash: str | None) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


# A token names its account by id: decimal ASCII digits, no sign, space or leading zero, and in
# the range of the id columns (32-bit INTEGER on PostgreSQL), so no other spelling of an id
# (" 1", Arabic-Indic digits, "1_0") and no number a query could not bind ever reaches the database.
_SUBJECT = re.compile(r"[1-9][0-9]{0,9}")
_US = timedelta(microseconds=1)
# Longer than any token this API issues (ACCESS_TOKEN_EXPIRE_MINUTES is at most 30 days): a
# token claiming more is not one of ours, however it is signed.
MAX_TOKEN_LIFETIME_SECONDS = 31 * 24 * 3600
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: int
    issued_at_us: int  # `iat` in microseconds since the epoch
    expires: float  # `exp` as a Unix time


def epoch_microseconds(moment: datetime) -> int:
    """A datetime as whole microseconds since the epoch (exact, unlike float timestamps)."""
    return (moment - _EPOCH) // _US


def parse_id(value: object) -> int | None:
    """The id an untrusted string names, or None (see `_SUBJECT`)."""
    if not isinstance(value, str) or not _SUBJECT.fullmatch(value):
        return None
    number = int(value)
    return number if number <= MAX_ID else None


def create_access_token(
    user_id: int, secret: str, expire_minutes: int, *, issued_at: datetime | None = None
) -> str:
    """A signed token for the account. `iat` carries microseconds: the auth dependency accepts
    it only for an account created at or before that instant (see `token_fits_account`)."""
    now = datetime.now(UTC)
    issued = max(now, issued_at) if issued_at is not None else now
    payload = {
        "sub": str(user_id),
        "iat": epoch_microseconds(issued) / 1_000_000,
        "exp": now + timedelta(minutes=expire_minutes),
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def token_fits_account(claims: TokenClaims, account_created_at: datetime) -> bool:
    """Whether the token was issued to this account and not to an earlier holder of its id
    (a database restored or recreated from scratch numbers its accounts again)."""
    return claims.issued_at_us >= epoch_microseconds(account_created_at)


def _decode(token: str, secret: str) -> TokenClaims:
    """The claims of a valid token; InvalidToken for anything else."""
    try:
        payload = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "iat", "sub"]}
        )
        # Floats bound both: a validly signed but absurd number is a bad token, not a crash.
        expires, issued = float(payload["exp"]), float(payload["iat"])
        issued_at_us = round(issued * 1_000_000)
    except (jwt.PyJWTError, ValueError, TypeError, OverflowError) as exc:
        raise InvalidToken(str(exc)) from None
    user_id = parse_id(payload["sub"])
    if user_id is None or not 0 < expires - issued <= MAX_TOKEN_LIFETIME_SECONDS:
        raise InvalidToken("bad subject or lifetime")
    return TokenClaims(user_id, issued_at_us, expires)


class TokenVerifier:
    """Checks access tokens and remembers the ones that passed until they expire.

    A token is immutable and signed, so once its signature checked out, the same string carries
    the same claims until its `exp`; a repeat costs a dict lookup instead of base64, JSON and
    HMAC work (the largest part of an authenticated request's own CPU after the query). Whether
    the account still exists is not remembered: the auth dependency asks the database.
    """

    def __init__(self, secret: str, max_entries: int = 10_000) -> None:
        self._secret = secret
        self._max_entries = max_entries
        self._verified: dict[str, TokenClaims] = {}

    def claims(self, token: str) -> TokenClaims:
        """The claims of a valid token; raise InvalidToken for anything else."""
        hit = self._verified.get(token)
        if hit is not None:
            if time.time() < hit.expires:
                return hit
            del self._verified[token]
        claims = _decode(token, self._secret)
        if len(self._verified) >= self._max_entries:
            del self._verified[next(iter(self._verified))]  # drop the oldest entry
        self._verified[token] = claims
        return claims

    def user_id(self, token: str) -> int:
        """The user id in a valid token (signature and expiry only; see `claims`)."""
        return self.claims(token).user_id
