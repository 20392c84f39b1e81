"""Typer's own words in French: the help option's line and the help screen's brackets and
panel titles (`[default: 200]`, `Commands`), which Typer writes in English whatever the
command's help says. Typer builds its help option in `get_help_option` and reads its panel
words from `typer.rich_utils` when a help screen is drawn: both are set here, once."""

from __future__ import annotations

from typing import Any

from typer import core as typer_core
from typer._click import core as click_core

HELP_TEXT = "Affiche cette aide."
RICH_WORDS = {
    "DEFAULT_STRING": "[défaut : {}]",
    "REQUIRED_LONG_STRING": "[obligatoire]",
    "ENVVAR_STRING": "[variable : {}]",
    "DEPRECATED_STRING": "(obsolète) ",
    "COMMANDS_PANEL_TITLE": "Commandes",
    "ERRORS_PANEL_TITLE": "Erreur",
    "ABORTED_TEXT": "Interrompu.",
}
_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    own_help_option = click_core.Command.get_help_option

    def get_help_option(self: click_core.Command, ctx: click_core.Context) -> Any:
        option = own_help_option(self, ctx)
        if option is not None:
            option.help = HELP_TEXT
        return option

    click_core.Command.get_help_option = get_help_option  # type: ignore[method-assign]
    for cls in (typer_core.TyperCommand, typer_core.TyperGroup):
        cls.format_help = _in_french(cls.format_help)  # type: ignore[method-assign]


def _in_french(format_help: Any) -> Any:
    def wrapper(self: Any, ctx: Any, formatter: Any) -> Any:
        # Imported only when a help screen is drawn (tens of milliseconds of Rich).
        from typer import rich_utils

        for name, words in RICH_WORDS.items():
            setattr(rich_utils, name, words)
        return format_help(self, ctx, formatter)

    return wrapper
