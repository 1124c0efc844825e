"""The web app's settings (`config.py`) and its templates and static files (`assets.py`)."""
