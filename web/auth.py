"""Who is asking: principals from bearer tokens or login sessions, their roles, and CSRF tokens for forms.

Roles (RULEBOOK §0): the Support Unit acts on everything; a point of contact acts for its
own member and for the partners of a joint plan its member files (R3.13); a monitoring
body files the deliverables of the member(s) it monitors; the public reads, and comments
on progress updates (R8.2).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lifecycle import accounts
from lifecycle.db import read_only_factory
from lifecycle.models import ActionPlan, Coalition, Person, Role
from policies.errors import RuleViolation

SESSION_COOKIE = "ogp_session"
CSRF_COOKIE = "ogp_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
ACCESS_RULE = "§0"  # the rulebook's table of actors says who may do what


class NotAuthenticated(RuleViolation):
    """Raised when a request that needs a person comes with no (or no valid) credentials."""

    rule = ACCESS_RULE


class Forbidden(RuleViolation):
    """Raised when the person asking does not hold the role the action needs; ``role`` names it."""

    rule = ACCESS_RULE

    def __init__(self, message: str, *, role: str, **kw) -> None:
        super().__init__(message, **kw)
        self.role = role


class CsrfRefused(RuleViolation):
    """Raised when a form post or a cookie-authenticated API call lacks the right CSRF token."""

    rule = ACCESS_RULE


@dataclass(frozen=True)
class RoleGrant:
    role: str
    member_id: int | None = None


@dataclass(frozen=True)
class Principal:
    """The person behind a request, or the public (``person_id`` None)."""

    person_id: int | None
    name: str
    roles: tuple[RoleGrant, ...] = ()
    email: str | None = None
    via: str = "public"  # public | session | token
    # Members acted for or monitored through a joint plan (R3.13), besides the roles' own members.
    coalition_partners: dict[str, frozenset[int]] = field(default_factory=dict, hash=False, compare=False)

    @property
    def is_authenticated(self) -> bool:
        return self.person_id is not None

    @property
    def actor(self) -> str:
        """What the audit trail records as the actor."""
        return self.email or self.name

    def has_role(self, role: str) -> bool:
        return any(g.role == role for g in self.roles)

    @property
    def is_support_unit(self) -> bool:
        return self.has_role("support_unit")

    @property
    def is_auditor(self) -> bool:
        return self.has_role("auditor")

    def _members(self, role: str) -> frozenset[int]:
        own = frozenset(g.member_id for g in self.roles if g.role == role and g.member_id is not None)
        return own | self.coalition_partners.get(role, frozenset())

    @property
    def poc_member_ids(self) -> frozenset[int]:
        return self._members("poc")

    @property
    def monitored_member_ids(self) -> frozenset[int]:
        return self._members("monitoring_body")

    @property
    def stakeholder_member_ids(self) -> frozenset[int]:
        return self._members("stakeholder")

    def can_act_for_member(self, member_id: int) -> bool:
        return self.is_support_unit or member_id in self.poc_member_ids

    def can_monitor_member(self, member_id: int) -> bool:
        return self.is_support_unit or member_id in self.monitored_member_ids


PUBLIC = Principal(person_id=None, name="public")


def _partners(session: Session, grants: tuple[RoleGrant, ...]) -> dict[str, frozenset[int]]:
    """Per role, the members of joint plans in force that one of the role's members belongs to (R3.13)."""
    wanted = {g.role: set() for g in grants if g.role in ("poc", "monitoring_body") and g.member_id is not None}
    for g in grants:
        if g.role in wanted and g.member_id is not None:
            wanted[g.role].add(g.member_id)
    if not wanted:
        return {}
    coalitions = session.scalars(
        select(Coalition.member_ids).join(ActionPlan, ActionPlan.coalition_id == Coalition.id)
        .where(ActionPlan.status == "in_force")
    ).all()
    found: dict[str, frozenset[int]] = {}
    for role, own in wanted.items():
        extra = set()
        for member_ids in coalitions:
            ids = {int(i) for i in member_ids}
            if ids & own:
                extra |= ids
        found[role] = frozenset(extra)
    return found


def principal_for(session: Session, person: Person, *, via: str) -> Principal:
    grants = tuple(RoleGrant(r.role, r.member_id) for r in session.scalars(
        select(Role).where(Role.person_id == person.id).order_by(Role.id)))
    return Principal(person_id=person.id, name=person.name, email=person.email, roles=grants, via=via,
                     coalition_partners=_partners(session, grants))


def read_factory(app) -> sessionmaker:
    """Read-only sessions on the app's engine: on SQLite they take no write lock (``lifecycle.db``).

    Every read of the web (pages, API reads, principals, metrics) uses them; writes go through
    units of work on ``app.state.session_factory``. Made on first use and again whenever the
    app's session factory is replaced.
    """
    factory = app.state.session_factory
    made = getattr(app.state, "read_factory_of", None)
    if made is None or made[0] is not factory:
        made = app.state.read_factory_of = (factory, read_only_factory(factory))
    return made[1]


def authenticate(request: Request) -> Principal:
    """The principal of a request, computed once and kept on ``request.state``.

    ``Authorization: Bearer …`` wins over the session cookie; a bearer token or cookie that
    is not valid leaves the request anonymous, and an action that needs a person refuses it.
    """
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    principal = PUBLIC
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    cookie = request.cookies.get(SESSION_COOKIE)
    bearer = credentials.strip() if scheme.lower() == "bearer" else ""
    if bearer or cookie:
        factory = read_factory(request.app)
        now = request.app.state.clock.now()
        with factory() as s:
            if bearer:
                person = accounts.token_person(s, bearer)
                if person is not None:
                    principal = principal_for(s, person, via="token")
                else:
                    request.state.bad_credentials = True
            elif cookie:
                person = accounts.session_person(s, cookie, now=now)
                if person is not None:
                    principal = principal_for(s, person, via="session")
    request.state.principal = principal
    return principal


def session_csrf(session_token: str) -> str:
    """The CSRF token of a login session: derived from the session's secret, so nothing more is stored."""
    return hmac.new(session_token.encode(), b"ogp-csrf", hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The CSRF token to put in a form (field ``csrf_token``) or send as ``X-CSRF-Token``.

    Logged in: derived from the login session. Anonymous (e.g. the public's comment form, the
    login form): the value of the ``ogp_csrf`` cookie, made now if the browser has none yet
    (the middleware sets the cookie on the response).
    """
    principal = authenticate(request)
    if principal.via == "session":
        return session_csrf(request.cookies[SESSION_COOKIE])
    existing = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if existing:
        return existing
    made = secrets.token_urlsafe(24)
    request.state.new_csrf = made
    return made


def check_csrf(request: Request, submitted: str | None) -> None:
    principal = authenticate(request)
    if principal.via == "session":
        expected = session_csrf(request.cookies[SESSION_COOKIE])
    else:
        expected = request.cookies.get(CSRF_COOKIE)
    if not submitted or not expected or not hmac.compare_digest(submitted, expected):
        raise CsrfRefused("This form has expired or did not come from this site; reload the page and send it again.",
                          field=CSRF_FIELD)


class CsrfCookieMiddleware:
    """Sets the anonymous ``ogp_csrf`` cookie on the response when ``csrf_token`` made one for a page."""

    def __init__(self, app, *, secure: bool = False) -> None:
        self.app = app
        self.secure = secure

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_cookie(message):
            if message["type"] == "http.response.start":
                made = scope.get("state", {}).get("new_csrf")
                if made:
                    cookie = f"{CSRF_COOKIE}={made}; Path=/; HttpOnly; SameSite=Lax"
                    cookie += "; Secure" if self.secure else ""
                    message.setdefault("headers", [])
                    message["headers"] = list(message["headers"]) + [(b"set-cookie", cookie.encode())]
            await send(message)

        await self.app(scope, receive, send_with_cookie)
