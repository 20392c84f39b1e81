"""`suivi user set-password|token|revoke`: log-in for the web and personal API tokens."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import typer

from processes import authentication
from suivi.common import JsonOption, console, fail, print_json, unit_of_work

user_app = typer.Typer(help="Comptes : mots de passe et jetons d'API.", no_args_is_help=True)

# Who did it: the person at the server's terminal, as the operating system knows them.
ByOption = typer.Option(
    None, "--by", help="Qui fait l'opération (par défaut : l'utilisateur du système)."
)


def _by(by: str | None) -> str:
    if by:
        return by
    import getpass

    try:
        return f"os:{getpass.getuser()}"
    except OSError:
        return "os:?"


@user_app.command("set-password")
def set_password_command(
    staff_id: str = typer.Argument(..., help="Identifiant dans l'annuaire (gs-viala)."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Lit le mot de passe sur l'entrée standard."
    ),
    by: str | None = ByOption,
) -> None:
    """Définit le mot de passe d'un membre du personnel (haché avec argon2) ; déverrouille."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Mot de passe", hide_input=True, confirmation_prompt=True)
    if not password:
        fail("mot de passe vide : rien n'est changé")
    with unit_of_work() as session:
        authentication.set_password(
            session, staff_id, password, now=datetime.now(UTC), by=_by(by)
        )
    console.print(f"Mot de passe de {staff_id} enregistré.")


@user_app.command("token")
def token_command(
    staff_id: str = typer.Argument(..., help="Identifiant dans l'annuaire."),
    as_json: bool = JsonOption,
    by: str | None = ByOption,
) -> None:
    """Crée un jeton personnel pour l'API (affiché une seule fois, conservé haché)."""
    with unit_of_work(as_json) as session:
        token = authentication.new_token(session, staff_id, now=datetime.now(UTC), by=_by(by))
    if as_json:
        print_json({"staff": staff_id, "token": token})
    else:
        sys.stdout.write(token + "\n")


@user_app.command("revoke")
def revoke_command(
    staff_id: str = typer.Argument(..., help="Identifiant dans l'annuaire."),
    as_json: bool = JsonOption,
    by: str | None = ByOption,
) -> None:
    """Révoque tous les jetons d'API de ce membre du personnel."""
    with unit_of_work(as_json) as session:
        count = authentication.revoke_tokens(
            session, staff_id, now=datetime.now(UTC), by=_by(by)
        )
    if as_json:
        print_json({"staff": staff_id, "revoked": count})
    else:
        console.print(f"{count} jeton(s) révoqué(s) pour {staff_id}.")


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
