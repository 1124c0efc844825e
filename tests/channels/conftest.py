"""Channel tests. `test_formatting.py` and `test_options.py` are plain Python and run everywhere;
the connector tests need Rasa, so they run in the Rasa environment only:

    make rasa-env-test        # .venv-rasa/bin/python -m pytest tests/channels tests/bot

In `.venv` (no Rasa) pytest leaves them out instead of failing on the import.
"""

import importlib.util

collect_ignore: list[str] = []
if importlib.util.find_spec("rasa") is None:
    collect_ignore += ["test_connectors.py", "test_website.py"]
