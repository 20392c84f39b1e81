"""An audit export laid out as a file: JSON (what a program verifies), CSV (one row per event),
PDF (the report a landlord's officer reads: a summary, then a timeline per case).

What is in an export is decided in `processes.audit_export`; this module only writes it. It
sits beside `letters.py` because it shares its way to PDF (Jinja2 HTML, then WeasyPrint).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from notifications.letters import date_fr, datetime_fr
from processes.audit_export import report_summary

TEMPLATES = Path(__file__).parent / "reports"
FORMATS = ("json", "csv", "pdf")

CSV_COLUMNS = (
    ("dossier", lambda c, e: c["case"]),
    ("processus", lambda c, e: c["process_label"]),
    ("site", lambda c, e: (c["site"] or {}).get("name", "")),
    ("logement", lambda c, e: (c["dwelling"] or {}).get("label", "")),
    ("résident", lambda c, e: c["resident"]),
    ("n°", lambda c, e: e["seq"]),
    ("date et heure (Paris)", lambda c, e: e["at"]),
    ("action", lambda c, e: e["trigger_label"]),
    ("état avant", lambda c, e: e["from_label"] or ""),
    ("état après", lambda c, e: e["to_label"] or ""),
    ("rôle", lambda c, e: e["role_label"]),
    ("personne", lambda c, e: e["actor_name"] or ""),
    ("faits", lambda c, e: e["facts_fr"]),
    ("empreinte", lambda c, e: e["hash"]),
)


def to_json(export: dict[str, Any]) -> bytes:
    return (json.dumps(export, ensure_ascii=False, indent=2) + "\n").encode()


def to_csv(export: dict[str, Any]) -> bytes:
    # `;` and a BOM: what a French spreadsheet opens without an import dialog.
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([name for name, _ in CSV_COLUMNS])
    for case in export["cases"]:
        for event in case["events"]:
            writer.writerow([value(case, event) for _, value in CSV_COLUMNS])
    return ("\ufeff" + out.getvalue()).encode()


def to_html(export: dict[str, Any]) -> str:
    manifest = export["manifest"]
    window = manifest["period"]
    return environment().get_template("audit_report.html.j2").render(
        manifest=manifest,
        cases=export["cases"],
        summary=report_summary(export),
        start=date.fromisoformat(window["from"]) if window["from"] else None,
        end=date.fromisoformat(window["to"]),
        generated=datetime.fromisoformat(manifest["generated_at"]),
    )


def to_pdf(export: dict[str, Any]) -> bytes:
    from weasyprint import HTML  # loads Pango: only reports and letters need it

    return bytes(HTML(string=to_html(export), base_url=str(TEMPLATES)).write_pdf())


def render(export: dict[str, Any], fmt: str) -> bytes:
    return {"json": to_json, "csv": to_csv, "pdf": to_pdf}[fmt](export)


def _moment(value: str) -> str:
    return datetime_fr(datetime.fromisoformat(value))


def _day(value: str) -> str:
    return date_fr(datetime.fromisoformat(value))


def _time(value: str) -> str:
    return datetime.fromisoformat(value).strftime("%H h %M")  # already Paris time


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["j2"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        date_fr=date_fr, datetime_fr=datetime_fr, moment_fr=_moment, day_fr=_day, time_fr=_time
    )
    return env


def resident_to_pdf(record: dict[str, Any]) -> bytes:
    """A resident's access request answered on paper (`processes.resident_access`)."""
    from weasyprint import HTML

    html = environment().get_template("resident_record.html.j2").render(
        record=record, generated=datetime.fromisoformat(record["generated_at"])
    )
    return bytes(HTML(string=html, base_url=str(TEMPLATES)).write_pdf())


def resident_render(record: dict[str, Any], fmt: str) -> bytes:
    if fmt == "pdf":
        return resident_to_pdf(record)
    return (json.dumps(record, ensure_ascii=False, indent=2) + "\n").encode()
