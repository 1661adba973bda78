"""Alembic migrations of the store, for SQLite and PostgreSQL alike.

They run programmatically (:mod:`cv_excel.store.db`), never from an ``alembic.ini``: the
connection is handed to ``env.py`` inside the transaction that also checks the store.
Revisions 0001-0007 are, statement for statement, the seven SQLite migrations cv_excel
had before (``PRAGMA user_version`` 1-7): a store of those versions is stamped at its
revision and upgraded in place.
"""
