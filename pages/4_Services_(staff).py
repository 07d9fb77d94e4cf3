"""Services registry for signed-in staff: see, add, edit, close and reopen services,
upload a list with a row-by-row check, export, and the edit history.

Nothing of the registry is shown before sign-in. Staff edit their own organisation's
rows (admins every row); other organisations' rows appear as the public sees them.
Every write goes through ``coverage.store`` (validation, permissions, history); the
other pages read the registry by version, so a change shows there on the next rerun.
"""

from __future__ import annotations

from datetime import date

import folium
import pandas as pd
import streamlit as st
from shapely.geometry import Point
from streamlit_folium import st_folium

from coverage.data import services as svc
from coverage.digests import bytes_sha256
from coverage.errors import CoverageError
from coverage.registry import auth, edits, store, uploads
from coverage.views import maps, messages
from coverage.views.history import history_lines
from dashboard import loaders, session, sidebar, texts
from dashboard.service_form import form_choices, service_form

_ = texts._

st.set_page_config(page_title=_("Services registry (staff)"), page_icon="🗂️", layout="wide")
st.title(_("Services registry (staff)"))

user = session.signed_in_user()
if user is None:
    st.markdown(_(
        "This page is for **signed-in staff** of the partner organisations. It holds the services "
        "registry, with the exact locations of shelters, which only the organisation that runs a "
        "shelter may see. The public map and figures on the other pages need no account."
    ))
    session.sign_in_box(st.container(border=True), key="page_signin")
    st.caption(_("No account? Your organisation's administrator adds staff with "
                 "`python -m coverage add-user` (see docs/USERS.md)."))
    st.stop()

if not sidebar.shared_sidebar_drawn():  # run on its own: the entrypoint's sidebar (with sign-in) is absent
    with st.sidebar:
        session.sign_in_box(st, key="sidebar_signin")

registry = loaders.registry()
data = loaders.inputs()
places = data.places
CHOICES = form_choices(data.districts)


def flash(kind: str, message: str) -> None:
    """A message shown once, after the rerun that follows a change."""
    st.session_state.setdefault("staff_flash", []).append((kind, message))


def show_flash() -> None:
    for kind, message in st.session_state.pop("staff_flash", []):
        getattr(st, kind)(message)


def problems_table(err: svc.ServicesError) -> pd.DataFrame:
    return pd.DataFrame(
        [{"row": p.row if p.row else _("file"), "column": p.column, "service_id": p.service_id,
          "problem": messages.problem_message(p, gettext=texts.gettext())} for p in err.problems],
        columns=["row", "column", "service_id", "problem"],
    ).astype({"row": str})


def show_error(err: Exception, what: str) -> None:
    """The store's own message; for validation errors, one line per problem."""
    if isinstance(err, svc.ServicesError):
        st.error(_("{what}: {n} problem(s); nothing was changed.").format(what=what, n=len(err.problems)))
        st.dataframe(problems_table(err), hide_index=True, width="stretch")
    else:
        shown = messages.error_text(err, gettext=texts.gettext()) if isinstance(err, CoverageError) else err
        st.error(_("{what}: {message}").format(what=what, message=shown))


def changed(after: str) -> None:
    """After a write: the flash message, then a rerun so every table, map and cached
    loader (keyed by the registry version) shows the new state."""
    flash("success", after)
    st.rerun()


def shelter_notice(row: dict) -> None:
    """Tell the user when a shelter marked not confidential is stored as confidential."""
    if svc.confidentiality_notices(pd.DataFrame([row])):
        flash("info", _("Shelters are always confidential; stored as confidential."))


def upload_check(upload) -> uploads.CheckedUpload | svc.ServicesError:
    """The check of an uploaded file, made once per file (by sha256) and per set of rows
    to swap, and kept in the session, so reruns do not read and check it again."""
    data = upload.getvalue()
    digest = bytes_sha256(data)
    kept = st.session_state.get("staff_upload_check")
    if kept is None or kept["digest"] != digest:
        kept = st.session_state["staff_upload_check"] = {"digest": digest, "swaps": (), "checked_swaps": None}
    if kept["checked_swaps"] != kept["swaps"]:
        try:
            kept["result"] = uploads.check_upload(data, upload.name, existing_ids=registry.ids(),
                                                  swap_rows=kept["swaps"])
        except svc.ServicesError as err:
            kept["result"] = err
        kept["checked_swaps"] = kept["swaps"]
    return kept["result"]


show_flash()
st.markdown(_("Signed in as **{name}** ({org}, {role}). {scope}").format(
    name=user.name, org=user.organisation, role=user.role,
    scope=_("As an admin you may edit every service.") if user.is_admin else
    _("You may edit your organisation's services; other services are shown as the public sees them.")))

view = registry.services_for(user, places, include_closed=True)
view["editable"] = view["service_id"].isin(registry.editable_ids(user))
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
    table["places"] = [texts.fmt_places(v) for v in table["places"]]  # empty → "unknown", never 0
    columns = ["editable", "service_id", "name", "type", "organisation", "town", "district", "region", "lon", "lat",
               "location_precision", "confidential", "capacity", "places", "status", "owner_org", "address", "source_date"]
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
    pick_map = maps.base_map(tiles=loaders.tiles_default(), gettext=texts.gettext())
    folium.GeoJson(  # district outlines, so the map can be read without background tiles
        texts.in_script(loaders.display_districts(), "district", "region")[["district", "region", "geometry"]],
        name=_("Districts"),
        style_function=lambda _f: {"color": "#7b2d8e", "weight": 1, "fill": False},
        tooltip=folium.GeoJsonTooltip(fields=["district", "region"], aliases=[_("District"), _("Region")]),
    ).add_to(pick_map)
    if not maps.shows_tiles(loaders.tiles_default(), loaders.settings()):  # no tiles: the project's place names
        maps.place_names_layer(texts.in_script(loaders.display_districts(), "district"),
                               texts.in_script(loaders.inputs().communities, "name"),
                               gettext=texts.gettext()).add_to(pick_map)
    open_own = editable[editable["closed_date"] == ""]
    if len(open_own):
        maps.add_services(pick_map, open_own, gettext=texts.gettext())
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
        if len(inside) and inside.iloc[0]["district"] in CHOICES.district_region:
            st.session_state["staff_add_district"] = inside.iloc[0]["district"]
        st.rerun()

    fields = service_form("staff_add_", user, CHOICES, submit_label=_("Add the service"),
                          submit_key="staff_add_submit")
    if fields is not None:
        if fields["lon"] is None or fields["lat"] is None:
            st.error(_("Set the point: click the map or type longitude and latitude."))
        else:
            row = {**fields, "owner_org": fields.get("owner_org", user.organisation),
                   "service_id": fields["service_id"].strip() or edits.new_service_id(
                       user.organisation, fields["type"], fields["name"], fields["lon"], fields["lat"])}
            try:
                stored = registry.add(row, user)
            except CoverageError as err:
                show_error(err, _("The service was not added"))
            else:
                for key in ("staff_add_lon", "staff_add_lat", "staff_add_last_click", "staff_add_name",
                            "staff_add_id", "staff_add_address", "staff_add_note"):
                    st.session_state.pop(key, None)
                shelter_notice(row)
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
        fields = service_form(f"staff_edit_{sid}_", user, CHOICES, current=current,
                              submit_label=_("Save changes"), submit_key="staff_edit_submit")
        if fields is not None:
            changes = edits.changed_fields(current, fields)
            if not changes:
                st.info(_("Nothing changed."))
            else:
                try:
                    registry.update(sid, changes, user)
                except CoverageError as err:
                    show_error(err, _("The changes were not saved"))
                else:
                    shelter_notice({**current, **fields})
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
                except CoverageError as err:
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
                except CoverageError as err:
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
        checked = upload_check(upload)
        swaps = st.session_state["staff_upload_check"]["swaps"]
        if swaps:
            st.info(_("Latitude and longitude swapped in row(s) {rows}.").format(rows=", ".join(map(str, swaps))))
        if isinstance(checked, svc.ServicesError):
            st.error(_("{file}: {n} problem(s). Fix them in the file and upload it again; nothing was imported.")
                     .format(file=upload.name, n=len(checked.problems)))
            st.dataframe(problems_table(checked), hide_index=True, width="stretch", key="staff_upload_report")
            swappable = uploads.swappable_rows(checked)
            if swappable and st.button(
                    _("Swap latitude and longitude in row(s) {rows} and check again").format(
                        rows=", ".join(map(str, swappable))),
                    key="staff_upload_swap"):
                st.session_state["staff_upload_check"]["swaps"] = tuple(sorted(set(swaps) | set(swappable)))
                st.rerun()
        else:
            table = checked.table
            st.success(_("{file}: all {n} rows are valid. Check the preview, then confirm.").format(
                file=upload.name, n=len(table)))
            for notice in checked.notices:
                st.info(_("row {row}: {message}").format(row=notice.row, message=notice.message))
            preview = pd.DataFrame(table.drop(columns="geometry"))
            st.dataframe(preview[["service_id", "name", "type", "organisation", "town", "district", "lon", "lat",
                                  "location_precision", "confidential"]],
                         hide_index=True, width="stretch", key="staff_upload_preview")
            preview_map = maps.base_map(tiles=loaders.tiles_default(), gettext=texts.gettext())
            maps.add_services(preview_map, table, gettext=texts.gettext())
            minx, miny, maxx, maxy = table.total_bounds
            preview_map.fit_bounds([(miny, minx), (maxy, maxx)], max_zoom=11)
            st_folium(preview_map, height=320, use_container_width=True, returned_objects=[],
                      key="staff_upload_map")
            if st.button(_("Confirm: import {n} services").format(n=len(table)), key="staff_upload_confirm",
                         type="primary"):
                try:
                    count = registry.import_rows(table, user, source_name=upload.name, first_row=checked.first_row)
                except CoverageError as err:
                    show_error(err, _("Nothing was imported"))
                else:
                    st.session_state["staff_upload_round"] = st.session_state.get("staff_upload_round", 0) + 1
                    st.session_state.pop("staff_upload_check", None)
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


with tab_history:
    history = registry.history(user)
    st.caption(_("Every change, newest first: who, when, and each field's old → new value. "
                 "{scope}").format(scope=_("All services.") if user.is_admin else
                                   _("Your organisation's services only.")))
    choices = [""] + sorted(history["service_id"].unique())
    every = _("all")  # bound now: a format_func may run outside the script run
    only = st.selectbox(_("Service"), choices, format_func=lambda i: i or every, key="staff_history_id")
    if only:
        history = history[history["service_id"] == only]
    lines = history_lines(history.iloc[::-1].head(1000))
    st.dataframe(lines, hide_index=True, width="stretch", key="staff_history_table")
