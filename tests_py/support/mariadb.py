"""A throwaway MariaDB server for tests, demos and benchmarks.

Why a private server: the system MariaDB on :3306 belongs to someone else, and tests that create
and drop databases, kill connections or read binlog positions must never touch it. Each
``ThrowawayMariaDB`` lives in its own temporary directory (data, socket, logs, binlogs), listens
on 127.0.0.1 and a free port, and is deleted when stopped.

Credentials: root has an empty password and can only reach the server over the unix socket, which
sits in a 0700 directory. Tests connect as ``forneria`` with a random password, over TCP or the
socket, so the password path of the engine is exercised. The password is only handed to our own
test processes (attribute, or the environment of the ``run`` subcommand's child).

Command line::

    python tests_py/support/mariadb.py run [--no-binlog] [--durable] -- <command...>

starts a server, exports ``FORNERIA_TEST_MYSQL_{SOCKET,PORT,HOST,USER,PASSWORD}`` to the command,
runs it, stops the server and exits with the command's exit code. ``ThrowawayMariaDB.from_env()``
attaches to that server from inside the command (for example from pytest's conftest).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import ctypes
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["ENV_PREFIX", "MariaDBUnavailable", "ThrowawayMariaDB", "main"]

ENV_PREFIX = "FORNERIA_TEST_MYSQL_"
TEST_USER = "forneria"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
# AF_UNIX paths are limited to 108 bytes on Linux; keep a margin for the socket's file name.
MAX_SOCKET_DIR = 90


class MariaDBUnavailable(RuntimeError):
    """The server binaries or the Python driver are missing, or the server would not start."""


def _find_binary(names: list[str], extra_dirs: list[str]) -> str | None:
    """Look on PATH and in the sbin/libexec dirs Debian and Red Hat use (often off PATH)."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
        for d in extra_dirs:
            candidate = os.path.join(d, name)
            if os.access(candidate, os.X_OK):
                return candidate
    return None


def _binaries() -> tuple[str | None, str | None, str | None]:
    dirs = ["/usr/sbin", "/usr/libexec", "/usr/local/sbin", "/usr/local/bin", "/usr/bin"]
    install_db = _find_binary(["mariadb-install-db", "mysql_install_db"], dirs)
    server = _find_binary(["mariadbd", "mysqld"], dirs)
    client = _find_binary(["mariadb", "mysql"], dirs)
    return install_db, server, client


def _try_apt_install() -> str:
    """Install mariadb-server when we are root on a Debian-like host; return what happened."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return "not root or no apt-get, so mariadb-server was not installed automatically"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", "mariadb-server"]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        # A fresh container often has no package lists yet.
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, check=False)
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-5:])
        return f"apt-get install mariadb-server failed (exit {result.returncode}): {tail}"
    return "installed mariadb-server with apt-get"


def _require_binaries() -> tuple[str, str, str]:
    install_db, server, client = _binaries()
    if install_db and server and client:
        return install_db, server, client
    note = _try_apt_install()
    install_db, server, client = _binaries()
    if install_db and server and client:
        return install_db, server, client
    missing = [
        name
        for name, path in (
            ("mariadb-install-db", install_db),
            ("mariadbd", server),
            ("mariadb", client),
        )
        if not path
    ]
    raise MariaDBUnavailable(
        f"mariadb server binaries not found ({', '.join(missing)}); {note}; "
        "install mariadb-server (debian: apt-get install -y mariadb-server)"
    )


def _mysqldb():
    try:
        import MySQLdb
    except ImportError as exc:
        raise MariaDBUnavailable(
            "the mysqlclient driver is not installed in this python; "
            "install it with: pip install mysqlclient (needs libmariadb-dev and pkg-config)"
        ) from exc
    return MySQLdb


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGTERM the server if the process that started it dies.

    This is what keeps a SIGKILLed pytest from leaving a server behind, where atexit cannot run.
    Linux delivers the signal when the *thread* that started the server exits, so start servers
    from a thread that lives as long as they should (the main thread, in practice). Linux only;
    elsewhere it is a no-op and atexit is the only guard.
    """
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
    except OSError:
        pass


def _tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no error log)"
    return "\n".join(text.strip().splitlines()[-lines:]) or "(error log is empty)"


def _sweep_stale(parent: str) -> None:
    """Delete directories of earlier servers whose process is gone (a SIGKILLed run).

    The server itself dies with its parent (see ``_die_with_parent``) but its directory stays.
    A directory is stale when it is older than five minutes and its pid file names no live
    process; a younger one may belong to a server that is still installing.
    """
    now = time.time()
    for d in Path(parent).glob("forneria-mariadb-*"):
        try:
            if not d.is_dir() or now - d.stat().st_mtime < 300:
                continue
            pid_file = d / "mysqld.pid"
            if pid_file.exists():
                pid = int(pid_file.read_text().strip() or 0)
                if pid > 0:
                    try:
                        os.kill(pid, 0)
                        continue
                    except ProcessLookupError:
                        pass
                    except PermissionError:
                        continue
        except (OSError, ValueError):
            continue
        shutil.rmtree(d, ignore_errors=True)


def _quote(value: str) -> str:
    """Quote a string literal for the few statements we build (names and our own passwords)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


class ThrowawayMariaDB:
    """A private MariaDB server in a temporary directory.

    ``fast=True`` (tests) relaxes durability: ``innodb_flush_log_at_trx_commit=2`` and
    ``sync_binlog=0``; benchmarks pass ``fast=False`` to measure what production would see.
    ``binlog=True`` turns on the binary log (backups record a binlog position).
    ``local_infile=True`` allows ``LOAD DATA LOCAL INFILE`` on the server side.

    Use as a context manager, or call ``start()`` and ``stop()``. ``stop()`` is also registered
    with atexit, so an aborted run does not leave a server or a directory behind.
    """

    host = "127.0.0.1"

    def __init__(
        self,
        *,
        fast: bool = True,
        binlog: bool = False,
        local_infile: bool = True,
        buffer_pool: str = "256M",
        extra_args: list[str] | None = None,
    ) -> None:
        self.fast = fast
        self.binlog = binlog
        self.local_infile = local_infile
        self.buffer_pool = buffer_pool
        self.extra_args = list(extra_args or [])
        self.user = TEST_USER
        self.password = ""
        self.port = 0
        self.socket = ""
        self.tmpdir: Path | None = None
        self.owned = True
        self._proc: subprocess.Popen | None = None
        self._client = "mariadb"

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ThrowawayMariaDB | None:
        """Attach to a server started by ``mariadb.py run``; None when the variables are unset.

        An attached server is not ours: ``stop()`` leaves it running and ``kill()`` refuses.
        """
        env = os.environ if environ is None else environ
        sock = env.get(ENV_PREFIX + "SOCKET")
        if not sock:
            return None
        missing = [k for k in ("PORT", "USER", "PASSWORD") if not env.get(ENV_PREFIX + k)]
        if missing:
            names = ", ".join(ENV_PREFIX + k for k in missing)
            raise MariaDBUnavailable(f"{ENV_PREFIX}SOCKET is set but {names} is not")
        if not os.path.exists(sock):
            raise MariaDBUnavailable(
                f"{ENV_PREFIX}SOCKET points to {sock}, which does not exist; "
                "is the server started by 'mariadb.py run' still running?"
            )
        server = cls()
        server.owned = False
        server.socket = sock
        server.port = int(env[ENV_PREFIX + "PORT"])
        server.user = env[ENV_PREFIX + "USER"]
        server.password = env[ENV_PREFIX + "PASSWORD"]
        server.host = env.get(ENV_PREFIX + "HOST") or "127.0.0.1"
        server.tmpdir = Path(sock).parent
        _, _, client = _binaries()
        server._client = client or "mariadb"
        return server

    @classmethod
    def from_env_or_start(cls, **kwargs) -> ThrowawayMariaDB:
        """The shared server of this run if there is one, else a new one (already started)."""
        attached = cls.from_env()
        if attached is not None:
            return attached
        return cls(**kwargs).start()

    def env(self) -> dict[str, str]:
        """The variables ``from_env`` reads, for a child process of ours."""
        return {
            ENV_PREFIX + "SOCKET": self.socket,
            ENV_PREFIX + "PORT": str(self.port),
            ENV_PREFIX + "HOST": self.host,
            ENV_PREFIX + "USER": self.user,
            ENV_PREFIX + "PASSWORD": self.password,
        }

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        if not self.owned:
            return os.path.exists(self.socket)
        return self._proc is not None and self._proc.poll() is None

    @property
    def error_log(self) -> Path:
        assert self.tmpdir is not None
        return self.tmpdir / "error.log"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> ThrowawayMariaDB:
        if self._proc is not None:
            return self
        install_db, server, client = _require_binaries()
        self._client = client
        _mysqldb()
        base = None if len(tempfile.gettempdir()) < MAX_SOCKET_DIR - 30 else "/tmp"
        _sweep_stale(base or tempfile.gettempdir())
        self.tmpdir = Path(tempfile.mkdtemp(prefix="forneria-mariadb-", dir=base))
        atexit.register(self.stop)
        try:
            self._install(install_db)
            self._boot(server)
            self._create_test_user()
        except BaseException:
            self.stop()
            raise
        return self

    def _install(self, install_db: str) -> None:
        assert self.tmpdir is not None
        datadir = self.tmpdir / "data"
        cmd = [
            install_db,
            "--no-defaults",
            "--user=root",
            f"--datadir={datadir}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--skip-name-resolve",
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            out = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
            raise MariaDBUnavailable(
                f"mariadb-install-db failed (exit {result.returncode}) in {datadir}:\n{out}"
            )

    def _server_args(self, server: str) -> list[str]:
        assert self.tmpdir is not None
        t = self.tmpdir
        (t / "tmp").mkdir(exist_ok=True)
        args = [
            server,
            "--no-defaults",
            "--user=root",
            f"--datadir={t / 'data'}",
            f"--socket={self.socket}",
            f"--port={self.port}",
            "--bind-address=127.0.0.1",
            f"--pid-file={t / 'mysqld.pid'}",
            f"--log-error={self.error_log}",
            f"--tmpdir={t / 'tmp'}",
            "--skip-name-resolve",
            "--default-time-zone=+00:00",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_spanish_ci",
            f"--innodb-buffer-pool-size={self.buffer_pool}",
            "--innodb-log-file-size=256M",
            "--max-allowed-packet=64M",
            "--max-connections=200",
        ]
        if self.fast:
            args += ["--innodb-flush-log-at-trx-commit=2", "--sync-binlog=0"]
        else:
            args += ["--innodb-flush-log-at-trx-commit=1", "--sync-binlog=1"]
        if self.binlog:
            args += [f"--log-bin={t / 'binlog'}", "--server-id=1", "--binlog-format=ROW"]
        if self.local_infile:
            args.append("--local-infile=1")
        return args + self.extra_args

    def _boot(self, server: str, port: int | None = None) -> None:
        """Run mariadbd until it accepts connections; a new free port unless ``port`` is given.

        Another process can take a free port between our probe and the server's bind, so a
        bind failure on a probed port is retried with a new one.
        """
        assert self.tmpdir is not None
        self.socket = str(self.tmpdir / "mysqld.sock")
        last_error = ""
        for _attempt in range(1 if port else 3):
            self.port = port or _free_port()
            with contextlib.suppress(FileNotFoundError):
                self.error_log.unlink()
            self._proc = subprocess.Popen(
                self._server_args(server),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
            ok, last_error = self._wait_ready()
            if ok:
                return
            self._terminate()
            if (
                "Bind on TCP/IP port" not in last_error
                and "Address already in use" not in last_error
            ):
                break
        raise MariaDBUnavailable(
            f"mariadb did not start within {START_TIMEOUT:.0f} s (datadir {self.tmpdir / 'data'});"
            f" last lines of {self.error_log}:\n{last_error}"
        )

    def _wait_ready(self) -> tuple[bool, str]:
        mysqldb = _mysqldb()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                return (
                    False,
                    f"(server exited with {self._proc.returncode})\n{_tail(self.error_log)}",
                )
            if os.path.exists(self.socket):
                try:
                    conn = mysqldb.connect(unix_socket=self.socket, user="root", connect_timeout=2)
                except mysqldb.OperationalError:
                    pass
                else:
                    conn.close()
                    return True, ""
            time.sleep(0.1)
        return False, _tail(self.error_log)

    def _create_test_user(self) -> None:
        self.password = secrets.token_urlsafe(18)
        conn = self.root_connect()
        try:
            cur = conn.cursor()
            # root keeps only the socket entry: nothing on TCP can log in without a password.
            cur.execute(
                "SELECT user, host FROM mysql.user WHERE user = 'root' AND host <> 'localhost'"
            )
            for user, host in cur.fetchall():
                cur.execute(f"DROP USER {_quote(user)}@{_quote(host)}")
            for host in ("localhost", "127.0.0.1"):
                account = f"{_quote(self.user)}@{_quote(host)}"
                cur.execute(f"CREATE USER {account} IDENTIFIED BY {_quote(self.password)}")
                cur.execute(f"GRANT ALL PRIVILEGES ON *.* TO {account}")
            cur.execute("FLUSH PRIVILEGES")
        finally:
            conn.close()

    def _terminate(self) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        self._proc = None

    def stop(self) -> None:
        """Shut the server down cleanly (SIGTERM, then SIGKILL) and delete its directory."""
        if not self.owned:
            return
        self._terminate()
        if self.tmpdir is not None:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)

    def restart(self) -> ThrowawayMariaDB:
        """Boot again on the same data, socket and port, e.g. after ``kill()`` (crash recovery)."""
        if not self.owned:
            raise RuntimeError("refusing to restart a shared server attached from the environment")
        if self.tmpdir is None:
            raise RuntimeError("this server was stopped and its data deleted; call start()")
        self._terminate()
        _, server, _ = _require_binaries()
        self._boot(server, port=self.port)
        return self

    def kill(self) -> None:
        """SIGKILL the server (fault tests: a backup or alert run losing its database)."""
        if not self.owned:
            raise RuntimeError(
                "refusing to kill a shared server attached from the environment; "
                "start a dedicated ThrowawayMariaDB for fault tests"
            )
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(timeout=10)

    def __enter__(self) -> ThrowawayMariaDB:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        owner = "owned" if self.owned else "attached"
        return f"<ThrowawayMariaDB {owner} {state} port={self.port} socket={self.socket!r}>"

    # -- use ----------------------------------------------------------------------------------

    def root_connect(self, database: str | None = None, **kwargs):
        """A mysqlclient connection as root over the unix socket (autocommit off, utf8mb4)."""
        mysqldb = _mysqldb()
        params = {"unix_socket": self.socket, "user": "root", "charset": "utf8mb4"}
        if database:
            params["database"] = database
        params.update(kwargs)
        return mysqldb.connect(**params)

    def connect(self, database: str | None = None, *, tcp: bool = True, **kwargs):
        """A mysqlclient connection as the password user, over TCP by default."""
        mysqldb = _mysqldb()
        params: dict = {"user": self.user, "password": self.password, "charset": "utf8mb4"}
        if tcp:
            params.update(host=self.host, port=self.port)
        else:
            params["unix_socket"] = self.socket
        if database:
            params["database"] = database
        params.update(kwargs)
        return mysqldb.connect(**params)

    def create_database(
        self,
        name: str,
        charset: str = "utf8mb4",
        collation: str = "utf8mb4_spanish_ci",
        *,
        exist_ok: bool = False,
    ) -> str:
        """Create an empty database (recreating it if it exists); returns its name.

        ``exist_ok=True`` keeps an existing database as it is instead.
        """
        conn = self.root_connect()
        try:
            cur = conn.cursor()
            if not exist_ok:
                cur.execute(f"DROP DATABASE IF EXISTS {_ident(name)}")
            cur.execute(
                f"CREATE DATABASE IF NOT EXISTS {_ident(name)} "
                f"CHARACTER SET {charset} COLLATE {collation}"
            )
        finally:
            conn.close()
        return name

    def drop_database(self, name: str) -> None:
        conn = self.root_connect()
        try:
            conn.cursor().execute(f"DROP DATABASE IF EXISTS {_ident(name)}")
        finally:
            conn.close()

    def client_cmd(self, database: str | None = None) -> list[str]:
        """argv for the stock client as root over the socket; no password is ever on it."""
        cmd = [
            self._client,
            "--no-defaults",
            f"--socket={self.socket}",
            "--user=root",
            "--default-character-set=utf8mb4",
        ]
        if database:
            cmd.append(database)
        return cmd

    def django_settings(self, name: str, *, via_socket: bool = False) -> dict:
        """A Django DATABASES entry for the password user (TCP unless ``via_socket``)."""
        return {
            "ENGINE": "django.db.backends.mysql",
            "NAME": name,
            "USER": self.user,
            "PASSWORD": self.password,
            "HOST": self.socket if via_socket else self.host,
            "PORT": "" if via_socket else str(self.port),
            "OPTIONS": {"charset": "utf8mb4"},
        }


# -- command line ---------------------------------------------------------------------------


def _run(args: argparse.Namespace) -> int:
    cmd = list(args.command)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        print("mariadb.py run: no command given (usage: run -- <command...>)", file=sys.stderr)
        return 2
    server = ThrowawayMariaDB(fast=not args.durable, binlog=not args.no_binlog)
    try:
        server.start()
    except MariaDBUnavailable as exc:
        print(f"mariadb.py run: {exc}", file=sys.stderr)
        return 3

    def forward(signum, _frame):
        # Our child shares the terminal, so Ctrl-C already reached it; pass on SIGTERM/SIGHUP.
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    child: subprocess.Popen | None = None
    old = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        env = dict(os.environ, **server.env())
        try:
            child = subprocess.Popen(cmd, env=env)
        except OSError as exc:
            print(f"mariadb.py run: cannot run {cmd[0]!r}: {exc}", file=sys.stderr)
            return 127
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:
                continue
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="mariadb.py", description="run a command against a throwaway mariadb server"
    )
    sub = parser.add_subparsers(dest="action", required=True)
    run = sub.add_parser("run", help="start a server, run a command with its env, stop it")
    run.add_argument("--no-binlog", action="store_true", help="do not enable the binary log")
    run.add_argument(
        "--durable", action="store_true", help="flush on every commit (benchmarks); default: fast"
    )
    run.add_argument("command", nargs=argparse.REMAINDER, help="-- command and its arguments")
    args = parser.parse_args(argv)
    return _run(args)


if __name__ == "__main__":
    sys.exit(main())
