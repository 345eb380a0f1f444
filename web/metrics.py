"""``/metrics``: Prometheus text, read from the database at each scrape (no counters kept in the process).

Figures: pending and overdue deadlines by kind, transitions by rule, letters by status, and the
queue depth (pending letters + due pending deadlines, plus dramatiq's Redis queues when Redis is used).
"""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import func, select

from lifecycle.models import Deadline, OutboxEvent, TransitionRecord
from web.auth import read_factory

log = structlog.get_logger(__name__)
router = APIRouter(tags=["operations"])


class LifecycleCollector:
    """Reads the figures from the database whenever Prometheus scrapes."""

    def __init__(self, app) -> None:
        self.app = app

    @property
    def redis_url(self) -> str | None:
        return self.app.state.settings.redis_url

    def collect(self):
        now = self.app.state.clock.now()
        with read_factory(self.app)() as s:
            pending = dict(s.execute(select(Deadline.kind, func.count()).where(Deadline.status == "pending")
                                     .group_by(Deadline.kind)).all())
            overdue = dict(s.execute(select(Deadline.kind, func.count())
                                     .where(Deadline.status == "pending", Deadline.breach_at < now)
                                     .group_by(Deadline.kind)).all())
            rules = dict(s.execute(select(TransitionRecord.rule_id, func.count())
                                   .group_by(TransitionRecord.rule_id)).all())
            letters = dict(s.execute(select(OutboxEvent.status, func.count()).group_by(OutboxEvent.status)).all())
            due = s.scalar(select(func.count()).select_from(Deadline)
                           .where(Deadline.status == "pending", Deadline.breach_at <= now)) or 0
        g = GaugeMetricFamily("ogp_deadlines_pending", "Pending deadlines, by kind.", labels=["kind"])
        for kind, n in sorted(pending.items()):
            g.add_metric([kind], n)
        yield g
        g = GaugeMetricFamily("ogp_deadlines_overdue", "Pending deadlines already breached (breach_at < now), "
                                                       "by kind.", labels=["kind"])
        for kind in sorted(pending):
            g.add_metric([kind], overdue.get(kind, 0))
        yield g
        counter = CounterMetricFamily("ogp_transitions", "Audit records (transitions), by rule ID.", labels=["rule"])
        for rule, n in sorted(rules.items()):
            counter.add_metric([rule], n)
        yield counter
        g = GaugeMetricFamily("ogp_letters", "Letters of the outbox, by delivery status.", labels=["status"])
        for status, n in sorted(letters.items()):
            g.add_metric([status], n)
        yield g
        yield GaugeMetricFamily("ogp_queue_depth", "Work waiting: pending letters, due pending deadlines, and "
                                                   "messages in dramatiq's Redis queues.",
                                value=letters.get("pending", 0) + due + self._redis_depth())

    def _redis_depth(self) -> int:
        if not self.redis_url:
            return 0
        from redis import Redis
        from redis.exceptions import RedisError

        from workers.actors import LETTERS_QUEUE, QUEUE

        try:
            client = Redis.from_url(self.redis_url, socket_timeout=2)
            try:
                # dramatiq's RedisBroker keeps each queue's message ids in a list, delayed ones in "<queue>.DQ".
                return sum(client.llen(f"ogp-lifecycle:{q}") for q in (QUEUE, f"{QUEUE}.DQ", LETTERS_QUEUE,
                                                                        f"{LETTERS_QUEUE}.DQ"))
            finally:
                client.close()
        except RedisError as exc:
            log.warning("metrics_redis_unreachable", error=str(exc))
            return 0


def registry_for(app) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LifecycleCollector(app))
    return registry


@router.get("/metrics", response_class=Response,
            responses={200: {"description": "Prometheus text format",
                             "content": {"text/plain": {"schema": {"type": "string"}}}}},
            openapi_extra={"x-access": "public"})
def metrics(request: Request) -> Response:
    """Prometheus metrics, read from the database now."""
    registry = getattr(request.app.state, "metrics_registry", None)
    if registry is None:
        registry = request.app.state.metrics_registry = registry_for(request.app)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
