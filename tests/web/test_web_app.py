"""The application object, its OpenAPI document and /metrics."""

from __future__ import annotations

import importlib
import re
import sys

import pendulum
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from config.settings import Settings
from lifecycle.db import alembic_config, current_revision
from lifecycle.models import Deadline
from web.app import create_app

PROBLEM = "application/problem+json"


def test_importing_the_web_package_builds_nothing(monkeypatch):
    import lifecycle.db

    built = []
    monkeypatch.setattr(lifecycle.db, "make_engine", lambda *a, **k: built.append(a))
    for name in [n for n in sys.modules if n == "web" or n.startswith("web.")]:
        monkeypatch.delitem(sys.modules, name)
    importlib.import_module("web.app")
    importlib.import_module("web.api")
    assert built == []


def test_the_embedded_default_makes_its_own_schema_on_first_use(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    app = create_app(settings)
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(settings.db_url)).get_current_head()
    assert current_revision(settings.db_url) == head
    with TestClient(app) as client:
        assert client.get("/api/members").json() == []
    assert app.state.settings is settings and app.state.session_factory is not None


def test_every_operation_documents_its_problems_as_problem_json(web_sqlite):
    schema = web_sqlite.client.get("/openapi.json").json()
    assert "Problem" in schema["components"]["schemas"]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for status in ("401", "403", "404", "409", "422"):
                content = operation["responses"][status]["content"]
                assert list(content) == [PROBLEM], (method, path, status)
    assert web_sqlite.client.get("/docs").status_code == 200


def test_a_request_validation_error_is_a_problem_naming_the_field(web_sqlite):
    r = web_sqlite.client.get("/api/members/0")
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["field"] == "path.member_id" and r.json()["type"].endswith("/validation")


def _metrics(web) -> dict[str, float]:
    text = web.client.get("/metrics").text
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"^(\S+) (\S+)$", text, re.M)}


def test_metrics_are_read_from_the_database_at_each_scrape(web):
    before = _metrics(web)
    assert before["ogp_queue_depth"] == 0
    member = web.implementing("riverton")
    web.implementing("lakeside")
    after = _metrics(web)
    assert after['ogp_deadlines_pending{kind="start_assessment"}'] == 2
    assert after['ogp_deadlines_overdue{kind="start_assessment"}'] == 0
    assert after['ogp_transitions_total{rule="R2.4"}'] >= 2 and after['ogp_transitions_total{rule="R1.1"}'] == 2
    assert after['ogp_letters{status="pending"}'] >= 2
    # Two months and a day later the start assessments are overdue, and due work is queued.
    web.clock.set(pendulum.datetime(2027, 3, 12, tz="UTC"))
    later = _metrics(web)
    assert later['ogp_deadlines_overdue{kind="start_assessment"}'] == 2
    letters = later['ogp_letters{status="pending"}']
    due = later["ogp_queue_depth"] - letters
    assert due >= 2
    with web.session() as s:  # once the engine has fired them (here: by hand), nothing is overdue any more
        s.execute(update(Deadline).where(Deadline.member_id == member).values(status="met"))
        s.commit()
    assert _metrics(web)['ogp_deadlines_overdue{kind="start_assessment"}'] == 1
    with web.session() as s:
        assert s.scalar(select(Deadline.id).limit(1))


def test_queue_depth_counts_the_messages_waiting_in_dramatiqs_redis_queues(sqlite_url, tmp_path, redis_url,
                                                                           restore_global_broker):
    from sqlalchemy.orm import sessionmaker

    from lifecycle.db import make_engine
    from workers.actors import declare_actors
    from workers.broker import make_broker

    settings = Settings(database_url=sqlite_url, data_dir=tmp_path, redis_url=redis_url)
    engine = make_engine(sqlite_url)
    factory = sessionmaker(bind=engine)
    broker = make_broker(settings)
    try:
        actors = declare_actors(broker, session_factory=factory, settings=settings)
        for deadline_id in (1, 2, 3):  # no worker consumes them: they wait in Redis
            actors.fire_deadline.send(deadline_id)
        actors.send_letter.send(1)
        with TestClient(create_app(settings, session_factory=factory)) as client:
            text = client.get("/metrics").text
    finally:
        broker.close()
        engine.dispose()
    assert re.search(r"^ogp_queue_depth 4\.0$", text, re.M), text


def test_a_bug_is_a_logged_500_problem_and_a_bare_value_error_is_never_mapped_to_a_refusal(web_sqlite):
    from structlog.testing import capture_logs

    def broken() -> dict:
        raise ValueError("a bug, not a refusal")

    web_sqlite.app.add_api_route("/test-broken", broken)
    client = TestClient(web_sqlite.app, raise_server_exceptions=False)
    with capture_logs() as logs:
        r = client.get("/test-broken")
    assert r.status_code == 500 and r.headers["content-type"].startswith(PROBLEM)
    assert "a bug" not in r.text  # the client learns nothing of the internals
    assert any(e["event"] == "request_failed" and e["log_level"] == "error" for e in logs)


def test_reads_of_the_api_do_not_wait_for_a_writer_on_sqlite(web_sqlite):
    """Reads use read-only sessions (a plain BEGIN on SQLite), so a long unit of work never stalls them."""
    import sqlite3
    import threading
    from contextlib import closing

    web = web_sqlite
    member = web.implementing("riverton")
    su = web.person("su", "support_unit")
    path = str(web.factory.kw["bind"].url.database)
    answers = []
    with closing(sqlite3.connect(path, isolation_level=None)) as writer:
        writer.execute("BEGIN IMMEDIATE")  # a writer holds the write lock
        reader = threading.Thread(target=lambda: answers.append(
            (web.client.get(f"/api/members/{member}", headers=su.auth).status_code,
             web.client.get("/metrics").status_code)))
        reader.start()
        reader.join(timeout=10)
        answered_while_locked = not reader.is_alive()
        writer.execute("ROLLBACK")
    reader.join()
    assert answered_while_locked and answers == [(200, 200)]
