"""The État's references of an action (issue 11): Dauphin dossier, codes of the
nomenclature des crédits du P147, the State's dispositifs (joined with « ; ») and the QPV
code (SQLite ``user_version`` 4).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for name in ("dossier_dauphin", "theme_p147", "sous_theme_p147", "modalite_p147",
                 "dispositifs_etat", "code_qpv"):
        op.add_column("programmation_actions", sa.Column(name, sa.Text))
