"""Checks, before the servers start, that the stores they depend on answer.

Rasa wraps its tracker store in a fail-safe one: when the SQL database cannot be reached (a
database that does not exist, a server that is down), each Rasa process falls back to a tracker
in its own memory and goes on answering. With two workers or two replicas a conversation's turns
then land in different memories and the person is asked for consent again, the form restarts,
no lead is made, and nothing but a log line says so. The stack refuses to start instead.
"""

from common.startup import StartupError

CONNECT_TIMEOUT_S = 5


def _shown(url: str) -> str:
    """The URL without its password, for messages and logs."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def check_tracker_store(url: str) -> None:
    """Raise StartupError when the PostgreSQL tracker store at `url` does not answer `SELECT 1`
    (an SQLite file is created by Rasa itself: nothing to check)."""
    if not url.startswith("postgresql://"):
        return
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise StartupError(
            f"the tracker store {_shown(url)} does not answer ({reason}); without it each Rasa "
            "process would keep conversations in its own memory and lose them between workers. "
            "Create the database (e.g. `createdb -h 127.0.0.1 -U postgres <name>`) or fix "
            "TRACKER_STORE_URL."
        ) from exc
