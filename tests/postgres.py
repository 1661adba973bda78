"""A real, throw-away PostgreSQL server for the tests (Debian package ``postgresql``).

``postgres_cluster`` (session): a cluster created in a temporary folder by ``initdb``
(run as the ``postgres`` user when the tests run as root: initdb refuses root), started
by ``pg_ctl`` on a Unix socket in that folder only (no TCP), ``fsync`` off; stopped and
removed at the end of the session. ``pg_url``: a new empty database per test.

Accounts: ``postgres`` (superuser, trust on the socket) and ``cv_secret``, who must give
its password (scram-sha-256) — for the tests of credentials and messages.

Missing binaries FAIL the tests that need them (no skip): install ``postgresql``.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

SECRET_USER = "cv_secret"
SECRET_PASSWORD = "Mot-de-passe-Tr3s-Secret"
_counter = itertools.count(1)


@dataclass
class Cluster:
    folder: Path  # the socket's folder
    bin: Path
    user: str = "postgres"

    def url(self, database: str = "postgres", user: str | None = None,
            password: str | None = None) -> str:
        who = user or self.user
        if password:
            who = f"{who}:{password}"
        return f"postgresql://{who}@/{database}?host={self.folder}"

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Run ``statement`` as the superuser with psql (autocommit)."""
        proc = subprocess.run(
            [str(self.bin / "psql"), "-h", str(self.folder), "-U", self.user, "-d", database,
             "-v", "ON_ERROR_STOP=1", "-Atc", statement],
            capture_output=True, text=True, timeout=60)
        if proc.returncode:
            raise RuntimeError(f"psql: {proc.stderr.strip()}")
        return proc.stdout

    def new_database(self, prefix: str = "t") -> str:
        name = f"{prefix}_{os.getpid()}_{next(_counter)}"
        self.sql(f'CREATE DATABASE "{name}"')
        return name


def postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.fail("PostgreSQL est requis pour ces tests (serveur réel jetable) : installez "
                    "le paquet Debian « postgresql » (apt-get install postgresql), ou lancez "
                    "scripts/test.sh en root qui l'installe. / PostgreSQL server binaries "
                    "not found in /usr/lib/postgresql/*/bin: install the Debian package "
                    "'postgresql'.", pytrace=False)
    return Path(found[-1]).parent


def _as_owner(command: list[str], owner: str | None) -> list[str]:
    return ["runuser", "-u", owner, "--", *command] if owner else command


def _start(folder: Path) -> tuple[Cluster, str | None]:
    bin_dir = postgres_bin()
    owner = "postgres" if os.geteuid() == 0 else None
    if owner is not None:
        try:
            entry = pwd.getpwnam(owner)
        except KeyError:
            pytest.fail("L'utilisateur système « postgres » manque (il est créé par le paquet "
                        "Debian « postgresql ») : installez ce paquet.", pytrace=False)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    folder.chmod(0o755)
    data = folder / "data"
    run = {"capture_output": True, "text": True, "timeout": 120}
    proc = subprocess.run(_as_owner([str(bin_dir / "initdb"), "-A", "trust", "-U", "postgres",
                                     "-E", "UTF8", "--locale=C", "-D", str(data)], owner), **run)
    if proc.returncode:
        pytest.fail(f"initdb a échoué : {proc.stderr.strip()}", pytrace=False)
    hba = data / "pg_hba.conf"
    hba.write_text(f"local all {SECRET_USER} scram-sha-256\n" + hba.read_text())
    options = (f"-k {folder} -c listen_addresses='' -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60")
    proc = subprocess.run(_as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-l",
                                     str(folder / "server.log"), "-w", "-o", options,
                                     "start"], owner), **run)
    if proc.returncode:
        log = (folder / "server.log").read_text(errors="replace")[-2000:]
        pytest.fail(f"pg_ctl start a échoué : {proc.stderr.strip()} {log}", pytrace=False)
    cluster = Cluster(folder, bin_dir)
    cluster.sql(f"CREATE ROLE {SECRET_USER} LOGIN PASSWORD '{SECRET_PASSWORD}'")
    return cluster, owner


@pytest.fixture(scope="session")
def postgres_cluster():
    """The session's PostgreSQL server (see the module's docstring)."""
    folder = Path(tempfile.mkdtemp(prefix="cv-excel-pg-", dir="/tmp"))
    owner = None
    try:
        cluster, owner = _start(folder)
        yield cluster
    finally:
        if (folder / "data" / "postmaster.pid").exists():
            subprocess.run(_as_owner([str(postgres_bin() / "pg_ctl"), "-D",
                                      str(folder / "data"), "-m", "immediate", "-w", "stop"],
                                     owner), capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg_url(postgres_cluster) -> str:
    """A new, empty database of the session's server: its URL (``postgresql://…``)."""
    return postgres_cluster.url(postgres_cluster.new_database())


@pytest.fixture(params=["sqlite", "postgresql"])
def store_at(request, tmp_path):
    """Where to open a store, on each engine: an SQLite file, or a new PostgreSQL
    database. Call it (``store_at()``) for the target; ``store_at("autre")`` for another
    one beside it."""
    if request.param == "sqlite":
        return lambda name="cv_excel": tmp_path / f"{name}.sqlite"
    cluster = request.getfixturevalue("postgres_cluster")
    made: dict[str, str] = {}

    def target(name: str = "cv_excel") -> str:
        if name not in made:
            made[name] = cluster.url(cluster.new_database())
        return made[name]

    return target
