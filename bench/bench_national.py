"""Benchmark: the whole cycle at the national volume, and its growth between two scales.

Usage: python bench/bench_national.py [--echelle 1] [--rapport 10] [--echantillon 40]
       [--workers 0] [--base postgresql://…] [--json figures.json]

Run by hand, not by the tests (tests/test_parallel.py runs it at a tiny scale). For each
of two scales — ``--echelle`` × the national volume of the programme (10,400 porteurs,
25,000 actions a year; ``--echelle 0.1``: 1,040 / 2,500) and that scale divided by
``--rapport`` — a working folder is built with a fictitious programmation (the demo's
2019 actions replicated under new porteurs, SIRET and numbers; every porteur 2 or 3
actions), then, each stage in a child process of its own:

- ``programmation``: the programmation workbook written (setup);
- ``generer``: every workbook generated (porteurs and référents), ``workers`` processes;
- ``retours``: every recipient answers (the demo's answers, ``cv_excel.demo.returns``),
  one porteur return in 25 with one of the demo's usual mistakes (about 4 % rejected);
- ``valider``: the inbox validated and recorded in the store
  (``cv_excel.enregistrement.valider_et_enregistrer``);
- ``consolider``: the year consolidated (``force``: everything rebuilt).

With ``--base postgresql://…`` (a server where the user may create databases), the
``valider`` and ``consolider`` stages run again on PostgreSQL, on a copy of the folder
taken before ``valider`` (hard links) and a database created for the run, then dropped.

Memory: each stage's peak resident set, read in its child process by
``resource.getrusage`` — ``RUSAGE_SELF`` for the stage's process and ``RUSAGE_CHILDREN``
for its largest worker process (Linux: kibibytes; resident pages, shared ones included).

Baselines, in the same run, at the larger scale, on ``--echantillon`` workbooks spread
over the year: generation against openpyxl loading the same template, filling the same
cells, copying the action sheet per action with its lists (data validations) and defined
names, protecting the sheets (input cells unlocked), keeping the image, saving — both in
one process; intake (the ``valider`` stage, per file, all files) against openpyxl in
read-only mode reading every row of every sheet of the same returns (the sample holds
the rejected ones in their share). Ratios are printed, not pass/fail: the machine is
shared, figures are noisy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PORTEURS_NATIONAL, ACTIONS_NATIONAL = 10_400, 25_000
ANNEE = 2019
PART_REJETS = 25  # one porteur return in 25 carries a mistake that rejects it
ETAPES = ("programmation", "generer", "retours", "valider", "consolider")
ETAPES_BASE = ("valider", "consolider")  # run again on PostgreSQL
# What cv_excel does in a year's cycle: the returns are filled by the porteurs (the bench
# simulates them, but that is not the software's work).
CYCLE = ("generer", "valider", "consolider")
NOW = dt.datetime(2020, 1, 6, 9, 30, tzinfo=dt.UTC)


# --- the fictitious programmation -------------------------------------------------------------
def volumes(echelle: float) -> tuple[int, int]:
    """Porteurs and actions at ``echelle`` × the national volume (at least 1 and 1)."""
    porteurs = max(1, round(PORTEURS_NATIONAL * echelle))
    return porteurs, max(porteurs, round(ACTIONS_NATIONAL * echelle))


def programmation_rows(n_porteurs: int, n_actions: int) -> list[dict[str, Any]]:
    """The demo's 2019 actions replicated: ``n_actions`` actions over ``n_porteurs``
    fictitious porteurs (each ``n_actions / n_porteurs`` actions, rounded), with their own
    SIRET, names, numbers and Dauphin files."""
    from cv_excel.demo.build import demo_rows
    from cv_excel.programmation.validators import luhn_complete

    base = [r for r in demo_rows() if r["annee"] == ANNEE]
    rows = []
    k = 0
    for i in range(n_porteurs):
        siret = luhn_complete(luhn_complete(f"7{i:07d}") + "0001")
        nom = f"Association fictive n° {i + 1:05d}"
        for _ in range((i + 1) * n_actions // n_porteurs - i * n_actions // n_porteurs):
            row = dict(base[k % len(base)])
            k += 1
            row.update({
                "numero": f"{ANNEE}-{k:05d}", "dossier_dauphin": f"19-{k:06d}",
                "convention_numero": f"CONV-PV-{ANNEE}-{k:05d}",
                "porteur_siret": siret, "porteur_raison_sociale": nom,
                "porteur_email": f"contact{i + 1:05d}@association-fictive.example.org",
                "porteur_contact": f"Contact fictif {i + 1:05d}"})
            rows.append(row)
    return rows


def build_folder(root: Path, n_porteurs: int, n_actions: int, workers: int = 0) -> Path:
    """A working folder with the référents' directory and the fictitious programmation."""
    from cv_excel.atomic import write_text_atomic
    from cv_excel.config import DossierTravail, write_config
    from cv_excel.programmation.template import write_programmation
    from cv_excel.referentiel.load import embedded_referentiel, write_annuaire

    root.mkdir(parents=True, exist_ok=True)
    write_config(root, annee=ANNEE, contact_email="politique.ville@example.org",
                 workers=workers)
    work = DossierTravail.open(root)
    work.create_folders()
    ref = embedded_referentiel()
    for n, referent in enumerate(ref.referents, start=1):
        referent.nom = f"Référent fictif {n:02d}"
        referent.email = f"{referent.id}@example.org"
    write_annuaire(ref, work.path("referents"))
    write_programmation(work.programmation_file(ANNEE),
                        programmation_rows(n_porteurs, n_actions), ref, annee=ANNEE,
                        quartiers=work.config.territoire.quartiers)
    write_text_atomic(root / "bench.json", json.dumps(
        {"porteurs": n_porteurs, "actions": n_actions}) + "\n")
    return root


def _open(root: Path):
    from cv_excel.config import DossierTravail
    from cv_excel.programmation.on_disk import read_programmation_on_disk
    from cv_excel.referentiel.load import load_for_folder

    work = DossierTravail.open(root)
    ref, _ = load_for_folder(work)
    return work, ref, read_programmation_on_disk(work.programmation_file(ANNEE), ref,
                                                 annee=ANNEE)


def _registre(work) -> list[dict]:
    from cv_excel.errors import read_registre
    from cv_excel.generation.generate import REGISTRE, output_folder

    return read_registre(output_folder(work, ANNEE) / REGISTRE)


# --- the stages ---------------------------------------------------------------------------------
def stage_generer(root: Path) -> dict[str, Any]:
    from cv_excel.generation.generate import generate

    work, ref, prog = _open(root)
    start = time.perf_counter()
    result = generate(work, ref, prog, ANNEE, now=NOW)
    return {"secondes_coeur": time.perf_counter() - start,
            "classeurs": len(result.classeurs), "echecs": len(result.echecs),
            "porteurs": len(result.of_type("porteur")),
            "referents": len(result.of_type("referent"))}


def _filled_plan(task: tuple[dict, Any]) -> Any:
    """The plan of a registered workbook, every input answered (the demo's answers)."""
    from cv_excel.demo.returns import MISTAKES, fill_porteur, fill_referent
    from cv_excel.generation.plan import ContexteRevue, plan_porteur, plan_referent
    from cv_excel.parallel import shared

    entry, n = task
    ref, prog, config = shared("ref"), shared("prog"), shared("config")
    if entry["type"] == "porteur":
        actions = prog.actions_of(entry["destinataire_id"])
        plan = fill_porteur(plan_porteur(actions[0].porteur, actions, ref, config, ANNEE),
                            ANNEE)
        if n is not None:
            MISTAKES[n % len(MISTAKES)][1](plan)
    else:
        plan = fill_referent(plan_referent(ref.referent(entry["destinataire_id"]), ref, prog,
                                           config, ANNEE, ContexteRevue()), ANNEE)
    return plan


def _render_return(task: tuple[dict, Any]) -> bytes:
    from cv_excel.generation.render import render
    from cv_excel.parallel import shared

    entry = task[0]
    return render(shared("templates")[entry["type"]], _filled_plan(task), entry["classeur_id"],
                  dt.datetime.fromisoformat(entry["genere_le"])).data


def stage_retours(root: Path) -> dict[str, Any]:
    """Every recipient answers; one porteur return in :data:`PART_REJETS` has a mistake."""
    from cv_excel.atomic import write_bytes_atomic
    from cv_excel.filenames import safe_stem
    from cv_excel.generation.generate import template_path
    from cv_excel.generation.render import prepare
    from cv_excel.parallel import ordered_map, share
    from cv_excel.spec import SPECS

    work, ref, prog = _open(root)
    entries = _registre(work)
    templates = {kind: prepare(template_path(work, SPECS[kind]), SPECS[kind])
                 for kind in {e["type"] for e in entries}}
    tasks, k = [], 0
    for i, entry in enumerate(entries):
        mistake = None
        if entry["type"] == "porteur" and i % PART_REJETS == PART_REJETS // 2:
            mistake, k = k, k + 1
        tasks.append((entry, mistake))
    inbox = work.path("retours")
    start = time.perf_counter()
    for (entry, mistake), data in zip(tasks, ordered_map(
            _render_return, tasks, workers=work.config.workers, init=share,
            init_args=({"templates": templates, "ref": ref, "prog": prog,
                        "config": work.config},)), strict=True):
        label = "Bilan" if entry["type"] == "porteur" else "Suivi"
        if mistake is not None:
            label += " (erreur)"
        write_bytes_atomic(inbox / (safe_stem(f"{ANNEE} - {label} - {entry['destinataire']}")
                                    + f" {entry['classeur_id'][:8]}.xlsx"), data)
    return {"secondes_coeur": time.perf_counter() - start, "retours": len(tasks),
            "avec_erreur": k}


def stage_valider(root: Path) -> dict[str, Any]:
    import inspect

    from cv_excel.config import DossierTravail
    from cv_excel.intake.run import valider as run
    from cv_excel.referentiel.load import load_for_folder

    if "enregistreur" in inspect.signature(run).parameters:  # the store's orchestration
        from cv_excel.enregistrement import valider_et_enregistrer as run
    work = DossierTravail.open(root)
    ref, _ = load_for_folder(work)
    start = time.perf_counter()
    result = run(work, ref=ref)
    statuts = Counter(f.statut for f in result.fichiers)
    return {"secondes_coeur": time.perf_counter() - start, "fichiers": len(result.fichiers),
            "statuts": dict(statuts)}


def stage_consolider(root: Path) -> dict[str, Any]:
    from cv_excel.config import DossierTravail
    from cv_excel.consolidation.run import consolider
    from cv_excel.referentiel.load import load_for_folder

    work = DossierTravail.open(root)
    ref, _ = load_for_folder(work)
    start = time.perf_counter()
    consolider(work, ref, annee=ANNEE, force=True)
    return {"secondes_coeur": time.perf_counter() - start,
            "sorties": sum(1 for p in work.path("sorties").rglob("*") if p.is_file())}


def stage_programmation(root: Path, n_porteurs: int, n_actions: int,
                        workers: int) -> dict[str, Any]:
    build_folder(root, n_porteurs, n_actions, workers)
    return {"porteurs": n_porteurs, "actions": n_actions}


# --- baselines ------------------------------------------------------------------------------
def sample(items: list, k: int) -> list:
    """``k`` items spread evenly over ``items`` (all of them when fewer)."""
    if len(items) <= k:
        return list(items)
    return [items[i * len(items) // k] for i in range(k)]


def _validation(champ, first: str):
    """The same data validation as cv_excel's (:func:`validation_for`), for openpyxl."""
    from openpyxl.worksheet.datavalidation import DataValidation

    from cv_excel.generation import validations as v
    from cv_excel.spec.model import DECIMAL_MAX

    low, high = (str(b) for b in (champ.bornes or (-DECIMAL_MAX, DECIMAL_MAX)))
    kw: dict[str, Any] = {"type": None}
    if champ.kind == "liste":
        kw = {"type": "list", "formula1": champ.liste}
    elif champ.kind == "entier":
        kw = {"type": "whole", "operator": "between", "formula1": low, "formula2": high}
    elif champ.kind in ("decimal", "montant"):
        kw = {"type": "decimal", "operator": "between", "formula1": low, "formula2": high}
    elif champ.kind == "date":
        kw = {"type": "date", "operator": "between", "formula1": str(v.DATE_MIN),
              "formula2": str(v.DATE_MAX)}
    elif champ.kind == "email":
        kw = {"type": "custom", "formula1": f'ISNUMBER(SEARCH("@",{first}))'}
    elif champ.max_length:
        kw = {"type": "textLength", "operator": "lessThanOrEqual",
              "formula1": str(champ.max_length)}
    return DataValidation(**kw, allow_blank=True, showInputMessage=True,
                          showErrorMessage=True, promptTitle=champ.label[:32],
                          prompt=(champ.aide or champ.label)[:255],
                          errorTitle="Valeur non valide", error="Saisie refusée.")


def openpyxl_fill(template: Path, tpl, plan, out: Path) -> None:
    """openpyxl's way to the same workbook: load the template, copy the action sheet per
    section with its defined names, fill the same cells, give every input its data
    validation (drop-down lists, bounds) and unlock it, protect the sheets, hide the
    lists and the metadata, save (the template's image is kept, Pillow being installed)."""
    from openpyxl import load_workbook
    from openpyxl.styles import Protection
    from openpyxl.workbook.defined_name import DefinedName

    spec = tpl.spec
    wb = load_workbook(template)
    section = spec.section
    source = wb[section.titre]
    position = wb.sheetnames.index(source.title)
    copies = [source]
    for n in range(1, len(plan.sections)):
        ws = wb.copy_worksheet(source)
        wb.move_sheet(ws, position + n - wb.sheetnames.index(ws.title))
        for name, dn in source.defined_names.items():
            ws.defined_names[name] = DefinedName(
                name, attr_text=dn.attr_text.replace(f"'{source.title}'!", f"'{ws.title}'!")
                .replace(f"{source.title}!", f"'{ws.title}'!"))
        copies.append(ws)
    unlocked = Protection(locked=False)

    def put(ws, feuille, values: dict, tables: dict) -> None:
        for champ in feuille.champs:
            address = tpl.names[(feuille.titre, champ.name)].cell()
            cell = ws[address]
            if champ.name in values:
                cell.value = values[champ.name]
            if champ.role == "saisie":
                cell.protection = unlocked
                dv = _validation(champ, address)
                dv.add(address)
                ws.add_data_validation(dv)
        for tableau in feuille.tableaux:
            area = tpl.names[(feuille.titre, tableau.name)]
            data = tables.get(tableau.name)
            rows = ([(data or {}).get(ligne.key, {}) for ligne in tableau.lignes]
                    if tableau.lignes is not None else list(data or []))
            for c, colonne in enumerate(tableau.colonnes):
                dv = None
                for r in range(area.height):
                    address = area.cell(r, c)
                    cell = ws[address]
                    key = tableau.lignes[r].key if tableau.lignes is not None else None
                    if r < len(rows) and rows[r].get(colonne.name) is not None:
                        cell.value = rows[r][colonne.name]
                    if tableau.role_of(key, colonne.name) == "saisie":
                        cell.protection = unlocked
                        if dv is None:
                            dv = _validation(colonne, address)
                            ws.add_data_validation(dv)
                        dv.add(address)
        ws.protection.sheet = True

    for ws, part in zip(copies, plan.sections, strict=True):
        ws.title = part.titre
        put(ws, section, part.values, part.tables)
    for feuille in spec.feuilles:
        if not feuille.repetee:
            ws = wb[feuille.titre]
            put(ws, feuille, plan.values.get(feuille.key, {}), {})
            if feuille.key == "meta":
                ws.sheet_state = "veryHidden"
    if "Listes" in wb.sheetnames:
        wb["Listes"].sheet_state = "hidden"
        wb["Listes"].protection.sheet = True
    wb.save(out)


def stage_base_generation(root: Path, k: int) -> dict[str, Any]:
    """cv_excel and openpyxl writing the same ``k`` porteur workbooks, one process each."""
    from cv_excel.atomic import write_bytes_atomic
    from cv_excel.generation.generate import template_path
    from cv_excel.generation.plan import plan_porteur
    from cv_excel.generation.render import prepare, render
    from cv_excel.spec import PORTEUR

    work, ref, prog = _open(root)
    template = template_path(work, PORTEUR)
    tpl = prepare(template, PORTEUR)
    porteurs = sample(prog.porteurs(), k)
    plans = [plan_porteur(p, prog.actions_of(p.siret), ref, work.config, ANNEE)
             for p in porteurs]
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        out = Path(tmp)
        start = time.perf_counter()
        for i, plan in enumerate(plans):
            write_bytes_atomic(out / f"cv{i}.xlsx", render(tpl, plan, f"id{i}", NOW).data)
        ours = time.perf_counter() - start
        start = time.perf_counter()
        for i, plan in enumerate(plans):
            openpyxl_fill(template, tpl, plan, out / f"op{i}.xlsx")
        theirs = time.perf_counter() - start
    return {"secondes_coeur": ours + theirs, "echantillon": len(plans),
            "cv_excel_ms": 1000 * ours / len(plans), "openpyxl_ms": 1000 * theirs / len(plans)}


def stage_base_lecture(root: Path, k: int) -> dict[str, Any]:
    """openpyxl read-only reading every row of every sheet of ``k`` returns of the inbox
    (the rejected ones in their share)."""
    from openpyxl import load_workbook

    from cv_excel.xlsx.extent import FAR_COL, FAR_ROW

    inbox = sorted(p for p in (root / "retours").iterdir() if p.suffix == ".xlsx")
    files = sample(inbox, k)
    start = time.perf_counter()
    cells = 0
    for path in files:
        wb = load_workbook(path, read_only=True, data_only=False)
        _ = dict(wb.defined_names.items())
        for ws in wb.worksheets:
            _ = {n: d.attr_text for n, d in ws.defined_names.items()}
            for row in ws.iter_rows(max_row=FAR_ROW, max_col=FAR_COL, values_only=True):
                cells += sum(1 for v in row if v is not None)
        wb.close()
    seconds = time.perf_counter() - start
    return {"secondes_coeur": seconds, "echantillon": len(files),
            "avec_erreur": sum(1 for p in files if "(erreur)" in p.name),
            "openpyxl_ms": 1000 * seconds / max(1, len(files)), "cellules": cells}


# --- one stage in a child process --------------------------------------------------------------
def run_stage(args: argparse.Namespace) -> None:
    """The child's side: run one stage, print one JSON line (time, peak memory)."""
    before = _rss_kib()
    start = time.perf_counter()
    root = Path(args.dossier)
    if args.etape == "programmation":
        n_porteurs, n_actions = (int(x) for x in args.volumes.split(","))
        out = stage_programmation(root, n_porteurs, n_actions, args.workers)
    elif args.etape == "base_generation":
        out = stage_base_generation(root, args.echantillon)
    elif args.etape == "base_lecture":
        out = stage_base_lecture(root, args.echantillon)
    else:
        out = globals()[f"stage_{args.etape}"](root)
    out.update({
        "secondes": time.perf_counter() - start, "avant_kib": before,
        "pic_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "pic_workers_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss})
    print(json.dumps(out))


def _rss_kib() -> int:
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(etape: str, root: Path, extra: list[str] = (), base: str | None = None
            ) -> dict[str, Any]:
    """Run stage ``etape`` in a child process; its figures."""
    env = {k: v for k, v in os.environ.items() if k != "CV_EXCEL_BASE"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    if base:
        env["CV_EXCEL_BASE"] = base
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--etape", etape,
                           "--dossier", str(root), *extra], capture_output=True, text=True,
                          env=env, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"étape {etape} en échec :\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- PostgreSQL: a database of its own for each run --------------------------------------------
def create_database(url: str, name: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def hidden(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# --- the driver ----------------------------------------------------------------------------------
def run_scale(tmp: Path, echelle: float, args: argparse.Namespace,
              baselines: bool) -> dict[str, Any]:
    n_porteurs, n_actions = volumes(echelle)
    root = tmp / f"echelle-{n_porteurs}"
    print(f"\n== {n_porteurs} porteurs, {n_actions} actions (échelle {echelle:g}) ==",
          flush=True)
    figures: dict[str, Any] = {"porteurs": n_porteurs, "actions": n_actions, "etapes": {}}
    copie_pg = None
    for etape in ETAPES:
        extra = ["--workers", str(args.workers)]
        if etape == "programmation":
            extra += ["--volumes", f"{n_porteurs},{n_actions}"]
        if etape == "valider" and baselines:
            figures["base_lecture"] = _show("base_lecture", measure(
                "base_lecture", root, ["--echantillon", str(args.echantillon)]))
        if etape == "valider" and args.base:
            copie_pg = tmp / f"echelle-{n_porteurs}-postgresql"
            shutil.copytree(root, copie_pg, copy_function=os.link)
        figures["etapes"][etape] = _show(etape, measure(etape, root, extra))
    if baselines:
        figures["base_generation"] = _show("base_generation", measure(
            "base_generation", root, ["--echantillon", str(args.echantillon)]))
    if copie_pg is not None:
        name = f"cv_excel_bench_{n_porteurs}_{os.getpid()}"
        url = create_database(args.base, name)
        try:
            figures["postgresql"] = {
                etape: _show(f"{etape} (PostgreSQL)", measure(etape, copie_pg, base=url))
                for etape in ETAPES_BASE}
            if (copie_pg / "cv_excel.sqlite").exists():
                raise RuntimeError("la copie mesurée sur PostgreSQL a écrit un fichier SQLite")
        finally:
            drop_database(args.base, name)
        shutil.rmtree(copie_pg)
    shutil.rmtree(root)
    return figures


def _mio(kib: int) -> float:
    return kib / 1024


def _show(label: str, r: dict[str, Any]) -> dict[str, Any]:
    details = {k: v for k, v in r.items() if k not in (
        "secondes", "secondes_coeur", "avant_kib", "pic_kib", "pic_workers_kib")}
    print(f"{label:<28} {r['secondes']:8.1f} s   pic {_mio(r['pic_kib']):7.0f} Mio   "
          f"pic d'un worker {_mio(r['pic_workers_kib']):6.0f} Mio   "
          + ", ".join(f"{k} {v}" for k, v in details.items()), flush=True)
    return r


def summary(small: dict[str, Any], large: dict[str, Any], workers: int) -> list[str]:
    """The lines of growth ratios and baselines (French)."""
    lines = [f"Croissance {small['porteurs']} → {large['porteurs']} porteurs "
             f"(×{large['porteurs'] / small['porteurs']:.1f} de données) :"]
    cycle = {"petit": 0.0, "grand": 0.0}
    for etape in ETAPES:
        a, b = small["etapes"][etape], large["etapes"][etape]
        if etape in CYCLE:
            cycle["petit"] += a["secondes"]
            cycle["grand"] += b["secondes"]
        lines.append(
            f"  {etape:<14} temps ×{b['secondes'] / a['secondes']:.2f} "
            f"({a['secondes']:.1f} s → {b['secondes']:.1f} s), pic de mémoire "
            f"×{b['pic_kib'] / a['pic_kib']:.2f} ({_mio(a['pic_kib']):.0f} → "
            f"{_mio(b['pic_kib']):.0f} Mio)")
    for key, pg in (("postgresql", True),):
        if key in small and key in large and pg:
            for etape in ETAPES_BASE:
                a, b = small[key][etape], large[key][etape]
                lines.append(f"  {etape + ' (PostgreSQL)':<14} temps ×"
                             f"{b['secondes'] / a['secondes']:.2f} ({a['secondes']:.1f} s → "
                             f"{b['secondes']:.1f} s), pic ×{b['pic_kib'] / a['pic_kib']:.2f}")
    lines.append(f"Cycle générer → valider → consolider (SQLite, {workers} processus) : "
                 f"{cycle['petit']:.1f} s → {cycle['grand']:.1f} s (sans la simulation des "
                 f"retours, qui est le travail des porteurs : "
                 f"{large['etapes']['retours']['secondes']:.1f} s au grand volume)")
    g = large.get("base_generation")
    if g:
        lines.append(f"Génération, 1 processus, {g['echantillon']} classeurs porteurs : cv_excel "
                     f"{g['cv_excel_ms']:.0f} ms/classeur, openpyxl charger-remplir-enregistrer "
                     f"{g['openpyxl_ms']:.0f} ms/classeur ; rapport openpyxl / cv_excel : "
                     f"{g['openpyxl_ms'] / g['cv_excel_ms']:.1f}")
        gen = large["etapes"]["generer"]
        lines.append(f"Génération complète ({workers} processus) : "
                     f"{1000 * gen['secondes_coeur'] / max(1, gen['classeurs']):.0f} "
                     "ms/classeur (porteurs et référents)")
    lecture = large.get("base_lecture")
    if lecture:
        v = large["etapes"]["valider"]
        per_file = 1000 * v["secondes_coeur"] / max(1, v["fichiers"])
        lines.append(f"Lecture : valider {per_file:.0f} ms/fichier (tous les retours, dont "
                     f"{v['statuts'].get('rejeté', 0)} rejetés), openpyxl lecture seule "
                     f"{lecture['openpyxl_ms']:.0f} ms/fichier ({lecture['echantillon']} "
                     f"retours dont {lecture['avec_erreur']} avec erreur) ; rapport valider / "
                     f"openpyxl : {per_file / lecture['openpyxl_ms']:.2f}")
    return lines


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--echelle", type=float, default=1.0,
                        help="part du volume national (1 : 10 400 porteurs, 25 000 actions)")
    parser.add_argument("--rapport", type=float, default=10,
                        help="la petite échelle est l'échelle divisée par ce nombre")
    parser.add_argument("--echantillon", type=int, default=40,
                        help="classeurs des comparaisons avec openpyxl")
    parser.add_argument("--workers", type=int, default=0, help="processus (0 : un par cœur)")
    parser.add_argument("--base", help="serveur PostgreSQL (postgresql://…) : valider et "
                        "consolider y sont aussi mesurés, dans une base créée pour l'occasion")
    parser.add_argument("--json", type=Path, help="écrire aussi les mesures dans ce fichier")
    parser.add_argument("--dossier", help=argparse.SUPPRESS)
    parser.add_argument("--etape", help=argparse.SUPPRESS)
    parser.add_argument("--volumes", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.etape:
        run_stage(args)
        return {}
    if sys.platform == "win32":
        raise SystemExit("mesure de la mémoire par resource.getrusage : Linux ou macOS")
    from cv_excel.parallel import worker_count

    workers = worker_count(args.workers)
    print(f"Machine : {os.cpu_count()} cœur(s), {workers} processus de travail ; "
          f"base : SQLite{' et ' + hidden(args.base) if args.base else ''}", flush=True)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cv_excel_national_") as tmp:
        small = run_scale(Path(tmp), args.echelle / args.rapport, args, baselines=False)
        large = run_scale(Path(tmp), args.echelle, args, baselines=True)
    print()
    for line in summary(small, large, workers):
        print(line)
    print(f"(banc complet : {time.perf_counter() - start:.0f} s ; machine partagée : "
          "chiffres bruités)")
    figures = {"petite": small, "grande": large, "workers": workers}
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, ensure_ascii=False) + "\n",
                             encoding="utf-8")
    return figures


if __name__ == "__main__":
    main()
