"""``cv-excel consolider``: from the store to the year's dashboards and reports.

Every programmation of the working folder is snapshotted into the store, then
the year is read back from the store only, so every figure of every output can
be traced to the store. When nothing changed since the last build (same data
fingerprint, same code, same register), nothing is rewritten.

« Nothing new » is first decided from metadata, at a cost that does not grow with the
history: the code's version, the configuration and the référentiel, the content hashes of
the programmation files and registers (a file is hashed again only when its signature —
size, modification time, inode, change time — differs from the one recorded), the
indicateurs de contexte and P147 files, the arguments, and the store's token
(:func:`~cv_excel.store.queries.etat_donnees`). When that cheap state is the one recorded
by the last build of the same outputs (``sorties/.etat/``), no workbook is read and no
year is loaded. Otherwise the former path runs: a programmation whose content and rows
in the store are those of its last import is not read again; the years are fingerprinted
and the outputs rebuilt only when that fingerprint changed; then both states are recorded.

With a revue (``--revue n``), the outputs of that revue go to
``sorties/<année>/Revue <n>/``: its tableaux de bord, the complétude of its workbooks,
one COPIL pack per pilier (and their PDFs with ``--pdf``). Without, the annual outputs,
whose tableaux de bord show the latest state of every level over the year's revues.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cv_excel import __version__
from cv_excel.atomic import write_text_atomic
from cv_excel.config import DossierTravail, Revue
from cv_excel.consolidation.completude import write_completude, write_completude_revue
from cv_excel.consolidation.compte_rendu import DOSSIER as COMPTES_RENDUS
from cv_excel.consolidation.compte_rendu import (
    PlanComptesRendus,
    ecrire_groupe,
    partage,
    plan_comptes_rendus,
)
from cv_excel.consolidation.contexte import (
    COLONNES,
    CONTEXTE_FILE,
    read_contexte,
    write_modele_contexte,
)
from cv_excel.consolidation.dashboard import write_tableaux_de_bord
from cv_excel.consolidation.etat import ETAT, FORMAT, read_record, write_record
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
from cv_excel.filestamp import same_signature, signature, signature_text
from cv_excel.findings import make_finding
from cv_excel.intake.context import load_registre
from cv_excel.nomenclature import en_vigueur, nomenclature_dossier
from cv_excel.parallel import EnFond, share, shared
from cv_excel.programmation.check import ProgrammationInvalide
from cv_excel.programmation.on_disk import read_programmation_on_disk
from cv_excel.referentiel.models import Referentiel
from cv_excel.spill import SpilledList
from cv_excel.store import schema
from cv_excel.store.db import open_store, store_target
from cv_excel.store.imports import import_programmation
from cv_excel.store.models import DonneesAnnee
from cv_excel.store.queries import (
    data_fingerprint,
    etat_donnees,
    fingerprint_of,
    load_year,
    programmed_years,
    revues_avec_retours,
    years,
)

_PROG = re.compile(r"^Programmation (\d{4})\.xlsx$")
MARKER = ".empreinte"
ENTREES = "entrees.json"  # under sorties/.etat/ (see cv_excel.consolidation.etat)


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
    # The annual outputs only: the revues of the year with an accepted return in the store
    # (the batch builds the latest one's outputs too).
    revues_avec_retours: list[int] = field(default_factory=list)


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


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _hash_file(path: Path) -> tuple[str, str | None]:
    """SHA-256 of a file, streamed, and its signature as text when the file did not change
    while it was read (else None: not to be remembered)."""
    with path.open("rb") as fh:
        before = signature(os.fstat(fh.fileno()))
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
        after = signature(os.fstat(fh.fileno()))
    return digest, signature_text(before) if same_signature(before, after) else None


@dataclass
class Entrees:
    """The consolidation's inputs read from files, known by their content: a file whose
    signature (size, modification time, inode, change time: see
    :func:`cv_excel.intake.inbox.signature`) is the one recorded when it was last hashed
    is not read; and what the last snapshot of each programmation file left in the store.
    Kept in ``sorties/.etat/entrees.json``."""

    work: DossierTravail
    # key (path under the working folder) -> [signature as text, SHA-256]
    fichiers: dict[str, list[str]] = field(default_factory=dict)
    # file name -> {"sha256", "cle", "valide", "magasin"}: see snapshot_programmations
    programmations: dict[str, dict[str, Any]] = field(default_factory=dict)
    modifie: bool = False

    @classmethod
    def load(cls, work: DossierTravail) -> Entrees:
        data = read_record(cls.path_of(work))
        entrees = cls(work)
        if isinstance(data.get("fichiers"), dict) and isinstance(data.get("programmations"),
                                                                 dict):
            entrees.fichiers, entrees.programmations = data["fichiers"], data["programmations"]
        return entrees

    @staticmethod
    def path_of(work: DossierTravail) -> Path:
        return work.path("sorties") / ETAT / ENTREES

    def save(self) -> None:
        if self.modifie:
            write_record(self.path_of(self.work), {"fichiers": self.fichiers,
                                                  "programmations": self.programmations})
            self.modifie = False

    def content(self, path: Path) -> str:
        """The file's SHA-256 (« absent », « illisible »), hashed only when its signature
        is not the one recorded."""
        try:
            key = path.relative_to(self.work.root).as_posix()
        except ValueError:
            key = str(path)
        try:
            sig = signature_text(signature(path.stat()))
        except FileNotFoundError:
            return "absent"
        except OSError:
            return "illisible"
        known = self.fichiers.get(key)
        if isinstance(known, list) and len(known) == 2 and known[0] == sig:
            return known[1]
        try:
            digest, read_as = _hash_file(path)
        except OSError:
            return "illisible"
        if read_as is not None:
            self.fichiers[key] = [read_as, digest]
            self.modifie = True
        return digest

    def programmation_files(self) -> list[tuple[Path, int, str]]:
        """The programmation files of the folder: path, year, content."""
        found = []
        for path in sorted(self.work.path("programmation").glob("Programmation *.xlsx")):
            m = _PROG.match(path.name)
            if m:
                found.append((path, int(m.group(1)), self.content(path)))
        return found

    def cle(self, ref: Referentiel) -> str:
        """What reading and storing a programmation file depends on besides its bytes:
        the code, the contrat, the référentiel, the quartiers, the P147 codes allowed."""
        config = self.work.config
        return _sha("|".join([__version__, config.contrat, _referentiel_digest(ref),
                              json.dumps([q.model_dump(mode="json")
                                          for q in config.territoire.quartiers]),
                              nomenclature_dossier(self.work.root).empreinte]))

    def etat(self, ref: Referentiel, programmations: list[tuple[Path, int, str]]
             ) -> list[str]:
        """The part of the cheap state every output shares: code, configuration,
        référentiel, programmation files and registers, by content."""
        registres = sorted(self.work.path("classeurs").glob("*/registre.json"))
        return [f"format={FORMAT}", __version__,
                f"configuration={_sha(self.work.config.model_dump_json())}",
                f"referentiel={_referentiel_digest(ref)}",
                f"p147={nomenclature_dossier(self.work.root).empreinte}",
                *(f"programmation {p.name}={sha}" for p, _, sha in programmations),
                *(f"registre {p.parent.name}={self.content(p)}" for p in registres)]


def _referentiel_digest(ref: Referentiel) -> str:
    return _sha(ref.model_dump_json())


def _programmation_digest(store, contrat: str, annee: int) -> str:
    """The exact content of the programmation of (contrat, année) in the store, read
    row by row in the order of the primary key (nothing of the year kept in memory)."""
    h = hashlib.sha256()
    with store.lecture() as conn:
        for table in (schema.programmation_actions, schema.programmation_financements):
            rows = conn.execute(select(table).where(table.c.contrat == contrat,
                                                    table.c.annee == annee)
                                .order_by(*table.primary_key.columns)
                                .execution_options(yield_per=500))
            for row in rows:
                h.update(repr(tuple(row)).encode("utf-8") + b"\n")
            h.update(b"\x1e")
    return h.hexdigest()


def snapshot_programmations(work: DossierTravail, ref: Referentiel, store,
                            entrees: Entrees | None = None,
                            programmations: list[tuple[Path, int, str]] | None = None
                            ) -> list[str]:
    """Copy every valid programmation file into the store; list the invalid ones.

    With ``entrees`` (the record of the last snapshots), a file is read again only when
    its content changed since it was last read, or when its rows in the store are no
    longer those it left (another store, a restored backup, another writer) — or, for a
    file that was not valid, when what its validity depends on changed.
    ``programmations``: the files as :meth:`Entrees.programmation_files` found them."""
    entrees = entrees if entrees is not None else Entrees(work)
    if programmations is None:
        programmations = entrees.programmation_files()
    contrat = work.config.contrat
    cle = entrees.cle(ref)
    ignored = []
    for path, annee, sha in programmations:
        known = entrees.programmations.get(path.name)
        if (isinstance(known, dict) and known.get("sha256") == sha and known.get("cle") == cle
                and sha not in ("absent", "illisible")):
            if not known.get("valide"):
                ignored.append(path.name)
                continue
            if known.get("magasin") == _programmation_digest(store, contrat, annee):
                continue
        try:
            programmation = read_programmation_on_disk(
                path, ref, annee=annee, quartiers=work.config.territoire.quartiers)
        except ProgrammationInvalide:
            ignored.append(path.name)
            entrees.programmations[path.name] = {"sha256": sha, "cle": cle, "valide": False}
            entrees.modifie = True
            continue
        with programmation:  # its actions read back one at a time
            import_programmation(store, contrat, annee, programmation)
        entrees.programmations[path.name] = {
            "sha256": sha, "cle": cle, "valide": True,
            "magasin": _programmation_digest(store, contrat, annee)}
        entrees.modifie = True
    return ignored


class _Etat:
    """The cheap state of one output folder (``sorties/.etat/<name>.json``): a digest of
    the inputs' metadata and the store's token, recorded with what the last build
    concluded (the marker's digest, the invalid programmations, the SCDL warnings, the
    Département report's period)."""

    def __init__(self, work: DossierTravail, name: str, parts: list[str]):
        self.path = work.path("sorties") / ETAT / f"{name}.json"
        self.parts = parts
        self.digest = ""

    def measure(self, store, contrat: str) -> str:
        """The cheap state now (the store's token read last: a write after the files were
        looked at changes it)."""
        self.digest = _sha("|".join([*self.parts, f"magasin={store.describe()}",
                                     f"donnees={etat_donnees(store, contrat)}"]))
        return self.digest

    def known(self, store, contrat: str, marker: Path) -> dict[str, Any] | None:
        """The record of the last build when the cheap state is the same and the marker is
        the one it left; None otherwise."""
        record = read_record(self.path)
        if not record or record.get("etat") != self.measure(store, contrat):
            return None
        try:
            text = marker.read_text("utf-8")
        except OSError:
            return None
        if _sha(text) != record.get("marqueur"):
            return None
        return {**record, "texte": text}

    def save(self, marker_text: str, **fields: Any) -> None:
        write_record(self.path, {"etat": self.digest, "marqueur": _sha(marker_text), **fields})


def _registre(work: DossierTravail, annee: int) -> SpilledList[dict]:
    """The year's register entries, without their prefilled values (the intake's
    reference, not the complétude's: most of the register's size), kept on disk."""
    prefix = f"{work.path('classeurs').name}/{annee}/"

    def entries() -> Iterator[dict]:
        for entry in load_registre(work.path("classeurs")).values():
            if entry["fichier"].startswith(prefix):
                entry.pop("preremplies", None)
                yield entry

    return SpilledList(entries())


def _registre_digest(registre: SpilledList[dict]) -> str:
    """The SHA-256 of ``repr(list(registre))``, made entry by entry."""
    digest = hashlib.sha256(b"[")
    for i, entry in enumerate(registre):
        digest.update(f"{', ' if i else ''}{entry!r}".encode())
    digest.update(b"]")
    return digest.hexdigest()


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
    attribuant, service = work.config.attribuant, work.config.direction
    marker = out / MARKER
    with open_store(store_target(work)) as store:
        # What « nothing new » is first decided from: metadata and small files, looked at
        # before the store's token (taken last) and before anything they describe is read.
        entrees = Entrees.load(work)
        programmations = entrees.programmation_files()
        contexte, contexte_state = _contexte(work)
        nomenclature = nomenclature_dossier(work.root)  # the Dauphin export's P147 labels
        etat = _Etat(work, str(annee), [
            *entrees.etat(ref, programmations), f"annee={annee}", f"pdf={pdf}", f"de={de}",
            f"a={a}", f"demonstration={demonstration}", contexte_state,
            f"nomenclature={nomenclature.empreinte}"])
        known = None if force else etat.known(store, contrat, marker)
        if known is not None and "revues_avec_retours" in known:
            periode = known.get("periode")
            names = output_names(annee, tuple(periode) if periode else None)
            if attribuant_error(attribuant) is not None:
                names.pop("scdl")
            if all((out / n).exists() for n in names.values()):
                result.rien_de_nouveau = True
                result.periode_departement = tuple(periode) if periode else None
                result.programmations_ignorees = list(known.get("programmations_ignorees", []))
                result.revues_avec_retours = list(known.get("revues_avec_retours", []))
                result.fichiers = [out / n for n in names.values()]
                result.avertissements = list(known.get("avertissements_scdl", []))
                result.avertissements += contexte.avertissements()
                result.avertissements += nomenclature.avertissements()
                entrees.save()
                return result
        result.programmations_ignorees = snapshot_programmations(work, ref, store, entrees,
                                                                 programmations)
        etat.measure(store, contrat)  # after the snapshot's writes, before the year is read
        result.revues_avec_retours = revues_avec_retours(store, contrat, annee)
        registre = _registre(work, annee)
        all_years = [y for y in years(store, contrat) if y <= annee]
        dep_years = all_years
        if de is not None or a is not None:
            dep_years = periode_departement(programmed_years(store, contrat), de, a, annee)
            result.periode_departement = (dep_years[0], dep_years[-1])
        names = output_names(annee, result.periode_departement)
        scdl_path = out / names["scdl"]
        if attribuant_error(attribuant) is not None:  # no SCDL file expected: it says why
            names.pop("scdl")
        # Every year of the picture is read once: fingerprinted here, reported below.
        annees = {y: load_year(store, contrat, y) for y in sorted({*all_years, *dep_years})}
        state = "|".join([__version__, *(fingerprint_of(data) for data in annees.values()),
                          _registre_digest(registre), str(pdf),
                          f"departement={dep_years}", f"demonstration={demonstration}"])
        state += f"|attribuant={attribuant.nom}|{attribuant.siret}|{service}"
        state += f"|{contexte_state}"
        state += f"|nomenclature={nomenclature.empreinte}"
        periode = list(result.periode_departement) if result.periode_departement else None
        if (not force and marker.exists() and marker.read_text("utf-8") == state
                and all((out / n).exists() for n in names.values())):
            result.rien_de_nouveau = True
            result.fichiers = [out / n for n in names.values()]
            year = annees.get(annee) or load_year(store, contrat, annee)
            avertissements_scdl = scdl_avertissements(year, attribuant, scdl_path)
            result.avertissements = avertissements_scdl + contexte.avertissements()
            result.avertissements += nomenclature.avertissements()
            etat.save(state, programmations_ignorees=result.programmations_ignorees,
                      avertissements_scdl=avertissements_scdl, periode=periode,
                      revues_avec_retours=result.revues_avec_retours)
            entrees.save()
            return result
        # The latest of every level (read above when the store knows the year).
        donnees = annees.get(annee) or load_year(store, contrat, annee, revue=None)
    donnees.construit_le = now
    # The comptes rendus (one workbook per porteur) and the largest tables are written by
    # the workers while this process writes the other tables.
    travaux = _commencer_en_fond(result, work, ref, donnees, names, now, contexte=contexte,
                                 demonstration=demonstration)
    try:
        _write_tables(result, work, ref, donnees, annees, registre, names, travaux,
                      nomenclature=nomenclature, demonstration=demonstration)
    except BaseException:
        travaux.abandonner()
        raise
    f = result.fichiers
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
    etat.save(state, programmations_ignorees=result.programmations_ignorees,
              avertissements_scdl=scdl.avertissements, periode=periode,
              revues_avec_retours=result.revues_avec_retours)
    entrees.save()
    return result


@dataclass
class _Sorties:
    """What the workers write the year's largest tables from (handed once to each)."""

    donnees: DonneesAnnee
    ref: Referentiel
    suivi: Any  # physico_financier.SuiviPhysicoFinancier, made once for two tables
    paths: dict[str, Path]
    now: dt.datetime
    contexte: Any
    quartiers: Any
    demonstration: bool


# Written by the workers, the longest first (each is one task); the others by this process.
_EN_FOND = ("physico_financier", "tableaux", "etat", "rapport_annuel")
_SORTIES = "consolidation"  # the name the workers keep the _Sorties under


def _write_en_fond(s: _Sorties, key: str) -> Path:
    path = s.paths[key]
    if key == "physico_financier":
        return write_suivi_physico_financier(s.donnees, s.ref, path, s.suivi)
    if key == "tableaux":
        return write_tableaux_de_bord(s.donnees, s.ref, path, s.now, s.suivi)
    if key == "etat":
        return write_reporting_etat(s.donnees, s.ref, path)
    return write_rapport_annuel(s.donnees, s.ref, path, s.contexte, s.quartiers,
                                demonstration=s.demonstration)


def _travail(item: tuple[str, Any]) -> list[Any]:
    """One task of the consolidation's workers: a table, or a group of comptes rendus."""
    kind, payload = item
    if kind == "comptes rendus":
        return ecrire_groupe(payload)
    if kind == "table":
        return [_write_en_fond(shared(_SORTIES), payload)]
    return []  # the first task: nothing, so that the pool starts without waiting


@dataclass
class _EnFond:
    """The workers' part of a consolidation (:func:`_commencer_en_fond`)."""

    ecriture: EnFond
    comptes_rendus: PlanComptesRendus

    def terminer(self) -> dict[str, Path]:
        """Wait for the workers; the tables they wrote (key -> path)."""
        try:
            results = self.ecriture.resultats()
        except BaseException:
            self.ecriture.abandonner()
            raise
        tables = {key: paths[0] for key, paths in zip(_EN_FOND, results[1:], strict=False)}
        self.comptes_rendus.conclure([done for groupe in results[1 + len(_EN_FOND):]
                                      for done in groupe])
        return tables

    def abandonner(self) -> None:
        self.ecriture.abandonner()


def _commencer_en_fond(result: ConsolidationResult, work: DossierTravail, ref: Referentiel,
                       donnees: DonneesAnnee, names: dict[str, str], now: dt.datetime, *,
                       contexte, demonstration: bool) -> _EnFond:
    out = result.dossier
    plan = plan_comptes_rendus(donnees, ref, out / names["comptes_rendus"], now=now,
                               etat=work.path("sorties") / ETAT
                               / f"comptes rendus {donnees.annee}.json")
    sorties = _Sorties(donnees, ref, suivi_physico_financier(donnees, ref),
                       {key: out / names[key] for key in _EN_FOND}, now, contexte,
                       work.config.territoire.quartiers, demonstration)
    items = itertools.chain(  # the groups of comptes rendus read as the workers ask
        [("départ", None)], (("table", key) for key in _EN_FOND),
        (("comptes rendus", groupe) for groupe in plan.groupes()))
    return _EnFond(EnFond(_travail, items, workers=work.config.workers, init=share,
                          init_args=({_SORTIES: sorties, **partage(donnees)},), chunk=1),
                   plan)


def _write_tables(result: ConsolidationResult, work: DossierTravail, ref: Referentiel,
                  donnees: DonneesAnnee, annees: dict[int, DonneesAnnee], registre: list,
                  names: dict[str, str], travaux: _EnFond, *, nomenclature,
                  demonstration: bool) -> None:
    """Every output of the year in ``result.fichiers``' order: those of this process
    written while the workers write theirs, then the workers' awaited."""
    out = result.dossier
    completude = write_completude(donnees, registre, ref, out / names["completude"],
                                  out / names["relances"])
    departement = write_reporting_departement(annees, ref, out / names["departement"],
                                              periode=result.periode_departement,
                                              demonstration=demonstration)
    with en_vigueur(nomenclature):
        dauphin = write_dauphin_csv(donnees, ref, out / names["dauphin"],
                                    quartiers=work.config.territoire.quartiers)
    tables = travaux.terminer()
    result.fichiers += [tables["tableaux"], *completude, departement, tables["etat"],
                        tables["rapport_annuel"], out / names["comptes_rendus"],
                        tables["physico_financier"], dauphin]


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
    marker = out / MARKER
    with open_store(store_target(work)) as store:
        entrees = Entrees.load(work)  # see consolider: the cheap state first
        programmations = entrees.programmation_files()
        etat = _Etat(work, f"{annee} revue {revue.numero}", [
            *entrees.etat(ref, programmations), f"revue={annee}-{revue.numero}",
            revue.libelle])
        known = None if force else etat.known(store, contrat, marker)
        # Outputs built with their PDFs also serve a run that asks for none (the batch).
        if (known is not None and (known["texte"].endswith("|pdf=True") or not pdf)
                and all((out / n).exists() for n in expected)):
            result.rien_de_nouveau = True
            result.programmations_ignorees = list(known.get("programmations_ignorees", []))
            result.fichiers = [out / n for n in names.values()]
            result.pdf = [out / n for n in expected if n.endswith(".pdf")]
            entrees.save()
            return result
        result.programmations_ignorees = snapshot_programmations(work, ref, store, entrees,
                                                                 programmations)
        etat.measure(store, contrat)  # after the snapshot's writes, before the year is read
        registre = _registre(work, annee)
        # Decisions carry over from earlier revues and years, indicator series cover every
        # year: every year up to this one is part of the picture.
        all_years = sorted({*(y for y in years(store, contrat) if y <= annee), annee})
        state = "|".join([__version__, f"revue={annee}-{revue.numero}", revue.libelle,
                          *(data_fingerprint(store, contrat, y,
                                             revue=revue.numero if y == annee else None)
                            for y in all_years),
                          _registre_digest(registre)])
        # Outputs built with their PDFs also serve a run that asks for none (the batch).
        built = marker.read_text("utf-8") if marker.exists() else ""
        wanted = {f"{state}|pdf=True"} | ({f"{state}|pdf=False"} if not pdf else set())
        if (not force and built in wanted and all((out / n).exists() for n in expected)):
            result.rien_de_nouveau = True
            result.fichiers = [out / n for n in names.values()]
            result.pdf = [out / n for n in expected if n.endswith(".pdf")]
            etat.save(built, programmations_ignorees=result.programmations_ignorees)
            entrees.save()
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
    etat.save(f"{state}|pdf={pdf}", programmations_ignorees=result.programmations_ignorees)
    entrees.save()
    return result
