"""Operations: the one place where business actions touch the database.

Web views, API endpoints and CLI commands all call these. An operation adds to the
session and flushes; it never commits (the request or the CLI command does, once).
"""
