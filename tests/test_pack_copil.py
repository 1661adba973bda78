"""The COPIL pack: one sheet per objectif stratégique, readable in print. Built from
hand-made data on the real référentiel, converted to PDF by LibreOffice, read back with
``pdftotext``: each objectif stratégique's code and title on its own page(s)."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import unicodedata

import pytest
from openpyxl import load_workbook

from cv_excel.consolidation.aggregate import NON_RENSEIGNE, RETOUR_MANQUANT
from cv_excel.consolidation.pack_copil import (
    COUVERTURE,
    pack_name,
    pdf_pack,
    write_pack_copil,
)
from cv_excel.referentiel.load import embedded_referentiel
from tests.donnees_gouvernance import LONG, donnees

REF = embedded_referentiel()
NOW = dt.datetime(2020, 6, 20, 9, 30)
LIBELLE = "Revue 2 (15/06/2020)"


def _strategiques(pilier: str):
    return [s for o in REF.orientations_of(pilier) for s in REF.strategiques_of(o.code)]


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


@pytest.fixture(scope="module")
def packs(tmp_path_factory):
    out = tmp_path_factory.mktemp("packs")
    d = donnees(revue=2)
    return {p.code: write_pack_copil(d, REF, p.code, out / pack_name(2020, 2, p.code),
                                     revue_libelle=LIBELLE, now=NOW) for p in REF.piliers}


# --- the workbook ----------------------------------------------------------------------------
def test_one_sheet_per_objectif_strategique(packs):
    for code, path in packs.items():
        wb = load_workbook(path)
        assert wb.sheetnames == [COUVERTURE, *(f"OS {s.code}" for s in _strategiques(code))]
        cover = wb[COUVERTURE]
        texts = [c.value for row in cover.iter_rows() for c in row if isinstance(c.value, str)]
        assert LIBELLE in texts and f"Pilier {code} : " in " ".join(texts)
        assert any(t.startswith("Case vide ou « non renseigné »") for t in texts)  # legend
        links = [c.hyperlink.location or c.hyperlink.target for row in cover.iter_rows()
                 for c in row if c.hyperlink]
        assert len(links) == len(_strategiques(code))


def _texts(ws) -> list[str]:
    return [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]


def test_strategique_sheet_content(packs):
    wb = load_workbook(packs["A"])
    a11, a12 = _texts(wb["OS A11"]), _texts(wb["OS A12"])
    assert a11[:2] == ["Objectif stratégique A11", REF.objectifs_strategiques[0].titre]
    assert "Vert" in a11 and "Engagé" in a11
    assert "".join(t for t in a11 if t.startswith("Les ateliers")).replace(
        "\n", " ").split() == LONG.split()  # the long synthesis whole, over as many rows
    assert {"A111", "A112", "A113"} <= set(a11)
    assert "A-2020-R1-01" in a11 and "A-2020-R1-02" not in a11  # its own open decisions
    assert "en hausse" in a11 and "en baisse" in a11  # indicator trends of its OOs
    # the pilote of A12 did not return: said, and the objectifs opérationnels still shown
    assert RETOUR_MANQUANT in a12 and {"A121", "A122"} <= set(a12)
    assert any(t.startswith(RETOUR_MANQUANT + " (synthèse du pilote") for t in a12)
    assert "A-2020-R1-02" in a12
    assert NON_RENSEIGNE in a12  # A12's blank mean score
    figures = wb["OS A11"]
    labels = {c.value: figures.cell(row=c.row, column=c.column + 4).value
              for row in figures.iter_rows() for c in row
              if c.value in ("Réalisées", "En cours", "Reportées", "Non réalisées")}
    assert labels == {"Réalisées": 1, "En cours": 1, "Reportées": 1, "Non réalisées": 1}


def test_print_setup_and_fonts(packs):
    for path in packs.values():
        wb = load_workbook(path)
        sizes = []
        for ws in wb.worksheets:
            assert ws.page_setup.orientation == "portrait"
            assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
            assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
            assert ws.print_area
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.font is not None and cell.font.sz is not None, cell.coordinate
                    sizes.append(cell.font.sz)
            for height in (d.height for d in ws.row_dimensions.values() if d.height):
                assert height <= 409
        assert min(sizes) >= 8


def test_a_blank_is_never_red(packs):
    for path in packs.values():
        for ws in load_workbook(path).worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if cell.value in (NON_RENSEIGNE, None):
                        assert not (cell.fill.fgColor.rgb or "").endswith("FFC7CE")


# --- LibreOffice -----------------------------------------------------------------------------
def test_each_objectif_strategique_has_its_own_page_in_the_pdf(packs, tmp_path):
    pdfs = pdf_pack(list(packs.values()), tmp_path)  # one LibreOffice run for all
    for (pilier, _), pdf in zip(packs.items(), pdfs, strict=True):
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                              text=True, check=True).stdout
        pages = [_norm(p) for p in text.split("\f")]
        assert LIBELLE in pages[0] and f"Pilier {pilier} :" in pages[0]  # the cover
        strategiques = _strategiques(pilier)
        heading = {s.code: re.compile(rf"Objectif stratégique {s.code}\b") for s in strategiques}
        for s in strategiques:
            own = [p for p in pages if heading[s.code].search(p)]
            assert own, f"{s.code} n'a pas de page"
            page = own[0]
            assert _norm(s.titre) in page, s.code
            others = [o for o in strategiques if o.code != s.code and heading[o.code].search(page)]
            assert not others, (s.code, [o.code for o in others])
        # each page's subject: the objectif stratégique whose heading it bears, or the one
        # it continues; in the order of the contract
        subjects, current = [], None
        for p in pages[1:]:
            current = next((c for c, h in heading.items() if h.search(p)), current)
            subjects.append(current)
        assert list(dict.fromkeys(x for x in subjects if x)) == [s.code for s in strategiques]
        if pilier == "A":
            a11 = " ".join(p for p, x in zip(pages[1:], subjects, strict=True) if x == "A11")
            # the pilote's long synthesis printed whole, not cut
            assert a11.count("Les ateliers ont repris") == LONG.count("Les ateliers ont repris")
            assert _norm(LONG) in a11
