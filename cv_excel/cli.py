"""The ``cv-excel`` command: a thin French shell over the library functions.

Every command takes ``--dossier`` (the working folder, by default the current
folder), calls one library function with paths, and prints its result. Exit
codes: 0 done, 1 the checked file has blocking errors, 2 the tool could not run
(a fault of the working folder, told in one French line by :class:`_Commandes`),
3 the working folder is busy (scheduled batch or console).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from cv_excel import __version__
from cv_excel.config import DossierTravail, RevueInconnue, write_config
from cv_excel.errors import defaut_de


class _Commandes(TyperGroup):
    """The one place faults of the working folder are told: configuration missing or
    invalid, store, register or journal unusable, a folder that cannot be written
    (:class:`~cv_excel.errors.DefautDossier`) → ``Erreur : …`` and exit code 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except Exception as exc:
            fault = defaut_de(exc)
            if fault is None:
                raise
            _erreur(str(fault))
            raise typer.Exit(2) from exc


app = typer.Typer(
    cls=_Commandes,
    help="cv_excel — suivi et évaluation du contrat de ville d'Orly par classeurs Excel.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
referentiel_app = typer.Typer(help="Le référentiel du contrat : piliers, orientations, "
                              "objectifs et référents.", add_completion=False)
programmation_app = typer.Typer(help="La programmation annuelle des actions financées.",
                                no_args_is_help=True, add_completion=False)
template_app = typer.Typer(help="Les modèles Excel des classeurs (porteurs, référents).",
                            no_args_is_help=True, add_completion=False)
app.add_typer(referentiel_app, name="referentiel")
app.add_typer(programmation_app, name="programmation")
app.add_typer(template_app, name="template")
base_app = typer.Typer(help="Le magasin de données : fichier SQLite du dossier ou base "
                       "PostgreSQL partagée.", no_args_is_help=True, add_completion=False)
app.add_typer(base_app, name="base")
ept_app = typer.Typer(help="La synthèse de l'EPT : tous les contrats de ville de la base, "
                      "côte à côte.", no_args_is_help=True, add_completion=False)
app.add_typer(ept_app, name="ept")

console = Console()
err = Console(stderr=True)

Dossier = Annotated[
    Path,
    typer.Option("--dossier", "-d", help="Dossier de travail (par défaut : le dossier courant).",
                 file_okay=False),
]
Annee = Annotated[int | None, typer.Option("--annee", help="Année (par défaut : celle du "
                                           "fichier cv_excel.toml).")]


def _erreur(message: str) -> None:
    """``Erreur :`` and a French message, never read as markup nor cut inside a path."""
    err.print("[red]Erreur :[/red] " + escape(message), soft_wrap=True)


def _open(dossier: Path) -> DossierTravail:
    """The working folder; a folder without ``cv_excel.toml`` is refused (only ``init``
    and ``demo`` create one), like an invalid configuration (see :class:`_Commandes`)."""
    return DossierTravail.open(dossier)


def _referentiel(work: DossierTravail):
    from cv_excel.referentiel.load import ReferentielIntrouvable, load_for_folder

    try:
        ref, report = load_for_folder(work)
    except ReferentielIntrouvable as exc:
        err.print(f"[red]Erreur :[/red] {exc}")
        raise typer.Exit(2) from exc
    for finding in report:
        err.print(f"[yellow]Annuaire des référents[/yellow] ({finding.where()}) : "
                  f"{finding.message} {finding.hint}")
    return ref


@contextmanager
def _locked(work: DossierTravail) -> Iterator[None]:
    """The working folder's lock, shared with the scheduled batch and the console."""
    from cv_excel.batch.lock import DossierOccupe, verrou

    try:
        with verrou(work, attente=work.config.attente_verrou):
            yield
    except DossierOccupe as exc:
        err.print(f"[red]Dossier occupé :[/red] {exc}")
        raise typer.Exit(3) from exc


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cv-excel {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Affiche la version et quitte.")] = False,
) -> None:
    """cv_excel — suivi et évaluation du contrat de ville d'Orly par classeurs Excel."""


# --- dossier de travail ---------------------------------------------------------------------
@app.command()
def demo(
    dossier: Annotated[Path, typer.Option("--dossier", "-d", file_okay=False,
                                          help="Dossier de démonstration à créer.")
                       ] = Path("demo"),
    force: Annotated[bool, typer.Option(help="Écrire même si le dossier n'est pas vide.")
                     ] = False,
    pdf: Annotated[bool | None, typer.Option(
        "--pdf/--sans-pdf", help="Packs COPIL et tableaux de bord aussi en PDF (par défaut : "
        "si LibreOffice est installé).")] = None,
) -> None:
    """Déroule la démonstration (données fictives) : dossier de travail, revues 1 et 2 de
    2019 (référents, pilotes, coordonnateurs, relevés de décisions, packs COPIL), bilans des
    porteurs, consolidation de l'année."""
    import shutil

    from cv_excel.demo.build import DossierNonVide, run_demo_cycle

    if pdf is None:
        pdf = bool(shutil.which("soffice") or shutil.which("libreoffice"))
    try:
        result = run_demo_cycle(dossier, force=force, pdf=pdf)
    except DossierNonVide as exc:
        err.print(f"[red]Erreur :[/red] {exc}")
        raise typer.Exit(2) from exc
    work = _open(result.dossier)
    ref = _referentiel(work)
    console.print(f"[bold]Dossier de démonstration :[/bold] {result.dossier}")
    console.print("[dim]Toutes les données de la démonstration sont fictives.[/dim]")
    table = Table("Année", "Actions", "Porteurs", "Programmation", title="Programmations")
    for annee, path in result.programmations.items():
        table.add_row(str(annee), str(result.actions[annee]), str(result.porteurs[annee]),
                      str(path.relative_to(result.dossier)))
    console.print(table)
    _print_summary(ref)
    for numero, revue in result.revues.items():
        table = Table("Étape", "Classeurs", "Retours", "Acceptés", "Rejetés", "Sans réponse",
                      title=f"{revue.revue.libelle} — {revue.revue.annee}")
        for etape in revue.etapes:
            run = etape.validation
            table.add_row(LIBELLES_TYPES[etape.type][0], str(len(etape.generation.classeurs)),
                          str(len(etape.retours.files)),
                          str(run.count("accepté") + run.count("accepté avec avertissements")),
                          str(run.count("rejeté")), str(len(etape.retours.silent)))
        console.print(table)
        if revue.consolidation is not None:
            console.print(f"[bold]Revue {numero} : tableaux de bord et packs COPIL[/bold] dans "
                          f"{revue.consolidation.dossier}", highlight=False)
            for path in [*revue.consolidation.fichiers, *revue.consolidation.pdf]:
                console.print(f"  {path.name}", markup=False, highlight=False)
    gen = result.generation
    if gen is not None:
        console.print(f"[bold]Classeurs {gen.annee} générés[/bold] dans "
                      f"{work.path('classeurs') / str(gen.annee)} : "
                      f"{len(gen.of_type('porteur'))} bilans porteurs.")
    run = result.validation
    if run is not None and result.retours is not None:
        console.print(f"[bold]Retours simulés[/bold] : {len(result.retours.files)} fichier(s) "
                      f"dans {work.path('retours')} ; sans réponse : "
                      f"{len(result.retours.silent)}.")
        console.print(f"[bold]Validation[/bold] : {run.count('accepté')} accepté(s), "
                      f"{run.count('accepté avec avertissements')} avec avertissements, "
                      f"{run.count('rejeté')} rejeté(s), {run.count('doublon')} doublon(s) ; "
                      f"rapport : {run.rapport_xlsx}", highlight=False)
    if result.consolidation is not None:
        console.print(f"[bold]Tableaux de bord et reporting[/bold] : "
                      f"{result.consolidation.dossier}", highlight=False)
        for path in result.consolidation.fichiers:
            console.print(f"  {path.name}", markup=False, highlight=False)
    autre = result.autre_contrat
    if autre is not None:
        console.print(f"[bold]Second contrat (fictif)[/bold] « {autre.contrat} » : "
                      f"{autre.actions} actions, même magasin de données ; dossier "
                      f"{autre.dossier}", highlight=False)
    if result.ept is not None:
        console.print(f"[bold]Synthèse EPT {result.ept.annee}[/bold] (les deux contrats) : "
                      f"{result.ept.dossier}", highlight=False)
        for path in result.ept.fichiers:
            console.print(f"  {path.name}", markup=False, highlight=False)


def _print_summary(ref) -> None:
    from cv_excel.referentiel.export import summary, tree

    console.print(tree(ref, details=False))
    table = Table("Niveau", "Nombre", title=ref.contrat.libelle)
    for label, count in summary(ref).items():
        table.add_row(label, str(count))
    console.print(table)


@app.command()
def init(
    dossier: Dossier = Path("."),
    annee: Annotated[int, typer.Option(help="Année de programmation en cours.")] = 2019,
) -> None:
    """Prépare un dossier de travail vide : configuration, sous-dossiers, annuaire, modèle."""
    from cv_excel.consolidation.contexte import CONTEXTE_FILE, write_modele_contexte
    from cv_excel.programmation.template import write_programmation
    from cv_excel.referentiel.load import write_annuaire

    dossier = dossier.resolve()
    dossier.mkdir(parents=True, exist_ok=True)
    if not (dossier / "cv_excel.toml").exists():
        write_config(dossier, annee=annee)
    work = _open(dossier)
    work.create_folders()
    ref = _referentiel(work)
    written = []
    if not work.path("referents").exists():
        written.append(write_annuaire(ref, work.path("referents")))
    prog = work.programmation_file(work.config.annee)
    if not prog.exists():
        written.append(write_programmation(prog, [], ref, annee=work.config.annee,
                                           quartiers=work.config.territoire.quartiers))
    if not (dossier / CONTEXTE_FILE).exists():  # indicateurs de contexte, rapport annuel
        written.append(write_modele_contexte(dossier / CONTEXTE_FILE))
    console.print(f"Dossier de travail prêt : {dossier}")
    for path in written:
        console.print(f"  écrit : {path.relative_to(dossier)}")


# --- référentiel ----------------------------------------------------------------------------
class Format(StrEnum):
    json = "json"
    xlsx = "xlsx"


@referentiel_app.callback(invoke_without_command=True)
def referentiel(
    ctx: typer.Context,
    dossier: Dossier = Path("."),
    resume: Annotated[bool, typer.Option("--resume", help="Sans les objectifs opérationnels.")
                      ] = False,
) -> None:
    """Affiche l'arbre du contrat avec le responsable de chaque niveau."""
    if ctx.invoked_subcommand is not None:
        return
    from cv_excel.referentiel.export import tree

    console.print(tree(_referentiel(_open(dossier)), details=not resume))


@referentiel_app.command("export")
def referentiel_export(
    format: Annotated[Format, typer.Option("--format", help="json (sur la sortie standard) "
                                           "ou xlsx.")] = Format.json,
    sortie: Annotated[Path | None, typer.Option("--sortie", "-o", dir_okay=False,
                                                help="Fichier à écrire.")] = None,
    dossier: Dossier = Path("."),
) -> None:
    """Exporte le référentiel complet en JSON ou en classeur Excel lisible."""
    from cv_excel.atomic import write_text_atomic
    from cv_excel.referentiel.export import to_json, write_xlsx

    work = _open(dossier)
    ref = _referentiel(work)
    if format is Format.json:
        if sortie is None:
            sys.stdout.write(to_json(ref) + "\n")
            return
        write_text_atomic(sortie, to_json(ref) + "\n")
    else:
        sortie = sortie or work.path("sorties") / "Référentiel du contrat de ville.xlsx"
        with _locked(work):  # whoever holds the lock clears stray .tmp-* files of sorties/
            write_xlsx(ref, sortie)
    console.print(f"Référentiel écrit : {sortie}")


@referentiel_app.command("annuaire")
def referentiel_annuaire(
    dossier: Dossier = Path("."),
    force: Annotated[bool, typer.Option(help="Remplacer l'annuaire existant.")] = False,
) -> None:
    """Écrit l'annuaire des référents (referents.xlsx) à compléter : noms, e-mails."""
    from cv_excel.referentiel.load import write_annuaire

    work = _open(dossier)
    path = work.path("referents")
    if path.exists() and not force:
        err.print(f"[red]Erreur :[/red] {path} existe déjà ; ajoutez --force pour le remplacer "
                  "(les contacts saisis seraient repris).")
        raise typer.Exit(2)
    write_annuaire(_referentiel(work), path)
    console.print(f"Annuaire écrit : {path}")


# --- programmation --------------------------------------------------------------------------
@programmation_app.command("modele")
def programmation_modele(
    dossier: Dossier = Path("."),
    annee: Annee = None,
    sortie: Annotated[Path | None, typer.Option("--sortie", "-o", dir_okay=False)] = None,
) -> None:
    """Écrit une programmation vide avec ses listes déroulantes."""
    from cv_excel.programmation.template import write_programmation

    work = _open(dossier)
    annee = annee or work.config.annee
    path = sortie or work.programmation_file(annee)
    if path.exists():
        err.print(f"[red]Erreur :[/red] {path} existe déjà : il n'est pas remplacé.")
        raise typer.Exit(2)
    write_programmation(path, [], _referentiel(work), annee=annee,
                        quartiers=work.config.territoire.quartiers)
    console.print(f"Modèle de programmation écrit : {path}")


@programmation_app.command("verifier")
def programmation_verifier(
    fichier: Annotated[Path, typer.Argument(help="Programmation à vérifier (.xlsx).")],
    dossier: Dossier = Path("."),
    annee: Annee = None,
) -> None:
    """Vérifie une programmation et liste ses erreurs par ligne et colonne."""
    from cv_excel.programmation.check import check_programmation, format_report

    work = _open(dossier)
    if not fichier.is_file():
        err.print(f"[red]Erreur :[/red] le fichier {fichier} est introuvable.")
        raise typer.Exit(2)
    report = check_programmation(fichier, _referentiel(work), annee=annee,
                                 quartiers=work.config.territoire.quartiers)
    for line in format_report(report):
        console.print(line, markup=False, highlight=False)
    n_err, n_warn = len(report.errors), len(report.warnings)
    if report.valid:
        console.print(f"[green]Programmation valide[/green] ({n_warn} avertissement(s)).")
    else:
        console.print(f"[red]Programmation non valide :[/red] {n_err} erreur(s) bloquante(s), "
                      f"{n_warn} avertissement(s).")
        raise typer.Exit(1)


# --- modèles et génération ---------------------------------------------------------------
class TypeClasseur(StrEnum):
    porteur = "porteur"
    referent = "referent"
    pilote = "pilote"
    coordonnateur = "coordonnateur"
    decisions = "decisions"


# What each kind of workbook is, for the generation summary: label, unit of its sections.
LIBELLES_TYPES = {
    "porteur": ("Bilans porteurs", "actions"),
    "referent": ("Suivis référents", "objectifs"),
    "pilote": ("Synthèses pilotes", "objectifs stratégiques"),
    "coordonnateur": ("Synthèses coordonnateurs", "orientations"),
    "decisions": ("Relevés de décisions", "piliers"),
}
Revue = Annotated[int | None, typer.Option(
    "--revue", help="Revue de projet (1, 2, 3… selon [revues] de cv_excel.toml).")]


@template_app.command("verifier")
def template_verifier(
    fichier: Annotated[Path, typer.Argument(help="Modèle à vérifier (.xlsx).")],
    type_: Annotated[TypeClasseur | None, typer.Option(
        "--type", help="porteur, referent, pilote, coordonnateur ou decisions (par défaut : "
        "détecté).")] = None,
) -> None:
    """Vérifie qu'un modèle porte tous les noms attendus, bien formés."""
    from cv_excel.generation.verify_template import verify_template
    from cv_excel.spec import SPECS

    if not fichier.is_file():
        err.print(f"[red]Erreur :[/red] le fichier {fichier} est introuvable.")
        raise typer.Exit(2)
    report = verify_template(fichier, SPECS[type_.value] if type_ else None)
    for f in report:
        console.print(f"{f.severity.value.capitalize()} – {f.where() or fichier.name} : "
                      f"{f.message} → {f.hint}", markup=False, highlight=False)
    if report.valid:
        console.print(f"[green]Modèle conforme[/green] ({len(report.warnings)} "
                      "avertissement(s)).")
    else:
        console.print(f"[red]Modèle non conforme :[/red] {len(report.errors)} erreur(s).")
        raise typer.Exit(1)


@template_app.command("copier")
def template_copier(dossier: Dossier = Path(".")) -> None:
    """Copie les modèles fournis dans « modeles/ » du dossier, pour les personnaliser."""
    from cv_excel.generation.templates import copy_templates

    work = _open(dossier)
    for path in copy_templates(work):
        console.print(f"Modèle copié : {path}")


@app.command()
def generer(
    dossier: Dossier = Path("."),
    annee: Annee = None,
    seulement: Annotated[TypeClasseur | None, typer.Option(
        "--seulement", help="Ne générer qu'un type de classeur : porteur, referent, pilote, "
        "coordonnateur ou decisions.")] = None,
    revue: Revue = None,
    workers: Annotated[int | None, typer.Option(
        "--workers", min=0, max=64, help="Processus qui génèrent les classeurs en parallèle "
        "(0 = un par cœur ; par défaut : workers de cv_excel.toml).")] = None,
) -> None:
    """Génère les classeurs de l'année : un par porteur et un par référent ; avec --revue,
    ceux d'une revue de projet, étape par étape : référents (par défaut), puis pilotes
    (--seulement pilote), coordonnateurs, relevés de décisions (--seulement decisions)."""
    import time

    from cv_excel.generation.generate import (
        ModeleIntrouvable,
        ProgrammationIntrouvable,
        generate_year,
    )
    from cv_excel.generation.render import CapaciteInsuffisante, ModeleInvalide
    from cv_excel.programmation.check import ProgrammationInvalide, format_report

    work = _open(dossier)
    annee = annee or work.config.annee
    ref = _referentiel(work)
    if seulement:
        kinds: tuple[str, ...] = (seulement.value,)
    else:
        kinds = ("referent",) if revue is not None else ("porteur", "referent")
    start = time.perf_counter()
    try:
        with _locked(work):
            result = generate_year(work, ref, annee, kinds=kinds, revue=revue, workers=workers)
    except ProgrammationInvalide as exc:
        for line in format_report(exc.report):
            err.print(line, markup=False, highlight=False)
        err.print(f"[red]Erreur :[/red] la programmation {annee} doit être corrigée avant "
                  "la génération.")
        raise typer.Exit(1) from exc
    except ModeleInvalide as exc:
        for f in exc.report.errors:
            err.print(f"{f.where()} : {f.message} → {f.hint}", markup=False, highlight=False)
        err.print(f"[red]Erreur :[/red] {exc}")
        raise typer.Exit(2) from exc
    except (ProgrammationIntrouvable, ModeleIntrouvable, CapaciteInsuffisante,
            RevueInconnue) as exc:
        _erreur(str(exc))
        raise typer.Exit(2) from exc
    elapsed = time.perf_counter() - start
    title = f"Génération {annee}" + (f" — revue {revue}" if revue is not None else "")
    table = Table("Classeurs", "Nombre", "Sections", "Dossier", title=title)
    for kind, (label, unit) in LIBELLES_TYPES.items():
        items = result.of_type(kind)
        if items:
            folder = Path(items[0].fichier).parent
            table.add_row(label, str(len(items)),
                          f"{sum(len(c.sections) for c in items)} {unit}", str(folder))
    console.print(table)
    if result.referents_sans_objectif:
        console.print("Sans classeur (aucun objectif opérationnel en propre) : "
                      + ", ".join(result.referents_sans_objectif), markup=False)
    console.print(f"{len(result.classeurs)} classeur(s) écrit(s) en {elapsed:.1f} s ; "
                  f"registre : {Path(result.classeurs[0].fichier).parent.parent}/registre.json"
                  if result.classeurs else "Aucun classeur écrit.", markup=False)
    for echec in result.echecs:
        err.print(echec.message, markup=False, highlight=False)
    if result.echecs:
        err.print(f"{len(result.echecs)} classeur(s) non généré(s) : les autres sont écrits "
                  "et enregistrés au registre.", markup=False)
        raise typer.Exit(1)


@app.command()
def valider(
    chemins: Annotated[list[Path] | None, typer.Argument(
        help="Fichiers ou dossiers à valider (par défaut : le dossier des retours).")] = None,
    dossier: Dossier = Path("."),
    annee: Annee = None,
    revalider: Annotated[bool, typer.Option(
        "--revalider", help="Réexaminer aussi les fichiers rejetés pour une raison qui "
        "tenait aux réglages de la Direction (année, registre, programmation).")] = False,
    workers: Annotated[int | None, typer.Option(
        "--workers", min=0, max=64, help="Processus qui vérifient les classeurs en parallèle "
        "(0 = un par cœur ; par défaut : workers de cv_excel.toml).")] = None,
) -> None:
    """Valide les classeurs retournés : archive, contrôles, rapport, copies annotées."""
    from cv_excel.enregistrement import valider_et_enregistrer as run_validation

    work = _open(dossier)
    ref = _referentiel(work)
    missing = [c for c in chemins or [] if not c.exists()]
    if missing:
        err.print("[red]Erreur :[/red] introuvable : " + ", ".join(map(str, missing)))
        raise typer.Exit(2)
    with _locked(work):
        run = run_validation(work, list(chemins) if chemins else None, ref=ref, annee=annee,
                             revalider=revalider, workers=workers)
    table = Table("Fichier", "Statut", "Destinataire", "Bloquants", "Avertissements",
                  title=f"Validation — {len(run.fichiers)} fichier(s)")
    colours = {"accepté": "green", "accepté avec avertissements": "yellow",
               "rejeté": "red", "doublon": "dim"}
    for f in run.fichiers:
        n_block = sum(1 for x in f.findings if x.severity.value == "bloquant")
        n_warn = sum(1 for x in f.findings if x.severity.value == "avertissement")
        # Names come from senders: shown as plain text, never read as rich markup.
        table.add_row(Text(f.nom), Text(f.statut, style=colours.get(f.statut, "")),
                      Text(f.destinataire), str(n_block), str(n_warn))
    console.print(table)
    console.print(f"Acceptés : {run.count('accepté')}, avec avertissements : "
                  f"{run.count('accepté avec avertissements')}, rejetés : "
                  f"{run.count('rejeté')}, doublons : {run.count('doublon')}, écartés : "
                  f"{run.count('écarté')}.")
    console.print(f"Rapport : {run.rapport_xlsx}", markup=False)
    annotees = [f for f in run.fichiers if f.annotee]
    if annotees:
        console.print(f"Copies annotées à renvoyer : {annotees[0].annotee.parent}",
                      markup=False)


@app.command()
def consolider(
    dossier: Dossier = Path("."),
    annee: Annee = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="Écrire aussi les tableaux de bord en PDF "
                                      "(LibreOffice requis).")] = False,
    force: Annotated[bool, typer.Option(help="Tout reconstruire même sans nouveauté.")
                     ] = False,
    de: Annotated[int | None, typer.Option("--de", help="Reporting Département : première "
                                           "année (par défaut : la première programmée).")
                  ] = None,
    a: Annotated[int | None, typer.Option("--a", help="Reporting Département : dernière année "
                                          "(par défaut : l'année consolidée).")] = None,
    revue: Revue = None,
) -> None:
    """Tableaux de bord par pilier, complétude et relances, reporting Département et État ;
    avec --revue, les tableaux de bord de la revue et un pack COPIL par pilier."""
    from cv_excel.consolidation.reporting import PeriodeInvalide
    from cv_excel.consolidation.run import consolider as run_consolidation
    from cv_excel.office import LibreOfficeAbsent

    if de is not None and a is not None and de > a:
        _erreur(f"Période invalide : la première année (--de {de}) est après la dernière "
                f"(--a {a}).")
        raise typer.Exit(2)
    work = _open(dossier)
    ref = _referentiel(work)
    try:
        with _locked(work):
            result = run_consolidation(work, ref, annee=annee, pdf=pdf, force=force, de=de, a=a,
                                       revue=revue)
    except RevueInconnue as exc:
        _erreur(str(exc))
        raise typer.Exit(2) from exc
    except LibreOfficeAbsent as exc:
        err.print(f"[red]Erreur :[/red] {exc}")
        raise typer.Exit(2) from exc
    except PeriodeInvalide as exc:
        _erreur(str(exc))
        raise typer.Exit(2) from exc
    if result.rien_de_nouveau:
        console.print(f"Rien de nouveau depuis la dernière consolidation {result.annee} : "
                      "les fichiers existants sont à jour.", highlight=False)
    else:
        console.print(f"Consolidation {result.annee} écrite dans {result.dossier} :",
                      markup=False)
        for path in [*result.fichiers, *result.pdf]:
            console.print(f"  {path.name}", markup=False, highlight=False)
    for name in result.programmations_ignorees:
        err.print(f"[yellow]Programmation non valide, ignorée :[/yellow] {name} "
                  "(cv-excel programmation verifier)")
    for text in result.avertissements:  # « [attribuant] » in a text is no markup
        err.print(f"[yellow]Avertissement :[/yellow] {escape(text)}", highlight=False,
                  soft_wrap=True)


@app.command()
def traiter(
    dossier: Dossier = Path("."),
    annee: Annee = None,
    attente: Annotated[float, typer.Option(help="Secondes d'attente si le dossier est occupé "
                                           "(autre traitement, clic dans la console).")
                       ] = 60.0,
    workers: Annotated[int | None, typer.Option(
        "--workers", min=0, max=64, help="Processus qui vérifient les classeurs en parallèle "
        "(0 = un par cœur ; par défaut : workers de cv_excel.toml).")] = None,
) -> None:
    """Traitement planifié : retours reçus → validation → consolidation (sans Excel)."""
    from cv_excel.batch.traiter import main_batch

    with _workers_env(workers):  # the batch reads the working folder's settings itself
        code = main_batch(dossier, annee, attente, tty=sys.stderr.isatty())
    raise typer.Exit(code)


@contextmanager
def _workers_env(workers: int | None) -> Iterator[None]:
    """``workers`` of cv_excel.toml replaced by ``--workers`` for this command only
    (``CV_EXCEL_WORKERS``, which the settings read before the file)."""
    if workers is None:
        yield
        return
    before = os.environ.get("CV_EXCEL_WORKERS")
    os.environ["CV_EXCEL_WORKERS"] = str(workers)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("CV_EXCEL_WORKERS", None)
        else:
            os.environ["CV_EXCEL_WORKERS"] = before


@app.command("console")
def build_console_command(
    sortie: Annotated[Path, typer.Option("--sortie", "-o", file_okay=False,
                                         help="Dossier où écrire la console.")
                      ] = Path("workbooks"),
) -> None:
    """Construit la console Excel « Pilotage_contrat_de_ville.xlsm » (boutons xlwings)."""
    from cv_excel.excel.build import build_console

    path = build_console(sortie)
    console.print(f"Console écrite : {path}", markup=False)


@base_app.command("migrer")
def base_migrer(
    vers: Annotated[str, typer.Option(
        "--vers", help="Adresse de la base PostgreSQL vide qui recevra le magasin, par "
        "exemple postgresql://utilisateur@serveur/base (le mot de passe : PGPASSWORD ou "
        ".pgpass).")],
    dossier: Dossier = Path("."),
) -> None:
    """Copie le magasin de données du dossier dans une base PostgreSQL vide, puis vérifie
    le nombre de lignes de chaque table."""
    from cv_excel.store.db import open_store, store_target
    from cv_excel.store.transfer import CopieIncomplete, copier_base

    work = _open(dossier)
    source = store_target(work)
    with _locked(work):
        try:
            comptes = copier_base(source, vers)
        except CopieIncomplete as exc:
            _comptes(exc.comptes)
            _erreur(str(exc))
            raise typer.Exit(1) from exc
    _comptes(comptes)
    with open_store(vers) as cible:
        adresse = cible.describe()
    console.print(f"Copie vérifiée : {sum(a for a, _ in comptes.values())} lignes dans "
                  f"{adresse}. Pour travailler désormais sur cette base, indiquez "
                  f'base = "{adresse.replace(":***@", "@")}" dans cv_excel.toml (le mot de '
                  "passe dans PGPASSWORD ou un fichier .pgpass).", markup=False,
                  soft_wrap=True)


def _comptes(comptes: dict[str, tuple[int, int]]) -> None:
    table = Table("Table", "Source", "Cible", "Vérification")
    for name, (a, b) in comptes.items():
        table.add_row(name, str(a), str(b), "identique" if a == b else "DIFFÉRENT")
    console.print(table)


@base_app.command("etat")
def base_etat(dossier: Dossier = Path(".")) -> None:
    """Le magasin de données du dossier : moteur, adresse, révision, contenu par contrat."""
    from cv_excel.store.db import store_target
    from cv_excel.store.transfer import etat_base

    etat = etat_base(store_target(_open(dossier)))
    moteur = {"sqlite": "SQLite (fichier)", "postgresql": "PostgreSQL (serveur)"}
    console.print(f"Moteur : {moteur.get(etat.moteur, etat.moteur)}", markup=False)
    console.print(f"Adresse : {etat.adresse}", markup=False, soft_wrap=True)
    console.print(f"Révision du schéma : {etat.revision:04d}", markup=False)
    table = Table("Contrat", "Retours reçus", "En vigueur", "Années", "Actions")
    table.columns[0].no_wrap = True
    for contrat, n in etat.contrats.items():
        table.add_row(contrat, *(str(n.get(k, 0)) for k in (
            "retours", "en_vigueur", "annees_programmees", "actions")))
    console.print(table if etat.contrats else "Aucun contrat enregistré.")



# --- EPT : plusieurs contrats ---------------------------------------------------------------
@ept_app.command("consolider")
def ept_consolider(dossier: Dossier = Path("."), annee: Annee = None) -> None:
    """Synthèse EPT de l'année pour tous les contrats de la base du dossier : notes par
    contrat, pilier et thème ANCT ; financements par financeur et contrat ; complétude
    par contrat. Classeur et CSV dans sorties/<année>/EPT/."""
    from cv_excel.consolidation.ept import AucunContratPourLAnnee, consolider_ept
    from cv_excel.store.db import open_store, store_target

    work = _open(dossier)
    annee = annee or work.config.annee
    try:
        with _locked(work), open_store(store_target(work)) as store:
            result = consolider_ept(store, annee, work.path("sorties"))
    except AucunContratPourLAnnee as exc:
        _erreur(str(exc))
        raise typer.Exit(2) from exc
    s = result.synthese
    console.print(f"Base de données : {s.base}", markup=False, soft_wrap=True)
    table = Table(title=f"Synthèse EPT {annee} — {len(s.contrats)} contrat(s) dans la base")
    table.add_column("Contrat", no_wrap=True)
    for label in ("Actions", "Porteurs", "Bilans reçus", "Complétude", "Montant accordé"):
        table.add_column(label, justify="right")
    for c in s.contrats:
        taux = "" if c.taux_completude is None else f"{c.taux_completude:.0%}".replace(
            "%", " %")
        montant = f"{c.accorde:,.2f} €".replace(",", " ").replace(".", ",")
        table.add_row(Text(c.contrat), str(c.actions), str(c.porteurs), str(c.bilans), taux,
                      montant)
    console.print(table)
    console.print(f"Contrats de la base : {', '.join(s.codes)} ; avec des données pour "
                  f"{annee} : {', '.join(s.avec_donnees)}.", markup=False, highlight=False,
                  soft_wrap=True)
    for c in s.contrats:
        if c.note:
            console.print(f"  {c.contrat} : {c.note}", markup=False, highlight=False,
                          soft_wrap=True)
    console.print(f"Synthèse EPT écrite dans {result.dossier} :", markup=False)
    for path in result.fichiers:
        console.print(f"  {path.name}", markup=False, highlight=False)


def main() -> None:
    app()
