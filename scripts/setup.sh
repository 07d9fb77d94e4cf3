#!/usr/bin/env bash
# Install everything the project needs into ./.venv (idempotent).
#   bash scripts/setup.sh            Python packages
#   bash scripts/setup.sh --browser  also Debian's Chromium, for the end-to-end browser tests
#   bash scripts/setup.sh --postgis  also Debian's PostgreSQL 15 + PostGIS 3, for the PostGIS registry tests
#   bash scripts/setup.sh --pdf      also Debian's poppler-utils (pdftotext, pdftoppm), for the PDF brief tests
# The flags may be combined, in any order.
set -euo pipefail
cd "$(dirname "$0")/.."
browser=0; postgis=0; pdf=0
for arg in "$@"; do
  case "$arg" in
    --browser) browser=1 ;;
    --postgis) postgis=1 ;;
    --pdf) pdf=1 ;;
    *) echo "usage: bash scripts/setup.sh [--browser] [--postgis] [--pdf]" >&2; exit 2 ;;
  esac
done
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.requirements.sha256
want=$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
  # the project itself, editable: `import coverage` and `import dashboard` work from anywhere
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
  echo "$want" > "$stamp"
fi
apt_packages=()
if [ "$browser" = 1 ] && [ ! -x /usr/bin/chromium ]; then
  apt_packages+=(chromium)
fi
if [ "$postgis" = 1 ] && { [ ! -x /usr/lib/postgresql/15/bin/initdb ] \
    || [ ! -f /usr/share/postgresql/15/extension/postgis.control ]; }; then
  apt_packages+=(postgresql-15-postgis-3)  # brings postgresql-15
fi
if [ "$pdf" = 1 ] && { [ ! -x /usr/bin/pdftotext ] || [ ! -x /usr/bin/pdftoppm ]; }; then
  apt_packages+=(poppler-utils)
fi
if [ "${#apt_packages[@]}" -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi
