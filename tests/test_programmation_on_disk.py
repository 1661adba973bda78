"""The programmation kept on disk answers as the one in memory, whatever asks it.

Générer and valider read the year's programmation with
:func:`~cv_excel.programmation.on_disk.read_programmation_on_disk`: each action is on
disk, only its indexes in memory. These tests compare every answer with the in-memory
:class:`~cv_excel.programmation.models.Programmation` of the same workbook (the demo's
103 actions over several years and porteurs), in this process and in forked workers;
the should-fail table of ``test_programmation.py`` compares the reports.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from cv_excel.demo.build import demo_rows
from cv_excel.parallel import ordered_map, share, shared
from cv_excel.programmation import ProgrammationInvalide, read_programmation, write_programmation
from cv_excel.programmation.on_disk import read_programmation_on_disk
from cv_excel.programmation.schema import BY_KEY, COLUMNS, SHEET
from cv_excel.referentiel.load import embedded_referentiel
from cv_excel.referentiel.models import Referentiel

ANNEE = 2019


@pytest.fixture(scope="module")
def ref() -> Referentiel:
    return embedded_referentiel()


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory, ref: Referentiel) -> Path:
    rows = [r for r in demo_rows() if r["annee"] == ANNEE]
    return write_programmation(tmp_path_factory.mktemp("prog") / "programmation.xlsx", rows,
                               ref, annee=ANNEE)


def test_every_answer_is_the_in_memory_one(demo_file: Path, ref: Referentiel) -> None:
    memory = read_programmation(demo_file, ref, annee=ANNEE)
    with read_programmation_on_disk(demo_file, ref, annee=ANNEE) as disk:
        assert disk.annee == memory.annee == ANNEE
        assert disk.action_count == len(memory.actions) > 20
        assert list(disk) == memory.actions  # every field, in the workbook's order
        assert disk.sirets() == memory.sirets() == [p.siret for p in memory.porteurs()]
        assert len(disk.sirets()) > 5
        assert disk.porteurs() == memory.porteurs()
        for siret in memory.sirets():
            assert disk.actions_of(siret) == memory.actions_of(siret)
            assert disk.raison_sociale(siret) == memory.raison_sociale(siret)
        assert disk.actions_of("00000000000000") == memory.actions_of("00000000000000") == []
        assert disk.objectifs() == list(memory.actions_by_objectif())
        for code in [o.code for o in ref.objectifs_operationnels]:
            assert disk.actions_of_objectif(code) == memory.actions_of_objectif(code)
        assert list(disk.reperes()) == list(memory.reperes())
        assert [r.numero for r in disk.reperes()] == [a.numero for a in memory.actions]


def _numeros_of(siret: str) -> list[str]:
    return [a.numero for a in shared("prog").actions_of(siret)]


def test_forked_workers_read_the_same_actions(demo_file: Path, ref: Referentiel) -> None:
    """Workers inherit the open file: each reads at its own offsets (``pread``), whatever
    the others read at the same time."""
    with read_programmation_on_disk(demo_file, ref, annee=ANNEE) as disk:
        sirets = disk.sirets() * 3
        expected = [[a.numero for a in disk.actions_of(s)] for s in sirets]
        got = list(ordered_map(_numeros_of, sirets, workers=2, chunk=1,
                               init=share, init_args=({"prog": disk},)))
        assert got == expected
        assert list(disk) == read_programmation(demo_file, ref, annee=ANNEE).actions


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_an_invalid_programmation_leaves_no_open_file(tmp_path: Path, demo_file: Path,
                                                      ref: Referentiel) -> None:
    """The rows before the fault were written to the temporary file: it is closed (and so
    gone) when the reading fails, with the report ``read_programmation`` gives."""
    wb = openpyxl.load_workbook(demo_file)
    ws = wb[SHEET]
    ws.cell(ws.max_row, 1).value = ws.cell(2, 1).value  # the last number repeats the first
    bad = tmp_path / "doublon.xlsx"
    wb.save(bad)
    with pytest.raises(ProgrammationInvalide) as memory:
        read_programmation(bad, ref, annee=ANNEE)
    before = _open_fds()
    for _ in range(3):
        with pytest.raises(ProgrammationInvalide) as disk:
            read_programmation_on_disk(bad, ref, annee=ANNEE)
    assert _open_fds() == before
    assert disk.value.report.findings == memory.value.report.findings
    assert disk.value.report.codes() == ["PROG_NUMERO_DOUBLON"]


def test_rows_read_one_at_a_time_keep_their_place(tmp_path: Path, demo_file: Path,
                                                  ref: Referentiel) -> None:
    """A sheet whose table starts at C4 (two rows and two columns added before it): the
    rows are read one at a time from where the sheet starts, the same actions come out,
    and a finding still names its own cell."""
    expected = read_programmation(demo_file, ref, annee=ANNEE).actions
    wb = openpyxl.load_workbook(demo_file)
    ws = wb[SHEET]
    ws.insert_rows(1, 2)
    ws.insert_cols(1, 2)
    moved = tmp_path / "decalee.xlsx"
    wb.save(moved)
    assert read_programmation(moved, ref, annee=ANNEE).actions == expected
    with read_programmation_on_disk(moved, ref, annee=ANNEE) as disk:
        assert list(disk) == expected
    header = next(r for r in range(1, 20) if ws.cell(r, 3).value == BY_KEY["numero"].header)
    column = 3 + [c.key for c in COLUMNS].index("porteur_siret")
    ws.cell(header + 2, column).value = "pas un SIRET"  # the second action's
    wb.save(moved)
    with pytest.raises(ProgrammationInvalide) as raised:
        read_programmation_on_disk(moved, ref, annee=ANNEE)
    finding = raised.value.report.errors[0]
    assert (finding.cell, finding.row, finding.field) == (
        f"{get_column_letter(column)}{header + 2}", header + 2, "porteur_siret")


def _folder(tmp_path: Path, ref: Referentiel):
    from cv_excel.config import DossierTravail, write_config

    write_config(tmp_path, annee=ANNEE, contact_email="politique.ville@example.org")
    work = DossierTravail.open(tmp_path)
    work.create_folders()
    rows = [r for r in demo_rows() if r["annee"] == ANNEE]
    write_programmation(work.programmation_file(ANNEE), rows, ref, annee=ANNEE)
    return work


def test_the_intake_indexes_numbers_and_objectives_only(tmp_path: Path,
                                                        ref: Referentiel) -> None:
    """What valider asks of the programmation: each action's number and objective."""
    from cv_excel.intake.context import context_for

    work = _folder(tmp_path, ref)
    index = context_for(work, ref, ANNEE).actions_index(ANNEE)
    memory = read_programmation(work.programmation_file(ANNEE), ref, annee=ANNEE)
    assert index is not None and len(index) == len(memory.actions) > 20
    assert {k: (r.numero, r.objectif_operationnel) for k, r in index.items()} == {
        a.numero: (a.numero, a.objectif_operationnel) for a in memory.actions}


def _count_reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The workbooks read from now on to make the repères."""
    from cv_excel.programmation import reperes

    reads: list[Path] = []
    real = reperes.read_programmation_on_disk

    def counted(path, *args, **kwargs):  # noqa: ANN001, ANN202
        reads.append(Path(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(reperes, "read_programmation_on_disk", counted)
    return reads


def test_the_next_validation_reads_the_record_not_the_workbook(
        tmp_path: Path, ref: Referentiel, monkeypatch: pytest.MonkeyPatch) -> None:
    """The numbers and objectives are recorded beside the archives with what they were
    read from; the next run reads the record while the workbook, the code, the
    référentiel and the P147 codes are the same, and the workbook again otherwise."""
    from cv_excel.intake.context import context_for

    work = _folder(tmp_path, ref)
    first = context_for(work, ref, ANNEE).actions_index(ANNEE)
    record = work.path("archives") / f"repères {ANNEE}.json"
    assert record.is_file()
    reads = _count_reads(monkeypatch)
    assert context_for(work, ref, ANNEE).actions_index(ANNEE) == first
    assert reads == []
    # The workbook's content changes (one objective): read again, the new answer.
    path = work.programmation_file(ANNEE)
    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET]
    header = next(r for r in range(1, 20) if ws.cell(r, 1).value == BY_KEY["numero"].header)
    column = 1 + [c.key for c in COLUMNS].index("objectif_operationnel")
    numero = ws.cell(header + 1, 1).value
    other = next(o.code for o in ref.objectifs_operationnels
                 if o.code != ws.cell(header + 1, column).value)
    ws.cell(header + 1, column).value = other
    wb.save(path)
    second = context_for(work, ref, ANNEE).actions_index(ANNEE)
    assert len(reads) == 1 and second is not None
    assert second[numero].objectif_operationnel == other != first[numero].objectif_operationnel
    assert context_for(work, ref, ANNEE).actions_index(ANNEE) == second and len(reads) == 1
    # Another référentiel (a référent renamed): read again.
    renamed = ref.model_copy(deep=True)
    renamed.referents[0].libelle += " (nouveau)"
    assert context_for(work, renamed, ANNEE).actions_index(ANNEE) == second
    assert len(reads) == 2
    # A damaged record: read again, and written anew.
    record.write_text('{"version": 1, "cle": "', "utf-8")
    assert context_for(work, ref, ANNEE).actions_index(ANNEE) == second
    assert len(reads) == 3 and json.loads(record.read_text("utf-8"))["valide"] is True


def test_an_invalid_programmation_is_recorded_as_such(tmp_path: Path,
                                                      ref: Referentiel) -> None:
    from cv_excel.intake.context import context_for

    work = _folder(tmp_path, ref)
    path = work.programmation_file(ANNEE)
    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET]
    ws.cell(ws.max_row, 1).value = ws.cell(ws.max_row - 1, 1).value  # a number twice
    wb.save(path)
    assert context_for(work, ref, ANNEE).actions_index(ANNEE) is None
    record = json.loads((work.path("archives") / f"repères {ANNEE}.json").read_text("utf-8"))
    assert record["valide"] is False and record["reperes"] == []
    assert context_for(work, ref, ANNEE).actions_index(ANNEE) is None  # from the record
    path.unlink()
    assert context_for(work, ref, ANNEE).actions_index(ANNEE) is None  # no workbook


def test_the_settings_fingerprint_is_the_one_of_the_whole_files(tmp_path: Path,
                                                                ref: Referentiel) -> None:
    """Read by pieces now, the fingerprint of the settings a rejection depended on is the
    value it had when the files were read whole (archived rejections keep theirs)."""
    import hashlib

    import cv_excel
    from cv_excel.intake.context import context_for
    from cv_excel.intake.run import settings_fingerprint

    work = _folder(tmp_path, ref)
    ctx = context_for(work, ref, ANNEE)
    (work.path("classeurs") / "2019").mkdir(parents=True)  # 3 MB: pieces of 1 MB
    (work.path("classeurs") / "2019" / "registre.json").write_bytes(os.urandom(3 << 20))
    h = hashlib.sha256(f"{cv_excel.__version__}|{ctx.contrat}|{ctx.annee}".encode())
    for path in [work.path("classeurs") / "2019" / "registre.json",
                 *sorted(work.path("programmation").glob("*.xlsx"))]:
        h.update(path.name.encode() + path.read_bytes())
    assert settings_fingerprint(work, ctx) == h.hexdigest()[:16]


def test_generer_records_them_for_the_validation(tmp_path: Path, ref: Referentiel,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Générer reads the workbook and records its numbers and objectives on the way: the
    validation that follows reads the record, not the workbook."""
    from cv_excel.generation.generate import generate_year
    from cv_excel.intake.context import context_for

    work = _folder(tmp_path, ref)
    result = generate_year(work, ref, ANNEE, kinds=("porteur",), workers=1)
    assert result.classeurs and not result.echecs
    reads = _count_reads(monkeypatch)
    index = context_for(work, ref, ANNEE).actions_index(ANNEE)
    assert reads == []
    memory = read_programmation(work.programmation_file(ANNEE), ref, annee=ANNEE)
    assert index is not None and {k: r.objectif_operationnel for k, r in index.items()} == {
        a.numero: a.objectif_operationnel for a in memory.actions}
