"""``cv-excel consolider``: from the store to the year's dashboards and reports.

Every programmation of the working folder is snapshotted into the store, then
the year is read back from the store only, so every figure of every output can
be traced to the store. When nothing changed since the last build (same data
fingerprint, same code, same register), nothing is rewritten.

With a revue (``--revue n``), the outputs of that revue go to
``sorties/<année>/Revue <n>/``: its tableaux de bord, the complétude of its workbooks,
one COPIL pack per pilier (and their PDFs with ``--pdf``). Without, the annual outputs,
whose tableaux de bord show the latest state of every level over the year's revues.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from cv_excel import __version__
from cv_excel.atomic import write_text_atomic
from cv_excel.config import DossierTravail, Revue
from cv_excel.consolidation.completude import write_completude, write_completude_revue
from cv_excel.consolidation.compte_rendu import DOSSIER as COMPTES_RENDUS
from cv_excel.consolidation.compte_rendu import write_comptes_rendus
from cv_excel.consolidation.contexte import (
    COLONNES,
    CONTEXTE_FILE,
    read_contexte,
    write_modele_contexte,
)
from cv_excel.consolidation.dashboard import write_tableaux_de_bord
from cv_excel.consolidation.opendata import (
    attribuant_error,
    scdl_avertissements,
    write_dauphin_csv,
    write_scdl_subventions_csv,
)
from cv_excel.consolidation.pack_copil import pack_name, pdf_pack, write_pack_copil
from cv_excel.consolidation.physico_financier import (
    suivi_physico_financier,
    write_suivi_physico_financier,
)
from cv_excel.consolidation.rapport_annuel import write_rapport_annuel
from cv_excel.consolidation.reporting import (
    periode_departement,
    write_reporting_departement,
    write_reporting_etat,
)
from cv_excel.findings import make_finding
from cv_excel.intake.context import load_registre
from cv_excel.nomenclature import en_vigueur, nomenclature_dossier
from cv_excel.programmation.check import ProgrammationInvalide, read_programmation
from cv_excel.referentiel.models import Referentiel
from cv_excel.store.db import default_store_path, open_store
from cv_excel.store.imports import import_programmation
from cv_excel.store.queries import data_fingerprint, load_year, years

_PROG = re.compile(r"^Programmation (\d{4})\.xlsx$")
MARKER = ".empreinte"


@dataclass
class ConsolidationResult:
    annee: int
    dossier: Path
    fichiers: list[Path] = field(default_factory=list)
    pdf: list[Path] = field(default_factory=list)
    rien_de_nouveau: bool = False
    programmations_ignorees: list[str] = field(default_factory=list)
    # French warnings about the outputs, e.g. why no SCDL open-data file was written.
    avertissements: list[str] = field(default_factory=list)
    periode_departement: tuple[int, int] | None = None


def output_names(annee: int, periode: tuple[int, int] | None = None) -> dict[str, str]:
    """The files of the year; ``periode``: the Département report asked for those years."""
    return {
        "tableaux": f"Tableaux de bord {annee}.xlsx",
        "completude": f"Complétude et relances {annee}.xlsx",
        "relances": f"Relances {annee}.csv",
        "departement": ("Reporting Département.xlsx" if periode is None
                        else f"Reporting Département {periode[0]}-{periode[1]}.xlsx"),
        "etat": f"Reporting État {annee}.xlsx",
        "rapport_annuel": f"Rapport annuel {annee} (projet).xlsx",
        "comptes_rendus": COMPTES_RENDUS,  # a folder: one compte rendu per porteur
        "physico_financier": f"Suivi physico-financier {annee}.xlsx",
        "dauphin": f"Export Dauphin {annee}.csv",
        "scdl": f"Subventions {annee} (SCDL).csv",
    }


def revue_folder(revue: int) -> str:
    """The folder of a revue's outputs, under ``sorties/<année>/``."""
    return f"Revue {revue}"


def output_names_revue(annee: int, revue: int, piliers: list[str]) -> dict[str, str]:
    """The files of one revue (under ``sorties/<année>/Revue <n>/``); ``pack <code>``: the
    COPIL pack of each pilier."""
    return {
        "tableaux": f"Tableaux de bord {annee} revue {revue}.xlsx",
        "completude": f"Complétude revue {revue}.xlsx",
        **{f"pack {code}": pack_name(annee, revue, code) for code in piliers},
    }


def snapshot_programmations(work: DossierTravail, ref: Referentiel, store) -> list[str]:
    """Copy every valid programmation file into the store; list the invalid ones."""
    ignored = []
    for path in sorted(work.path("programmation").glob("Programmation *.xlsx")):
        m = _PROG.match(path.name)
        if not m:
            continue
        annee = int(m.group(1))
        try:
            programmation = read_programmation(path, ref, annee=annee,
                                               quartiers=work.config.territoire.quartiers)
        except ProgrammationInvalide:
            ignored.append(path.name)
            continue
        import_programmation(store, work.config.contrat, annee, programmation)
    return ignored


def _registre(work: DossierTravail, annee: int) -> list[dict]:
    prefix = f"{work.path('classeurs').name}/{annee}/"
    return [e for e in load_registre(work.path("classeurs")).values()
            if e["fichier"].startswith(prefix)]


def _programmed_years(store, contrat: str) -> list[int]:
    rows = store.conn.execute("SELECT DISTINCT annee FROM programmation_actions "
                              "WHERE contrat = ? ORDER BY annee", (contrat,))
    return [r[0] for r in rows]


def _contexte(work: DossierTravail):
    """The indicateurs de contexte of the folder, and what of them decides « nothing new »:
    the file's bytes and the territories it is checked against. A missing file is replaced
    by the empty model (the Direction fills it), which the draft then says."""
    path = work.root / CONTEXTE_FILE
    written = False
    if not path.exists():
        try:
            write_modele_contexte(path)
            written = True
        except OSError:
            pass  # a read-only folder: the draft leaves the indicators « à compléter »
    quartiers = work.config.territoire.quartiers
    contexte = read_contexte(path, quartiers)
    if written:
        contexte.findings.insert(0, make_finding(
            "CTX_FICHIER_ABSENT", file=CONTEXTE_FILE, colonnes=" ; ".join(COLONNES)))
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        digest = "absent"
    return contexte, f"contexte={digest}|territoires={[q.code for q in quartiers]}"


def consolider(work: DossierTravail, ref: Referentiel, annee: int | None = None,
               pdf: bool = False, force: bool = False,
               now: dt.datetime | None = None, de: int | None = None,
               a: int | None = None, revue: int | None = None) -> ConsolidationResult:
    """``de``/``a``: the period of the Département report (by default every year up to
    ``annee``); each year of it must have a programmation, else
    :class:`~cv_excel.consolidation.reporting.PeriodeInvalide` (French message) is raised
    before any output is written. In the demo's folder (its marker file), the Département
    report marks what the demo invented as « donnée fictive de démonstration ».

    ``revue``: the outputs of that revue of ``annee`` instead (see :func:`consolider_revue`);
    a revue the year does not have raises :class:`~cv_excel.config.RevueInconnue`."""
    from cv_excel.demo.build import DEMO_MARKER  # cv_excel.demo imports this module

    annee = annee or work.config.annee
    now = now or dt.datetime.now().astimezone()
    if revue is not None:
        return consolider_revue(work, ref, annee, work.config.revues.exiger(annee, revue),
                                pdf=pdf, force=force, now=now)
    out = work.path("sorties") / str(annee)
    result = ConsolidationResult(annee, out)
    contrat = work.config.contrat
    demonstration = (work.root / DEMO_MARKER).exists()
    with open_store(default_store_path(work)) as store:
        result.programmations_ignorees = snapshot_programmations(work, ref, store)
        registre = _registre(work, annee)
        all_years = [y for y in years(store, contrat) if y <= annee]
        dep_years = all_years
        if de is not None or a is not None:
            dep_years = periode_departement(_programmed_years(store, contrat), de, a, annee)
            result.periode_departement = (dep_years[0], dep_years[-1])
        names = output_names(annee, result.periode_departement)
        attribuant, service = work.config.attribuant, work.config.direction
        scdl_path = out / names["scdl"]
        if attribuant_error(attribuant) is not None:  # no SCDL file expected: it says why
            names.pop("scdl")
        state = "|".join([__version__, *(data_fingerprint(store, contrat, y)
                                         for y in sorted({*all_years, *dep_years})),
                          hashlib.sha256(repr(registre).encode()).hexdigest(), str(pdf),
                          f"departement={dep_years}", f"demonstration={demonstration}"])
        state += f"|attribuant={attribuant.nom}|{attribuant.siret}|{service}"
        contexte, contexte_state = _contexte(work)
        state += f"|{contexte_state}"
        nomenclature = nomenclature_dossier(work.root)  # the Dauphin export's P147 labels
        state += f"|nomenclature={nomenclature.empreinte}"
        marker = out / MARKER
        if (not force and marker.exists() and marker.read_text("utf-8") == state
                and all((out / n).exists() for n in names.values())):
            result.rien_de_nouveau = True
            result.fichiers = [out / n for n in names.values()]
            result.avertissements = scdl_avertissements(load_year(store, contrat, annee),
                                                        attribuant, scdl_path)
            result.avertissements += contexte.avertissements()
            result.avertissements += nomenclature.avertissements()
            return result
        donnees = load_year(store, contrat, annee, revue=None)  # the latest of every level
        annees = {y: load_year(store, contrat, y) for y in sorted({*all_years, *dep_years})}
    donnees.construit_le = now
    f = result.fichiers
    suivi = suivi_physico_financier(donnees, ref)
    f.append(write_tableaux_de_bord(donnees, ref, out / names["tableaux"], now, suivi))
    f += write_completude(donnees, registre, ref, out / names["completude"],
                          out / names["relances"])
    f.append(write_reporting_departement(annees, ref, out / names["departement"],
                                         periode=result.periode_departement,
                                         demonstration=demonstration))
    f.append(write_reporting_etat(donnees, ref, out / names["etat"]))
    f.append(write_rapport_annuel(donnees, ref, out / names["rapport_annuel"], contexte,
                                  work.config.territoire.quartiers,
                                  demonstration=demonstration))
    write_comptes_rendus(donnees, ref, out / names["comptes_rendus"], now=now)
    f.append(out / names["comptes_rendus"])
    f.append(write_suivi_physico_financier(donnees, ref, out / names["physico_financier"],
                                           suivi))
    with en_vigueur(nomenclature):
        f.append(write_dauphin_csv(donnees, ref, out / names["dauphin"],
                                   quartiers=work.config.territoire.quartiers))
    scdl = write_scdl_subventions_csv(donnees, ref, scdl_path, attribuant, service)
    if scdl.path is not None:
        f.append(scdl.path)
    result.avertissements += scdl.avertissements
    result.avertissements += contexte.avertissements()
    result.avertissements += nomenclature.avertissements()
    if pdf:
        from cv_excel.office import convert

        result.pdf.append(convert(f[0], out))
    write_text_atomic(marker, state)
    return result


def consolider_revue(work: DossierTravail, ref: Referentiel, annee: int, revue: Revue,
                     pdf: bool = False, force: bool = False,
                     now: dt.datetime | None = None) -> ConsolidationResult:
    """The outputs of one revue, in ``sorties/<année>/Revue <n>/``: tableaux de bord of
    the revue, complétude of its workbooks, one COPIL pack per pilier; with ``pdf``, the
    PDFs of the packs and of the tableaux de bord (one LibreOffice run)."""
    now = now or dt.datetime.now().astimezone()
    out = work.path("sorties") / str(annee) / revue_folder(revue.numero)
    result = ConsolidationResult(annee, out)
    contrat = work.config.contrat
    piliers = [p.code for p in ref.piliers]
    names = output_names_revue(annee, revue.numero, piliers)
    expected = list(names.values())
    if pdf:
        expected += [Path(n).with_suffix(".pdf").name for k, n in names.items()
                     if k == "tableaux" or k.startswith("pack ")]
    with open_store(default_store_path(work)) as store:
        result.programmations_ignorees = snapshot_programmations(work, ref, store)
        registre = _registre(work, annee)
        # Decisions carry over from earlier revues and years, indicator series cover every
        # year: every year up to this one is part of the picture.
        all_years = sorted({*(y for y in years(store, contrat) if y <= annee), annee})
        state = "|".join([__version__, f"revue={annee}-{revue.numero}", revue.libelle,
                          *(data_fingerprint(store, contrat, y,
                                             revue=revue.numero if y == annee else None)
                            for y in all_years),
                          hashlib.sha256(repr(registre).encode()).hexdigest()])
        marker = out / MARKER
        # Outputs built with their PDFs also serve a run that asks for none (the batch).
        built = marker.read_text("utf-8") if marker.exists() else ""
        wanted = {f"{state}|pdf=True"} | ({f"{state}|pdf=False"} if not pdf else set())
        if (not force and built in wanted and all((out / n).exists() for n in expected)):
            result.rien_de_nouveau = True
            result.fichiers = [out / n for n in names.values()]
            result.pdf = [out / n for n in expected if n.endswith(".pdf")]
            return result
        donnees = load_year(store, contrat, annee, revue=revue.numero)
    donnees.construit_le = now
    f = result.fichiers
    f.append(write_tableaux_de_bord(donnees, ref, out / names["tableaux"], now))
    f.append(write_completude_revue(donnees, registre, ref, out / names["completude"],
                                    revue.numero))
    packs = [write_pack_copil(donnees, ref, code, out / names[f"pack {code}"],
                              revue_libelle=revue.libelle, now=now) for code in piliers]
    f += packs
    if pdf:
        result.pdf = pdf_pack([f[0], *packs], out)
    write_text_atomic(marker, f"{state}|pdf={pdf}")
    return result
