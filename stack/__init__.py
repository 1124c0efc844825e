"""Development stack: trains the Rasa model when needed and supervises the three servers.

`python -m stack run` is what `make run` calls; the integration tests reuse the same pieces to start
the real servers.
"""
