"""Console and API users: argon2 password hashes, API tokens stored as SHA-256 digests.

Tokens expire (`DEFAULT_TOKEN_DAYS` unless told otherwise) and can be revoked; a user can be
deactivated (sessions and token withdrawn at once) and given a new password (sessions withdrawn).
Each of these administrative changes leaves an audit event with no lead (`advisor.audit`).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from advisor import audit
from advisor.errors import InvalidInputError
from advisor.models import SessionRow, UserRow
from advisor.workflow import CLI, ROLES, Actor
from common.db import utc_now

_hasher = PasswordHasher()
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
MIN_PASSWORD_CHARS = 12
DEFAULT_TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 366
TOKEN_PREFIX = "vgk_"  # noqa: S105  (a marker, not a secret)
# Verified when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-for-timing")

Clock = Callable[[], datetime]


def _actor(user: UserRow) -> Actor:
    return Actor(user.id, user.username, user.display_name, user.role)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidInputError(
            f"Le mot de passe doit compter au moins {MIN_PASSWORD_CHARS} caractères."
        )


def create_user(
    engine: Engine, username: str, display_name: str, role: str, password: str
) -> Actor:
    if not _USERNAME.match(username):
        raise InvalidInputError(
            "Identifiant invalide : 2 à 80 caractères, minuscules, chiffres, « . », « _ » ou « - »."
        )
    if role not in ROLES:
        raise InvalidInputError(f"Rôle inconnu : {role} (advisor ou supervisor).")
    check_password(password)
    if not display_name.strip():
        raise InvalidInputError("Le nom affiché est vide.")
    user = UserRow(
        username=username,
        display_name=display_name.strip()[:200],
        password_hash=_hasher.hash(password),
        role=role,
        active=True,
        created_at=utc_now(),
    )
    try:
        with Session(engine) as session, session.begin():
            session.add(user)
            session.flush()
            return _actor(user)
    except IntegrityError:
        raise InvalidInputError(f"L'identifiant « {username} » existe déjà.") from None


def authenticate(engine: Engine, username: str, password: str) -> Actor | None:
    """The user when the password matches an active account, else None (same cost either way).

    Blocking (argon2 takes ~0.1 s of CPU): async callers run it in a worker thread.
    """
    with Session(engine) as session:
        user = session.scalar(select(UserRow).where(UserRow.username == username))
        try:
            _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if user is None or not user.active:
            return None
        if _hasher.check_needs_rehash(user.password_hash):
            with session.begin():
                user.password_hash = _hasher.hash(password)
        return _actor(user)


def get_user(engine: Engine, user_id: int) -> Actor | None:
    with Session(engine) as session:
        user = session.get(UserRow, user_id)
        return _actor(user) if user is not None and user.active else None


def _user_named(session: Session, username: str) -> UserRow:
    user = session.scalar(select(UserRow).where(UserRow.username == username))
    if user is None:
        raise InvalidInputError(f"Aucun utilisateur « {username} ».")
    return user


def _revoke_sessions(session: Session, user_id: int, now: datetime) -> int:
    result = session.execute(
        update(SessionRow)
        .where(SessionRow.user_id == user_id, SessionRow.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def set_active(engine: Engine, username: str, active: bool, clock: Clock = utc_now) -> Actor:
    """Deactivate a user (console sessions and API token withdrawn at once) or reactivate one
    (who then logs in again and needs a new token)."""
    now = clock()
    with Session(engine) as session, session.begin():
        user = _user_named(session, username)
        user.active = active
        if not active:
            _revoke_sessions(session, user.id, now)
            user.api_token_hash = None
            user.api_token_expires_at = None
        action = "user_reactivated" if active else "user_deactivated"
        audit.record(session, None, CLI, action, {"username": username}, now)
        return _actor(user)


def reset_password(engine: Engine, username: str, password: str, clock: Clock = utc_now) -> int:
    """Give the user a new password; every open console session of theirs is closed.

    Returns how many sessions were closed.
    """
    check_password(password)
    now = clock()
    with Session(engine) as session, session.begin():
        user = _user_named(session, username)
        user.password_hash = _hasher.hash(password)
        closed = _revoke_sessions(session, user.id, now)
        audit.record(session, None, CLI, "password_reset", {"username": username}, now)
    return closed


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_api_token(
    engine: Engine, username: str, valid_days: int = DEFAULT_TOKEN_DAYS, clock: Clock = utc_now
) -> str:
    """A new API token for the user, valid `valid_days` days (shown once; only its digest is
    kept). Replaces the old one."""
    if not 1 <= valid_days <= MAX_TOKEN_DAYS:
        raise InvalidInputError(f"Durée de validité invalide : entre 1 et {MAX_TOKEN_DAYS} jours.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock()
    with Session(engine) as session, session.begin():
        user = _user_named(session, username)
        if not user.active:
            raise InvalidInputError(f"Le compte « {username} » est désactivé.")
        user.api_token_hash = _token_digest(token)
        user.api_token_expires_at = now + timedelta(days=valid_days)
        audit.record(
            session,
            None,
            CLI,
            "api_token_issued",
            {"username": username, "valid_days": valid_days},
            now,
        )
    return token


def revoke_api_token(engine: Engine, username: str, clock: Clock = utc_now) -> bool:
    """Withdraw the user's API token; False when they had none."""
    with Session(engine) as session, session.begin():
        user = _user_named(session, username)
        had_one = user.api_token_hash is not None
        user.api_token_hash = None
        user.api_token_expires_at = None
        if had_one:
            audit.record(session, None, CLI, "api_token_revoked", {"username": username}, clock())
    return had_one


def user_by_token(engine: Engine, token: str, clock: Clock = utc_now) -> Actor | None:
    """The active user whose unexpired token this is, else None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    with Session(engine) as session:
        user = session.scalar(select(UserRow).where(UserRow.api_token_hash == _token_digest(token)))
        if user is None or not user.active:
            return None
        expires_at = user.api_token_expires_at
        if expires_at is None or expires_at <= clock():
            return None
        return _actor(user)
