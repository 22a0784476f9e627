"""What a playbook from elsewhere cannot make pdca do: run its plugins while it is
validated, read files outside its folder, read the machine through a filter, flood a
message with its data, or make pdca read a device without end.

Every case runs a real ``pdca`` process on real files; the secrets are files in the
test's own folder, outside the playbook's, whose text must never come back.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import duckdb
import pytest

from pdca.data.session import DataSession
from pdca.playbook import load
from pdca_process import pdca

SECRET = "TOPSECRET-4242"
CSV = (
    "ts,score,channel\n2026-03-02,9,Email\n2026-03-03,3,phone\n2026-03-04,6,email\n2026-03-05,10,\n"
)
HEAD = "playbook: p\ntitle: T\n"


def run(cwd: Path, *args: str, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(pythonpath), env.get("PYTHONPATH", "")) if p
        )
    return pdca(cwd, *args, env=env)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """``tmp/pb`` holds the playbook and its data; ``tmp/outside`` holds a secret."""
    pb = tmp_path / "pb"
    pb.mkdir()
    (pb / "s.csv").write_text(CSV)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(f"{SECRET}\n")
    # a CSV whose header is the secret: an echoed column list would give it away
    (outside / "secret.csv").write_text(f"{SECRET},other\n1,2\n")
    return pb


def playbook(folder: Path, sources: str, metrics: str, extra: str = "") -> Path:
    path = folder / "p.yaml"
    path.write_text(f"{HEAD}{extra}sources:\n{sources}metrics:\n{metrics}")
    return path


SOURCE = "  s: {type: csv, path: s.csv, timestamp: ts}\n"


def metric(mid: str, filter_: str | None = None, source: str = "s") -> str:
    text = f"  {mid}:\n    source: {source}\n    kpi: mean\n    field: score\n    target: 7\n"
    if filter_ is not None:
        text += f"    filter: {json.dumps(filter_)}\n"
    return text


# -- validate --no-plugins ------------------------------------------------------------------
EVIL = "from pathlib import Path\nPath({marker!r}).write_text('imported')\n"


def evil_setup(tmp_path: Path, folder: Path) -> tuple[Path, list[Path], Path]:
    """A playbook naming a plugin file and a plugin module, and an installed plugin
    (an entry point in a dist-info on PYTHONPATH): each writes a marker when imported."""
    markers = [tmp_path / f"imported-{n}" for n in ("file", "module", "entry-point")]
    (folder / "evil_file.py").write_text(EVIL.format(marker=str(markers[0])))
    site = tmp_path / "site"
    site.mkdir()
    (site / "evil_module.py").write_text(EVIL.format(marker=str(markers[1])))
    (site / "evil_ep.py").write_text(EVIL.format(marker=str(markers[2])))
    dist = site / "evil_ep-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: evil-ep\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[pdca]\nevil_ep = evil_ep\n")
    sources = SOURCE + "  x: {type: excel, path: s.xlsx}\n"
    metrics = metric("nps") + ("  other: {source: x, kpi: custom_kpi, field: score, target: 30}\n")
    extra = "plugins: [evil_file.py, evil_module]\n"
    path = playbook(folder, sources, metrics, extra)
    with path.open("a") as f:
        f.write("owners: {maria: {name: M}}\n")
        f.write("tasks:\n  t: {title: T, owner: maria, action: {type: webhook, url: x}}\n")
    return path, markers, site


def test_validate_no_plugins_imports_nothing_and_passes(tmp_path: Path, folder: Path) -> None:
    _, markers, site = evil_setup(tmp_path, folder)
    out = run(folder, "validate", "--no-plugins", "p.yaml", pythonpath=site)
    assert [m.exists() for m in markers] == [False, False, False]
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines[:3] == [
        "p.yaml:6:13: warning: source 'x' uses source type 'excel', which is not one of "
        "pdca's built-ins: not checked (plugins were not loaded: --no-plugins)",
        "p.yaml:13:27: warning: metric 'other' uses KPI 'custom_kpi', which is not one of "
        "pdca's built-ins: not checked (plugins were not loaded: --no-plugins)",
        "p.yaml:16:46: warning: task 't' uses action type 'webhook', which is not one of "
        "pdca's built-ins: not checked (plugins were not loaded: --no-plugins)",
    ]
    assert lines[3] == "p.yaml: ok: playbook 'p' with 0 objectives, 2 metrics, 1 tasks"
    assert "note: --no-plugins: nothing was imported" in out.stderr


def test_validate_without_the_flag_still_imports_them(tmp_path: Path, folder: Path) -> None:
    # the contract of every other command, and what makes the flag worth having
    _, markers, site = evil_setup(tmp_path, folder)
    run(folder, "validate", "p.yaml", pythonpath=site)
    assert [m.read_text() for m in markers] == ["imported"] * 3


def test_validate_no_plugins_still_fails_on_real_errors(tmp_path: Path, folder: Path) -> None:
    path, markers, site = evil_setup(tmp_path, folder)
    path.write_text(path.read_text().replace("owner: maria", "owner: nobody"))
    out = run(folder, "validate", "--no-plugins", "--format", "json", "p.yaml", pythonpath=site)
    assert out.returncode == 1
    (report,) = json.loads(out.stdout)
    assert report["valid"] is False and report["plugins_loaded"] is False
    severities = sorted((p["severity"], p["line"]) for p in report["problems"])
    assert severities == [("error", 16), ("warning", 6), ("warning", 13), ("warning", 16)]
    assert not any(m.exists() for m in markers)


def test_validate_no_plugins_data_reads_what_builtins_can(tmp_path: Path, folder: Path) -> None:
    path, markers, site = evil_setup(tmp_path, folder)
    path.write_text(path.read_text().replace("field: score\n", "field: scor\n", 1))
    out = run(
        folder, "validate", "--no-plugins", "--data", "--as-of", "2026-03-08", "p.yaml",
        pythonpath=site,
    )  # fmt: skip
    assert out.returncode == 1
    errors = [line for line in out.stdout.splitlines() if ": error: " in line]
    assert errors == [
        "p.yaml:11:12: error: metric 'nps' reads column 'scor' which source 's' does not "
        "have (available: ts, score, channel); did you mean 'score'?"
    ]
    assert not any(m.exists() for m in markers)


# -- filters ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("filter_", "refused"),
    [
        ("read_text('{secret}') IS NOT NULL", "calls read_text(), which a filter may not use"),
        ("channel IN (SELECT content FROM read_text('{secret}'))", "holds a subquery"),
        ("EXISTS (SELECT * FROM read_csv('{secret}'))", "holds a subquery"),
        ("getvariable('x') IS NULL", "calls getvariable()"),
        ("current_setting('home_directory') IS NOT NULL", "calls current_setting()"),
        ("main.lower(channel) = 'a'", "calls main.lower()"),
        ("count(*) > 0", "calls count_star()"),
        ("row_number() OVER () = 1", "holds a window function"),
        ("list_transform([1], x -> x + 1) IS NULL", "calls list_transform()"),
        ("score = ?", "holds a parameter"),
        ("1 = 1) OR (1 = 1", "closes a parenthesis it did not open"),
        ("1 = 1) UNION SELECT 1 FROM (SELECT 1", "is more than a condition"),
        ("1 = 1) ORDER BY (1", "is more than a condition"),
        ("true); COPY (SELECT 1) TO '{secret}.x'; SELECT (1", "not several statements"),
        ("score >", "is not a SQL condition"),
        ("score > 1 -- and the rest", "holds a comment"),
        ("   ", "is empty"),
    ],
)
def test_a_filter_is_an_expression_over_columns(
    tmp_path: Path, folder: Path, filter_: str, refused: str
) -> None:
    text = filter_.format(secret=tmp_path / "outside" / "secret.txt")
    path = playbook(folder, SOURCE, metric("a", text))
    for args in (["validate", "p.yaml"], ["check", "p.yaml", "--as-of", "2026-03-08"]):
        out = run(folder, *args)
        assert out.returncode == 1
        assert SECRET not in out.stdout + out.stderr
        (line,) = [x for x in (out.stderr + out.stdout).splitlines() if ": error: " in x]
        assert line.startswith("p.yaml:11:13: error: metric 'a' filter ")
        assert refused in line
        assert "Traceback" not in out.stderr
    assert not (tmp_path / "outside" / "secret.txt.x").exists()
    assert path.exists()


@pytest.mark.parametrize(
    ("filter_", "mean", "n"),
    [
        # rows: 9 Email, 3 phone, 6 email, 10 (no channel), on 2, 3, 4 and 5 March
        ("lower(channel) = 'email'", 7.5, 2),
        ("channel IS NULL", 10.0, 1),
        ("channel COLLATE nocase = 'EMAIL'", 7.5, 2),
        ("channel ILIKE 'e%' AND score BETWEEN 0 AND 8", 6.0, 1),
        ("CASE WHEN score > 5 THEN 1 ELSE 0 END = 1", 25 / 3, 3),
        ("CAST(score AS DOUBLE) NOT BETWEEN 4 AND 9", 6.5, 2),
        ("coalesce(channel, 'none') LIKE '%o%'", 6.5, 2),
        ("day(ts) >= 4 AND year(ts) = 2026", 8.0, 2),
        ("strftime(ts, '%d') IN ('02', '03')", 6.0, 2),
        (
            "length(trim(upper(channel))) = 5 AND upper(channel) <> 'PHONE' "
            "OR abs(round(score - 10)) < 1",
            25 / 3,
            3,
        ),
        ("date_trunc('day', ts) > DATE '2026-03-03' AND ts < TIMESTAMP '2026-03-05'", 6.0, 1),
        ("ts >= DATE '2026-03-02' + INTERVAL 2 DAY", 8.0, 2),
    ],
)
def test_filters_over_columns_give_hand_computed_values(
    folder: Path, filter_: str, mean: float, n: int
) -> None:
    playbook(folder, SOURCE, metric("a", filter_))
    out = run(folder, "check", "p.yaml", "--as-of", "2026-03-08", "--format", "json")
    got = json.loads(out.stdout)["metrics"]["a"]
    assert got.get("error") is None
    assert (got["value"], got["n"]) == (pytest.approx(mean), n)


def test_database_filters_are_vetted_too(tmp_path: Path, folder: Path) -> None:
    import sqlite3

    con = sqlite3.connect(folder / "s.db")
    con.execute("CREATE TABLE t (ts TEXT, score INTEGER, channel TEXT)")
    con.executemany(
        "INSERT INTO t VALUES (?, ?, ?)",
        [("2026-03-02", 9, "email"), ("2026-03-03", 3, "phone"), ("2026-03-04", 6, "email")],
    )
    con.commit()
    con.close()
    source = "  s: {type: sqlite, path: s.db, table: t, timestamp: ts}\n"
    playbook(folder, source, metric("a", "sqlite_version() IS NOT NULL"))
    out = run(folder, "validate", "p.yaml")
    assert out.returncode == 1
    assert out.stdout.startswith(
        "p.yaml:11:13: error: metric 'a' filter 'sqlite_version() IS NOT NULL' calls "
        "sqlite_version(), which a filter may not use"
    )
    playbook(folder, source, metric("a", "lower(channel) = 'email'"))
    out = run(folder, "check", "p.yaml", "--as-of", "2026-03-08", "--format", "json")
    got = json.loads(out.stdout)["metrics"]["a"]
    assert (got["value"], got["n"]) == (7.5, 2)


def test_duckdb_opens_no_file_but_the_sources(tmp_path: Path, folder: Path) -> None:
    """Behind the vetting, DuckDB itself refuses every other file, for good."""
    path = playbook(folder, SOURCE, metric("a"))
    pb = load(path)
    from pdca.plugins import build_registry, builtin_plugin_manager

    registry = build_registry(builtin_plugin_manager())
    secret = sql_text(tmp_path / "outside" / "secret.txt")
    with DataSession(pb, registry, cache_dir=folder / ".pdca" / "cache") as s:
        assert s.columns("s") == ["ts", "score", "channel"]
        for sql in (
            f"SELECT * FROM read_text({secret})",
            f"COPY (SELECT 1) TO {sql_text(folder / 'written.csv')}",
            "SET enable_external_access = true",
            f"SET allowed_paths = [{secret}]",
        ):
            with pytest.raises(duckdb.Error):
                s.con.execute(sql).fetchall()
    assert not (folder / "written.csv").exists()
    # the cache folder stays usable: a check writes and then reads its Parquet copy
    for _ in range(2):
        out = run(folder, "check", "p.yaml", "--as-of", "2026-03-08", "--format", "json")
        assert json.loads(out.stdout)["metrics"]["a"]["value"] == 7.0
    assert list((folder / ".pdca" / "cache").glob("*.parquet"))


def sql_text(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


# -- paths -----------------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["relative", "absolute", "link"])
def test_a_path_outside_the_folder_is_refused_unread(
    tmp_path: Path, folder: Path, how: str
) -> None:
    target = tmp_path / "outside" / "secret.csv"
    raw = {"relative": "../outside/secret.csv", "absolute": str(target), "link": "link.csv"}[how]
    if how == "link":
        (folder / "link.csv").symlink_to(target)
    source = f"  s: {{type: csv, path: {json.dumps(raw)}}}\n"
    playbook(folder, source, "  a: {source: s, kpi: count, target: 1}\n")
    for args in (["validate", "p.yaml"], ["check", "p.yaml", "--as-of", "2026-03-08"]):
        out = run(folder, *args)
        assert out.returncode == 1
        assert SECRET not in out.stdout + out.stderr
        (line,) = [x for x in (out.stdout + out.stderr).splitlines() if ": error: " in x]
        # validate cuts a quoted value at 60 characters, check at 200
        assert line.startswith(f"p.yaml:4:24: error: source 's': 'path' '{raw[:50]}")
        assert line.endswith(
            f" is outside the playbook's folder ({folder.resolve()}): pdca reads only files "
            "under it; move the file into the folder, or add 'allow_outside: true' to the "
            "source if you trust this playbook"
        )


def test_allow_outside_reads_the_file_and_names_its_columns(tmp_path: Path, folder: Path) -> None:
    source = "  s: {type: csv, path: ../outside/secret.csv, allow_outside: true}\n"
    playbook(folder, source, "  a: {source: s, kpi: count, target: 1}\n")
    out = run(folder, "check", "p.yaml", "--as-of", "2026-03-08", "--format", "json")
    assert json.loads(out.stdout)["metrics"]["a"]["value"] == 1
    # allowed, so its header is fair to list when a column is missing
    playbook(folder, source, "  a: {source: s, kpi: mean, field: nope, target: 1}\n")
    out = run(folder, "validate", "--data", "p.yaml")
    assert f"(available: {SECRET}, other)" in out.stdout


def test_allow_outside_takes_true_or_false(folder: Path) -> None:
    source = "  s: {type: csv, path: s.csv, allow_outside: sometimes}\n"
    playbook(folder, source, "  a: {source: s, kpi: count, target: 1}\n")
    out = run(folder, "validate", "p.yaml")
    assert out.returncode == 1
    assert out.stdout == (
        "p.yaml:4:46: error: 'allow_outside' must be true or false, got 'sometimes'\n"
    )


# -- special files and bounded messages -------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "kind"),
    [("fifo", "a named pipe (FIFO)"), ("/dev/zero", "a character device")],
)
def test_only_regular_files_are_read(folder: Path, make: str, kind: str) -> None:
    if make == "fifo":
        os.mkfifo(folder / "pipe.csv")
        source = "  s: {type: csv, path: pipe.csv, timestamp: ts}\n"
        shown = "pipe.csv"
    else:
        source = "  s: {type: csv, path: /dev/zero, allow_outside: true, timestamp: ts}\n"
        shown = "/dev/zero"
    playbook(folder, source, metric("a"))
    out = run(folder, "check", "p.yaml", "--as-of", "2026-03-08")
    assert out.returncode == 1
    assert f"source 's': 'path' {shown!r} is {kind} (" in out.stderr
    assert "pdca reads only regular files" in out.stderr


def test_a_file_of_nul_bytes_gets_one_short_message(folder: Path) -> None:
    (folder / "nul.csv").write_bytes(b"\x00" * 300_000)
    playbook(folder, "  s: {type: csv, path: nul.csv, timestamp: ts}\n", metric("a"))
    out = run(folder, "check", "p.yaml", "--as-of", "2026-03-08")
    assert out.returncode == 1
    (line,) = [x for x in out.stderr.splitlines() if ": error: " in x]
    assert line == (
        "p.yaml:4:24: error: source 's': file nul.csv holds NUL bytes (the first at byte 0): "
        "it is not a text csv file; check the export that writes it (a UTF-16 file takes "
        "encoding: utf-16)"
    )


def test_long_inputs_are_quoted_in_bounded_excerpts(folder: Path) -> None:
    # a header that is one 300,000-character name, and a 5,000-character filter
    (folder / "wide.csv").write_text("a" * 300_000 + "\n1\n")
    sources = SOURCE + "  w: {type: csv, path: wide.csv}\n"
    long_filter = "channel = '" + "x" * 5_000 + "' AND nosuch = 1"
    metrics = metric("a", long_filter) + "  b: {source: w, kpi: mean, field: score, target: 1}\n"
    playbook(folder, sources, metrics)
    out = run(folder, "validate", "--data", "--as-of", "2026-03-08", "p.yaml")
    assert out.returncode == 1
    errors = [x for x in out.stdout.splitlines() if ": error: " in x]
    assert len(errors) == 2 and all(len(x) < 1_000 for x in errors), [len(x) for x in errors]
    assert "(available: " + "a" * 60 + "... (300000 characters))" in errors[0] + errors[1]
    assert "x" * 189 + "\"... (5,027 characters) names column 'nosuch'" in out.stdout


def test_a_sqlite_url_outside_the_folder_is_refused(tmp_path: Path, folder: Path) -> None:
    import sqlite3

    db = tmp_path / "outside" / "x.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (score INTEGER)")
    con.executemany("INSERT INTO t VALUES (?)", [(4,), (8,)])
    con.commit()
    con.close()
    source = "  s: {type: sql, url: 'sqlite:///../outside/x.db', table: t}\n"
    playbook(folder, source, "  a: {source: s, kpi: mean, field: score, target: 1}\n")
    out = run(folder, "check", "p.yaml", "--as-of", "2026-03-08", "--format", "json")
    assert out.returncode == 1
    assert json.loads(out.stdout)["metrics"]["a"]["error"] == (
        "p.yaml:4:23: source 's': the SQLite file '../outside/x.db' is outside the playbook's "
        f"folder ({folder.resolve()}): pdca reads only files under it; move the file into the "
        "folder, or add 'allow_outside: true' to the source if you trust this playbook"
    )
    playbook(
        folder,
        source.replace("table: t", "table: t, allow_outside: true"),
        "  a: {source: s, kpi: mean, field: score, target: 1}\n",
    )
    out = run(folder, "check", "p.yaml", "--as-of", "2026-03-08", "--format", "json")
    assert json.loads(out.stdout)["metrics"]["a"]["value"] == 6.0


def test_a_path_no_file_can_have_is_an_error_not_a_crash(folder: Path) -> None:
    (folder / "loop1").symlink_to("loop2")
    (folder / "loop2").symlink_to("loop1")
    sources = '  s: {type: csv, path: "a\\0b.csv"}\n  t: {type: csv, path: loop1}\n'
    metrics = "  a: {source: s, kpi: count, target: 1}\n  b: {source: t, kpi: count, target: 1}\n"
    playbook(folder, sources, metrics)
    out = run(folder, "validate", "p.yaml")
    assert out.returncode == 1 and "internal error" not in out.stderr
    nul, loop = out.stdout.splitlines()
    assert nul == (
        "p.yaml:4:24: error: source 's': 'path' 'a\\x00b.csv' holds a NUL character, which "
        "no file name can"
    )
    assert loop.startswith(
        "p.yaml:5:24: error: source 't': 'path' 'loop1' cannot be resolved (Symlink loop from '"
    )
