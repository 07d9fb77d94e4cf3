"""Sign-in without Streamlit (coverage/auth.py): users file, bcrypt, lock-out, tokens, CLI."""

from __future__ import annotations

import logging

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


def test_adding_rules(users):
    with pytest.raises(AuthError, match="already exists"):
        auth.add_user(users, "firuza", "F", "najoti-kudakon", "yet another password")
    with pytest.raises(AuthError, match="at least"):
        auth.add_user(users, "new.user", "N", "ghamkhori", "short")
    with pytest.raises(AuthError, match="72 bytes"):
        auth.add_user(users, "new.user", "N", "ghamkhori", "ж" * 40)
    with pytest.raises(AuthError, match="username"):
        auth.add_user(users, "new.user.name", "N", "ghamkhori", "New.User.Name")
    with pytest.raises(AuthError, match="username"):
        auth.add_user(users, "bad name!", "N", "ghamkhori", PASSWORD)
    with pytest.raises(AuthError, match="organisation"):
        auth.add_user(users, "new.user", "N", "Ghamkhori NGO", PASSWORD)
    with pytest.raises(AuthError, match="role"):
        auth.add_user(users, "new.user", "N", "ghamkhori", PASSWORD, role="root")
    for bad in ("short", "ж" * 40):
        try:
            auth.add_user(users, "new.user", "N", "ghamkhori", bad)
        except AuthError as err:
            assert bad not in str(err)
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
    with pytest.raises(AuthError, match="role"):
        auth.load_users(path)


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


def test_cookie_secret_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("COVERAGE_COOKIE_SECRET", raising=False)
    with pytest.raises(AuthConfigError, match="COVERAGE_COOKIE_SECRET is not set"):
        auth.cookie_secret()
    monkeypatch.setenv("COVERAGE_COOKIE_SECRET", "short")
    with pytest.raises(AuthConfigError, match="shorter"):
        auth.cookie_secret()
    monkeypatch.setenv("COVERAGE_COOKIE_SECRET", "s" * 40)
    assert auth.cookie_secret() == "s" * 40


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
