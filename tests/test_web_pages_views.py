"""What the pages gather, tested without a browser: French words for every field and choice
of every process, the case page after a visit, the forms and what they send to the engine,
the week's agenda, the case list, the dashboard, the diagrams.

A hygiene case of Jean Dupont (r-0001, Résidence Viala Anjou): breach reported Monday
23 November 2026 09:00, first visit planned on the 24th for Tuesday 1 December 10:00.
"Now" is Monday 30 November 2026 09:00 unless said otherwise.
"""

from __future__ import annotations

import typing
import xml.etree.ElementTree as ET

from conftest import at
from helpers import GS, record, report, schedule, walk_to
from sqlalchemy import true
from sqlalchemy.orm import Session

from models.cases import Case
from models.directory import Staff
from processes import engine as wf
from processes import registry
from suivi.web.svg import Series, process_diagram, stacked_bars
from suivi.web.views.agenda import agenda_page
from suivi.web.views.case_list import Filters, case_list
from suivi.web.views.case_page import case_page
from suivi.web.views.forms import form_fields, payload_from_form
from suivi.web.views.others import dashboard, my_messages, resident_page
from suivi.web.views.words import FIELDS, VALUES

MONDAY = at("2026-11-30 09:00")


def a_first_visit_planned_for_tuesday(session: Session) -> Case:
    case = report(session, "2026-11-23 09:00")
    return schedule(session, case.id, "2026-11-24 09:00", "2026-12-01 10:00")


def _literals(annotation: object) -> set[str]:
    found: set[str] = set()
    if typing.get_origin(annotation) is typing.Literal:
        found.update(str(v) for v in typing.get_args(annotation))
    for inner in typing.get_args(annotation) or ():
        found |= _literals(inner)
    return found


def test_every_field_and_choice_of_every_process_has_a_french_word() -> None:
    missing_fields, missing_values = set(), set()
    for process in registry.latest_all():
        for trigger in process.definition.triggers:
            for name, info in trigger.payload.model_fields.items():
                if name not in FIELDS:
                    missing_fields.add(f"{process.name}.{trigger.name}.{name}")
                missing_values |= _literals(info.annotation) - set(VALUES)
    assert not missing_fields, f"fields without a French label: {sorted(missing_fields)}"
    assert not missing_values, f"choices without a French word: {sorted(missing_values)}"


def test_the_visit_form_offers_french_choices_and_a_date_picker(session: Session) -> None:
    record_visit = registry.get("hygiene").definition.trigger("record_visit")
    fields = {f.name: f for f in form_fields(record_visit.payload, MONDAY)}
    assert fields["held_at"].kind == "datetime"
    assert fields["held_at"].label == "Date et heure"
    assert fields["held_at"].value == "2026-11-30T09:00"  # Paris time of "now"
    assert fields["outcome"].choices == [
        ("satisfactory", "satisfaisante"), ("unsatisfactory", "insatisfaisante")
    ]
    assert fields["cleaning_kit"].kind == "check"
    assert fields["obstacles"].kind == "long"


def test_a_visit_recorded_through_the_form_moves_the_case_to_the_second_visit(
    session: Session,
) -> None:
    case = a_first_visit_planned_for_tuesday(session)
    payload_type = registry.get("hygiene").definition.trigger("record_visit").payload
    answers = {"held_at": "2026-12-01T10:30", "outcome": "unsatisfactory",
               "obstacles": "Isolement", "actions": "", "notes": ""}
    payload = payload_from_form(payload_type, answers)
    assert payload == {"held_at": "2026-12-01T10:30", "outcome": "unsatisfactory",
                       "obstacles": "Isolement", "cleaning_kit": False}
    wf.fire(session, case.id, "record_visit", payload=payload, actor_id=GS,
            now=at("2026-12-01 12:00"))
    assert case.state == "visit_2"


def test_the_case_page_after_an_unsatisfactory_first_visit_speaks_french(
    session: Session,
) -> None:
    case = a_first_visit_planned_for_tuesday(session)
    record(session, case.id, "2026-12-01 17:00", "2026-12-01 10:00")
    page = case_page(session, case, role="gs", covers_site=True, now=at("2026-12-01 17:05"))
    assert page.state_label == "2e visite"
    latest = page.timeline[0]
    assert latest.title == "Enregistrer la visite"
    assert latest.moved == "1re visite → 2e visite"
    assert latest.who == "Sophie Martin (gestionnaire de site)"
    details = {d.label: d.value for d in latest.details}
    assert details["Résultat"] == "insatisfaisante"
    assert details["Freins rencontrés"] == "Isolement"
    assert details["Date et heure"] == "01/12/2026 10:00"
    assert [c.label for c in page.clocks] == ["Planifier la visite suivante"]
    assert page.clocks[0].due == "22/12/2026 17:00"  # 15 working days after 1 December 17:00
    assert "visit_" not in page.clocks[0].rule
    assert {f.name for f in page.forms} == {"schedule_visit", "record_visit", "refer_partner"}
    assert 'data-state="visit_2" aria-current="step"' in page.diagram
    assert page.letters == []


def test_the_case_page_offers_no_form_to_someone_who_cannot_act(session: Session) -> None:
    case = a_first_visit_planned_for_tuesday(session)
    as_agent = case_page(session, case, role="agent", covers_site=True, now=MONDAY)
    other_site = case_page(session, case, role="gs", covers_site=False, now=MONDAY)
    assert as_agent.forms == [] and other_site.forms == []


def test_the_agenda_shows_tomorrows_visit_to_its_site_manager(session: Session) -> None:
    a_first_visit_planned_for_tuesday(session)
    page = agenda_page(session, session.get(Staff, GS), MONDAY)
    tomorrow = page.week[0]
    assert tomorrow.title == "demain, mardi 1 décembre"
    visit = next(line for line in tomorrow.lines if line.visit)
    assert (visit.kind, visit.when, visit.reference) == ("Visite n° 1 à domicile", "10:00", "C-1")
    assert visit.resident == "Jean Dupont"
    other = agenda_page(session, session.get(Staff, "gs-chartreux"), MONDAY)
    assert other.empty


def test_the_case_list_finds_a_case_by_resident_name_or_reference(session: Session) -> None:
    case = a_first_visit_planned_for_tuesday(session)
    report(session, "2026-11-23 10:00", resident="r-0003", actor="gs-chartreux")
    by_name = case_list(session, true(), Filters(q="dupont"), MONDAY)
    by_ref = case_list(session, true(), Filters(q=f"C-{case.id}"), MONDAY)
    assert [r.reference for r in by_name.rows] == [case.reference]
    assert [r.reference for r in by_ref.rows] == [case.reference]
    row = by_name.rows[0]
    assert (row.state_label, row.next_label, row.next_due) == (
        "1re visite", "Rappel de visite au résident", "29/11/2026 10:00"
    )
    assert row.late  # 08:00 was before 09:00
    only_viala = case_list(session, Case.site_id == "viala", Filters(), MONDAY)
    assert [r.resident for r in only_viala.rows] == ["Jean Dupont"]


def test_the_dashboard_counts_open_cases_by_state_and_site_and_waiting_decisions(
    session: Session,
) -> None:
    a_first_visit_planned_for_tuesday(session)
    report(session, "2026-11-23 10:00", resident="r-0003", actor="gs-chartreux")
    board = dashboard(session, true(), at("2026-12-10 09:00"))
    counts = {(r.process_label, r.state_label): r.counts for r in board.by_state}
    hygiene = "Amélioration de l'entretien du logement"
    assert counts[(hygiene, "1re visite")] == {"viala": 1}
    assert counts[(hygiene, "Manquement à l'hygiène constaté")] == {"chartreux": 1}
    assert board.total_open == 2
    assert {o.label for o in board.overdue} >= {"1re visite toujours pas planifiée"}
    assert "Résidence Viala Anjou" in board.chart
    ET.fromstring(board.chart)


def test_a_resident_page_lists_their_cases_with_the_next_date(session: Session) -> None:
    a_first_visit_planned_for_tuesday(session)
    page = resident_page(session, "r-0001", true(), MONDAY)
    assert page is not None
    assert [(c.state_label, c.next_label, c.next_due) for c in page.cases] == [
        ("1re visite", "Rappel de visite au résident", "29/11/2026 10:00")
    ]
    hidden = resident_page(session, "r-0001", Case.site_id == "chartreux", MONDAY)
    assert hidden is None


def test_my_messages_are_those_sent_to_me_with_their_status_in_french(
    session: Session,
) -> None:
    case = walk_to(session, "warning_1")  # the third visit fails: the rgls is told to write
    rows = my_messages(session, "rgls-sud")
    assert [(r.reference, r.status, r.status_code) for r in rows] == [
        (case.reference, "à envoyer", "pending")
    ]
    assert rows[0].kind != "warning_letter" and rows[0].kind
    assert my_messages(session, "gs-chartreux") == []


def test_every_process_diagram_is_well_formed_with_every_state_label() -> None:
    for process in registry.latest_all():
        definition = process.definition
        current = definition.open_states()[1]
        svg = process_diagram(definition, current=current)
        tree = ET.fromstring(svg)
        text = " ".join(t.text or "" for t in tree.iter("{http://www.w3.org/2000/svg}tspan"))
        for st in definition.states:
            first_word = st.label.split()[0]
            assert first_word in text, (process.name, st.label)
        assert svg.count('aria-current="step"') == 1


def test_the_chart_draws_one_bar_per_site_with_its_total() -> None:
    svg = stacked_bars(
        [("Viala", {"hygiene": 3, "arrears": 1}), ("Chartreux", {"hygiene": 2})],
        [Series("hygiene", "Hygiène"), Series("arrears", "Impayés")],
        title="Dossiers ouverts",
    )
    tree = ET.fromstring(svg)
    totals = [t.text for t in tree.iter("{http://www.w3.org/2000/svg}text")
              if t.get("class") == "total"]
    assert totals == ["4", "2"]


def test_an_asylum_deadline_on_the_agenda_shows_only_reference_kind_and_date(
    session: Session,
) -> None:
    """The Haddad family's attestation was handed over Thursday 12 November: the OFPRA file
    is due 21 days later, on Thursday 3 December."""
    wf.open_case(
        session, "asylum", resident_id="r-0004", actor_id="ts-cada", now=at("2026-11-12 10:00"),
        payload={"procedure": "normal", "registered_at": "2026-11-10",
                 "attestation_issued_at": "2026-11-12"},
    )
    page = agenda_page(session, session.get(Staff, "juriste-cada"), MONDAY)
    lines = page.overdue + page.today_lines + [line for d in page.week for line in d.lines]
    assert lines, "the juriste has the OFPRA deadlines on their agenda"
    for line in lines:
        assert (line.kind, line.reference, line.sensitive) == ("Échéance", "C-1", True)
        assert (line.resident, line.dwelling, line.site) == ("", "", "")
