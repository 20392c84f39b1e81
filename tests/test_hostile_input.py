"""Issue 14: what an attacker or a careless user typed, replayed. Each probe is refused with one
French line and exit 2 and leaves the database exactly as it was, or is accepted and shown,
sent and stored as the plain text it is."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import DIRECTORY, at
from helpers import GS, report, schedule
from receivers import SmtpReceiver, smtp_server  # noqa: F401
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner, Result

from models.base import Base
from models.cases import Case, Notification
from models.db import make_engine, session_scope
from models.directory import Organisation, Resident, Site, Staff, StaffSite
from notifications.channels import escape_markdown, send
from notifications.delivery import deliver_pending
from processes import engine as wf
from processes.errors import InvalidPayload
from processes.sweep import sweep_due_clocks
from suivi.cli import build

MARKUP_NAME = "[/]Jean [bold]Dupont[/bold] [link=http://evil.test]ici[/link]"
HTML_NAME = '<img src=x onerror=alert(1)><a href="http://evil.test">cliquez ici</a>'
ESCAPES = "\x1b[2J\x1b]8;;http://evil.test\x1b\\lien\x1b]8;;\x1b\\"


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: what "nothing written" is compared on."""
    with engine.connect() as conn:
        return {
            table.name: sorted(map(tuple, conn.execute(table.select()).all()), key=repr)
            for table in Base.metadata.sorted_tables
        }


@pytest.fixture
def cli(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """The command line on the test database (SQLite and PostgreSQL)."""
    monkeypatch.setenv("SUIVI_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    yield CliRunner()


def run(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(build(), list(args))


def refused(result: Result) -> str:
    """Exit 2, one French line, no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def rename(engine: Engine, resident: str | None = None, site: str | None = None) -> None:
    with session_scope(engine) as s:
        if resident is not None:
            row = s.get(Resident, "r-0001")
            assert row is not None
            row.name = resident
        if site is not None:
            place = s.get(Site, "viala")
            assert place is not None
            place.name = site


# 1. Names with Rich markup or terminal escapes


def test_a_resident_named_with_rich_markup_gets_one_case_and_is_shown_as_typed(
    engine: Engine, cli: CliRunner
) -> None:
    rename(engine, resident=MARKUP_NAME, site="Viala [red]Anjou[/]")
    opened = run(cli, "case", "open", "hygiene", "--resident", "r-0001", "--actor", GS,
                 "--now", "2026-11-23T09:00", "--data", "observed_at=2026-11-20T10:00",
                 "--data", "description=odeurs")
    assert opened.exit_code == 0, (opened.output, opened.exception)
    assert MARKUP_NAME in opened.stdout.replace("\n", "")
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 1
        case_id = s.scalars(select(Case.id)).one()

    fired = run(cli, "case", "fire", str(case_id), "schedule_visit", "--actor", GS,
                "--now", "2026-11-24T09:00", "--data", "visit_at=2026-11-30T10:00",
                "--data", "mode=home")
    assert fired.exit_code == 0, (fired.output, fired.exception)
    for command in (["case", "show", str(case_id)], ["resident", "show", "r-0001"],
                    ["directory", "show"]):
        shown = run(cli, *command)
        assert shown.exit_code == 0, (command, shown.output, shown.exception)
    assert "[red]Anjou[/]" in run(cli, "directory", "show").stdout


def test_terminal_escape_sequences_stored_in_names_never_reach_the_terminal(
    engine: Engine, cli: CliRunner
) -> None:
    with session_scope(engine) as s:
        case_id = report(s, "2026-11-23 09:00").id
    rename(engine, resident=f"Jean{ESCAPES} Dupont", site=f"Viala{ESCAPES}")
    for command in (["case", "show", str(case_id)], ["resident", "show", "r-0001"],
                    ["directory", "show"], ["case", "show", str(case_id), "--json"],
                    ["resident", "show", "r-0001", "--json"]):
        shown = run(cli, *command)
        assert shown.exit_code == 0, (command, shown.output)
        assert "\x1b" not in shown.stdout, command
    assert "Jean[2J]8;;http://evil.test\\lien]8;;\\ Dupont" in run(
        cli, "resident", "show", "r-0001"
    ).stdout


def test_a_directory_name_with_an_escape_sequence_is_refused_at_import(
    engine: Engine, cli: CliRunner, tmp_path: Path
) -> None:
    document = yaml.safe_load(DIRECTORY.read_text(encoding="utf-8"))
    document["residents"][0]["name"] = f"Jean{ESCAPES}"
    path = tmp_path / "directory.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    before = dump(engine)
    line = refused(run(cli, "directory", "import", str(path)))
    assert "residents.0.name : caractère de contrôle interdit (U+001B)" in line
    assert dump(engine) == before


def test_a_committed_opening_whose_display_fails_still_exits_0_and_is_not_repeated(
    engine: Engine, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(view: Any) -> None:
        raise RuntimeError("terminal fermé")

    monkeypatch.setattr("suivi.commands.case.print_case", broken)
    opened = run(cli, "case", "open", "hygiene", "--resident", "r-0001", "--actor", GS,
                 "--now", "2026-11-23T09:00", "--data", "observed_at=2026-11-20T10:00",
                 "--data", "description=odeurs")
    assert opened.exit_code == 0, (opened.output, opened.exception)
    assert "l'action est enregistrée" in opened.stderr
    assert opened.stdout.strip() == "dossier C-1 ouvert"


# 2. Tracebacks where a refusal is due


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--now", "0001-01-01T00:00", "--data", "observed_at=2026-11-20T10:00"],
         "--now : date-heure invalide"),
        (["--now", "2026-11-23T09:00", "--data", "observed_at=0001-01-01"],
         "observed_at : date hors de la plage permise (1900-2200) : 0001-01-01"),
        (["--now", "2026-11-23T09:00", "--data", "observed_at=1899-12-31T23:00"],
         "observed_at : date hors de la plage permise (1900-2200)"),
        (["--now", "2026-11-23T09:00", "--data", "observed_at=2026-11-20T10:00",
          "--data", "description=odeurs\x00"],
         "caractère de contrôle interdit (U+0000)"),
        (["--now", "2026-11-23T09:00", "--data", "observed_at=2026-11-20T10:00",
          "--data", "description=" + "x" * 5001],
         "description : texte trop long (5000 caractères au plus)"),
    ],
    ids=["now-year-1", "observed-year-1", "observed-1899", "nul-character", "5001-characters"],
)
def test_extreme_or_poisoned_values_of_an_opening_are_refused_and_write_nothing(
    engine: Engine, cli: CliRunner, args: list[str], expected: str
) -> None:
    base = ["case", "open", "hygiene", "--resident", "r-0001", "--actor", GS]
    if not any(a.startswith("description=") for a in args):
        args = [*args, "--data", "description=odeurs"]
    before = dump(engine)
    assert expected in refused(run(cli, *base, *args))
    assert dump(engine) == before


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["case", "open", "hygiene", "--resident", "r" * 300, "--actor", GS],
         "--resident : identifiant de 1 à 64 caractères attendu"),
        (["case", "open", "hygiene", "--resident", "r-0001", "--actor", "gs\x00viala"],
         "--actor : caractère de contrôle interdit (U+0000)"),
        (["case", "show", "99999999999999999999"], "référence de dossier invalide"),
        (["notifications", "show", str(2**63)], "numéro de notification invalide"),
        (["resident", "show", "r\x00"], "résident : caractère de contrôle interdit"),
    ],
    ids=["300-character-id", "nul-in-actor", "case-beyond-bigint", "notification-2-63",
         "nul-in-resident"],
)
def test_ids_no_database_can_hold_are_refused_the_same_on_sqlite_and_postgres(
    engine: Engine, cli: CliRunner, args: list[str], expected: str
) -> None:
    before = dump(engine)
    assert expected in refused(run(cli, *args))
    assert dump(engine) == before


def test_a_visit_in_the_year_9999_is_refused_by_name(engine: Engine, cli: CliRunner) -> None:
    with session_scope(engine) as s:
        case_id = report(s, "2026-11-23 09:00").id
    before = dump(engine)
    line = refused(run(cli, "case", "fire", str(case_id), "schedule_visit", "--actor", GS,
                       "--now", "2026-11-24T09:00", "--data", "visit_at=9999-12-31T10:00",
                       "--data", "mode=home"))
    assert "visit_at : date hors de la plage permise (1900-2200) : 9999-12-31" in line
    assert dump(engine) == before


ARREARS = {"unpaid_months": ["2026-09", "2026-10"]}


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("1e30", "monthly_amount : montant trop grand"),
        ("0.001", "monthly_amount : montant au centime près attendu (reçu : 0.001)"),
        ("12,505", "monthly_amount : montant au centime près attendu"),
        ("-5", "monthly_amount : doit être supérieur à 0"),
        ("Infinity", "monthly_amount : nombre fini attendu"),
        ("NaN", "monthly_amount : nombre fini attendu"),
    ],
)
def test_rent_amounts_beyond_reason_or_below_a_cent_are_refused_in_french(
    engine: Engine, amount: str, expected: str
) -> None:
    before = dump(engine)
    with pytest.raises(InvalidPayload) as refusal, session_scope(engine) as s:
        wf.open_case(s, "arrears", resident_id="r-0001", actor_id=GS, now=at("2026-11-23 09:00"),
                     payload={**ARREARS, "monthly_amount": amount})
    assert expected in refusal.value.full_message()
    assert dump(engine) == before


def test_a_rent_amount_to_the_cent_is_kept_exactly(engine: Engine) -> None:
    with session_scope(engine) as s:
        case = wf.open_case(s, "arrears", resident_id="r-0001", actor_id=GS,
                            now=at("2026-11-23 09:00"),
                            payload={**ARREARS, "monthly_amount": "412,37"})
        assert Decimal(case.data["monthly_amount"]) == Decimal("412.37")


# 3. and 4. Messages as text; contacts validated and encoded


def hostile_visit_reminders(engine: Engine, smtp: SmtpReceiver, email: str | None = None) -> None:
    """A resident named with HTML, reminded of a visit by email, the gs told by email too."""
    with session_scope(engine) as s:
        org = s.scalars(select(Organisation)).one()
        org.settings = {"resident_channel": f"mailto://127.0.0.1:{smtp.port}"
                                            "?from=suivi@horizon.test&to={email}"}
        gs = s.get(Staff, GS)
        assert gs is not None
        gs.notify = [smtp.url("gs@horizon.test")]
        resident = s.get(Resident, "r-0001")
        assert resident is not None
        resident.name = HTML_NAME
        if email is not None:
            resident.email = email  # a row written before contacts were checked at import
    with session_scope(engine) as s:
        case = report(s, "2026-11-23 09:00")
        schedule(s, case.id, "2026-11-24 09:00", "2026-11-30 10:00")
    sweep_due_clocks(engine, at("2026-11-30 07:00"))
    deliver_pending(engine, at("2026-11-30 07:00"))


def test_a_resident_named_with_html_arrives_as_text_in_every_email(
    engine: Engine, smtp_server: SmtpReceiver  # noqa: F811
) -> None:
    hostile_visit_reminders(engine, smtp_server)
    recipients = sorted(r for mail in smtp_server.mails for r in mail.recipients)
    assert {"gs@horizon.test", "jean.dupont@example.org"} <= set(recipients)
    html = [part.get_content() for mail in smtp_server.mails for part in mail.message.walk()
            if part.get_content_type() == "text/html"]
    assert len(html) == len(smtp_server.mails)  # Apprise sends email as HTML by default
    for content in html:
        assert "<img" not in content and "<a href" not in content
        assert "&lt;img&nbsp;src=x&nbsp;onerror=alert(1)&gt;" in content
    # The plain part shows the name as typed: text is text.
    assert HTML_NAME in smtp_server.mails[0].text or HTML_NAME in smtp_server.mails[1].text


def test_a_letter_names_a_resident_called_with_html_as_text_in_an_owner_only_file(
    engine: Engine, cli: CliRunner, tmp_path: Path
) -> None:
    from hygiene_walk import hold_visit, report_breach

    with session_scope(engine) as s:
        case = report_breach(s, "r-0001", "2026-09-13")
        for day in ("2026-09-14", "2026-09-21", "2026-09-28"):
            case = hold_visit(s, case, day)
        case_id = case.id
    rename(engine, resident=HTML_NAME)
    target = tmp_path / "avertissement.html"
    previous = os.umask(0o022)
    try:
        written = run(cli, "case", "letter", str(case_id), "hygiene_warning_1", "-o", str(target),
                      "--now", "2026-09-29T09:00")
    finally:
        os.umask(previous)
    assert written.exit_code == 0, written.output
    html = target.read_text(encoding="utf-8")
    assert "<img" not in html and '<a href="http://evil.test">' not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_an_email_carrying_a_second_recipient_reaches_only_one(
    engine: Engine, smtp_server: SmtpReceiver  # noqa: F811
) -> None:
    hostile_visit_reminders(engine, smtp_server, email="jean.dupont@example.org&bcc=spy@evil.test")
    recipients = [r for mail in smtp_server.mails for r in mail.recipients]
    assert recipients and "spy@evil.test" not in recipients
    assert all(len(mail.recipients) == 1 for mail in smtp_server.mails)


@pytest.mark.parametrize(
    ("contact", "expected"),
    [
        ({"email": "jean.dupont@example.org&bcc=spy@evil.test"},
         "residents.0.contact.email : adresse e-mail invalide"),
        ({"email": "jean.dupont@example.org\nBcc: spy@evil.test"},
         "residents.0.contact.email : adresse e-mail invalide"),
        ({"phone": "0600000001&to=0700000000"},
         "residents.0.contact.phone : numéro de téléphone invalide"),
    ],
    ids=["email-with-bcc", "email-with-header", "phone-with-second-number"],
)
def test_contacts_that_are_not_one_address_or_one_number_are_refused_at_import(
    engine: Engine, cli: CliRunner, tmp_path: Path, contact: dict[str, str], expected: str
) -> None:
    document = yaml.safe_load(DIRECTORY.read_text(encoding="utf-8"))
    document["residents"][0]["contact"] = contact
    path = tmp_path / "directory.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    before = dump(engine)
    assert expected in refused(run(cli, "directory", "import", str(path)))
    assert dump(engine) == before


@pytest.mark.parametrize("phone", ["+33612345678", "06 12 34 56 78", "06.12.34.56.78"])
def test_a_phone_in_e164_or_french_form_is_accepted(tmp_path: Path, phone: str) -> None:
    from models.directory_io import parse_directory

    document = yaml.safe_load(DIRECTORY.read_text(encoding="utf-8"))
    document["residents"][0]["contact"] = {"phone": phone}
    parsed = parse_directory(yaml.safe_dump(document, allow_unicode=True))
    assert parsed.residents[0].contact.phone == phone


def test_text_sent_to_a_markdown_channel_shows_no_link() -> None:
    escaped = escape_markdown("[cliquez ici](http://evil.test) ![x](http://evil.test/x.png)")
    assert escaped == (
        "\\[cliquez ici\\]\\(http://evil.test\\) \\!\\[x\\]\\(http://evil.test/x.png\\)"
    )


# 5. Credentials never printed


def test_directory_show_masks_the_gateway_password(engine: Engine, cli: CliRunner) -> None:
    with session_scope(engine) as s:
        org = s.scalars(select(Organisation)).one()
        org.settings = {"resident_channel": "mailtos://user:s3cr3tpass@smtp.example.org?to={email}"}
    shown = run(cli, "directory", "show", "--json")
    assert shown.exit_code == 0, shown.output
    assert "s3cr3tpass" not in shown.stdout
    assert "mailtos://user:****@smtp.example.org" in shown.stdout


def test_a_failed_send_records_its_error_without_the_url_credentials() -> None:
    result = send("json://user:s3cr3tpass@127.0.0.1:9/t0k3n-0123456789?key=apikey42",
                  "Sujet", "Texte")
    assert not result.ok and result.error
    for secret in ("s3cr3tpass", "t0k3n-0123456789", "apikey42"):
        assert secret not in result.error


# 6. The direction's and the admins' reach follows their sites


def test_a_dgls_limited_to_one_site_hears_only_of_that_site(engine: Engine) -> None:
    from helpers import walk_to

    with session_scope(engine) as s:
        dgls = s.get(Staff, "dgls-1")
        assert dgls is not None
        dgls.all_sites = False
        dgls.site_links = [StaffSite(site_id="chartreux")]
    with session_scope(engine) as s:
        case_id = walk_to(s, "warning_2").id  # a viala case: the direction is alerted
    with session_scope(engine) as s:
        alerted = set(s.scalars(select(Notification.recipient_staff_id).where(
            Notification.case_id == case_id, Notification.recipient_role == "dgls")))
    assert alerted == {"dgls-2"}


def test_the_admin_fallback_reaches_only_the_admins_of_the_site(engine: Engine) -> None:
    with session_scope(engine) as s:
        admin = s.get(Staff, "admin")
        gs = s.get(Staff, GS)
        assert admin is not None and gs is not None
        admin.all_sites = False
        admin.site_links = [StaffSite(site_id="chartreux")]
        gs.active = False  # nobody left to plan viala's visits
        s.add(Staff(id="admin-viala", name="Admin Viala", role="admin", all_sites=False,
                    notify=[], active=True, site_links=[StaffSite(site_id="viala")]))
    with session_scope(engine) as s:
        case_id = report(s, "2026-11-02 09:00", actor="rgls-sud").id
    sweep_due_clocks(engine, at("2026-11-10 08:00"))
    with session_scope(engine) as s:
        reached = set(s.scalars(select(Notification.recipient_staff_id).where(
            Notification.case_id == case_id, Notification.kind == "plan_first_visit")))
    assert reached == {"admin-viala"}


# 7. Organisation settings, YAML bombs, timezones


BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
"""


def organisation_with(**changes: Any) -> str:
    document = yaml.safe_load(DIRECTORY.read_text(encoding="utf-8"))
    document["organisation"].update(changes)
    return yaml.safe_dump(document, allow_unicode=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (BOMB + DIRECTORY.read_text(encoding="utf-8"), "plus de 20 alias (*nom) : fichier refusé"),
        ("organisation: " + "[" * 5000 + "]" * 5000, "imbrication trop profonde"),
        (organisation_with(timezone="Mars/Olympus"),
         "organisation.timezone : fuseau « Mars/Olympus » non pris en charge"),
        (organisation_with(settings={"clocks": {"hygiene.plan_first_visit":
                                                {"amount": "five", "unit": "fortnights"}}}),
         "organisation.settings.clocks.hygiene.plan_first_visit.amount : nombre entier attendu"),
        (organisation_with(settings={"resident_channel": "mailto://sms.local/?to={oops}"}),
         "organisation.settings.resident_channel : champ(s) inconnu(s) {oops}"),
        (organisation_with(settings={"resident_chanel": "console://"}),
         "organisation.settings.resident_chanel : champ inconnu"),
        (organisation_with(name="x" * 5000),
         "organisation.name : texte trop long (200 caractères au plus)"),
    ],
    ids=["billion-laughs", "deep-nesting", "mars-timezone", "clock-in-fortnights",
         "unknown-placeholder", "misspelt-key", "5000-character-name"],
)
def test_a_bad_directory_file_is_refused_with_the_key_named_and_writes_nothing(
    engine: Engine, cli: CliRunner, tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "directory.yaml"
    path.write_text(text, encoding="utf-8")
    before = dump(engine)
    assert expected in refused(run(cli, "directory", "import", str(path)))
    assert dump(engine) == before


def test_settings_stored_before_they_were_checked_refuse_instead_of_crashing(
    engine: Engine, cli: CliRunner
) -> None:
    with session_scope(engine) as s:
        org = s.scalars(select(Organisation)).one()
        org.settings = {
            "clocks": {"hygiene.plan_first_visit": {"amount": "five", "unit": "fortnights"}},
            "resident_channel": "mailto://sms.local/?to={oops}",
        }
    before = dump(engine)
    line = refused(run(cli, "case", "open", "hygiene", "--resident", "r-0001", "--actor", GS,
                       "--now", "2026-11-23T09:00", "--data", "observed_at=2026-11-20T10:00",
                       "--data", "description=odeurs"))
    assert "réglage invalide organisation.settings.clocks.hygiene.plan_first_visit" in line
    assert dump(engine) == before


def test_the_test_and_demo_directories_pass_the_settings_schema() -> None:
    from models.directory_io import load_directory_file

    demo = Path(__file__).parent.parent / "suivi" / "demo_data" / "directory.yaml"
    assert load_directory_file(demo).organisation.settings.resident_channel == "console://"
    assert load_directory_file(DIRECTORY).organisation.timezone == "Europe/Paris"


# 9. Several messages requeued at once


def test_staff_requeue_every_unknown_message_since_a_date_all_or_nothing(
    engine: Engine, cli: CliRunner
) -> None:
    with session_scope(engine) as s:
        for resident, actor in (("r-0001", GS), ("r-0002", GS), ("r-0003", "gs-chartreux")):
            report(s, "2026-11-23 09:00", resident=resident, actor=actor)
    sweep_due_clocks(engine, at("2026-11-30 09:00"))
    with session_scope(engine) as s:
        rows = s.scalars(select(Notification).order_by(Notification.id)).all()
        for row in rows:
            row.status = "unknown"
        ids = [str(r.id) for r in rows]
        viala = [str(r.id) for r in rows if r.case_id != rows[-1].case_id]

    before = dump(engine)
    # gs-viala may not resend chartreux's message: none of the three is requeued.
    assert "n'intervient pas sur le site « chartreux »" in refused(
        run(cli, "notifications", "retry", *ids, "--actor", GS, "--now", "2026-11-30T10:00")
    )
    assert dump(engine) == before
    both = run(cli, "notifications", "retry", *viala, "--actor", GS, "--now", "2026-11-30T10:00")
    assert both.exit_code == 0, both.output
    by_filter = run(cli, "notifications", "retry", "--status", "unknown", "--since",
                    "2026-11-30T00:00", "--actor", "rgls-sud", "--now", "2026-11-30T10:05",
                    "--json")
    assert by_filter.exit_code == 0, by_filter.output
    with session_scope(engine) as s:
        assert set(s.scalars(select(Notification.status))) == {"pending"}
    assert "donnez un ou plusieurs numéros" in refused(
        run(cli, "notifications", "retry", "--actor", GS)
    )


# 10. Files readable by their owner only


def test_files_suivi_writes_are_owner_only_whatever_the_umask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from models.migrate import upgrade
    from models.private import append_private, write_private

    previous = os.umask(0o022)
    try:
        database = tmp_path / "var" / "suivi.db"
        eng = make_engine(f"sqlite:///{database}")
        upgrade(eng)
        eng.dispose()
        log = tmp_path / "logs" / "console.log"
        append_private(log, "ligne\n")
        letter = tmp_path / "lettre.html"
        letter.write_text("ancien", encoding="utf-8")  # 0644 under this umask
        write_private(letter, b"<p>avertissement</p>")
    finally:
        os.umask(previous)
    for path in (database, log, letter):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for folder in (database.parent, log.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    wal = database.with_name("suivi.db-wal")
    if wal.exists():
        assert stat.S_IMODE(wal.stat().st_mode) == 0o600


def test_the_console_log_says_for_whom_each_line_was(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "console.log"
    monkeypatch.setenv("SUIVI_CONSOLE_LOG", str(log))
    with session_scope(engine) as s:
        report(s, "2026-11-23 09:00")
    sweep_due_clocks(engine, at("2026-11-30 09:00"))
    report_ = deliver_pending(engine, at("2026-11-30 09:00"))
    assert report_.sent >= 1
    lines = log.read_text(encoding="utf-8").splitlines()
    assert lines and all(" pour " in line for line in lines)
    assert any("pour gs-viala : [C-1]" in line for line in lines)
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
