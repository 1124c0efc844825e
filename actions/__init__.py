"""Custom actions of the Rasa assistant, served by the rasa-sdk action server (`python -m actions`).

One module per form or feature; clients of other services live behind small adapters.
"""
