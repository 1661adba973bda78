"""Conventions and payments (issue 11). Dates are ISO text; several payment dates of one
financeur are joined with « ; » in chronological order (SQLite ``user_version`` 2).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("programmation_actions", sa.Column("convention_numero", sa.Text))
    op.add_column("programmation_actions", sa.Column("convention_date", sa.Text))
    op.add_column("programmation_financements", sa.Column("verse", sa.Text))
    op.add_column("programmation_financements", sa.Column("dates_versement", sa.Text))
