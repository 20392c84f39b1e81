"""Issue 13, items 8-10: the command line in staff's own words. An arrears case opened and a
plan agreed from the command line (JSON lists and objects, repeated keys), French words for
every closed list, `case show` and `case list` in French, `resident list`, `agenda --me`,
`--version`, and help without Typer's English."""

from __future__ import annotations

import json
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from models.cases import Case, CaseEvent
from models.db import get_engine, session_scope
from processes import registry
from processes.fields import Payload, choices_of
from suivi import common
from suivi.cli import build

DIRECTORY = Path(__file__).parent / "data" / "directory.yaml"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("SUIVI_DATABASE_URL", f"sqlite:///{tmp_path / 'suivi.db'}")
    monkeypatch.setenv("COLUMNS", "200")
    # Wide enough for a table's cells on one line whatever the suite left in the environment
    # (in the full suite the console otherwise measured 80 columns).
    monkeypatch.setattr(common.console, "_width", 200)
    runner = CliRunner()
    assert runner.invoke(build(), ["db", "upgrade", "--rehearsal"]).exit_code == 0
    assert runner.invoke(build(), ["directory", "import", str(DIRECTORY)]).exit_code == 0
    yield runner


def run(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(build(), list(args))


def ok(result: Result) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def events() -> int:
    with session_scope(get_engine()) as s:
        return s.scalar(select(func.count()).select_from(CaseEvent)) or 0


def open_arrears(cli: CliRunner) -> int:
    out = ok(run(cli, "case", "open", "arrears", "--resident", "r-0002", "--actor", "gs-viala",
                 "--now", "2027-03-08T09:00", "--data", "monthly_amount=420,50",
                 "--data", 'unpaid_months=["2027-01","2027-02"]', "--json"))
    return int(json.loads(out)["id"])


# --- item 8 ---------------------------------------------------------------------------


def test_an_arrears_case_opened_on_8_march_2027_with_two_unpaid_months_given_as_json(
    cli: CliRunner,
) -> None:
    case = open_arrears(cli)
    with session_scope(get_engine()) as s:
        stored = s.get(Case, case)
        assert stored is not None and stored.state == "detected"
        assert stored.data["unpaid_months"] == ["2027-01", "2027-02"]
        assert stored.data["monthly_amount"] == "420.50"


def test_a_repeated_key_builds_the_list_of_unpaid_months(cli: CliRunner) -> None:
    out = ok(run(cli, "case", "open", "arrears", "--resident", "r-0002", "--actor", "gs-viala",
                 "--now", "2027-03-08T09:00", "--data", "monthly_amount=400",
                 "--data", "unpaid_months=2027-02", "--data", "unpaid_months=2027-01",
                 "--json"))
    assert json.loads(out)["data"]["unpaid_months"] == ["2027-01", "2027-02"]
    single = ok(run(cli, "case", "open", "arrears", "--resident", "r-0001", "--actor",
                    "gs-viala", "--now", "2027-03-08T09:00", "--data", "monthly_amount=400",
                    "--data", "unpaid_months=2027-02", "--json"))
    assert json.loads(single)["data"]["unpaid_months"] == ["2027-02"]


def test_a_plan_of_two_instalments_is_agreed_from_the_command_line_on_15_march_2027(
    cli: CliRunner,
) -> None:
    case = open_arrears(cli)
    ok(run(cli, "case", "fire", str(case), "record_interview", "--actor", "gs-viala",
           "--now", "2027-03-12T10:00", "--data", "held_at=2027-03-12T09:30",
           "--data", "housing_benefit_checked=oui"))
    shown = ok(run(
        cli, "case", "fire", f"C-{case}", "agree_plan", "--actor", "gs-viala",
        "--now", "2027-03-15T10:00",
        "--data", 'instalments={"due_on": "2027-04-10", "amount": "420.50"}',
        "--data", 'instalments={"due_on": "2027-05-10", "amount": "420.50"}',
    ))
    assert "Plan d'apurement en cours" in shown
    with session_scope(get_engine()) as s:
        stored = s.get(Case, case)
        assert stored is not None and stored.state == "repayment_plan"
        assert [i["due_on"] for i in stored.data["plan"]] == ["2027-04-10", "2027-05-10"]


def test_a_text_that_only_looks_like_json_stays_the_text_typed(cli: CliRunner) -> None:
    out = ok(run(cli, "case", "open", "hygiene", "--resident", "r-0001", "--actor", "gs-viala",
                 "--now", "2026-11-23T09:00", "--data", "observed_at=2026-11-20T10:00",
                 "--data", "description=[urgent] odeurs", "--json"))
    assert json.loads(out)["history"][0]["payload"]["description"] == "[urgent] odeurs"


# --- item 9 ---------------------------------------------------------------------------


def hygiene_visit(cli: CliRunner) -> int:
    case = json.loads(ok(run(
        cli, "case", "open", "hygiene", "--resident", "r-0001", "--actor", "gs-viala",
        "--now", "2026-11-23T09:00", "--data", "observed_at=2026-11-20T10:00",
        "--data", "description=odeurs", "--json")))["id"]
    ok(run(cli, "case", "fire", str(case), "schedule_visit", "--actor", "gs-viala",
           "--now", "2026-11-24T09:00", "--data", "visit_at=2026-11-30T10:00",
           "--data", "mode=à domicile"))
    return int(case)


def test_a_visit_on_30_november_2026_recorded_as_satisfaisante_is_stored_as_satisfactory(
    cli: CliRunner,
) -> None:
    case = hygiene_visit(cli)
    ok(run(cli, "case", "fire", str(case), "record_visit", "--actor", "gs-viala",
           "--now", "2026-11-30T12:00", "--data", "held_at=2026-11-30T10:30",
           "--data", "outcome=Satisfaisante"))
    with session_scope(get_engine()) as s:
        last = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case)
                         .order_by(CaseEvent.seq.desc())).first()
        assert last is not None and last.payload["outcome"] == "satisfactory"
        planned = s.scalars(select(CaseEvent).where(CaseEvent.trigger == "schedule_visit")).one()
        assert planned.payload["mode"] == "home"


def test_an_unknown_outcome_is_refused_listing_the_french_words(cli: CliRunner) -> None:
    case = hygiene_visit(cli)
    before = events()
    result = run(cli, "case", "fire", str(case), "record_visit", "--actor", "gs-viala",
                 "--now", "2026-11-30T12:00", "--data", "held_at=2026-11-30T10:30",
                 "--data", "outcome=bof")
    assert result.exit_code == 2
    assert "satisfaisante, insatisfaisante" in result.stderr
    assert "satisfactory" not in result.stderr
    assert events() == before


def _closed_lists(model: type[BaseModel]) -> Iterator[tuple[str, typing.Any]]:
    for name, info in model.model_fields.items():
        yield name, info
        inner = info.annotation
        for arg in typing.get_args(inner) or (inner,):
            if isinstance(arg, type) and issubclass(arg, Payload):
                yield from _closed_lists(arg)


def test_every_closed_list_of_every_process_has_its_french_words() -> None:
    checked = 0
    for process in registry.latest_all():
        for trigger in process.definition.triggers:
            for name, info in _closed_lists(trigger.payload):
                words = choices_of(info)
                if words is None:
                    continue
                checked += 1
                for code, word in words.labels.items():
                    assert word and word != code.replace("_", " "), (trigger.name, name, code)
    assert checked >= 12


def test_a_payload_with_a_closed_list_without_french_words_fails_at_load() -> None:
    with pytest.raises(TypeError, match="French words"):
        class Bad(Payload):
            outcome: typing.Literal["yes", "no"]


# --- item 10 --------------------------------------------------------------------------


def test_case_show_speaks_french_what_the_visit_of_30_november_2026_found(
    cli: CliRunner,
) -> None:
    case = hygiene_visit(cli)
    ok(run(cli, "case", "fire", str(case), "record_visit", "--actor", "gs-viala",
           "--now", "2026-11-30T12:00", "--data", "held_at=2026-11-30T10:30",
           "--data", "outcome=insatisfaisante", "--data", "obstacles=santé fragile",
           "--data", "actions=kit remis, aide ménagère"))
    shown = ok(run(cli, "case", "show", str(case)))
    for french in ("Amélioration de l'entretien du logement", "2e visite", "1re visite",
                   "tenue le : 30/11/2026 10:30", "issue : insatisfaisante",
                   "obstacles : santé fragile", "actions : kit remis, aide ménagère",
                   "Résidence Viala Anjou", "logement : Logement 214", "modalité : à domicile"):
        assert french in shown, french
    for code in ("visit_2", "unsatisfactory", "reminder", "escalation", "record_visit ",
                 "schedule_visit "):
        assert code not in shown.replace("(schedule_visit)", "").replace("(record_visit)", ""), code
    assert "rappel" in shown or "escalade" in shown or "échéance" in shown


def test_case_list_shows_process_label_resident_and_site_names_and_next_deadline(
    cli: CliRunner,
) -> None:
    hygiene_visit(cli)
    listed = ok(run(cli, "case", "list"))
    for french in ("Amélioration de l'entretien du logement", "Jean Dupont",
                   "Résidence Viala Anjou", "1re visite"):
        assert french in listed, french
    rows = json.loads(ok(run(cli, "case", "list", "--json")))
    assert rows[0]["next_due_at"] and rows[0]["next_due_label"]
    assert rows[0]["site_name"] == "Résidence Viala Anjou"
    by_label = json.loads(ok(run(cli, "case", "list", "--state", "1re visite", "--json")))
    assert [r["id"] for r in by_label] == [rows[0]["id"]]


def test_unknown_filters_are_refused_naming_the_valid_ones(cli: CliRunner) -> None:
    state = run(cli, "case", "list", "--state", "visite_2")
    assert state.exit_code == 2
    assert "état inconnu « visite_2 »" in state.stderr and "2e visite (visit_2)" in state.stderr
    process = run(cli, "case", "list", "--process", "ménage")
    assert process.exit_code == 2
    assert "Impayés de redevance (arrears)" in process.stderr
    site = run(cli, "case", "list", "--site", "nulle-part")
    assert site.exit_code == 2 and "viala" in site.stderr


def test_resident_list_searches_names_within_what_the_reader_may_see(cli: CliRunner) -> None:
    everyone = json.loads(ok(run(cli, "resident", "list", "--json")))
    assert {r["id"] for r in everyone} == {"r-0001", "r-0002", "r-0003", "r-0004"}
    found = json.loads(ok(run(cli, "resident", "list", "--search", "dupont", "--json")))
    assert [r["id"] for r in found] == ["r-0001"]
    on_site = json.loads(ok(run(cli, "resident", "list", "--site", "viala", "--json")))
    assert {r["id"] for r in on_site} == {"r-0001", "r-0002"}
    # The CADA's households are not for a residence's manager.
    gs = json.loads(ok(run(cli, "resident", "list", "--actor", "gs-viala", "--json")))
    assert {r["id"] for r in gs} == {"r-0001", "r-0002"}
    assert "Jean Dupont" in ok(run(cli, "resident", "list", "--search", "Jean"))


def test_agenda_me_prints_the_visit_of_30_november_2026_and_queues_nothing(
    cli: CliRunner,
) -> None:
    hygiene_visit(cli)
    shown = ok(run(cli, "agenda", "--me", "gs-viala", "--now", "2026-11-30T07:30"))
    assert "Agenda de Sophie Martin du 30/11/2026" in shown
    assert "visite" in shown and "Jean Dupont" in shown
    with session_scope(get_engine()) as s:
        from models.cases import Notification

        assert s.scalar(select(func.count()).select_from(Notification)
                        .where(Notification.kind == "daily_agenda")) == 0


def test_version_and_help_without_typer_english(cli: CliRunner) -> None:
    assert ok(run(cli, "--version")).startswith("suivi ")
    for args in (["--help"], ["case", "list", "--help"], ["case", "--help"],
                 ["directory", "import-residents", "--help"]):
        text = ok(run(cli, *args))
        assert "Show this message" not in text and "[default:" not in text, args
        assert "Affiche cette aide." in text
    assert "[défaut : 200]" in ok(run(cli, "case", "list", "--help"))


def test_an_asylum_case_opened_on_2_november_2026_in_accelerated_procedure_typed_in_french(
    cli: CliRunner,
) -> None:
    out = ok(run(cli, "case", "open", "asylum", "--resident", "r-0004", "--actor", "ts-cada",
                 "--now", "2026-11-02T09:00", "--data", "procedure=Accélérée",
                 "--data", "registered_at=2026-10-30", "--data",
                 "attestation_issued_at=2026-10-30", "--json"))
    assert json.loads(out)["history"][0]["payload"]["procedure"] == "accelerated"
    refused = run(cli, "case", "open", "asylum", "--resident", "r-0004", "--actor", "ts-cada",
                  "--now", "2026-11-02T09:00", "--data", "procedure=rapide",
                  "--data", "registered_at=2026-10-30", "--data",
                  "attestation_issued_at=2026-10-30")
    assert refused.exit_code == 2
    assert "(attendu : normale, accélérée, Dublin)" in refused.stderr
