"""The first schema: submissions, the returns' data (bilans, budget, suivis,
indicateurs) and the programmation snapshots (SQLite ``user_version`` 1).

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

EN_VIGUEUR = "donnees = 1 AND remplacee_par IS NULL"


def upgrade() -> None:
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sha256", sa.Text, nullable=False, unique=True),
        sa.Column("nom", sa.Text, nullable=False),
        sa.Column("recu_le", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("classeur_id", sa.Text, nullable=False),
        sa.Column("contrat", sa.Text, nullable=False),
        sa.Column("annee", sa.Integer),
        sa.Column("destinataire_id", sa.Text, nullable=False),
        sa.Column("destinataire", sa.Text, nullable=False),
        sa.Column("statut", sa.Text, nullable=False),
        sa.Column("bloquants", sa.Integer, nullable=False),
        sa.Column("avertissements", sa.Integer, nullable=False),
        sa.Column("findings_json", sa.Text, nullable=False),
        sa.Column("nb_sections", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("donnees", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("importee_le", sa.Text, nullable=False),
        sa.Column("remplacee_par", sa.Integer, sa.ForeignKey("submissions.id")),
    )
    op.create_index("submissions_annee", "submissions", ["contrat", "annee"])
    # At most one accepted return in force per recipient and year.
    op.create_index("submissions_courante", "submissions",
                    ["contrat", "annee", "type", "destinataire_id"], unique=True,
                    sqlite_where=sa.text(EN_VIGUEUR), postgresql_where=sa.text(EN_VIGUEUR))
    op.create_table(
        "bilans",
        sa.Column("submission_id", sa.Integer,
                  sa.ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("numero", sa.Text, primary_key=True),
        sa.Column("contrat", sa.Text, nullable=False),
        sa.Column("annee", sa.Integer),
        sa.Column("realisation", sa.Text),
        sa.Column("date_debut", sa.Text),
        sa.Column("date_fin", sa.Text),
        sa.Column("benef_total", sa.Integer),
        sa.Column("benef_femmes", sa.Integer),
        sa.Column("benef_hommes", sa.Integer),
        sa.Column("benef_qpv", sa.Integer),
        sa.Column("benef_moins_12", sa.Integer),
        sa.Column("benef_12_17", sa.Integer),
        sa.Column("benef_18_25", sa.Integer),
        sa.Column("benef_26_59", sa.Integer),
        sa.Column("benef_60_plus", sa.Integer),
        sa.Column("score", sa.Integer),
        sa.Column("score_justification", sa.Text),
        sa.Column("mode_recueil", sa.Text),
        sa.Column("valeur_constatee", sa.Text),
        sa.Column("resultats", sa.Text),
        sa.Column("difficultes", sa.Text),
        sa.Column("perspectives", sa.Text),
        sa.Column("ecarts_explication", sa.Text),
    )
    op.create_table(
        "budget_lignes",
        sa.Column("submission_id", sa.Integer, primary_key=True),
        sa.Column("numero", sa.Text, primary_key=True),
        sa.Column("tableau", sa.Text, primary_key=True),
        sa.Column("ligne", sa.Text, primary_key=True),
        sa.Column("prevu", sa.Text),
        sa.Column("realise", sa.Text),
        sa.ForeignKeyConstraint(["submission_id", "numero"],
                                ["bilans.submission_id", "bilans.numero"], ondelete="CASCADE"),
    )
    op.create_table(
        "suivis",
        sa.Column("submission_id", sa.Integer,
                  sa.ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("contrat", sa.Text, nullable=False),
        sa.Column("annee", sa.Integer),
        sa.Column("referent_id", sa.Text, nullable=False),
        sa.Column("avancement", sa.Text),
        sa.Column("actions_realisees", sa.Text),
        sa.Column("actions_en_cours", sa.Text),
        sa.Column("resultats", sa.Text),
        sa.Column("difficultes", sa.Text),
        sa.Column("propositions", sa.Text),
    )
    op.create_table(
        "indicateurs",
        sa.Column("submission_id", sa.Integer, primary_key=True),
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("propose", sa.Integer, primary_key=True),
        sa.Column("rang", sa.Integer, primary_key=True),
        sa.Column("libelle", sa.Text, nullable=False),
        sa.Column("type", sa.Text),
        sa.Column("valeur_cible", sa.Text),
        sa.Column("valeur_precedente", sa.Text),
        sa.Column("valeur_annee", sa.Text),
        sa.Column("source", sa.Text),
        sa.Column("commentaire", sa.Text),
        sa.ForeignKeyConstraint(["submission_id", "code"],
                                ["suivis.submission_id", "suivis.code"], ondelete="CASCADE"),
    )
    op.create_table(
        "programmation_actions",
        sa.Column("contrat", sa.Text, primary_key=True),
        sa.Column("annee", sa.Integer, primary_key=True),
        sa.Column("numero", sa.Text, primary_key=True),
        sa.Column("porteur_siret", sa.Text, nullable=False),
        sa.Column("porteur_raison_sociale", sa.Text, nullable=False),
        sa.Column("porteur_type", sa.Text, nullable=False),
        sa.Column("porteur_rna", sa.Text),
        sa.Column("porteur_contact", sa.Text, nullable=False),
        sa.Column("porteur_email", sa.Text, nullable=False),
        sa.Column("intitule", sa.Text, nullable=False),
        sa.Column("objectif_operationnel", sa.Text, nullable=False),
        sa.Column("theme_anct", sa.Text),
        sa.Column("sous_theme_anct", sa.Text),
        sa.Column("territoire", sa.Text, nullable=False),
        sa.Column("departement_dispositif", sa.Text),
        sa.Column("indicateur", sa.Text, nullable=False),
        sa.Column("mode_recueil", sa.Text, nullable=False),
    )
    op.create_table(
        "programmation_financements",
        sa.Column("contrat", sa.Text, primary_key=True),
        sa.Column("annee", sa.Integer, primary_key=True),
        sa.Column("numero", sa.Text, primary_key=True),
        sa.Column("financeur", sa.Text, primary_key=True),
        sa.Column("demande", sa.Text),
        sa.Column("accorde", sa.Text),
        sa.ForeignKeyConstraint(
            ["contrat", "annee", "numero"],
            ["programmation_actions.contrat", "programmation_actions.annee",
             "programmation_actions.numero"], ondelete="CASCADE"),
    )
