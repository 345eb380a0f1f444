"""Logging in and out, CSRF for forms and cookie-authenticated writes, and secrets kept only as hashes."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Annotated

import httpx
from fastapi import Depends, Form, Request
from sqlalchemy import select

from lifecycle.models import ApiToken, Base, Credential, WebSession
from web.auth import CSRF_COOKIE, SESSION_COOKIE, Principal, csrf_token, session_csrf
from web.deps import require_support_unit
from procs import console_script
from webkit import PASSWORD


def _every_value(web) -> str:
    """Every value of every row of every table, as one text to search for secrets."""
    with web.session() as s:
        return "\n".join(repr(tuple(r)) for t in Base.metadata.sorted_tables for r in s.execute(select(t)))


def _login(web, email: str, password: str = PASSWORD):
    return web.client.post("/api/session", json={"email": email, "password": password})


def test_a_person_logs_in_over_the_api_and_the_cookie_is_http_only_and_same_site_lax(web):
    su = web.person("su", "support_unit", password=True)
    r = _login(web, su.email, "wrong password!")
    assert r.status_code == 401 and r.json()["type"].endswith("/login-failed") and SESSION_COOKIE not in r.cookies
    r = _login(web, su.email.upper())
    assert r.status_code == 201
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Path=/" in cookie
    body = r.json()
    assert body["via"] == "session" and body["roles"] == [{"role": "support_unit", "member_id": None}]
    assert body["csrf_token"] == session_csrf(r.cookies[SESSION_COOKIE])
    assert web.client.get("/api/session").json()["person_id"] == su.id


def test_a_write_authenticated_by_the_session_cookie_needs_the_csrf_header(web):
    su = web.person("su", "support_unit", password=True)
    token = _login(web, su.email).json()["csrf_token"]
    call = {"name": "Call 2028", "opens_on": "2028-01-01", "closes_on": "2028-03-31", "first_plan_due": "2028-09-30"}
    r = web.client.post("/api/calls", json=call)
    assert r.status_code == 403 and r.json()["type"].endswith("/csrf") and r.json()["field"] == "csrf_token"
    r = web.client.post("/api/calls", json=call, headers={"X-CSRF-Token": "0" * 64})
    assert r.status_code == 403
    assert web.client.post("/api/calls", json=call, headers={"X-CSRF-Token": token}).status_code == 201


def test_logging_out_ends_the_session_on_the_server(web):
    su = web.person("su", "support_unit", password=True)
    raw = _login(web, su.email).cookies[SESSION_COOKIE]
    assert web.client.delete("/api/session").status_code == 200
    with web.session() as s:
        assert s.scalar(select(WebSession.ended_at)) is not None
    web.client.cookies.set(SESSION_COOKIE, raw)  # a stolen copy of the cookie is worth nothing now
    assert web.client.get("/api/session").json()["via"] == "public"
    assert web.client.delete("/api/session").status_code == 401


def test_a_session_expires_after_its_lifetime(web):
    su = web.person("su", "support_unit", password=True)
    _login(web, su.email)
    web.clock.set(web.clock.now().add(hours=13))
    assert web.client.get("/api/session").json()["via"] == "public"


def test_the_login_form_without_its_csrf_token_is_refused(web):
    su = web.person("su", "support_unit", password=True)
    r = web.client.post("/login", data={"email": su.email, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403 and r.json()["type"].endswith("/csrf")
    web.client.cookies.set(CSRF_COOKIE, "form-token")
    r = web.client.post("/login", data={"email": su.email, "password": PASSWORD, "csrf_token": "other"},
                        follow_redirects=False)
    assert r.status_code == 403
    assert SESSION_COOKIE not in web.client.cookies


def test_the_login_form_redirects_to_next_on_this_site_only(web):
    su = web.person("su", "support_unit", password=True)
    web.client.cookies.set(CSRF_COOKIE, "form-token")
    form = {"email": su.email, "password": PASSWORD, "csrf_token": "form-token"}
    r = web.client.post("/login", data={**form, "next": "/members/1?tab=plan"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/members/1?tab=plan"
    assert SESSION_COOKIE in r.cookies
    for hostile in ("//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        web.client.cookies.delete(SESSION_COOKIE)  # the form of a logged-out browser, as the login page is
        r = web.client.post("/login", data={**form, "next": hostile}, follow_redirects=False)
        assert r.headers["location"] == "/", hostile
    web.client.cookies.delete(SESSION_COOKIE)
    r = web.client.post("/login", data={**form, "password": "wrong password!", "next": "/x"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?failed=1&next=/x"


def test_the_logout_form_needs_the_sessions_csrf_token(web):
    su = web.person("su", "support_unit", password=True)
    raw = _login(web, su.email).cookies[SESSION_COOKIE]
    assert web.client.post("/logout", data={}, follow_redirects=False).status_code == 403
    r = web.client.post("/logout", data={"csrf_token": session_csrf(raw)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert web.client.get("/api/session").json()["via"] == "public"


def test_csrf_token_gives_pages_the_browsers_token_and_sets_the_cookie_once(web_sqlite):
    web = web_sqlite

    def token_route(request: Request) -> dict:
        return {"token": csrf_token(request)}

    web.app.add_api_route("/test-csrf", token_route)
    r = web.client.get("/test-csrf")
    made = r.json()["token"]
    assert r.cookies[CSRF_COOKIE] == made and "HttpOnly" in r.headers["set-cookie"]
    again = web.client.get("/test-csrf")
    assert again.json()["token"] == made and "set-cookie" not in again.headers
    su = web.person("su", "support_unit", password=True)
    raw = _login(web, su.email).cookies[SESSION_COOKIE]
    assert web.client.get("/test-csrf").json()["token"] == session_csrf(raw)


def test_an_api_token_is_not_exposed_to_csrf_and_needs_no_form_token(web):
    su = web.person("su", "support_unit")
    call = {"name": "Call 2028", "opens_on": "2028-01-01", "closes_on": "2028-03-31", "first_plan_due": "2028-09-30"}
    assert web.client.post("/api/calls", json=call, headers=su.auth).status_code == 201


def test_tokens_sessions_and_passwords_are_stored_only_as_hashes(web):
    su = web.person("su", "support_unit", password=True)
    session_token = _login(web, su.email).cookies[SESSION_COOKIE]
    stored = _every_value(web)
    assert su.token not in stored and session_token not in stored and PASSWORD not in stored
    with web.session() as s:
        assert s.scalar(select(ApiToken.token_hash)) == hashlib.sha256(su.token.encode()).hexdigest()
        assert s.scalar(select(WebSession.token_hash)) == hashlib.sha256(session_token.encode()).hexdigest()
        assert s.scalar(select(Credential.password_hash)).startswith("scrypt$16384$8$1$")
        assert s.scalar(select(ApiToken.prefix)) == su.token[:12]


def test_a_revoked_token_is_refused(web):
    from lifecycle import accounts, commands as c

    su = web.person("su", "support_unit")
    assert web.client.get("/api/session", headers=su.auth).json()["via"] == "token"
    with web.session() as s:
        token_id = s.scalar(select(ApiToken.id))
    web.run(accounts.revoke_token, c.RevokeApiToken(token_id=token_id, actor="su"))
    assert web.client.get("/api/session", headers=su.auth).json()["via"] == "public"
    assert web.client.get("/api/letters", headers=su.auth).status_code == 401


# ---------------------------------------------------------------- the console script


def _cli(tmp: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    script = console_script()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OGP_")}
    env.update(OGP_DATA_DIR=str(tmp / "data"), OGP_LOG_FORMAT="json", COLUMNS="200")
    return subprocess.run([str(script), *args], input=stdin, capture_output=True, text=True, env=env, timeout=60)


def test_the_cli_sets_passwords_and_makes_lists_and_revokes_api_tokens(tmp_path):
    assert _cli(tmp_path, "person", "add", "--name", "Sam", "--email", "sam@su.example",
                "--role", "support_unit").returncode == 0
    r = _cli(tmp_path, "account", "password", "1", "--password-stdin", stdin="short\n")
    assert r.returncode == 1 and "password" in r.stderr
    assert _cli(tmp_path, "account", "password", "1", "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    r = _cli(tmp_path, "account", "token", "create", "1", "--name", "dashboard")
    assert r.returncode == 0 and "shown only now" in r.stderr
    token = r.stdout.strip()
    assert token.startswith("ogp_") and len(token) > 40
    listed = _cli(tmp_path, "--json", "account", "token", "list")
    rows = json.loads(listed.stdout)
    assert token not in listed.stdout and rows[0]["prefix"] == token[:12] and rows[0]["revoked_at"] is None
    assert _cli(tmp_path, "account", "token", "revoke", "1").returncode == 0
    assert json.loads(_cli(tmp_path, "--json", "account", "token", "list").stdout)[0]["revoked_at"]
    assert _cli(tmp_path, "account", "token", "revoke", "1").returncode == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_serves_the_app_with_the_embedded_service_and_stops_cleanly_on_sigterm(tmp_path):
    port = _free_port()
    script = console_script()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OGP_")}
    env.update(OGP_DATA_DIR=str(tmp_path / "data"), OGP_LOG_FORMAT="json", OGP_SCHEDULER_INTERVAL_S="0.5")
    proc = subprocess.Popen([str(script), "run", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/api/members", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.poll() else ""
                time.sleep(0.2)
        assert r.status_code == 200 and r.json() == []
        assert "ogp_queue_depth" in httpx.get(f"http://127.0.0.1:{port}/metrics").text
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    events = [json.loads(line)["event"] for line in err.splitlines() if line.startswith("{")]
    assert {"service_started", "web_started", "http_request", "service_stopped", "web_stopped"} <= set(events)


def test_a_page_form_of_a_logged_in_support_unit_passes_the_role_check_with_its_csrf_field(web_sqlite):
    """Pages use the same dependencies: require_support_unit reads the form's csrf_token field."""
    web = web_sqlite

    def form_route(who: Annotated[Principal, Depends(require_support_unit)],
                   note: Annotated[str, Form()]) -> dict:
        return {"who": who.email, "note": note}

    web.app.add_api_route("/test-form", form_route, methods=["POST"])
    su = web.person("su", "support_unit", password=True)
    raw = _login(web, su.email).cookies[SESSION_COOKIE]
    assert web.client.post("/test-form", data={"note": "hi"}).status_code == 403
    r = web.client.post("/test-form", data={"note": "hi", "csrf_token": session_csrf(raw)})
    assert r.status_code == 200 and r.json() == {"who": su.email, "note": "hi"}


def test_five_wrong_passwords_in_a_row_lock_the_account_for_fifteen_minutes_even_to_the_right_one(web):
    su = web.person("su", "support_unit", password=True)
    for _ in range(4):
        assert _login(web, su.email, "wrong password!").status_code == 401
    assert _login(web, su.email).status_code == 201  # a right password resets the count
    for _ in range(5):
        assert _login(web, su.email, "wrong password!").status_code == 401
    locked = _login(web, su.email)
    assert locked.status_code == 429 and locked.json()["type"].endswith("/login-throttled")
    assert locked.json()["field"] == "password" and "no login until" in locked.json()["detail"]
    web.clock.set(web.clock.now().add(minutes=16))
    assert _login(web, su.email).status_code == 201


def test_a_locked_account_is_said_so_on_the_login_page(web):
    su = web.person("su", "support_unit", password=True)
    for _ in range(5):
        _login(web, su.email, "wrong password!")
    page = web.client.get("/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    r = web.client.post("/login", data={"email": su.email, "password": PASSWORD, "csrf_token": token},
                        follow_redirects=True)
    assert "accepts no login for 15 minutes" in r.text
