"""Console and API users: argon2 password hashes, API tokens stored as SHA-256 digests."""

from __future__ import annotations

import hashlib
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from advisor.errors import InvalidInputError
from advisor.models import UserRow
from advisor.workflow import ROLES, Actor
from common.db import utc_now

_hasher = PasswordHasher()
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
MIN_PASSWORD_CHARS = 12
# Verified when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-for-timing")


def _actor(user: UserRow) -> Actor:
    return Actor(user.id, user.username, user.display_name, user.role)


def create_user(
    engine: Engine, username: str, display_name: str, role: str, password: str
) -> Actor:
    if not _USERNAME.match(username):
        raise InvalidInputError(
            "Identifiant invalide : 2 à 80 caractères, minuscules, chiffres, « . », « _ » ou « - »."
        )
    if role not in ROLES:
        raise InvalidInputError(f"Rôle inconnu : {role} (advisor ou supervisor).")
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidInputError(
            f"Le mot de passe doit compter au moins {MIN_PASSWORD_CHARS} caractères."
        )
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
    """The user when the password matches an active account, else None (same cost either way)."""
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


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_api_token(engine: Engine, username: str) -> str:
    """A new API token for the user (shown once; only its digest is kept). Replaces the old one."""
    token = "vgk_" + secrets.token_urlsafe(32)
    with Session(engine) as session, session.begin():
        user = session.scalar(select(UserRow).where(UserRow.username == username))
        if user is None:
            raise InvalidInputError(f"Aucun utilisateur « {username} ».")
        user.api_token_hash = _token_digest(token)
    return token


def user_by_token(engine: Engine, token: str) -> Actor | None:
    if not token.startswith("vgk_"):
        return None
    with Session(engine) as session:
        user = session.scalar(select(UserRow).where(UserRow.api_token_hash == _token_digest(token)))
        return _actor(user) if user is not None and user.active else None
