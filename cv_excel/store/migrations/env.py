"""Alembic's entry point: run the migrations on the connection cv_excel hands over.

cv_excel opens the store itself (file checks, French faults, the write lock) and calls
Alembic inside its own transaction, so this script never connects nor commits: the
migrations and the revision bump are committed with that transaction or not at all.
"""

from __future__ import annotations

from alembic import context

from cv_excel.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - a misuse, not a user's fault
    raise RuntimeError("les migrations du magasin s'exécutent depuis cv_excel.store.db")

context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=False, transaction_per_migration=False)
with context.begin_transaction():
    context.run_migrations()
