"""Issue 10, « done when »: the demo runs revues 1 and 2 of 2019 with the whole cascade.

Read on the demo's own working folder (the ``demo_master`` fixture): the workbooks of each
kind per revue (named in their metadata), their validated returns in the store, the
revue-2 référent workbooks prefilled from revue 1, a pilote's missing return shown as
missing, a decision opened at revue 1 and closed at revue 2, an indicator added to the
basket and one dropped, the tableaux de bord and one COPIL pack per pilier and revue.
"""

from __future__ import annotations

import json
from pathlib import Path

from openpyxl import load_workbook

from cv_excel.config import DossierTravail
from cv_excel.demo.build import DEMO_NB_REVUES, DEMO_YEAR
from cv_excel.demo.revues import INDICATEUR_PROPOSE
from cv_excel.referentiel.load import embedded_referentiel
from cv_excel.store.db import default_store_path, open_store
from cv_excel.store.queries import load_year

DOSSIERS = {"referent": "Référents", "pilote": "Pilotes", "coordonnateur": "Coordonnateurs",
            "decisions": "Relevés de décisions"}


def _registre(demo: Path) -> list[dict]:
    return json.loads((demo / "classeurs" / str(DEMO_YEAR) / "registre.json").read_text())


def _meta(path: Path) -> dict[str, object]:
    wb = load_workbook(path, read_only=False)
    values = {}
    for name in ("meta_type", "meta_revue"):
        dn = wb["cv_meta"].defined_names[name]
        (sheet, cell), = [(s, c.replace("$", "")) for s, c in dn.destinations]
        values[name] = wb[sheet][cell].value
    return values


def _load(demo: Path, revue: int | None):
    work = DossierTravail.open(demo)
    with open_store(default_store_path(work)) as store:
        return load_year(store, work.config.contrat, DEMO_YEAR, revue=revue)


def test_each_revue_has_every_kind_of_workbook_named_in_its_metadata(demo_master):
    entries = _registre(demo_master)
    for revue in range(1, DEMO_NB_REVUES + 1):
        for kind, dossier in DOSSIERS.items():
            mine = [e for e in entries if e["type"] == kind and e.get("revue") == revue]
            assert mine, (kind, revue)
            for entry in mine[:2]:
                path = demo_master / entry["fichier"]
                assert path.parent == (demo_master / "classeurs" / str(DEMO_YEAR)
                                       / f"Revue {revue}" / dossier)
                assert _meta(path) == {"meta_type": kind, "meta_revue": revue}
    porteurs = [e for e in entries if e["type"] == "porteur"]
    assert porteurs and all(e.get("revue") is None for e in porteurs)


def test_returns_of_every_step_are_stored_with_their_revue(demo_master):
    for revue in (1, 2):
        data = _load(demo_master, revue)
        kinds = {s.type for s in data.submissions if s.courante and s.revue == revue}
        assert kinds == {"referent", "pilote", "coordonnateur", "decisions"}, kinds
        assert data.suivis and data.syntheses


def test_revue_2_referent_workbook_takes_up_revue_1_answers(demo_master):
    entries = _registre(demo_master)
    ref = embedded_referentiel()
    premier = ref.objectifs_operationnels[0]
    (entry,) = [e for e in entries if e["type"] == "referent" and e.get("revue") == 2
                and e["destinataire_id"] == premier.referents[0]]
    wb = load_workbook(demo_master / entry["fichier"])
    ws = wb[next(s for s in wb.sheetnames if premier.code in s)]

    def named(name: str):
        (sheet, cell), = [(s, c.replace("$", ""))
                          for s, c in ws.defined_names[name].destinations]
        return wb[sheet][cell].value

    assert named("obj_precedent").startswith("Revue 1")
    # What the référent typed at revue 1 is in the cells to update.
    assert named("obj_resultats").startswith("Revue 1 :")
    revue1 = _load(demo_master, 1).suivis[premier.code]
    assert named("obj_avancement") == revue1[0].avancement


def test_missing_pilote_is_shown_missing_with_the_level_below_visible(demo_master):
    data = _load(demo_master, 1)
    ref = embedded_referentiel()
    answered = {s.auteur_id for v in data.syntheses.values() for s in v
                if s.niveau == "strategique"}
    silent = [s for s in ref.objectifs_strategiques if not set(s.pilotes) & answered]
    assert silent, "the demo leaves one pilote without an answer at revue 1"
    os_ = silent[0]
    entries = _registre(demo_master)
    coordo = [e for e in entries if e["type"] == "coordonnateur" and e.get("revue") == 1]
    found = False
    for entry in coordo:
        wb = load_workbook(demo_master / entry["fichier"])
        for ws in wb.worksheets:
            rows = [[c for c in row if c is not None] for row in ws.iter_rows(values_only=True)]
            os_rows = [r for r in rows if r and r[0] == os_.code]
            if os_rows:
                found = True
                assert any("retour manquant" in str(v) for v in os_rows[0])
                # the objectifs opérationnels below are still listed
                below = {o.code for o in ref.operationnels_of(os_.code)}
                assert below & {r[0] for r in rows if r}
    assert found


def test_decision_opened_at_revue_1_is_closed_at_revue_2(demo_master):
    numero = "A-2019-R1-01"
    at1 = {d.numero: d for d in _load(demo_master, 1).decisions}
    at2 = {d.numero: d for d in _load(demo_master, 2).decisions}
    assert at1[numero].statut == "Ouverte" and at1[numero].ouverte
    assert at2[numero].statut == "Réalisée" and not at2[numero].ouverte
    assert (at2[numero].ouverte_annee, at2[numero].ouverte_revue) == (DEMO_YEAR, 1)
    # another decision of revue 1 stays open at revue 2 and is recalled in the relevé
    assert any(d.ouverte and d.ouverte_revue == 1 for d in at2.values())


def test_indicator_added_at_revue_1_and_one_dropped_at_revue_2(demo_master):
    ref = embedded_referentiel()
    oo = ref.objectifs_operationnels[0]

    def suivi(revue: int):
        return next(s for s in _load(demo_master, revue).suivis[oo.code]
                    if s.referent_id == oo.referents[0])

    suivi1 = suivi(1)
    assert any(i.propose and i.libelle == INDICATEUR_PROPOSE for i in suivi1.indicateurs)
    suivi2 = suivi(2)
    kept = [i for i in suivi2.indicateurs if INDICATEUR_PROPOSE in i.libelle]
    assert kept and not kept[0].propose  # in the basket, no longer a proposal
    assert any(i.panier == "Abandonné" for i in suivi2.indicateurs)


def test_tableaux_de_bord_and_one_copil_pack_per_pilier_and_revue(demo_master):
    ref = embedded_referentiel()
    for revue in (1, 2):
        out = demo_master / "sorties" / str(DEMO_YEAR) / f"Revue {revue}"
        assert (out / f"Tableaux de bord {DEMO_YEAR} revue {revue}.xlsx").is_file()
        packs = sorted(out.glob("Pack COPIL *.xlsx"))
        assert len(packs) == len(ref.piliers)
        for pilier, pack in zip(sorted(p.code for p in ref.piliers), packs, strict=True):
            assert pack.name.endswith(f"Pilier {pilier}.xlsx")
            sheets = load_workbook(pack, read_only=True).sheetnames
            strategiques = [s.code for o in ref.orientations_of(pilier)
                            for s in ref.strategiques_of(o.code)]
            assert len(sheets) >= 1 + len(strategiques)
