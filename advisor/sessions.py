"""Console sessions kept server-side, so that logging out really ends them.

Logging in opens a session: a random token goes into the (signed) cookie, its SHA-256 digest into
`advisor_sessions`. Each request looks the digest up: the session must be unrevoked, younger than
its lifetime, used within its idle limit, and its user active. Logging out, deactivating the user
or resetting their password revokes it, so an old cookie opens nothing any more.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session

from advisor.models import SessionRow, UserRow
from advisor.workflow import Actor
from common.db import utc_now

# `last_seen_at` is written at most this often, not on every request.
TOUCH_EVERY = timedelta(seconds=60)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    """Open, check and revoke console sessions on the lead store's engine."""

    def __init__(
        self,
        engine: Engine,
        max_age_s: int,
        idle_s: int,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.engine = engine
        self.max_age = timedelta(seconds=max_age_s)
        self.idle = timedelta(seconds=idle_s)
        self.clock = clock

    def open(self, user_id: int) -> str:
        """A new session for the user; returns the token for the cookie (never stored)."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with Session(self.engine) as session, session.begin():
            # Sessions past their lifetime are of no use: drop them as new ones are made.
            session.execute(delete(SessionRow).where(SessionRow.expires_at < now))
            session.add(
                SessionRow(
                    token_hash=_digest(token),
                    user_id=user_id,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + self.max_age,
                )
            )
        return token

    def user_of(self, token: str) -> Actor | None:
        """The active user of a valid session, else None; notes the session as used."""
        now = self.clock()
        with Session(self.engine) as session:
            found = session.execute(
                select(SessionRow, UserRow)
                .join(UserRow, UserRow.id == SessionRow.user_id)
                .where(SessionRow.token_hash == _digest(token))
            ).first()
            if found is None:
                return None
            row, user = found
            if (
                row.revoked_at is not None
                or row.expires_at <= now
                or row.last_seen_at + self.idle <= now
                or not user.active
            ):
                return None
            actor = Actor(user.id, user.username, user.display_name, user.role)
            if now - row.last_seen_at >= TOUCH_EVERY:
                session.execute(
                    update(SessionRow)
                    .where(SessionRow.id == row.id)
                    .values(last_seen_at=now)
                    .execution_options(synchronize_session=False)
                )
                session.commit()
        return actor

    def revoke(self, token: str) -> bool:
        """End the session (logout); False when it was unknown or already ended."""
        with Session(self.engine) as session, session.begin():
            result = session.execute(
                update(SessionRow)
                .where(SessionRow.token_hash == _digest(token), SessionRow.revoked_at.is_(None))
                .values(revoked_at=self.clock())
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]
