"""Accounts: passwords (salted scrypt), API tokens and login sessions, of which only hashes are kept."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import pendulum
import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from lifecycle import commands as c
from lifecycle.clock import Clock
from lifecycle.models import ApiToken, Credential, Person, WebSession
from lifecycle.uow import UnitOfWork
from policies.errors import InvalidInput, RuleViolation

log = structlog.get_logger(__name__)

MIN_PASSWORD_LENGTH = 12
TOKEN_PREFIX = "ogp_"
# scrypt cost: about 50 ms and 16 MiB per check, cheap for a login, dear for a guesser.
SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN = 2**14, 8, 1, 32


# After this many wrong passwords in a row an account refuses logins for LOCKOUT_MINUTES, so that
# guessing costs days rather than seconds; a right password resets the count.
MAX_FAILED_LOGINS = 5
LOCKOUT_MINUTES = 15


class LoginFailed(InvalidInput):
    """Raised when an e-mail address and password do not match an account (which one is wrong is not said)."""

    rule = "§0"


class LoginThrottled(LoginFailed):
    """Raised when an account refuses logins for a while after too many wrong passwords in a row."""


def sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=SCRYPT_LEN)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(digest) // 2)
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


# A hash to check against when the e-mail address is unknown, so that both failures cost the same time.
_DUMMY_HASH = hash_password("not a password", salt=b"\0" * 16)


def set_password(cmd: c.SetPassword, *, uow: UnitOfWork, clock: Clock) -> None:
    if len(cmd.password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"A password has at least {MIN_PASSWORD_LENGTH} characters.", field="password")
    with uow:
        uow.get(Person, cmd.person_id, what="person")
        credential = uow.session.scalar(select(Credential).where(Credential.person_id == cmd.person_id))
        if credential is None:
            credential = Credential(person_id=cmd.person_id, password_hash="", updated_at=clock.now())
            uow.session.add(credential)
        credential.password_hash = hash_password(cmd.password)
        credential.failed_logins, credential.locked_until = 0, None  # a new password ends a lockout
        credential.updated_at = clock.now()
        uow.commit()
    log.info("password_set", person_id=cmd.person_id)


@dataclass(frozen=True)
class LoginResult:
    """The session token goes into the cookie; the database keeps only its SHA-256."""

    token: str
    person_id: int
    expires_at: pendulum.DateTime


def login(cmd: c.Login, *, uow: UnitOfWork, clock: Clock) -> LoginResult:
    """Check the password and open a server-side session."""
    email = cmd.email.strip().lower()
    with uow:
        row = uow.session.execute(
            select(Person.id, Credential).join(Credential, Credential.person_id == Person.id)
            .where(Person.email == email).with_for_update(of=Credential)
        ).first()
        now = clock.now()
        credential = row.Credential if row else None
        if credential is not None and credential.locked_until is not None and credential.locked_until > now:
            log.info("login_throttled", email=email)
            raise LoginThrottled(
                f"Too many wrong passwords in a row: this account accepts no login until "
                f"{credential.locked_until.format('HH:mm')} UTC.", field="password",
                hint="Wait until then, or ask the Support Unit to set a new password.")
        ok = check_password(cmd.password, credential.password_hash if credential else _DUMMY_HASH)
        if credential is None or not ok:
            if credential is not None:
                credential.failed_logins += 1
                if credential.failed_logins >= MAX_FAILED_LOGINS:
                    credential.failed_logins, credential.locked_until = 0, now.add(minutes=LOCKOUT_MINUTES)
                    log.warning("login_locked", person_id=row.id, until=credential.locked_until.to_iso8601_string())
                uow.commit()  # the count must outlive the refusal
            log.info("login_refused", email=email)
            raise LoginFailed("The e-mail address or the password is wrong.", field="password")
        credential.failed_logins, credential.locked_until = 0, None
        token = secrets.token_urlsafe(32)
        expires = now.add(hours=cmd.ttl_hours)
        uow.session.add(WebSession(person_id=row.id, token_hash=sha256(token), created_at=now, expires_at=expires))
        uow.commit()
    log.info("login", person_id=row.id)
    return LoginResult(token=token, person_id=row.id, expires_at=expires)


def end_session(cmd: c.EndSession, *, uow: UnitOfWork, clock: Clock) -> None:
    """Log out: the session ends at once (ending an unknown or ended session changes nothing)."""
    with uow:
        s = uow.session.scalar(select(WebSession).where(WebSession.token_hash == sha256(cmd.token),
                                                        WebSession.ended_at.is_(None)))
        if s is not None:
            s.ended_at = clock.now()
            log.info("logout", person_id=s.person_id)
        uow.commit()


def session_person(session: Session, token: str, *, now: pendulum.DateTime) -> Person | None:
    """The person a live login session belongs to, or None."""
    return session.scalar(
        select(Person).join(WebSession, WebSession.person_id == Person.id)
        .where(WebSession.token_hash == sha256(token), WebSession.ended_at.is_(None), WebSession.expires_at > now)
    )


@dataclass(frozen=True)
class NewToken:
    """Shown once: ``token`` is not kept anywhere."""

    id: int
    token: str
    prefix: str
    name: str


def create_token(cmd: c.CreateApiToken, *, uow: UnitOfWork, clock: Clock) -> NewToken:
    name = cmd.name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("A token has a name of 1 to 100 characters, saying which program uses it.", field="name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    prefix = token[:12]
    with uow:
        uow.get(Person, cmd.person_id, what="person")
        row = ApiToken(person_id=cmd.person_id, name=name, prefix=prefix, token_hash=sha256(token),
                       created_at=clock.now())
        uow.session.add(row)
        uow.session.flush()
        uow.commit()
    log.info("api_token_created", person_id=cmd.person_id, token_id=row.id, prefix=prefix)
    return NewToken(id=row.id, token=token, prefix=prefix, name=name)


def revoke_token(cmd: c.RevokeApiToken, *, uow: UnitOfWork, clock: Clock) -> None:
    with uow:
        row = uow.lock(ApiToken, cmd.token_id, what="API token")
        if row.revoked_at is not None:
            raise RuleViolation(f"Token {row.id} was already revoked.", field="token_id")
        row.revoked_at = clock.now()
        uow.commit()
    log.info("api_token_revoked", token_id=cmd.token_id, actor=cmd.actor)


def token_person(session: Session, token: str) -> Person | None:
    """The person a live (unrevoked) API token belongs to, or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    return session.scalar(
        select(Person).join(ApiToken, ApiToken.person_id == Person.id)
        .where(ApiToken.token_hash == sha256(token), ApiToken.revoked_at.is_(None))
    )


def list_tokens(session: Session, *, person_id: int | None = None) -> list[dict]:
    stmt = select(ApiToken, Person.email).join(Person, Person.id == ApiToken.person_id).order_by(ApiToken.id)
    if person_id is not None:
        stmt = stmt.where(ApiToken.person_id == person_id)
    return [{"id": t.id, "person_id": t.person_id, "email": email, "name": t.name, "prefix": t.prefix,
             "created_at": t.created_at.to_iso8601_string(),
             "revoked_at": t.revoked_at.to_iso8601_string() if t.revoked_at else None}
            for t, email in session.execute(stmt)]
