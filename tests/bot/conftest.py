"""Tests of the bot's own Rasa components. They import Rasa, so they run in the Rasa environment:

    make rasa-env-test        # .venv-rasa/bin/python -m pytest tests/channels tests/bot

In `.venv` (no Rasa) pytest leaves them out instead of failing on the import.
"""

import importlib.util

collect_ignore: list[str] = []
collect_ignore_glob: list[str] = []
if importlib.util.find_spec("rasa") is None:
    collect_ignore += ["components"]
    collect_ignore_glob += ["test_*.py"]  # every test module here imports Rasa
