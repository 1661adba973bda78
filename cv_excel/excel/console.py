"""The Python side of the console ``Pilotage_contrat_de_ville.xlsm``.

Every button of the console is bound to the one macro of the workbook's VBA project,
``SampleCall`` (from ``xlwings quickstart --standalone``), which runs
``import Pilotage_contrat_de_ville; Pilotage_contrat_de_ville.main()`` with xlwings
``RunPython``. That module, committed beside the console, only re-exports :func:`main`.
:func:`main` then finds which button was clicked (``Application.Caller`` gives the
shape's name on Windows) and looks it up in the hidden sheet ``cv_boutons``; when Excel
cannot tell (Mac, VBA editor, another program), the action chosen in the drop-down
« Action à lancer » runs instead.

:func:`run_action` is the testable core: it takes any object shaped like an xlwings
``Book`` (``book.sheets[name][address].value``, ``book.fullname``), reads the
parameters, runs the same library functions as the command line under the working
folder's lock, and writes the outcome and a history line back into the console. No
exception escapes it: the user reads a French message in the console, the traceback
goes to the log file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONSOLE_NAME = "Pilotage_contrat_de_ville"  # file name = Python module name (see SampleCall)
MACRO = "SampleCall"  # the one macro of the VBA project; every button calls it

SHEET_CONSOLE = "Console"
SHEET_PARAMS = "Paramètres"
SHEET_CONF = "xlwings.conf"
SHEET_BUTTONS = "cv_boutons"

# Paramètres: values in column B
CELL_DOSSIER = "B4"
CELL_ANNEE = "B5"
CELL_CONTRAT = "B6"
CELL_REVUE = "B7"  # empty: the year's workbooks and outputs; 1, 2, 3…: a revue de projet
CELL_ETAPE = "B8"  # which workbooks of the revue « Générer » writes
# The steps of a revue, in the order the Direction runs them (drop-down of CELL_ETAPE).
ETAPES: dict[str, str] = {"Référents": "referent", "Pilotes": "pilote",
                          "Coordonnateurs": "coordonnateur",
                          "Relevés de décisions": "decisions"}

# Console: the fallback drop-down, the status area, the history
CELL_CHOIX = "C18"
STATUS_ROW = 21  # first row of « Dernière exécution »; values in column C
STATUS_LABELS = ("Date et heure", "Action", "Statut", "Résumé", "Sorties", "Détail")
HIST_HEADER_ROW = STATUS_ROW + len(STATUS_LABELS) + 2
HIST_FIRST_ROW = HIST_HEADER_ROW + 1
HIST_MAX = 40
HIST_RANGE = f"B{HIST_FIRST_ROW}:E{HIST_FIRST_ROW + HIST_MAX - 1}"
BUTTONS_RANGE = "A2:B40"

TERMINE = "Terminé"
ERREUR = "Erreur"
EN_COURS = "En cours…"
EXECUTER = "executer"  # the « Exécuter » button: run the action chosen in the drop-down


@dataclass(frozen=True)
class Action:
    key: str
    label: str  # button caption and drop-down entry
    description: str


ACTIONS: tuple[Action, ...] = (
    Action("generer", "Générer les classeurs",
           "Écrit un classeur par porteur et un par référent pour l'année ; avec une revue "
           "(Paramètres), ceux de l'étape choisie : référents, pilotes, coordonnateurs ou "
           "relevés de décisions."),
    Action("valider", "Valider les retours",
           "Contrôle les classeurs reçus dans le dossier des retours, les archive et écrit le "
           "rapport de validation."),
    Action("consolider", "Consolider",
           "Construit les tableaux de bord, la complétude, les reportings et les exports "
           "de l'année ; avec une revue, ses tableaux de bord et ses packs COPIL."),
    Action("ouvrir", "Ouvrir les tableaux de bord",
           "Ouvre dans Excel les tableaux de bord de l'année ou de la revue (après "
           "« Consolider »)."),
    Action("relances", "Préparer les relances",
           "Consolide puis indique le classeur de complétude et la liste des relances (CSV)."),
)
BY_KEY = {a.key: a for a in ACTIONS}
BY_LABEL = {a.label: a for a in ACTIONS}


class ParametreInvalide(Exception):
    """A console parameter cannot be used; the message is French."""


@dataclass(frozen=True)
class Parametres:
    """What the sheet « Paramètres » says: the working folder, the year, and optionally a
    revue and the step of its cascade."""

    work: Any
    annee: int
    revue: int | None = None
    etape: str = "referent"


@dataclass
class Issue:
    """What one run writes into the console."""

    action: str
    statut: str = TERMINE
    resume: str = ""
    sorties: list[Path] = field(default_factory=list)
    detail: str = ""
    journal: Path | None = None
    debut: dt.datetime = field(default_factory=lambda: dt.datetime.now().replace(microsecond=0))

    def as_dict(self) -> dict[str, Any]:
        return {"action": self.action, "statut": self.statut, "resume": self.resume,
                "sorties": list(self.sorties), "detail": self.detail,
                "journal": self.journal, "date": self.debut}


# --- entry points ---------------------------------------------------------------------------
def main() -> None:
    """Called by the console's macro through xlwings ``RunPython``."""
    import xlwings as xw

    book = xw.Book.caller()
    run_action(book, "", caller_name=_excel_caller(book),
               ouvrir_fichier=lambda path: book.app.books.open(str(path)))


def _excel_caller(book: Any) -> str | None:
    """Name of the shape whose click ran the macro, when Excel can tell."""
    try:
        caller = book.app.api.Caller
    except Exception:  # Mac, no COM, no caller
        return None
    return caller if isinstance(caller, str) else None


def resolve_action(book: Any, caller_name: str | None) -> tuple[str, str]:
    """The action key to run and, when it came from the drop-down, a French note."""
    mapping = button_map(book)
    key = mapping.get(caller_name or "")
    if key is None and caller_name:  # a renamed button: recognise it by its caption
        caption = BY_LABEL.get(_shape_caption(book, caller_name))
        key = caption.key if caption else None
    if key in BY_KEY:
        return key, ""
    choix = _text(book.sheets[SHEET_CONSOLE][CELL_CHOIX].value)
    if choix not in BY_LABEL:
        raise ParametreInvalide(
            "Impossible de savoir quelle action lancer : choisissez-la dans la liste "
            "« Action à lancer » de la feuille Console, puis cliquez sur « Exécuter ».")
    note = "" if key == EXECUTER else " (bouton non identifié : action lue dans la liste)"
    return BY_LABEL[choix].key, note


def _shape_caption(book: Any, name: str) -> str:
    try:
        shape = book.sheets[SHEET_CONSOLE].api.Shapes(name)
        return _text(shape.TextFrame.Characters().Text)
    except Exception:  # not Excel on Windows, or no such shape
        return ""


def button_map(book: Any) -> dict[str, str]:
    """Shape name → action key, from the hidden sheet ``cv_boutons``."""
    try:
        rows = book.sheets[SHEET_BUTTONS][BUTTONS_RANGE].value
    except Exception:
        return {}
    return {_text(r[0]): _text(r[1]) for r in rows or [] if r and r[0] and r[1]}


def run_action(book: Any, action: str | None, caller_name: str | None = None,
               ouvrir_fichier: Callable[[Path], Any] | None = None) -> dict[str, Any]:
    """Run one console action on ``book`` and write its outcome there; never raises.

    ``action`` is an action key (``generer``, ``valider``, ``consolider``, ``ouvrir``,
    ``relances``); empty, it is found from ``caller_name`` (the clicked button) or the
    drop-down. ``ouvrir_fichier`` opens a file in Excel; without it (tests, command line)
    « Ouvrir » only returns the path.
    """
    issue = Issue(action=BY_KEY[action].label if action in BY_KEY else str(action or ""))
    note = ""
    work = None
    try:
        if not action:
            action, note = resolve_action(book, caller_name)
        if action not in BY_KEY:
            raise ParametreInvalide(f"Action inconnue : « {action} ».")
        issue.action = BY_KEY[action].label
        _write_status(book, issue, EN_COURS)
        params = read_parameters(book)
        work = params.work
        from cv_excel.batch.lock import verrou

        with verrou(work, attente=5):
            _RUNNERS[action](params, issue, ouvrir_fichier)
        issue.resume += note
    except Exception as exc:
        issue.statut = ERREUR
        issue.resume, issue.detail = french_error(exc)
        issue.journal = _log(book, work, issue, exc)
        if issue.journal and not _expected(exc):
            issue.detail += f" Détail technique dans le journal : {issue.journal}"
    try:
        _write_status(book, issue, issue.statut)
        _append_history(book, issue)
    except Exception as exc:  # the console itself is damaged: keep the log at least
        _log(book, work, issue, exc)
    return issue.as_dict()


# --- parameters -----------------------------------------------------------------------------
def read_parameters(book: Any) -> Parametres:
    """The working folder (opened), the year and the revue, from the sheet « Paramètres »."""
    from cv_excel.config import DossierTravail

    params = book.sheets[SHEET_PARAMS]
    raw = _text(params[CELL_DOSSIER].value)
    if not raw:
        raise ParametreInvalide(
            "Le dossier de travail n'est pas indiqué : renseignez-le dans la feuille "
            f"« Paramètres » (cellule {CELL_DOSSIER}).")
    folder = Path(raw).expanduser()
    if not folder.is_absolute():
        folder = _console_folder(book) / folder
    if not folder.is_dir():
        raise ParametreInvalide(
            f"Le dossier de travail « {raw} » est introuvable : vérifiez le chemin dans la "
            f"feuille « Paramètres » (cellule {CELL_DOSSIER}).")
    work = DossierTravail.open(folder)
    params[CELL_CONTRAT].value = work.config.contrat
    annee = _year(params[CELL_ANNEE].value)
    if annee is None:
        annee = work.config.annee
        params[CELL_ANNEE].value = annee
    revue = _revue(params[CELL_REVUE].value, work, annee)
    etape = _text(params[CELL_ETAPE].value) or next(iter(ETAPES))
    if etape not in ETAPES:
        raise ParametreInvalide(
            f"L'étape « {etape} » n'existe pas : choisissez dans la liste ("
            + ", ".join(ETAPES) + f") (feuille « Paramètres », cellule {CELL_ETAPE}).")
    return Parametres(work, annee, revue, ETAPES[etape])


def _revue(value: Any, work, annee: int) -> int | None:
    """Empty: no revue; else a revue of the year (cv_excel.toml, [revues])."""
    if value is None or _text(value) == "":
        return None
    number = _whole_number(value)
    if number is None or number < 1:
        raise ParametreInvalide(
            f"La revue « {_text(value)} » n'est pas valide : indiquez son numéro (1, 2, 3…) "
            f"ou laissez la case vide (feuille « Paramètres », cellule {CELL_REVUE}).")
    from cv_excel.config import RevueInconnue

    try:
        return work.config.revues.exiger(annee, number).numero
    except RevueInconnue as exc:
        raise ParametreInvalide(f"{exc} (feuille « Paramètres », cellule {CELL_REVUE}).") \
            from exc


def _whole_number(value: Any) -> int | None:
    """A cell's whole number (Excel gives floats; « 2019,0 » typed as text counts)."""
    try:
        number = float(str(value).strip().replace(",", "."))
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def _year(value: Any) -> int | None:
    if value is None or _text(value) == "":
        return None
    number = _whole_number(value)
    if number is None or not 2000 <= number <= 2100:
        raise ParametreInvalide(
            f"L'année « {_text(value)} » n'est pas valide : indiquez une année sur quatre "
            f"chiffres, par exemple 2019 (feuille « Paramètres », cellule {CELL_ANNEE}).")
    return number


def _console_folder(book: Any) -> Path:
    try:
        return Path(book.fullname).parent
    except Exception:
        return Path.cwd()


def _referentiel(work):
    from cv_excel.referentiel.load import load_for_folder

    return load_for_folder(work)[0]


# --- actions --------------------------------------------------------------------------------
def _generer(p: Parametres, issue: Issue, _ouvrir) -> None:
    from cv_excel.generation.generate import LIBELLES, generate_year

    work, annee = p.work, p.annee
    if p.revue is None:
        result = generate_year(work, _referentiel(work), annee)
        porteurs, referents = len(result.of_type("porteur")), len(result.of_type("referent"))
        issue.resume = (f"{len(result.classeurs)} classeur(s) écrit(s) pour {annee} : "
                        f"{porteurs} bilan(s) porteur, {referents} suivi(s) référent.")
    else:
        result = generate_year(work, _referentiel(work), annee, kinds=(p.etape,),
                               revue=p.revue)
        issue.resume = (f"{len(result.classeurs)} classeur(s) « {LIBELLES[p.etape]} » "
                        f"écrit(s) pour la revue {p.revue} de {annee}.")
    if result.classeurs:
        issue.sorties.append((work.root / result.classeurs[0].fichier).parent)
    details = [echec.message for echec in result.echecs]
    if result.echecs:
        issue.resume += f" {len(result.echecs)} classeur(s) non généré(s) : voir le détail."
    if result.referents_sans_objectif:
        details.append("Sans classeur (aucun objectif opérationnel en propre) : "
                       + ", ".join(result.referents_sans_objectif) + ".")
    issue.detail = "\n".join(details) or issue.detail


def _valider(p: Parametres, issue: Issue, _ouvrir) -> None:
    from cv_excel.enregistrement import valider_et_enregistrer

    work, annee = p.work, p.annee
    run = valider_et_enregistrer(work, ref=_referentiel(work), annee=annee)
    total, doublons, ecartes = len(run.fichiers), run.count("doublon"), run.count("écarté")
    issue.resume = (f"{total} fichier(s) reçu(s), {total - doublons - ecartes} nouveau(x) : "
                    f"{run.count('accepté')} accepté(s), "
                    f"{run.count('accepté avec avertissements')} avec avertissements, "
                    f"{run.count('rejeté')} rejeté(s), {doublons} doublon(s)"
                    + (f", {ecartes} écarté(s) (voir le rapport)" if ecartes else "") + ".")
    if run.rapport_xlsx:
        issue.sorties.append(run.rapport_xlsx)
    annotees = [f.annotee for f in run.fichiers if f.annotee]
    if annotees:
        issue.sorties.append(annotees[0].parent)
        issue.detail = (f"{len(annotees)} copie(s) annotée(s) à renvoyer aux expéditeurs "
                        f"dans {annotees[0].parent}.")
    if total == 0:
        issue.detail = f"Aucun fichier dans le dossier des retours {work.path('retours')}."


def _consolider_result(p: Parametres):
    from cv_excel.consolidation.run import consolider

    return consolider(p.work, _referentiel(p.work), p.annee, revue=p.revue)


def _consolider(p: Parametres, issue: Issue, _ouvrir) -> None:
    result = _consolider_result(p)
    quoi = f"{p.annee}" + (f" (revue {p.revue})" if p.revue is not None else "")
    if result.rien_de_nouveau:
        issue.resume = (f"Rien de nouveau depuis la dernière consolidation {quoi} : "
                        f"les {len(result.fichiers)} fichiers existants sont à jour.")
    else:
        issue.resume = f"Consolidation {quoi} : {len(result.fichiers)} fichier(s) écrit(s)."
    issue.sorties.append(result.dossier)
    if result.programmations_ignorees:
        issue.detail = ("Programmation non valide, ignorée : "
                        + ", ".join(result.programmations_ignorees) + ".")
    if result.avertissements:
        issue.detail = " ".join([issue.detail, *result.avertissements]).strip()


def _sortie(p: Parametres, key: str) -> Path:
    """Where « Consolider » writes its output ``key`` for the year or the revue."""
    from cv_excel.consolidation.run import output_names, output_names_revue, revue_folder

    base = p.work.path("sorties") / str(p.annee)
    if p.revue is None:
        return base / output_names(p.annee)[key]
    return base / revue_folder(p.revue) / output_names_revue(p.annee, p.revue, [])[key]


def _ouvrir(p: Parametres, issue: Issue, ouvrir) -> None:
    annee = p.annee if p.revue is None else f"{p.annee} (revue {p.revue})"
    path = _sortie(p, "tableaux")
    if not path.is_file():
        raise ParametreInvalide(
            f"Pas encore de tableaux de bord pour {annee} ({path.name}) : lancez d'abord "
            "« Consolider ».")
    if ouvrir is not None:
        ouvrir(path)
        issue.resume = f"Tableaux de bord {annee} ouverts dans Excel."
    else:
        issue.resume = f"Tableaux de bord {annee} : {path}"
    issue.sorties.append(path)


def _relances(p: Parametres, issue: Issue, _ouvrir) -> None:
    from cv_excel.consolidation.run import output_names

    annee = p.annee
    result = _consolider_result(Parametres(p.work, annee))  # the year's chase list
    names = output_names(annee)
    completude, csv = result.dossier / names["completude"], result.dossier / names["relances"]
    lignes = 0
    if csv.is_file():
        lignes = max(0, len(csv.read_text("utf-8-sig").splitlines()) - 1)
    issue.resume = (f"Relances {annee} prêtes : {lignes} ligne(s) dans {csv.name} ; "
                    f"le suivi par destinataire est dans {completude.name}.")
    issue.sorties += [completude, csv]


_RUNNERS: dict[str, Callable[..., None]] = {
    "generer": _generer, "valider": _valider, "consolider": _consolider,
    "ouvrir": _ouvrir, "relances": _relances,
}


# --- errors and log -------------------------------------------------------------------------
def _expected_types() -> tuple[type[BaseException], ...]:
    """Errors whose message is already French and complete (no need for the log path)."""
    from cv_excel.batch.lock import DossierOccupe
    from cv_excel.errors import DefautDossier
    from cv_excel.generation.generate import ModeleIntrouvable, ProgrammationIntrouvable
    from cv_excel.generation.render import CapaciteInsuffisante, ModeleInvalide
    from cv_excel.office import LibreOfficeAbsent
    from cv_excel.programmation.check import ProgrammationInvalide
    from cv_excel.referentiel.load import ReferentielIntrouvable

    # DefautDossier: configuration, store, register, journal, unwritable folder.
    return (ParametreInvalide, DefautDossier, ProgrammationIntrouvable,
            ProgrammationInvalide, ModeleIntrouvable, CapaciteInsuffisante, ModeleInvalide,
            LibreOfficeAbsent, ReferentielIntrouvable, DossierOccupe)


def _expected(exc: BaseException) -> bool:
    from cv_excel.errors import defaut_de

    return isinstance(exc, _expected_types()) or defaut_de(exc) is not None


def french_error(exc: BaseException) -> tuple[str, str]:
    """(one French line for « Résumé », details for « Détail »)."""
    from cv_excel.errors import defaut_de

    exc = defaut_de(exc) or exc  # a write error met in the folder: told with its folder
    if _expected(exc):
        detail = ""
        report = getattr(exc, "report", None)
        if report is not None:
            errors = getattr(report, "errors", None) or getattr(report, "findings", [])
            lines = [f"{f.where()} : {f.message}" for f in list(errors)[:5]
                     if hasattr(f, "where")]
            detail = " ; ".join(lines)
            if type(exc).__name__ == "ProgrammationInvalide":
                detail += (" — corrigez la programmation avant la génération "
                           "(cv-excel programmation verifier).")
        return str(exc), detail
    if isinstance(exc, PermissionError):
        name = Path(exc.filename).name if getattr(exc, "filename", None) else "un fichier"
        return (f"Impossible d'écrire « {name} » : le fichier est sans doute ouvert dans Excel "
                "ou protégé en écriture. Fermez-le puis relancez."), ""
    if isinstance(exc, FileNotFoundError):
        name = exc.filename or str(exc)
        return f"Fichier ou dossier introuvable : {name}.", ""
    return f"Erreur inattendue ({type(exc).__name__}) : {exc}", ""


def _log(book: Any, work, issue: Issue, exc: BaseException) -> Path | None:
    """Append the traceback to the log; return where it went."""
    text = (f"--- {issue.debut.isoformat(sep=' ')} — {issue.action}\n"
            + "".join(traceback.format_exception(exc)))
    for candidate in _log_candidates(book, work):
        try:
            candidate.parent.mkdir(parents=True, exist_ok=True)
            with candidate.open("a", encoding="utf-8") as f:
                f.write(text)
            return candidate
        except OSError:
            continue
    return None


def _log_candidates(book: Any, work) -> list[Path]:
    paths = []
    if work is not None:
        paths.append(work.path("sorties") / "journal" / "console.log")
    with contextlib.suppress(Exception):
        paths.append(Path(book.fullname).with_name(CONSOLE_NAME + ".log"))
    paths.append(Path(tempfile.gettempdir()) / (CONSOLE_NAME + ".log"))
    return paths


# --- writing back ---------------------------------------------------------------------------
def _write_status(book: Any, issue: Issue, statut: str) -> None:
    sheet = book.sheets[SHEET_CONSOLE]
    values = [issue.debut, issue.action, statut,
              "" if statut == EN_COURS else issue.resume,
              "" if statut == EN_COURS else "\n".join(str(p) for p in issue.sorties),
              "" if statut == EN_COURS else issue.detail]
    for offset, value in enumerate(values):
        sheet[f"C{STATUS_ROW + offset}"].value = value


def _append_history(book: Any, issue: Issue) -> None:
    """Newest first; the oldest lines fall off after ``HIST_MAX``."""
    sheet = book.sheets[SHEET_CONSOLE]
    old = sheet[HIST_RANGE].value or []
    rows = [list(r) for r in old if r and any(v not in (None, "") for v in r)]
    resume = issue.resume if issue.statut == TERMINE else f"{issue.resume} {issue.detail}".strip()
    rows.insert(0, [issue.debut, issue.action, issue.statut, resume])
    rows = rows[:HIST_MAX]
    rows += [[None] * 4 for _ in range(HIST_MAX - len(rows))]
    sheet[HIST_RANGE].value = rows


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()
