"""Time travel from the command line: `tick --now`, `simulate`, and the settings that forbid them."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from lifecycle import samples
from test_cli import Cli



def _co_creating_member(cli: Cli, tmp: Path) -> None:
    letter = tmp / "letter.yaml"
    letter.write_text(yaml.safe_dump(samples.letter_of_support()))
    cli("jurisdiction", "add", "riverton", "--name", "Riverton", "--country", "France", "--tz", "Europe/Paris",
        "--term-end", "2031-06-30")
    cli("call", "open", "Call 2027", "--opens", "2027-01-01", "--closes", "2027-03-31",
        "--first-plan-due", "2027-09-30")
    cli("member", "apply", "--jurisdiction", "riverton", "--call", "Call 2027", "--letter", str(letter),
        now="2027-02-01T09:00:00Z")
    cli("member", "accept", "1", now="2027-02-15T09:00:00Z")
    cli("member", "complete-orientation", "1", now="2027-03-01T09:00:00Z")
    cli("member", "start-co-creation", "1", now="2027-03-01T09:00:00Z")


def test_r5_1_tick_as_of_a_later_instant_fires_the_missed_first_plan_deadline(tmp_path):
    cli = Cli(f"sqlite:///{tmp_path}/x.db", tmp_path)
    _co_creating_member(cli, tmp_path)
    before = cli.json("member", "show", "1")
    assert before["state"] == "co_creation"
    out = cli("tick", "--now", "2027-10-02T00:00:00Z").stdout
    assert "co_creation → inactive" in out and "R5.1" in out
    history = cli.json("audit", "show", "member:1")
    last = history[-1]
    # D5: the business time is the breach instant, 00:00 in Paris on the day after the due date.
    assert (last["trigger"], last["rule_id"], last["actor"]) == ("become_inactive", "R5.1", "system")
    assert last["business_time"].startswith("2027-09-30T22:00:00")
    again = cli("tick", "--now", "2027-10-02T00:00:00Z").stdout
    assert "→" not in again  # firing twice changes nothing


def test_r5_1_an_extension_moves_the_deadline_the_tick_respects(tmp_path):
    cli = Cli(f"sqlite:///{tmp_path}/x.db", tmp_path)
    _co_creating_member(cli, tmp_path)
    cli("member", "extend", "1", "--to", "2027-12-31", "--reason", "Elections in October")
    cli("tick", "--now", "2027-10-02T00:00:00Z")
    assert cli.json("member", "show", "1")["state"] == "co_creation"
    refused = cli("member", "extend", "1", "--to", "2027-11-30", "--reason", "x", expect=1)
    assert "R5.1" in refused.stderr


def test_r6_simulate_walks_an_idle_member_from_inactivity_to_revocation_with_a_progress_summary(tmp_path):
    cli = Cli(f"sqlite:///{tmp_path}/x.db", tmp_path)
    _co_creating_member(cli, tmp_path)
    result = cli("simulate", "--from", "2027-09-01", "--to", "2028-12-31", "--step", "1w")
    lines = [line for line in result.stdout.splitlines() if "→" in line]
    assert [line.split("(")[1].split(",")[1].strip() for line in lines] == ["R5.1", "R6.1", "R6.5"]
    assert "transition(s)" in result.stdout
    assert cli.json("member", "show", "1")["state"] == "revoked"
    assert cli("audit", "verify").returncode == 0


def test_simulate_as_json_prints_one_transition_per_line(tmp_path):
    cli = Cli(f"sqlite:///{tmp_path}/x.db", tmp_path)
    _co_creating_member(cli, tmp_path)
    out = cli("simulate", "--from", "2027-09-01", "--to", "2028-01-31", "--step", "1m", as_json=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert [r["rule_id"] for r in rows] == ["R5.1"]


def test_production_settings_refuse_a_simulated_clock_for_tick_and_simulate(tmp_path):
    cli = Cli(f"sqlite:///{tmp_path}/x.db", tmp_path)
    prod = {"OGP_ENVIRONMENT": "production"}
    r1 = cli("tick", "--now", "2027-10-02T00:00:00Z", env=prod, expect=None)
    r2 = cli("simulate", "--from", "2027-01-01", "--to", "2027-02-01", env=prod, expect=None)
    for r in (r1, r2):
        assert r.returncode != 0
        assert "simulated clock" in r.stderr
    assert cli("tick", env=prod).returncode == 0  # a sweep as of the real time is always allowed


def test_simulate_refuses_a_malformed_step(tmp_path):
    cli = Cli(f"sqlite:///{tmp_path}/x.db", tmp_path)
    r = cli("simulate", "--from", "2027-01-01", "--to", "2027-02-01", "--step", "fortnight", expect=None)
    assert r.returncode != 0 and "--step" in r.stderr
