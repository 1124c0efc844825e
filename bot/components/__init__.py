"""Custom Rasa graph components of the assistant's NLU pipeline (loaded by `config.yml`)."""
