"""Stored emails take the form sign-up and sign-in now look them up by: NFKC + casefold.

Accounts created before that change were stored as `email.strip().lower()`, which differs from
the new form for compatibility twins and full case folding (full-width letters, the `ﬁ`
ligature, `ß` → `ss`): such an account could no longer sign in, because login compares the
normalised input with the stored value. Each stored email is rewritten to the normalised form.

Collisions: the old form let twins be separate accounts (`alice@x.io` spelt with a full-width
`a`, U+FF41, beside `alice@x.io`).
An address already stored in normalised form stays with its account (it is the one that signs
in today; moving it would hand that login to another account). Otherwise, of the rows that
normalise to the same free address, the oldest (lowest id: both databases hand ids out in
insertion order) takes it. Every row left behind keeps its email untouched and is logged by id
(never by email) for an operator to resolve; rerunning the migration changes nothing more.

The normalisation is frozen here, not imported: a migration must keep doing what it did when it
was written, whatever the app's code later becomes.

Downgrade does nothing: the old spelling (full-width letters, `ß`, ligatures) cannot be
recovered from the normalised form. Nothing needs it either: plain ASCII addresses never
changed, and under older code a rewritten account signs in by typing its normalised address.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

import logging
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")
EMAIL_MAX_LENGTH = 320  # users.email is VARCHAR(320); NFKC can lengthen an address

users = sa.table("users", sa.column("id", sa.Integer()), sa.column("email", sa.String()))


def normalise_email(email: str) -> str:
    """todo_api.core.passwords.normalize_email as of this revision (test_migrations checks the
    two still agree on the cases it covers; if the app's rule changes, add a migration)."""
    return unicodedata.normalize("NFKC", email.strip()).casefold()


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(users.c.id, users.c.email).order_by(users.c.id)).all()
    owner = {email: user_id for user_id, email in rows}  # address -> the account storing it
    changes: list[dict[str, object]] = []
    for user_id, email in rows:
        address = normalise_email(email)
        if address == email:
            continue
        if len(address) > EMAIL_MAX_LENGTH:
            log.warning("users.id=%s: normalised email too long to store; left unchanged", user_id)
            continue
        holder = owner.get(address)
        if holder is not None:
            log.warning(
                "users.id=%s: email normalises to the address of users.id=%s; left unchanged "
                "(this account cannot sign in until an operator changes one of the two)",
                user_id,
                holder,
            )
            continue
        del owner[email]
        owner[address] = user_id
        changes.append({"row_id": user_id, "address": address})
    if changes:
        bind.execute(
            users.update()
            .where(users.c.id == sa.bindparam("row_id"))
            .values(email=sa.bindparam("address")),
            changes,
        )
    log.info("normalised %d stored email(s)", len(changes))


def downgrade() -> None:
    """Nothing to undo: see the module docstring."""
