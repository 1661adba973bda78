"""Annotated copies made by editing the XML parts of the returned file (issue 12, part 5).

Real returned workbooks of every kind (the demo's rejected bilans with the findings
intake gives them, référent, pilote, coordonnateur and relevé returns with findings on
their input cells) are annotated by the XML way, never by openpyxl (its fallback is
made to fail), and read back by openpyxl and LibreOffice: fills and notes on the
faulty cells, the summary sheet first and active, every sheet-scoped name on its own
sheet, validations, protections and every other cell as they were.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from xml.etree import ElementTree as ET

import pytest
from openpyxl import load_workbook
from openpyxl.comments import Comment

from cv_excel.config import DossierTravail
from cv_excel.findings import Finding, Severity
from cv_excel.intake import annotate as annotate_mod
from cv_excel.intake.annotate import AUTHOR, annotate, annotated_bytes
from cv_excel.intake.context import context_for
from cv_excel.intake.run import check_bytes
from cv_excel.referentiel.load import load_referentiel
from cv_excel.text import clean_text, utf16_len
from cv_excel.xlsx.package import XlsxPackage, resolve_target
from tests.libreoffice import convert_many

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
RED, ORANGE = "FF7C80", "FFC000"
KINDS = ("Suivi", "Synthèse pilote", "Synthèse coordonnateur", "Relevé")


# --- the returned workbooks ----------------------------------------------------------------

@pytest.fixture(scope="module")
def retours(demo_master) -> dict[str, tuple[bytes, list[Finding]]]:
    """Name → (bytes, findings): the demo's four rejected bilans with intake's own
    findings, and one return of every other kind with findings on its input cells."""
    work = DossierTravail.open(demo_master)
    ref, _ = load_referentiel(work.path("referents"))
    ctx = context_for(work, ref)
    files = sorted(work.path("retours").glob("*.xlsx"))
    out = {}
    for path in [p for p in files if " - Bilan (" in p.name]:
        data = path.read_bytes()
        findings, _, _ = check_bytes(path.name, data, ctx)
        assert any(f.sheet and f.cell for f in findings), path.name
        out[path.name] = (data, findings)
    for kind in KINDS:
        path = next(p for p in files if f" - {kind} - " in p.name)
        data = path.read_bytes()
        out[path.name] = (data, _input_findings(data))
    return out


def _input_findings(data: bytes) -> list[Finding]:
    """A blocking finding and a warning on named cells of the first three sheets."""
    wb = load_workbook(io.BytesIO(data))
    findings = []
    for ws in [ws for ws in wb.worksheets if ws.defined_names][:3]:
        names = sorted(ws.defined_names.items())
        for (name, dn), severity in zip(names[:2], (Severity.BLOQUANT, Severity.AVERTISSEMENT),
                                        strict=False):
            cell = dn.attr_text.rsplit("!", 1)[1].split(":")[0].replace("$", "")
            findings.append(_finding(ws.title, cell, severity, f"« {name} » est à revoir."))
    return findings


def _finding(sheet, cell, severity=Severity.BLOQUANT, message="Valeur incorrecte.",
             hint="Saisissez un nombre.", value="12 x") -> Finding:
    return Finding(code="TEST", severity=severity, message=message, hint=hint, sheet=sheet,
                   cell=cell, value=value)


@pytest.fixture(autouse=True)
def xml_way_only(monkeypatch):
    """Every copy of this module is made by the XML way: the fallback would fail."""
    def no_fallback(*args, **kwargs):
        raise AssertionError("repli openpyxl inattendu")

    monkeypatch.setattr(annotate_mod, "_annotate_openpyxl", no_fallback)


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _zip(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _sheet_part(data: bytes, title: str) -> str:
    return next(s.path for s in XlsxPackage.from_bytes(data).sheets() if s.name == title)


# --- what every copy must be ---------------------------------------------------------------

class _Looks:
    """Compares what two cells of two workbooks show (value, number format, font,
    border, alignment, protection, and apart from that the fill), each pair of styles
    compared once."""

    PARTS = (("_fonts", "fontId"), ("_borders", "borderId"), ("_alignments", "alignmentId"),
             ("_protections", "protectionId"))

    def __init__(self, a, b):
        self.a, self.b, self.memo = a, b, {}

    def _same(self, kind: str, attr: str, c, d) -> bool:
        key = (kind, getattr(c._style, attr), getattr(d._style, attr))
        if key not in self.memo:
            self.memo[key] = getattr(self.a, kind)[key[1]] == getattr(self.b, kind)[key[2]]
        return self.memo[key]

    def same(self, c, d) -> bool:
        return (c.value, c.number_format) == (d.value, d.number_format) and all(
            self._same(kind, attr, c, d) for kind, attr in self.PARTS)

    def same_fill(self, c, d) -> bool:
        return self._same("_fills", "fillId", c, d)


def _norm(cell: str | None) -> str | None:
    """``$b$5`` → ``B5``; None for what is not one cell of a sheet."""
    m = re.fullmatch(r"\$?([A-Za-z]{1,3})\$?(\d{1,7})", (cell or "").strip())
    if m is None or int(m.group(2)) < 1 or _col(m.group(1).upper()) > 16_384:
        return None
    return f"{m.group(1).upper()}{int(m.group(2))}"


def _shown(ws, cell: str) -> str:
    """The top-left cell of the merged range holding ``cell`` (the one shown)."""
    for rng in ws.merged_cells.ranges:
        if cell in rng:
            return rng.start_cell.coordinate
    return cell


def _names(data: bytes) -> list[tuple[str, int | None, str]]:
    root = ET.fromstring(_parts(data)["xl/workbook.xml"])
    out = []
    for el in root.iter(f"{{{NS['m']}}}definedName"):
        local = el.get("localSheetId")
        out.append((el.get("name"), int(local) if local is not None else None, el.text))
    return out


def _element(xml: bytes, pattern: bytes) -> list[bytes]:
    return re.findall(pattern, xml, re.S)


def check_copy(original: bytes, copy: bytes, findings: list[Finding],
               title: str = "À corriger") -> None:
    src = load_workbook(io.BytesIO(original))
    out = load_workbook(io.BytesIO(copy))
    present = {(ws.title, c.coordinate) for ws in src.worksheets for c in ws._cells.values()}
    # The summary first, active, the only selected tab; every other sheet in its place.
    assert out.sheetnames == [title, *src.sheetnames]
    assert out.active.title == title
    assert [ws.sheet_view.tabSelected for ws in out.worksheets] == \
        [True] + [None] * len(src.worksheets)
    # Every name on the same sheet: localSheetId k became k + 1.
    expected = [(n, k + 1 if k is not None else None, t) for n, k, t in _names(original)]
    assert sorted(_names(copy), key=str) == sorted(
        [*expected, ("_xlnm.Print_Titles", 0, f"'{title}'!$4:$4")], key=str)
    for ws in src.worksheets:
        assert {n: d.attr_text for n, d in ws.defined_names.items()} == \
            {n: d.attr_text for n, d in out[ws.title].defined_names.items()}
    # Protections and validations, byte for byte.
    src_parts, out_parts = _parts(original), _parts(copy)
    assert _element(out_parts["xl/workbook.xml"], rb"<workbookProtection\b[^>]*>") == \
        _element(src_parts["xl/workbook.xml"], rb"<workbookProtection\b[^>]*>")
    assert bool(out.security and out.security.lockStructure) == \
        bool(src.security and src.security.lockStructure)
    for ws in src.worksheets:
        part = _sheet_part(original, ws.title)
        assert part in out_parts
        for pattern in (rb"<sheetProtection\b[^>]*>", rb"<dataValidations\b.*?</dataValidations>",
                        rb"<conditionalFormatting\b.*?</conditionalFormatting>"):
            assert _element(out_parts[part], pattern) == _element(src_parts[part], pattern)
        assert out[ws.title].protection.sheet == ws.protection.sheet
    # Every other part byte for byte; a sheet without findings only loses its tab selection.
    faulty_sheets = {f.sheet for f in findings if f.sheet in src.sheetnames and _norm(f.cell)}
    for part, xml in src_parts.items():
        if part.startswith("xl/worksheets/sheet"):
            sheet = next(t for t in src.sheetnames if _sheet_part(original, t) == part)
            if sheet not in faulty_sheets:
                assert out_parts[part] == re.sub(rb'\stabSelected="[^"]*"', b"", xml), part
        elif part not in {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml",
                          "xl/styles.xml", "docProps/app.xml"} and not \
                part.startswith("xl/worksheets/_rels/") and not part.endswith(".vml") and \
                "comment" not in part:
            assert out_parts[part] == xml, part
    # Faulty cells: the finding's own cell, or the top-left one of its merged range.
    faulty: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        if f.sheet in src.sheetnames and _norm(f.cell):
            faulty.setdefault((f.sheet, _shown(src[f.sheet], _norm(f.cell))), []).append(f)
    looks = _Looks(src, out)
    for ws in src.worksheets:
        new = out[ws.title]
        added = set(new._cells) - set(ws._cells)
        assert {f"{c.coordinate}" for c in (new._cells[k] for k in added)} <= \
            {cell for sheet, cell in faulty if sheet == ws.title}
        for row in ws.iter_rows():
            for c in row:
                d = new[c.coordinate]
                if (ws.title, c.coordinate) in present or (ws.title, c.coordinate) not in faulty:
                    assert looks.same(c, d), (ws.title, c.coordinate)
                if (ws.title, c.coordinate) not in faulty:
                    assert looks.same_fill(c, d), (ws.title, c.coordinate)
                    assert (d.comment.text if d.comment else None) == \
                        (c.comment.text if c.comment else None)
    for (sheet, cell), items in faulty.items():
        c, before = out[sheet][cell], src[sheet][cell]
        blocking = any(f.severity is Severity.BLOQUANT for f in items)
        assert c.fill.patternType == "solid"
        assert c.fill.fgColor.rgb[-6:] == (RED if blocking else ORANGE)
        if (sheet, cell) in present:  # its own look, but the fill
            assert looks.same(before, c)
        else:  # created: no value (its style is its row's or column's, see below)
            assert c.value is None
        assert c.comment is not None
        text = c.comment.text
        for f in items:
            label = "À corriger" if f.severity is Severity.BLOQUANT else "À vérifier"
            assert f"{label} : {clean_text(f.message)[:200]}" in text
        if before.comment is None or before.comment.author == AUTHOR:
            assert c.comment.author == AUTHOR  # new, or the Direction's former note replaced
        else:
            assert text.endswith(before.comment.text)  # the porteur's own note kept
    # The summary: what the former copy said, one finding a row.
    summary = out[title]
    assert [c.value for c in summary[4]] == ["Gravité", "Où", "Ce qui ne va pas",
                                             "Comment corriger", "Valeur trouvée"]
    assert summary.max_row == 4 + len(findings)
    assert sorted(summary.cell(row=r, column=3).value for r in range(5, 5 + len(findings))) \
        == sorted(clean_text(f.message) for f in findings)
    assert summary.freeze_panes == "A5"
    assert summary.print_title_rows == "$4:$4"
    assert summary.page_setup.orientation == "landscape"
    for r in range(5, 5 + len(findings)):
        where = summary.cell(row=r, column=2)
        if ", cellule " in (where.value or ""):
            assert where.hyperlink is not None
            assert where.hyperlink.location.endswith("!" + where.value.rsplit(" ", 1)[1])
    # Rows in order, cells in column order, in every sheet written.
    for part, xml in out_parts.items():
        if part.startswith("xl/worksheets/sheet"):
            _assert_ordered(xml)


def _col(ref: str) -> int:
    n = 0
    for ch in re.match(r"[A-Z]+", ref).group(0):
        n = n * 26 + ord(ch) - 64
    return n


def _assert_ordered(xml: bytes) -> None:
    root = ET.fromstring(xml)
    rows = [int(r.get("r")) for r in root.iter(f"{{{NS['m']}}}row")]
    assert rows == sorted(rows) and len(rows) == len(set(rows))
    for row in root.iter(f"{{{NS['m']}}}row"):
        cols = [_col(c.get("r")) for c in row.iter(f"{{{NS['m']}}}c")]
        assert cols == sorted(cols) and len(cols) == len(set(cols))


# --- the tests -----------------------------------------------------------------------------

def test_returned_workbooks_of_every_kind_are_annotated_by_editing_their_xml(retours):
    """The demo's rejected bilans (intake's own findings) and a return of every other
    kind: the copy is the porteur's workbook, faulty cells filled and noted, the
    summary first, everything else as it was."""
    kinds = set()
    for name, (data, findings) in retours.items():
        check_copy(data, annotated_bytes(data, findings, name), findings)
        kinds.add(next(k for k in ("Bilan", *KINDS) if f" - {k}" in name))
    assert kinds == {"Bilan", *KINDS}


def test_annotate_writes_the_copy_atomically_without_falling_back(retours, tmp_path, caplog):
    name, (data, findings) = next(iter(retours.items()))
    target = tmp_path / "annotés" / "copie.xlsx"
    with caplog.at_level(logging.WARNING, logger="cv_excel.intake.annotate"):
        assert annotate(data, findings, target, name) == target
    assert not caplog.records
    assert [p.name for p in target.parent.iterdir()] == ["copie.xlsx"]  # no temporary left
    check_copy(data, target.read_bytes(), findings)


def test_findings_on_cells_absent_from_the_sheet_create_them_in_order(retours):
    """Cells not in the sheet's XML (a row below the last, a column beyond a row's last
    cell, a cell between two, one inside a merged range, one styled by its column) are
    created in row and column order; an address that is no cell is only listed."""
    name, (data, _) = next((n, v) for n, v in retours.items() if " - Bilan (" in n)
    src = load_workbook(io.BytesIO(data))
    ws = next(w for w in src.worksheets if w.title.startswith("Action "))
    merged = next(r for r in ws.merged_cells.ranges if r.max_col > r.min_col)
    inside = f"{chr(64 + merged.max_col)}{merged.max_row}"
    # Column H takes the style of an unlocked input cell: a new H cell keeps it unlocked.
    unlocked = next(c for row in ws.iter_rows() for c in row
                    if c.protection.locked is False and c.has_style)
    part = _sheet_part(data, ws.title)
    parts = _parts(data)
    style = re.search(rb'<c r="%s" s="(\d+)"' % unlocked.coordinate.encode(), parts[part])
    assert b'min="8"' not in parts[part]
    parts[part] = parts[part].replace(b"</cols>", b'<col min="8" max="8" width="9" style="%s"/>'
                                      b"</cols>" % style.group(1), 1)
    # Two selected tabs, as Excel leaves a group of sheets: none is selected in the copy.
    for selected in (part, _sheet_part(data, "Porteur")):
        assert b"tabSelected" not in parts[selected]
        parts[selected] = parts[selected].replace(b"<sheetView ", b'<sheetView tabSelected="1" ', 1)
    data = _zip(parts)
    last = max(ws._cells)[0]
    findings = [
        _finding(ws.title, f"Z{last + 200}"),
        _finding(ws.title, f"K{last + 150}", Severity.AVERTISSEMENT),
        _finding(ws.title, "G5"),  # row 5 exists, its last cell is before G
        _finding(ws.title, "H9"),  # column H's style
        _finding(ws.title, inside, Severity.AVERTISSEMENT),
        _finding(ws.title, "$b$5", Severity.AVERTISSEMENT),
        _finding(ws.title, "B0"),
        _finding(ws.title, "ZZZZ1"),
        _finding("Feuille inconnue", "A1"),
        _finding(None, None, message="Classeur incomplet."),
    ]
    copy = annotated_bytes(data, findings, name)
    check_copy(data, copy, findings)
    out = load_workbook(io.BytesIO(copy))[ws.title]
    for cell in (f"Z{last + 200}", "G5", "H9"):
        assert out[cell].comment is not None and out[cell].fill.fgColor.rgb[-6:] == RED, cell
    origin = out[merged.start_cell.coordinate]  # the finding inside the range is there
    assert origin.comment is not None and origin.fill.fgColor.rgb[-6:] == ORANGE
    assert out["B5"].comment is not None  # « $b$5 » is B5
    assert out["H9"].protection.locked is False  # its column's style, plus the fill
    assert out[f"K{last + 150}"].fill.fgColor.rgb[-6:] == ORANGE
    _assert_ordered(_parts(copy)[part])


def test_hostile_texts_are_cleaned_escaped_and_kept_as_text(retours):
    """Formula-looking texts stay texts (quote prefix), control characters are removed,
    emoji and markup kept as they are, a text over 32,767 units cut as Excel counts."""
    name, (data, _) = next((n, v) for n, v in retours.items() if " - Bilan (" in n)
    sheet = next(w.title for w in load_workbook(io.BytesIO(data)).worksheets
                 if w.title.startswith("Action "))
    hostile = {
        "formule": '=HYPERLINK("http://example.invalid","clic")',
        "plus": "+33 1 23 45 67 89",
        "moins": "-1",
        "arobase": "@SOMME(A1:A3)",
        "controle": "avant\x00\x01\x07\x1b\x7f\x9fapr\ud800ès\ufffe",
        "emoji": "🎉 Fête réussie ✓ 👩🏽‍🏫",
        "balises": "</t></is><script>&amp; ]]> \"guillemets\" 'apostrophes'",
        "long": "é" * 40_000 + "🎉 fin",
        "sauts": "ligne 1\r\nligne 2\rligne 3\u2028ligne 4",
    }
    findings = [_finding(sheet, f"B{5 + i}", message=text, hint=text, value=text)
                for i, text in enumerate(hostile.values())]
    findings.append(_finding(None, None, message=hostile["formule"], hint="=1+1", value="=2"))
    copy = annotated_bytes(data, findings, "=retour.xlsx")
    check_copy(data, copy, findings)
    out = load_workbook(io.BytesIO(copy))
    summary = out["À corriger"]
    rows = {summary.cell(row=r, column=3).value: r for r in range(5, summary.max_row + 1)}
    for text in hostile.values():
        clean = clean_text(text)
        assert clean in rows
        for col in (3, 4, 5):
            cell = summary.cell(row=rows[clean], column=col)
            assert cell.value == clean and cell.data_type == "s"
            assert bool(cell.quotePrefix) == clean.startswith(("=", "+", "-", "@"))
        assert summary.row_dimensions[rows[clean]].height <= 409
        assert utf16_len(clean) <= 32_767
    assert "fin" not in clean_text(hostile["long"])  # cut, with its ellipsis
    for i, text in enumerate(hostile.values()):
        note = out[sheet][_shown(out[sheet], f"B{5 + i}")].comment.text
        assert clean_text(text)[:1000] in note
        assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe]", note)
        assert utf16_len(note) <= 32_767
    assert summary["A2"].value.startswith("Fichier reçu : =retour.xlsx.")


def _with_comments(data: bytes, sheet: str) -> bytes:
    """The workbook saved by openpyxl with two notes of the porteur on ``sheet``."""
    wb = load_workbook(io.BytesIO(data))
    wb[sheet]["A5"].comment = Comment("Note du porteur sur A5", "Porteur")
    wb[sheet]["A7"].comment = Comment("Autre note", "Porteur")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _with_form_control(data: bytes, sheet: str) -> bytes:
    """A legacy VML drawing holding a check box (no note) on ``sheet``."""
    part = _sheet_part(data, sheet)
    parts = _parts(data)
    vml = ('<xml xmlns:v="urn:schemas-microsoft-com:vml" '
           'xmlns:o="urn:schemas-microsoft-com:office:office" '
           'xmlns:x="urn:schemas-microsoft-com:office:excel">'
           '<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="1"/></o:shapelayout>'
           '<v:shapetype id="_x0000_t201" coordsize="21600,21600" o:spt="201" '
           'path="m,l,21600r21600,l21600,xe"/>'
           '<v:shape id="_x0000_s1025" type="#_x0000_t201" style="position:absolute">'
           '<x:ClientData ObjectType="Checkbox"><x:Anchor>6, 0, 2, 0, 7, 0, 3, 0</x:Anchor>'
           "</x:ClientData></v:shape></xml>")
    parts["xl/drawings/vmlDrawing1.vml"] = vml.encode()
    rels = part.replace("worksheets/", "worksheets/_rels/") + ".rels"
    assert rels not in parts
    parts[rels] = (b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                   b'relationships"><Relationship Id="rId1" Type="http://schemas.openxml'
                   b'formats.org/officeDocument/2006/relationships/vmlDrawing" '
                   b'Target="../drawings/vmlDrawing1.vml"/></Relationships>')
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Default Extension="vml" ContentType="application/vnd.openxmlformats-'
                     b'officedocument.vmlDrawing"/></Types>')
    parts[part] = parts[part].replace(
        b"</worksheet>", b'<legacyDrawing xmlns:r="http://schemas.openxmlformats.org/'
                         b'officeDocument/2006/relationships" r:id="rId1"/></worksheet>')
    return _zip(parts)


@pytest.fixture(scope="module")
def with_notes(retours, tmp_path_factory) -> dict[str, tuple[bytes, str]]:
    """Workbooks that already have notes or a legacy drawing: saved by openpyxl, the
    same saved again by LibreOffice (Excel's layout of notes), and a check box."""
    name, (data, _) = next((n, v) for n, v in retours.items() if " - Bilan (" in n)
    sheet = next(w.title for w in load_workbook(io.BytesIO(data)).worksheets
                 if w.title.startswith("Action "))
    folder = tmp_path_factory.mktemp("notes")
    noted = _with_comments(data, sheet)
    (folder / "openpyxl.xlsx").write_bytes(noted)
    (resaved,) = convert_many([folder / "openpyxl.xlsx"], folder / "lo", "xlsx")
    return {"openpyxl": (noted, sheet),
            "libreoffice": (resaved.read_bytes(), sheet),
            "case à cocher": (_with_form_control(data, sheet), sheet)}


@pytest.mark.parametrize("kind", ["openpyxl", "libreoffice", "case à cocher"])
def test_a_workbook_with_notes_or_a_legacy_drawing_keeps_them(with_notes, kind):
    data, sheet = with_notes[kind]
    findings = [_finding(sheet, "A5"), _finding(sheet, "B9", Severity.AVERTISSEMENT),
                _finding(sheet, "Z400")]
    copy = annotated_bytes(data, findings, "retour.xlsx")
    check_copy(data, copy, findings)
    out = load_workbook(io.BytesIO(copy))[sheet]
    if kind != "case à cocher":
        assert out["A5"].comment.text.startswith("À corriger : Valeur incorrecte.")
        assert out["A5"].comment.text.endswith("Note du porteur sur A5")
        assert out["A7"].comment.text == "Autre note"
    pkg = XlsxPackage.from_bytes(copy)
    part = _sheet_part(copy, sheet)
    rels = pkg.relationships(part)
    kinds = [r["Type"].rsplit("/", 1)[1] for r in rels]
    assert kinds.count("comments") == 1 and kinds.count("vmlDrawing") == 1
    vml = next(resolve_target(part, r["Target"]) for r in rels if r["Type"].endswith("/vmlDrawing"))
    assert re.findall(rb"<legacyDrawing\b", pkg.parts[part]) == [b"<legacyDrawing"]
    shapes = re.findall(rb'ObjectType="(\w+)"', pkg.parts[vml])
    ids = re.findall(rb'<[\w:]*shape\b[^>]*\bid="([^"]+)"', pkg.parts[vml])
    if kind == "case à cocher":
        assert shapes == [b"Checkbox", b"Note", b"Note", b"Note"]
    else:
        assert shapes.count(b"Note") == 4  # A5 and A7 kept, B9 and Z400 added
    assert len(set(ids) - {b"shape_0"}) == len(ids) - ids.count(b"shape_0")  # no id twice


def test_an_annotated_copy_sent_back_is_annotated_again(retours):
    """The porteur sends the annotated copy back unchanged: the new summary is « À
    corriger (2) », and the former notes of the Direction on the same cells are replaced,
    not stacked."""
    name, (data, findings) = next((n, v) for n, v in retours.items() if " - Bilan (" in n)
    first = annotated_bytes(data, findings, name)
    second = annotated_bytes(first, findings, name)
    check_copy(first, second, findings, title="À corriger (2)")
    out = load_workbook(io.BytesIO(second))
    f = next(f for f in findings if f.sheet and f.cell)
    assert out[f.sheet][f.cell].comment.text.count(clean_text(f.message)) == 1


def test_the_app_properties_list_the_summary_first(retours):
    """Excel's docProps/app.xml lists the sheet titles: the summary joins them, first."""
    name, (data, findings) = next(iter(retours.items()))
    titles = [s.name for s in XlsxPackage.from_bytes(data).sheets()]
    parts = _parts(data)
    lpstr = "".join(f"<vt:lpstr>{t}</vt:lpstr>" for t in [*titles, "Zone_impression"])
    parts["docProps/app.xml"] = (
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-'
        'properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
        'docPropsVTypes"><Application>Microsoft Excel</Application><HeadingPairs>'
        '<vt:vector size="4" baseType="variant"><vt:variant><vt:lpstr>Feuilles de calcul'
        f"</vt:lpstr></vt:variant><vt:variant><vt:i4>{len(titles)}</vt:i4></vt:variant>"
        "<vt:variant><vt:lpstr>Plages nommées</vt:lpstr></vt:variant><vt:variant><vt:i4>1"
        "</vt:i4></vt:variant></vt:vector></HeadingPairs><TitlesOfParts>"
        f'<vt:vector size="{len(titles) + 1}" baseType="lpstr">{lpstr}</vt:vector>'
        "</TitlesOfParts></Properties>").encode()
    data = _zip(parts)
    app = _parts(annotated_bytes(data, findings, name))["docProps/app.xml"].decode()
    assert f"<vt:i4>{len(titles) + 1}</vt:i4>" in app
    assert f'<vt:vector size="{len(titles) + 2}" baseType="lpstr"><vt:lpstr>À corriger' in app


def test_an_unexpected_structure_falls_back_to_openpyxl_and_says_so(retours, monkeypatch,
                                                                     tmp_path, caplog):
    """A faulty sheet written with a namespace prefix (<x:row>…, as some programs do):
    the XML way refuses it, the former way makes the copy, the log tells."""
    monkeypatch.undo()  # the real fallback, this time
    name, (data, findings) = next((n, v) for n, v in retours.items() if " - Bilan (" in n)
    f = next(f for f in findings if f.sheet and f.cell)
    part = _sheet_part(data, f.sheet)
    parts = _parts(data)
    xml = parts[part].decode()
    xml = re.sub(r"<(/?)([A-Za-z]\w*)([\s/>])", r"<\1x:\2\3", xml)
    xml = xml.replace('<x:worksheet xmlns="', '<x:worksheet xmlns:x="', 1)
    parts[part] = xml.encode()
    data = _zip(parts)
    load_workbook(io.BytesIO(data))  # openpyxl reads it
    target = tmp_path / "copie.xlsx"
    with caplog.at_level(logging.WARNING, logger="cv_excel.intake.annotate"):
        annotate(data, findings, target, name)
    assert any("structure de classeur inattendue" in r.getMessage() and "openpyxl" in
               r.getMessage() for r in caplog.records)
    out = load_workbook(target)
    assert out.sheetnames[0] == "À corriger"
    assert out[f.sheet][f.cell].comment is not None
    assert out[f.sheet][f.cell].fill.fgColor.rgb.endswith(RED)


def test_libreoffice_opens_and_saves_again_every_kind_of_copy(retours, with_notes, tmp_path):
    """LibreOffice (the real spreadsheet program here) opens each copy and saves it
    again as xlsx; the notes, fills and the summary sheet are still there."""
    copies = {}
    for i, (name, (data, findings)) in enumerate(retours.items()):
        copies[f"retour{i}"] = (annotated_bytes(data, findings, name), findings)
    for kind, (data, sheet) in with_notes.items():
        findings = [_finding(sheet, "A5"), _finding(sheet, "Z400", Severity.AVERTISSEMENT)]
        copies[f"notes {kind}"] = (annotated_bytes(data, findings, "retour.xlsx"), findings)
    sheet = with_notes["openpyxl"][1]
    data = with_notes["openpyxl"][0]
    hostile = [_finding(sheet, "B5", message="=1+1\x00 🎉 </t>&", hint="@x", value="-1"),
               _finding(sheet, "C200", message="é" * 40_000)]
    copies["hostile"] = (annotated_bytes(data, hostile, "retour.xlsx"), hostile)
    paths = []
    for stem, (copy, _) in copies.items():
        (tmp_path / f"{stem}.xlsx").write_bytes(copy)
        paths.append(tmp_path / f"{stem}.xlsx")
    outs = convert_many(paths, tmp_path / "lo", "xlsx")
    for out, (stem, (_, findings)) in zip(outs, copies.items(), strict=True):
        wb = load_workbook(out)
        assert wb.sheetnames[0] == "À corriger", stem
        assert wb.worksheets[0]["A4"].value == "Gravité"
        for f in findings:
            if f.sheet in wb.sheetnames and f.cell:
                cell = wb[f.sheet][_shown(wb[f.sheet], f.cell)]
                assert cell.comment is not None, (stem, f.cell)
                assert clean_text(f.message)[:100] in cell.comment.text
                assert cell.fill.fgColor.rgb[-6:] in (RED, ORANGE), (stem, f.cell)
