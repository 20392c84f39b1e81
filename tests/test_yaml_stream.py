"""The directory's YAML reader answers exactly what `yaml.safe_load` answers, errors included."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
import yaml
from conftest import DIRECTORY
from hypothesis import given, settings
from hypothesis import strategies as st

from models.yaml_stream import safe_load

SAMPLES = [
    "",
    "---\n",
    "~",
    "plain text",
    "organisation: {name: Horizon, id: h}\nresidents: [{id: r-1, consent: yes}]\n",
    # Every implicit type of YAML 1.1 that PyYAML resolves, and their quoted twins.
    "[yes, No, on, OFF, true, False, y, n, ~, null, '', 12, -3, 0o17, 017, 0x1F, 1_000, 1.5,"
    " .inf, -.Inf, .nan, 6.02e+23, 2026-11-30, 2026-11-30T10:00:00+01:00, 2026-11-30 10:00:00,"
    " '12', \"yes\", '2026-11-30', 190:20:30, '+1', +1, .5, -.5, 0, 1e3]",
    "phone: '0600000001'\nnumber: 0600000001\nzip: 013004\n",
    "text: |\n  deux\n  lignes\nfolded: >\n  une\n  ligne\n",
    "empty_map: {}\nempty_list: []\nnull_value:\nnested: {a: [1, {b: [c, {d: e}]}]}\n",
    "unicode: « Hélène Dubois » — 家\nemoji: \U0001f600\n",
    "? complex key\n: value\n",
    # Anchors and aliases, scalar and collection; merge keys.
    "base: &b {notify: [mailto://a@x], language: fr}\nstaff: [*b, *b]\nname: &n Karim\nagain: *n\n",
    "base: &b {a: 1, b: 2}\nchild:\n  <<: *b\n  b: 3\n",
    "x: &a {k: 1}\ny: &b {l: 2}\nz: {<<: [*a, *b], m: 3}\n",
    # Explicit tags.
    "a: !!str 123\nb: !!int '12'\nc: !!float '1'\nd: !!binary aGVsbG8=\ne: !!null ''\n",
    "s: !!set {a, b}\no: !!omap [{a: 1}, {b: 2}]\np: !!pairs [{a: 1}]\n",
    "! 12",
    "key with spaces: value with: colon\n'quoted key': 1\n1: one\n2.5: two\nnull: three\n",
    "dup: 1\ndup: 2\n",
    # What PyYAML refuses, with its own message.
    "a: [1, 2\n",
    "organisation:\n  id: x\n   name: [oups\n",
    "a: *nowhere\n",
    "a: &x 1\nb: &x 2\n",
    "--- 1\n--- 2\n",
    "a: !!python/object:os.system ls\n",
    "a: !!int 'douze'\n",
    "? [1, 2]\n: complex\n",
    "? {a: 1}\n: complex\n",
    "- <<: {a: 1}\n",
    "- =\n",
    "\t tab: 1\n",
    "a: 'unterminated\n",
]


def typed(value: Any) -> Any:
    """The value with every type written out: True == 1 and 1 == 1.0 must not pass for equal."""
    if isinstance(value, dict):
        return ("dict", [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [typed(v) for v in value])
    if isinstance(value, set | tuple):
        return (type(value).__name__, sorted(map(repr, value)))
    if isinstance(value, float) and value != value:
        return ("float", "nan")
    return (type(value).__name__, value)


def outcome(load: Any, text: str) -> Any:
    try:
        return ("value", typed(load(text)))
    except Exception as error:  # whatever PyYAML raises, the same must come
        return ("error", type(error).__name__, str(error))


@pytest.mark.parametrize("text", SAMPLES)
def test_every_kind_of_yaml_reads_as_pyyaml_reads_it(text: str) -> None:
    assert outcome(safe_load, text) == outcome(yaml.safe_load, text)


def test_the_test_directory_reads_the_same() -> None:
    text = DIRECTORY.read_text(encoding="utf-8")
    assert typed(safe_load(text)) == typed(yaml.safe_load(text))


leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.sampled_from(["yes", "no", "on", "~", "0x10", "017", "1_0", "<<", "=", "2026-11-30"])
    | st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 1, 1))
    | st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1))
)
documents = st.recursive(
    leaves,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=6) | st.integers(), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, database=None)
@given(value=documents, flow=st.booleans(), style=st.sampled_from([None, "'", '"', "|", ">"]))
def test_any_document_pyyaml_writes_reads_back_the_same(
    value: Any, flow: bool, style: str | None
) -> None:
    text = yaml.safe_dump(value, default_flow_style=flow, default_style=style, allow_unicode=True)
    assert outcome(safe_load, text) == outcome(yaml.safe_load, text)
