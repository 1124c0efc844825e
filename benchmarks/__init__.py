"""Benchmarks of the assistant; `python -m benchmarks` prints their figures as markdown."""
