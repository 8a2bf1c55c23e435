"""Ingestion helpers: the declared trial-event mapping (data, not code) and body checking.

Nothing here imports Flask; the API, the CLI and the operations share it.
"""
