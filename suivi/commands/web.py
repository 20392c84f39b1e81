"""`suivi web`: the pages and the JSON API, served by uvicorn."""

from __future__ import annotations

import typer

from suivi.common import console, fail


def web_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Adresse d'écoute."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port d'écoute."),
    workers: int = typer.Option(1, "--workers", min=1, help="Processus uvicorn (production)."),
) -> None:
    """Sert les pages et l'API. Base de production : SUIVI_SECRET_KEY obligatoire."""
    import uvicorn

    from models.db import SettingError
    from suivi.web.settings import engine_and_secret

    try:
        engine, _, production = engine_and_secret()
    except SettingError as error:
        fail(str(error))
    engine.dispose()
    kind = "production" if production else "répétition (secret de développement permis)"
    console.print(f"suivi web sur http://{host}:{port} — base de {kind}")
    uvicorn.run(
        "suivi.web.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level="warning",
    )


def register(app: typer.Typer) -> None:
    app.command("web")(web_command)
