"""A throwaway PostgreSQL server for the test run, or the existing one named by OGP_TEST_POSTGRES_URL."""

from __future__ import annotations

import atexit
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

ENV_URL = "OGP_TEST_POSTGRES_URL"
SERVICE_USER = "ogptest"
START_TIMEOUT = 30.0
SUPERUSER = "postgres"
ADMIN_DATABASE = "postgres"

# PostgreSQL settings for a server whose data is thrown away: durability buys nothing here.
SERVER_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "100",
}

PG_HBA = """\
# Throwaway test server: anyone on this machine may connect, over the socket or loopback only.
local   all   all                 trust
host    all   all   127.0.0.1/32  trust
"""


class PostgresServerError(RuntimeError):
    """Raised when the test server cannot be found, started or reached."""


class PostgresServer:
    """Starts a private PostgreSQL server on 127.0.0.1, or wraps an existing one.

    PostgreSQL refuses to run as root, so when the tests run as root the server runs as
    the unprivileged system user ``ogptest``, created on first use.
    """

    def __init__(self, *, external_url: str | None = None) -> None:
        self._external = make_url(external_url) if external_url else None
        self._base: Path | None = None
        self._account: pwd.struct_passwd | None = None
        self._pg_ctl: Path | None = None
        if self._external is not None:
            self.host = self._external.host or "127.0.0.1"
            self.port = self._external.port or 5432
            self.user = self._external.username or SUPERUSER
            self._password = self._external.password
            self._admin_database = self._external.database or ADMIN_DATABASE
        else:
            self.host = "127.0.0.1"
            self.port = 0
            self.user = SUPERUSER
            self._password = None
            self._admin_database = ADMIN_DATABASE

    @classmethod
    def from_environment(cls) -> PostgresServer:
        """The server named by OGP_TEST_POSTGRES_URL if it is set, else a throwaway one."""
        return cls(external_url=os.environ.get(ENV_URL) or None)

    @property
    def is_external(self) -> bool:
        return self._external is not None

    @property
    def data_dir(self) -> Path | None:
        return None if self._base is None else self._base / "data"

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- lifecycle of the server -------------------------------------------------

    def start(self) -> PostgresServer:
        """Start the server (unless it is external) and wait until it accepts connections."""
        if self._external is None and self._base is None:
            self._start_local()
        self._wait_until_ready()
        return self

    def stop(self) -> None:
        """Stop a server this object started and remove its files; an external one is left alone."""
        base, self._base = self._base, None
        if base is None:
            return
        atexit.unregister(self.stop)
        data = base / "data"
        if self._pg_ctl is not None and (data / "postmaster.pid").exists():
            for mode in ("fast", "immediate"):
                try:
                    self._run([self._pg_ctl, "-D", data, "-m", mode, "-w", "-t", "30", "stop"], cwd=base)
                    break
                except (PostgresServerError, subprocess.TimeoutExpired):
                    continue
        shutil.rmtree(base, ignore_errors=True)

    def _start_local(self) -> None:
        initdb, pg_ctl = _find_binaries()
        self._pg_ctl = pg_ctl
        if os.geteuid() == 0:
            self._account = _service_account()
        # Under /tmp, not $TMPDIR: the unix socket path must stay short, and the service
        # user must be able to reach the folder (/tmp is world-traversable).
        parent = "/tmp" if os.path.isdir("/tmp") else None
        base = Path(tempfile.mkdtemp(prefix="ogp-pg-", dir=parent))
        self._base = base
        atexit.register(self.stop)
        if self._account is not None:
            os.chown(base, self._account.pw_uid, self._account.pw_gid)
        data = base / "data"
        self._run(
            [initdb, "-D", data, "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"],
            cwd=base,
        )
        # Written as root into files the service user owns: ownership stays the user's.
        (data / "pg_hba.conf").write_text(PG_HBA)

        log = base / "postgres.log"
        for attempt in range(3):
            self.port = _free_port()
            options = ["-h", "127.0.0.1", "-p", str(self.port), "-k", str(base)]
            for name, value in SERVER_SETTINGS.items():
                options += ["-c", f"{name}={value}"]
            try:
                self._run(
                    [pg_ctl, "-D", data, "-l", log, "-w", "-t", str(int(START_TIMEOUT)),
                     "-o", shlex.join(options), "start"],
                    cwd=base,
                    timeout=START_TIMEOUT + 30,
                )
                return
            except PostgresServerError:
                # Another process may have taken the port between choosing and binding it.
                if attempt < 2 and "already in use" in _tail(log):
                    continue
                raise

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with self.connect() as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise PostgresServerError(
                        f"PostgreSQL at {self.host}:{self.port} did not accept connections "
                        f"within {START_TIMEOUT:.0f} s: {exc}{self._log_excerpt()}"
                    ) from exc
                time.sleep(0.2)

    def _run(self, args: list[object], *, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        argv = [str(a) for a in args]
        # Stray PG* variables would point initdb and pg_ctl at some other cluster.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        account: dict[str, object] = {}
        if self._account is not None:
            account = {"user": self._account.pw_uid, "group": self._account.pw_gid, "extra_groups": []}
            env.update(HOME=str(cwd), USER=SERVICE_USER, LOGNAME=SERVICE_USER)
        try:
            result = subprocess.run(
                argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                text=True, timeout=timeout, **account,
            )
        except OSError as exc:
            raise PostgresServerError(f"could not run {argv[0]}: {exc}") from exc
        if result.returncode != 0:
            raise PostgresServerError(
                f"{shlex.join(argv)} exited with {result.returncode}:\n"
                f"{result.stdout}{result.stderr}{self._log_excerpt()}"
            )
        return result

    def _log_excerpt(self) -> str:
        if self._base is None:
            return ""
        tail = _tail(self._base / "postgres.log")
        return f"\n--- server log (last lines) ---\n{tail}" if tail else ""

    # -- using the server ------------------------------------------------------------

    def url(self, dbname: str) -> str:
        """SQLAlchemy URL of database ``dbname`` on this server."""
        query = self._external.query if self._external is not None else {}
        return URL.create(
            "postgresql+psycopg", username=self.user, password=self._password,
            host=self.host, port=self.port, database=dbname, query=query,
        ).render_as_string(hide_password=False)

    def connect(self, dbname: str | None = None) -> psycopg.Connection:
        """An autocommit psycopg connection, to the maintenance database unless ``dbname`` is given."""
        params: dict[str, object] = {}
        if self._external is not None:
            params.update({k: v for k, v in self._external.query.items() if isinstance(v, str)})
        if self._password is not None:
            params["password"] = self._password
        return psycopg.connect(
            host=self.host, port=self.port, user=self.user,
            dbname=dbname or self._admin_database, autocommit=True, connect_timeout=5, **params,
        )

    def server_version(self) -> str:
        with self.connect() as conn:
            return conn.execute("SHOW server_version").fetchone()[0]

    def create_database(self, name: str, template: str | None = None) -> None:
        with self.connect() as conn:
            statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template is not None:
                # A copy fails while anyone is connected to its template (say a pooled
                # connection left by the migration run), so those connections go first.
                _terminate_connections(conn, template)
                statement = sql.SQL("{} TEMPLATE {}").format(statement, sql.Identifier(template))
            conn.execute(statement)

    def drop_database(self, name: str) -> None:
        with self.connect() as conn:
            _terminate_connections(conn, name)
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _terminate_connections(conn: psycopg.Connection, dbname: str) -> None:
    conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        [dbname],
    )


def _find_binaries() -> tuple[Path, Path]:
    """initdb and pg_ctl from PATH, else from the newest Debian install in /usr/lib/postgresql."""
    on_path = shutil.which("initdb"), shutil.which("pg_ctl")
    if all(on_path):
        # Resolved, so that pg_ctl finds the postgres binary beside its real location.
        return Path(on_path[0]).resolve(), Path(on_path[1]).resolve()

    def version(bindir: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", bindir.parent.name))

    bindirs = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    for bindir in bindirs:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir / "initdb", bindir / "pg_ctl"
    raise PostgresServerError(
        "PostgreSQL server binaries (initdb, pg_ctl) are neither on PATH nor in "
        "/usr/lib/postgresql/*/bin; `make system-deps` installs them"
    )


def _service_account() -> pwd.struct_passwd:
    """The unprivileged user the server runs as when the tests run as root; created if missing."""
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    try:
        result = subprocess.run(
            [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER],
            capture_output=True, text=True, stdin=subprocess.DEVNULL,
        )
        detail = result.stderr.strip()
    except OSError as exc:
        detail = str(exc)
    try:
        # Also covers a concurrent run that created the user first.
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        raise PostgresServerError(
            f"PostgreSQL does not run as root, and the user {SERVICE_USER!r} to run it as "
            f"could not be created: {detail}"
        ) from None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
