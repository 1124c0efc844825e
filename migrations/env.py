"""Alembic environment of the application database.

The URL comes from `-x url=...` when given, else from the `sqlalchemy.url` option when a caller sets
it programmatically, else from WEBAPP_DATABASE_URL (`common.db.ApplicationDatabaseSettings`, default
`sqlite:///.run/webapp.db`). Rasa-style `postgresql://` URLs use psycopg 3 (`common.db`).
"""

from logging.config import fileConfig

from alembic import context

import advisor.models  # noqa: F401  # registers the advisor tables on Base.metadata
import feedback.models  # noqa: F401  # registers the feedback table on Base.metadata
import product_catalog.db  # noqa: F401  # registers the catalogue tables on Base.metadata
from common.db import ApplicationDatabaseSettings, Base, engine_from_url, normalise_url

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def database_url() -> str:
    url = (
        context.get_x_argument(as_dictionary=True).get("url")
        or config.get_main_option("sqlalchemy.url")
        or ApplicationDatabaseSettings().database_url
    )
    return normalise_url(url)


def run_migrations_offline() -> None:
    """Emit the SQL instead of running it (`alembic upgrade head --sql`)."""
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # No statement timeout: a migration may legitimately take long on a big table.
    engine = engine_from_url(database_url(), statement_timeout_ms=0)
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=True,  # SQLite alters tables by copying them
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
