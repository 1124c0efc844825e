"""The application database: its URLs, their PostgreSQL driver, engine creation."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from common.db import (
    DEFAULT_WEBAPP_DATABASE_URL,
    ApplicationDatabaseSettings,
    checked_url,
    engine_from_url,
    normalise_url,
)

pytestmark = pytest.mark.unit


class TestEngineFromUrl:
    def test_creates_the_folder_of_a_sqlite_file(self, tmp_path):
        engine = engine_from_url(f"sqlite:///{tmp_path / 'nested' / 'run' / 'app.db'}")
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        finally:
            engine.dispose()
        assert (tmp_path / "nested" / "run" / "app.db").exists()

    def test_sqlite_enforces_foreign_keys(self, tmp_path):
        engine = engine_from_url(f"sqlite:///{tmp_path / 'app.db'}")
        try:
            with engine.begin() as connection:
                connection.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
                connection.execute(
                    text("CREATE TABLE child (parent_id INTEGER REFERENCES parent (id))")
                )
            with pytest.raises(IntegrityError), engine.begin() as connection:
                connection.execute(text("INSERT INTO child (parent_id) VALUES (42)"))
        finally:
            engine.dispose()

    def test_a_rasa_style_postgresql_url_uses_psycopg(self):
        engine = engine_from_url("postgresql://postgres@127.0.0.1:5432/test")
        try:
            assert engine.url.drivername == "postgresql+psycopg"
        finally:
            engine.dispose()


class TestDatabaseUrls:
    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            ("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
            ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
            ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
            ("sqlite:///.run/advisor.db", "sqlite:///.run/advisor.db"),
        ],
    )
    def test_postgresql_urls_name_the_installed_driver(self, url, expected):
        assert normalise_url(url) == expected
        assert checked_url(url) == expected

    @pytest.mark.parametrize("url", ["mysql://root@localhost/db", "sqlite://", ""])
    def test_a_database_this_project_cannot_use_is_refused(self, url):
        with pytest.raises(ValueError, match="must start with sqlite:///"):
            checked_url(url)


class TestApplicationDatabaseSettings:
    def test_reads_webapp_database_url(self, monkeypatch):
        monkeypatch.setenv("WEBAPP_DATABASE_URL", "sqlite:///elsewhere.db")
        settings = ApplicationDatabaseSettings(_env_file=None)  # type: ignore[call-arg]
        assert settings.database_url == "sqlite:///elsewhere.db"

    def test_defaults_to_the_run_folder(self, monkeypatch):
        monkeypatch.delenv("WEBAPP_DATABASE_URL", raising=False)
        settings = ApplicationDatabaseSettings(_env_file=None)  # type: ignore[call-arg]
        assert settings.database_url == DEFAULT_WEBAPP_DATABASE_URL == "sqlite:///.run/webapp.db"
