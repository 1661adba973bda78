"""Workbooks of a revue for the store and intake tests, rendered from hand-written fill
plans with the shipped templates (the plans the generation builds are tested in
test_generation*): a working folder, one register entry per workbook with its revue,
and answers typed by name with openpyxl, as a careful user would."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import range_boundaries

from cv_excel.config import DossierTravail, write_config
from cv_excel.generation.plan import FillPlan, Section
from cv_excel.generation.render import PreparedTemplate, prepare, render
from cv_excel.referentiel.load import load_referentiel
from cv_excel.referentiel.models import Referentiel
from cv_excel.spec import SPECS, ClasseurSpec

ANNEE = 2019
CONTRAT = "orly-2019-2022"
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
NOW = dt.datetime(2019, 3, 1, 9, 0, tzinfo=dt.UTC)
# The recipients used below (embedded référentiel): a référent of one objective, a
# pilote of three objectifs stratégiques, a coordonnateur of one orientation.
REFERENT, OBJECTIF = "culture-jeune-public", "A121"
PILOTE = "jeunesse-sports"  # pilote of A12, A22, B21
COORDONNATEUR = "dga-culture"  # coordonnateur of A2

_TEMPLATES: dict[str, PreparedTemplate] = {}


def working_folder(root: Path, **config: Any) -> tuple[DossierTravail, Referentiel]:
    root.mkdir(parents=True, exist_ok=True)
    write_config(root, annee=ANNEE, **config)
    work = DossierTravail.open(root)
    work.create_folders()
    ref, _ = load_referentiel(work.path("referents"))
    return work, ref


def _plan(spec: ClasseurSpec, destinataire_id: str, destinataire: str, stem: str,
          annee: int = ANNEE) -> FillPlan:
    return FillPlan(spec=spec, annee=annee, contrat=CONTRAT, destinataire_id=destinataire_id,
                    destinataire=destinataire, file_stem=stem)


def referent_plan(ref: Referentiel, referent_id: str = REFERENT, annee: int = ANNEE,
                  revue: int | None = 1) -> FillPlan:
    referent = ref.referent(referent_id)
    plan = _plan(SPECS["referent"], referent_id, referent.libelle,
                 f"{annee} R{revue} - Suivi - {referent.libelle}", annee)
    plan.values["referent"] = {"ref_libelle": referent.libelle}
    for oo in ref.objectifs_of_referent(referent_id):
        values = {"obj_code": oo.code, "obj_titre": oo.titre,
                  "obj_revue": f"Revue {revue}" if revue else "Bilan annuel"}
        tables = {
            "obj_pistes": [{"libelle": p} for p in oo.pistes_action[:3]],
            "obj_indicateurs": [{"libelle": i.libelle, "type": i.type,
                                 "cible_fiche": i.valeur_cible or ""}
                                for i in oo.indicateurs[:3]],
        }
        plan.sections.append(Section(oo.code, f"Objectif {oo.code}", values, tables))
    return plan


def pilote_plan(ref: Referentiel, pilote_id: str = PILOTE, annee: int = ANNEE,
                revue: int = 1, codes: list[str] | None = None) -> FillPlan:
    person = ref.referent(pilote_id)
    plan = _plan(SPECS["pilote"], pilote_id, person.libelle,
                 f"{annee} R{revue} - Pilote - {person.libelle}", annee)
    plan.values["pilote"] = {"pil_libelle": person.libelle}
    for os_ in ref.objectifs_strategiques:
        if pilote_id in os_.pilotes or (codes and os_.code in codes):
            plan.sections.append(Section(os_.code, f"Stratégique {os_.code}", {
                "os_code": os_.code, "os_titre": os_.titre, "os_revue": f"Revue {revue}"}, {}))
    return plan


def coordonnateur_plan(ref: Referentiel, coordonnateur_id: str = COORDONNATEUR,
                       annee: int = ANNEE, revue: int = 1, codes: list[str] | None = None
                       ) -> FillPlan:
    person = ref.referent(coordonnateur_id)
    plan = _plan(SPECS["coordonnateur"], coordonnateur_id, person.libelle,
                 f"{annee} R{revue} - Coordonnateur - {person.libelle}", annee)
    plan.values["coordonnateur"] = {"coo_libelle": person.libelle}
    for ori in ref.orientations:
        if coordonnateur_id in ori.coordonnateurs or (codes and ori.code in codes):
            plan.sections.append(Section(ori.code, f"Orientation {ori.code}", {
                "ori_code": ori.code, "ori_titre": ori.titre,
                "ori_revue": f"Revue {revue}"}, {}))
    return plan


def releve_plan(ref: Referentiel, pilier: str = "A", annee: int = ANNEE, revue: int = 1,
                suivi: list[dict[str, Any]] | None = None) -> FillPlan:
    """The relevé of one pilier; ``suivi``: the open decisions to follow up, each
    prefilled with its current state (numero, decision, code, responsable, echeance,
    statut)."""
    titre = next(p.titre for p in ref.piliers if p.code == pilier)
    plan = _plan(SPECS["decisions"], f"pilier-{pilier}",
                 f"Relevé de décisions — Pilier {pilier}",
                 f"{annee} R{revue} - Relevé de décisions - Pilier {pilier}", annee)
    plan.values["releve"] = {"rel_pilier": f"{pilier} — {titre}",
                             "rel_revue": f"Revue {revue}"}
    plan.sections.append(Section(pilier, f"Décisions {pilier}", {
        "dec_pilier": f"{pilier} — {titre}", "dec_revue": f"Revue {revue}"},
        {"dec_suivi": list(suivi or [])}))
    return plan


@dataclass
class Classeur:
    path: Path
    entry: dict[str, Any]
    spec: ClasseurSpec


_SOUS_DOSSIERS = {"porteur": "Porteurs", "referent": "Référents", "pilote": "Pilotes",
                  "coordonnateur": "Coordonnateurs", "decisions": "Décisions"}


def write_workbook(work: DossierTravail, plan: FillPlan, revue: int | None,
                   meta_revue: Any = "same") -> Classeur:
    """Render ``plan``, write it under classeurs/<année>/ and register it for ``revue``.

    ``meta_revue``: what the workbook's hidden metadata says (by default the revue)."""
    spec = plan.spec
    if spec.kind not in _TEMPLATES:
        _TEMPLATES[spec.kind] = prepare(TEMPLATES / spec.modele, spec)
    classeur_id = uuid.uuid4().hex
    rendu = render(_TEMPLATES[spec.kind], plan, classeur_id, NOW)
    book = Saisie(rendu.data, spec)
    book.set_meta("meta_revue", revue if meta_revue == "same" else meta_revue)
    folder = work.path("classeurs") / str(plan.annee)
    path = folder / _SOUS_DOSSIERS[spec.kind] / f"{plan.file_stem}.xlsx"
    n = 1
    while path.exists():  # another workbook for the same recipient and revue
        n += 1
        path = path.with_name(f"{plan.file_stem} ({n}).xlsx")
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    entry = {"classeur_id": classeur_id, "type": spec.kind,
             "destinataire_id": plan.destinataire_id, "destinataire": plan.destinataire,
             "fichier": path.relative_to(work.root).as_posix(),
             "sections": [s.key for s in plan.sections], "empreinte": rendu.empreinte,
             "genere_le": NOW.isoformat(), "modele": spec.modele,
             "preremplies": rendu.preremplies, "revue": revue}
    registre = folder / "registre.json"
    entries = json.loads(registre.read_text("utf-8")) if registre.exists() else []
    registre.write_text(json.dumps([*entries, entry], ensure_ascii=False), "utf-8")
    return Classeur(path, entry, spec)


class Saisie:
    """A workbook opened with openpyxl, addressed by its sheet-scoped names."""

    def __init__(self, data: bytes | Path, spec: ClasseurSpec):
        raw = data.read_bytes() if isinstance(data, Path) else data
        self.wb = load_workbook(io.BytesIO(raw))
        self.spec = spec
        marker = spec.section.champs[0].name
        self.sections = [ws.title for ws in self.wb.worksheets if marker in ws.defined_names]

    def _bounds(self, sheet: str, name: str) -> tuple[int, int, int, int]:
        text = self.wb[sheet].defined_names[name].attr_text
        return range_boundaries(text.split("!")[-1].replace("$", ""))

    def address(self, sheet: str, name: str) -> str:
        col, row, _, _ = self._bounds(sheet, name)
        return self.wb[sheet].cell(row, col).coordinate

    def set(self, sheet: str, name: str, value: Any) -> None:
        col, row, _, _ = self._bounds(sheet, name)
        self.wb[sheet].cell(row, col).value = value

    def get(self, sheet: str, name: str) -> Any:
        col, row, _, _ = self._bounds(sheet, name)
        return self.wb[sheet].cell(row, col).value

    def set_meta(self, name: str, value: Any) -> None:
        self.set("cv_meta", name, value)

    def table_cell(self, sheet: str, table: str, row: int, column: str):
        tableau = next(t for f in self.spec.feuilles for t in f.tableaux if t.name == table)
        c = [col.name for col in tableau.colonnes].index(column)
        min_col, min_row, _, _ = self._bounds(sheet, table)
        return self.wb[sheet].cell(min_row + row - 1, min_col + c)

    def set_t(self, sheet: str, table: str, row: int, column: str, value: Any) -> None:
        self.table_cell(sheet, table, row, column).value = value

    def get_t(self, sheet: str, table: str, row: int, column: str) -> Any:
        return self.table_cell(sheet, table, row, column).value

    def save(self, path: Path) -> Path:
        self.wb.save(path)
        return path

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        self.wb.save(buffer)
        return buffer.getvalue()


# --- answers ----------------------------------------------------------------------------

def fill_referent(book: Saisie, avancement: str = "En cours", valeur: Any = 40,
                  resultats: str = "Fréquentation en hausse.") -> None:
    book.set("Référent", "ref_redacteur", "Sophie Martin")
    book.set("Référent", "ref_date", dt.datetime(ANNEE, 3, 10))
    for sheet in book.sections:
        book.set(sheet, "obj_avancement", avancement)
        book.set(sheet, "obj_actions_realisees", "Deux ateliers réalisés.")
        book.set(sheet, "obj_resultats", resultats)
        for row in range(1, 21):
            if book.get_t(sheet, "obj_pistes", row, "libelle"):
                book.set_t(sheet, "obj_pistes", row, "etat", "Engagée")
        book.set_t(sheet, "obj_indicateurs", 1, "unite", "enfants")
        book.set_t(sheet, "obj_indicateurs", 1, "valeur_reference", 100)
        book.set_t(sheet, "obj_indicateurs", 1, "annee_reference", 2016)
        book.set_t(sheet, "obj_indicateurs", 1, "valeur_cible", 150)
        book.set_t(sheet, "obj_indicateurs", 1, "valeur_annee", valeur)
        book.set_t(sheet, "obj_indicateurs", 1, "panier", "Conservé")


def fill_synthese(book: Saisie, rag: str = "Vert", synthese: str = "Sur la trajectoire."
                  ) -> None:
    person, prefix = {"pilote": ("Pilote", "os"),
                      "coordonnateur": ("Coordonnateur", "ori")}[book.spec.kind]
    short = {"os": "pil", "ori": "coo"}[prefix]
    book.set(person, f"{short}_redacteur", "Karim Benali")
    book.set(person, f"{short}_date", dt.datetime(ANNEE, 3, 12))
    for sheet in book.sections:
        book.set(sheet, f"{prefix}_avancement", "En cours")
        book.set(sheet, f"{prefix}_rag", rag)
        book.set(sheet, f"{prefix}_synthese", synthese)


def fill_releve(book: Saisie, date: dt.date = dt.date(ANNEE, 3, 20),
                nouvelles: list[dict[str, Any]] = ()) -> None:
    book.set("Revue", "rel_date", dt.datetime(date.year, date.month, date.day))
    book.set("Revue", "rel_redacteur", "Direction Politique de la Ville")
    sheet = book.sections[0]
    for row, values in enumerate(nouvelles, start=1):
        for column, value in values.items():
            book.set_t(sheet, "dec_nouvelles", row, column, value)
