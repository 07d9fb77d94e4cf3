"""The suite's own rules: a test whose data or service is missing skips only on a
developer's machine; in CI (``CI`` set) it fails, so a green CI run means every test ran."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import in_ci, require

TESTS = Path(__file__).resolve().parent


@pytest.mark.parametrize("value, expected", [("true", True), ("1", True), ("yes", True), ("", False),
                                             ("0", False), ("false", False)])
def test_ci_is_read_from_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv("CI", value)
    assert in_ci() is expected


def test_a_missing_precondition_fails_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI cannot run this test: no mirror"):
        require(False, "no mirror")


def test_a_missing_precondition_skips_on_a_developer_machine(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no mirror"):
        require(False, "no mirror")
    require(True, "never shown")  # a met precondition does nothing


def _skip_calls(path: Path) -> list[str]:
    """`pytest.skip(...)`, `pytest.importorskip(...)` and skip marks in a test file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "pytest":
            if node.attr in ("skip", "importorskip"):
                found.append(f"{path.name}:{node.lineno} pytest.{node.attr}")
        if isinstance(node, ast.Attribute) and node.attr in ("skipif", "skip") and \
                isinstance(node.value, ast.Attribute) and node.value.attr == "mark":
            found.append(f"{path.name}:{node.lineno} mark.{node.attr}")
    return found


def test_no_test_skips_around_require():
    """Every skip goes through conftest.require (which fails in CI); this file and
    conftest.py itself are the only places that name pytest.skip."""
    offenders = [hit for path in sorted(TESTS.glob("test_*.py")) if path.name != Path(__file__).name
                 for hit in _skip_calls(path)]
    assert offenders == [], "use conftest.require(...) instead of skipping: " + ", ".join(offenders)
