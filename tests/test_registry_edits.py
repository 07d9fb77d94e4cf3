"""What staff forms' values become (coverage/registry/edits.py, permissions.py) and the
history lines staff read (coverage/views/history.py)."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
from conftest import FakeUser

from coverage.registry.edits import changed_fields, new_service_id
from coverage.registry.permissions import can_edit, editable
from coverage.views.history import LINE_COLUMNS, history_lines


def test_a_new_service_id_names_organisation_and_type_and_is_stable_for_a_day():
    one = new_service_id("ghamkhori", "shelter", "A", 68.78, 37.83, day=date(2025, 1, 1))
    assert one.startswith("GHAMKHORI-SHELTER-") and len(one.rsplit("-", 1)[1]) == 6
    assert one == new_service_id("ghamkhori", "shelter", "A", 68.78, 37.83, day=date(2025, 1, 1))
    assert one != new_service_id("ghamkhori", "shelter", "A", 68.78, 37.83, day=date(2025, 1, 2))
    assert one != new_service_id("ghamkhori", "shelter", "B", 68.78, 37.83, day=date(2025, 1, 1))


def test_changed_fields_compares_coordinates_as_numbers():
    current = {"name": "X", "lon": 69.7, "lat": 40.1, "capacity": ""}
    assert changed_fields(current, {"name": "X", "lon": 69.70, "lat": 40.1}) == {}
    assert changed_fields(current, {"name": "Y", "lon": 69.71, "capacity": ""}) == {"name": "Y", "lon": 69.71}


def test_who_may_edit():
    staff, admin = FakeUser("a", "ghamkhori"), FakeUser("b", "project", "admin")
    assert can_edit(staff, {"owner_org": "ghamkhori"}) and can_edit(staff, "ghamkhori")
    assert not can_edit(staff, {"owner_org": "gulrukhsor"})
    assert can_edit(admin, "gulrukhsor") and can_edit("cli", "gulrukhsor")
    frame = pd.DataFrame({"owner_org": ["ghamkhori", "gulrukhsor"]})
    assert editable(staff, frame).tolist() == [True, False] and editable(admin, frame).tolist() == [True, True]


def test_history_lines_one_per_changed_field():
    history = pd.DataFrame([
        {"id": 1, "service_id": "S1", "action": "create", "changed_by": "ana", "changed_at": "2025-01-02T03:04:05.678Z",
         "old_values": None, "new_values": json.dumps({"name": "N", "type": "shelter", "town": "T", "lon": 1.5,
                                                       "lat": 2.5})},
        {"id": 2, "service_id": "S1", "action": "update", "changed_by": "bo", "changed_at": "2025-01-03T00:00:00.000Z",
         "old_values": json.dumps({"capacity": "", "note": None}), "new_values": json.dumps({"capacity": "4",
                                                                                              "note": "n"})},
    ])
    lines = history_lines(history)
    assert list(lines.columns) == list(LINE_COLUMNS)
    assert lines.iloc[0].to_dict() == {"when (UTC)": "2025-01-02 03:04:05", "who": "ana", "service_id": "S1",
                                       "action": "create", "field": "", "old": "", "new": "N (shelter), T [1.5, 2.5]"}
    assert lines.iloc[1:][["field", "old", "new"]].values.tolist() == [["capacity", "", "4"], ["note", "", "n"]]
    assert history_lines(history.iloc[:0]).empty


def test_a_shelters_confidential_flag_never_counts_as_a_change():
    current = {"type": "shelter", "confidential": True, "name": "A"}
    assert changed_fields(current, {"confidential": False, "name": "A"}) == {}
    centre = {"type": "crisis_centre", "confidential": False}
    assert changed_fields(centre, {"confidential": True}) == {"confidential": True}
    # a crisis centre turned into a shelter: the type changes, confidentiality follows the rule
    assert changed_fields(centre, {"type": "shelter", "confidential": False}) == {"type": "shelter"}
