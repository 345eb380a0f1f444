"""The dramatiq broker: Redis when a Redis URL is configured, otherwise an in-process stub."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AgeLimit, Callbacks, Pipelines, Retries, ShutdownNotifications, TimeLimit

from config.settings import Settings


def _middleware() -> list:
    # Retries back off from 1 s to 5 min; actors are idempotent, so a retry is always safe.
    return [AgeLimit(), TimeLimit(time_limit=300_000), ShutdownNotifications(), Callbacks(), Pipelines(),
            Retries(max_retries=20, min_backoff=1_000, max_backoff=300_000)]


def make_broker(settings: Settings) -> dramatiq.Broker:
    """Build (never at import time) the broker the settings call for, and make it the global one."""
    if settings.redis_url:
        from dramatiq.brokers.redis import RedisBroker

        broker: dramatiq.Broker = RedisBroker(
            url=settings.redis_url,
            middleware=_middleware(),
            heartbeat_timeout=settings.broker_heartbeat_timeout_ms,
            maintenance_chance=settings.broker_maintenance_chance,
            namespace="ogp-lifecycle",
        )
    else:
        broker = StubBroker(middleware=_middleware())
        broker.emit_after("process_boot")
    dramatiq.set_broker(broker)
    return broker
