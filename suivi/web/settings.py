"""What the web needs from its environment: the database and the session secret."""

from __future__ import annotations

import os

from sqlalchemy import Engine

from models.admin import is_rehearsal
from models.db import SettingError, get_engine

SECRET_ENV = "SUIVI_SECRET_KEY"
# Signs session cookies of rehearsal databases (the demo's) and tests only: anyone can read
# it here, so a production database refuses to start with it.
DEVELOPMENT_SECRET = "suivi-development-secret-not-for-production"
MIN_SECRET_LENGTH = 32


def production_database(engine: Engine) -> bool:
    with engine.connect() as connection:
        return not is_rehearsal(connection)


def secret_key(production: bool) -> str:
    """SUIVI_SECRET_KEY; a production database refuses to start without a real one."""
    secret = os.environ.get(SECRET_ENV, "").strip()
    if secret:
        if production and (len(secret) < MIN_SECRET_LENGTH or secret == DEVELOPMENT_SECRET):
            raise SettingError(
                f"{SECRET_ENV} : {MIN_SECRET_LENGTH} caractères aléatoires au moins en "
                "production (par exemple : python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')"
            )
        return secret
    if production:
        raise SettingError(
            f"{SECRET_ENV} manquant : une base de production ne démarre pas le web sans secret "
            "de session (par exemple : export SUIVI_SECRET_KEY=$(python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'))"
        )
    return DEVELOPMENT_SECRET


def engine_and_secret() -> tuple[Engine, str, bool]:
    engine = get_engine()
    production = production_database(engine)
    return engine, secret_key(production), production
