"""The governance cycle (issue 10; SQLite ``user_version`` 6).

A submission belongs to a revue (NULL: annual — porteurs, référents of the old annual
mode); one accepted return is in force per recipient, year AND revue. The référents'
indicators carry a unit, a reference and the basket choice; the pistes d'action their
state; pilotes and coordonnateurs write one synthesis per objectif stratégique /
orientation; the relevés de décisions give every decision's state at a revue.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

EN_VIGUEUR = "donnees = 1 AND remplacee_par IS NULL"


def upgrade() -> None:
    op.add_column("submissions", sa.Column("revue", sa.Integer))
    op.drop_index("submissions_courante", table_name="submissions")
    op.create_index("submissions_courante", "submissions",
                    ["contrat", "annee", sa.text("COALESCE(revue, 0)"), "type",
                     "destinataire_id"], unique=True,
                    sqlite_where=sa.text(EN_VIGUEUR), postgresql_where=sa.text(EN_VIGUEUR))
    op.create_index("submissions_type", "submissions", ["contrat", "type", "annee"])
    op.add_column("indicateurs", sa.Column("unite", sa.Text))
    op.add_column("indicateurs", sa.Column("valeur_reference", sa.Text))
    op.add_column("indicateurs", sa.Column("annee_reference", sa.Integer))
    op.add_column("indicateurs", sa.Column("panier", sa.Text))
    op.add_column("indicateurs", sa.Column("cible_fiche", sa.Text))
    op.create_table(
        "pistes",
        sa.Column("submission_id", sa.Integer, primary_key=True),
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("rang", sa.Integer, primary_key=True),
        sa.Column("libelle", sa.Text, nullable=False),
        sa.Column("etat", sa.Text),
        sa.Column("commentaire", sa.Text),
        sa.ForeignKeyConstraint(["submission_id", "code"],
                                ["suivis.submission_id", "suivis.code"], ondelete="CASCADE"),
    )
    op.create_table(
        "syntheses",
        sa.Column("submission_id", sa.Integer,
                  sa.ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("niveau", sa.Text, nullable=False),
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("contrat", sa.Text, nullable=False),
        sa.Column("annee", sa.Integer),
        sa.Column("revue", sa.Integer),
        sa.Column("auteur_id", sa.Text, nullable=False),
        sa.Column("avancement", sa.Text),
        sa.Column("rag", sa.Text),
        sa.Column("synthese", sa.Text),
        sa.Column("difficultes", sa.Text),
        sa.Column("propositions", sa.Text),
    )
    op.create_table(
        "decisions",
        sa.Column("submission_id", sa.Integer,
                  sa.ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("numero", sa.Text, primary_key=True),
        sa.Column("pilier", sa.Text, nullable=False),
        sa.Column("code", sa.Text),
        sa.Column("contrat", sa.Text, nullable=False),
        sa.Column("annee", sa.Integer),
        sa.Column("revue", sa.Integer),
        sa.Column("rang", sa.Integer, nullable=False),
        sa.Column("nouvelle", sa.Integer, nullable=False),
        sa.Column("decision", sa.Text),
        sa.Column("type", sa.Text),
        sa.Column("responsable", sa.Text),
        sa.Column("echeance", sa.Text),
        sa.Column("statut", sa.Text),
        sa.Column("commentaire", sa.Text),
        sa.Column("ouverte_annee", sa.Integer),
        sa.Column("ouverte_revue", sa.Integer),
    )
    op.create_index("decisions_numero", "decisions", ["contrat", "numero"])
