"""Helpers of the browser tests: headless Chromium through Selenium, the real server in a subprocess, screenshots.

A module of its own (not conftest) so that tests import it by a name no other folder uses.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from procs import console_script

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
DRIVER_CANDIDATES = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
SAVED: list[Path] = []


def _first(candidates: tuple[str, ...], name: str) -> str | None:
    for path in candidates:
        if os.access(path, os.X_OK):
            return path
    return shutil.which(name)


def browser_paths() -> tuple[str, str]:
    """Chromium and its driver, or a message that says how to install them (never a silent skip)."""
    chromium = os.environ.get("OGP_TEST_CHROMIUM") or _first(CHROMIUM_CANDIDATES, "chromium")
    driver = os.environ.get("OGP_TEST_CHROMEDRIVER") or _first(DRIVER_CANDIDATES, "chromedriver")
    missing = [name for name, path in (("chromium", chromium), ("chromium-driver", driver))
               if not path or not os.access(path, os.X_OK)]
    if missing:
        raise RuntimeError(f"The browser tests need Debian's {' and '.join(missing)} "
                           "(/usr/bin/chromium, /usr/bin/chromedriver). Install them with `make system-deps` "
                           "(as root, or `sudo make system-deps`).")
    return chromium, driver


def make_driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    chromium, driver = browser_paths()
    options = Options()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,1000", "--lang=en-GB", "--disable-extensions", "--no-first-run"):
        options.add_argument(arg)
    # The driver's path is given, so Selenium Manager never tries to download one.
    web = webdriver.Chrome(options=options, service=Service(executable_path=driver))
    web.set_page_load_timeout(30)
    web.implicitly_wait(0)
    return web


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """``ogp-lifecycle --db URL --now INSTANT serve --port P``: uvicorn in its own process, on a simulated clock."""

    db_url: str
    now: str
    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> "Server":
        env = {k: v for k, v in os.environ.items() if not k.startswith("OGP_")}
        env.update(OGP_DATA_DIR=str(self.workdir / "data"), OGP_LOG_FORMAT="json", OGP_LOG_LEVEL="WARNING")
        self.log = self.workdir / "server.log"
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                [console_script(), "--db", self.db_url, "--now", self.now, "serve", "--host", "127.0.0.1",
                 "--port", str(self.port)], cwd=self.workdir, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                if httpx.get(self.base_url + "/members", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not answer within {timeout} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def screenshot(driver, name: str) -> Path:
    """Save the page as a test artefact; the paths are listed in the terminal summary."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    SAVED.append(path)
    return path
