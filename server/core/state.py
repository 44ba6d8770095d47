"""The prepared state of a running central server and how a request reaches it.

``prepare(settings)`` does the start-up work before the app serves: migrate the database, load (or
create) the glossary signing key, create the bootstrap admin, and publish the bundled glossary as
version 1 when the database has none. Routes get the result through ``server_state(request)``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request

from glossary.errors import GlossaryError
from server import crud
from server.core.config import ServerSettings
from server.core.db import make_engine, make_session_factory, session_scope
from server.core.logins import LoginGuard, LoginThrottle, PasswordChecker, ThrottlePolicy
from server.core.migrate import upgrade_to_head
from server.core.security import RateLimiter, load_or_create_signing_key, private_dir

_LOGGER = logging.getLogger(__name__)


@dataclass
class ServerState:
    """What the routes share: settings, database, the signing key, device rate and login guards."""

    settings: ServerSettings
    engine: Engine
    session_factory: sessionmaker[Session]
    signing_key: Ed25519PrivateKey
    signing_key_created: bool
    bundled_published: int | None
    device_limiter: RateLimiter
    logins: LoginGuard


def login_guard(settings: ServerSettings) -> LoginGuard:
    """Throttled, bounded admin password checks with the settings' argon2 parameters."""
    checker = PasswordChecker(settings.password_policy, max_concurrent=settings.password_checks_at_once)
    throttle = LoginThrottle(
        ThrottlePolicy(free_failures=settings.login_free_failures, max_delay_s=settings.login_max_delay_s)
    )
    return LoginGuard(checker, throttle)


def prepare(settings: ServerSettings) -> ServerState:
    """Migrate, load the signing key, bootstrap the admin and the first glossary version."""
    private_dir(settings.home)
    engine = make_engine(settings.resolved_database_url)
    upgrade_to_head(engine)
    factory = make_session_factory(engine)
    key, created = load_or_create_signing_key(settings.resolved_signing_key_path)
    published: int | None = None
    with session_scope(factory) as session:
        if settings.admin_user and settings.admin_password and crud.count_admins(session=session) == 0:
            crud.create_admin(
                session=session,
                username=settings.admin_user,
                password=settings.admin_password,
                policy=settings.password_policy,
            )
            _LOGGER.info("created bootstrap admin %s", settings.admin_user)
        if settings.publish_bundled_glossary and crud.current_glossary(session=session) is None:
            published = _publish_bundled(session, key)
    limiter = RateLimiter(settings.device_requests_per_minute)
    return ServerState(settings, engine, factory, key, created, published, limiter, login_guard(settings))


def _publish_bundled(session: Session, key: Ed25519PrivateKey) -> int | None:
    try:
        from glossary import bundled_glossary

        glossary = bundled_glossary()
    except (ImportError, GlossaryError) as exc:
        _LOGGER.warning(
            "bundled glossary not published (%s); publish one with: madoguchi server publish FILE", exc
        )
        return None
    row = crud.publish_glossary(
        session=session, glossary=glossary, signing_key=key, published_by="server", note="bundled"
    )
    return row.number


def server_state(request: Request) -> ServerState:
    """The :class:`ServerState` of the running app."""
    return request.app.state.server  # type: ignore[no-any-return]
