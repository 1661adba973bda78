"""The programmation kept on disk answers as the one in memory, whatever asks it.

Générer and valider read the year's programmation with
:func:`~cv_excel.programmation.on_disk.read_programmation_on_disk`: each action is on
disk, only its indexes in memory. These tests compare every answer with the in-memory
:class:`~cv_excel.programmation.models.Programmation` of the same workbook (the demo's
103 actions over several years and porteurs), in this process and in forked workers;
the should-fail table of ``test_programmation.py`` compares the reports.
"""

from __future__ import annotations

import os
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from cv_excel.demo.build import demo_rows
from cv_excel.parallel import ordered_map, share, shared
from cv_excel.programmation import ProgrammationInvalide, read_programmation, write_programmation
from cv_excel.programmation.on_disk import ProgrammationOnDisk, read_programmation_on_disk
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


def test_the_intake_reads_it_on_disk(tmp_path: Path, ref: Referentiel) -> None:
    """What valider uses: its context holds the actions on disk, and indexes each action's
    number and objective (all the checks ask of it)."""
    from cv_excel.config import DossierTravail, write_config
    from cv_excel.intake.context import context_for

    write_config(tmp_path, annee=ANNEE, contact_email="politique.ville@example.org")
    work = DossierTravail.open(tmp_path)
    work.create_folders()
    rows = [r for r in demo_rows() if r["annee"] == ANNEE]
    write_programmation(work.programmation_file(ANNEE), rows, ref, annee=ANNEE)
    ctx = context_for(work, ref, ANNEE)
    prog = ctx.programmation(ANNEE)
    assert isinstance(prog, ProgrammationOnDisk)
    index = ctx.actions_index(ANNEE)
    assert index is not None and len(index) == prog.action_count == len(rows)
    memory = read_programmation(work.programmation_file(ANNEE), ref, annee=ANNEE)
    assert {k: (r.numero, r.objectif_operationnel) for k, r in index.items()} == {
        a.numero: (a.numero, a.objectif_operationnel) for a in memory.actions}
