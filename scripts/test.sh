#!/usr/bin/env bash
# Install everything (Python packages, Chromium, PostgreSQL + PostGIS, poppler-utils), lint, and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser --postgis --pdf
export COVERAGE_MIRROR="${COVERAGE_MIRROR:-$(cd .. && pwd)/shared/data}"
.venv/bin/ruff check .
exec .venv/bin/python -m pytest -q "$@"
