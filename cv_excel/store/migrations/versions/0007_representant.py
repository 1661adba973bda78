"""The porteur's legal representative (« Représentant légal ») of the workbook, kept with
each action's bilan: the compte rendu financier is signed in that name (SQLite
``user_version`` 7, the last schema of the hand-written SQLite store).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("bilans", sa.Column("representant", sa.Text))
