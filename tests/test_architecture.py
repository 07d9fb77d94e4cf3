"""The house rules, checked on the import statements of every module (ast, no imports run).

* ``coverage/`` never imports Streamlit or the dashboard glue;
* each stage imports only the stages to its left (docs/ARCHITECTURE.md):
  config/errors/digests/progress <- data <- engine <- analysis <- views, registry; the engine knows nothing of
  districts, thresholds, the registry or output; analysis takes services as data, never
  from the registry;
* pages and app.py reach the library through ``coverage`` and ``dashboard`` only, and never
  open the registry's back-ends themselves.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "coverage"

# stage -> the project packages it may import (besides itself)
BASE = {"config", "errors", "digests", "progress"}  # the small modules every stage may use
ALLOWED: dict[str, set[str]] = {
    "config": {"errors"},  # ConfigError
    "errors": set(),
    "digests": set(),
    "progress": set(),
    "data": BASE,
    "engine": BASE,
    "analysis": BASE | {"data", "engine", "views"},
    "views": BASE | {"data"},
    "registry": BASE | {"data", "views"},
    "cli": BASE | {"data", "engine", "analysis", "views", "registry"},
    "__main__": {"cli"},
    "__init__": set(),
}
FORBIDDEN_EVERYWHERE_IN_LIBRARY = ("streamlit", "streamlit_folium", "dashboard")


def _imports(path: Path) -> list[str]:
    """Absolute module names a file imports (``from a.b import c`` gives ``a.b`` and ``a.b.c``)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.relative_to(ROOT)}:{node.lineno}: use absolute imports"
            names.append(node.module or "")
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def _stage(path: Path) -> str:
    rel = path.relative_to(LIBRARY)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


LIBRARY_FILES = sorted(LIBRARY.rglob("*.py"))


@pytest.mark.parametrize("path", LIBRARY_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_library_module_imports_only_the_stages_to_its_left(path):
    stage = _stage(path)
    allowed = ALLOWED[stage] | {stage}
    bad = []
    for name in _imports(path):
        top = name.split(".")[0]
        if top in FORBIDDEN_EVERYWHERE_IN_LIBRARY:
            bad.append(name)
        elif top == "coverage" and name.count(".") >= 1:
            target = name.split(".")[1]
            if (LIBRARY / target).is_dir() or (LIBRARY / f"{target}.py").is_file():
                if target not in allowed:
                    bad.append(name)
    assert bad == [], f"{stage} may import only {sorted(allowed)}; found {bad}"


def test_every_library_stage_is_known():
    assert {_stage(p) for p in LIBRARY_FILES} <= set(ALLOWED)


FACES = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]


@pytest.mark.parametrize("path", FACES, ids=lambda p: str(p.relative_to(ROOT)))
def test_pages_use_the_library_and_the_dashboard_glue_only(path):
    backends = ("coverage.registry.base", "coverage.registry.gpkg", "coverage.registry.postgis", "sqlite3",
                "psycopg", "coverage.engine")
    bad = [name for name in _imports(path) if name.startswith(backends)]
    assert bad == [], f"pages lay out widgets; {bad} belong behind coverage/ or dashboard/"
