"""Sign-in state of one browser session and what the signed-in user may see on a map.

Sign-in keeps a signed session token (``auth.issue_token``) in ``st.session_state``; the
user is looked up in the users file on every run, so a removed user loses access at
once. Nothing here shows, logs or stores a password. Exact points reach only the map
markers of the organisation that owns them (:func:`map_services`).
"""

from __future__ import annotations

import math
import time

import geopandas as gpd
import streamlit as st

from coverage.registry import auth
from coverage.views import privacy
from dashboard.loaders import inputs, public_services, registry, settings
from dashboard.texts import _


def staff_services(user: auth.User) -> gpd.GeoDataFrame:
    """Open services as a signed-in user may see them on a map: their own organisation's
    (admins: every) row at its exact point, all others as the public sees them. Public
    columns only (no address, note or owner). Never cached across sessions."""
    return privacy.public_columns(registry().services_for(user, inputs().places, include_closed=False))


def map_services() -> gpd.GeoDataFrame:
    """The services for the maps: the public view for everyone not signed in; for a
    signed-in staff user, their own organisation's services at their exact points
    and every other service as the public sees it (see :func:`staff_services`)."""
    user = signed_in_user()
    if user is not None:
        return staff_services(user)
    return public_services()


SESSION_TOKEN_KEY = "coverage_session_token"


def sign_in_problem() -> str | None:
    """Why sign-in is disabled on this server, or None when it works."""
    try:
        auth.cookie_secret(settings=settings())
    except auth.AuthConfigError as err:
        # Anyone can read this notice: name the cause, never the server's private folder.
        why = {
            "auth.short_cookie_secret": _("COVERAGE_COOKIE_SECRET is too short"),
        }.get(err.message_id, _("the session secret in the private folder cannot be read or created"))
        return _("Staff sign-in is disabled on this server: {why} (see docs/USERS.md). "
                 "The public map and figures work as usual.").format(why=why)
    return None


def signed_in_user() -> auth.User | None:
    """The signed-in user of this browser session, re-read from the users file on
    every run (a removed user, an expired or forged token → None)."""
    token = st.session_state.get(SESSION_TOKEN_KEY)
    if not token:
        return None
    try:
        username = auth.read_token(token, auth.cookie_secret(settings=settings()))
        user = auth.get_user(auth.users_file(settings=settings()), username) if username else None
    except auth.AuthError:
        user = None
    if user is None:
        st.session_state.pop(SESSION_TOKEN_KEY, None)
    return user


def attempt_sign_in(username: str, password: str) -> tuple[auth.User | None, str]:
    """Check a username and password; on success keep a signed token in the session.
    Returns (user, "") or (None, a message for the person signing in)."""
    problem = sign_in_problem()
    if problem:
        return None, problem
    if not str(username or "").strip() or not password:
        return None, _("Enter your username and password.")
    path = auth.users_file(settings=settings())
    lockouts = auth.Lockouts.beside(path)
    try:
        user = auth.verify(path, username, password, lockouts=lockouts)
    except auth.AuthError:
        return None, _("Sign-in is not possible: the users file cannot be read. Tell your administrator.")
    if user is not None:
        st.session_state[SESSION_TOKEN_KEY] = auth.issue_token(user, auth.cookie_secret(settings=settings()))
        return user, ""
    until = lockouts.locked_until(username)
    if until is not None:
        minutes = max(1, math.ceil((until - time.time()) / 60))
        return None, _("Too many failed attempts, try again in {n} minutes.").format(n=minutes)
    return None, _("Wrong username or password.")


def sign_out() -> None:
    """Forget the session token and everything the staff page kept for this session."""
    for key in list(st.session_state.keys()):
        if key == SESSION_TOKEN_KEY or str(key).startswith("staff_"):
            del st.session_state[key]


def sign_in_box(where=None, key: str = "signin") -> auth.User | None:
    """The sign-in form (username, password, button), or who is signed in and a
    sign-out button. ``where``: a container (default the sidebar); ``key`` keeps
    widget keys apart when a page shows the box twice."""
    where = st.sidebar if where is None else where
    problem = sign_in_problem()
    if problem:
        where.info(problem)
        return None
    user = signed_in_user()
    if user is not None:
        where.markdown(_("Signed in as **{name}** ({org}, {role}).").format(
            name=user.name, org=user.organisation, role=user.role))
        if where.button(_("Sign out"), key=f"{key}_signout"):
            sign_out()
            st.rerun()
        return user
    form = where.form(f"{key}_form", clear_on_submit=True)
    form.markdown("**" + _("Staff sign-in") + "**")
    username = form.text_input(_("Username"), key=f"{key}_username", autocomplete="username")
    password = form.text_input(_("Password"), type="password", key=f"{key}_password",
                               autocomplete="current-password")
    submitted = form.form_submit_button(_("Sign in"), key=f"{key}_submit")
    if submitted:
        user, message = attempt_sign_in(username, password)
        if user is not None:
            st.rerun()
        where.error(message)
    return None
