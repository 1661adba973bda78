"""Fill generated workbooks with LibreOffice, as a person would, through UNO.

Run with a Python that can ``import uno`` (Debian's ``/usr/bin/python3`` with
``python3-uno``), not with the project's interpreter::

    /usr/bin/python3 tests/uno_fill.py INPUT.xlsx OUTPUT.xlsx STEPS.json
    /usr/bin/python3 tests/uno_fill.py JOBS.json

``STEPS.json`` is a list of steps; ``JOBS.json`` is a list of jobs
``{"input": …, "output": …, "steps": […]}`` processed in one LibreOffice session
(one start-up for all). Steps:

* ``{"sheet": S, "name": N, "value": 40}``: a number is entered with ``setValue``,
  a string with ``setString``; ``None`` clears the cell;
* ``{"sheet": S, "name": N, "row": 0, "col": 1, ...}``: a cell of a table name,
  by offsets inside its range;
* ``{"sheet": S, "name": N, "date": "2019-03-12"}``: a real date (the serial
  number of the document's null date, in a cell already formatted as a date);
* ``{"sheet": S, "name": N, "choose": 80}``: a value chosen from the cell's
  drop-down list, which must allow it (the list is read from the cell's
  validation, its ``Formula1`` being a name, a range or an inline list);
* ``{"sheet": S, "name": N, "text": "douze"}``: text typed as is, never converted;
* ``{"unprotect": S}`` / ``{"protect": S}``: (un)protect a sheet, no password;
* ``{"sheet": S, "cell": "H40", "formula": "=IF(E40>1;1;0)"}``: a formula in the API's
  grammar (English function names, ``;`` between arguments) written at an address, for
  a test to read what LibreOffice computes (say, a conditional format's condition).

LibreOffice's API does not enforce sheet protection (``setString`` on a locked
cell of a protected sheet succeeds), so this script does, as the program does
for a person: writing into a locked cell of a protected sheet is refused until
the sheet is unprotected. After the steps every formula is recalculated
(``calculateAll``) so the saved cached values are fresh, and the workbook is
stored as .xlsx. The script prints a JSON report (the cell each step wrote) on
stdout. LibreOffice is always terminated, also on error and on timeout.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import uno  # noqa: I001 - the UNO bridge must be imported before com.sun.star
from com.sun.star.beans import PropertyValue

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice") or "soffice"
CONNECT_TIMEOUT = 90  # seconds to wait for LibreOffice to accept connections
TOTAL_TIMEOUT = int(os.environ.get("UNO_FILL_TIMEOUT", "170"))  # whole run
XLSX_FILTER = "Calc MS Excel 2007 XML"


class FillError(Exception):
    """A step that a person could not perform (or that makes no sense)."""


class _Timeout(Exception):
    pass


def _prop(name: str, value) -> PropertyValue:
    p = PropertyValue()
    p.Name = name
    p.Value = value
    return p


def _col_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def a1(cell) -> str:
    addr = cell.getCellAddress()
    return f"{_col_letters(addr.Column)}{addr.Row + 1}"


# --------------------------------------------------------------------- office


class Office:
    """A private, headless LibreOffice reached through a named pipe."""

    def __init__(self) -> None:
        self.profile = tempfile.mkdtemp(prefix="uno_fill_profile_")
        self.pipe = f"uno_fill_{os.getpid()}_{int(time.time() * 1000)}"
        self.proc: subprocess.Popen | None = None
        self.desktop = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [SOFFICE, f"-env:UserInstallation={uno.systemPathToFileUrl(self.profile)}",
             "--headless", "--invisible", "--norestore", "--nologo", "--nodefault",
             "--nolockcheck", f"--accept=pipe,name={self.pipe};urp;"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)  # its own process group: killed as a whole
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local)
        deadline = time.monotonic() + CONNECT_TIMEOUT
        while True:
            try:
                ctx = resolver.resolve(
                    f"uno:pipe,name={self.pipe};urp;StarOffice.ComponentContext")
                break
            except Exception:  # NoConnectException while soffice starts
                if self.proc.poll() is not None:
                    raise FillError(f"LibreOffice s'est arrêté au démarrage "
                                    f"(code {self.proc.returncode})") from None
                if time.monotonic() > deadline:
                    raise FillError("LibreOffice ne répond pas (délai dépassé)") from None
                time.sleep(0.25)
        self.desktop = ctx.ServiceManager.createInstanceWithContext(
            "com.sun.star.frame.Desktop", ctx)

    def load(self, path: Path):
        doc = self.desktop.loadComponentFromURL(
            uno.systemPathToFileUrl(str(path.resolve())), "_blank", 0,
            (_prop("Hidden", True), _prop("ReadOnly", False)))
        if doc is None or not hasattr(doc, "Sheets"):
            raise FillError(f"LibreOffice n'a pas pu ouvrir {path}")
        return doc

    def stop(self) -> None:
        if self.desktop is not None:
            with contextlib.suppress(Exception):  # the bridge dies with the process
                self.desktop.terminate()
            self.desktop = None
        if self.proc is not None:
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._kill()
            # soffice may leave its child (soffice.bin) behind its launcher
            self._kill()
            self.proc = None
        shutil.rmtree(self.profile, ignore_errors=True)

    def _kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)


# ------------------------------------------------------------------ names


def resolve_name(doc, sheet_name: str, name: str):
    """The cell range a (preferably sheet-scoped) defined name refers to.

    LibreOffice ≥ 3.5 exposes a sheet's local names as the sheet property
    ``NamedRanges``; the document's ``NamedRanges`` holds the global ones, whose
    content reads like ``$'Action 2019-001'.$B$37``.
    """
    if not doc.Sheets.hasByName(sheet_name):
        raise FillError(f"feuille introuvable : {sheet_name!r}")
    sheet = doc.Sheets.getByName(sheet_name)
    local = None
    try:
        local = sheet.getPropertyValue("NamedRanges")
    except Exception:  # older LibreOffice: no sheet-local names through UNO
        local = None
    if local is not None and local.hasByName(name):
        return local.getByName(name).getReferredCells()
    if doc.NamedRanges.hasByName(name):
        content = doc.NamedRanges.getByName(name).getContent()
        ranges = doc.Sheets.getCellRangesByName(content)
        if ranges:
            rng = ranges[0]
            if rng.getSpreadsheet().getName() != sheet_name:
                raise FillError(f"le nom {name!r} désigne {content}, pas la feuille "
                                f"{sheet_name!r}")
            return rng
    raise FillError(f"nom introuvable : {name!r} sur la feuille {sheet_name!r}")


def target_cell(doc, step: dict):
    if "cell" in step:
        if not doc.Sheets.hasByName(step["sheet"]):
            raise FillError(f"feuille introuvable : {step['sheet']!r}")
        return doc.Sheets.getByName(step["sheet"]).getCellRangeByName(step["cell"])
    rng = resolve_name(doc, step["sheet"], step["name"])
    row, col = int(step.get("row", 0)), int(step.get("col", 0))
    addr = rng.getRangeAddress()
    if row > addr.EndRow - addr.StartRow or col > addr.EndColumn - addr.StartColumn:
        raise FillError(f"{step['name']}: décalage ({row}, {col}) hors de la plage "
                        f"{rng.AbsoluteName}")
    return rng.getCellByPosition(col, row)


def list_values(doc, cell) -> list:
    """The values a cell's drop-down list offers."""
    validation = cell.getPropertyValue("Validation")
    if validation.Type.value != "LIST":
        raise FillError(f"{a1(cell)} n'a pas de liste déroulante "
                        f"(validation {validation.Type.value})")
    formula = validation.getFormula1().strip()
    if formula.startswith('"'):  # inline list: "a";"b"
        return [part.strip().strip('"') for part in formula.split(";")]
    name = formula.lstrip("=")
    sheet = cell.getSpreadsheet()
    rng = None
    try:
        local = sheet.getPropertyValue("NamedRanges")
        if local.hasByName(name):
            rng = local.getByName(name).getReferredCells()
    except Exception:
        rng = None
    if rng is None and doc.NamedRanges.hasByName(name):
        rng = doc.NamedRanges.getByName(name).getReferredCells()
    if rng is None:
        ranges = doc.Sheets.getCellRangesByName(name)
        if not ranges:
            raise FillError(f"liste {formula!r} de {a1(cell)} introuvable")
        rng = ranges[0]
    return [v for row in rng.getDataArray() for v in row if v != ""]


def _same(a, b) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return str(a) == str(b)


# ------------------------------------------------------------------ steps


def _check_writable(cell, step: dict) -> None:
    sheet = cell.getSpreadsheet()
    if sheet.isProtected() and cell.getPropertyValue("CellProtection").IsLocked:
        raise FillError(f"{sheet.getName()}!{a1(cell)} ({step.get('name')}) est verrouillée "
                        "et la feuille protégée : ôtez d'abord la protection (« unprotect »)")


def _serial(doc, iso: str) -> float:
    null = doc.getPropertyValue("NullDate")  # 1899-12-30 unless changed
    origin = dt.date(null.Year, null.Month, null.Day)
    return float((dt.date.fromisoformat(iso) - origin).days)


def apply_step(doc, step: dict) -> dict:
    if "unprotect" in step:
        doc.Sheets.getByName(step["unprotect"]).unprotect("")
        return {"unprotect": step["unprotect"]}
    if "protect" in step:
        doc.Sheets.getByName(step["protect"]).protect("")
        return {"protect": step["protect"]}
    cell = target_cell(doc, step)
    _check_writable(cell, step)
    report = {"sheet": step["sheet"], "name": step.get("name"), "cell": a1(cell)}
    if "choose" in step:
        wanted = step["choose"]
        allowed = list_values(doc, cell)
        match = next((v for v in allowed if _same(v, wanted)), None)
        if match is None:
            raise FillError(f"{step['sheet']}!{a1(cell)} : {wanted!r} n'est pas dans la liste "
                            f"{allowed!r}")
        if isinstance(match, float):
            cell.setValue(match)
        else:
            cell.setString(match)
        report["choose"] = match
    elif "text" in step:
        cell.setString(str(step["text"]))
    elif "formula" in step:
        cell.setFormula(step["formula"])
    elif "date" in step:
        cell.setValue(_serial(doc, step["date"]))
    elif "value" in step:
        value = step["value"]
        if value is None:
            cell.setString("")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            cell.setString(str(value))
        else:
            cell.setValue(value)
    else:
        raise FillError(f"étape incomprise : {step!r}")
    return report


def run_job(office: Office, job: dict) -> dict:
    src, out = Path(job["input"]), Path(job["output"])
    doc = office.load(src)
    try:
        done = [apply_step(doc, step) for step in job.get("steps", [])]
        doc.calculateAll()
        out.parent.mkdir(parents=True, exist_ok=True)
        doc.storeToURL(uno.systemPathToFileUrl(str(out.resolve())),
                       (_prop("FilterName", XLSX_FILTER), _prop("Overwrite", True)))
    finally:
        try:
            doc.close(True)
        except Exception:
            doc.dispose()
    return {"input": str(src), "output": str(out), "steps": done}


def load_jobs(argv: list[str]) -> list[dict]:
    if len(argv) == 1:
        jobs = json.loads(Path(argv[0]).read_text("utf-8"))
        return jobs["jobs"] if isinstance(jobs, dict) else jobs
    if len(argv) == 3:
        data = json.loads(Path(argv[2]).read_text("utf-8"))
        if isinstance(data, dict):
            data = data.get("steps", [])
        if data and all("input" in j for j in data):
            return data
        return [{"input": argv[0], "output": argv[1], "steps": data}]
    raise SystemExit(__doc__)


def _alarm(signum, frame):
    raise _Timeout(f"délai de {TOTAL_TIMEOUT} s dépassé")


def main(argv: list[str]) -> int:
    jobs = load_jobs(argv)
    signal.signal(signal.SIGALRM, _alarm)
    signal.signal(signal.SIGTERM, _alarm)  # killed by a caller's timeout: still clean up
    signal.alarm(TOTAL_TIMEOUT)
    office = Office()
    results = []
    try:
        office.start()
        for job in jobs:
            results.append(run_job(office, job))
    except (FillError, _Timeout) as exc:
        print(f"uno_fill: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.alarm(0)
        office.stop()
    print(json.dumps({"jobs": results}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
