"""The web app: advisor console, public website and HTTP API (`python -m webapp`)."""
