"""Values typed in the returned workbooks: types, lists, lengths, coherence, contract.

FAC / pyxform style: one good porteur workbook and one good référent workbook,
filled by name like a careful user would, must pass; then each case of a table
mutates one copy and names the code, sheet and field the check must report.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.utils import range_boundaries

from cv_excel.config import DossierTravail
from cv_excel.demo import run_demo_cycle
from cv_excel.findings import Finding, Severity
from cv_excel.intake.checks.cross import check_cross
from cv_excel.intake.checks.values import check_values, parse_date_text
from cv_excel.intake.context import IntakeContext, context_for
from cv_excel.listes import MODES_RECUEIL
from cv_excel.reader import read_workbook
from cv_excel.referentiel.load import load_referentiel
from cv_excel.spec import PORTEUR, REFERENT
from cv_excel.spec.model import ClasseurSpec

ANNEE = 2019


# --- a workbook opened with openpyxl, addressed by its sheet-scoped names ----------------

class Book:
    def __init__(self, data: bytes, spec: ClasseurSpec):
        self.wb = load_workbook(io.BytesIO(data))
        self.spec = spec
        repeated = spec.section.champs[0].name
        self.sections = [ws.title for ws in self.wb.worksheets
                         if repeated in ws.defined_names]

    @property
    def s1(self) -> str:
        return self.sections[0]

    @property
    def s2(self) -> str:
        return self.sections[1]

    def _bounds(self, sheet: str, name: str) -> tuple[int, int, int, int]:
        text = self.wb[sheet].defined_names[name].attr_text
        return range_boundaries(text.split("!")[-1].replace("$", ""))

    def set(self, sheet: str, name: str, value: Any) -> None:
        col, row, _, _ = self._bounds(sheet, name)
        self.wb[sheet].cell(row, col).value = value

    def get(self, sheet: str, name: str) -> Any:
        col, row, _, _ = self._bounds(sheet, name)
        return self.wb[sheet].cell(row, col).value

    def _table_cell(self, sheet: str, table: str, key: str, column: str):
        tableau = next(t for f in self.spec.feuilles for t in f.tableaux if t.name == table)
        r = ([ligne.key for ligne in tableau.lignes].index(key) if tableau.lignes
             else int(key) - 1)
        c = [col.name for col in tableau.colonnes].index(column)
        min_col, min_row, _, _ = self._bounds(sheet, table)
        return self.wb[sheet].cell(min_row + r, min_col + c)

    def set_t(self, sheet: str, table: str, key: str, column: str, value: Any) -> None:
        self._table_cell(sheet, table, key, column).value = value

    def get_t(self, sheet: str, table: str, key: str, column: str) -> Any:
        return self._table_cell(sheet, table, key, column).value

    def clear_section(self, sheet: str) -> None:
        """Every input of one section emptied: the porteur forgot the sheet."""
        feuille = self.spec.section
        for champ in feuille.champs:
            if champ.role == "saisie":
                self.set(sheet, champ.name, None)
        for tableau in feuille.tableaux:
            keys = ([ligne.key for ligne in tableau.lignes] if tableau.lignes
                    else [str(i + 1) for i in range(tableau.min_capacite)])
            for key in keys:
                for col in tableau.colonnes:
                    if tableau.role_of(key if tableau.lignes else None, col.name) == "saisie":
                        self.set_t(sheet, tableau.name, key, col.name, None)

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        self.wb.save(buffer)
        return buffer.getvalue()


# --- good workbooks ------------------------------------------------------------------------

def fill_porteur(book: Book) -> None:
    book.set("Porteur", "por_representant", "Claire Durand, présidente")
    book.set("Porteur", "por_redacteur", "Karim Benali, coordinateur")
    book.set("Porteur", "por_telephone", "01 48 90 20 00")
    book.set("Porteur", "por_email_redacteur", "k.benali@association.example.org")
    book.set("Porteur", "por_date", dt.datetime(ANNEE + 1, 1, 20))
    book.set("Porteur", "por_attestation", "Oui")
    for sheet in book.sections:
        book.set(sheet, "act_realisation", "Réalisée")
        book.set(sheet, "act_date_debut", dt.datetime(ANNEE, 2, 1))
        book.set(sheet, "act_date_fin", dt.datetime(ANNEE, 11, 30))
        for name, n in (("act_benef_total", 40), ("act_benef_femmes", 22),
                        ("act_benef_hommes", 18), ("act_benef_qpv", 30),
                        ("act_benef_moins_12", 5), ("act_benef_12_17", 15),
                        ("act_benef_18_25", 10), ("act_benef_26_59", 8),
                        ("act_benef_60_plus", 2)):
            book.set(sheet, name, n)
        book.set(sheet, "act_score", 80)
        book.set(sheet, "act_score_justification",
                 "14 jeunes sur 20 ont ouvert leurs droits, soit 70 % de l'objectif.")
        book.set(sheet, "act_valeur_constatee", "14 jeunes sur 20")
        book.set(sheet, "act_mode_recueil", MODES_RECUEIL[1])
        book.set(sheet, "act_resultats", "Vingt jeunes accompagnés, quatorze droits ouverts.")
        book.set(sheet, "act_difficultes", "Mobilisation des jeunes en été.")
        book.set(sheet, "act_perspectives", "Reconduction en 2020.")
        book.set(sheet, "act_lieux_realisation", "Mission locale, 4 rue des Hautes Bornes.")
        book.set(sheet, "act_observations", "Bilan établi avec les conseillers.")
        # Budget: the 74 lines' prévu is the amount accordé (prefilled); réalisé = prévu,
        # and charges balance the produits, prévu and réalisé alike.
        accorde = 0
        for ligne in PORTEUR.section.tableaux[2].lignes:
            prevu = book.get_t(sheet, "bud_produits", ligne.key, "prevu")
            if isinstance(prevu, int | float):
                book.set_t(sheet, "bud_produits", ligne.key, "realise", prevu)
                accorde += prevu
        book.set_t(sheet, "bud_produits", "75", "prevu", 1000)
        book.set_t(sheet, "bud_produits", "75", "realise", 1000)
        total = accorde + 1000
        personnel = round(total * 0.6)
        # Charges indirectes count in the total of the charges, their rule is stated.
        for key, amount in (("60", 500), ("61", total - personnel - 800), ("64", personnel),
                            ("ci_fonctionnement", 300)):
            book.set_t(sheet, "bud_charges", key, "prevu", amount)
            book.set_t(sheet, "bud_charges", key, "realise", amount)
        book.set(sheet, "bud_repartition_charges_indirectes",
                 "Au prorata des heures du personnel consacrées à l'action.")
        for table in ("bud_charges_contrib", "bud_produits_contrib"):
            key = "864" if table == "bud_charges_contrib" else "870"
            book.set_t(sheet, table, key, "prevu", 500)
            book.set_t(sheet, table, key, "realise", 500)


def fill_referent(book: Book) -> None:
    book.set("Référent", "ref_redacteur", "Sophie Martin, cheffe de service")
    book.set("Référent", "ref_date", dt.datetime(ANNEE + 1, 1, 15))
    for sheet in book.sections:
        book.set(sheet, "obj_avancement", "En cours")
        book.set(sheet, "obj_actions_realisees", "Deux actions réalisées, une reportée.")
        book.set(sheet, "obj_actions_en_cours", "Permanence du mercredi.")
        book.set(sheet, "obj_resultats", "Fréquentation en hausse de 12 %.")
        book.set(sheet, "obj_difficultes", "Locaux indisponibles au printemps.")
        book.set(sheet, "obj_propositions", "Mutualiser les locaux avec le centre social.")
        book.set_t(sheet, "obj_indicateurs", "1", "valeur_annee", 72)
        book.set_t(sheet, "obj_indicateurs", "1", "unite", "%")
        book.set_t(sheet, "obj_indicateurs", "1", "panier", "Conservé")
        book.set_t(sheet, "obj_indicateurs", "1", "source", "Service vie associative")
        _, top, _, bottom = book._bounds(sheet, "obj_pistes")
        for row in range(1, bottom - top + 2):
            if book.get_t(sheet, "obj_pistes", str(row), "libelle"):  # a piste of the fiche
                book.set_t(sheet, "obj_pistes", str(row), "etat", "Engagée")
        book.set_t(sheet, "obj_nouveaux_indicateurs", "1", "libelle",
                   "Nombre de bénévoles formés")
        book.set_t(sheet, "obj_nouveaux_indicateurs", "1", "type", "Résultat")
        book.set_t(sheet, "obj_nouveaux_indicateurs", "1", "valeur_cible", 30)


@dataclass
class Demo:
    ctx: IntakeContext
    porteur: bytes  # the good, filled porteur workbook
    referent: bytes
    porteur_blank: Path


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Demo:
    dossier = tmp_path_factory.mktemp("valeurs") / "demo"
    run_demo_cycle(dossier)
    work = DossierTravail.open(dossier)
    ref, _ = load_referentiel(work.path("referents"))
    registre = json.loads((dossier / "classeurs" / str(ANNEE) / "registre.json")
                          .read_text("utf-8"))
    porteur = next(e for e in registre if e["type"] == "porteur" and len(e["sections"]) >= 2)
    referent = next(e for e in registre if e["type"] == "referent")
    blank = dossier / porteur["fichier"]
    good_p = Book(blank.read_bytes(), PORTEUR)
    fill_porteur(good_p)
    good_r = Book((dossier / referent["fichier"]).read_bytes(), REFERENT)
    fill_referent(good_r)
    return Demo(context_for(work, ref, ANNEE), good_p.to_bytes(), good_r.to_bytes(), blank)


def run(demo: Demo, tmp_path: Path, spec: ClasseurSpec,
        mutate: Callable[[Book], None] | None = None, annee: int = ANNEE) -> list[Finding]:
    book = Book(demo.porteur if spec is PORTEUR else demo.referent, spec)
    if mutate is not None:
        mutate(book)
    path = tmp_path / f"{spec.kind}.xlsx"
    path.write_bytes(book.to_bytes())
    lu = read_workbook(path, spec)
    assert not lu.missing
    return check_values(lu, demo.ctx) + check_cross(lu, demo.ctx, annee)


def blocking(findings: list[Finding]) -> list[tuple[str, str | None, str | None]]:
    return [(f.code, f.sheet, f.field) for f in findings if f.severity is Severity.BLOQUANT]


# --- should pass ---------------------------------------------------------------------------

def test_good_porteur_workbook_has_no_finding(demo, tmp_path):
    findings = run(demo, tmp_path, PORTEUR)
    assert [(f.code, f.sheet, f.field, f.message) for f in findings] == []


def test_good_referent_workbook_has_no_finding(demo, tmp_path):
    findings = run(demo, tmp_path, REFERENT)
    assert [(f.code, f.sheet, f.field, f.message) for f in findings] == []


def test_no_charges_indirectes_needs_no_rule(demo, tmp_path):
    """Without charges indirectes the Cerfa's question needs no answer; with them, an
    answered rule is no finding (the good workbook), nor a line typed as 0."""
    def without(b: Book) -> None:
        b.set_t(b.s1, "bud_charges", "61", "prevu", b.get_t(b.s1, "bud_charges", "61",
                                                               "prevu") + 300)
        b.set_t(b.s1, "bud_charges", "61", "realise", b.get_t(b.s1, "bud_charges", "61",
                                                                 "realise") + 300)
        b.set_t(b.s1, "bud_charges", "ci_fonctionnement", "prevu", 0)
        b.set_t(b.s1, "bud_charges", "ci_fonctionnement", "realise", 0)
        b.set(b.s1, "bud_repartition_charges_indirectes", None)
    assert run(demo, tmp_path, PORTEUR, without) == []


def test_charges_indirectes_warning_in_french(demo, tmp_path):
    findings = run(demo, tmp_path, PORTEUR, _s1("bud_repartition_charges_indirectes", None))
    (f,) = findings
    assert f.severity is Severity.AVERTISSEMENT
    assert "prévu 300 €, réalisé 300 €" in f.message
    assert "Quelle a été la règle de répartition des charges indirectes appliquée ?" in f.hint


def test_loose_spellings_of_list_values_are_accepted(demo, tmp_path):
    def mutate(b: Book) -> None:
        b.set("Porteur", "por_attestation", " oui ")
        b.set(b.s1, "act_realisation", "réalisée")
        b.set(b.s1, "act_score", "80")  # typed as text: still on the scale

    assert run(demo, tmp_path, PORTEUR, mutate) == []


def test_explained_gap_passes(demo, tmp_path):
    def mutate(b: Book) -> None:
        _gap(b)
        b.set(b.s1, "bud_ecarts_explication", "Recrutement d'un animateur supplémentaire.")

    assert run(demo, tmp_path, PORTEUR, mutate) == []


def test_blank_realise_lines_are_no_gap(demo, tmp_path):
    """A line whose réalisé is left empty has no gap, whatever its prévu (a 74 line
    prefilled with the amount accordé, a charge line), nor has a 0 € line without prévu."""
    blank = []

    def mutate(b: Book) -> None:
        ligne74 = next(ligne.label for ligne in PORTEUR.section.tableaux[2].lignes
                       if b.get_t(b.s1, "bud_produits", ligne.key, "prevu"))
        key74 = next(ligne.key for ligne in PORTEUR.section.tableaux[2].lignes
                     if ligne.label == ligne74)
        blank.append(ligne74)
        for table, key in (("bud_produits", key74), ("bud_charges", "60")):
            b.set_t(b.s1, table, key, "realise", None)
        b.set_t(b.s1, "bud_charges", "63", "realise", 0)

    findings = run(demo, tmp_path, PORTEUR, mutate)
    messages = " ".join(f.message for f in findings if f.code == "VAL_ECART_NON_EXPLIQUE")
    for label in (*blank, "60 – Achats", "63 – Impôts"):
        assert label not in messages


def test_explained_spending_without_prevu_passes(demo, tmp_path):
    def mutate(b: Book) -> None:
        _sans_prevu(b)
        b.set(b.s1, "bud_ecarts_explication", "Achat de matériel non prévu, financé par la "
                                              "vente de repas.")

    assert run(demo, tmp_path, PORTEUR, mutate) == []


def test_numbers_and_dates_typed_as_text_are_read_with_a_warning(demo, tmp_path):
    def mutate(b: Book) -> None:
        b.set(b.s1, "act_benef_total", "40")
        b.set(b.s1, "act_date_debut", "01/02/2019")
        b.set_t(b.s1, "bud_charges", "60", "realise", "500 €")

    findings = run(demo, tmp_path, PORTEUR, mutate)
    assert blocking(findings) == []
    assert sorted(f.code for f in findings) == ["VAL_DATE_TEXTE", "VAL_NOMBRE_TEXTE",
                                                "VAL_NOMBRE_TEXTE"]
    date = next(f for f in findings if f.code == "VAL_DATE_TEXTE")
    assert "01/02/2019" in date.message and date.severity is Severity.AVERTISSEMENT


# --- should fail ---------------------------------------------------------------------------

def _gap(b: Book) -> None:
    """Personnel costs 30 % above prévu, balanced by a produit: only the gap is wrong."""
    prevu = b.get_t(b.s1, "bud_charges", "64", "prevu")
    extra = round(prevu * 0.3)
    b.set_t(b.s1, "bud_charges", "64", "realise", prevu + extra)
    b.set_t(b.s1, "bud_produits", "70", "realise", extra)


def _sans_prevu(b: Book) -> None:
    """1 200 € spent on a line without prévu (63), received on another without prévu (70);
    the totals stay within 15 % of prévu."""
    b.set_t(b.s1, "bud_charges", "63", "realise", 1200)
    b.set_t(b.s1, "bud_produits", "70", "realise", 1200)


def _sans_regle_frais_financiers(b: Book) -> None:
    """Charges indirectes moved to « frais financiers », réalisé only (no prévu there)."""
    b.set_t(b.s1, "bud_charges", "ci_fonctionnement", "realise", 0)
    b.set_t(b.s1, "bud_charges", "ci_financieres", "realise", 300)


def _fondation_sans_prevu(b: Book) -> None:
    """A foundation's 800 € received without prévu, spent on line 62 without prévu."""
    b.set_t(b.s1, "bud_produits", "74_fondations", "realise", 800)
    b.set_t(b.s1, "bud_charges", "62", "realise", 800)


def _s1(name: str, value: Any) -> Callable[[Book], None]:
    return lambda b: b.set(b.s1, name, value)


def _porteur(name: str, value: Any) -> Callable[[Book], None]:
    return lambda b: b.set("Porteur", name, value)


def _t1(table: str, key: str, column: str, value: Any) -> Callable[[Book], None]:
    return lambda b: b.set_t(b.s1, table, key, column, value)


def _all(*mutations: Callable[[Book], None]) -> Callable[[Book], None]:
    def mutate(b: Book) -> None:
        for m in mutations:
            m(b)
    return mutate


def _empty_budget(b: Book) -> None:
    for table, keys in (("bud_charges", ["60", "61", "64", "ci_fonctionnement"]),
                        ("bud_produits_contrib", ["870"]), ("bud_charges_contrib", ["864"])):
        for key in keys:
            b.set_t(b.s1, table, key, "realise", None)
    for ligne in PORTEUR.section.tableaux[2].lignes:
        b.set_t(b.s1, "bud_produits", ligne.key, "realise", None)


def _objectif(cible: Any, atteinte: Any, score: int | None = None,
              unite: str = "jeunes") -> Callable[[Book], None]:
    """The programmation's valeur cible and unit (prefilled; set here so that a case does
    not depend on the demo's draw), the valeur atteinte typed and, if given, the note."""
    def mutate(b: Book) -> None:
        b.set(b.s1, "act_valeur_cible", cible)
        b.set(b.s1, "act_unite", unite)
        b.set(b.s1, "act_valeur_atteinte", atteinte)
        if score is not None:
            b.set(b.s1, "act_score", score)
    return mutate


ACTION, PORTEUR_SHEET, OBJECTIF, REFERENT_SHEET = "Action ", "Porteur", "Objectif ", "Référent"

PORTEUR_CASES = [
    ("mot dans un nombre", _s1("act_benef_total", "douze"),
     "VAL_PAS_UN_NOMBRE", ACTION, "act_benef_total"),
    ("nombre en texte", _s1("act_benef_total", "40"),
     "VAL_NOMBRE_TEXTE", ACTION, "act_benef_total"),
    ("montant en texte avec euros", _t1("bud_charges_contrib", "861", "prevu", "1 200,50 €"),
     "VAL_NOMBRE_TEXTE", ACTION, "bud_charges_contrib.prevu"),
    ("date dans un nombre", _s1("act_benef_total", dt.datetime(2019, 3, 12)),
     "VAL_PAS_UN_NOMBRE", ACTION, "act_benef_total"),
    ("mot dans un montant", _t1("bud_charges", "60", "realise", "beaucoup"),
     "VAL_PAS_UN_NOMBRE", ACTION, "bud_charges.realise"),
    ("décimal pour un entier", _s1("act_benef_femmes", 22.5),
     "VAL_ENTIER", ACTION, "act_benef_femmes"),
    ("décimal en texte pour un entier", _s1("act_benef_hommes", "18,5"),
     "VAL_ENTIER", ACTION, "act_benef_hommes"),
    ("montant négatif", _t1("bud_charges", "60", "realise", -100),
     "VAL_NEGATIF", ACTION, "bud_charges.realise"),
    ("nombre de bénéficiaires négatif", _s1("act_benef_total", -3),
     "VAL_NEGATIF", ACTION, "act_benef_total"),
    ("date en texte", _s1("act_date_debut", "12/03/2019"),
     "VAL_DATE_TEXTE", ACTION, "act_date_debut"),
    ("date impossible", _s1("act_date_fin", "32/13/2019"),
     "VAL_PAS_UNE_DATE", ACTION, "act_date_fin"),
    # 2019 typed in a date cell is day 2019 of Excel's calendar: 11/07/1905, out of bounds.
    ("année seule dans une date", _s1("act_date_debut", 2019),
     "VAL_INVRAISEMBLABLE", ACTION, "act_date_debut"),
    ("nombre de bénéficiaires invraisemblable", _s1("act_benef_total", 1e20),
     "VAL_INVRAISEMBLABLE", ACTION, "act_benef_total"),
    ("montant invraisemblable", _t1("bud_charges", "60", "realise", 10**30),
     "VAL_INVRAISEMBLABLE", ACTION, "bud_charges.realise"),
    ("date du bilan en l'an 9999", _porteur("por_date", dt.datetime(9999, 12, 31)),
     "VAL_INVRAISEMBLABLE", PORTEUR_SHEET, "por_date"),
    ("date du bilan en texte ISO", _porteur("por_date", "2020-01-20"),
     "VAL_DATE_TEXTE", PORTEUR_SHEET, "por_date"),
    ("date du bilan illisible", _porteur("por_date", "fin janvier"),
     "VAL_PAS_UNE_DATE", PORTEUR_SHEET, "por_date"),
    ("note 55", _s1("act_score", 55), "VAL_SCORE", ACTION, "act_score"),
    ("note en lettres", _s1("act_score", "quatre-vingts"), "VAL_SCORE", ACTION, "act_score"),
    ("note sans justification", _s1("act_score_justification", None),
     "VAL_SCORE_JUSTIFICATION", ACTION, "act_score_justification"),
    ("note 0 pour une action réalisée", _s1("act_score", 0),
     "VAL_SCORE_REALISATION", ACTION, "act_score"),
    ("action non réalisée notée 80", _s1("act_realisation", "Non réalisée"),
     "VAL_SCORE_REALISATION", ACTION, "act_score"),
    ("note 0 pour une action en cours",
     lambda b: (b.set(b.s1, "act_realisation", "En cours"), b.set(b.s1, "act_score", 0)),
     "VAL_SCORE_REALISATION", ACTION, "act_score"),
    ("réalisation hors liste", _s1("act_realisation", "Terminée"),
     "VAL_HORS_LISTE", ACTION, "act_realisation"),
    ("mode de recueil hors liste", _s1("act_mode_recueil", "Sondage"),
     "VAL_HORS_LISTE", ACTION, "act_mode_recueil"),
    ("attestation hors liste", _porteur("por_attestation", "Peut-être"),
     "VAL_HORS_LISTE", PORTEUR_SHEET, "por_attestation"),
    ("femmes + hommes différent du total", _s1("act_benef_hommes", 10),
     "VAL_BENEF_SEXE", ACTION, "act_benef_femmes"),
    ("femmes seules plus nombreuses que le total",
     _all(_s1("act_benef_hommes", None), _s1("act_benef_femmes", 50)),
     "VAL_BENEF_PARTIE", ACTION, "act_benef_femmes"),
    ("QPV plus nombreux que le total", _s1("act_benef_qpv", 50),
     "VAL_BENEF_QPV", ACTION, "act_benef_qpv"),
    ("tranches d'âge au-delà du total", _s1("act_benef_26_59", 30),
     "VAL_BENEF_AGES", ACTION, "act_benef_moins_12"),
    ("début après la fin", _s1("act_date_debut", dt.datetime(2019, 12, 15)),
     "VAL_DATES_ORDRE", ACTION, "act_date_debut"),
    ("date hors de l'année", _s1("act_date_fin", dt.datetime(2091, 11, 30)),
     "VAL_DATES_ANNEE", ACTION, "act_date_fin"),
    ("budget déséquilibré", _t1("bud_produits", "70", "realise", 5000),
     "VAL_BUDGET_DESEQUILIBRE", ACTION, "bud_total_charges_realise"),
    ("contributions 86 ≠ 87", _t1("bud_produits_contrib", "870", "realise", 450),
     "VAL_BUDGET_DESEQUILIBRE", ACTION, "bud_charges_contrib.realise"),
    ("bénévolat valorisé sans emploi en 86", _t1("bud_produits_contrib", "875", "realise", 200),
     "VAL_BUDGET_DESEQUILIBRE", ACTION, "bud_charges_contrib.realise"),
    ("charges indirectes sans règle de répartition",
     _s1("bud_repartition_charges_indirectes", None),
     "VAL_CHARGES_INDIRECTES_SANS_REGLE", ACTION, "bud_repartition_charges_indirectes"),
    ("charges indirectes réalisées sans règle ni prévu",
     _all(_s1("bud_repartition_charges_indirectes", None), _sans_regle_frais_financiers),
     "VAL_CHARGES_INDIRECTES_SANS_REGLE", ACTION, "bud_repartition_charges_indirectes"),
    ("charges indirectes non comptées dans l'équilibre",
     _t1("bud_charges", "ci_autres", "realise", 700),
     "VAL_BUDGET_DESEQUILIBRE", ACTION, "bud_total_charges_realise"),
    ("fondation perçue sans prévu non expliquée", _fondation_sans_prevu,
     "VAL_ECART_NON_EXPLIQUE", ACTION, "bud_ecarts_explication"),
    ("lieu de réalisation trop long", _s1("act_lieux_realisation", "x" * 501),
     "VAL_TEXTE_TROP_LONG", ACTION, "act_lieux_realisation"),
    ("écart de plus de 15 % non expliqué", _gap,
     "VAL_ECART_NON_EXPLIQUE", ACTION, "bud_ecarts_explication"),
    ("réalisé sans montant prévu non expliqué", _sans_prevu,
     "VAL_ECART_NON_EXPLIQUE", ACTION, "bud_ecarts_explication"),
    ("réalisé vide pour une action réalisée", _empty_budget,
     "VAL_BUDGET_REALISE_VIDE", ACTION, "bud_charges.realise"),
    ("réalisé vide pour une action en cours (avertissement)",
     _all(_empty_budget, _s1("act_realisation", "En cours")),
     "VAL_BUDGET_REALISE_EN_COURS", ACTION, "bud_charges.realise"),
    ("texte trop long", _s1("act_resultats", "x" * 3001),
     "VAL_TEXTE_TROP_LONG", ACTION, "act_resultats"),
    ("téléphone trop long", _porteur("por_telephone", "0" * 31),
     "VAL_TEXTE_TROP_LONG", PORTEUR_SHEET, "por_telephone"),
    ("e-mail invalide", _porteur("por_email_redacteur", "k.benali@"),
     "VAL_EMAIL", PORTEUR_SHEET, "por_email_redacteur"),
    ("deux e-mails", _porteur("por_email_redacteur", "a@x.fr; b@x.fr"),
     "VAL_EMAIL", PORTEUR_SHEET, "por_email_redacteur"),
    ("représentant manquant", _porteur("por_representant", None),
     "VAL_REQUIS", PORTEUR_SHEET, "por_representant"),
    ("représentant fait d'espaces", _porteur("por_representant", "   "),
     "VAL_REQUIS", PORTEUR_SHEET, "por_representant"),
    ("action laissée vide", lambda b: b.clear_section(b.s2),
     "VAL_REQUIS", ACTION, "act_realisation"),
    # the quantified objective (issue 11): the note against the rate reached (warnings)
    ("note 80 pour 30 % de la cible", _objectif(20, 6),
     "VAL_SCORE_TAUX", ACTION, "act_score"),
    ("note 80 au-delà de la cible", _objectif(20, 25),
     "VAL_SCORE_TAUX", ACTION, "act_score"),
    ("note 100 pour la cible tout juste atteinte à 99 %", _objectif(100, 99, 100, "%"),
     "VAL_SCORE_TAUX", ACTION, "act_score"),
    ("note 20 pour 40 % d'une cible décimale", _objectif(12.5, 5, 20, "séances"),
     "VAL_SCORE_TAUX", ACTION, "act_score"),
    ("valeur atteinte en lettres", _objectif(20, "quatorze"),
     "VAL_PAS_UN_NOMBRE", ACTION, "act_valeur_atteinte"),
    ("valeur atteinte négative", _objectif(20, -3),
     "VAL_NEGATIF", ACTION, "act_valeur_atteinte"),
    ("valeur atteinte invraisemblable", _objectif(20, 1e20),
     "VAL_INVRAISEMBLABLE", ACTION, "act_valeur_atteinte"),
    # cross
    ("numéro d'action inconnu", _s1("act_numero", "2019-999"),
     "VAL_ACTION_INCONNUE", ACTION, "act_numero"),
    ("objectif de l'action changé", _s1("act_objectif", "T121 — Soutenir le monde associatif"),
     "VAL_ACTION_OBJECTIF", ACTION, "act_objectif"),
    ("objectif de l'action inconnu", _s1("act_objectif", "Z999 — Objectif inventé"),
     "VAL_OBJECTIF_INCONNU", ACTION, "act_objectif"),
]


def _o1(name: str, value: Any) -> Callable[[Book], None]:
    return lambda b: b.set(b.s1, name, value)


def _n1(key: str, column: str, value: Any) -> Callable[[Book], None]:
    return lambda b: b.set_t(b.s1, "obj_nouveaux_indicateurs", key, column, value)


REFERENT_CASES = [
    ("avancement hors liste", _o1("obj_avancement", "Terminé"),
     "VAL_HORS_LISTE", OBJECTIF, "obj_avancement"),
    ("avancement manquant", _o1("obj_avancement", None),
     "VAL_REQUIS", OBJECTIF, "obj_avancement"),
    ("résultats manquants", _o1("obj_resultats", None),
     "VAL_REQUIS", OBJECTIF, "obj_resultats"),
    ("indicateur proposé sans type", _n1("1", "type", None),
     "VAL_NOUVEL_INDICATEUR_INCOMPLET", OBJECTIF, "obj_nouveaux_indicateurs.type"),
    ("valeurs proposées sans libellé", _n1("2", "valeur_cible", "12"),
     "VAL_NOUVEL_INDICATEUR_INCOMPLET", OBJECTIF, "obj_nouveaux_indicateurs.libelle"),
    ("type d'indicateur hors liste", _n1("1", "type", "Qualité"),
     "VAL_HORS_LISTE", OBJECTIF, "obj_nouveaux_indicateurs.type"),
    ("commentaire d'indicateur trop long",
     lambda b: b.set_t(b.s1, "obj_indicateurs", "1", "commentaire", "x" * 501),
     "VAL_TEXTE_TROP_LONG", OBJECTIF, "obj_indicateurs.commentaire"),
    ("date du suivi illisible", lambda b: b.set("Référent", "ref_date", "hier"),
     "VAL_PAS_UNE_DATE", REFERENT_SHEET, "ref_date"),
    ("date du suivi en 1900", lambda b: b.set("Référent", "ref_date", "01/01/1900"),
     "VAL_INVRAISEMBLABLE", REFERENT_SHEET, "ref_date"),
    ("rédacteur manquant", lambda b: b.set("Référent", "ref_redacteur", None),
     "VAL_REQUIS", REFERENT_SHEET, "ref_redacteur"),
    # cross
    ("code d'objectif inconnu", _o1("obj_code", "Z999"),
     "VAL_OBJECTIF_INCONNU", OBJECTIF, "obj_code"),
]

CASES = [(PORTEUR, *c) for c in PORTEUR_CASES] + [(REFERENT, *c) for c in REFERENT_CASES]


@pytest.mark.parametrize(("spec", "name", "mutate", "code", "sheet", "field"), CASES,
                         ids=[c[1] for c in CASES])
def test_should_fail(demo, tmp_path, spec, name, mutate, code, sheet, field):
    findings = run(demo, tmp_path, spec, mutate)
    found = [(f.code, f.sheet, f.field) for f in findings]
    assert any(c == code and (s or "").startswith(sheet) and f_ == field
               for c, s, f_ in found), found
    finding = next(f for f in findings if f.code == code and f.field == field)
    assert finding.cell and finding.message.endswith(".") and finding.hint


def test_should_fail_table_is_large_enough():
    assert len(CASES) >= 30
    assert len({c[1] for c in CASES}) == len(CASES)


# --- the note against the rate of achievement (issue 11) -----------------------------------

@pytest.mark.parametrize(("cible", "atteinte", "score", "realisation"), [
    (20, 14, 80, "Réalisée"),  # 70 %
    (70, 35, 60, "Réalisée"),  # 50 % of a 70 % target
    (20, 4, 40, "Réalisée"),  # 20 %, on a bound: either neighbouring note
    (20, 4, 20, "Partiellement réalisée"),
    (20, 2, 20, "Partiellement réalisée"),  # 10 %
    (20, 20, 80, "Réalisée"),  # 100 %: « entre 60 et 100 % »…
    (20, 20, 100, "Réalisée"),  # … or reached: either
    (20, 25, 100, "Réalisée"),  # beyond the objective
    (12.5, 10, 80, "Réalisée"),  # 80 % of a decimal target
    (20, 0, 0, "Non réalisée"),  # nothing reached, the action did not take place
    (None, 14, 80, "Réalisée"),  # no target in the programmation: nothing to compare
    (20, None, 40, "Réalisée"),  # no value reached typed: nothing to compare
], ids=lambda v: str(v))
def test_note_matching_the_rate_should_pass(demo, tmp_path, cible, atteinte, score,
                                             realisation):
    def mutate(b: Book) -> None:
        _objectif(cible, atteinte, score)(b)
        b.set(b.s1, "act_realisation", realisation)

    assert [(f.code, f.message) for f in run(demo, tmp_path, PORTEUR, mutate)] == []


def test_note_against_the_rate_is_a_french_warning(demo, tmp_path):
    findings = run(demo, tmp_path, PORTEUR, _objectif(20, 6))
    (f,) = findings
    assert (f.code, f.severity) == ("VAL_SCORE_TAUX", Severity.AVERTISSEMENT)
    assert "La note 80" in f.message
    assert "6 jeunes pour une cible de 20 jeunes, soit 30 %" in f.message
    assert "la note 40" in f.message
    assert "Justification de la note" in f.hint  # the porteur may keep it, explained
    (f,) = run(demo, tmp_path, PORTEUR, _objectif(20, 4, 80))
    assert "soit 20 %" in f.message and "la note 20 ou 40" in f.message


def test_the_rate_is_recomputed_not_read_from_the_formula(demo, tmp_path):
    def mutate(b: Book) -> None:
        _objectif(20, 14)(b)
        b.set(b.s1, "act_taux_atteinte", 5)  # a stale cached value

    assert run(demo, tmp_path, PORTEUR, mutate) == []


# --- details -------------------------------------------------------------------------------

def test_score_without_justification_is_one_finding_not_two(demo, tmp_path):
    findings = run(demo, tmp_path, PORTEUR, _s1("act_score_justification", None))
    assert [(f.code, f.field) for f in findings] == [
        ("VAL_SCORE_JUSTIFICATION", "act_score_justification")]


def test_a_forgotten_action_lists_every_required_input(demo, tmp_path):
    findings = run(demo, tmp_path, PORTEUR, lambda b: b.clear_section(b.s2))
    required = {c.name for c in PORTEUR.section.champs if c.required and c.role == "saisie"}
    first = Book(demo.porteur, PORTEUR).s1
    on_s2 = [f for f in findings if f.sheet and f.sheet.startswith("Action ") and f.sheet != first]
    assert {f.field for f in on_s2 if f.code == "VAL_REQUIS"} == required
    assert {f.code for f in on_s2} == {"VAL_REQUIS", "VAL_BUDGET_REALISE_VIDE"}


def test_hors_liste_hint_spells_the_allowed_values(demo, tmp_path):
    findings = run(demo, tmp_path, PORTEUR, _s1("act_realisation", "Terminée"))
    (f,) = [f for f in findings if f.code == "VAL_HORS_LISTE"]
    assert "« Terminée »" in f.message and "« L'action a-t-elle été réalisée ? »" in f.message
    assert "« Partiellement réalisée »" in f.hint and "« Reportée »" in f.hint


def test_unbalanced_budget_names_both_totals(demo, tmp_path):
    findings = run(demo, tmp_path, PORTEUR, _t1("bud_produits", "70", "realise", 5000))
    (f,) = [f for f in findings if f.code == "VAL_BUDGET_DESEQUILIBRE"]
    assert "total des charges" in f.message and "total des produits" in f.message
    assert "écart de 5 000 €" in f.message


def test_gap_finding_lists_the_lines_concerned(demo, tmp_path):
    findings = run(demo, tmp_path, PORTEUR, _gap)
    (f,) = [f for f in findings if f.code == "VAL_ECART_NON_EXPLIQUE"]
    assert "64 – Charges de personnel" in f.message and "+30 %" in f.message
    # No prévu on line 70: what was received there is a gap to explain too.
    assert "70 – Ventes de produits finis, prestations de services (réalisé " in f.message
    assert "€ sans montant prévu)" in f.message
    assert "60 – Achats" not in f.message  # réalisé = prévu


def test_spending_without_prevu_is_listed_in_french(demo, tmp_path):
    findings = run(demo, tmp_path, PORTEUR, _sans_prevu)
    (f,) = [f for f in findings if f.code == "VAL_ECART_NON_EXPLIQUE"]
    assert "63 – Impôts et taxes (réalisé 1 200 € sans montant prévu)" in f.message
    assert "70 – Ventes de produits finis, prestations de services (réalisé 1 200 € sans " \
           "montant prévu)" in f.message
    assert "Total des" not in f.message  # both totals within 15 % of prévu
    assert blocking(findings) == [("VAL_ECART_NON_EXPLIQUE", f.sheet, "bud_ecarts_explication")]


def test_stale_formula_totals_are_ignored(demo, tmp_path):
    """Budget totals are recomputed from the lines, not read from the formula cells."""
    def mutate(b: Book) -> None:
        b.set(b.s1, "bud_total_charges_realise", 1)
        b.set(b.s1, "bud_total_produits_realise", 999_999)

    assert run(demo, tmp_path, PORTEUR, mutate) == []


def test_missing_programmation_is_a_warning_and_skips_action_checks(demo, tmp_path):
    findings = run(demo, tmp_path, PORTEUR, _s1("act_numero", "2019-999"), annee=2031)
    assert [(f.code, f.severity) for f in findings] == [
        ("VAL_PROGRAMMATION_ABSENTE", Severity.AVERTISSEMENT)]
    assert "2031" in findings[0].message


ODD = [None, "", "   ", "douze", "1 200,50 €", -1, 0.5, 10**12, True,
       dt.datetime(1900, 1, 1), dt.time(12, 30), "x" * 5000, "=1+1", "31/02/2019"]


@pytest.mark.parametrize("spec", [PORTEUR, REFERENT], ids=["porteur", "referent"])
def test_odd_values_everywhere_never_raise(demo, tmp_path, spec):
    def mutate(b: Book) -> None:
        n = 0
        feuilles = [f for f in spec.feuilles if not f.repetee and f.titre in b.wb.sheetnames]
        targets = [(f.titre, f) for f in feuilles] + [(s, spec.section) for s in b.sections]
        for sheet, feuille in targets:
            for champ in feuille.champs:
                if champ.role == "saisie":
                    b.set(sheet, champ.name, ODD[n % len(ODD)])
                    n += 1
            for tableau in feuille.tableaux:
                keys = ([ligne.key for ligne in tableau.lignes] if tableau.lignes
                        else [str(i + 1) for i in range(tableau.min_capacite)])
                for key in keys:
                    for col in tableau.colonnes:
                        if tableau.role_of(key if tableau.lignes else None,
                                           col.name) == "saisie":
                            b.set_t(sheet, tableau.name, key, col.name, ODD[n % len(ODD)])
                            n += 1

    findings = run(demo, tmp_path, spec, mutate)
    assert blocking(findings)
    assert all(f.sheet and f.cell and f.field for f in findings)


@pytest.mark.parametrize(("text", "expected"), [
    ("12/03/2019", dt.date(2019, 3, 12)),
    ("1/2/19", dt.date(2019, 2, 1)),
    ("12-03-2019", dt.date(2019, 3, 12)),
    ("12.03.2019", dt.date(2019, 3, 12)),
    ("2019-03-12", dt.date(2019, 3, 12)),
    ("32/13/2019", None),
    ("29/02/2019", None),
    ("mars 2019", None),
])
def test_dates_typed_as_text(text, expected):
    assert parse_date_text(text) == expected
