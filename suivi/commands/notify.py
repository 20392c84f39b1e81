"""`suivi notify` delivers the outbox through the Prefect flow; `suivi notifications list|retry`
show it and requeue what staff decided to send again."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table
from rich.text import Text

from flows import run_once
from models.cases import NOTIFICATION_STATUSES
from notifications.delivery import (
    DeliveryReport,
    deliver_pending,
    list_notifications,
    requeue_candidates,
    requeue_many,
    show_notification,
)
from processes.calendar import format_local
from processes.read_policy import visible_notifications
from suivi.commands.case import parse_case_id
from suivi.common import (
    JsonOption,
    NowOption,
    ReaderOption,
    after_commit,
    check_actor,
    console,
    fail,
    identifier,
    print_json,
    reader,
    resolve_now,
    row_id,
    styled,
    unit_of_work,
)

notifications_app = typer.Typer(
    help="Notifications : la file d'envoi (outbox), ses essais et ses échecs.",
    no_args_is_help=True,
)

STATUS_LABELS = {
    "pending": "en attente",
    "sending": "en cours d'envoi",
    "sent": "envoyée",
    "retry": "nouvel essai prévu",
    "failed": "échec définitif",
    "unknown": "remise incertaine",
}


def run_flow(now: str | None, batch_size: int) -> DeliveryReport:
    """The flow, with Prefect's local API unless PREFECT_API_URL names a server."""
    moment = resolve_now(now) if now is not None else None
    result: dict[str, Any] = run_once(
        "flows.notify:deliver_notifications", now=moment, batch_size=batch_size
    )
    return DeliveryReport.model_validate(result)


def report_table(report: DeliveryReport) -> Table:
    when = format_local(report.now) if report.now else ""
    table = Table(title=f"Envoi des notifications du {when}", show_header=False)
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    table.add_row("Envoyées", str(report.sent))
    for kind, count in report.by_scheme.items():
        table.add_row(f"  dont {kind}", str(count))
    table.add_row("Nouvel essai prévu", str(report.retried))
    table.add_row("Échec définitif (responsable prévenu)", _red(report.failed))
    table.add_row("Responsables prévenus", str(report.escalated))
    table.add_row("Remise incertaine (envoi interrompu)", _red(report.unknown))
    table.add_row("Lots", str(report.batches))
    return table


def _red(count: int) -> Text:
    return styled((str(count), "red" if count else ""))


def errors_table(report: DeliveryReport) -> Table:
    table = Table(title="Notifications non remises")
    table.add_column("n°", justify="right")
    table.add_column("dossier")
    table.add_column("canal")
    table.add_column("statut")
    table.add_column("erreur")
    for error in report.errors:
        table.add_row(
            str(error.notification_id), error.case_ref, error.scheme,
            STATUS_LABELS.get(error.status, error.status), error.message,
        )
    return table


def notify_command(
    now: str | None = NowOption,
    as_json: bool = JsonOption,
    batch_size: int = typer.Option(200, "--lot", min=1, help="Notifications par lot (une tâche)."),
    without_prefect: bool = typer.Option(
        False, "--sans-prefect", help="Envoie directement, sans flux Prefect."
    ),
) -> None:
    """Envoie les notifications dues (une seule fois chacune ; nouvel essai en cas d'échec)."""
    if without_prefect:
        from models.db import get_engine

        report = deliver_pending(get_engine(), resolve_now(now), batch_size=batch_size)
    else:
        report = run_flow(now, batch_size)
    if as_json:
        print_json(report)
        return
    console.print(report_table(report))
    if report.errors:
        console.print(errors_table(report))


@notifications_app.command("list")
def list_command(
    case: str | None = typer.Option(None, "--case", help="Dossier (12 ou C-12)."),
    status: str | None = typer.Option(
        None, "--status", help=f"Statut : {', '.join(NOTIFICATION_STATUSES)}."
    ),
    limit: int = typer.Option(500, "--limit", min=1, help="Les plus récentes d'abord retenues."),
    actor: str | None = ReaderOption,
    as_json: bool = JsonOption,
) -> None:
    """Liste la file d'envoi : destinataire, canal, statut, essais."""
    if status is not None and status not in NOTIFICATION_STATUSES:
        fail(f"--status : « {status} » inconnu (permis : {', '.join(NOTIFICATION_STATUSES)})")
    case_id = parse_case_id(case) if case is not None else None
    with unit_of_work(as_json, read_only=True) as session:
        viewer = reader(session, actor)
        visible = visible_notifications(viewer) if viewer is not None else None
        lines = list_notifications(
            session, case_id=case_id, status=status, limit=limit, visible=visible
        )
    if as_json:
        print_json([line.model_dump(mode="json") for line in lines])
        return
    table = Table(title="Notifications")
    for name in ("n°", "dossier", "destinataire", "rôle", "canal", "type", "statut", "essais",
                 "prochain essai / envoyée le"):
        table.add_column(name, justify="right" if name in ("n°", "essais") else "left")
    for line in lines:
        when = line.sent_at if line.status == "sent" else line.next_attempt_at
        table.add_row(
            str(line.id), line.case_ref, line.recipient, line.role, line.scheme, line.kind_label,
            STATUS_LABELS.get(line.status, line.status), str(line.attempts), format_local(when),
        )
    console.print(table)


@notifications_app.command("show")
def show_command(
    notification_id: str = typer.Argument(..., help="Numéro de la notification."),
    actor: str | None = ReaderOption,
    as_json: bool = JsonOption,
) -> None:
    """Affiche une notification et son texte (aperçu s'il n'est pas encore écrit)."""
    number = row_id(notification_id, "numéro de notification")
    with unit_of_work(as_json, read_only=True) as session:
        viewer = reader(session, actor)
        visible = visible_notifications(viewer) if viewer is not None else None
        shown = show_notification(session, number, visible=visible)
    if as_json:
        print_json(shown.model_dump(mode="json"))
        return
    line = shown.line
    console.print(
        f"Notification n° {line.id} — dossier {line.case_ref}, {line.kind_label}, pour "
        f"{line.recipient}"
        f" ({line.role}) par {line.scheme}:// — {STATUS_LABELS.get(line.status, line.status)}, "
        f"{line.attempts} essai(s)"
    )
    if shown.problem is not None:
        console.print(f"Texte impossible à écrire : {shown.problem}", markup=False)
        return
    if not shown.written:
        console.print("Aperçu : le texte sera écrit au moment de l'envoi.")
    console.print(shown.subject or "", markup=False)
    console.print(shown.body or "", markup=False)


@notifications_app.command("retry")
def retry_command(
    notification_ids: list[str] | None = typer.Argument(
        None, help="Numéros des notifications (un ou plusieurs)."
    ),
    actor: str = typer.Option(..., "--actor", help="Identifiant du membre du personnel."),
    status: str | None = typer.Option(
        None, "--status", help="Toutes celles de ce statut (unknown ou failed)."
    ),
    since: str | None = typer.Option(
        None, "--since", help="Avec --status : créées depuis cette date-heure (ISO)."
    ),
    case: str | None = typer.Option(None, "--case", help="Avec --status : de ce dossier."),
    now: str | None = NowOption,
    as_json: bool = JsonOption,
) -> None:
    """Remet en file des notifications en « remise incertaine » ou en échec (tracé).

    Par numéros (`retry 41 42`) ou par filtre (`retry --status unknown --since 2026-11-30`);
    tout ou rien : un refus, et aucune n'est remise en file."""
    moment = resolve_now(now)
    actor = identifier(actor, "--actor")
    numbers = [row_id(n, "numéro de notification") for n in notification_ids or []]
    if numbers and status is not None:
        fail("donnez des numéros ou un filtre (--status), pas les deux")
    if not numbers and status is None:
        fail("donnez un ou plusieurs numéros, ou un filtre : --status unknown [--since ISO]")
    if status is None and (since is not None or case is not None):
        fail("--since et --case filtrent avec --status (unknown ou failed)")
    after = resolve_now(since) if since is not None else None
    case_id = parse_case_id(case) if case is not None else None
    with unit_of_work(as_json) as session:
        check_actor(session, actor)
        if status is not None:
            numbers = requeue_candidates(session, status=status, since=after, case_id=case_id)
        rows = requeue_many(session, numbers, actor_id=actor, now=moment)
        result = [
            {"id": r.id, "status": r.status, "next_attempt_at": r.next_attempt_at} for r in rows
        ]
    with after_commit(f"{len(result)} notification(s) remise(s) en file"):
        if as_json:
            print_json(result[0] if notification_ids and len(notification_ids) == 1 else result)
            return
        listed = ", ".join(f"n° {r['id']}" for r in result) or "aucune"
        console.print(
            f"Notification(s) {listed} remise(s) en file par {actor} : "
            f"envoi au prochain passage (suivi notify)."
        )


def register(app: typer.Typer) -> None:
    # build() may run more than once in a process (tests): register each command once.
    if not any(c.name == "notify" for c in app.registered_commands):
        app.command("notify")(notify_command)
    if not any(g.name == "notifications" for g in app.registered_groups):
        app.add_typer(notifications_app, name="notifications")
