"""The real ``ogp-lifecycle`` console script, run in a subprocess with the letter settings of a test."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from letterworld import MAIL_DOMAIN, SUPPORT_UNIT
from procs import console_script


@dataclass
class LettersCli:
    """Runs the console script against one database from a scratch folder; SMTP settings when a server is given."""

    db: str
    cwd: Path
    smtp: object | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OGP_")}
        env.update(OGP_DATA_DIR=str(self.cwd / "data"), OGP_LOG_FORMAT="json", COLUMNS="200",
                   OGP_SUPPORT_UNIT_EMAIL=SUPPORT_UNIT, OGP_MAIL_DOMAIN=MAIL_DOMAIN)
        if self.smtp is not None:
            env.update(self.smtp.env())
        env.update(self.extra_env)
        return env

    def __call__(self, *args: str, expect: int | None = 0, as_json: bool = False, now: str | None = None,
                 actor: str = "support-unit") -> subprocess.CompletedProcess[str]:
        argv = [console_script(), "--db", self.db, "--actor", actor]
        if now:
            argv += ["--now", now]
        if as_json:
            argv.append("--json")
        result = subprocess.run(argv + list(args), cwd=self.cwd, env=self.env(), capture_output=True, text=True,
                                timeout=120)
        if expect is not None:
            assert result.returncode == expect, (
                f"{' '.join(args)} exited {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}")
        return result

    def json(self, *args: str, **kw):
        return json.loads(self(*args, as_json=True, **kw).stdout)
