"""Fixtures shared by several test modules."""

from __future__ import annotations

from pathlib import Path

import pytest

# The throw-away PostgreSQL server and the fixtures running store tests on both engines.
from tests.postgres import pg_url, postgres_cluster, store_at  # noqa: F401


@pytest.fixture(scope="session")
def demo_master(tmp_path_factory) -> Path:
    """A working folder after a whole demo cycle: store, register, journal, outputs.
    Built once for the whole run (the cycle takes half a minute): tests only read it, or
    copy it before changing anything."""
    from cv_excel.demo import run_demo_cycle

    return run_demo_cycle(tmp_path_factory.mktemp("demo_master") / "demo").dossier
