"""Password hashing (argon2, off the event loop) and JWT access tokens (HS256)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import anyio.to_thread
import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ALGORITHM = "HS256"
_hasher = PasswordHasher()
# A real hash to verify against when the email is unknown, so both failures cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-but-costs-the-same")


class InvalidToken(Exception):
    pass


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_hasher.hash, password)


async def verify_password(password: str, password_hash: str | None) -> bool:
    def _verify() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
        except (VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(_verify)


def create_access_token(user_id: int, secret: str, expire_minutes: int) -> str:
    now = datetime.now(UTC)
    payload = {"sub": str(user_id), "iat": now, "exp": now + timedelta(minutes=expire_minutes)}
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def decode_access_token(token: str, secret: str) -> int:
    """Return the user id in a valid token; raise InvalidToken for anything else."""
    return _decode(token, secret)[0]


def _decode(token: str, secret: str) -> tuple[int, float]:
    """(user id, expiry as a Unix time) of a valid token; InvalidToken for anything else."""
    try:
        payload = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}
        )
        user_id, expires = int(payload["sub"]), float(payload["exp"])
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise InvalidToken(str(exc)) from None
    if user_id < 1:
        raise InvalidToken("bad subject")
    return user_id, expires


class TokenVerifier:
    """Checks access tokens and remembers the ones that passed until they expire.

    A token is immutable and signed, so once its signature checked out, the same string carries
    the same user id until its `exp`; a repeat costs a dict lookup instead of base64, JSON and
    HMAC work (the largest part of an authenticated request's own CPU after the query).
    """

    def __init__(self, secret: str, max_entries: int = 10_000) -> None:
        self._secret = secret
        self._max_entries = max_entries
        self._verified: dict[str, tuple[int, float]] = {}  # token -> (user id, exp)

    def user_id(self, token: str) -> int:
        """The user id in a valid token; raise InvalidToken for anything else."""
        hit = self._verified.get(token)
        if hit is not None:
            user_id, expires = hit
            if time.time() < expires:
                return user_id
            del self._verified[token]
        user_id, expires = _decode(token, self._secret)
        if len(self._verified) >= self._max_entries:
            del self._verified[next(iter(self._verified))]  # drop the oldest entry
        self._verified[token] = (user_id, expires)
        return user_id
