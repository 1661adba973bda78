#!/bin/sh
# Installe cv_excel et ses dépendances de test (dont LibreOffice, le tableur réel des tests
# de bout en bout, et PostgreSQL, le serveur réel des tests du magasin partagé), vérifie le
# style (ruff) et lance les tests.
set -eu
cd "$(dirname "$0")/.."
if ! command -v soffice >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "Installation de LibreOffice (tests de bout en bout)…"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            libreoffice-calc python3-uno poppler-utils >/dev/null
    else
        echo "LibreOffice (soffice) est requis : installez libreoffice-calc et python3-uno." >&2
        exit 2
    fi
fi
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "Installation de PostgreSQL (serveur jetable des tests du magasin partagé)…"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            postgresql >/dev/null
    else
        echo "PostgreSQL est requis pour les tests : installez le paquet postgresql." >&2
        exit 2
    fi
fi
python3 -m pip install --quiet --disable-pip-version-check -e ".[dev]" >/dev/null
python3 -m ruff check cv_excel scripts tests bench
# One test process per core (pytest-xdist), a test file per process at a time: the
# end-to-end tests wait on LibreOffice, PostgreSQL and the disk, and fixtures built once
# per file stay once per file.
python3 -m pytest -n auto --dist loadfile "$@"
