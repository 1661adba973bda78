"""The budget line's place in the workbook (``budget_lignes.rang``): the Cerfa's order,
which SQLite stores kept in their rowid — a notion PostgreSQL has not.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("budget_lignes", sa.Column("rang", sa.Integer))
    if op.get_bind().dialect.name == "sqlite":  # the lines were inserted in workbook order
        op.execute("UPDATE budget_lignes SET rang = rowid")
