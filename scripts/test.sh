#!/bin/sh
# Installe cv_excel et ses dépendances de test, vérifie le style (ruff) et lance les tests.
set -eu
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -e ".[dev]" >/dev/null
python3 -m ruff check cv_excel scripts tests
python3 -m pytest "$@"
