"""Users and API tokens: tokens expire and can be revoked, accounts deactivated, passwords reset;
each administrative change leaves an audit event."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from advisor.auth import (
    authenticate,
    issue_api_token,
    reset_password,
    revoke_api_token,
    set_active,
    user_by_token,
)
from advisor.errors import InvalidInputError
from advisor.models import AuditEventRow
from common.db import utc_now


def admin_events(engine):  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        rows = connection.execute(
            select(AuditEventRow.action, AuditEventRow.details["username"].as_string())
            .where(AuditEventRow.lead_id.is_(None))
            .order_by(AuditEventRow.id)
        ).all()
    return [tuple(row) for row in rows]


class TestApiTokens:
    def test_a_token_works_until_it_expires(self, engine, advisor):
        issued_at = utc_now()
        token = issue_api_token(engine, "alice", valid_days=7, clock=lambda: issued_at)
        just_before = issued_at + timedelta(days=7, seconds=-1)
        assert user_by_token(engine, token, clock=lambda: just_before) == advisor
        expired = issued_at + timedelta(days=7)
        assert user_by_token(engine, token, clock=lambda: expired) is None

    def test_a_new_token_replaces_the_old_one(self, engine, advisor):
        first = issue_api_token(engine, "alice")
        second = issue_api_token(engine, "alice")
        assert user_by_token(engine, first) is None
        assert user_by_token(engine, second) == advisor

    def test_a_revoked_token_is_refused(self, engine, advisor):
        token = issue_api_token(engine, "alice")
        assert revoke_api_token(engine, "alice") is True
        assert user_by_token(engine, token) is None
        assert revoke_api_token(engine, "alice") is False

    @pytest.mark.parametrize("days", [0, 367])
    def test_a_validity_out_of_bounds_is_refused(self, engine, advisor, days):
        with pytest.raises(InvalidInputError, match="Durée de validité invalide"):
            issue_api_token(engine, "alice", valid_days=days)


class TestAccounts:
    def test_a_deactivated_user_cannot_log_in_nor_use_their_token(self, engine, advisor):
        token = issue_api_token(engine, "alice")
        set_active(engine, "alice", False)
        assert authenticate(engine, "alice", "mot-de-passe-alice-1") is None
        assert user_by_token(engine, token) is None
        with pytest.raises(InvalidInputError, match="désactivé"):
            issue_api_token(engine, "alice")
        set_active(engine, "alice", True)
        assert authenticate(engine, "alice", "mot-de-passe-alice-1") == advisor
        assert user_by_token(engine, token) is None  # withdrawn for good: a new one is needed

    def test_a_password_reset_replaces_the_password(self, engine, advisor):
        reset_password(engine, "alice", "nouveau-mot-de-passe-42")
        assert authenticate(engine, "alice", "mot-de-passe-alice-1") is None
        assert authenticate(engine, "alice", "nouveau-mot-de-passe-42") == advisor
        with pytest.raises(InvalidInputError, match="au moins 12"):
            reset_password(engine, "alice", "court")

    def test_an_unknown_user_is_named_in_french(self, engine):
        with pytest.raises(InvalidInputError, match="Aucun utilisateur « personne »"):
            set_active(engine, "personne", False)

    def test_each_change_is_in_the_audit_trail(self, engine, advisor):
        issue_api_token(engine, "alice")
        revoke_api_token(engine, "alice")
        set_active(engine, "alice", False)
        set_active(engine, "alice", True)
        reset_password(engine, "alice", "nouveau-mot-de-passe-42")
        assert admin_events(engine) == [
            ("api_token_issued", "alice"),
            ("api_token_revoked", "alice"),
            ("user_deactivated", "alice"),
            ("user_reactivated", "alice"),
            ("password_reset", "alice"),
        ]
