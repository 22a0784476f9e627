"""``pdca schema`` agrees with ``pdca validate --no-plugins`` on every playbook in the repo.

check-jsonschema (the checker pre-commit hooks and CI jobs use; it reads YAML
1.2, as editors do) runs over every example, test playbook, fuzz case and
``tests/data/schema_cases`` file, and its verdict is compared with pdca's. They
may differ only where pdca's verdict rests on something a schema cannot say:
each such file is listed below with its reason, and the list must be exact,
so a new disagreement fails here and so does one that has gone away.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pdca.playbook import inspect
from pdca.playbook.schema import schema_text

check_jsonschema = pytest.importorskip("check_jsonschema.cli.main_command")

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted(
    [
        *ROOT.glob("playbooks/*/playbook.yaml"),
        *ROOT.glob("tests/data/playbooks/*/*.yaml"),
        *ROOT.glob("tests/data/fuzz_corpus/*.yaml"),
        *ROOT.glob("tests/data/schema_cases/*.yaml"),
    ]
)

REFERENCES = "references between entries (an owner, source, metric or task that exists)"
DEPENDENCIES = "the dependency graph: cycles and phase order"
PLUGIN_SETTINGS = "a source type's, KPI's or action's own options, known only to that plugin"
RELATIONS = "relations between values: a target within the KPI's range, warn beside the target"
YAML_READING = (
    "how the YAML itself is read: alias bombs, recursive merges, duplicate anchors, escapes, "
    "encodings; pdca's YAML 1.1 reader and the checker's YAML 1.2 one part ways"
)
YAML11_KEYS = "YAML 1.1 booleans as ids (yes:, on:), which the checker turns into 'True' keys"
SPELLINGS = (
    "numbers YAML 1.1 and the checker's ruamel.yaml spell differently: 0x1F and 1_000 are "
    "numbers to ruamel, an id and text to pdca (and text to YAML 1.2's core schema, which "
    "editors use: see test_what_editors_read_as_text)"
)

KNOWN = {
    "fuzz_corpus/bom_twice.yaml": YAML_READING,
    "fuzz_corpus/bom_utf16.yaml": YAML_READING,
    "fuzz_corpus/cr_only.yaml": REFERENCES,
    "fuzz_corpus/crash_merge_recursive.yaml": YAML_READING,
    "fuzz_corpus/crash_merge_recursive_list.yaml": YAML_READING,
    "fuzz_corpus/deep_flow_in_option.yaml": PLUGIN_SETTINGS,
    "fuzz_corpus/duplicate_anchors.yaml": YAML_READING,
    "fuzz_corpus/octal_ids.yaml": SPELLINGS,
    "fuzz_corpus/misleading_nan_param.yaml": PLUGIN_SETTINGS,
    "fuzz_corpus/mixed_line_endings.yaml": REFERENCES,
    "fuzz_corpus/phase_cycle.yaml": DEPENDENCIES,
    "fuzz_corpus/tab_after_key.yaml": YAML_READING,
    "fuzz_corpus/wrong_line_unicode_line_separator.yaml": REFERENCES,
    "fuzz_corpus/yes_no_ids.yaml": YAML11_KEYS,
    "invalid/cycle.yaml": DEPENDENCIES,
    "invalid/phase_order.yaml": DEPENDENCIES,
    "invalid/plugins_unknown.yaml": PLUGIN_SETTINGS,
    "invalid/references.yaml": REFERENCES,
    "invalid/value_ranges.yaml": RELATIONS,
    "invalid/warn_side.yaml": RELATIONS,
    "schema_cases/duration_grouped.yaml": SPELLINGS,
}
"""Files on which the two verdicts differ, and why no schema could agree."""

BOMBS = {
    "fuzz_corpus/crash_merge_bomb.yaml",
    "fuzz_corpus/deep_alias_in_option.yaml",
    "invalid/alias_bomb.yaml",
}
"""Alias bombs: pdca refuses them at once; check-jsonschema expands every alias, for
hours, so they are not given to it (any reader that finished would refuse them)."""


CHECKER_SECONDS = 60
"""How long the checker may take on a file with anchors: it expands every alias."""
BOMB = "aliases expand to far more values than the file holds"
"""pdca's words for an alias bomb, which the checker would expand for hours; such files
are not given to it (pdca refuses them, and so would any reader that finished)."""


def schema_verdict(schema: Path, path: Path) -> tuple[bool, str]:
    """check-jsonschema's verdict: its command line, in this process (no start-up cost)
    or, for a file with anchors, in a process of its own that is stopped in time."""
    argv = ["--schemafile", str(schema), "-o", "json", str(path)]
    if b"&" in path.read_bytes():
        try:
            run = subprocess.run(
                [sys.executable, "-m", "check_jsonschema", *argv],
                capture_output=True,
                text=True,
                timeout=CHECKER_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return False, f"the checker was still expanding aliases after {CHECKER_SECONDS} s"
        output = run.stdout
    else:
        result = CliRunner().invoke(check_jsonschema.main, argv)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            return False, f"the checker could not read it: {result.exception!r}"[:300]
        output = result.stdout
    try:
        doc = json.loads(output)
    except ValueError:
        return False, output[-300:]
    found = [
        f"{e['path']}: {(e.get('best_deep_match') or e)['message']}" for e in doc.get("errors", [])
    ]
    found += [f"cannot parse: {e['message']}" for e in doc.get("parse_errors", [])]
    return not found, "; ".join(found)[:300]


def pdca_verdict(path: Path) -> tuple[bool, str]:
    errors = [p for p in inspect(path, plugins=False).problems if p.severity == "error"]
    return not errors, "; ".join(str(p) for p in errors)[:300]


@pytest.fixture(scope="module")
def verdicts(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[bool, str, bool | None, str]]:
    schema = tmp_path_factory.mktemp("schema") / "playbook.schema.json"
    schema.write_text(schema_text(), encoding="utf-8")
    out = {}
    for path in FILES:
        name = f"{path.parent.name}/{path.name}"
        assert name not in out, f"two files named {name}: make the names unique"
        p_ok, p_why = pdca_verdict(path)
        if BOMB in p_why:  # the checker expands every alias: hours on a bomb
            out[name] = (p_ok, p_why, None, "not given to the checker: an alias bomb")
        else:
            out[name] = (p_ok, p_why, *schema_verdict(schema, path))
    return out


def test_the_corpus_has_both_verdicts() -> None:
    assert len(FILES) > 100
    assert (ROOT / "tests" / "data" / "schema_cases" / "duration_upper_case.yaml") in FILES
    assert (ROOT / "playbooks" / "support-desk" / "playbook.yaml") in FILES


def test_schema_and_validate_disagree_only_where_a_schema_cannot_know(verdicts) -> None:
    unchecked = {name for name, v in verdicts.items() if v[2] is None}
    assert unchecked == BOMBS
    assert not any(verdicts[name][0] for name in BOMBS)  # pdca refuses each
    differ = {
        name: f"pdca {'ok' if p_ok else 'refuses: ' + p_why}; schema "
        f"{'ok' if s_ok else 'refuses: ' + s_why}"
        for name, (p_ok, p_why, s_ok, s_why) in verdicts.items()
        if s_ok is not None and p_ok != s_ok
    }
    unexplained = {n: why for n, why in differ.items() if n not in KNOWN}
    assert unexplained == {}, json.dumps(unexplained, indent=1)
    agreeing = sorted(set(KNOWN) - set(differ))
    assert agreeing == [], f"these agree now: take them off KNOWN: {agreeing}"


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("schema_cases/duration_upper_case.yaml", True),  # 3D, 2 W: pdca reads units in any case
        ("schema_cases/duration_bare_days.yaml", True),
        ("schema_cases/duration_quoted_bare.yaml", True),
        ("schema_cases/duration_zero.yaml", False),
        ("schema_cases/duration_zero_bare.yaml", False),
        ("schema_cases/duration_hours_not_here.yaml", False),  # a cycle is days or weeks
        ("schema_cases/duration_too_long_bare.yaml", False),
        ("schema_cases/retry_delay_minutes.yaml", True),
        ("schema_cases/due_datetime.yaml", True),  # a date and time: its date counts
        ("schema_cases/due_days.yaml", True),
        ("schema_cases/due_days_upper.yaml", False),
        ("schema_cases/due_days_too_many.yaml", False),
        ("schema_cases/due_not_a_date.yaml", False),
        ("schema_cases/target_grouped.yaml", True),  # 1_000 is a number to YAML 1.1
        ("schema_cases/target_huge.yaml", False),
        ("schema_cases/rules_9_10.yaml", True),
        ("schema_cases/rules_11.yaml", False),
        ("schema_cases/shift_points_10.yaml", False),
        ("schema_cases/bool_yes.yaml", True),
        ("schema_cases/title_number.yaml", True),
        ("schema_cases/title_control.yaml", False),
        ("schema_cases/id_200.yaml", True),
        ("schema_cases/id_201.yaml", False),
        ("schema_cases/id_numeric.yaml", True),
    ],
)
def test_the_rules_pdca_reads_by(verdicts, name: str, ok: bool) -> None:
    """Both verdicts, on the cases that show each rule of ``playbook/scalars.py``."""
    p_ok, p_why, s_ok, s_why = verdicts[name]
    assert (p_ok, s_ok) == (ok, ok), (p_why, s_why)


@pytest.mark.parametrize(
    ("document", "ok"),
    [
        ({"cycle": {"length": "1_000"}}, False),  # no duration, to pdca either
        ({"cycle": {"length": "4 W"}}, True),
        ({"cycle": {"length": 0}}, False),
        ({"check": {"rules": [1, 9, 10]}}, True),
        ({"check": {"rules": 11}}, False),
        ({"sources": {"s": {"type": "csv", "allow_outside": "yes"}}}, True),
        ({"tasks": {"t": {"title": "T", "owner": "o", "due": "2026-03-31 17:30:00"}}}, True),
        ({"tasks": {"t": {"title": "T", "owner": "o", "due": "2026-02-30"}}}, False),
        ({"tasks": {"t": {"title": "T", "owner": "o", "retries": 1.5}}}, False),
    ],
)
def test_what_editors_read_as_text(document: dict, ok: bool) -> None:
    """Documents as a YAML 1.2 core-schema reader (VS Code's) gives them: ``1_000``,
    ``yes`` and a timestamp are text there, and the schema still means what pdca means."""
    import jsonschema

    schema = json.loads(schema_text())
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = list(validator.iter_errors({"playbook": "p", "title": "T", **document}))
    assert (errors == []) is ok, [e.message for e in errors]


def test_the_schema_explains_itself_to_people() -> None:
    """Editors show ``description``, ``examples`` and ``errorMessage``, not a raw pattern."""
    schema = json.loads(schema_text())
    metric = schema["properties"]["metrics"]["additionalProperties"]["properties"]
    window = metric["window"]
    assert window["examples"] == ["28d", "4w", 90]
    assert "at most ten years" in window["errorMessage"]
    assert all(branch.get("description") for branch in window["anyOf"])
    task = schema["properties"]["tasks"]["additionalProperties"]["properties"]
    assert task["due"]["examples"] == ["2026-03-31", "14d"]
    assert "14d" in task["due"]["errorMessage"]
    rules = schema["properties"]["check"]["properties"]["rules"]
    assert "1 to 10" in rules["errorMessage"]
