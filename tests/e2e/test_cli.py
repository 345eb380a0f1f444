"""The real ``ogp-lifecycle`` console script, run in subprocesses against SQLite files and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from lifecycle import samples
from procs import console_script
from policies.machines import MACHINES

POC = "poc@riverton.example"
SU = "support-unit"
CALL = "Call 2027"


SCRIPT = console_script()


def _clean_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without any OGP_ setting, so only what a test says applies."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OGP_")}
    env.update(OGP_DATA_DIR=str(tmp / "data"), OGP_LOG_FORMAT="json", COLUMNS="200", **extra)
    return env


def one_line(text: str) -> str:
    return " ".join(text.split())


@dataclass
class Cli:
    """Runs the console script against one database, from a scratch folder (so no stray .env is read)."""

    db: str
    cwd: Path

    def __call__(self, *args: str, now: str | None = None, actor: str = SU, as_json: bool = False,
                 expect: int | None = 0, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        argv = [SCRIPT, "--db", self.db, "--actor", actor]
        if now:
            argv += ["--now", now]
        if as_json:
            argv.append("--json")
        result = subprocess.run(argv + list(args), cwd=self.cwd, env=_clean_env(self.cwd, **(env or {})),
                                capture_output=True, text=True, timeout=60)
        if expect is not None:
            assert result.returncode == expect, (
                f"{' '.join(args)} exited {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}")
        return result

    def json(self, *args: str, **kw):
        return json.loads(self(*args, as_json=True, **kw).stdout)

    def export(self, fmt: str = "json") -> str:
        return self("audit", "export", "--format", fmt).stdout


def _write_documents(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    letter = folder / "letter.yaml"
    letter.write_text(yaml.safe_dump(samples.letter_of_support()), encoding="utf-8")
    plan = folder / "plan.yaml"
    plan.write_text(yaml.safe_dump(samples.plan(dt.date(2027, 2, 1), dt.date(2029, 6, 30))), encoding="utf-8")
    plan_json = folder / "plan.json"
    plan_json.write_text(json.dumps(samples.plan(dt.date(2027, 2, 1), dt.date(2029, 6, 30), commitments=2)),
                         encoding="utf-8")
    too_late = folder / "too-late.yaml"  # terms end 2031-06-30, so plans end by 2031-04-30 (R3.1)
    too_late.write_text(yaml.safe_dump(samples.plan(dt.date(2027, 3, 1), dt.date(2031, 6, 1))), encoding="utf-8")
    return {"letter": letter, "plan": plan, "plan_json": plan_json, "too_late": too_late}


def _walk_to_orientation(cli: Cli, docs: dict[str, Path], code: str, *, first: bool) -> int:
    cli("jurisdiction", "add", code, "--name", code.title(), "--country", "France", "--tz", "Europe/Paris",
        "--term-end", "2031-06-30", now="2027-01-10T09:00:00Z")
    if first:
        cli("call", "open", CALL, "--opens", "2027-01-01", "--closes", "2027-03-31", "--first-plan-due", "2027-09-30",
            now="2027-01-10T09:00:00Z")
    member = cli.json("member", "apply", "--jurisdiction", code, "--call", CALL, "--letter", str(docs["letter"]),
                      now="2027-01-12T09:00:00Z", actor=POC)["id"]
    cli("member", "accept", str(member), "--reason", "strong application", now="2027-01-15T10:00:00Z")
    return member


def _walk_to_co_creation(cli: Cli, member: int) -> None:
    cli("member", "complete-orientation", str(member), now="2027-01-20T09:00:00Z")
    cli("member", "start-co-creation", str(member), now="2027-01-21T09:00:00Z", actor=POC)
    cli("meeting", "record", str(member), "--phase", "co_creation", "--held-on", "2027-01-25", "--government", "3",
        "--non-governmental", "4", now="2027-01-25T15:00:00Z", actor=POC)


@dataclass
class Walked:
    cli: Cli
    docs: dict[str, Path]
    implementing: int  # walked to implementing with the YAML plan
    in_orientation: int  # accepted, orientation not completed

    def copy(self, folder: Path) -> Cli:
        """The walked database copied for a test that changes it."""
        source = Path(self.cli.db.removeprefix("sqlite:///"))
        target = folder / "copy.db"
        with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
            src.backup(dst)
        return Cli(db=f"sqlite:///{target}", cwd=folder)


@pytest.fixture(scope="module")
def walked(tmp_path_factory: pytest.TempPathFactory) -> Walked:
    """One SQLite file, made by the CLI itself on first use, with Riverton implementing and Lakeside in orientation."""
    folder = tmp_path_factory.mktemp("walk")
    cli = Cli(db=f"sqlite:///{folder / 'x.db'}", cwd=folder)
    docs = _write_documents(folder / "docs")
    riverton = _walk_to_orientation(cli, docs, "riverton", first=True)
    lakeside = _walk_to_orientation(cli, docs, "lakeside", first=False)
    _walk_to_co_creation(cli, riverton)
    filed = cli("member", "submit-plan", str(riverton), "--file", str(docs["plan"]), now="2027-02-01T09:00:00Z",
                actor=POC)
    assert "implementing" in filed.stdout
    return Walked(cli=cli, docs=docs, implementing=riverton, in_orientation=lakeside)


# ---------------------------------------------------------------- the walk, read back


def test_r2_4_a_member_walked_through_the_cli_is_implementing_with_its_triggers_and_deadlines(walked):
    shown = walked.cli.json("member", "show", str(walked.implementing))
    assert (shown["state"], shown["since"]) == ("implementing", "2027-02-01T09:00:00Z")
    _, table = MACHINES["member"]
    assert set(shown["possible_triggers"]) == {r.trigger for r in table if "implementing" in r.source}
    assert shown["plan"]["end"] == "2029-06-30" and len(shown["plan"]["commitments"]) == 3
    open_kinds = {d["kind"]: d for d in shown["deadlines"]}
    assert {"plan_end", "start_assessment", "final_learning_report"} <= set(open_kinds)
    assert (open_kinds["start_assessment"]["rule_id"], open_kinds["start_assessment"]["due_on"]) == ("R4.1",
                                                                                                     "2027-04-01")
    assert "first_plan" not in open_kinds, "filing the plan met the R5.1 deadline"

    listed = walked.cli.json("deadlines", "list", "--member", str(walked.implementing))
    assert [d["id"] for d in listed] == [d["id"] for d in shown["deadlines"]]
    assert all(d["status"] == "pending" and d["member_id"] == walked.implementing for d in listed)
    waiting = walked.cli.json("member", "show", str(walked.in_orientation))
    assert waiting["state"] == "orientation" and waiting["orientation_completed"] is False


def test_r2_audit_show_lists_each_transition_with_rule_actor_and_the_business_time_of_now(walked):
    rows = walked.cli.json("audit", "show", f"member:{walked.implementing}")
    assert [(r["seq"], r["trigger"], r["rule_id"], r["actor"], r["business_time"]) for r in rows] == [
        (1, "apply", "R1.1", POC, "2027-01-12T09:00:00.000000Z"),
        (2, "accept", "R2.1", SU, "2027-01-15T10:00:00.000000Z"),
        (3, "start_co_creation", "R2.3", POC, "2027-01-21T09:00:00.000000Z"),
        (4, "submit_plan", "R2.4", POC, "2027-02-01T09:00:00.000000Z"),
    ]
    assert rows[1]["reason"] == "strong application"
    assert rows[0]["prev_hash"] == "0" * 64
    assert [r["prev_hash"] for r in rows[1:]] == [r["hash"] for r in rows[:-1]]


def test_audit_export_as_json_and_as_csv_carry_the_same_records(walked, tmp_path):
    as_json = json.loads(walked.cli.export("json"))
    assert len(as_json) == 4 + 2 + 3 * 2  # Riverton, Lakeside, three commitments created and started
    as_csv = walked.cli("audit", "export", "--format", "csv", "--output", str(tmp_path / "trail.csv"))
    assert "12 records written" in as_csv.stderr
    with (tmp_path / "trail.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    stringified = [{k: " ".join(v) if k == "evidence" else "" if v is None else str(v) for k, v in r.items()}
                   for r in as_json]
    assert rows == stringified


def test_audit_verify_passes_on_the_walked_trail_and_names_a_tampered_record(walked, tmp_path):
    intact = walked.cli("audit", "verify")
    assert "audit trail intact: 12 records" in one_line(intact.stdout)

    copy = walked.copy(tmp_path)
    target = next(r for r in json.loads(copy.export()) if r["subject_type"] == "member" and r["seq"] == 2)
    with closing(sqlite3.connect(copy.db.removeprefix("sqlite:///"))) as conn:
        conn.execute("DROP TRIGGER transition_records_no_update")
        conn.execute("UPDATE transition_records SET reason = 'weak application' WHERE id = ?", (target["id"],))
        conn.commit()
    broken = copy("audit", "verify", expect=1)
    assert f"at record {target['id']} (member:{walked.implementing} #2)" in one_line(broken.stdout)
    assert "content does not match its hash" in one_line(broken.stdout)
    report = copy.json("audit", "verify", expect=1)
    assert report["ok"] is False and report["first_bad"]["record_id"] == target["id"]


def test_r2_6_audit_show_prints_a_reason_with_square_brackets_as_written(walked, tmp_path):
    cli = walked.copy(tmp_path)
    reason = "no update in [Q1] or [/Q2]"
    cli("member", "status", str(walked.implementing), "become_inactive", "--rule", "R5.4", "--reason", reason,
        now="2027-10-01T09:00:00Z")
    shown = cli("audit", "show", str(walked.implementing))
    assert reason in one_line(shown.stdout)


# ---------------------------------------------------------------- refusals


def test_r2_3_r3_1_refusals_exit_1_name_their_rule_on_stderr_and_leave_the_export_unchanged(walked, tmp_path):
    cli = walked.copy(tmp_path)
    lakeside = str(walked.in_orientation)
    before = cli.export()

    early = cli("member", "start-co-creation", lakeside, now="2027-01-20T09:00:00Z", actor=POC, expect=1)
    assert one_line(early.stderr).startswith("refused [R2.3] The orientation programme is not completed yet.")
    assert early.stdout == ""
    as_json = cli("member", "start-co-creation", lakeside, now="2027-01-20T09:00:00Z", actor=POC, as_json=True,
                  expect=1)
    refusal = json.loads(as_json.stderr.strip().splitlines()[-1])
    assert {k: refusal[k] for k in ("rule", "field")} == {"rule": "R2.3", "field": "orientation_completed_at"}
    assert refusal["message"] == "The orientation programme is not completed yet."
    assert "orientation as completed" in refusal["hint"]
    assert cli.export() == before

    _walk_to_co_creation(cli, walked.in_orientation)
    before = cli.export()
    too_late = cli("member", "submit-plan", lakeside, "--file", str(walked.docs["too_late"]),
                   now="2027-03-01T09:00:00Z", actor=POC, expect=1)
    assert "[R3.1]" in too_late.stderr and "action plan was refused" in one_line(too_late.stderr)
    assert cli.export() == before
    assert cli.json("member", "show", lakeside)["state"] == "co_creation"


def test_now_is_refused_with_a_clear_message_in_production(walked):
    refused = walked.cli("member", "show", "1", now="2027-03-01T09:00:00Z", expect=None,
                         env={"OGP_ENVIRONMENT": "production"})
    assert refused.returncode != 0
    assert "--now needs a simulated clock" in one_line(refused.stderr)
    assert "OGP_ALLOW_SIMULATED_CLOCK" in refused.stderr
    assert refused.stdout == ""


def test_a_malformed_plan_file_is_refused_naming_the_field_at_fault(walked, tmp_path):
    cli = walked.copy(tmp_path)
    plan = samples.plan(dt.date(2027, 3, 1), dt.date(2029, 6, 30))
    del plan["commitments"][1]["title"]
    missing = tmp_path / "missing-title.yaml"
    missing.write_text(yaml.safe_dump(plan), encoding="utf-8")
    refused = cli("member", "submit-plan", str(walked.implementing), "--file", str(missing), expect=1)
    assert "The plan file is malformed at commitments.1.title: Field required." in one_line(refused.stderr)

    broken = tmp_path / "broken.json"
    broken.write_text('{"plan_end": "2029-06-30",', encoding="utf-8")
    refused = cli("member", "submit-plan", str(walked.implementing), "--file", str(broken), as_json=True, expect=1)
    refusal = json.loads(refused.stderr.strip().splitlines()[-1])
    assert refusal["field"] == "file" and "is not valid JSON" in refusal["message"]


# ---------------------------------------------------------------- schema, diagram, schema of plans, help


def test_db_upgrade_migrates_an_empty_sqlite_file_and_db_current_reports_the_head(tmp_path):
    from alembic.script import ScriptDirectory

    from lifecycle.db import alembic_config

    cli = Cli(db=f"sqlite:///{tmp_path / 'empty.db'}", cwd=tmp_path)
    head = ScriptDirectory.from_config(alembic_config(cli.db)).get_current_head()
    assert cli.json("db", "current")["revision"] is None
    assert one_line(cli("db", "upgrade").stdout) == f"database at {head}"
    assert cli.json("db", "current")["revision"] == head


def test_diagram_draws_every_trigger_of_both_transition_tables_as_mermaid(tmp_path):
    drawn = Cli(db=f"sqlite:///{tmp_path / 'unused.db'}", cwd=tmp_path)("diagram").stdout
    assert drawn.count("stateDiagram-v2") == 2
    for kind, (_, table) in MACHINES.items():
        assert f"%% {kind}" in drawn
        for row in table:
            assert re.search(rf"--> \S+: {row.trigger}\b.*\({row.rule}\)", drawn), row
    assert not (tmp_path / "unused.db").exists(), "drawing needs no database"


def test_plan_schema_prints_a_json_schema_of_plan_files(tmp_path):
    schema = json.loads(Cli(db=f"sqlite:///{tmp_path / 'unused.db'}", cwd=tmp_path)("plan", "schema").stdout)
    assert {"plan_end", "commitments", "vision", "endorsing_stakeholders"} <= set(schema["properties"])
    assert "plan_end" in schema["required"]


def _command_paths() -> list[tuple[str, ...]]:
    import typer

    from lifecycle.cli import app

    paths: list[tuple[str, ...]] = []

    def walk(command, prefix: tuple[str, ...]) -> None:
        paths.append(prefix)
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk(sub, (*prefix, name))

    walk(typer.main.get_command(app), ())
    return paths


def test_help_of_the_console_script_lists_every_command_group(tmp_path):
    shown = subprocess.run([SCRIPT, "--help"], cwd=tmp_path, env=_clean_env(tmp_path), capture_output=True,
                           text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    for group in ("db", "jurisdiction", "call", "member", "meeting", "audit", "deadlines", "diagram", "plan"):
        assert re.search(rf"^\W*{group}\b", shown.stdout, re.MULTILINE), group


@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p) or "ogp-lifecycle")
def test_help_of_every_command_works(path, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from lifecycle.cli import app

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, [*path, "--help"], env={"OGP_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


# ---------------------------------------------------------------- PostgreSQL


def test_r2_4_the_same_walk_works_against_postgresql_with_a_json_plan(postgres_url, tmp_path):
    cli = Cli(db=postgres_url, cwd=tmp_path)
    docs = _write_documents(tmp_path / "docs")
    member = _walk_to_orientation(cli, docs, "riverton", first=True)
    early = cli("member", "start-co-creation", str(member), now="2027-01-16T09:00:00Z", actor=POC, expect=1)
    assert "[R2.3]" in early.stderr
    _walk_to_co_creation(cli, member)
    cli("member", "submit-plan", str(member), "--file", str(docs["plan_json"]), now="2027-02-01T09:00:00Z",
        actor=POC)
    shown = cli.json("member", "show", str(member))
    assert shown["state"] == "implementing" and len(shown["plan"]["commitments"]) == 2
    report = cli.json("audit", "verify")
    assert (report["ok"], report["records"], report["chains"]) == (True, 4 + 2 * 2, 1 + 2)
