"""Engine creation for the application database."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from common.db import engine_from_url

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
