"""``pdca graph --format mermaid`` through mermaid itself, in a real Chromium.

The grammar is mermaid's own: its parser (mermaid 11, the npm package's
browser bundle) must accept every diagram pdca writes, a deliberately broken
label must be refused (so the check can fail), and the rendered labels must
read as the titles were written, whatever quotes, backticks, ``#``, ``;``,
``<`` or brackets they hold. The bundle comes from ``PDCA_MERMAID_JS`` or is
fetched once with ``npm pack`` into ``~/.cache/pdca-tests``; without npm or a
network the test is skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from pdca.cli import cli
from test_graph_mermaid import HOSTILE, _playbook

MERMAID = "mermaid@11.17.2"
CACHE = Path.home() / ".cache" / "pdca-tests" / "mermaid-11.17.2.min.js"


def _bundle() -> Path:
    given = os.environ.get("PDCA_MERMAID_JS")
    if given:
        return Path(given)
    if CACHE.is_file():
        return CACHE
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("no npm to fetch mermaid's bundle; set PDCA_MERMAID_JS")
    work = CACHE.parent / "download"
    work.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            [npm, "pack", MERMAID, "--silent"],
            cwd=work,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.skip("npm pack mermaid took too long")
    if done.returncode != 0:
        pytest.skip(f"npm pack {MERMAID} failed: {done.stderr.strip()[-200:]}")
    with tarfile.open(work / done.stdout.strip().splitlines()[-1]) as tar:
        member = tar.extractfile("package/dist/mermaid.min.js")
        assert member is not None
        CACHE.write_bytes(member.read())
    return CACHE


def _diagrams(tmp_path: Path) -> dict[str, str]:
    path = _playbook(
        tmp_path,
        "sources: {'s': {type: csv, path: s.csv}}\n"
        "metrics: {m: {source: s, kpi: mean, field: x, target: 1, title: 'm; #1 `x`'}}\n"
        "objectives: {ob: {title: 'Win [big] \"now\"', metrics: [m]}}\n",
    )
    out = {}
    for name, extra in (("graph", []), ("critical", ["--critical-path"])):
        result = CliRunner().invoke(cli, ["graph", str(path), "--format", "mermaid", *extra])
        assert result.exit_code == 0, result.output
        out[name] = result.output
    from pdca.report.figures import mermaid

    nodes = [
        {"id": f"task:{i}", "label": t, "kind": "task", "status": "done"}
        for i, t in enumerate(HOSTILE)
    ]
    nodes.append({"id": "objective:o", "label": "dash", "kind": "objective", "status": "met"})
    out["report"] = mermaid({"nodes": nodes, "edges": [["task:0", "objective:o"]]})
    out["broken"] = 'flowchart LR\n    n0["a "quoted" title"]\n'  # what unescaped text does
    return out


PAGE = """<!doctype html><meta charset="utf-8"><body><div id="out"></div>
<script src="mermaid.min.js"></script>
<script>
mermaid.initialize({startOnLoad: false, securityLevel: "strict"});
const cases = %s;
window.results = null;
(async () => {
  const out = {};
  for (const [name, text] of Object.entries(cases)) {
    try {
      await mermaid.parse(text);
      const {svg} = await mermaid.render("d" + Object.keys(out).length, text);
      const box = document.createElement("div");
      box.innerHTML = svg;
      document.getElementById("out").appendChild(box);
      const labels = [...box.querySelectorAll(".nodeLabel")].map(e => e.textContent);
      out[name] = {ok: true, labels};
    } catch (e) {
      out[name] = {ok: false, error: String(e && e.message || e).slice(0, 300)};
    }
  }
  window.results = JSON.stringify(out);
})();
</script>"""


def test_mermaid_parses_and_renders_what_pdca_writes(chromium, tmp_path: Path) -> None:
    shutil.copy(_bundle(), tmp_path / "mermaid.min.js")
    page = tmp_path / "page.html"
    page.write_text(PAGE % json.dumps(_diagrams(tmp_path)), encoding="utf-8")
    run = chromium.run(page, {"results": "window.results"}, settle=5.0)
    results = run.values["results"]
    assert results is not None, run.console
    assert results["broken"]["ok"] is False  # the check can fail
    for name in ("graph", "critical", "report"):  # pdca graph, and the Markdown report's
        assert results[name]["ok"], results[name]
        labels = " | ".join(results[name]["labels"])
        titles = [*HOSTILE, "dash"]
        if name != "report":
            titles += ["underscore", 'Win [big] "now"', "m; #1 `x`"]
        for title in titles:
            assert title in labels, (title, labels)
        if name != "report":
            assert "dashdo · o" in labels  # title, then phase and owner id on the next line
