"""Feedback on the assistant's answers: the five-level rating a user gives in the website widget.

Each rating is stored with what is needed to evaluate the answer later (question, answer, sources,
answering mode); `python -m feedback export` writes them as CSV or JSONL for the evaluation
pipeline, and `FeedbackStore.summary()` feeds the supervisor dashboard.
"""
