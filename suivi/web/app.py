"""The FastAPI application: log-in, pages and the JSON API on one database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from processes.errors import french_error
from suivi.web.deps import API_PREFIX, LoginRequired, csrf_token, login_url, server_now

HERE = Path(__file__).parent
SESSION_COOKIE = "suivi_session"
SESSION_HOURS = 12


@pass_context
def tr(context: Any, french: str, english: str) -> str:
    """French first; English where the person's language says so."""
    return english if context.get("lang") == "en" else french


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["csrf_token"] = csrf_token
    templates.env.globals["tr"] = tr
    return templates


def create_app(
    engine: Engine,
    *,
    secret_key: str,
    production: bool = True,
    clock: Callable[[], datetime] = server_now,
) -> FastAPI:
    """The app on `engine`. `production` makes cookies Secure (served behind TLS); `clock`
    is the server's time, fixed only by tests (a caller never chooses it)."""
    from suivi.web import api, login, pages, portal

    app = FastAPI(
        title="suivi",
        description="Suivi des processus d'accompagnement des résidents : API JSON.",
        version="1",
        docs_url=None,
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.production = production
    app.state.clock = clock
    app.state.templates = make_templates()
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_HOURS * 3600,
        same_site="lax",
        https_only=production,
    )
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(login.router)
    app.include_router(api.router)
    app.include_router(portal.router)
    app.include_router(pages.router)
    _handlers(app)
    return app


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, error: LoginRequired) -> Response:
        return RedirectResponse(login_url(error.next_url), status_code=303)

    @app.exception_handler(RequestValidationError)
    async def bad_input(request: Request, error: RequestValidationError) -> Response:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'données'} : "
            f"{french_error(e)}"
            for e in error.errors()
        )
        return JSONResponse({"detail": f"requête invalide ({details})"}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        headers = getattr(error, "headers", None)
        if _is_api(request) or error.status_code not in (403, 404):
            return JSONResponse({"detail": error.detail}, status_code=error.status_code,
                                headers=headers)
        from suivi.web.pages import error_page

        return error_page(request, error.status_code, str(error.detail))


def app_from_environment() -> FastAPI:
    """The factory `suivi web` gives uvicorn (each worker builds its own)."""
    from suivi.web.settings import engine_and_secret

    engine, secret, production = engine_and_secret()
    return create_app(engine, secret_key=secret, production=production)
