"""One error family (issue 9): every error the package raises on purpose for a user to
read is a :class:`coverage.errors.CoverageError` with a stable ``message_id``.

Read from the source with ``ast`` (no import, nothing run), so a new ``raise
ValueError(...)`` on a path from user input fails here before it reaches a user as a
traceback or an untranslatable message.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from coverage import errors

PACKAGE = Path(errors.__file__).resolve().parent
GENERIC = {"Exception", "BaseException", "ValueError", "RuntimeError", "TypeError", "NotImplementedError"}

# Generic raises that stay, each with why. (file, function, exception) → reason.
ALLOWED_GENERIC: dict[tuple[str, str, str], str] = {
    # Programming-error asserts: arguments built by the engine itself, never by a user.
    ("engine/travel.py", "multi_source_minutes", "ValueError"):
        "internal arrays of node indices and offsets disagree: a bug in the caller, not input",
}
# Functions whose family raises may still lack a message_id (the class default id is
# used), each with why: (file, function) → reason. Every entry must still lack one
# (test_the_default_id_list_has_no_stale_entries), so it goes once the id is given.
DEFAULT_ID_FUNCTIONS: dict[tuple[str, str], str] = {}

FAMILY = {name for name, obj in inspect.getmembers(errors, inspect.isclass)
          if issubclass(obj, errors.CoverageError)} | {"StoreError"}
# Built from a list of Problems (each with its own id) rather than given one.
FAMILY_WITHOUT_ID_ARGUMENT = {"ServicesError"}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _functions(tree: ast.AST):
    """(enclosing function name, node) for every node."""
    def walk(node: ast.AST, function: str):
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
            yield name, child
            yield from walk(child, name)
    yield from walk(tree, "<module>")


def _generic_raises() -> list[tuple[str, str, str, int]]:
    found = []
    for path in _modules():
        rel = path.relative_to(PACKAGE).as_posix()
        for function, node in _functions(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and node.exc is not None and _name(node.exc) in GENERIC:
                found.append((rel, function, _name(node.exc), node.lineno))
    return found


def test_no_generic_raise_outside_the_documented_list():
    unexpected = [f"{rel}:{line} {function}() raises {exc}" for rel, function, exc, line in _generic_raises()
                  if (rel, function, exc) not in ALLOWED_GENERIC]
    assert not unexpected, "raise a CoverageError subclass with a message_id instead:\n" + "\n".join(unexpected)


def test_the_allowed_list_has_no_stale_entries():
    present = {(rel, function, exc) for rel, function, exc, _ in _generic_raises()}
    assert set(ALLOWED_GENERIC) <= present, set(ALLOWED_GENERIC) - present


def _family_calls() -> list[tuple[str, str, int, str, ast.Call]]:
    """(file, enclosing function, line, name, call) of every family error or Problem built."""
    calls = []
    for path in _modules():
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == "errors.py":
            continue
        for function, node in _functions(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _name(node.func) in FAMILY | {"Problem"}:
                calls.append((rel, function, node.lineno, _name(node.func), node))
    return calls


def _calls_without_id() -> list[tuple[str, str, int, str]]:
    """(file, enclosing function, line, name) of every family call that names no message_id."""
    missing = []
    for rel, function, line, name, call in _family_calls():
        keywords = {k.arg for k in call.keywords}
        if name in FAMILY_WITHOUT_ID_ARGUMENT or "message_id" in keywords or None in keywords:  # None: **params
            continue
        missing.append((rel, function, line, name))
    return missing


def test_every_family_error_and_problem_names_its_message_id():
    missing = [f"{rel}:{line} {name}(...) in {function}()" for rel, function, line, name in _calls_without_id()
               if (rel, function) not in DEFAULT_ID_FUNCTIONS]
    assert not missing, "give each a stable message_id=...:\n" + "\n".join(missing)


def test_the_default_id_list_has_no_stale_entries():
    still_missing = {(rel, function) for rel, function, _, _ in _calls_without_id()}
    assert set(DEFAULT_ID_FUNCTIONS) <= still_missing, set(DEFAULT_ID_FUNCTIONS) - still_missing


def test_message_ids_are_stable_dotted_keys():
    # Dotted lower-case words, two or more (``registry.permission_denied.add``).
    pattern = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"
    for rel, _function, line, _kind, call in _family_calls():
        for keyword in call.keywords:
            if keyword.arg == "message_id" and isinstance(keyword.value, ast.Constant):
                assert re.match(pattern, keyword.value.value), f"{rel}:{line} {keyword.value.value!r}"
    for cls in (getattr(errors, n) for n in FAMILY if hasattr(errors, n)):
        assert re.match(pattern, cls.default_id) or cls.default_id == "error", cls


def test_the_family_is_caught_once_by_the_command_line():
    from coverage import cli

    assert errors.CoverageError in cli.INPUT_ERRORS


@pytest.mark.parametrize("cls", [errors.InputError, errors.TableError, errors.RegistryError, errors.OutputError])
def test_an_error_carries_id_row_field_and_params(cls):
    err = cls(3, "bad", message_id="table.x", size=5) if cls is errors.TableError else \
        cls("bad", message_id="x.y", row=3, field="lat", size=5)
    assert (err.message_id, err.row, err.params["size"], str(err)) == ("x.y" if cls is not errors.TableError
                                                                      else "table.x", 3, 5, "bad")


def test_a_services_error_takes_the_id_of_its_one_kind_of_problem():
    one = errors.ServicesError("f.csv", [errors.Problem(0, "", "the file is empty", message_id="table.empty")])
    mixed = errors.ServicesError("f.csv", [errors.Problem(2, "lat", "is empty", message_id="services.empty"),
                                           errors.Problem(3, "type", "unknown", message_id="services.unknown_type")])
    assert one.message_id == "table.empty"
    assert mixed.message_id == "services.invalid"
    assert hash(errors.Problem(1, "a", "b", params={"v": 1}))  # problems stay hashable with params
