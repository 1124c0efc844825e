"""One router per resource; `webapp.main.create_app` includes them all."""
