"""Stage 3: were prefilled values changed? (a porteur who unprotects a sheet
and edits a funded amount is caught, and the cell is named)."""

from __future__ import annotations

from typing import Any

from cv_excel.findings import Finding, make_finding
from cv_excel.generation.fingerprint import canonical, fingerprint
from cv_excel.reader import ClasseurLu, prefilled_cells


def check_tamper(name: str, lu: ClasseurLu, entry: dict[str, Any] | None) -> list[Finding]:
    """Compare the prefilled cells with what was generated.

    The register entry (written at generation) is the reference; the metadata's
    own fingerprint is used only for a workbook missing from the register.
    """
    cells = prefilled_cells(lu)
    actual = fingerprint({k: v.value for k, v in cells.items()})
    expected = entry["empreinte"] if entry else lu.meta.get("meta_empreinte")
    if actual == expected:
        return []
    original: dict[str, str] = (entry or {}).get("preremplies") or {}
    if not original:
        return [make_finding("MOD_EMPREINTE", file=name)]
    findings = []
    for key in sorted(set(original) | set(cells)):
        found = cells.get(key)
        value = canonical(found.value) if found else ""
        if value == original.get(key, ""):
            continue
        sheet, _, field = key.partition("|")
        findings.append(make_finding(
            "MOD_VALEUR_PREREMPLIE", file=name, sheet=found.sheet if found else sheet,
            cell=found.cell if found else None, field=field.replace("|", "."),
            value=value, expected=original.get(key, "")))
    return findings or [make_finding("MOD_EMPREINTE", file=name)]
