"""Qualified leads: the handoff, the lead store and its workflow, duty-of-advice records, GDPR.

The console and the REST API that advisors use are in webapp/.
"""
