"""A service's ``places`` (beds or places; issue 13, Capacity): a whole number from 0 to
``config.MAX_SERVICE_PLACES``, empty = unknown (never zero), validated on every way in
(file, upload, form, registry) and kept by both registry back-ends, with history.

The bad-file cases (negative, text, fractional, absurdly large) are also in the
bad-input corpus (``tests/bad_inputs/places_*.csv``), checked from the command line and
the upload call by ``test_bad_inputs.py``.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import execute_behind_the_store

from coverage import config
from coverage.data import services as svc
from coverage.errors import ServicesError
from coverage.registry import edits, uploads
from coverage.views import labels
from coverage.views.history import history_lines

ROW = {"service_id": "P-1", "name": "Test shelter", "organisation": "Test NGO", "type": "shelter", "town": "Kulob",
       "district": "Kulob", "region": "Khatlon", "lon": "69.78454", "lat": "37.91459",
       "location_precision": "settlement", "confidential": "true"}


def _table(values: list[str]) -> pd.DataFrame:
    return pd.DataFrame([{**ROW, "service_id": f"P-{i}", "places": v} for i, v in enumerate(values)])


def test_places_are_whole_numbers_and_empty_is_unknown_not_zero():
    table = svc.validate_services(_table(["", "6", " 12 ", "6.0", "0", "4,0", str(config.MAX_SERVICE_PLACES)]), "t.csv")
    assert str(table["places"].dtype) == "Int64"
    assert table["places"].isna().tolist() == [True] + [False] * 6
    assert table["places"].dropna().tolist() == [6, 12, 6, 0, 4, config.MAX_SERVICE_PLACES]
    assert labels.fmt_places(table["places"][0]) == "unknown" and labels.fmt_places(table["places"][4]) == "0"
    # A file without the column: every service's places unknown.
    assert svc.validate_services(pd.DataFrame([ROW]), "t.csv")["places"].isna().all()


@pytest.mark.parametrize(("value", "message_id", "fragment"), [
    ("-3", "services.places_negative", "must not be negative ('-3')"),
    ("-2.5", "services.places_negative", "must not be negative"),
    ("three", "services.places_not_a_number", "is not a number"),
    ("=2+1", "services.places_not_a_number", "is not a number"),
    ("nan", "services.places_not_a_number", "is not a number"),
    ("2.5", "services.places_fraction", "must be a whole number"),
    (str(config.MAX_SERVICE_PLACES + 1), "services.places_too_large", "too many for one service"),
    ("1e9", "services.places_too_large", "too many for one service"),
])
def test_a_bad_places_cell_gets_one_problem_naming_row_and_field(value, message_id, fragment):
    with pytest.raises(ServicesError) as err:
        svc.validate_services(_table(["4", value]), "bad.csv")
    (problem,) = err.value.problems
    assert (problem.row, problem.column, problem.message_id) == (3, "places", message_id)
    assert fragment in problem.message and "row 3" in str(err.value) and "'places'" in str(err.value)


def test_the_upload_check_refuses_bad_places_and_keeps_unknown():
    good = _table(["", "3"]).to_csv(index=False).encode()
    checked = uploads.check_upload(good, "good.csv", existing_ids=())
    assert checked.table["places"].isna().tolist() == [True, False]
    with pytest.raises(ServicesError) as err:
        uploads.check_upload(_table(["3", "2.5"]).to_csv(index=False).encode(), "bad.csv", existing_ids=())
    assert [(p.row, p.column, p.message_id) for p in err.value.problems] == [(3, "places", "services.places_fraction")]


def test_the_shipped_list_gives_places_from_the_sources():
    shipped = svc.load_services(config.SERVICES_CSV).set_index("service_id")
    known = shipped["places"].dropna().astype(int).to_dict()
    # Gulrukhsor Khujand 6-12 → 6 (lower bound); Ghafurov "up to 4 women"; Ghamkhori 3 women with children.
    assert known == {"SGH-GUL-SH1": 6, "SGH-GUL-SH2": 4, "KHT-GHM-SH1": 3}
    assert pd.isna(shipped.loc["KHT-NK-SH1", "places"])  # no source: unknown, not zero
    assert "lower bound" in shipped.loc["SGH-GUL-SH1", "note"]


def test_the_form_comparison_treats_equal_places_as_unchanged():
    assert edits.changed_fields({"places": ""}, {"places": ""}) == {}
    assert edits.changed_fields({"places": pd.NA}, {"places": ""}) == {}
    assert edits.changed_fields({"places": "6"}, {"places": "6.0"}) == {}
    assert edits.changed_fields({"places": "6"}, {"places": ""}) == {"places": ""}
    assert edits.changed_fields({"places": ""}, {"places": "abc"}) == {"places": "abc"}


def _drop_places(registry) -> None:
    """Make the registry look like one created before ``places`` existed."""
    execute_behind_the_store(registry, "ALTER TABLE services DROP COLUMN places")


def test_the_registry_keeps_places_with_history_and_unknown_stays_unknown(registry):
    table = registry.services().set_index("service_id")
    assert str(table["places"].dtype) == "Int64"
    assert table.loc["KHT-GHM-SH1", "places"] == 3 and pd.isna(table.loc["KHT-NK-SH1", "places"])
    assert registry.get("KHT-NK-SH1")["places"] == ""

    registry.update("KHT-NK-SH1", {"places": "5"}, "bob")
    registry.update("KHT-NK-SH1", {"places": "5.0"}, "bob")  # the same number: no change, no history
    registry.update("KHT-GHM-SH1", {"places": ""}, "bob")  # back to unknown
    table = registry.services().set_index("service_id")
    assert table.loc["KHT-NK-SH1", "places"] == 5 and pd.isna(table.loc["KHT-GHM-SH1", "places"])
    history = registry.history("bob")
    updates = history[history["action"] == "update"]
    changes = [(r.service_id, json.loads(r.old_values), json.loads(r.new_values)) for r in updates.itertuples()]
    assert ("KHT-NK-SH1", {"places": ""}, {"places": "5"}) in changes
    assert ("KHT-GHM-SH1", {"places": "3"}, {"places": ""}) in changes
    assert sum(sid == "KHT-NK-SH1" for sid, _, _ in changes) == 1
    lines = history_lines(updates)
    places_lines = lines[lines["field"] == "places"][["service_id", "old", "new"]].values.tolist()
    assert ["KHT-NK-SH1", "unknown", "5"] in places_lines and ["KHT-GHM-SH1", "3", "unknown"] in places_lines

    with pytest.raises(ServicesError) as err:
        registry.update("KHT-NK-SH1", {"places": "-1"}, "bob")
    assert [(p.column, p.message_id) for p in err.value.problems] == [("places", "services.places_negative")]
    assert registry.services().set_index("service_id").loc["KHT-NK-SH1", "places"] == 5


def test_a_registry_made_before_places_opens_with_the_column_added(registry):
    _drop_places(registry)
    again = type(registry)(registry.path)
    table = again.services()
    assert "places" in table.columns and table["places"].isna().all()  # unknown, not zero
    again.update("SGH-GUL-SH1", {"places": "7"}, "bob")
    assert again.services().set_index("service_id").loc["SGH-GUL-SH1", "places"] == 7
    public = again.export("csv", public=True)
    assert b"places" in public.splitlines()[0]
