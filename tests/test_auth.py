"""Sign-in without Streamlit (coverage/auth.py): users file, bcrypt, lock-out, tokens, CLI."""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import stat
import threading
import time

import pytest
import yaml

from coverage import config
from coverage.registry import auth
from coverage.registry.auth import AuthConfigError, AuthError, Lockouts, User

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch):
    monkeypatch.setattr(auth, "BCRYPT_ROUNDS", 4)


@pytest.fixture
def users(tmp_path):
    path = tmp_path / "private" / "users.yaml"
    auth.add_user(path, "Firuza", "Firuza N.", "najoti-kudakon", PASSWORD, "admin")
    auth.add_user(path, "zarina", "Zarina K.", "gulrukhsor", "another long password")
    return path


class Clock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_users_file_holds_bcrypt_hashes_only(users):
    text = users.read_text(encoding="utf-8")
    assert PASSWORD not in text and "another long password" not in text
    raw = yaml.safe_load(text)
    assert set(raw) == {"firuza", "zarina"}
    assert raw["firuza"]["password_hash"].startswith("$2b$")
    assert raw["firuza"] == {**raw["firuza"], "name": "Firuza N.", "organisation": "najoti-kudakon", "role": "admin"}
    assert oct(users.stat().st_mode & 0o777) == "0o600"
    assert oct(users.parent.stat().st_mode & 0o777) == "0o700"
    assert auth.get_user(users, "ZARINA") == User("zarina", "Zarina K.", "gulrukhsor", "staff")
    assert auth.get_user(users, "nobody") is None


def test_verify_accepts_the_right_password_only(users, caplog):
    caplog.set_level(logging.DEBUG)
    user = auth.verify(users, "  Firuza ", PASSWORD, None)
    assert user == User("firuza", "Firuza N.", "najoti-kudakon", "admin") and user.is_admin
    assert auth.verify(users, "firuza", PASSWORD + "x", None) is None
    assert auth.verify(users, "firuza", "", None) is None
    assert auth.verify(users, "nobody", PASSWORD, None) is None
    assert auth.verify(users, "firuza", "x" * 200, None) is None  # over bcrypt's 72 bytes: no crash
    assert auth.verify(users, "zarina", PASSWORD, None) is None  # someone else's password
    assert PASSWORD not in caplog.text


@pytest.mark.parametrize(("username", "organisation", "password", "role", "message_id", "fragment"), [
    ("firuza", "najoti-kudakon", "yet another password", "staff", "auth.user_exists", "already exists"),
    ("new.user", "ghamkhori", "short", "staff", "auth.password_too_short", "at least"),
    ("new.user", "ghamkhori", "ж" * 40, "staff", "auth.password_too_long", "72 bytes"),
    ("new.user.name", "ghamkhori", "New.User.Name", "staff", "auth.password_is_username", "username"),
    ("bad name!", "ghamkhori", PASSWORD, "staff", "auth.username_invalid", "username"),
    ("new.user", "Ghamkhori NGO", PASSWORD, "staff", "auth.organisation_invalid", "organisation"),
    ("new.user", "ghamkhori", PASSWORD, "root", "auth.role_invalid", "role"),
])
def test_adding_rules_name_their_message(users, username, organisation, password, role, message_id, fragment):
    with pytest.raises(AuthError, match=fragment) as err:
        auth.add_user(users, username, "N", organisation, password, role)
    assert err.value.message_id == message_id
    # neither the message nor its parameters repeat the password
    assert password not in str(err.value) and password not in repr(err.value.params)


def test_adding_rules(users):
    # --replace resets the password
    auth.add_user(users, "firuza", "Firuza N.", "najoti-kudakon", "a brand new password", "admin", replace=True)
    assert auth.verify(users, "firuza", PASSWORD, None) is None
    assert auth.verify(users, "firuza", "a brand new password", None) is not None


def test_a_broken_users_file_is_reported(tmp_path):
    path = tmp_path / "users.yaml"
    assert auth.load_users(path) == {}
    path.write_text("firuza: [unclosed", encoding="utf-8")
    with pytest.raises(AuthError, match="not a readable users file"):
        auth.load_users(path)
    path.write_text("firuza:\n  name: F\n", encoding="utf-8")
    with pytest.raises(AuthError, match="needs"):
        auth.verify(path, "firuza", PASSWORD, None)
    path.write_text("firuza:\n  name: F\n  organisation: x\n  password_hash: y\n  role: god\n", encoding="utf-8")
    with pytest.raises(AuthError, match="role 'god'") as err:
        auth.load_users(path)
    assert err.value.message_id == "auth.user_role_invalid" and err.value.params["username"] == "firuza"


@pytest.mark.parametrize(("text", "message_id"), [
    ("firuza: [unclosed $HASH", "auth.users_file_unreadable"),
    ("- $HASH\n", "auth.users_file_not_a_mapping"),
    ("firuza:\n  name: F\n  organisation: x\n  password_hash: y\n  role: $HASH\n", "auth.user_role_invalid"),
    ("$HASH:\n  name: F\n", "auth.user_incomplete"),
    ("$HASH:\n  name: F\n  organisation: x\n  password_hash: y\n  role: god\n", "auth.user_role_invalid"),
    ("firuza:\n  name: F\n  organisation: x\n  password_hash: $HASH\n  role: $PASSWORD\n", "auth.user_role_invalid"),
])
def test_a_users_file_error_never_shows_a_hash_or_a_password(tmp_path, text, message_id):
    """A hash or a password in the wrong place of the users file (a role, a username) is
    reported by its place, never repeated in the message or its parameters."""
    hashed = auth.hash_password(PASSWORD)
    path = tmp_path / "users.yaml"
    path.write_text(text.replace("$HASH", f"'{hashed}'").replace("$PASSWORD", f"'{PASSWORD}'"), encoding="utf-8")
    with pytest.raises(AuthError) as err:
        auth.load_users(path)
    assert err.value.message_id == message_id
    shown = str(err.value) + repr(err.value.params)
    assert hashed not in shown and hashed.lower() not in shown and PASSWORD not in shown


def test_lock_out_after_repeated_failures_survives_restarts(users):
    clock = Clock()
    lockouts = Lockouts.beside(users, clock=clock)
    for attempt in range(config.MAX_FAILED_LOGINS - 1):
        assert auth.verify(users, "zarina", f"wrong {attempt}", lockouts) is None
        assert not lockouts.is_locked("zarina")
    assert auth.verify(users, "zarina", "wrong again", lockouts) is None
    assert lockouts.is_locked("zarina")
    assert lockouts.locked_until("zarina") == clock.now + config.LOCKOUT_MINUTES * 60

    # A new process (new object, same file) still refuses even the right password.
    again = Lockouts.beside(users, clock=clock)
    assert auth.verify(users, "zarina", "another long password", again) is None
    # Other usernames are not affected.
    assert auth.verify(users, "firuza", PASSWORD, again) is not None

    clock.now += config.LOCKOUT_MINUTES * 60 - 1
    assert auth.verify(users, "zarina", "another long password", again) is None
    clock.now += 2
    assert auth.verify(users, "zarina", "another long password", again) is not None
    assert again.record_failure("zarina") == 1  # a success cleared the count


def test_failures_must_come_in_a_row(users):
    clock = Clock()
    lockouts = Lockouts.beside(users, clock=clock)
    for _ in range(config.MAX_FAILED_LOGINS - 1):
        auth.verify(users, "zarina", "wrong", lockouts)
    assert auth.verify(users, "zarina", "another long password", lockouts) is not None
    for _ in range(config.MAX_FAILED_LOGINS - 1):
        auth.verify(users, "zarina", "wrong", lockouts)
    assert not lockouts.is_locked("zarina")
    clock.now += config.LOCKOUT_MINUTES * 60 + 1  # old failures expire
    auth.verify(users, "zarina", "wrong", lockouts)
    assert not lockouts.is_locked("zarina")


def test_unknown_usernames_are_locked_out_the_same_way(users):
    lockouts = Lockouts.beside(users, clock=Clock())
    for _ in range(config.MAX_FAILED_LOGINS):
        assert auth.verify(users, "ghost", "whatever password", lockouts) is None
    assert lockouts.is_locked("ghost")
    raw = lockouts.path.read_bytes()
    assert b"ghost" not in raw  # usernames are stored hashed


def test_default_lockout_file_sits_beside_the_users_file(users):
    for _ in range(config.MAX_FAILED_LOGINS):
        auth.verify(users, "firuza", "wrong password", None)
    assert (users.parent / "users.yaml.lockouts.sqlite").exists()
    assert auth.verify(users, "firuza", PASSWORD, str(users.parent / "users.yaml.lockouts.sqlite")) is None
    # resetting the user (admin) clears the lock-out
    auth.add_user(users, "firuza", "Firuza N.", "najoti-kudakon", PASSWORD, "admin", replace=True)
    assert auth.verify(users, "firuza", PASSWORD, None) is not None


def test_cookie_secret_from_the_environment_wins(monkeypatch, tmp_path):
    fresh = dataclasses.replace(config.Settings(), users_file=tmp_path / "private" / "users.yaml")
    monkeypatch.setenv("COVERAGE_COOKIE_SECRET", "short")
    with pytest.raises(AuthConfigError, match="shorter"):
        auth.cookie_secret(settings=fresh)
    monkeypatch.setenv("COVERAGE_COOKIE_SECRET", "s" * 40)
    assert auth.cookie_secret(settings=fresh) == "s" * 40
    assert not fresh.cookie_secret_file.exists()  # nothing generated while the variable is set


def test_a_fresh_install_generates_its_cookie_secret_once(monkeypatch, tmp_path):
    monkeypatch.delenv("COVERAGE_COOKIE_SECRET", raising=False)
    fresh = dataclasses.replace(config.Settings(), users_file=tmp_path / "private" / "users.yaml")
    secret = auth.cookie_secret(settings=fresh)
    path = tmp_path / "private" / config.COOKIE_SECRET_FILE_NAME
    assert fresh.cookie_secret_file == path
    assert len(secret) >= config.MIN_COOKIE_SECRET_CHARS
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert auth.cookie_secret(settings=fresh) == secret  # kept: tokens survive a restart
    other = dataclasses.replace(fresh, users_file=tmp_path / "elsewhere" / "users.yaml")
    assert auth.cookie_secret(settings=other) != secret  # random, one per installation
    token = auth.issue_token("firuza", secret)
    assert auth.read_token(token, auth.cookie_secret(settings=fresh)) == "firuza"
    path.write_text("short\n")
    with pytest.raises(AuthConfigError, match="delete the file"):
        auth.cookie_secret(settings=fresh)
    monkeypatch.setenv("COVERAGE_COOKIE_SECRET", "e" * 40)  # the variable still wins over the file
    assert auth.cookie_secret(settings=fresh) == "e" * 40


def test_session_tokens_are_signed_and_expire():
    secret = "k" * 48
    user = User("firuza", "F", "najoti-kudakon", "admin")
    token = auth.issue_token(user, secret, ttl_seconds=60, now=1000)
    assert auth.read_token(token, secret, now=1030) == "firuza"
    assert auth.read_token(token, secret, now=1060) is None  # expired
    assert auth.read_token(token, "x" * 48, now=1030) is None  # other secret
    body, signature = token.split(".")
    forged_body = auth._b64(b'{"exp":99999999999,"n":"x","u":"admin"}')
    assert auth.read_token(f"{forged_body}.{signature}", secret, now=1030) is None
    assert auth.read_token(f"{body}.{signature[:-2]}AA", secret, now=1030) is None
    for junk in ("", ".", "a.b.c", "nodot", "é.é", "x" * 10_000, None, 12):
        assert auth.read_token(junk, secret) is None
    assert auth.issue_token(user, secret) != auth.issue_token(user, secret)  # nonce
    assert auth.read_token(auth.issue_token("zarina", secret), secret) == "zarina"
    with pytest.raises(AuthConfigError):
        auth.issue_token(user, "")


def test_users_file_location(monkeypatch, tmp_path):
    monkeypatch.setenv("COVERAGE_USERS", str(tmp_path / "u.yaml"))
    assert auth.users_file() == tmp_path / "u.yaml"
    monkeypatch.delenv("COVERAGE_USERS")
    assert auth.users_file() == config.USERS_FILE


def test_main_add_user_prompts_for_the_password(tmp_path, monkeypatch, capsys):
    path = tmp_path / "users.yaml"
    answers = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr(auth.getpass, "getpass", lambda prompt="": next(answers))
    code = auth.main_add_user(["--username", "gul.staff", "--organisation", "gulrukhsor",
                               "--name", "Staff One", "--users-file", str(path)])
    assert code == 0
    out = capsys.readouterr()
    assert "gul.staff" in out.out and PASSWORD not in out.out + out.err
    assert auth.verify(path, "gul.staff", PASSWORD, None) == User("gul.staff", "Staff One", "gulrukhsor", "staff")

    answers = iter([PASSWORD, PASSWORD + "!"])
    code = auth.main_add_user(["--username", "other", "--organisation", "gulrukhsor", "--users-file", str(path)])
    assert code == 2 and "differ" in capsys.readouterr().err
    assert auth.get_user(path, "other") is None

    answers = iter(["short", "short"])
    code = auth.main_add_user(["--username", "other", "--organisation", "gulrukhsor", "--users-file", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and "at least" in err and "short" not in err.replace("at least", "")


def test_main_add_user_reads_stdin_and_env_path(tmp_path, monkeypatch, capsys):
    import io

    monkeypatch.setenv("COVERAGE_USERS", str(tmp_path / "env-users.yaml"))
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert auth.main_add_user(["--username", "admin1", "--organisation", "project", "--role", "admin",
                               "--password-stdin"]) == 0
    assert auth.verify(tmp_path / "env-users.yaml", "admin1", PASSWORD, None).is_admin


# --- lock-out under parallel attempts: check-and-record is atomic ----------------------------

RIGHT = "another long password"  # zarina's


def _gated_check(entered, gate, right: str = RIGHT):
    """A stand-in for ``auth._check`` that records every wrong password it is asked to
    check (``entered(password)``) and then waits at ``gate`` before answering, so every
    parallel attempt is in flight at once; the right password is answered at once."""
    real = auth._check

    def check(password, password_hash):
        if password != right:
            entered(password)
            gate.wait(20)
        return real(password, password_hash)

    return check


class _Settled:
    """Counts attempts that are decided: their password is being checked, or verify
    returned without checking it."""

    def __init__(self, n: int):
        self.n, self.seen, self.cond = n, set(), threading.Condition()

    def mark(self, who) -> None:
        with self.cond:
            self.seen.add(who)
            self.cond.notify_all()

    def wait_all(self, timeout_s: float = 30) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.seen) >= self.n, timeout_s), len(self.seen)


def _parallel_threads(users, monkeypatch, n_wrong: int, then_right: bool):
    """``n_wrong`` threads sign in as zarina with wrong passwords at once; once each is
    decided (checking or refused), optionally the right password; returns (passwords
    checked, result of the right attempt)."""
    checked, gate, settled = [], threading.Event(), _Settled(n_wrong)
    lock = threading.Lock()

    def entered(password):
        with lock:
            checked.append(password)
        settled.mark(threading.get_ident())

    monkeypatch.setattr(auth, "_check", _gated_check(entered, gate))
    barrier = threading.Barrier(n_wrong)
    results = []

    def attempt(i: int) -> None:
        barrier.wait(20)
        results.append(auth.verify(users, "zarina", f"wrong {i}", None))
        settled.mark(threading.get_ident())

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(n_wrong)]
    for thread in threads:
        thread.start()
    try:
        settled.wait_all()
        right = auth.verify(users, "zarina", RIGHT, None) if then_right else None
    finally:
        gate.set()
        for thread in threads:
            thread.join(30)
    assert len(results) == n_wrong and not any(results)
    return checked, right


def test_parallel_wrong_passwords_check_at_most_the_limit(users, monkeypatch):
    checked, _ = _parallel_threads(users, monkeypatch, 16, then_right=False)
    assert 1 <= len(checked) <= config.MAX_FAILED_LOGINS, len(checked)
    assert Lockouts.beside(users).is_locked("zarina")
    assert auth.verify(users, "firuza", PASSWORD, None) is not None  # another username is not affected


def test_the_right_password_after_99_parallel_failures_is_refused(users, monkeypatch):
    checked, right = _parallel_threads(users, monkeypatch, 99, then_right=True)
    assert right is None
    assert len(checked) <= config.MAX_FAILED_LOGINS, len(checked)
    assert Lockouts.beside(users).is_locked("zarina")


def test_different_usernames_are_checked_in_parallel(users, monkeypatch):
    """bcrypt runs outside the lock-out transaction: a check held open for one username
    does not hold up another username's sign-in."""
    checked, gate = [], threading.Event()
    monkeypatch.setattr(auth, "_check", _gated_check(checked.append, gate, right=PASSWORD))
    holder = threading.Thread(target=auth.verify, args=(users, "zarina", "wrong and slow", None))
    holder.start()
    try:
        deadline = time.time() + 10
        while not checked and time.time() < deadline:
            time.sleep(0.01)
        assert checked == ["wrong and slow"]  # zarina's check is in progress …
        started = time.time()
        assert auth.verify(users, "firuza", PASSWORD, None) is not None  # … and firuza signs in meanwhile
        assert time.time() - started < 5
    finally:
        gate.set()
        holder.join(30)


def _process_attempt(users, password, checks, settled, gate, out) -> None:
    """One sign-in in a forked process (the parent's ``auth`` with fast bcrypt)."""
    marked = []

    def entered(_password):
        with checks.get_lock():
            checks.value += 1
        with settled.get_lock():
            settled.value += 1
        marked.append(True)

    auth._check = _gated_check(entered, gate)
    user = auth.verify(users, "zarina", password, None)
    if not marked:
        with settled.get_lock():
            settled.value += 1
    out.put((password, user is not None))


def _parallel_processes(users, n_wrong: int, then_right: bool):
    ctx = multiprocessing.get_context("fork")
    checks, settled, gate, out = ctx.Value("i", 0), ctx.Value("i", 0), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_process_attempt, args=(users, f"wrong {i}", checks, settled, gate, out))
             for i in range(n_wrong)]
    for proc in procs:
        proc.start()
    right = None
    try:
        deadline = time.time() + 60
        while settled.value < n_wrong and time.time() < deadline:
            time.sleep(0.02)
        assert settled.value == n_wrong
        if then_right:
            right = auth.verify(users, "zarina", RIGHT, None)
    finally:
        gate.set()
        results = [out.get(timeout=60) for _ in procs]
        for proc in procs:
            proc.join(30)
    assert not any(ok for _, ok in results) and all(p.exitcode == 0 for p in procs)
    return checks.value, right


def test_parallel_processes_check_at_most_the_limit(users):
    checked, _ = _parallel_processes(users, 16, then_right=False)
    assert 1 <= checked <= config.MAX_FAILED_LOGINS, checked
    assert Lockouts.beside(users).is_locked("zarina")


def test_the_right_password_after_99_failures_in_other_processes_is_refused(users):
    checked, right = _parallel_processes(users, 99, then_right=True)
    assert right is None
    assert checked <= config.MAX_FAILED_LOGINS, checked
    assert Lockouts.beside(users).is_locked("zarina")


def test_an_attempt_is_counted_before_its_password_is_checked(users):
    lockouts = Lockouts.beside(users, clock=Clock())
    for _ in range(config.MAX_FAILED_LOGINS - 1):
        assert lockouts.begin_attempt("zarina")
    assert lockouts.begin_attempt("zarina")  # the last allowed attempt locks while it is checked …
    assert lockouts.is_locked("zarina")
    assert not lockouts.begin_attempt("zarina")  # … so no other may start
    lockouts.reset("zarina")  # … and a right password clears it
    assert not lockouts.is_locked("zarina")
