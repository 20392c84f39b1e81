"""One template per kind of message: every template a registered process names exists in
French and English, and the messages a real hygiene case causes read right at both privacy
levels (email and console in full; chat and SMS without the resident or the dwelling)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import at
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from models.cases import Case, Notification
from models.db import session_scope
from models.directory import Organisation, Staff
from notifications.compose import message_of
from notifications.render import LANGUAGES, TEMPLATES, kind_label, render, scheme
from processes import engine as wf
from processes import registry
from processes.definition import ProcessDefinition
from processes.sweep import sweep_due_clocks

CHAT = "json://127.0.0.1:9/chat"
RESIDENT, DWELLING, SITE = "Jean Dupont", "Logement 214", "Résidence Viala Anjou"
GS, RGLS, DGLS = "gs-viala", "rgls-sud", "dgls-1"


def templates_of(definition: ProcessDefinition) -> set[str]:
    """Every template a definition names: clocks, state entries, triggers, transitions."""
    names = {c.template for c in definition.all_clocks() if c.template}
    names |= {n.template for s in definition.states for n in s.on_enter}
    names |= {n.template for t in definition.triggers for n in t.notify}
    names |= {n.template for t in definition.transitions for n in t.notify}
    return names


def registered() -> list[tuple[str, int, str]]:
    return sorted(
        (name, version, template)
        for name in registry.names()
        for version in registry.versions(name)
        for template in templates_of(registry.get(name, version).definition)
    )


@pytest.mark.parametrize(("process", "version", "template"), registered())
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_template_a_process_names_has_its_own_file(
    process: str, version: int, template: str, language: str
) -> None:
    assert (TEMPLATES / language / f"{template}.j2").is_file(), (
        f"{process} v{version} sends « {template} » but {language}/{template}.j2 is missing "
        "(it would fall back to the generic message)"
    )


def shaped_like_queue_notice(definition: ProcessDefinition) -> dict[str, Any]:
    """The keys `case_context` and `queue_notice` give a template, for the processes the
    hygiene walk below does not reach: catches a misspelt variable or a syntax error (a
    template reading case data they lack is left to its process's own tests)."""
    state = definition.state(definition.initial)
    return {
        "organisation": "Association Horizon", "case_ref": "C-7", "case_id": 7,
        "link": "https://suivi.example.org/cases/7", "process": definition.name,
        "process_label": definition.label, "process_label_en": definition.label_en,
        "state": state.id, "state_label": state.label, "state_label_en": state.label_en,
        "resident": RESIDENT, "dwelling": DWELLING, "site": SITE, "data": {},
        "fmt": lambda value: "" if not value else str(value), "clock_label": "Rappel",
        "due_at": "25/02/2027 10:00", "clock_kind": "reminder", "recipient": "Sophie Martin",
        "recipient_role": "gs",
    }


@pytest.mark.parametrize(
    ("process", "version", "template"), [r for r in registered() if r[0] != "hygiene"]
)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_template_of_other_processes_renders_at_both_privacy_levels(
    process: str, version: int, template: str, language: str
) -> None:
    context = shaped_like_queue_notice(registry.get(process, version).definition)
    subject, body = render(template, language, context, privacy="full")
    assert subject and body
    subject, short = render(template, language, context, privacy="minimal")
    assert "C-7" in subject + short
    for secret in (RESIDENT, DWELLING):
        assert secret not in subject + short, (template, language)


def test_an_unknown_language_falls_back_to_french() -> None:
    context = shaped_like_queue_notice(registry.get("hygiene").definition)
    assert render("plan_first_visit", "de", context, privacy="full") == render(
        "plan_first_visit", "fr", context, privacy="full"
    )


# --- A real hygiene case, walked to termination review, every clock swept ---------------


def _fire(session: Session, case: Case, trigger: str, who: str, when: str, **payload: str) -> None:
    wf.fire(session, case.id, trigger, actor_id=who, now=at(when), payload=payload)


def _visit(engine: Engine, case: Case, planned: str, day: str, recorded: str) -> None:
    with session_scope(engine) as s:
        _fire(s, case, "schedule_visit", GS, planned, visit_at=f"{day}T10:00", mode="home")
    with session_scope(engine) as s:
        _fire(s, case, "record_visit", GS, recorded, held_at=f"{day}T10:00",
              outcome="unsatisfactory", obstacles="Isolement")


def walk_every_hygiene_notice(engine: Engine, *, language: str | None, resident_url: str) -> None:
    """Reported 2 November 2026; every reminder and escalation left to fire by the sweep."""
    with session_scope(engine) as s:
        for staff_id in (GS, RGLS, DGLS, "dgls-2"):
            staff = s.get(Staff, staff_id)
            assert staff is not None
            staff.notify = ["console://", CHAT]
        org = s.scalars(select(Organisation)).one()
        org.settings = {**(org.settings or {}), "resident_channel": resident_url}
        if language is not None:
            org.language = language
    with session_scope(engine) as s:
        case = wf.open_case(
            s, "hygiene", resident_id="r-0001", actor_id=GS, now=at("2026-11-02 09:00"),
            payload={"observed_at": "2026-11-02T08:30", "description": "Déchets accumulés"},
        )
    # plan_first_visit, then its escalation (10 working days: 11 November is a holiday)
    sweep_due_clocks(engine, at("2026-11-18 07:00"))
    with session_scope(engine) as s:
        _fire(s, case, "schedule_visit", GS, "2026-11-18 08:00", visit_at="2026-11-20T10:00")
    # Visit reminders (staff, resident), then "record it" and its escalation.
    sweep_due_clocks(engine, at("2026-12-10 07:00"))
    with session_scope(engine) as s:
        _fire(s, case, "record_visit", GS, "2026-12-10 09:00", held_at="2026-11-20T10:00",
              outcome="unsatisfactory", obstacles="Isolement")
    sweep_due_clocks(engine, at("2027-01-05 07:00"))  # plan_next_visit
    _visit(engine, case, "2027-01-05 08:00", "2027-01-06", "2027-01-06 17:00")
    _visit(engine, case, "2027-01-07 08:00", "2027-01-08", "2027-01-08 17:00")  # warning letter
    sweep_due_clocks(engine, at("2027-02-20 07:00"))  # evaluation overdue, then escalated
    with session_scope(engine) as s:
        for moment in ("2027-02-22 10:00", "2027-02-23 10:00"):  # direction alert, review
            _fire(s, case, "record_evaluation", RGLS, moment, held_at=moment.replace(" ", "T"),
                  outcome="unsatisfactory")
    sweep_due_clocks(engine, at("2027-03-15 07:00"))  # termination decision reminder


def messages(engine: Engine) -> list[Notification]:
    """The outbox with each row's words: a clock's row gets them as delivery would write them."""
    with session_scope(engine) as s:
        rows = list(s.scalars(select(Notification).order_by(Notification.id)))
        texts = [message_of(s, row) for row in rows]
        s.expunge_all()  # the words are shown here, not stored
    for row, (subject, body) in zip(rows, texts, strict=True):
        row.subject, row.body = subject, body
    return rows


HYGIENE_TEMPLATES = sorted(templates_of(registry.get("hygiene").definition))
STAFF_GREETING = {"fr": "Bonjour", "en": "Hello"}


@pytest.mark.parametrize(
    ("language", "resident_url"),
    [
        (None, "json://127.0.0.1:9/sms?to={phone}"),
        ("en", "mailto://127.0.0.1:2525?to={email}"),
    ],
    ids=["french-by-default-resident-by-sms", "english-resident-by-email"],
)
def test_a_hygiene_case_sends_every_kind_in_its_own_words(
    sqlite_engine: Engine, language: str | None, resident_url: str
) -> None:
    walk_every_hygiene_notice(sqlite_engine, language=language, resident_url=resident_url)
    rows = messages(sqlite_engine)
    assert sorted({r.kind for r in rows}) == HYGIENE_TEMPLATES
    expected = language or "fr"
    for row in rows:
        full = scheme(row.channel_url) in {"console", "mailto"}
        text = f"{row.subject}\n{row.body}"
        assert "C-1" in text, row.kind
        if row.recipient_resident_id is None:
            assert row.subject.startswith("[C-1] "), row.kind
            assert "https://suivi.example.org/cases/1" in row.body, row.kind
            if full:
                assert row.body.startswith(f"{STAFF_GREETING[expected]} "), (row.kind, row.body)
                assert RESIDENT in row.body and DWELLING in row.body, row.kind
        if not full:
            for secret in (RESIDENT, DWELLING, SITE):
                assert secret not in text, (row.kind, row.channel_url, text)
    staff_kinds = {r.kind for r in rows if r.recipient_staff_id is not None}
    for kind in staff_kinds:
        channels = {scheme(r.channel_url) for r in rows if r.kind == kind}
        assert channels == {"console", "json"}, kind
    to_resident = [r for r in rows if r.recipient_resident_id == "r-0001"]
    assert [r.kind for r in to_resident] == ["resident_visit_reminder"]
    word = {"fr": "rendez-vous", "en": "appointment"}[expected]
    assert word in to_resident[0].body and "20/11/2026 10:00" in to_resident[0].body


def test_french_is_the_default_for_the_staff_too(sqlite_engine: Engine) -> None:
    walk_every_hygiene_notice(sqlite_engine, language=None, resident_url=CHAT)
    first = next(r for r in messages(sqlite_engine) if r.kind == "plan_first_visit")
    assert first.subject == "[C-1] Planifier la 1re visite — Résidence Viala Anjou"
    assert "Le manquement à l'hygiène constaté le 02/11/2026 08:30" in first.body


def test_every_template_file_has_its_pair_in_the_other_language() -> None:
    french = {p.name for p in (TEMPLATES / "fr").glob("*.j2")}
    english = {p.name for p in (TEMPLATES / "en").glob("*.j2")}
    assert french == english, sorted(french ^ english)
    assert all(Path(TEMPLATES / "fr" / name).read_text().strip() for name in french)


def test_every_kind_has_a_plain_label_in_each_language_for_lists() -> None:
    kinds = sorted(p.stem for p in (TEMPLATES / "fr").glob("*.j2"))
    for kind in kinds:
        # Rendered without any context (StrictUndefined): a label names the kind, no case.
        french, english = kind_label(kind, "fr"), kind_label(kind, "en")
        assert french and english and french != english, kind
    assert kind_label("visit_reminder") == "Hygiène : rappel de visite"
    assert kind_label("visit_reminder", "en") == "Hygiene: visit reminder"
    labels = [kind_label(kind) for kind in kinds]
    assert len(set(labels)) == len(labels), "two kinds read alike in a list"
    assert kind_label("a_kind_without_template") == "a_kind_without_template"
