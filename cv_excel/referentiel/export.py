"""Show and export the référentiel: a printed tree, JSON, a readable workbook."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from rich.tree import Tree

from cv_excel.referentiel.load import roles_of
from cv_excel.referentiel.models import Referentiel
from cv_excel.xlsxio import save_workbook_atomic, set_text


def to_json(ref: Referentiel) -> str:
    """One JSON object: contrat, piliers, orientations, objectifs, référents, décisions."""
    return json.dumps(ref.model_dump(mode="json"), ensure_ascii=False, indent=2)


def _names(ref: Referentiel, ids: list[str]) -> str:
    return " ; ".join(ref.referent(i).libelle for i in ids) or "—"


def tree(ref: Referentiel, details: bool = True) -> Tree:
    """The contract tree with the person in charge at every level."""
    root = Tree(f"[bold]{ref.contrat.libelle}[/bold]")
    for p in ref.piliers:
        pn = root.add(f"[bold]{p.code}[/bold] {p.titre}  [dim]responsable : "
                      f"{_names(ref, p.responsables)}[/dim]")
        for o in ref.orientations_of(p.code):
            on = pn.add(f"[bold]{o.code}[/bold] {o.titre}  [dim]coordonnateur : "
                        f"{_names(ref, o.coordonnateurs)}[/dim]")
            for s in ref.strategiques_of(o.code):
                sn = on.add(f"{s.code} {s.titre}  [dim]pilote : {_names(ref, s.pilotes)}[/dim]")
                if details:
                    for oo in ref.operationnels_of(s.code):
                        sn.add(f"{oo.code} {oo.titre}  [dim]référent : "
                               f"{_names(ref, oo.referents)}[/dim]")
    return root


def summary(ref: Referentiel) -> dict[str, int]:
    return {
        "piliers": len(ref.piliers),
        "orientations": len(ref.orientations),
        "objectifs stratégiques": len(ref.objectifs_strategiques),
        "objectifs opérationnels": len(ref.objectifs_operationnels),
        "indicateurs": sum(len(o.indicateurs) for o in ref.objectifs_operationnels),
        "référents": len(ref.referents),
    }


_TYPE_FR = {"impact": "Impact", "resultat": "Résultat", "suivi": "Suivi"}


def _sheets(ref: Referentiel) -> dict[str, tuple[list[str], list[list[Any]]]]:
    def lst(items: list[str]) -> str:
        return "\n".join(f"• {i}" for i in items)

    return {
        "Piliers": (["Code", "Titre", "Responsable(s)"],
                    [[p.code, p.titre, _names(ref, p.responsables)] for p in ref.piliers]),
        "Orientations": (["Code", "Titre", "Pilier", "Coordonnateur(s)"],
                         [[o.code, o.titre, o.pilier, _names(ref, o.coordonnateurs)]
                          for o in ref.orientations]),
        "Objectifs stratégiques": (
            ["Code", "Titre", "Orientation", "Pilote(s)"],
            [[s.code, s.titre, s.orientation, _names(ref, s.pilotes)]
             for s in ref.objectifs_strategiques]),
        "Objectifs opérationnels": (
            ["Code", "Titre", "Objectif stratégique", "Référent(s)", "Titre en annexe 4",
             "Chef de file", "Rôle de la ville", "Justification", "Contenu",
             "Pistes d'action", "Partenariats", "Modalités de mise en œuvre"],
            [[o.code, o.titre, o.objectif_strategique, _names(ref, o.referents),
              o.titre_annexe4 or "", o.chef_de_file or "", lst(o.role_ville), o.justification,
              o.contenu, lst(o.pistes_action), lst(o.partenariats), o.modalites]
             for o in ref.objectifs_operationnels]),
        "Indicateurs": (
            ["Objectif opérationnel", "Type", "Indicateur", "Valeur cible"],
            [[o.code, _TYPE_FR[i.type], i.libelle, i.valeur_cible or ""]
             for o in ref.objectifs_operationnels for i in o.indicateurs]),
        "Référents": (
            ["Identifiant", "Libellé", "Rôles dans le contrat", "Orthographes du contrat",
             "Nom", "E-mail"],
            [[r.id, r.libelle, roles_of(ref, r.id), lst(r.variantes), r.nom or "",
              r.email or ""] for r in ref.referents]),
        "Décisions": (["N°", "Sujet", "Constat", "Décision", "Codes"],
                      [[d.id, d.sujet, d.constat, d.decision, ", ".join(d.codes)]
                       for d in ref.decisions]),
    }


def write_xlsx(ref: Referentiel, path: Path) -> Path:
    """The référentiel as a readable workbook, one sheet per level."""
    wb = Workbook()
    wb.remove(wb.active)
    head_font = Font(bold=True, color="FFFFFF")
    head_fill = PatternFill("solid", fgColor="1F4E78")
    for title, (headers, rows) in _sheets(ref).items():
        ws = wb.create_sheet(title)
        ws.append(headers)
        for cell in ws[1]:
            cell.font, cell.fill = head_font, head_fill
        for r, values in enumerate(rows, start=2):
            for c, value in enumerate(values, start=1):
                cell = set_text(ws.cell(row=r, column=c), value)
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        for c, header in enumerate(headers, start=1):
            letter = ws.cell(row=1, column=c).column_letter
            ws.column_dimensions[letter].width = 12 if header in ("Code", "N°") else 40
        ws.freeze_panes = "B2"
        ws.auto_filter.ref = ws.dimensions
    return save_workbook_atomic(wb, path)
