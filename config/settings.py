"""One typed Settings object, built by each entry point and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Settings from the environment (prefix ``OGP_``) and the command line.

    ``environment="development"`` (the embedded default) allows a simulated clock;
    ``production`` forbids it unless ``allow_simulated_clock`` is set explicitly.
    """

    model_config = SettingsConfigDict(env_prefix="OGP_", env_file=".env", extra="ignore")

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Path("data")
    database_url: str | None = None
    allow_simulated_clock: bool | None = None
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"
    support_unit_email: str = "support@ogplocal.example"
    deadline_reminder_days: tuple[int, ...] = Field(default=(30, 7))
    # Letters: SMTP when a host is set, otherwise .eml files and PDFs in the outbox folder.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_s: float = 30.0
    mail_from: str = "OGP Local Support Unit <support@ogplocal.example>"
    mail_domain: str = "ogplocal.example"
    redis_url: str | None = None
    scheduler_interval_s: float = Field(default=60.0, gt=0)
    # A due deadline enqueued this long ago and still pending is enqueued again (its message may
    # have been lost, e.g. by a Redis restart without persistence).
    scheduler_resend_after_s: float = Field(default=300.0, gt=0)
    tick_batch: int = Field(default=500, ge=1)
    worker_threads: int = Field(default=4, ge=1)
    # A message held by a worker that died is redelivered once its heartbeat is this old and
    # another worker's broker call runs maintenance (chance per million calls).
    broker_heartbeat_timeout_ms: int = Field(default=10_000, ge=1_000)
    broker_maintenance_chance: int = Field(default=250_000, ge=1, le=1_000_000)

    @model_validator(mode="after")
    def _defaults(self) -> "Settings":
        if self.allow_simulated_clock is None:
            self.allow_simulated_clock = self.environment == "development"
        return self

    @property
    def db_url(self) -> str:
        """The database URL; the embedded default is a SQLite file in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'lifecycle.db').as_posix()}"

    @property
    def outbox_dir(self) -> Path:
        """Where letters go without SMTP: one .eml file and one PDF per letter."""
        return self.data_dir / "outbox"

    @property
    def is_embedded(self) -> bool:
        return self.db_url.startswith("sqlite")
