"""`suivi demo`: simulate a month of the demo organisation on a database of its own."""

from __future__ import annotations

import threading
from contextlib import suppress
from datetime import date
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from processes import registry
from suivi import demo
from suivi.common import console, fail
from suivi.demo_summary import ASYLUM_STEPS, DemoSummary, summarise

SENSITIVE = ("asylum",)
"""Where a claim stands tells a decision (GDPR art. 9): those cases are counted, not listed by
state, in the summary's own CADA block."""
DAY_NAMES = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
KIND_LABELS = {"reminder": "Relances", "escalation": "Escalades", "deadline": "Échéances"}
PROCESS_LABELS = {
    "hygiene": "hygiène",
    "arrears": "impayés",
    "insurance": "assurance",
    "asylum": "asile",
}


def warm_up_prefect() -> threading.Thread | None:
    """Start Prefect's temporary server while the demo database is prepared (5 to 17 s).

    Without PREFECT_API_URL the first flow run would start it anyway, the same one (it is a
    singleton of the process); a failure here is met again, and reported, by that first run.
    """
    from flows import local_defaults, quiet_temporary_server

    local_defaults()
    quiet_temporary_server()
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        return None

    def start() -> None:
        from prefect.server.api.server import SubprocessASGIServer

        with suppress(Exception):
            SubprocessASGIServer().start()

    thread = threading.Thread(target=start, name="demarrage-prefect", daemon=True)
    thread.start()
    return thread


def state_label(process: str, state: str) -> str:
    """The label staff know the state by, from the process definition itself."""
    label = registry.get(process).definition.state(state).label
    return f"{PROCESS_LABELS.get(process, process)} : {label}"


def day_label(report: demo.DayReport) -> str:
    name = f"{DAY_NAMES[report.day.weekday()]} {report.day.strftime('%d/%m/%Y')}"
    if not report.working:
        name += " (fermé)"
    return (
        f"{name} · {report.steps} action(s) · {report.fired} horloge(s) · "
        f"{report.sent} envoi(s)"
    )


def summary_tables(summary: DemoSummary) -> list[Table]:
    period = f"du {summary.start.strftime('%d/%m/%Y')} au {summary.end.strftime('%d/%m/%Y')}"
    month = Table(title=f"Le mois simulé, {period}", show_header=False)
    month.add_column("", style="bold")
    month.add_column("", justify="right")
    for process, count in sorted(summary.opened.items()):
        month.add_row(f"Dossiers ouverts ({PROCESS_LABELS.get(process, process)})", str(count))
    month.add_row("Relances envoyées", str(summary.clock_messages.get("reminder", 0)))
    month.add_row("Escalades envoyées", str(summary.clock_messages.get("escalation", 0)))
    month.add_row(
        "Échéances échues (traitées par le balayage)", str(summary.clocks_fired.get("deadline", 0))
    )
    month.add_row("1ers avertissements", str(summary.first_warnings))
    month.add_row("2es avertissements", str(summary.second_warnings))
    month.add_row(
        "Alertes à la direction",
        f"{summary.direction_alerts} dossier(s), {summary.direction_alert_messages} message(s)",
    )
    month.add_row("Maintiens décidés par la direction", str(summary.maintained))
    for key, count in sorted(summary.closed.items()):
        if key[0] not in SENSITIVE:
            month.add_row(f"Clos : {state_label(*key)}", str(count))
    month.add_row("Agendas du matin envoyés", str(summary.sent_by_kind.get("daily_agenda", 0)))
    channels = Table(title="Notifications envoyées par canal")
    channels.add_column("canal")
    channels.add_column("envoyées", justify="right")
    for channel, count in sorted(summary.sent_by_channel.items()):
        channels.add_row(f"{channel}://", str(count))
    channels.add_row("non envoyées (en attente ou en échec)", str(summary.not_sent))
    still_open = Table(title="Dossiers en cours à la fin du mois")
    still_open.add_column("état")
    still_open.add_column("dossiers", justify="right")
    for (process, state), count in sorted(summary.open_by_state.items()):
        if process not in SENSITIVE:
            still_open.add_row(state_label(process, state), str(count))
    return [month, asylum_table(summary), channels, still_open]


def asylum_table(summary: DemoSummary) -> Table:
    """The CADA's month in counts: no household is named, nothing sensitive is printed."""
    cada = summary.asylum
    table = Table(title="CADA : procédure d'asile (chiffres seulement)", show_header=False)
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    table.add_row("Demandes suivies en fin de mois", str(cada.households))
    table.add_row("Dossiers clos dans le mois", str(cada.closed))
    for trigger, label in ASYLUM_STEPS.items():
        if cada.steps.get(trigger):
            table.add_row(label, str(cada.steps[trigger]))
    table.add_row("Rappels et alertes d'échéance envoyés", str(cada.deadline_messages))
    table.add_row(
        "Maintiens comptés d'une fin de prise en charge provisoire", str(cada.provisional_stays)
    )
    return table


def where_to_look(summary: DemoSummary, path: Path) -> str:
    env = f"SUIVI_DATABASE_URL={demo.database_url(path)}"
    lines = [
        "Pour regarder de plus près (la base de la démo, jamais la vôtre) :",
        f"  {env} .venv/bin/suivi notifications list",
        f"  {env} .venv/bin/suivi case list --process hygiene",
    ]
    if summary.alert_case is not None:
        lines.append(
            f"  {env} .venv/bin/suivi case show {summary.alert_case}"
            "   # un dossier signalé à la direction (2e avertissement)"
        )
    lines.append(f"  {env} .venv/bin/suivi audit verify")
    lines.append(
        f"  echo 'mot de passe de démo' | {env} .venv/bin/suivi user set-password dgls-rey "
        "--password-stdin"
    )
    lines.append(
        f"  {env} .venv/bin/suivi web   # puis http://127.0.0.1:8000, identifiant dgls-rey"
    )
    log = path.parent / demo.DEMO_CONSOLE_LOG.name
    lines.append(f"Les messages du canal console sont dans {log}.")
    return "\n".join(lines)


def demo_command(
    days: int = typer.Option(30, "--days", min=1, max=366, help="Jours à simuler."),
    start: str = typer.Option(
        demo.DEFAULT_START.isoformat(), "--debut",
        help="Premier jour simulé (AAAA-MM-JJ) ; fixe par défaut, pour une démo reproductible.",
    ),
    path: Path = typer.Option(
        demo.DEMO_DB, "--base", help="Fichier SQLite de la démo (recréé à chaque fois)."
    ),
) -> None:
    """Simule un mois de suivis de l'organisation de démonstration, sur une base à part.

    Sites réels, personnes inventées ; les flux Prefect tournent sur l'API locale.
    """
    try:
        first = date.fromisoformat(start)
    except ValueError:
        fail(f"--debut : date invalide « {start} » (attendu : 2026-11-02)")
    directory = demo.demo_directory()
    try:
        engine = demo.fresh_database(path, directory)
    except demo.NotADemoDatabase as refused:
        fail(str(refused))
    # Before any flow connects: the flows open the database that this variable names.
    demo.use_demo_database(path)
    server = warm_up_prefect()
    steps = demo.plan(first, directory)
    try:
        replayed = demo.replay_history(engine, first, steps)
    except demo.StepRefused as refused:
        fail(str(refused), code=1)
    console.print(
        f"{directory.organisation.name} : {len(directory.sites)} sites, "
        f"{len(directory.staff)} personnes, {len(directory.residents)} résidents "
        f"(annuaire de démonstration)\n"
        f"Base de la démo : {path} (recréée) · {replayed} jours d'historique rejoués "
        f"(les dossiers déjà en cours)",
        soft_wrap=True,
    )
    columns = (
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("Démarrage de Prefect (API locale)…", total=days)
        if server is not None:
            server.join()
        with demo.fast_flows():

            def advance(report: demo.DayReport) -> None:
                progress.update(task, advance=1, description=day_label(report))

            try:
                demo.run_month(
                    engine, steps, start=first, days=days, routine=demo.FlowRoutine(),
                    on_day=advance,
                )
            except demo.StepRefused as refused:
                fail(str(refused), code=1)
            except KeyboardInterrupt:
                fail(f"démo interrompue : {path} ne contient qu'une partie du mois", code=130)
    summary = summarise(engine, first, days)
    for table in summary_tables(summary):
        console.print(table)
    if summary.audit_breaks:
        fail("piste d'audit rompue : " + "; ".join(summary.audit_breaks), code=1)
    console.print("Piste d'audit : toutes les chaînes sont intactes.")
    # Commands to copy: never wrapped, whatever the terminal's width.
    console.print(where_to_look(summary, path), soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
