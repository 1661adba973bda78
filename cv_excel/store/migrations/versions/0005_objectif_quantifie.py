"""The action's quantified objective (issue 11): what is counted, the target (decimal
text) and its unit in the programmation; the value reached (decimal text) in the bilan
(SQLite ``user_version`` 5).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("programmation_actions", sa.Column("objectif_quantifie", sa.Text))
    op.add_column("programmation_actions", sa.Column("valeur_cible", sa.Text))
    op.add_column("programmation_actions", sa.Column("unite", sa.Text))
    op.add_column("bilans", sa.Column("valeur_atteinte", sa.Text))
