"""Messages from Jinja2 templates, French first, English on the organisation's setting.

Each template defines a `label` (the kind's name in lists, plain text) and three blocks of
the message: `subject`, `body` (email to staff: may name the resident and the dwelling) and
`short` (chat, SMS: case reference, what is due and when, a link, nothing else). Which one a
channel gets is its privacy level.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, TemplateNotFound

TEMPLATES = Path(__file__).parent / "templates"
LANGUAGES = ("fr", "en")
# Channels that carry the full message; every other Apprise scheme is third-party (chat, SMS).
FULL_DETAIL_SCHEMES = frozenset({"mailto", "mailtos", "console"})


def day_month_year(value: str | None) -> str:
    """`2027-01-15` as `15/01/2027`: dates in case data are ISO strings."""
    return date.fromisoformat(value[:10]).strftime("%d/%m/%Y") if value else ""


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        # The templates ship with the package: checking each file's modification time on
        # every render cost a `stat` per message and bought nothing.
        auto_reload=False,
    )
    env.filters["day"] = day_month_year
    return env


def scheme(url: str) -> str:
    return url.split("://", 1)[0].lower() if "://" in url else url.lower()


def privacy_for(url: str, *, sensitive_process: bool) -> str:
    """`full` or `minimal`: sensitive processes (asylum) are minimal everywhere."""
    if sensitive_process:
        return "minimal"
    return "full" if scheme(url) in FULL_DETAIL_SCHEMES else "minimal"


def render(kind: str, language: str, context: dict[str, Any], *, privacy: str) -> tuple[str, str]:
    """(subject, body) of a notification kind in a language, for a privacy level."""
    template = template_for(kind, language)
    return render_prepared(template, prepared_context(template, kind, context), privacy=privacy)


def template_for(kind: str, language: str) -> Template:
    """The compiled template of a kind in a language (French when unknown)."""
    return _template(kind, language if language in LANGUAGES else "fr")


@cache
def _template(kind: str, language: str) -> Template:
    env = environment()
    try:
        return env.get_template(f"{language}/{kind}.j2")
    except TemplateNotFound:
        return env.get_template(f"{language}/_generic.j2")


@cache
def kind_label(kind: str, language: str = "fr") -> str:
    """The kind's name for people (`label` block); the kind itself when it has no template."""
    template = template_for(kind, language)
    if template.name is None or not template.name.endswith(f"/{kind}.j2"):
        return kind  # `_generic` stood in for it
    return "".join(template.blocks["label"](template.new_context({}))).strip()


@cache
def _globals(template: Template) -> dict[str, Any]:
    # A template's globals are a ChainMap over the environment's: flattened once, since
    # copying a ChainMap per message cost more than rendering some of them.
    return dict(template.globals)


def prepared_context(template: Template, kind: str, context: dict[str, Any]) -> dict[str, Any]:
    """What the template's blocks see: its globals, `context` and `kind`, in one new dict.

    Copy it and add the per-recipient values to render many messages of one case.
    """
    return {**_globals(template), **context, "kind": kind}


def render_prepared(
    template: Template, context: dict[str, Any], *, privacy: str
) -> tuple[str, str]:
    """(subject, body) from a `prepared_context`, which the template reads but never changes."""
    # `Template.new_context(context, shared=True)`, minus its walk over the globals' ChainMap.
    env = template.environment
    ctx = env.context_class(env, context, template.name, template.blocks, _globals(template))
    subject = "".join(template.blocks["subject"](ctx)).strip()
    block = "body" if privacy == "full" else "short"
    body = "".join(template.blocks[block](ctx)).strip()
    if privacy != "full":
        subject = (
            "".join(template.blocks["short_subject"](ctx)).strip()
            if ("short_subject" in template.blocks)
            else subject
        )
    return subject, body
