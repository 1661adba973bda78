"""The store as cv_excel wrote it before SQLAlchemy and Alembic: the seven hand-written
SQLite migrations (``PRAGMA user_version`` 1-7), frozen here as they were released, to build
old stores in the tests and check that they are upgraded in place, and that Alembic's
revisions 0001-0007 give exactly the same schema."""

from __future__ import annotations

import sqlite3
from pathlib import Path

# Migration n (1-based) brings the schema from version n-1 to n (cv_excel/store/db.py up
# to schema 7, verbatim).
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE submissions (
            id INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL UNIQUE,
            nom TEXT NOT NULL,
            recu_le TEXT NOT NULL,
            type TEXT NOT NULL,
            classeur_id TEXT NOT NULL,
            contrat TEXT NOT NULL,
            annee INTEGER,
            destinataire_id TEXT NOT NULL,
            destinataire TEXT NOT NULL,
            statut TEXT NOT NULL,
            bloquants INTEGER NOT NULL,
            avertissements INTEGER NOT NULL,
            findings_json TEXT NOT NULL,
            nb_sections INTEGER NOT NULL DEFAULT 0,
            donnees INTEGER NOT NULL DEFAULT 0,
            importee_le TEXT NOT NULL,
            remplacee_par INTEGER REFERENCES submissions(id)
        )""",
        "CREATE INDEX submissions_annee ON submissions(contrat, annee)",
        # At most one accepted return in force per recipient and year.
        """CREATE UNIQUE INDEX submissions_courante
            ON submissions(contrat, annee, type, destinataire_id)
            WHERE donnees = 1 AND remplacee_par IS NULL""",
        """CREATE TABLE bilans (
            submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
            numero TEXT NOT NULL,
            contrat TEXT NOT NULL,
            annee INTEGER,
            realisation TEXT,
            date_debut TEXT,
            date_fin TEXT,
            benef_total INTEGER,
            benef_femmes INTEGER,
            benef_hommes INTEGER,
            benef_qpv INTEGER,
            benef_moins_12 INTEGER,
            benef_12_17 INTEGER,
            benef_18_25 INTEGER,
            benef_26_59 INTEGER,
            benef_60_plus INTEGER,
            score INTEGER,
            score_justification TEXT,
            mode_recueil TEXT,
            valeur_constatee TEXT,
            resultats TEXT,
            difficultes TEXT,
            perspectives TEXT,
            ecarts_explication TEXT,
            PRIMARY KEY (submission_id, numero)
        )""",
        """CREATE TABLE budget_lignes (
            submission_id INTEGER NOT NULL,
            numero TEXT NOT NULL,
            tableau TEXT NOT NULL,
            ligne TEXT NOT NULL,
            prevu TEXT,
            realise TEXT,
            PRIMARY KEY (submission_id, numero, tableau, ligne),
            FOREIGN KEY (submission_id, numero) REFERENCES bilans(submission_id, numero)
                ON DELETE CASCADE
        )""",
        """CREATE TABLE suivis (
            submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
            code TEXT NOT NULL,
            contrat TEXT NOT NULL,
            annee INTEGER,
            referent_id TEXT NOT NULL,
            avancement TEXT,
            actions_realisees TEXT,
            actions_en_cours TEXT,
            resultats TEXT,
            difficultes TEXT,
            propositions TEXT,
            PRIMARY KEY (submission_id, code)
        )""",
        """CREATE TABLE indicateurs (
            submission_id INTEGER NOT NULL,
            code TEXT NOT NULL,
            propose INTEGER NOT NULL,
            rang INTEGER NOT NULL,
            libelle TEXT NOT NULL,
            type TEXT,
            valeur_cible TEXT,
            valeur_precedente TEXT,
            valeur_annee TEXT,
            source TEXT,
            commentaire TEXT,
            PRIMARY KEY (submission_id, code, propose, rang),
            FOREIGN KEY (submission_id, code) REFERENCES suivis(submission_id, code)
                ON DELETE CASCADE
        )""",
        """CREATE TABLE programmation_actions (
            contrat TEXT NOT NULL,
            annee INTEGER NOT NULL,
            numero TEXT NOT NULL,
            porteur_siret TEXT NOT NULL,
            porteur_raison_sociale TEXT NOT NULL,
            porteur_type TEXT NOT NULL,
            porteur_rna TEXT,
            porteur_contact TEXT NOT NULL,
            porteur_email TEXT NOT NULL,
            intitule TEXT NOT NULL,
            objectif_operationnel TEXT NOT NULL,
            theme_anct TEXT,
            sous_theme_anct TEXT,
            territoire TEXT NOT NULL,
            departement_dispositif TEXT,
            indicateur TEXT NOT NULL,
            mode_recueil TEXT NOT NULL,
            PRIMARY KEY (contrat, annee, numero)
        )""",
        """CREATE TABLE programmation_financements (
            contrat TEXT NOT NULL,
            annee INTEGER NOT NULL,
            numero TEXT NOT NULL,
            financeur TEXT NOT NULL,
            demande TEXT,
            accorde TEXT,
            PRIMARY KEY (contrat, annee, numero, financeur),
            FOREIGN KEY (contrat, annee, numero)
                REFERENCES programmation_actions(contrat, annee, numero) ON DELETE CASCADE
        )""",
    ),
    # 2: conventions and payments (issue 11). Dates are ISO text; several payment dates
    # of one financeur are joined with « ; » in chronological order.
    (
        "ALTER TABLE programmation_actions ADD COLUMN convention_numero TEXT",
        "ALTER TABLE programmation_actions ADD COLUMN convention_date TEXT",
        "ALTER TABLE programmation_financements ADD COLUMN verse TEXT",
        "ALTER TABLE programmation_financements ADD COLUMN dates_versement TEXT",
    ),
    # 3: the bilan's Cerfa 15059 texts (issue 11): lieu(x) de réalisation, observations,
    # règle de répartition des charges indirectes. New budget lines need no change: they
    # are rows of budget_lignes under their own keys.
    (
        "ALTER TABLE bilans ADD COLUMN lieux_realisation TEXT",
        "ALTER TABLE bilans ADD COLUMN observations TEXT",
        "ALTER TABLE bilans ADD COLUMN repartition_charges_indirectes TEXT",
    ),
    # 4: the État's references of an action (issue 11): Dauphin dossier, codes of the
    # nomenclature des crédits du P147, the State's dispositifs (joined with « ; ») and
    # the QPV code.
    (
        "ALTER TABLE programmation_actions ADD COLUMN dossier_dauphin TEXT",
        "ALTER TABLE programmation_actions ADD COLUMN theme_p147 TEXT",
        "ALTER TABLE programmation_actions ADD COLUMN sous_theme_p147 TEXT",
        "ALTER TABLE programmation_actions ADD COLUMN modalite_p147 TEXT",
        "ALTER TABLE programmation_actions ADD COLUMN dispositifs_etat TEXT",
        "ALTER TABLE programmation_actions ADD COLUMN code_qpv TEXT",
    ),
    # 5: the action's quantified objective (issue 11): what is counted, the target (decimal
    # text) and its unit in the programmation; the value reached (decimal text) in the bilan.
    (
        "ALTER TABLE programmation_actions ADD COLUMN objectif_quantifie TEXT",
        "ALTER TABLE programmation_actions ADD COLUMN valeur_cible TEXT",
        "ALTER TABLE programmation_actions ADD COLUMN unite TEXT",
        "ALTER TABLE bilans ADD COLUMN valeur_atteinte TEXT",
    ),
    # 6: the governance cycle (issue 10). A submission belongs to a revue (NULL: annual —
    # porteurs, référents of the old annual mode); one accepted return is in force per
    # recipient, year AND revue. The référents' indicators carry a unit, a reference and
    # the basket choice; the pistes d'action their state; pilotes and coordonnateurs write
    # one synthesis per objectif stratégique / orientation; the relevés de décisions give
    # every decision's state at a revue (numbered by the store, see store.imports).
    (
        "ALTER TABLE submissions ADD COLUMN revue INTEGER",
        "DROP INDEX submissions_courante",
        """CREATE UNIQUE INDEX submissions_courante
            ON submissions(contrat, annee, COALESCE(revue, 0), type, destinataire_id)
            WHERE donnees = 1 AND remplacee_par IS NULL""",
        "CREATE INDEX submissions_type ON submissions(contrat, type, annee)",
        "ALTER TABLE indicateurs ADD COLUMN unite TEXT",
        "ALTER TABLE indicateurs ADD COLUMN valeur_reference TEXT",
        "ALTER TABLE indicateurs ADD COLUMN annee_reference INTEGER",
        "ALTER TABLE indicateurs ADD COLUMN panier TEXT",
        "ALTER TABLE indicateurs ADD COLUMN cible_fiche TEXT",
        """CREATE TABLE pistes (
            submission_id INTEGER NOT NULL,
            code TEXT NOT NULL,
            rang INTEGER NOT NULL,
            libelle TEXT NOT NULL,
            etat TEXT,
            commentaire TEXT,
            PRIMARY KEY (submission_id, code, rang),
            FOREIGN KEY (submission_id, code) REFERENCES suivis(submission_id, code)
                ON DELETE CASCADE
        )""",
        """CREATE TABLE syntheses (
            submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
            niveau TEXT NOT NULL,
            code TEXT NOT NULL,
            contrat TEXT NOT NULL,
            annee INTEGER,
            revue INTEGER,
            auteur_id TEXT NOT NULL,
            avancement TEXT,
            rag TEXT,
            synthese TEXT,
            difficultes TEXT,
            propositions TEXT,
            PRIMARY KEY (submission_id, code)
        )""",
        """CREATE TABLE decisions (
            submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
            numero TEXT NOT NULL,
            pilier TEXT NOT NULL,
            code TEXT,
            contrat TEXT NOT NULL,
            annee INTEGER,
            revue INTEGER,
            rang INTEGER NOT NULL,
            nouvelle INTEGER NOT NULL,
            decision TEXT,
            type TEXT,
            responsable TEXT,
            echeance TEXT,
            statut TEXT,
            commentaire TEXT,
            ouverte_annee INTEGER,
            ouverte_revue INTEGER,
            PRIMARY KEY (submission_id, numero)
        )""",
        "CREATE INDEX decisions_numero ON decisions(contrat, numero)",
    ),
    (
        # The porteur's legal representative (« Représentant légal ») of the workbook, kept
        # with each action's bilan: the compte rendu financier is signed in that name.
        "ALTER TABLE bilans ADD COLUMN representant TEXT",
    ),
)


def store_at_version(path: Path, version: int) -> sqlite3.Connection:
    """A raw store as an older cv_excel left it: the first ``version`` migrations only.
    The caller fills it, commits and closes."""
    raw = sqlite3.connect(path)
    for statements in MIGRATIONS[:version]:
        for statement in statements:
            raw.execute(statement)
    raw.execute(f"PRAGMA user_version = {version}")
    return raw
