#!/bin/sh
# Installe cv_excel dans l'environnement Python courant puis déroule la démonstration
# (données fictives embarquées) dans le dossier ./demo (ou celui passé en argument).
set -eu
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -e . >/dev/null
python3 -m cv_excel demo --dossier "${1:-demo}"
