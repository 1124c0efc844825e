"""Throttling of console logins: a lock after too many failures, per account and per address.

Each failed login is stored (`advisor_login_failures`, shared by every web app process) with the
username tried and a keyed digest of the client address; rows older than the window are deleted
as new ones come. While an account or an address has reached its limit within the window, logins
are refused before any password is checked, until enough failures have aged out of the window. A
successful login clears the account's failures. Unknown usernames are counted like known ones, so
the lock says nothing about which accounts exist.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Engine, delete, select
from sqlalchemy.orm import Session

from advisor.models import LoginFailureRow
from common.db import utc_now

MAX_USERNAME_CHARS = 80


class LoginThrottle:
    def __init__(
        self,
        engine: Engine,
        key: bytes,
        window_s: int,
        max_failures_per_account: int,
        max_failures_per_address: int,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.engine = engine
        self._key = key
        self.window = timedelta(seconds=window_s)
        self.max_per_account = max_failures_per_account
        self.max_per_address = max_failures_per_address
        self.clock = clock

    def _address(self, address: str) -> str:
        return hmac.new(self._key, address.encode(), hashlib.sha256).hexdigest()

    def _wait(
        self, session: Session, condition: ColumnElement[bool], limit: int, now: datetime
    ) -> float:
        """Seconds until fewer than `limit` failures matching `condition` lie in the window."""
        times = session.scalars(
            select(LoginFailureRow.at)
            .where(condition, LoginFailureRow.at > now - self.window)
            .order_by(LoginFailureRow.at.desc())
            .limit(limit)
        ).all()
        if len(times) < limit:
            return 0.0
        # The oldest of the latest `limit` failures must leave the window.
        return (times[-1] + self.window - now).total_seconds()

    def retry_after(self, username: str, address: str) -> int | None:
        """Seconds to wait before this login may be tried, or None when it may be now."""
        now = self.clock()
        with Session(self.engine) as session:
            wait = max(
                self._wait(
                    session,
                    LoginFailureRow.username == username[:MAX_USERNAME_CHARS],
                    self.max_per_account,
                    now,
                ),
                self._wait(
                    session,
                    LoginFailureRow.address_digest == self._address(address),
                    self.max_per_address,
                    now,
                ),
            )
        return math.ceil(wait) if wait > 0 else None

    def failed(self, username: str, address: str) -> None:
        now = self.clock()
        with Session(self.engine) as session, session.begin():
            session.execute(delete(LoginFailureRow).where(LoginFailureRow.at <= now - self.window))
            session.add(
                LoginFailureRow(
                    username=username[:MAX_USERNAME_CHARS],
                    address_digest=self._address(address),
                    at=now,
                )
            )

    def succeeded(self, username: str) -> None:
        with Session(self.engine) as session, session.begin():
            session.execute(
                delete(LoginFailureRow).where(
                    LoginFailureRow.username == username[:MAX_USERNAME_CHARS]
                )
            )
