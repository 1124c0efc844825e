"""The advisor console's server side: its wording, its sessions and how its pages are rendered.

Its routes are in webapp/api/routes/advisor_console.py.
"""
