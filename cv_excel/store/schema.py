"""The store's tables, as SQLAlchemy Core objects: one description for both engines.

SQLite (the embedded default, one file in the working folder) and PostgreSQL (the
shared server of the EPT's contrats) hold the same tables. This module is the schema
at its latest version; the Alembic migrations under ``cv_excel/store/migrations``
bring any older store to it (revision ``0007`` is the schema cv_excel had before the
store spoke SQLAlchemy, ``PRAGMA user_version = 7``). Column order, indexes and defaults
are those the migrations create (a test compares them, on both engines).

Decimal amounts are kept as decimal text (exact on both engines, read back with
``extract.as_decimal``); dates as ISO text. Every row of a return hangs off its
submission and goes with it (ON DELETE CASCADE).
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    func,
    text,
)

metadata = MetaData()

# The revision the schema of this module is at (see migrations/versions).
HEAD = "0008"

submissions = Table(
    "submissions", metadata,
    Column("id", Integer, primary_key=True),
    Column("sha256", Text, nullable=False, unique=True),
    Column("nom", Text, nullable=False),
    Column("recu_le", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("classeur_id", Text, nullable=False),
    Column("contrat", Text, nullable=False),
    Column("annee", Integer),
    Column("destinataire_id", Text, nullable=False),
    Column("destinataire", Text, nullable=False),
    Column("statut", Text, nullable=False),
    Column("bloquants", Integer, nullable=False),
    Column("avertissements", Integer, nullable=False),
    Column("findings_json", Text, nullable=False),
    Column("nb_sections", Integer, nullable=False, server_default=text("0")),
    Column("donnees", Integer, nullable=False, server_default=text("0")),
    Column("importee_le", Text, nullable=False),
    Column("remplacee_par", Integer, ForeignKey("submissions.id")),
    Column("revue", Integer),
)
Index("submissions_annee", submissions.c.contrat, submissions.c.annee)
Index("submissions_type", submissions.c.contrat, submissions.c.type, submissions.c.annee)
# At most one accepted return in force per recipient, year and revue (NULL: annual).
EN_VIGUEUR = text("donnees = 1 AND remplacee_par IS NULL")
Index("submissions_courante", submissions.c.contrat, submissions.c.annee,
      func.coalesce(submissions.c.revue, 0), submissions.c.type,
      submissions.c.destinataire_id, unique=True,
      sqlite_where=EN_VIGUEUR, postgresql_where=EN_VIGUEUR)

bilans = Table(
    "bilans", metadata,
    Column("submission_id", Integer, ForeignKey("submissions.id", ondelete="CASCADE"),
           primary_key=True),
    Column("numero", Text, primary_key=True),
    Column("contrat", Text, nullable=False),
    Column("annee", Integer),
    Column("realisation", Text),
    Column("date_debut", Text),
    Column("date_fin", Text),
    Column("benef_total", Integer),
    Column("benef_femmes", Integer),
    Column("benef_hommes", Integer),
    Column("benef_qpv", Integer),
    Column("benef_moins_12", Integer),
    Column("benef_12_17", Integer),
    Column("benef_18_25", Integer),
    Column("benef_26_59", Integer),
    Column("benef_60_plus", Integer),
    Column("score", Integer),
    Column("score_justification", Text),
    Column("mode_recueil", Text),
    Column("valeur_constatee", Text),
    Column("resultats", Text),
    Column("difficultes", Text),
    Column("perspectives", Text),
    Column("ecarts_explication", Text),
    Column("lieux_realisation", Text),
    Column("observations", Text),
    Column("repartition_charges_indirectes", Text),
    Column("valeur_atteinte", Text),
    Column("representant", Text),
)

budget_lignes = Table(
    "budget_lignes", metadata,
    Column("submission_id", Integer, primary_key=True),
    Column("numero", Text, primary_key=True),
    Column("tableau", Text, primary_key=True),
    Column("ligne", Text, primary_key=True),
    Column("prevu", Text),
    Column("realise", Text),
    # The line's place in the workbook (the Cerfa's order); SQLite stores of revision
    # 0007 and older took it from their rowid.
    Column("rang", Integer),
    ForeignKeyConstraint(["submission_id", "numero"],
                         ["bilans.submission_id", "bilans.numero"], ondelete="CASCADE"),
)

suivis = Table(
    "suivis", metadata,
    Column("submission_id", Integer, ForeignKey("submissions.id", ondelete="CASCADE"),
           primary_key=True),
    Column("code", Text, primary_key=True),
    Column("contrat", Text, nullable=False),
    Column("annee", Integer),
    Column("referent_id", Text, nullable=False),
    Column("avancement", Text),
    Column("actions_realisees", Text),
    Column("actions_en_cours", Text),
    Column("resultats", Text),
    Column("difficultes", Text),
    Column("propositions", Text),
)

indicateurs = Table(
    "indicateurs", metadata,
    Column("submission_id", Integer, primary_key=True),
    Column("code", Text, primary_key=True),
    Column("propose", Integer, primary_key=True),
    Column("rang", Integer, primary_key=True),
    Column("libelle", Text, nullable=False),
    Column("type", Text),
    Column("valeur_cible", Text),
    Column("valeur_precedente", Text),
    Column("valeur_annee", Text),
    Column("source", Text),
    Column("commentaire", Text),
    Column("unite", Text),
    Column("valeur_reference", Text),
    Column("annee_reference", Integer),
    Column("panier", Text),
    Column("cible_fiche", Text),
    ForeignKeyConstraint(["submission_id", "code"], ["suivis.submission_id", "suivis.code"],
                         ondelete="CASCADE"),
)

pistes = Table(
    "pistes", metadata,
    Column("submission_id", Integer, primary_key=True),
    Column("code", Text, primary_key=True),
    Column("rang", Integer, primary_key=True),
    Column("libelle", Text, nullable=False),
    Column("etat", Text),
    Column("commentaire", Text),
    ForeignKeyConstraint(["submission_id", "code"], ["suivis.submission_id", "suivis.code"],
                         ondelete="CASCADE"),
)

syntheses = Table(
    "syntheses", metadata,
    Column("submission_id", Integer, ForeignKey("submissions.id", ondelete="CASCADE"),
           primary_key=True),
    Column("niveau", Text, nullable=False),
    Column("code", Text, primary_key=True),
    Column("contrat", Text, nullable=False),
    Column("annee", Integer),
    Column("revue", Integer),
    Column("auteur_id", Text, nullable=False),
    Column("avancement", Text),
    Column("rag", Text),
    Column("synthese", Text),
    Column("difficultes", Text),
    Column("propositions", Text),
)

decisions = Table(
    "decisions", metadata,
    Column("submission_id", Integer, ForeignKey("submissions.id", ondelete="CASCADE"),
           primary_key=True),
    Column("numero", Text, primary_key=True),
    Column("pilier", Text, nullable=False),
    Column("code", Text),
    Column("contrat", Text, nullable=False),
    Column("annee", Integer),
    Column("revue", Integer),
    Column("rang", Integer, nullable=False),
    Column("nouvelle", Integer, nullable=False),
    Column("decision", Text),
    Column("type", Text),
    Column("responsable", Text),
    Column("echeance", Text),
    Column("statut", Text),
    Column("commentaire", Text),
    Column("ouverte_annee", Integer),
    Column("ouverte_revue", Integer),
)
Index("decisions_numero", decisions.c.contrat, decisions.c.numero)

programmation_actions = Table(
    "programmation_actions", metadata,
    Column("contrat", Text, primary_key=True),
    Column("annee", Integer, primary_key=True),
    Column("numero", Text, primary_key=True),
    Column("porteur_siret", Text, nullable=False),
    Column("porteur_raison_sociale", Text, nullable=False),
    Column("porteur_type", Text, nullable=False),
    Column("porteur_rna", Text),
    Column("porteur_contact", Text, nullable=False),
    Column("porteur_email", Text, nullable=False),
    Column("intitule", Text, nullable=False),
    Column("objectif_operationnel", Text, nullable=False),
    Column("theme_anct", Text),
    Column("sous_theme_anct", Text),
    Column("territoire", Text, nullable=False),
    Column("departement_dispositif", Text),
    Column("indicateur", Text, nullable=False),
    Column("mode_recueil", Text, nullable=False),
    Column("convention_numero", Text),
    Column("convention_date", Text),
    Column("dossier_dauphin", Text),
    Column("theme_p147", Text),
    Column("sous_theme_p147", Text),
    Column("modalite_p147", Text),
    Column("dispositifs_etat", Text),
    Column("code_qpv", Text),
    Column("objectif_quantifie", Text),
    Column("valeur_cible", Text),
    Column("unite", Text),
)

programmation_financements = Table(
    "programmation_financements", metadata,
    Column("contrat", Text, primary_key=True),
    Column("annee", Integer, primary_key=True),
    Column("numero", Text, primary_key=True),
    Column("financeur", Text, primary_key=True),
    Column("demande", Text),
    Column("accorde", Text),
    Column("verse", Text),
    Column("dates_versement", Text),
    ForeignKeyConstraint(["contrat", "annee", "numero"],
                         ["programmation_actions.contrat", "programmation_actions.annee",
                          "programmation_actions.numero"], ondelete="CASCADE"),
)

# Parents before children: the order to copy a store into another one.
TABLES_IN_ORDER = (submissions, bilans, budget_lignes, suivis, indicateurs, pistes,
                   syntheses, decisions, programmation_actions, programmation_financements)
