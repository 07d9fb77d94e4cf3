#!/usr/bin/env bash
# Install everything, prepare the data if needed, and open the dashboard on the bundled default data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ ! -f data/boundaries/districts.gpkg ] || [ ! -f data/communities/communities.gpkg ]; then
  if [ -n "${COVERAGE_MIRROR:-}" ] || [ -d ../shared/data ]; then
    .venv/bin/python -m coverage data
  else
    .venv/bin/python -m coverage data --download
  fi
fi
exec .venv/bin/python -m dashboard.serve --server.headless true --browser.gatherUsageStats false "$@"
