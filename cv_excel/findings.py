"""Findings are data: every check returns them, every report flattens them.

A finding names the file, sheet and cell it is about, the field (schema key),
the value found, and carries a French message rendered from the single
catalogue in :mod:`cv_excel.messages`, so the wording lives in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from cv_excel.messages import render


class Severity(StrEnum):
    BLOQUANT = "bloquant"
    AVERTISSEMENT = "avertissement"
    INFORMATION = "information"  # said in the report, changes no status


class Finding(BaseModel):
    """One problem found in one place of one file."""

    model_config = ConfigDict(frozen=True)

    code: str
    severity: Severity
    message: str
    hint: str = ""
    file: str | None = None
    sheet: str | None = None
    cell: str | None = None
    row: int | None = None
    column: str | None = None
    field: str | None = None
    value: str | None = None

    def where(self) -> str:
        """Human place of the finding, in French (« Programmation!K12 »)."""
        parts = []
        if self.sheet and self.cell:
            parts.append(f"{self.sheet}!{self.cell}")
        elif self.sheet:
            parts.append(self.sheet)
        if self.row is not None and not self.cell:
            parts.append(f"ligne {self.row}")
        if self.column:
            parts.append(f"colonne « {self.column} »")
        return ", ".join(parts)


def make_finding(code: str, *, value: Any = None, **context: Any) -> Finding:
    """Build a finding from a catalogue code; placement keys go to the finding,
    every keyword is also available to the message template."""
    placement_keys = {"file", "sheet", "cell", "row", "column", "field"}
    placement = {k: context[k] for k in placement_keys if k in context}
    message, hint, severity = render(code, value=_show(value), **context)
    return Finding(
        code=code,
        severity=Severity(severity),
        message=message,
        hint=hint,
        value=None if value is None else _show(value),
        **placement,
    )


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Report(BaseModel):
    """The outcome of checking one file: a list of findings that flattens to a table."""

    file: str | None = None
    findings: list[Finding] = []

    @property
    def valid(self) -> bool:
        return not any(f.severity is Severity.BLOQUANT for f in self.findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.BLOQUANT]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.AVERTISSEMENT]

    def extend(self, findings: Iterable[Finding]) -> None:
        self.findings.extend(findings)

    def __iter__(self) -> Iterator[Finding]:  # type: ignore[override]
        return iter(self.findings)

    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    def to_rows(self) -> list[dict[str, Any]]:
        """Flatten to one dict per finding, French column names, for tables and CSV."""
        return [
            {
                "fichier": f.file or self.file or "",
                "gravité": f.severity.value,
                "code": f.code,
                "feuille": f.sheet or "",
                "cellule": f.cell or "",
                "ligne": f.row if f.row is not None else "",
                "colonne": f.column or "",
                "valeur": f.value or "",
                "message": f.message,
                "conseil": f.hint,
            }
            for f in self.findings
        ]
