"""Services registry for signed-in staff: see, add, edit, close and reopen services,
upload a list with a row-by-row check, export, and the edit history.

Nothing of the registry is shown before sign-in. Staff edit their own organisation's
rows (admins every row); other organisations' rows appear as the public sees them.
Every write goes through ``coverage.store`` (validation, permissions, history); the
other pages read the registry by version, so a change shows there on the next rerun.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date

import folium
import pandas as pd
import streamlit as st
from shapely.geometry import Point
from streamlit_folium import st_folium

from coverage import config
from coverage.data import services as svc
from coverage.registry import auth, store
from coverage.views import maps
from dashboard import ui

_ = ui._

st.set_page_config(page_title=_("Services registry (staff)"), page_icon="🗂️", layout="wide")
st.title(_("Services registry (staff)"))

user = ui.signed_in_user()
if user is None:
    st.markdown(_(
        "This page is for **signed-in staff** of the partner organisations. It holds the services "
        "registry, with the exact locations of shelters, which only the organisation that runs a "
        "shelter may see. The public map and figures on the other pages need no account."
    ))
    ui.sign_in_box(st.container(border=True), key="page_signin")
    st.caption(_("No account? Your organisation's administrator adds staff with "
                 "`python -m coverage add-user` (see docs/USERS.md)."))
    st.stop()

with st.sidebar:
    ui.sign_in_box(st, key="sidebar_signin")

registry = ui.registry()
data = ui.inputs()
places = data.places
TYPES = list(config.SERVICE_TYPES)
PRECISIONS = list(config.LOCATION_PRECISIONS)
CONFIDENCE = [""] + list(config.CONFIDENCE_LEVELS)
DISTRICTS = data.districts[["district", "region"]].drop_duplicates().sort_values(["region", "district"])
DISTRICT_REGION = dict(zip(DISTRICTS["district"], DISTRICTS["region"]))
LON_RANGE = (config.TJ_BOUNDS["lon_min"], config.TJ_BOUNDS["lon_max"])
LAT_RANGE = (config.TJ_BOUNDS["lat_min"], config.TJ_BOUNDS["lat_max"])


def flash(kind: str, message: str) -> None:
    """A message shown once, after the rerun that follows a change."""
    st.session_state.setdefault("staff_flash", []).append((kind, message))


def show_flash() -> None:
    for kind, message in st.session_state.pop("staff_flash", []):
        getattr(st, kind)(message)


def problems_table(err: svc.ServicesError) -> pd.DataFrame:
    return pd.DataFrame(
        [{"row": p.row if p.row else "file", "column": p.column, "service_id": p.service_id, "problem": p.message}
         for p in err.problems],
        columns=["row", "column", "service_id", "problem"],
    ).astype({"row": str})


def show_error(err: Exception, what: str) -> None:
    """The store's own message; for validation errors, one line per problem."""
    if isinstance(err, svc.ServicesError):
        st.error(_("{what}: {n} problem(s); nothing was changed.").format(what=what, n=len(err.problems)))
        st.dataframe(problems_table(err), hide_index=True, width="stretch")
    else:
        st.error(_("{what}: {message}").format(what=what, message=err))


def changed(after: str) -> None:
    """After a write: the flash message, then a rerun so every table, map and cached
    loader (keyed by the registry version) shows the new state."""
    flash("success", after)
    st.rerun()


def can_edit(owner: str) -> bool:
    return user.is_admin or owner == user.organisation


def text(value) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


show_flash()
st.markdown(_("Signed in as **{name}** ({org}, {role}). {scope}").format(
    name=user.name, org=user.organisation, role=user.role,
    scope=_("As an admin you may edit every service.") if user.is_admin else
    _("You may edit your organisation's services; other services are shown as the public sees them.")))

view = registry.services_for(user, places, include_closed=True)
view["editable"] = view["owner_org"].map(can_edit)
editable = view[view["editable"]]

tab_list, tab_add, tab_edit, tab_close, tab_upload, tab_export, tab_history = st.tabs([
    _("Registry"), _("Add a service"), _("Edit"), _("Close / reopen"), _("Upload a list"), _("Export"),
    _("History"),
])

# --- the registry table -----------------------------------------------------------------------

with tab_list:
    only_mine = st.toggle(_("Only services I can edit"), value=False, key="staff_only_mine")
    shown = view[view["editable"]] if only_mine else view
    table = pd.DataFrame(shown.drop(columns="geometry"))
    table["status"] = table["closed_date"].map(lambda d: _("closed {d}").format(d=d) if d else _("open"))
    columns = ["editable", "service_id", "name", "type", "organisation", "town", "district", "region", "lon", "lat",
               "location_precision", "confidential", "capacity", "status", "owner_org", "address", "source_date"]
    st.caption(_("{n} services ({open} open); {e} editable by you. Other organisations' confidential services "
                 "are shown at town level, without address or note.").format(
        n=len(view), open=int((view["closed_date"] == "").sum()), e=len(editable)))
    st.dataframe(
        table[columns], hide_index=True, width="stretch", key="staff_registry_table",
        column_config={
            "editable": st.column_config.CheckboxColumn(_("Yours"), help=_("You may edit this row")),
            "type": st.column_config.TextColumn(_("Type")),
            "lon": st.column_config.NumberColumn("lon", format="%.5f"),
            "lat": st.column_config.NumberColumn("lat", format="%.5f"),
            "location_precision": _("Precision"),
            "owner_org": _("Owner"),
        },
    )

# --- add --------------------------------------------------------------------------------------

with tab_add:
    st.markdown(_("Click the map to set the point, or type longitude and latitude (WGS 84 degrees). "
                  "Shelters are **confidential**: their exact point is kept for your organisation only "
                  "and shown to the public at town level."))
    lon_now = st.session_state.get("staff_add_lon")
    lat_now = st.session_state.get("staff_add_lat")
    pick_map = maps.base_map(tiles=ui.tiles_default())
    folium.GeoJson(  # district outlines, so the map can be read without background tiles
        ui.display_districts()[["district", "region", "geometry"]], name=_("Districts"),
        style_function=lambda _f: {"color": "#7b2d8e", "weight": 1, "fill": False},
        tooltip=folium.GeoJsonTooltip(fields=["district", "region"], aliases=[_("District"), _("Region")]),
    ).add_to(pick_map)
    open_own = editable[editable["closed_date"] == ""]
    if len(open_own):
        maps.add_services(pick_map, open_own)
    if lon_now is not None and lat_now is not None:
        folium.Marker((lat_now, lon_now), tooltip=_("New service")).add_to(pick_map)
        pick_map.location = [lat_now, lon_now]
        pick_map.options["zoom"] = 9
    clicked = st_folium(pick_map, height=340, use_container_width=True, returned_objects=["last_clicked"],
                        key="staff_add_map")
    last = (clicked or {}).get("last_clicked")
    if last and last != st.session_state.get("staff_add_last_click"):
        st.session_state["staff_add_last_click"] = last
        st.session_state["staff_add_lon"] = round(float(last["lng"]), 5)
        st.session_state["staff_add_lat"] = round(float(last["lat"]), 5)
        inside = data.districts[data.districts.contains(Point(float(last["lng"]), float(last["lat"])))]
        if len(inside) and inside.iloc[0]["district"] in DISTRICT_REGION:
            st.session_state["staff_add_district"] = inside.iloc[0]["district"]
        st.rerun()

    with st.form("staff_add_form"):
        c1, c2, c3 = st.columns(3)
        new_type = c1.selectbox(_("Type"), TYPES, format_func=lambda t: ui.TYPE_LABELS.get(t, t), key="staff_add_type")
        new_name = c2.text_input(_("Name"), key="staff_add_name")
        new_id = c3.text_input(_("Service id (optional)"), key="staff_add_id",
                               help=_("Letters, digits, '-', '_', '.'; left empty, one is made up for you."))
        c1, c2, c3 = st.columns(3)
        new_organisation = c1.text_input(_("Organisation (as published)"), key="staff_add_organisation")
        new_org = c2.text_input(_("Short organisation name (for reach figures)"), key="staff_add_org")
        new_town = c3.text_input(_("Town or village"), key="staff_add_town")
        c1, c2, c3 = st.columns(3)
        new_district = c1.selectbox(_("District"), list(DISTRICTS["district"]), key="staff_add_district",
                                    format_func=lambda d: f"{d} ({DISTRICT_REGION.get(d, '')})")
        new_lon = c2.number_input(_("Longitude"), min_value=LON_RANGE[0], max_value=LON_RANGE[1], value=None,
                                  step=0.0001, format="%.5f", key="staff_add_lon")
        new_lat = c3.number_input(_("Latitude"), min_value=LAT_RANGE[0], max_value=LAT_RANGE[1], value=None,
                                  step=0.0001, format="%.5f", key="staff_add_lat")
        c1, c2, c3 = st.columns(3)
        new_precision = c1.selectbox(_("Location precision"), PRECISIONS, key="staff_add_precision")
        new_confidential = c2.checkbox(_("Confidential (shelter: never shown exactly in public)"),
                                       value=True, key="staff_add_confidential")
        new_capacity = c3.text_input(_("Capacity (as published)"), key="staff_add_capacity")
        c1, c2, c3 = st.columns(3)
        new_source = c1.text_input(_("Source"), key="staff_add_source")
        new_source_date = c2.text_input(_("Source date"), key="staff_add_source_date")
        new_confidence = c3.selectbox(_("Confidence"), CONFIDENCE, key="staff_add_confidence")
        c1, c2 = st.columns(2)
        new_opened = c1.text_input(_("Opened (year)"), key="staff_add_opened")
        new_address = c2.text_input(_("Address (staff only, never public)"), key="staff_add_address")
        new_note = st.text_area(_("Note"), key="staff_add_note", height=68)
        new_owner = user.organisation
        if user.is_admin:
            new_owner = st.text_input(_("Owner organisation key"), value=user.organisation, key="staff_add_owner")
        add_clicked = st.form_submit_button(_("Add the service"), key="staff_add_submit", type="primary")
    if add_clicked:
        if new_lon is None or new_lat is None:
            st.error(_("Set the point: click the map or type longitude and latitude."))
        else:
            service_id = new_id.strip() or f"{user.organisation.upper()}-{new_type.upper()}-" + \
                hashlib.sha1(f"{new_name}{new_lon}{new_lat}{date.today()}".encode()).hexdigest()[:6].upper()
            row = {
                "service_id": service_id, "name": new_name, "organisation": new_organisation, "org": new_org,
                "type": new_type, "town": new_town, "district": new_district,
                "region": DISTRICT_REGION.get(new_district, ""), "lon": new_lon, "lat": new_lat,
                "location_precision": new_precision, "confidential": new_confidential, "capacity": new_capacity,
                "opened_year": new_opened, "source": new_source, "source_date": new_source_date,
                "confidence": new_confidence, "note": new_note, "address": new_address, "owner_org": new_owner,
            }
            try:
                stored = registry.add(row, user)
            except (svc.ServicesError, store.StoreError) as err:
                show_error(err, _("The service was not added"))
            else:
                for key in ("staff_add_lon", "staff_add_lat", "staff_add_last_click", "staff_add_name",
                            "staff_add_id", "staff_add_address", "staff_add_note"):
                    st.session_state.pop(key, None)
                changed(_("Added {sid} ({name}).").format(sid=stored["service_id"], name=stored["name"]))

# --- edit -------------------------------------------------------------------------------------

with tab_edit:
    if editable.empty:
        st.info(_("Your organisation has no services in the registry yet."))
    else:
        ids = list(editable["service_id"])
        names = dict(zip(editable["service_id"], editable["name"]))
        sid = st.selectbox(_("Service"), ids, format_func=lambda i: f"{i} — {names[i]}", key="staff_edit_id")
        current = registry.get(sid)
        if current["closed_date"]:
            st.caption(_("Closed since {d}; reopen it on the Close / reopen tab.").format(d=current["closed_date"]))
        k = f"staff_edit_{sid}_"
        with st.form(f"staff_edit_form_{sid}"):
            c1, c2, c3 = st.columns(3)
            fields = {
                "name": c1.text_input(_("Name"), current["name"], key=k + "name"),
                "type": c2.selectbox(_("Type"), TYPES, index=TYPES.index(current["type"]),
                                     format_func=lambda t: ui.TYPE_LABELS.get(t, t), key=k + "type"),
                "organisation": c3.text_input(_("Organisation"), current["organisation"], key=k + "organisation"),
            }
            c1, c2, c3 = st.columns(3)
            fields["org"] = c1.text_input(_("Short organisation name"), current["org"], key=k + "org")
            fields["town"] = c2.text_input(_("Town or village"), current["town"], key=k + "town")
            fields["district"] = c3.text_input(_("District"), current["district"], key=k + "district")
            c1, c2, c3 = st.columns(3)
            fields["region"] = c1.text_input(_("Region"), current["region"], key=k + "region")
            fields["lon"] = c2.number_input(_("Longitude"), LON_RANGE[0], LON_RANGE[1], float(current["lon"]),
                                            step=0.0001, format="%.5f", key=k + "lon")
            fields["lat"] = c3.number_input(_("Latitude"), LAT_RANGE[0], LAT_RANGE[1], float(current["lat"]),
                                            step=0.0001, format="%.5f", key=k + "lat")
            c1, c2, c3 = st.columns(3)
            fields["location_precision"] = c1.selectbox(
                _("Location precision"), PRECISIONS, index=PRECISIONS.index(current["location_precision"]),
                key=k + "precision")
            fields["confidential"] = c2.checkbox(_("Confidential"), bool(current["confidential"]),
                                                 key=k + "confidential")
            fields["capacity"] = c3.text_input(_("Capacity"), current["capacity"], key=k + "capacity")
            c1, c2, c3 = st.columns(3)
            fields["source"] = c1.text_input(_("Source"), current["source"], key=k + "source")
            fields["source_date"] = c2.text_input(_("Source date"), current["source_date"], key=k + "source_date")
            fields["confidence"] = c3.selectbox(
                _("Confidence"), CONFIDENCE,
                index=CONFIDENCE.index(current["confidence"]) if current["confidence"] in CONFIDENCE else 0,
                key=k + "confidence")
            c1, c2 = st.columns(2)
            fields["opened_year"] = c1.text_input(_("Opened (year)"), current["opened_year"], key=k + "opened")
            fields["address"] = c2.text_input(_("Address (staff only)"), current["address"], key=k + "address")
            fields["note"] = st.text_area(_("Note"), current["note"], key=k + "note", height=68)
            if user.is_admin:
                fields["owner_org"] = st.text_input(_("Owner organisation key"), current["owner_org"],
                                                    key=k + "owner")
            save = st.form_submit_button(_("Save changes"), key="staff_edit_submit", type="primary")
        if save:
            changes = {c: v for c, v in fields.items()
                       if (float(v) != float(current[c]) if c in ("lon", "lat") else v != current[c])}
            if not changes:
                st.info(_("Nothing changed."))
            else:
                try:
                    registry.update(sid, changes, user)
                except (svc.ServicesError, store.StoreError) as err:
                    show_error(err, _("The changes were not saved"))
                else:
                    changed(_("Saved {sid}: {fields}.").format(sid=sid, fields=", ".join(sorted(changes))))

# --- close / reopen ---------------------------------------------------------------------------

with tab_close:
    st.markdown(_("A service that stops is **closed** from a date, never deleted; it can be reopened. "
                  "Closed services leave the map and the travel times."))
    open_ids = list(editable.loc[editable["closed_date"] == "", "service_id"])
    closed_ids = list(editable.loc[editable["closed_date"] != "", "service_id"])
    names = dict(zip(view["service_id"], view["name"]))
    left, right = st.columns(2)
    with left:
        st.subheader(_("Close"))
        if open_ids:
            to_close = st.selectbox(_("Open service"), open_ids, format_func=lambda i: f"{i} — {names[i]}",
                                    key="staff_close_id")
            closing = st.date_input(_("Closed on"), value=date.today(), max_value=date.today(),
                                    key="staff_close_date")
            if st.button(_("Close this service"), key="staff_close_button"):
                try:
                    registry.close(to_close, closing, user)
                except (svc.ServicesError, store.StoreError) as err:
                    show_error(err, _("Not closed"))
                else:
                    changed(_("Closed {sid} from {d}.").format(sid=to_close, d=closing.isoformat()))
        else:
            st.caption(_("No open service of yours."))
    with right:
        st.subheader(_("Reopen"))
        if closed_ids:
            closed_on = dict(zip(view["service_id"], view["closed_date"]))
            to_reopen = st.selectbox(_("Closed service"), closed_ids,
                                     format_func=lambda i: f"{i} — {names[i]} (closed {closed_on[i]})",
                                     key="staff_reopen_id")
            if st.button(_("Reopen this service"), key="staff_reopen_button"):
                try:
                    registry.reopen(to_reopen, user)
                except (svc.ServicesError, store.StoreError) as err:
                    show_error(err, _("Not reopened"))
                else:
                    changed(_("Reopened {sid}.").format(sid=to_reopen))
        else:
            st.caption(_("No closed service of yours."))

# --- upload -----------------------------------------------------------------------------------

with tab_upload:
    st.markdown(_(
        "Upload a services list (CSV, XLSX or GeoJSON; the columns of `data/services/services.csv`). "
        "Every row is checked first; **nothing changes until you press Confirm**. New ids may not reuse "
        "an id in the registry. {owner}").format(
        owner=_("Imported rows belong to your organisation ({org}).").format(org=user.organisation)
        if not user.is_admin else _("Rows without an owner belong to your organisation.")))
    uploader_key = f"staff_upload_{st.session_state.get('staff_upload_round', 0)}"
    upload = st.file_uploader(_("Services file"), type=["csv", "xlsx", "geojson", "json"], key=uploader_key)
    if upload is not None:
        raw = upload.getvalue()
        digest = hashlib.sha256(raw).hexdigest()
        swaps: set[int] = st.session_state.setdefault("staff_upload_swaps", {}).setdefault(digest, set())
        try:
            frame, first_row = svc.read_table(raw, upload.name)
            frame = frame.rename(columns=lambda c: str(c).strip()).reset_index(drop=True)
            if swaps and {"lon", "lat"} <= set(frame.columns):
                rows = [i for i in sorted(swaps) if i in frame.index]
                frame.loc[rows, ["lon", "lat"]] = frame.loc[rows, ["lat", "lon"]].to_numpy()
                st.info(_("Latitude and longitude swapped in row(s) {rows}.").format(
                    rows=", ".join(str(i + first_row) for i in rows)))
            checked = svc.validate_services(frame, upload.name, first_row=first_row, existing_ids=registry.ids())
        except svc.ServicesError as err:
            st.error(_("{file}: {n} problem(s). Fix them in the file and upload it again; nothing was imported.")
                     .format(file=upload.name, n=len(err.problems)))
            st.dataframe(problems_table(err), hide_index=True, width="stretch", key="staff_upload_report")
            swapped = sorted({p.row - first_row for p in err.problems
                              if p.column == "lat/lon" and "swapped" in p.message})
            if swapped and st.button(
                    _("Swap latitude and longitude in row(s) {rows} and check again").format(
                        rows=", ".join(str(i + first_row) for i in swapped)),
                    key="staff_upload_swap"):
                swaps.update(swapped)
                st.rerun()
        else:
            st.success(_("{file}: all {n} rows are valid. Check the preview, then confirm.").format(
                file=upload.name, n=len(checked)))
            preview = pd.DataFrame(checked.drop(columns="geometry"))
            st.dataframe(preview[["service_id", "name", "type", "organisation", "town", "district", "lon", "lat",
                                  "location_precision", "confidential"]],
                         hide_index=True, width="stretch", key="staff_upload_preview")
            preview_map = maps.base_map(tiles=ui.tiles_default())
            maps.add_services(preview_map, checked)
            minx, miny, maxx, maxy = checked.total_bounds
            preview_map.fit_bounds([(miny, minx), (maxy, maxx)], max_zoom=11)
            st_folium(preview_map, height=320, use_container_width=True, returned_objects=[],
                      key="staff_upload_map")
            if st.button(_("Confirm: import {n} services").format(n=len(checked)), key="staff_upload_confirm",
                         type="primary"):
                try:
                    count = registry.import_rows(checked, user, source_name=upload.name, first_row=first_row)
                except (svc.ServicesError, store.StoreError) as err:
                    show_error(err, _("Nothing was imported"))
                else:
                    st.session_state["staff_upload_round"] = st.session_state.get("staff_upload_round", 0) + 1
                    st.session_state.pop("staff_upload_swaps", None)
                    changed(_("Imported {n} services from {file}.").format(n=count, file=upload.name))

# --- export -----------------------------------------------------------------------------------

with tab_export:
    fmt = st.radio(_("Format"), store.EXPORT_FORMATS, horizontal=True, key="staff_export_format",
                   format_func=lambda f: {"csv": "CSV", "geojson": "GeoJSON", "gpkg": "GeoPackage"}[f])
    mime = {"csv": "text/csv", "geojson": "application/geo+json", "gpkg": "application/geopackage+sqlite3"}[fmt]

    def staff_copy(fmt: str = fmt, username: str = user.username) -> bytes:
        """Made when the button is pressed, for the user as the users file has them then."""
        current = auth.get_user(auth.users_file(), username)
        return b"" if current is None else registry.export(fmt, public=False, places=places, user=current)

    def public_copy(fmt: str = fmt) -> bytes:
        return registry.export(fmt, public=True, places=places)

    left, right = st.columns(2)
    with left:
        st.markdown(_("**Staff copy**: {scope}, with exact points, addresses and closed services. "
                      "Keep it private.").format(
            scope=_("every service") if user.is_admin else
            _("your organisation's services in full, the others as the public sees them")))
        st.download_button(_("Download the staff copy"), staff_copy,
                           file_name=f"services_{user.organisation}_staff.{fmt}", mime=mime, key="staff_export_staff",
                           on_click="ignore")
    with right:
        st.markdown(_("**Public copy**: open services only; confidential services (shelters) at town level; "
                      "no address, owner or note. Safe to share."))
        st.download_button(_("Download the public copy"), public_copy,
                           file_name=f"services_public.{fmt}", mime=mime, key="staff_export_public",
                           on_click="ignore")

# --- history ----------------------------------------------------------------------------------


def history_lines(history: pd.DataFrame) -> pd.DataFrame:
    """One line per changed field: when, who, service, action, field, old → new."""
    lines = []
    for row in history.itertuples(index=False):
        old = json.loads(row.old_values) if row.old_values else {}
        new = json.loads(row.new_values) if row.new_values else {}
        base = {"when (UTC)": row.changed_at.replace("T", " ").rstrip("Z")[:19], "who": row.changed_by,
                "service_id": row.service_id, "action": row.action}
        if row.action in ("seed", "create", "import"):
            lines.append({**base, "field": "", "old": "",
                          "new": f"{new.get('name', '')} ({new.get('type', '')}), {new.get('town', '')} "
                                 f"[{new.get('lon', '')}, {new.get('lat', '')}]"})
        else:
            for field in sorted(set(old) | set(new)):
                lines.append({**base, "field": field, "old": text(old.get(field)), "new": text(new.get(field))})
    return pd.DataFrame(lines, columns=["when (UTC)", "who", "service_id", "action", "field", "old", "new"])


with tab_history:
    history = registry.history()
    if not user.is_admin:
        history = history[history["service_id"].isin(set(editable["service_id"]))]
    st.caption(_("Every change, newest first: who, when, and each field's old → new value. "
                 "{scope}").format(scope=_("All services.") if user.is_admin else
                                   _("Your organisation's services only.")))
    choices = [""] + sorted(history["service_id"].unique())
    only = st.selectbox(_("Service"), choices, format_func=lambda i: i or _("all"), key="staff_history_id")
    if only:
        history = history[history["service_id"] == only]
    lines = history_lines(history.iloc[::-1].head(1000))
    st.dataframe(lines, hide_index=True, width="stretch", key="staff_history_table")
