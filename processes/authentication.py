"""Log-in rules: argon2 passwords, five failures lock an account for fifteen minutes, an
inactive staff member cannot log in, personal API tokens stored as their SHA-256.

Every attempt is recorded (`LoginAttempt`), good or bad. The caller's unit of work commits:
a refused attempt must still be written, so a refusal here is a returned value, not an
exception that would roll the record back.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.admin import AdminAct
from models.auth import ApiToken, Credential, LoginAttempt
from models.directory import Staff
from processes.calendar import format_local, to_utc
from processes.errors import InvalidPayload, NotFound

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "suivi_"
WRONG = "identifiant ou mot de passe incorrect"

_hasher = PasswordHasher()


@dataclass(frozen=True)
class LoginResult:
    staff: Staff | None
    message: str = ""
    """Why it was refused, in French, for the log-in page (empty when it succeeded)."""

    @property
    def ok(self) -> bool:
        return self.staff is not None


def _staff(session: Session, staff_id: str) -> Staff:
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise NotFound(f"membre du personnel inconnu : « {staff_id} »")
    return staff


def set_password(
    session: Session, staff_id: str, password: str, *, now: datetime, by: str
) -> None:
    """Store the argon2 hash of a new password; unlocks the account. Recorded as an admin act."""
    staff = _staff(session, staff_id)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidPayload(
            f"mot de passe trop court pour {staff.id} : {MIN_PASSWORD_LENGTH} caractères au moins"
        )
    now = to_utc(now)
    credential = session.get(Credential, staff.id)
    digest = _hasher.hash(password)
    if credential is None:
        session.add(Credential(staff_id=staff.id, password_hash=digest, set_at=now,
                               failed_attempts=0, locked_until=None))
    else:
        credential.password_hash = digest
        credential.set_at = now
        credential.failed_attempts = 0
        credential.locked_until = None
    session.add(AdminAct(at=now, actor_id=by, act="set_password", detail={"staff": staff.id}))


def _record(session: Session, staff_id: str, now: datetime, ok: bool, reason: str) -> None:
    session.add(LoginAttempt(staff_id=staff_id[:64], at=now, ok=ok, reason=reason))


def log_in(session: Session, staff_id: str, password: str, *, now: datetime) -> LoginResult:
    """Check a password. A wrong one counts; the fifth in a row locks the account for
    fifteen minutes, during which even the right password is refused."""
    now = to_utc(now)
    staff_id = staff_id.strip()
    staff = session.get(Staff, staff_id) if staff_id else None
    credential = session.get(Credential, staff_id) if staff is not None else None
    if staff is None or credential is None:
        # Spend the time a real check would, so that an unknown id does not answer faster.
        _hasher.hash(password or "x")
        _record(session, staff_id or "?", now, False, "unknown" if staff is None else "no_password")
        return LoginResult(None, WRONG)
    if not staff.active:
        _record(session, staff.id, now, False, "inactive")
        return LoginResult(None, WRONG)
    if credential.locked_until is not None and now < credential.locked_until:
        _record(session, staff.id, now, False, "locked")
        return LoginResult(None, locked_message(credential.locked_until))
    try:
        _hasher.verify(credential.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        credential.failed_attempts += 1
        if credential.failed_attempts >= MAX_FAILURES:
            credential.locked_until = now + LOCK_FOR
            credential.failed_attempts = 0
            _record(session, staff.id, now, False, "locked_now")
            return LoginResult(None, locked_message(credential.locked_until))
        _record(session, staff.id, now, False, "wrong_password")
        return LoginResult(None, WRONG)
    credential.failed_attempts = 0
    credential.locked_until = None
    if _hasher.check_needs_rehash(credential.password_hash):
        credential.password_hash = _hasher.hash(password)
    _record(session, staff.id, now, True, "ok")
    return LoginResult(staff)


def locked_message(until: datetime) -> str:
    return (
        f"compte verrouillé après {MAX_FAILURES} essais manqués : réessayez après "
        f"{format_local(until)}"
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(session: Session, staff_id: str, *, now: datetime, by: str) -> str:
    """A new personal API token for an active staff member; only its hash is kept."""
    staff = _staff(session, staff_id)
    if not staff.active:
        raise InvalidPayload(f"{staff.id} est inactif : pas de jeton pour un compte retiré")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = to_utc(now)
    session.add(ApiToken(staff_id=staff.id, token_hash=_token_hash(token), created_at=now))
    session.add(AdminAct(at=now, actor_id=by, act="new_token", detail={"staff": staff.id}))
    return token


def revoke_tokens(session: Session, staff_id: str, *, now: datetime, by: str) -> int:
    """Revoke every live token of a staff member; how many were live."""
    staff = _staff(session, staff_id)
    now = to_utc(now)
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.staff_id == staff.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now),
        execution_options={"synchronize_session": False},
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    session.add(AdminAct(at=now, actor_id=by, act="revoke_tokens",
                         detail={"staff": staff.id, "revoked": count}))
    return count


def staff_for_token(session: Session, token: str) -> Staff | None:
    """The active staff member a live token belongs to, or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    staff = session.scalar(
        select(Staff)
        .join(ApiToken, ApiToken.staff_id == Staff.id)
        .where(ApiToken.token_hash == _token_hash(token), ApiToken.revoked_at.is_(None))
    )
    return staff if staff is not None and staff.active else None
