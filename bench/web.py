"""Benchmark of the public pages: the paginated list of 10,000 members, and a member with 200 history records.

    python -m bench.web [--members N] [--requests N]      (or: make bench-web)

Prints one JSON object on stdout; progress goes to stderr. What each figure means and
how the data is made: bench/README.md.

The database is a SQLite file in a temporary folder, made by the migrations. Three
prototype members are walked through the real handlers (an applicant, one co-creating,
one implementing a plan of three commitments); the implementing one then goes inactive
and resumes until its own history has 200 records: it is the member whose page is
measured. The 10,000 list members are copies of the three prototypes made in bulk with
SQL (jurisdiction, member, application, plan, pending deadlines, the member's audit chain),
each chain's hashes recomputed by ``lifecycle.audit.record_hash`` so that ``audit.verify``
passes on the whole database. The server is ``ogp-lifecycle serve`` in a subprocess (uvicorn,
one process), measured from this process with httpx over one keep-alive connection.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
NOW = "2028-01-15T10:00:00Z"
COUNTRIES = ("Argentina", "Brazil", "Canada", "Colombia", "France", "Georgia", "Ghana", "Indonesia", "Kenya",
             "Mexico", "Morocco", "Nigeria", "Peru", "Philippines", "Portugal", "Senegal", "Spain", "Tunisia",
             "Ukraine", "Uruguay")


def say(message: str) -> None:
    print(f"[bench-web {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _quiet_logs() -> None:
    from config.logging import configure_logging

    configure_logging(fmt="json", level="WARNING")


# ---------------------------------------------------------------- the data


def make_prototypes(url: str, history: int) -> dict[str, int]:
    """Three members made by the handlers; the implementing one has ``history`` member records."""
    import pendulum

    from lifecycle import commands as c, handlers, samples
    from lifecycle.clock import FixedClock
    from lifecycle.db import make_engine, make_session_factory
    from lifecycle.schemas import LetterOfSupportIn, PlanIn
    from lifecycle.uow import UnitOfWork

    engine = make_engine(url)
    try:
        factory = make_session_factory(engine)
        clock = FixedClock(pendulum.datetime(2027, 1, 10, 9, tz="UTC"))

        def run(handler, command):
            return handler(command, uow=UnitOfWork(factory), clock=clock)

        run(handlers.open_call, c.OpenCall(name="Call 2027", opens_on=dt.date(2027, 1, 1),
                                           closes_on=dt.date(2027, 3, 31), first_plan_due=dt.date(2028, 9, 30)))
        letter = LetterOfSupportIn.model_validate(samples.letter_of_support())
        made = {}
        for kind in ("applicant", "co_creation", "implementing"):
            code = f"proto-{kind}"
            run(handlers.register_jurisdiction, c.RegisterJurisdiction(
                code=code, name=f"Prototype {kind}", country="France", time_zone="Europe/Paris", language="en",
                has_elections=True, term_end=dt.date(2031, 6, 30)))
            m = run(handlers.apply, c.Apply(jurisdiction=code, call="Call 2027", letter_of_support=letter,
                                            actor="poc@bench.example"))
            made[kind] = m
            if kind == "applicant":
                continue
            run(handlers.accept_application, c.AcceptApplication(member_id=m, actor="support-unit"))
            run(handlers.complete_orientation, c.CompleteOrientation(member_id=m, actor="support-unit"))
            run(handlers.start_co_creation, c.StartCoCreation(member_id=m, actor="poc@bench.example"))
            run(handlers.record_meeting, c.RecordMeeting(member_id=m, phase="co_creation", held_on=dt.date(2027, 1, 10),
                                                         government_participants=3, non_governmental_participants=4,
                                                         actor="poc@bench.example"))
            if kind == "implementing":
                plan = PlanIn.model_validate(samples.plan(dt.date(2027, 1, 10), dt.date(2029, 6, 30), 3))
                run(handlers.submit_plan, c.SubmitPlan(member_id=m, plan=plan, actor="poc@bench.example"))
        # The measured member: inactive and back, again and again, until its history is long (R5.4, R5.6).
        from lifecycle import audit
        from lifecycle.models import Member

        member = made["implementing"]
        with factory() as s:
            have = len(audit.history(s, "member", member))
            first_milestone = s.get(Member, member).current_plan.commitments[0].milestones[0].id
        for step in range((history - have) // 2):
            clock.set(clock.now().add(days=1))
            run(handlers.apply_status, c.ApplyStatus(member_id=member, trigger="become_inactive", rule="R5.4",
                                                     actor="support-unit", reason=f"bench round {step}", override=True))
            run(handlers.apply_status, c.ApplyStatus(member_id=member, trigger="resume", rule="R5.6",
                                                     actor="support-unit", reason=f"bench round {step}"))
        run(handlers.record_tracker_update, c.RecordTrackerUpdate(
            member_id=member, narrative="Register live.", actor="poc@bench.example",
            changes=(c.MilestoneChange(milestone_id=first_milestone, status="in_progress"),)))
        return made
    finally:
        engine.dispose()


def _rows(conn: sqlite3.Connection, sql: str, *params) -> list[dict]:
    cur = conn.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _insert(conn: sqlite3.Connection, table: str, rows: list[dict]) -> None:
    if not rows:
        return
    cols = list(rows[0])
    conn.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                     [tuple(r[c] for c in cols) for r in rows])


def copy_members(path: Path, url: str, prototypes: dict[str, int], count: int) -> None:
    """``count`` members, copies of the prototypes in turn, with their chains re-hashed so that they verify."""
    from sqlalchemy import select

    from lifecycle import audit
    from lifecycle.db import make_engine, make_session_factory
    from lifecycle.models import TransitionRecord

    engine = make_engine(url)
    chains: dict[int, list[TransitionRecord]] = {}
    with make_session_factory(engine)() as s:
        for kind, member in prototypes.items():
            # The measured member's long history is its own; its copies get the first records only.
            records = list(s.scalars(select(TransitionRecord).where(
                TransitionRecord.subject_type == "member", TransitionRecord.subject_id == member)
                .order_by(TransitionRecord.seq)))
            chains[member] = [r for r in records if r.trigger not in ("become_inactive", "resume")]
            for r in chains[member]:
                s.expunge(r)
    engine.dispose()
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA foreign_keys=OFF")  # rows are written in dependency order, ids made here
        ids = {t: (conn.execute(f"SELECT COALESCE(MAX(id), 0) FROM {t}").fetchone()[0])
               for t in ("jurisdictions", "members", "applications", "action_plans", "deadlines",
                         "transition_records")}
        protos = {}
        for member in prototypes.values():
            m = _rows(conn, "SELECT * FROM members WHERE id = ?", member)[0]
            protos[member] = {
                "member": m,
                "jurisdiction": _rows(conn, "SELECT * FROM jurisdictions WHERE id = ?", m["jurisdiction_id"])[0],
                "application": _rows(conn, "SELECT * FROM applications WHERE member_id = ?", member)[0],
                "plan": (_rows(conn, "SELECT * FROM action_plans WHERE id = ?", m["current_plan_id"]) or [None])[0],
                "deadlines": _rows(conn, "SELECT * FROM deadlines WHERE member_id = ? AND status = 'pending' "
                                         "AND subject_type IN ('member', 'plan')", member),
            }
        rng = random.Random(7)
        order = list(prototypes.values())
        batch: dict[str, list[dict]] = {t: [] for t in ("jurisdictions", "members", "applications", "action_plans",
                                                        "deadlines", "transition_records")}

        def flush() -> None:
            for table in ("jurisdictions", "members", "applications", "action_plans", "deadlines",
                          "transition_records"):
                _insert(conn, table, batch[table])
                batch[table].clear()

        for i in range(count):
            source = order[i % len(order)]
            p = protos[source]
            for t in ids:
                ids[t] += 1
            jid, mid, pid = ids["jurisdictions"], ids["members"], ids["action_plans"]
            batch["jurisdictions"].append({**p["jurisdiction"], "id": jid, "code": f"bench-{i}",
                                           "name": f"Municipality {rng.randrange(10**6):06d}-{i}",
                                           "country": COUNTRIES[rng.randrange(len(COUNTRIES))]})
            batch["members"].append({**p["member"], "id": mid, "jurisdiction_id": jid,
                                     "current_plan_id": pid if p["plan"] else None})
            batch["applications"].append({**p["application"], "id": ids["applications"], "member_id": mid})
            if p["plan"]:
                batch["action_plans"].append({**p["plan"], "id": pid, "member_id": mid})
            first_record = ids["transition_records"]
            prev = audit.GENESIS
            record_ids = {}
            for n, r in enumerate(chains[source]):
                copy = TransitionRecord(**{col.key: getattr(r, col.key) for col in TransitionRecord.__table__.columns})
                copy.subject_id, copy.prev_hash, copy.id = mid, prev, first_record + n
                copy.hash = audit.record_hash(copy)
                prev = copy.hash
                record_ids[r.id] = copy.id
                row = {col.name: getattr(copy, col.key) for col in TransitionRecord.__table__.columns}
                row["evidence"] = json.dumps(row["evidence"])
                for key in ("business_time", "recorded_at"):
                    row[key] = row[key].in_timezone("UTC").strftime("%Y-%m-%d %H:%M:%S.%f")
                batch["transition_records"].append(row)
            ids["transition_records"] = first_record + len(chains[source]) - 1
            for d in p["deadlines"]:
                ids["deadlines"] += 1
                batch["deadlines"].append({**d, "id": ids["deadlines"], "member_id": mid,
                                           "subject_id": mid if d["subject_type"] == "member" else pid,
                                           "opened_by": record_ids.get(d["opened_by"]),
                                           "closed_by": record_ids.get(d["closed_by"])})
            if len(batch["members"]) >= 1000:
                flush()
        flush()
        conn.commit()
        conn.execute("ANALYZE")
        conn.commit()


def verify_audit(url: str) -> dict:
    from lifecycle import audit
    from lifecycle.db import make_engine, make_session_factory

    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as s:
            report = audit.verify(s)
        return {"ok": report.ok, "chains": report.chains, "records": report.records}
    finally:
        engine.dispose()


# ---------------------------------------------------------------- the measurement


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(url: str, workdir: Path) -> tuple[subprocess.Popen, str]:
    script = Path(sys.executable).with_name("ogp-lifecycle")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "lifecycle.cli"]
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OGP_")}
    env.update(OGP_DATA_DIR=str(workdir / "data"), OGP_LOG_FORMAT="json", OGP_LOG_LEVEL="WARNING")
    log = open(workdir / "server.log", "wb")
    proc = subprocess.Popen(command + ["--db", url, "--now", NOW, "serve", "--host", "127.0.0.1", "--port",
                                       str(port)], cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited:\n{(workdir / 'server.log').read_text()}")
        try:
            if httpx.get(base + "/members", timeout=5).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("the server did not start within 60 s")


def measure(client: httpx.Client, paths: list[str]) -> list[float]:
    times = []
    for path in paths:
        t0 = time.perf_counter()
        response = client.get(path)
        elapsed = (time.perf_counter() - t0) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}")
        times.append(elapsed)
    return times


def measure_concurrently(base: str, paths: list[str], clients: int) -> list[float]:
    """The same requests shared by ``clients`` threads, each on its own keep-alive connection."""
    from concurrent.futures import ThreadPoolExecutor

    def share(part: list[str]) -> list[float]:
        with httpx.Client(base_url=base, timeout=60) as client:
            return measure(client, part)

    with ThreadPoolExecutor(clients) as pool:
        return [ms for part in pool.map(share, [paths[i::clients] for i in range(clients)]) for ms in part]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return round(ordered[k], 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--history", type=int, default=200)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--clients", type=int, default=1,
                        help="also measure the list with this many concurrent clients (p95_ms_list_concurrent)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (database, server log)")
    args = parser.parse_args(argv)
    _quiet_logs()
    from lifecycle.db import upgrade_database

    workdir = Path(tempfile.mkdtemp(prefix="bench-web-"))
    path = workdir / "bench.db"
    url = f"sqlite:///{path}"
    try:
        t0 = time.perf_counter()
        upgrade_database(url)
        say(f"prototypes through the handlers (one with {args.history} history records)")
        protos = make_prototypes(url, args.history)
        say(f"copying {args.members:,} members in bulk")
        copy_members(path, url, protos, args.members - len(protos))
        audit_report = verify_audit(url)
        say(f"database ready in {time.perf_counter() - t0:.1f} s; audit verify: {audit_report}")
        with closing(sqlite3.connect(path)) as conn:
            members = conn.execute("SELECT COUNT(*) FROM members").fetchone()[0]
            measured = protos["implementing"]
            history = conn.execute("SELECT COUNT(*) FROM transition_records WHERE subject_type = 'member' "
                                   "AND subject_id = ?", (measured,)).fetchone()[0]
        proc, base = serve(url, workdir)
        try:
            per_page = 50
            pages = max(1, -(-members // per_page))
            rng = random.Random(11)
            list_paths = [f"/members?page={rng.randrange(1, pages + 1)}" for _ in range(args.requests)]
            member_paths = [f"/members/{measured}"] * args.requests
            with httpx.Client(base_url=base, timeout=30) as client:
                say("warming up")
                measure(client, list_paths[:20] + member_paths[:20])
                say(f"{args.requests} requests of the list (random pages of {pages})")
                list_ms = measure(client, list_paths)
                say(f"{args.requests} requests of the member page ({history} history records)")
                member_ms = measure(client, member_paths)
                filtered_ms = measure(client, [f"/members?country={COUNTRIES[i % len(COUNTRIES)]}&state=implementing"
                                               f"&page={1 + i % 3}" for i in range(min(100, args.requests))])
                concurrent_ms = None
                if args.clients > 1:
                    say(f"{args.requests} requests of the list from {args.clients} concurrent clients")
                    concurrent_ms = measure_concurrently(base, list_paths, args.clients)
        finally:
            proc.terminate()
            proc.wait(timeout=15)
        result = {
            "p50_ms_list": pct(list_ms, 50), "p95_ms_list": pct(list_ms, 95),
            "p50_ms_member": pct(member_ms, 50), "p95_ms_member": pct(member_ms, 95),
            "p95_ms_list_filtered": pct(filtered_ms, 95),
            **({"clients": args.clients, "p50_ms_list_concurrent": pct(concurrent_ms, 50),
                "p95_ms_list_concurrent": pct(concurrent_ms, 95)} if concurrent_ms else {}),
            "mean_ms_list": round(statistics.fmean(list_ms), 2), "mean_ms_member": round(statistics.fmean(member_ms), 2),
            "requests_each": args.requests, "members": members, "member_history_records": history,
            "list_pages": pages, "audit_verified": audit_report["ok"], "audit_records": audit_report["records"],
            "database": "sqlite", "server": "ogp-lifecycle serve (uvicorn, 1 process)", "client": "httpx, keep-alive",
            "cpus": os.cpu_count(), "python": platform.python_version(),
        }
        print(json.dumps(result))
        return 0 if audit_report["ok"] else 1
    finally:
        if args.keep:
            say(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
