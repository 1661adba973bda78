"""The bilan's Cerfa 15059 texts (issue 11): lieu(x) de réalisation, observations, règle
de répartition des charges indirectes (SQLite ``user_version`` 3).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("bilans", sa.Column("lieux_realisation", sa.Text))
    op.add_column("bilans", sa.Column("observations", sa.Text))
    op.add_column("bilans", sa.Column("repartition_charges_indirectes", sa.Text))
