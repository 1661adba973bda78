"""The store on a real PostgreSQL server (tests/postgres.py): faults told in French without
a password, credentials from the environment or a .pgpass file, concurrent writers from
two processes, the copy of an SQLite store (``cv-excel base migrer``), ``base etat``."""

from __future__ import annotations

import logging
import multiprocessing
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from cv_excel.cli import app
from cv_excel.store import schema, transfer
from cv_excel.store.db import StoreIncompatible, open_store
from cv_excel.store.queries import data_fingerprint, load_year, years
from tests import store_concurrence
from tests.postgres import SECRET_PASSWORD, SECRET_USER

CONTRAT = "orly-2019-2022"


def _no_secret(text: str) -> None:
    assert SECRET_PASSWORD not in text
    assert SECRET_PASSWORD[:8] not in text


# --- faults, in French, without the password ---------------------------------------------


def test_an_unreachable_server_is_told_in_french(tmp_path):
    url = f"postgresql://{SECRET_USER}:{SECRET_PASSWORD}@/base?host={tmp_path}"
    with pytest.raises(StoreIncompatible, match="injoignable") as caught:
        open_store(url)
    message = str(caught.value)
    assert "PostgreSQL" in message and "***" in message and "relancez" in message
    _no_secret(message)


def test_a_wrong_password_is_told_without_the_password(postgres_cluster, caplog):
    name = postgres_cluster.new_database()
    url = postgres_cluster.url(name, SECRET_USER, "pas-le-bon-mot-de-passe")
    with caplog.at_level(logging.DEBUG), pytest.raises(StoreIncompatible) as caught:
        open_store(url)
    message = str(caught.value)
    assert "refuse la connexion" in message and SECRET_USER in message
    assert "PGPASSWORD" in message and ".pgpass" in message
    assert "pas-le-bon-mot-de-passe" not in message and "***" in message
    assert "pas-le-bon-mot-de-passe" not in caplog.text
    with pytest.raises(StoreIncompatible, match="refuse la connexion"):  # no password at all
        open_store(postgres_cluster.url(name, SECRET_USER))


def test_the_password_comes_from_pgpassword_or_a_pgpass_file(postgres_cluster, monkeypatch,
                                                              tmp_path):
    name = postgres_cluster.new_database()
    postgres_cluster.sql(f'ALTER DATABASE "{name}" OWNER TO {SECRET_USER}')
    postgres_cluster.sql(f"GRANT ALL ON SCHEMA public TO {SECRET_USER}", name)
    url = postgres_cluster.url(name, SECRET_USER)  # no password in the address
    monkeypatch.setenv("PGPASSWORD", SECRET_PASSWORD)
    with open_store(url) as store:
        assert store.version == int(schema.HEAD)
        _no_secret(store.describe())
    monkeypatch.delenv("PGPASSWORD")
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"*:*:{name}:{SECRET_USER}:{SECRET_PASSWORD}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))  # what ~/.pgpass is for libpq
    with open_store(url) as store:
        assert store.dialect == "postgresql" and store.version == int(schema.HEAD)


def test_a_missing_database_is_told_in_french(postgres_cluster):
    with pytest.raises(StoreIncompatible, match="n'existe pas sur le serveur") as caught:
        open_store(postgres_cluster.url("base_absente"))
    assert "base_absente" in str(caught.value)


def test_an_account_without_rights_is_told_in_french(postgres_cluster, monkeypatch):
    name = postgres_cluster.new_database()
    open_store(postgres_cluster.url(name)).close()  # a store, created by its owner
    monkeypatch.setenv("PGPASSWORD", SECRET_PASSWORD)
    with pytest.raises(StoreIncompatible, match="droits") as caught:  # may not read it
        open_store(postgres_cluster.url(name, SECRET_USER))
    assert SECRET_USER in str(caught.value) and "permission denied" in str(caught.value)
    postgres_cluster.sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {SECRET_USER}",
                         name)
    with pytest.raises(StoreIncompatible, match="droits") as caught:  # may not write it
        open_store(postgres_cluster.url(name, SECRET_USER))
    assert SECRET_USER in str(caught.value) and "INSERT sur" in str(caught.value)
    _no_secret(str(caught.value))
    empty = postgres_cluster.new_database()  # may not create the tables of a new store
    with pytest.raises(StoreIncompatible, match="droits") as caught:
        open_store(postgres_cluster.url(empty, SECRET_USER))
    _no_secret(str(caught.value))


def test_a_database_of_another_application_is_refused(postgres_cluster):
    name = postgres_cluster.new_database()
    postgres_cluster.sql("CREATE TABLE clients (nom text); INSERT INTO clients VALUES ('D')",
                         name)
    with pytest.raises(StoreIncompatible, match="pas celles d'un magasin"):
        open_store(postgres_cluster.url(name))
    assert postgres_cluster.sql("SELECT count(*) FROM clients", name).strip() == "1"


def test_a_store_of_a_newer_cv_excel_is_refused(pg_url):
    open_store(pg_url).close()
    with open_store(pg_url) as store:
        store.execute("UPDATE alembic_version SET version_num = '0042'")
    with pytest.raises(StoreIncompatible, match="plus récente de cv_excel"):
        open_store(pg_url)


# --- two writers at once ----------------------------------------------------------------


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_two_processes_writing_at_once_lose_no_accepted_return(engine, tmp_path, request):
    """Two machines import at the same time, into one store, returns of the same
    recipients — and some identical files: every file is stored once, exactly one return
    is in force per recipient (the latest received), every other one is superseded."""
    if engine == "sqlite":
        target = tmp_path / "cv_excel.sqlite"
    else:
        target = request.getfixturevalue("pg_url")
    open_store(target).close()  # the schema, before the race
    n, destinataires, communs = 40, 5, 6
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    workers = [ctx.Process(target=store_concurrence.importer,
                           args=(target, w, n, destinataires, communs, barrier, results))
               for w in (0, 1)]
    for p in workers:
        p.start()
    summaries = dict(results.get(timeout=300) for _ in workers)
    for p in workers:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert all(s["echecs"] == {} for s in summaries.values()), summaries
    # each shared file was recorded by one process and known to the other
    assert sum(s["nouvelles"] for s in summaries.values()) == 2 * n + communs
    assert sum(s["deja_connues"] for s in summaries.values()) == communs

    sent = [r for w in (0, 1) for r in store_concurrence.retours_de(w, n, destinataires,
                                                                     communs)]
    latest = {}
    for r in sent:
        if r.destinataire not in latest or r.recu_le > latest[r.destinataire].recu_le:
            latest[r.destinataire] = r
    with open_store(target) as store:
        s = schema.submissions
        rows = store.execute(select(s.c.id, s.c.sha256, s.c.destinataire_id, s.c.donnees,
                                    s.c.remplacee_par))
    assert sorted(r.sha256 for r in rows) == sorted({r.sha256 for r in sent})
    in_force = {r.destinataire_id: r.sha256 for r in rows if r.remplacee_par is None}
    assert in_force == {d: r.sha256 for d, r in latest.items()}
    assert all(r.donnees == 1 for r in rows)
    ids = {r.id: r for r in rows}
    for r in rows:  # a superseded return points to a return of the same recipient
        if r.remplacee_par is not None:
            assert ids[r.remplacee_par].destinataire_id == r.destinataire_id


# --- cv-excel base migrer / base etat -------------------------------------------------------


@pytest.fixture
def sqlite_store(demo_master, tmp_path) -> Path:
    """A copy of the demo's whole-cycle store (revues, decisions…), with a chain of
    superseded returns (each one names a later id: the copy must insert it after)."""
    from cv_excel.store.imports import ImportSummary, record_file

    path = tmp_path / "cv_excel.sqlite"
    shutil.copy(demo_master / "cv_excel.sqlite", path)
    with open_store(path) as store:
        summary = ImportSummary()
        for n in range(3):
            record_file(store, store_concurrence.retour(f"chaine-{n}", "dest-chaine",
                                                        f"2019-06-0{n + 1}T10:00:00"), summary)
        assert summary.remplacees == 2 and not summary.echecs
    return path


def _dump(store) -> dict[str, list[str]]:
    with store.lecture() as conn:
        return {t.name: sorted(repr(tuple(r)) for r in conn.execute(select(t)))
                for t in schema.TABLES_IN_ORDER}


def test_a_sqlite_store_is_copied_into_postgresql_row_for_row(sqlite_store, pg_url):
    comptes = transfer.copier_base(sqlite_store, pg_url)
    assert set(comptes) == {t.name for t in schema.TABLES_IN_ORDER}
    assert all(a == b for a, b in comptes.values()) and comptes["submissions"][0] > 0
    with open_store(sqlite_store) as source, open_store(pg_url) as cible:
        assert _dump(cible) == _dump(source)  # every row, ids kept
        superseded = source.execute(select(func.count()).where(
            schema.submissions.c.remplacee_par.is_not(None)))[0][0]
        assert superseded > 0  # the order of the copy met the self-reference
        assert years(cible, CONTRAT) == years(source, CONTRAT)
        for annee in years(source, CONTRAT):
            assert data_fingerprint(cible, CONTRAT, annee) == data_fingerprint(
                source, CONTRAT, annee)
        assert load_year(cible, CONTRAT, 2019) .bilans == load_year(source, CONTRAT,
                                                                    2019).bilans
        # the next submission gets a new id (the sequence follows the copied ids)
        top = cible.execute(select(func.max(schema.submissions.c.id)))[0][0]
        cible.execute(schema.submissions.insert().values(
            sha256="nouveau", nom="n.xlsx", recu_le="2020-01-01", type="porteur",
            classeur_id="x", contrat=CONTRAT, annee=2020, destinataire_id="d",
            destinataire="D", statut="rejeté", bloquants=1, avertissements=0,
            findings_json="[]", importee_le="2020-01-01"))
        new_id = cible.execute(select(schema.submissions.c.id).where(
            schema.submissions.c.sha256 == "nouveau"))[0][0]
        assert new_id == top + 1


def test_a_target_holding_data_is_refused_and_left_alone(sqlite_store, pg_url):
    transfer.copier_base(sqlite_store, pg_url)
    with open_store(pg_url) as cible:
        before = _dump(cible)
    with pytest.raises(transfer.CibleNonVide, match="contient déjà des données"):
        transfer.copier_base(sqlite_store, pg_url)
    with open_store(pg_url) as cible:
        assert _dump(cible) == before


def test_a_count_that_differs_commits_nothing(sqlite_store, pg_url, monkeypatch):
    original = transfer._batches

    def lossy(conn, table):  # a row lost on the way (no other row depends on it)
        for rows in original(conn, table):
            yield rows[:-1] if table is schema.budget_lignes else rows

    monkeypatch.setattr(transfer, "_batches", lossy)
    with pytest.raises(transfer.CopieIncomplete) as caught:
        transfer.copier_base(sqlite_store, pg_url)
    a, b = caught.value.comptes["budget_lignes"]
    assert b < a and "rien n'a été enregistré" in str(caught.value)
    with open_store(pg_url) as cible:
        assert all(not rows for rows in _dump(cible).values())


def test_cli_base_migrer_exits_1_when_a_count_differs(sqlite_store, demo_master, tmp_path,
                                                      pg_url, monkeypatch):
    folder = _folder_with(sqlite_store, demo_master, tmp_path)
    original = transfer._batches

    def lossy(conn, table):
        for rows in original(conn, table):
            yield rows[1:] if table is schema.pistes else rows

    monkeypatch.setattr(transfer, "_batches", lossy)
    result = CliRunner().invoke(app, ["base", "migrer", "--vers", pg_url, "--dossier",
                                      str(folder)])
    out = " ".join(result.output.split())
    assert result.exit_code == 1, result.output
    assert "DIFFÉRENT" in out and "copie est incomplète" in out and "pistes" in out


def _folder_with(sqlite_store: Path, demo_master: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "dossier"
    folder.mkdir()
    shutil.copy(demo_master / "cv_excel.toml", folder / "cv_excel.toml")
    shutil.copy(sqlite_store, folder / "cv_excel.sqlite")
    return folder


def test_cli_base_migrer_and_etat(sqlite_store, demo_master, tmp_path, postgres_cluster,
                                  monkeypatch):
    folder = _folder_with(sqlite_store, demo_master, tmp_path)
    name = postgres_cluster.new_database()
    postgres_cluster.sql(f'ALTER DATABASE "{name}" OWNER TO {SECRET_USER}')
    postgres_cluster.sql(f"GRANT ALL ON SCHEMA public TO {SECRET_USER}", name)
    monkeypatch.setenv("PGPASSWORD", SECRET_PASSWORD)
    url = postgres_cluster.url(name, SECRET_USER)
    runner = CliRunner()
    result = runner.invoke(app, ["base", "migrer", "--vers", url, "--dossier", str(folder)])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "Copie vérifiée" in out and "identique" in out and "DIFFÉRENT" not in out
    assert "submissions" in out and "budget_lignes" in out
    _no_secret(result.output)

    again = runner.invoke(app, ["base", "migrer", "--vers", url, "--dossier", str(folder)])
    assert again.exit_code == 2 and "base vide" in " ".join(again.output.split())

    result = runner.invoke(app, ["base", "etat", "--dossier", str(folder)])
    assert result.exit_code == 0, result.output
    assert "SQLite" in result.output and CONTRAT in result.output
    monkeypatch.setenv("CV_EXCEL_BASE", url)
    result = runner.invoke(app, ["base", "etat", "--dossier", str(folder)])
    assert result.exit_code == 0, result.output
    assert "PostgreSQL" in result.output and CONTRAT in result.output
    assert f"{int(schema.HEAD):04d}" in result.output
    _no_secret(result.output)


def test_cli_base_migrer_with_a_password_in_the_address_never_prints_it(
        sqlite_store, demo_master, tmp_path, postgres_cluster):
    folder = _folder_with(sqlite_store, demo_master, tmp_path)
    name = postgres_cluster.new_database()
    url = postgres_cluster.url(name, SECRET_USER, "faux-" + SECRET_PASSWORD)
    result = CliRunner().invoke(app, ["base", "migrer", "--vers", url, "--dossier",
                                      str(folder)])
    assert result.exit_code == 2
    assert "refuse la connexion" in " ".join(result.output.split())
    _no_secret(result.output)


# --- the whole demo on PostgreSQL ---------------------------------------------------------


def _csv_outputs(folder: Path) -> dict[str, bytes]:
    """The year's CSV outputs of the demo's contrat (the EPT's synthesis aside)."""
    sorties = folder / "sorties"
    return {p.relative_to(sorties).as_posix(): p.read_bytes()
            for p in sorted(sorties.rglob("*.csv")) if "EPT" not in p.parts}


def test_the_demo_on_postgresql_gives_the_same_outputs_as_on_sqlite(demo_master, pg_url,
                                                                     tmp_path, monkeypatch):
    """``CV_EXCEL_BASE=postgresql://… cv-excel demo``: the same consolidated data and the
    same CSV bytes as the SQLite default."""
    from cv_excel.config import DossierTravail
    from cv_excel.demo import run_demo_cycle

    monkeypatch.setenv("CV_EXCEL_BASE", pg_url)
    folder = run_demo_cycle(tmp_path / "demo", autre_contrat=False).dossier
    assert not (folder / "cv_excel.sqlite").exists()  # everything went to the server
    expected = _csv_outputs(demo_master)
    assert expected and _csv_outputs(folder) == expected
    contrat = DossierTravail.open(folder).config.contrat
    with open_store(pg_url) as cible, open_store(demo_master / "cv_excel.sqlite") as source:
        assert cible.dialect == "postgresql" and years(cible, contrat) == years(source,
                                                                                contrat)
        for annee in years(source, contrat):  # the same data (the runs' times aside)
            assert _content(load_year(cible, contrat, annee)) == _content(
                load_year(source, contrat, annee))


def _content(data) -> tuple:
    """A year's data without what depends on when the demo ran (reception times, ids)."""
    from dataclasses import asdict

    def plain(item) -> dict:
        return {k: v for k, v in asdict(item).items()
                if k not in ("submission_id", "recu_le", "id", "remplacee_par")}

    return (sorted((s.nom, s.statut, s.type, s.destinataire_id, s.courante, s.revue)
                   for s in data.submissions),
            {n: plain(b) for n, b in data.bilans.items()},
            {c: [plain(s) for s in v] for c, v in data.suivis.items()},
            {c: [plain(s) for s in v] for c, v in data.syntheses.items()},
            [plain(d) for d in data.decisions], [plain(a) for a in data.actions],
            [plain(s) for s in data.series])


def _texts(folder: Path) -> str:
    """Every text a run leaves in the folder (logs, reports, journal), decoded leniently."""
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*")
                     if p.is_file() and p.suffix in (".log", ".json", ".csv", ".txt", ".md"))


def test_a_password_in_the_address_is_never_written(demo_master, postgres_cluster, tmp_path,
                                                    monkeypatch):
    """``base`` given with its password (against the advice): the batch runs on the
    server, and neither its output nor its log, reports or journal holds the password —
    nor when the password is wrong."""
    folder = tmp_path / "dossier"
    shutil.copytree(demo_master, folder, ignore=shutil.ignore_patterns("cv_excel.sqlite*"))
    name = postgres_cluster.new_database()
    postgres_cluster.sql(f'ALTER DATABASE "{name}" OWNER TO {SECRET_USER}')
    postgres_cluster.sql(f"GRANT ALL ON SCHEMA public TO {SECRET_USER}", name)
    runner = CliRunner()
    monkeypatch.setenv("CV_EXCEL_BASE", postgres_cluster.url(name, SECRET_USER,
                                                             SECRET_PASSWORD))
    result = runner.invoke(app, ["traiter", "--dossier", str(folder)])
    assert result.exit_code == 0, result.output
    with open_store(postgres_cluster.url(name)) as store:  # the returns went to the server
        assert store.execute(select(func.count()).select_from(schema.submissions))[0][0] > 0
    monkeypatch.setenv("CV_EXCEL_BASE", postgres_cluster.url(name, SECRET_USER,
                                                             "X" + SECRET_PASSWORD))
    for command in ("traiter", "valider", "consolider"):
        failed = runner.invoke(app, [command, "--dossier", str(folder)])
        assert failed.exit_code == 2, failed.output
        assert "refuse la connexion" in " ".join(failed.output.split())
        _no_secret(failed.output)
    _no_secret(result.output)
    _no_secret(_texts(folder))
