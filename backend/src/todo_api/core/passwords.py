"""Which passwords an account may have, and what makes two emails the same account: one place
for the sign-up rules (used by schemas.SignupIn and services.users)."""

from __future__ import annotations

import gzip
import unicodedata
from functools import cache
from importlib import resources

MIN_LENGTH = 8
MAX_LENGTH = 128


def normalize_email(email: str) -> str:
    """The form an email is stored, looked up and rate-limited under: NFKC folds compatibility
    twins (full-width letters, ligatures) into one form and casefold() is the Unicode-wide lower
    case, so a full-width twin of `alice@example.com` (U+FF41...) is the same account."""
    return unicodedata.normalize("NFKC", email.strip()).casefold()


@cache
def common_passwords() -> frozenset[str]:
    """19,640 common passwords, lowercased (see data/common-passwords.LICENSE for the source)."""
    data = resources.files("todo_api.data").joinpath("common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode("utf-8").split())


def password_problem(password: str, email: str | None = None) -> str | None:
    """Why `password` is too weak for an account with `email`, as a sentence; None if it is fine."""
    if len(password) < MIN_LENGTH:
        return f"The password must be at least {MIN_LENGTH} characters long"
    if len(set(password)) == 1:
        return "One character repeated is too easy to guess; choose another password"
    folded = unicodedata.normalize("NFKC", password).casefold()
    if folded.strip() in common_passwords():
        return "This is one of the most commonly used passwords; choose one that is harder to guess"
    if email:
        address = normalize_email(email)
        if folded in {address, address.rpartition("@")[0]}:
            return "The password must not be your email address or the part of it before the @"
    return None
