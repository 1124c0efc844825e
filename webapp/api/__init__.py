"""The web app's HTTP side: dependencies (`deps.py`) and one router per resource (`routes/`)."""
