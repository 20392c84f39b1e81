"""Schemathesis against /openapi.json, authenticated with a bearer token: generated requests
(valid and invalid) never get a 500 nor an answer the spec does not describe."""

from __future__ import annotations

import schemathesis
from conftest import at
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance
from sqlalchemy import Engine
from test_api import build_world
from web_client import SECRET

from suivi.web.app import create_app

EXAMPLES = 12  # per operation and generation mode: the whole run stays under 20 s here


def test_the_api_keeps_to_its_own_spec_whatever_it_is_sent(sqlite_engine: Engine) -> None:
    world = build_world(sqlite_engine)
    headers = {"Authorization": f"Bearer {world.tokens['dgls-1']}"}
    app = create_app(sqlite_engine, secret_key=SECRET, production=False,
                     clock=lambda: at("2026-11-03 10:00"))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} == {
        "GET /api/cases", "POST /api/cases", "GET /api/cases/{case_id}",
        "POST /api/cases/{case_id}/fire", "GET /api/residents/{resident_id}", "GET /api/agenda",
    }
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                  suppress_health_check=list(HealthCheck), database=None)
        def check(case: schemathesis.Case) -> None:
            # A schema-valid body may still break the process's rules: that is a 422 with the
            # engine's French line by design (and in the spec), not a failure to accept data.
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        check()
