"""Channel tests. `test_formatting.py`, `test_joining.py` and `test_options.py` are plain Python and
run everywhere; the connector tests need Rasa, so they run in the Rasa environment only:

    make rasa-env-test        # .venv-rasa/bin/python -m pytest tests/channels tests/bot

`test_action_replies.py` runs the real actions, whose packages live in `.venv` only. Each
environment leaves out, instead of failing on the import, the files it cannot run.
"""

import importlib.util

collect_ignore: list[str] = []
if importlib.util.find_spec("rasa") is None:
    collect_ignore += [
        "test_action_server_down.py",
        "test_connectors.py",
        "test_credentials.py",
        "test_messenger.py",
        "test_rest.py",
        "test_telegram.py",
        "test_website.py",
        "test_website_drafts.py",
    ]
else:
    collect_ignore += ["test_action_replies.py"]
