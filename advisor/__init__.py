"""Qualified-lead handoff, duty-of-advice records and the advisor console."""
