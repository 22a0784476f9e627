"""Each validation rule, proven by a bad playbook and the exact place reported.

Files in data/playbooks/invalid end with ``# expect: LINE:COL: MESSAGE`` lines
(comments at the end, so they do not shift the lines they describe). A test
fails if pdca reports anything more, anything less, or anywhere else.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pdca.playbook import inspect

DATA = Path(__file__).parent / "data" / "playbooks"
ROOT = Path(__file__).parent.parent
INVALID = sorted((DATA / "invalid").glob("*.yaml"))
VALID = sorted((DATA / "valid").glob("*.yaml")) + sorted(
    (ROOT / "playbooks").glob("*/playbook.yaml")
)

_EXPECT = re.compile(r"^# expect: (\d+):(\d+): (.*)$", re.M)


def expected(path: Path) -> set[tuple[int, int, str]]:
    return {(int(a), int(b), msg) for a, b, msg in _EXPECT.findall(path.read_text("utf-8"))}


def test_there_is_a_bad_playbook_for_each_rule() -> None:
    names = {p.stem for p in INVALID}
    rules = {
        "unknown_key",
        "missing_required",
        "wrong_types",
        "bad_ids",
        "references",
        "plugins_unknown",
        "phase_order",
        "warn_side",
        "cycle",
        "duplicate_keys",
        "python_tag",
        "bad_date",
        "tabs",
        "unclosed",
        "empty",
        "top_list",
        "alias_bomb",
        "when_and_rules",
        "not_mapping_entry",
        "value_ranges",
    }
    assert rules <= names


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_playbook_reports_exactly_the_expected_errors(path: Path) -> None:
    want = expected(path)
    assert want, f"{path.name} has no '# expect:' lines"
    result = inspect(path)
    assert not result.ok
    got = set()
    for problem in result.errors:
        assert problem.location is not None, problem
        assert problem.location.file == str(path)
        got.add((problem.location.line, problem.location.col, problem.message))
    assert got == want


@pytest.mark.parametrize("path", VALID, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_valid_playbook_has_no_errors(path: Path) -> None:
    result = inspect(path)
    assert result.errors == []
    assert result.ok


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = inspect(tmp_path / "nope.yaml")
    assert not result.ok
    assert [str(p) for p in result.errors] == [f"error: {tmp_path / 'nope.yaml'}: no such file"]


def test_folder_instead_of_file(tmp_path: Path) -> None:
    result = inspect(tmp_path)
    assert "is a folder" in result.errors[0].message


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("playbook: p\ntitle: Caf\xe9\n".encode("latin-1"))
    result = inspect(path)
    assert result.errors[0].message.startswith("file is not UTF-8 text")


def test_utf8_bom_and_unicode_titles_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufeffplaybook: p\ntitle: Kundnöjdhet på svenska ✓\n".encode())
    result = inspect(path)
    assert result.ok
    assert result.playbook.title == "Kundnöjdhet på svenska ✓"


def test_deep_nesting_is_refused_without_crashing(tmp_path: Path) -> None:
    # libyaml's composer recurses in C: 100,000 levels would crash the process.
    path = tmp_path / "deep.yaml"
    path.write_text("playbook: p\ntitle: T\nx: " + "[" * 100_000 + "]" * 100_000 + "\n")
    result = inspect(path)
    assert [p.message for p in result.errors] == [
        "values are nested more than 200 levels deep; flatten the structure"
    ]
    location = result.errors[0].location
    assert (location.line, location.col) == (3, 203)


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rec.yaml"
    path.write_text("playbook: p\ntitle: T\nsources:\n  s: {type: csv, path: x.csv, o: &a [*a]}\n")
    result = inspect(path)
    assert "recursive alias" in result.errors[0].message


def test_oversized_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pdca.playbook import loader

    monkeypatch.setattr(loader, "MAX_BYTES", 100)
    path = tmp_path / "big.yaml"
    path.write_text("playbook: p\ntitle: " + "x" * 200 + "\n")
    result = inspect(path)
    assert "larger than the 100 byte limit" in result.errors[0].message


def test_merge_keys_share_task_defaults(tmp_path: Path) -> None:
    path = tmp_path / "merge.yaml"
    path.write_text(
        "playbook: p\ntitle: T\nowners: {o: {name: O}, q: {name: Q}}\n"
        "tasks:\n"
        "  a: &defaults {title: A, owner: o, phase: plan}\n"
        "  b: {<<: *defaults, title: B, owner: q}\n"
    )
    result = inspect(path)
    assert result.ok, result.problems
    b = result.playbook.tasks["b"]
    assert (b.title, b.owner, b.phase) == ("B", "q", "plan")


@pytest.mark.parametrize("tag", ["!!binary aGVsbG8=", "!custom x", "!!set {a, b}"])
def test_non_plain_tags_are_refused(tmp_path: Path, tag: str) -> None:
    path = tmp_path / "tag.yaml"
    path.write_text(f"playbook: p\ntitle: {tag}\n")
    result = inspect(path)
    assert len(result.errors) == 1
    assert "is not allowed in a playbook" in result.errors[0].message
    assert (result.errors[0].location.line, result.errors[0].location.col) == (2, 8)


def test_unknown_owner_lists_defined_ones_when_nothing_is_close(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "playbook: p\ntitle: T\nowners: {ann: {name: A}, bob: {name: B}}\n"
        "tasks: {a: {title: A, owner: zed}}\n"
    )
    (error,) = inspect(path).errors
    assert error.message == "task 'a' refers to unknown owner 'zed' (defined: ann, bob)"


def test_when_outside_act_phase_is_a_warning_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "playbook: p\ntitle: T\nowners: {o: {name: O}}\n"
        "sources: {s: {type: csv, path: s.csv}}\n"
        "metrics: {m: {source: s, kpi: mean, field: x, target: 1}}\n"
        "tasks: {a: {title: A, owner: o, when: {metric: m, status: met}}}\n"
    )
    result = inspect(path)
    assert result.ok
    (warning,) = result.warnings
    assert warning.location.line == 6
    assert "the condition is ignored" in warning.message


def test_all_problems_in_one_run(tmp_path: Path) -> None:
    # A shape error does not stop reference checks elsewhere in the file.
    path = tmp_path / "p.yaml"
    path.write_text(
        "playbook: p\ntitle: T\nowners: {o: {name: O}}\n"
        "tasks:\n"
        "  a: {title: A, owner: o, due: soon}\n"
        "  b: {title: B, owner: nobody, depends_on: [a, zz]}\n"
    )
    lines = sorted((p.location.line, p.location.col) for p in inspect(path).errors)
    assert lines == [(5, 32), (6, 24), (6, 48)]
