"""Sign-in without Streamlit: a users file, bcrypt, lock-out, signed session tokens.

Users file (YAML; ``config.USERS_FILE`` = ``private/users.yaml``, or env
``COVERAGE_USERS``), one entry per username::

    najoti.admin:
      name: Firuza N.
      organisation: najoti-kudakon     # organisation key; matches services' owner_org
      password_hash: $2b$12$…          # bcrypt; the password itself is never stored
      role: admin                      # staff | admin

Failed sign-ins are counted per username in a small SQLite file beside the users
file (``users.yaml.lockouts.sqlite``), so a lock-out survives restarts and holds across
browser sessions and server processes: after ``config.MAX_FAILED_LOGINS`` failures in
a row the username is refused for ``config.LOCKOUT_MINUTES``, whatever password is
given. Unknown usernames are counted and timed like known ones.

Check-and-record is atomic: an attempt is counted as a failure *before* its password is
checked, in the same SQLite ``BEGIN IMMEDIATE`` transaction that asks whether the
username is locked (one writer at a time, across threads and processes), and only a
correct password clears the count afterwards. So however many attempts arrive at
once, at most ``MAX_FAILED_LOGINS`` passwords of one username are ever checked before
it locks; bcrypt itself runs outside the transaction, so different usernames (and the
few allowed attempts of one) are checked in parallel. An attempt whose process dies
mid-check stays counted as a failure.

A signed-in browser keeps a session token (:func:`issue_token`): the username and an
expiry, signed with HMAC-SHA256 under the secret in env ``COVERAGE_COOKIE_SECRET`` or,
when that is unset, the one generated beside the users file (:func:`cookie_secret`).

Nothing here logs or prints a password, a hash or a coordinate.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import getpass
import hashlib
import hmac
import json
import os
import re
import secrets
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import yaml

from coverage import config
from coverage.digests import text_sha256
from coverage.errors import AuthConfigError, AuthError

BCRYPT_ROUNDS = 12  # ≈ 0.2 s per check; tests lower it
TOKEN_CONTEXT = b"coverage-session-v1."
MAX_TOKEN_CHARS = 4096
FIELDS: tuple[str, ...] = ("name", "organisation", "password_hash", "role")
_USERNAME = re.compile(config.USERNAME_PATTERN)
_ORG_KEY = re.compile(config.ORG_KEY_PATTERN)
# A value of the users file is repeated in a message only when it has this shape (a word,
# as a role is): a password hash (or a password) put in the wrong place never is.
_ROLE_WORD = re.compile(r"^[a-z][a-z_\-]{0,31}$")
_dummy_hashes: dict[int, bytes] = {}


@dataclass(frozen=True)
class User:
    """A signed-in user (never holds the password or its hash)."""

    username: str
    name: str
    organisation: str
    role: str

    @property
    def is_admin(self) -> bool:
        """True for an admin (may edit every organisation's services)."""
        return self.role == "admin"


# --- the users file ----------------------------------------------------------------------


def users_file(explicit: str | os.PathLike[str] | None = None, *, settings: config.Settings | None = None) -> Path:
    """The users file: the explicit argument, else ``settings.users_file`` (env
    ``COVERAGE_USERS``, else ``private/users.yaml``). ``settings``: default
    :func:`coverage.config.load_settings`."""
    if explicit:
        return Path(explicit)
    return (config.load_settings() if settings is None else settings).users_file


def normalise_username(username: str) -> str:
    """A username as stored and compared: stripped, lower case."""
    return str(username or "").strip().lower()


def load_users(path: str | os.PathLike[str]) -> dict[str, dict[str, str]]:
    """The users file as ``username → {name, organisation, password_hash, role}``; {} when absent."""
    path = Path(path)
    if not path.exists():
        return {}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise AuthError(f"{path}: not a readable users file ({type(err).__name__})",
                        message_id="auth.users_file_unreadable", path=str(path), reason=type(err).__name__) from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise AuthError(f"{path}: expected a mapping of username → user", message_id="auth.users_file_not_a_mapping",
                        path=str(path))
    users: dict[str, dict[str, str]] = {}
    for username, entry in raw.items():
        key = normalise_username(str(username))
        shown = f"user '{key}'" if _USERNAME.match(key) else "an entry whose username is not valid"
        if not isinstance(entry, dict) or any(f not in entry for f in FIELDS):
            raise AuthError(f"{path}: {shown} needs {', '.join(FIELDS)}", message_id="auth.user_incomplete",
                            path=str(path), username=key if _USERNAME.match(key) else "", fields=FIELDS)
        role = str(entry["role"])
        if role not in config.USER_ROLES:
            role_shown = f" '{role}'" if _ROLE_WORD.match(role) else ""
            raise AuthError(f"{path}: {shown} has role{role_shown} (one of {', '.join(config.USER_ROLES)})",
                            message_id="auth.user_role_invalid", field="role", path=str(path),
                            username=key if _USERNAME.match(key) else "", roles=config.USER_ROLES)
        users[key] = {f: str(entry[f]) for f in FIELDS}
    return users


def get_user(path: str | os.PathLike[str], username: str) -> User | None:
    """The user as the file holds them now (None if removed); call this for every
    request that carries a session token, so a removed user loses access at once."""
    entry = load_users(path).get(normalise_username(username))
    if entry is None:
        return None
    return User(normalise_username(username), entry["name"], entry["organisation"], entry["role"])


def check_password_rules(password: str, username: str = "") -> None:
    """Raise AuthError when a new password is too short, too long for bcrypt (72
    bytes) or equal to the username. The message never contains the password."""
    if len(password) < config.MIN_PASSWORD_LENGTH:
        raise AuthError(f"the password must have at least {config.MIN_PASSWORD_LENGTH} characters",
                        message_id="auth.password_too_short", field="password",
                        min_chars=config.MIN_PASSWORD_LENGTH)
    if len(password.encode("utf-8")) > 72:
        raise AuthError("the password must be at most 72 bytes (bcrypt's limit)", message_id="auth.password_too_long",
                        field="password", max_bytes=72)
    if username and password.strip().lower() == normalise_username(username):
        raise AuthError("the password must not be the username", message_id="auth.password_is_username",
                        field="password")


def hash_password(password: str) -> str:
    """A bcrypt hash of ``password`` (ASCII text, salt and cost included)."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=BCRYPT_ROUNDS)).decode("ascii")


def add_user(path: str | os.PathLike[str], username: str, name: str, organisation: str,
             password: str, role: str = "staff", replace: bool = False) -> User:
    """Add a user (or, with ``replace``, reset an existing user's details and password
    and clear their lock-out). The file is rewritten atomically with mode 0600."""
    path = Path(path)
    key = normalise_username(username)
    if not _USERNAME.match(key):
        raise AuthError("the username must be 2–64 characters: lower-case letters, digits, '.', '_' or '-'",
                        message_id="auth.username_invalid", field="username")
    organisation = str(organisation).strip()
    if not _ORG_KEY.match(organisation):
        raise AuthError("the organisation must be a key such as 'najoti-kudakon' "
                        "(lower-case letters, digits, '-', '_')", message_id="auth.organisation_invalid",
                        field="organisation")
    if role not in config.USER_ROLES:
        raise AuthError(f"the role must be one of {', '.join(config.USER_ROLES)}", message_id="auth.role_invalid",
                        field="role", roles=config.USER_ROLES)
    name = str(name or key).strip()
    check_password_rules(password, key)
    with _file_lock(path):
        users = load_users(path)
        if key in users and not replace:
            raise AuthError(f"user '{key}' already exists (use --replace to reset them)", message_id="auth.user_exists",
                            field="username", username=key)
        users[key] = {"name": name, "organisation": organisation,
                      "password_hash": hash_password(password), "role": role}
        _write_users(path, users)
    Lockouts.beside(path).reset(key)
    return User(key, name, organisation, role)


def _write_users(path: Path, users: dict[str, dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    header = ("# Users of the coverage dashboard: username -> name, organisation, password_hash (bcrypt), role.\n"
              "# Add or reset a user with: python -m coverage add-user --username NAME --organisation KEY\n")
    body = yaml.safe_dump(users, sort_keys=True, allow_unicode=True, default_flow_style=False)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(header + body)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Serialise read-modify-write of the users file across processes (POSIX)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: os.replace still keeps the file whole
        yield
        return
    with open(path.with_name(path.name + ".lock"), "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# --- lock-out --------------------------------------------------------------------------------


class Lockouts:
    """Failed sign-ins per username in a small SQLite file (usernames stored hashed).

    Failures count in a row; a failure older than the lock-out window no longer
    counts; a success clears the count. At ``max_failed`` the username is locked
    until ``lockout_minutes`` after that failure."""

    def __init__(self, path: str | os.PathLike[str], max_failed: int = config.MAX_FAILED_LOGINS,
                 lockout_minutes: float = config.LOCKOUT_MINUTES, clock: Callable[[], float] = time.time):
        self.path = Path(path)
        self.max_failed = int(max_failed)
        self.window_s = float(lockout_minutes) * 60
        self.clock = clock

    @classmethod
    def beside(cls, users_path: str | os.PathLike[str], **kwargs) -> Lockouts:
        """The lock-out table kept next to the users file (``<users file>.lockouts.sqlite``)."""
        users_path = Path(users_path)
        return cls(users_path.with_name(users_path.name + ".lockouts.sqlite"), **kwargs)

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        con = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            con.execute("PRAGMA busy_timeout = 10000")
            con.execute("CREATE TABLE IF NOT EXISTS failures (user_key TEXT PRIMARY KEY, "
                        "count INTEGER NOT NULL, last_failure REAL NOT NULL, locked_until REAL)")
            with contextlib.suppress(OSError):
                os.chmod(self.path, 0o600)
            yield con
        finally:
            con.close()

    @staticmethod
    def _key(username: str) -> str:
        return text_sha256(normalise_username(username))

    def locked_until(self, username: str) -> float | None:
        """Epoch seconds until which the username is locked, or None."""
        with self._db() as con:
            row = con.execute("SELECT locked_until FROM failures WHERE user_key = ?",
                              (self._key(username),)).fetchone()
        if row is None or row[0] is None or row[0] <= self.clock():
            return None
        return float(row[0])

    def is_locked(self, username: str) -> bool:
        """True while ``username`` is locked out."""
        return self.locked_until(username) is not None

    def record_failure(self, username: str) -> int:
        """Count one failed sign-in; returns the failures in a row (incl. this one)."""
        count = self._count_attempt(username, refuse_when_locked=False)
        assert count is not None
        return count

    def begin_attempt(self, username: str) -> bool:
        """Reserve one sign-in attempt: False (nothing counted) when the username is
        locked; else the attempt is counted as a failure now, in the transaction that
        checked the lock, and True is returned. Check the password only after True,
        and call :meth:`reset` when it was right."""
        return self._count_attempt(username, refuse_when_locked=True) is not None

    def _count_attempt(self, username: str, *, refuse_when_locked: bool) -> int | None:
        """One IMMEDIATE transaction: read the username's failures, refuse (None) when it
        is locked and ``refuse_when_locked``, else count one more failure (locking at
        ``max_failed``) and return the failures in a row."""
        key = self._key(username)
        with self._db() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                now = self.clock()  # read inside the lock, so counts and times agree
                row = con.execute("SELECT count, last_failure, locked_until FROM failures WHERE user_key = ?",
                                  (key,)).fetchone()
                locked_now = row is not None and row[2] is not None and row[2] > now
                if locked_now and refuse_when_locked:
                    con.execute("COMMIT")
                    return None
                count = 0
                if row is not None:
                    count, last, locked = row
                    expired_lock = locked is not None and locked <= now
                    stale = now - last > self.window_s
                    if expired_lock or stale:
                        count = 0
                count += 1
                locked_until = now + self.window_s if count >= self.max_failed else None
                if locked_now:
                    locked_until = row[2]  # already locked: do not extend
                con.execute("INSERT OR REPLACE INTO failures VALUES (?, ?, ?, ?)", (key, count, now, locked_until))
                con.execute("DELETE FROM failures WHERE last_failure < ? AND (locked_until IS NULL OR locked_until < ?)",
                            (now - 2 * self.window_s, now))
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return count

    def reset(self, username: str) -> None:
        """Forget ``username``'s failed attempts (after a right password)."""
        with self._db() as con:
            con.execute("DELETE FROM failures WHERE user_key = ?", (self._key(username),))


# --- verifying -------------------------------------------------------------------------------


def _dummy_hash() -> bytes:
    if BCRYPT_ROUNDS not in _dummy_hashes:
        _dummy_hashes[BCRYPT_ROUNDS] = bcrypt.hashpw(b"no such user", bcrypt.gensalt(rounds=BCRYPT_ROUNDS))
    return _dummy_hashes[BCRYPT_ROUNDS]


def _check(password: str, password_hash: bytes) -> bool:
    candidate = str(password or "").encode("utf-8")
    if len(candidate) > 72:
        candidate = candidate[:72]  # still spend the time; a >72-byte password never matches below
        too_long = True
    else:
        too_long = False
    try:
        ok = bcrypt.checkpw(candidate, password_hash)  # constant-time inside bcrypt
    except ValueError:
        return False
    return ok and not too_long


def verify(path: str | os.PathLike[str], username: str, password: str,
           lockouts: Lockouts | str | os.PathLike[str] | None = None) -> User | None:
    """The user when the password matches and the username is not locked out; else
    None (and the failure is counted). ``lockouts`` is a :class:`Lockouts`, a path to
    its file, or None for the file beside the users file. A locked-out username is
    refused without looking at the password; ask ``lockouts.locked_until(username)``
    to tell the user how long to wait.

    The attempt is counted before the password is checked (:meth:`Lockouts.begin_attempt`,
    atomic with the lock test), so parallel attempts cannot check more than
    ``max_failed`` passwords of one username; a right password then clears the count."""
    if not isinstance(lockouts, Lockouts):
        lockouts = Lockouts(lockouts) if lockouts is not None else Lockouts.beside(path)
    key = normalise_username(username)
    entry = load_users(path).get(key) if _USERNAME.match(key) else None  # a broken file counts no attempt
    if not lockouts.begin_attempt(key):
        return None
    stored = entry["password_hash"].encode("ascii", "replace") if entry else _dummy_hash()
    ok = _check(password, stored) and entry is not None
    if not ok:
        return None  # already counted by begin_attempt
    lockouts.reset(key)
    return User(key, entry["name"], entry["organisation"], entry["role"])


# --- session tokens --------------------------------------------------------------------------


def cookie_secret(*, settings: config.Settings | None = None) -> str:
    """The session-signing secret: env ``COVERAGE_COOKIE_SECRET`` when set (it wins),
    else the secret in ``settings.cookie_secret_file`` (beside the users file), generated
    there on first use (48 random bytes, file mode 0600, folder 0700), so sign-in works
    on a fresh install. Raises :class:`AuthConfigError` saying what to do when the
    variable is too short, or the file is too short or cannot be read or written.
    ``settings``: default :func:`coverage.config.load_settings`."""
    secret = config.cookie_secret()
    if secret:
        if len(secret) < config.MIN_COOKIE_SECRET_CHARS:
            raise AuthConfigError(
                f"COVERAGE_COOKIE_SECRET is shorter than {config.MIN_COOKIE_SECRET_CHARS} characters; sign-in "
                "needs a long secret to sign session cookies. Generate one with\n"
                "  python -c \"import secrets; print(secrets.token_urlsafe(48))\"\n"
                "and set it in the server's environment (not in the repository), or unset it to let the "
                "dashboard keep a generated one in the private folder.",
                message_id="auth.short_cookie_secret", field=config.COOKIE_SECRET_VARIABLE,
                min_chars=config.MIN_COOKIE_SECRET_CHARS,
            )
        return secret
    settings = config.load_settings() if settings is None else settings
    return _stored_cookie_secret(settings.cookie_secret_file)


def _stored_cookie_secret(path: Path) -> str:
    """The secret kept in ``path``, written there first (exclusively, mode 0600) if absent."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass  # made earlier, or by another process just now: read it
    except OSError as err:
        raise AuthConfigError(
            f"{path}: cannot write the generated session secret ({err.strerror}); make the private folder "
            "writable or set COVERAGE_COOKIE_SECRET.", message_id="auth.cookie_secret_unwritable",
            field=config.COOKIE_SECRET_VARIABLE, path=str(path)) from None
    else:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_urlsafe(48) + "\n")
    try:
        # another process may be between creating and writing the file: wait a moment for it
        for _attempt in range(50):
            secret = path.read_text(encoding="ascii").strip()
            if secret:
                break
            time.sleep(0.02)
    except (OSError, UnicodeDecodeError) as err:
        raise AuthConfigError(
            f"{path}: cannot read the session secret ({err}); fix the file's permissions, delete it to "
            "generate a new one, or set COVERAGE_COOKIE_SECRET.", message_id="auth.cookie_secret_unreadable",
            field=config.COOKIE_SECRET_VARIABLE, path=str(path)) from None
    if len(secret) < config.MIN_COOKIE_SECRET_CHARS:
        raise AuthConfigError(
            f"{path}: the session secret there is shorter than {config.MIN_COOKIE_SECRET_CHARS} characters; "
            "delete the file to generate a new one, or set COVERAGE_COOKIE_SECRET.",
            message_id="auth.short_stored_cookie_secret", field="cookie_secret_file", path=str(path),
            min_chars=config.MIN_COOKIE_SECRET_CHARS)
    return secret


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(body: str, secret: str) -> str:
    if not secret:
        raise AuthConfigError("an empty secret cannot sign session tokens", message_id="auth.empty_secret")
    return _b64(hmac.new(secret.encode("utf-8"), TOKEN_CONTEXT + body.encode("ascii"), hashlib.sha256).digest())


def issue_token(user: User | str, secret: str, ttl_seconds: float | None = None,
                now: float | None = None) -> str:
    """A session token ``<payload>.<signature>`` naming the user, valid ``ttl_seconds``
    (default ``config.SESSION_HOURS``)."""
    username = user.username if isinstance(user, User) else normalise_username(user)
    ttl = config.SESSION_HOURS * 3600 if ttl_seconds is None else ttl_seconds
    issued = time.time() if now is None else now
    payload = {"u": username, "exp": int(issued + ttl), "n": _b64(os.urandom(9))}
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    return f"{body}.{_signature(body, secret)}"


def read_token(token: str, secret: str, now: float | None = None) -> str | None:
    """The username in a token signed with ``secret`` that has not expired, else None."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        return None
    body, signature = token.split(".")
    try:
        expected = _signature(body, secret)
    except (UnicodeEncodeError, AuthConfigError):
        return None
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii", "replace")):
        return None
    try:
        payload = json.loads(_unb64(body))
        username, expires = str(payload["u"]), float(payload["exp"])
    except (ValueError, KeyError, TypeError):
        return None
    if (time.time() if now is None else now) >= expires:
        return None
    return username


# --- command line ----------------------------------------------------------------------------


def main_add_user(argv: Sequence[str] | None = None) -> int:
    """``python -m coverage add-user --username U --organisation KEY [--name N]
    [--role staff|admin] [--users-file PATH] [--replace] [--password-stdin]``.

    Prompts twice for the password (getpass; nothing echoed or logged)."""
    parser = argparse.ArgumentParser(
        prog="python -m coverage add-user",
        description="Add a dashboard user (or reset one with --replace) in the users file.",
    )
    parser.add_argument("--username", required=True, help="sign-in name: lower-case letters, digits, . _ -")
    parser.add_argument("--organisation", required=True,
                        help="organisation key, e.g. najoti-kudakon, gulrukhsor, ghamkhori")
    parser.add_argument("--name", default="", help="the person's name as shown in the dashboard")
    parser.add_argument("--role", choices=config.USER_ROLES, default="staff")
    parser.add_argument("--users-file", default=None,
                        help=f"default: env COVERAGE_USERS, else {config.USERS_FILE}")
    parser.add_argument("--replace", action="store_true", help="reset an existing user (new password)")
    parser.add_argument("--password-stdin", action="store_true",
                        help="read the password from the first line of standard input (for scripts)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    path = users_file(args.users_file)
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"Password for {args.username}: ")
        again = getpass.getpass("Repeat the password: ")
        if not hmac.compare_digest(password.encode("utf-8"), again.encode("utf-8")):
            print("The two passwords differ; nothing was changed.", file=sys.stderr)
            return 2
    try:
        user = add_user(path, args.username, args.name, args.organisation, password, args.role,
                        replace=args.replace)
    except AuthError as err:
        print(f"Not added: {err}", file=sys.stderr)
        return 2
    verb = "Updated" if args.replace else "Added"
    print(f"{verb} user '{user.username}' ({user.role}, {user.organisation}) in {path}")
    return 0
