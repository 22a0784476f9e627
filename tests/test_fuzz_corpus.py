"""The fuzz regression corpus: inputs that once crashed or misled pdca, and tricky ones.

Every file in ``data/fuzz_corpus`` must satisfy the fuzz property (see
``test_fuzz_playbooks.py``): a valid playbook, or errors placed inside the
file, and never another exception. Files named ``crash_*``, ``misleading_*``
and ``wrong_*`` broke pdca before the fix named in docs/reliability.md; the
expectations below pin what the fix made of them. Inputs too large to keep in
the repository (a 10 MB line) are generated here.

Add a file whenever the fuzzer finds something: ``PDCA_FUZZ_EXAMPLES`` runs
print the failing input; save its bytes under a name that says what it is.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pdca.playbook import inspect
from test_fuzz_playbooks import assert_sound

CORPUS = Path(__file__).parent / "data" / "fuzz_corpus"
FILES = sorted(CORPUS.glob("*.yaml"))

VALID = {
    "bom.yaml",
    "bom_twice.yaml",
    "id_200_chars.yaml",
    "tab_after_key.yaml",
    "crlf.yaml",
    "merge_fine.yaml",
    "yes_no_ids.yaml",
}
"""Files that are valid playbooks, odd as they look."""

EXPECT: dict[str, list[tuple[int, int, str]]] = {
    # each (line, col, text in the message) must be among the errors
    "crash_merge_bomb.yaml": [(4, 7, "aliases expand to far more values than the file holds")],
    "crash_merge_recursive.yaml": [(4, 6, "'<<' merges a mapping into itself")],
    "crash_merge_recursive_list.yaml": [(4, 6, "'<<' merges a mapping into itself")],
    "crash_duration_digits.yaml": [
        (3, 17, "'length' is longer than ten years (999999"),
        (5, 37, "'estimate' is longer than ten years (999999"),
    ],
    "crash_duration_zero_digits.yaml": [(3, 17, "must be longer than zero")],
    "crash_explicit_tags.yaml": [
        (7, 8, "'nope' is not a valid date"),
        (8, 8, "'maybe' is not a valid boolean"),
        (16, 8, "'' is not a valid date"),
        (17, 16, "'nope' is not a valid date"),
        (19, 58, "'' is not a valid number"),
    ],
    "misleading_nan_param.yaml": [
        (5, 68, "'.nan' is not a finite number"),
        (5, 68, "parameter 'q' must be a number, got '.nan'"),
    ],
    "misleading_huge_int.yaml": [
        (3, 45, "(5000 characters)' is too large a number"),
        (5, 47, "(5000 characters)' is too large a number"),
    ],
    "misleading_long_value.yaml": [
        (3, 16, "(20000 characters)'"),
        (5, 61, "(20000 characters)'"),
    ],
    "misleading_control_chars.yaml": [(4, 34, r"got '\x1b[2J\x1b[31mred'")],
    # ids the state store's columns cannot hold, and control characters in any text,
    # are refused at their place (they used to pass and fail later, or reach terminals)
    "long_id.yaml": [(4, 5, "(3000 characters)' is longer than the 200 characters")],
    "id_201_chars.yaml": [(6, 3, "task id 'tttt")],
    "nul_escape_in_text.yaml": [
        (2, 8, r"'title' holds the control character '\x00' (character 2)"),
        (4, 13, r"owner 'o': 'name' holds the control character '\x1b'"),
        (6, 88, r"task 't': 'action.command' holds the control character '\x9b'"),
    ],
    "misleading_sexagesimal_duration.yaml": [
        (5, 37, "'24:00' is not a duration"),
        (6, 37, "'0x1F' is not a duration"),
    ],
    "wrong_line_unicode_line_separator.yaml": [(4, 30, "unknown owner 'zz'")],
    "wrong_line_unicode_line_separator_syntax.yaml": [(4, 1, "invalid YAML")],
    "wrong_place_latin1_byte.yaml": [(4, 16, "file is not UTF-8 text (byte 44)")],
    "bom_utf16.yaml": [(1, 1, "file is UTF-16 text; save it as UTF-8")],
    "duplicate_anchors.yaml": [(5, 6, "already defined at line 4")],
    "cr_only.yaml": [(6, 24, "unknown owner 'zz'")],
    "mixed_line_endings.yaml": [(5, 30, "unknown owner 'nobody'")],
    "python_tags.yaml": [
        (2, 8, "tag '!!python/object/apply:os.system' is not allowed"),
        (3, 14, "tag '!!python/name:os.system' is not allowed"),
        (5, 11, "tag '!!python/module:os' is not allowed"),
    ],
    "deep_block_300.yaml": [(203, 202, "nested more than 200 levels deep")],
    "misleading_long_references.yaml": [
        (5, 13, "(2000 characters)' (available: "),
        (8, 23, "(2000 characters)' (available: "),
        (10, 28, "unknown metric 'qqqqq"),
        (10, 28, "(30000 characters)' (defined: m)"),
        (12, 1039, "(1000 characters) --> yyyy"),
        (13, 1023, r"got '\x1b[2J'"),
    ],
}
"""What the fixes made of inputs that once crashed or misled, and places worth pinning."""

MESSAGE_LIMIT = 400
"""No message quotes a long value whole (the longest value in the corpus is 20,000 characters)."""


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_corpus_file_is_answered_soundly(path: Path) -> None:
    assert_sound(path)
    result = inspect(path)
    assert result.ok == (path.name in VALID), [str(p) for p in result.errors]
    for problem in result.problems:
        if path.name not in ("many_errors.yaml", "plugins_odd.yaml"):
            assert len(problem.message) <= MESSAGE_LIMIT, problem.message[:200]


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_fixed_inputs_get_the_expected_errors(name: str) -> None:
    path = CORPUS / name
    got = [(p.location.line, p.location.col, p.message) for p in inspect(path).errors]
    for line, col, text in EXPECT[name]:
        assert any((line, col) == (a, b) and text in m for a, b, m in got), (line, col, text, got)


def test_the_corpus_has_what_the_issue_lists() -> None:
    names = {p.stem for p in FILES}
    wanted = {
        "bom",
        "crlf",
        "nul_byte",
        "invalid_utf8_surrogate",
        "complex_key",
        "merge_non_mapping",
        "duplicate_anchors",
        "inf_targets",
        "feb29",
        "times_24h",
        "octal_ids",
        "tilde_values",
        "yes_no_ids",
    }
    assert wanted <= names
    assert set(EXPECT) <= {p.name for p in FILES}
    assert {p.name for p in FILES} >= VALID


def test_ten_megabyte_single_line(tmp_path: Path) -> None:
    # too big for the repository, so written here: one 10 MB line, as a value and as a key
    value = tmp_path / "long_value.yaml"
    value.write_bytes(b"playbook: p\ntitle: " + b"x" * 10_000_000 + b"\n")
    assert_sound(value)
    result = inspect(value)
    assert result.ok and len(result.playbook.title) == 10_000_000

    bad = tmp_path / "long_bad_value.yaml"
    bad.write_bytes(b"playbook: p\ntitle: T\ncycle: {start: " + b"9" * 10_000_000 + b"}\n")
    assert_sound(bad)
    (error,) = inspect(bad).errors
    assert (error.location.line, error.location.col) == (3, 16)
    assert "(10000000 characters)" in error.message and len(error.message) < MESSAGE_LIMIT

    key = tmp_path / "long_key.yaml"
    key.write_bytes(b"playbook: p\ntitle: T\n" + b"k" * 10_000_000 + b": v\n")
    assert_sound(key)  # libyaml refuses a plain key over 1024 characters: a YAML error
