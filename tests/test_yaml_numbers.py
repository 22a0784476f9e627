"""How playbook numbers are read: YAML 1.1's octal and base-60 surprises are refused where a
number is read, exponents without a dot are numbers, quoted values stay text.

Each case goes through the real ``pdca`` process on a real file; every expected
line, column and reading (octal 070 = 56, 1:30 = 90, 190:20:30 = 685230 ...) is
worked out by hand in the comments.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from pdca.playbook import loader
from pdca_process import pdca

TICKETS = "id,created_at,score\n1,2026-01-05,5\n2,2026-01-12,4\n3,2026-01-19,3\n"


MISREAD = """\
playbook: numbers
title: Numbers
owners:
  ana: {name: Ana}
sources:
  tickets:
    type: csv
    path: tickets.csv
    timestamp: created_at
    skip: 01
metrics:
  octal:
    source: tickets
    kpi: mean
    field: score
    target: 070
    warn: -070
  base60:
    source: tickets
    kpi: mean
    field: score
    target: 1:30
    baseline: 190:20:30
  not-octal:
    source: tickets
    kpi: mean
    field: score
    target: 08
    warn: -09
  big:
    source: tickets
    kpi: mean
    field: score
    target: 6.02e23
check:
  min_baseline: 012
tasks:
  first:
    title: First
    owner: ana
    estimate: 1:30
"""

QUOTE = "or quote it if you mean text"
EXPECTED = [
    # line 10 '    skip: 01': the value starts after 4 spaces and 'skip: ', column 11
    "10:11: error: 'skip': 01 has a leading zero: YAML 1.1 reads it as octal 1; "
    f"write 1, {QUOTE} ('01')",
    # the csv plugin then sees the text as written, not the octal 1
    "10:11: error: source 'tickets': skip must be a whole number, 0 or more",
    # 0o70 = 7*8 = 56
    "16:13: error: 'target': 070 has a leading zero: YAML 1.1 reads it as octal 56; "
    f"write 70, {QUOTE} ('070')",
    "17:11: error: 'warn': -070 has a leading zero: YAML 1.1 reads it as octal -56; "
    f"write -70, {QUOTE} ('-070')",
    "22:13: error: 'target': 1:30 is a base-60 number to YAML 1.1, which reads it as 90 "
    f"(1*60 + 30); write the number you mean, {QUOTE} ('1:30')",
    # 190*3600 + 20*60 + 30 = 684000 + 1200 + 30 = 685230; '    baseline: ' is 14 wide
    "23:15: error: 'baseline': 190:20:30 is a base-60 number to YAML 1.1, which reads it as "
    f"685230 (190*3600 + 20*60 + 30); write the number you mean, {QUOTE} ('190:20:30')",
    "28:13: error: 'target': 08 has a leading zero, which makes YAML 1.1 read a number as "
    "octal; 8 and 9 are not octal digits, so 08 is text; write 8",
    "29:11: error: 'warn': -09 has a leading zero, which makes YAML 1.1 read a number as "
    "octal; 8 and 9 are not octal digits, so -09 is text; write -9",
    # a number now (it was the text '6.02e23'), and far above the 1e15 limit
    "34:13: error: 'target' is too large (6.02e23)",
    # 0o12 = 8 + 2 = 10; '  min_baseline: ' is 16 wide
    "36:17: error: 'min_baseline': 012 has a leading zero: YAML 1.1 reads it as octal 10; "
    f"write 12, {QUOTE} ('012')",
    "41:15: error: 'estimate': '1:30' is not a duration: write an integer followed by "
    "h | d | w (e.g. 28d); 1:30 is a base-60 number to YAML 1.1, which reads it as 90 "
    "(1*60 + 30)",
]


def test_misread_numbers_are_errors_at_their_place_saying_how_yaml_reads_them(
    tmp_path: Path,
) -> None:
    (tmp_path / "tickets.csv").write_text(TICKETS)
    (tmp_path / "playbook.yaml").write_text(MISREAD)
    result = pdca(tmp_path, "validate", "playbook.yaml")
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    errors = [line for line in result.stdout.splitlines() if ": error: " in line]
    assert errors == [f"playbook.yaml:{line}" for line in EXPECTED]


VALID = """\
playbook: fine
title: yes
owners:
  ana: {name: Ana}
sources:
  tickets: {type: csv, path: tickets.csv, timestamp: created_at}
metrics:
  exp: {source: tickets, kpi: mean, field: score, target: 1e-3, warn: -.5, baseline: 0}
  upper: {source: tickets, kpi: mean, field: score, target: 1E5, warn: +1e3, baseline: 1_000}
  small:
    source: tickets
    kpi: mean
    field: score
    direction: decrease
    target: 0.05
    warn: 0.5
    baseline: 6.02e2
    benchmark: {value: 070.5, source: Survey}
  hex: {source: tickets, kpi: mean, field: score, target: 0x1F, warn: 0b101}
objectives:
  o: {title: 070, owner: ana, metrics: [exp, upper, small, hex]}
tasks:
  first: {title: 070, owner: ana, estimate: 07}
  second: {title: '070', owner: ana, estimate: 1d, depends_on: [first]}
"""


def test_exponents_underscores_and_quoted_values_read_as_they_look(tmp_path: Path) -> None:
    (tmp_path / "tickets.csv").write_text(TICKETS)
    (tmp_path / "playbook.yaml").write_text(VALID)
    result = pdca(tmp_path, "validate", "-q", "playbook.yaml")
    assert (result.returncode, result.stdout) == (0, "")

    check = pdca(tmp_path, "check", "playbook.yaml", "--as-of", "2026-01-20", "--format", "json")
    assert check.returncode == 0, check.stderr
    report = json.loads(check.stdout)
    # yes stays the text it always was where text is expected
    assert report["title"] == "yes"
    got = {mid: (m["target"], m["warn"], m["baseline"]) for mid, m in report["metrics"].items()}
    assert got == {
        "exp": (0.001, -0.5, 0.0),
        "upper": (100000.0, 1000.0, 1000.0),
        "small": (0.05, 0.5, 602.0),
        "hex": (31.0, 5.0, None),
    }
    # a leading zero before a dot is no octal: 070.5 is 70.5 to YAML 1.1 as to anyone
    assert report["metrics"]["small"]["benchmark"]["value"] == 70.5

    graph = json.loads(pdca(tmp_path, "graph", "playbook.yaml", "--format", "json").stdout)
    nodes = {n["id"]: n for n in graph["nodes"]}
    # titles are text kept as written, quoted or not; 07 days is 7 * 24 = 168 hours
    assert [nodes[t]["label"] for t in ("o", "first", "second")] == ["070", "070", "070"]
    assert (nodes["first"]["hours"], nodes["second"]["hours"]) == (168.0, 24.0)


def test_the_resolver_keeps_its_own_table_and_pyyaml_reads_as_before() -> None:
    before = yaml.safe_load("a: 1e-3\nb: 070\nc: on\n")
    node = loader.parse("a: 1e-3\nb: 070\nc: on\nd: '1e-3'\ne: 1.0e+5\n", "x.yaml")
    tags = [v.tag.rsplit(":", 1)[1] for _, v in node.value]
    assert tags == ["float", "int", "bool", "str", "float"]
    # PyYAML's own table (and so every other user of it in the process) is untouched
    assert yaml.safe_load("a: 1e-3\nb: 070\nc: on\n") == before == {"a": "1e-3", "b": 56, "c": True}
    shared = yaml.resolver.Resolver.yaml_implicit_resolvers
    assert loader.FastResolver.yaml_implicit_resolvers is not shared
    assert all(rx is not loader.FLOAT for resolvers in shared.values() for _, rx in resolvers)


def test_the_dumper_quotes_text_that_pdca_reads_as_a_number() -> None:
    data = {"text": "1e-3", "number": 1e-3, "octal": "070", "clock": "1:30", "word": "yes"}
    text = loader.dump(data)
    assert text == ("text: '1e-3'\nnumber: 0.001\noctal: '070'\nclock: '1:30'\nword: 'yes'\n")
    node = loader.parse(text, "x.yaml")
    assert [v.tag.rsplit(":", 1)[1] for _, v in node.value] == [
        "str",
        "float",
        "str",
        "str",
        "str",
    ]


def test_explicit_tags_on_non_numbers_are_plain_errors_not_crashes(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(
        "playbook: p\ntitle: T\n"
        "sources: {s: {type: csv, path: s.csv, skip: !!int 0zz}}\n"
        "metrics:\n"
        "  a: {source: s, kpi: mean, field: x, target: !!int a:b}\n"
    )
    result = pdca(tmp_path, "validate", "p.yaml")
    assert (result.returncode, result.stderr) == (1, "")
    # '  a: {source: s, kpi: mean, field: x, target: ' is 46 wide; the skip value starts
    # after 'sources: {s: {type: csv, path: s.csv, skip: ', 44 wide
    assert result.stdout.splitlines() == [
        "p.yaml:3:45: error: '0zz' is not a valid number (invalid literal for int() with "
        "base 8: '0zz')",
        "p.yaml:3:45: error: source 's': skip must be a whole number, 0 or more",
        "p.yaml:5:47: error: 'a:b' is not a valid number (invalid literal for int() with "
        "base 10: 'a')",
    ]
