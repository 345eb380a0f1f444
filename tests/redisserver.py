"""A throwaway Redis server for tests: no persistence, 127.0.0.1 only, a free port, its own folder."""

from __future__ import annotations

import atexit
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0


class RedisServerError(RuntimeError):
    """Raised when the test Redis server cannot be found, started or reached."""


def find_redis_server() -> str:
    found = shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists()
                                              else None)
    if found is None:
        raise RedisServerError("redis-server is neither on PATH nor at /usr/bin/redis-server; "
                               "`make system-deps` installs it")
    return found


class RedisServer:
    """``redis-server`` on 127.0.0.1 with persistence off, so that a restart loses every queued message.

    ``restart()`` stops the server and starts it again on the same port, which is what a
    client sees when Redis crashes and comes back empty.
    """

    def __init__(self, port: int | None = None) -> None:
        self.host = "127.0.0.1"
        self.port = port or 0
        self._binary: str | None = None
        self._base: Path | None = None
        self._process: subprocess.Popen | None = None
        self._log = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- lifecycle ----------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def url(self, db: int = 0) -> str:
        if not self.port:
            raise RedisServerError("the server has not been started yet")
        return f"redis://{self.host}:{self.port}/{db}"

    def start(self) -> RedisServer:
        """Start the server (on the port it had before, if any) and wait until PING answers."""
        if self.running:
            return self
        self._binary = self._binary or find_redis_server()
        if self._base is None:
            self._base = Path(tempfile.mkdtemp(prefix="ogp-redis-"))
            atexit.register(self.close)
        fixed_port = bool(self.port)
        for attempt in range(3):
            if not fixed_port:
                self.port = _free_port()
            self._spawn()
            try:
                self._wait_until_ready()
                return self
            except RedisServerError:
                log = self.log_tail()
                self._kill()
                if not fixed_port and attempt < 2 and "Address already in use" in log:
                    continue  # another process took the port between choosing and binding it
                if fixed_port and attempt < 2 and "Address already in use" in log:
                    time.sleep(0.5)  # the old socket may linger for a moment after a restart
                    continue
                raise
        raise RedisServerError(f"redis-server did not start on {self.host}:{self.port}")  # pragma: no cover

    def stop(self) -> None:
        """Stop the server (its data is lost: persistence is off); the folder and port are kept for start()."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT)
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self) -> RedisServer:
        """Stop, then start again on the same port: clients reconnect to an empty server."""
        self.stop()
        return self.start()

    def close(self) -> None:
        """Stop the server and remove its folder."""
        self.stop()
        base, self._base = self._base, None
        if base is not None:
            atexit.unregister(self.close)
            shutil.rmtree(base, ignore_errors=True)

    # -- using the server ---------------------------------------------------------

    def ping(self, timeout: float = 1.0) -> bool:
        """True when the server answers PING (spoken in RESP directly: no client library needed)."""
        try:
            with socket.create_connection((self.host, self.port), timeout=timeout) as sock:
                sock.sendall(b"*1\r\n$4\r\nPING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def log_tail(self, lines: int = 20) -> str:
        if self._base is None:
            return ""
        try:
            return "\n".join((self._base / "redis.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # -- internals ----------------------------------------------------------------

    def _spawn(self) -> None:
        assert self._base is not None and self._binary is not None
        self._log = open(self._base / "redis.log", "ab")
        argv = [self._binary, "--save", "", "--appendonly", "no", "--port", str(self.port), "--bind", self.host,
                "--daemonize", "no", "--dir", str(self._base), "--protected-mode", "yes"]
        try:
            self._process = subprocess.Popen(argv, cwd=self._base, stdin=subprocess.DEVNULL, stdout=self._log,
                                             stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as exc:
            raise RedisServerError(f"could not run {self._binary}: {exc}") from exc

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(STOP_TIMEOUT)
        if self._log is not None:
            self._log.close()
            self._log = None

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self._process is not None and self._process.poll() is not None:
                raise RedisServerError(f"redis-server exited with {self._process.returncode} on port {self.port}:\n"
                                       f"{self.log_tail()}")
            if self.ping(timeout=0.5):
                return
            if time.monotonic() > deadline:
                raise RedisServerError(f"redis-server on {self.host}:{self.port} did not answer PING within "
                                       f"{START_TIMEOUT:.0f} s:\n{self.log_tail()}")
            time.sleep(0.05)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
