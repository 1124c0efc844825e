"""Small helpers shared by every deployable (action server, web app, stack)."""
