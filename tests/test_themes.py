"""Themes in comments: the tokeniser, the Fightin' Words statistic, and the metric glue.

Scores are checked against numbers worked out by hand in the comments; the glue
runs on a small CSV through the real data session.
"""

from __future__ import annotations

import math
import textwrap
from datetime import date, datetime, timedelta

import pytest

from pdca.check.stats import themes as fw
from pdca.check.stats.themes import compare, count_terms, log_odds, terms, words
from pdca.errors import PlaybookError, SourceError

# -- tokenising --------------------------------------------------------------------------


def test_words_are_lower_cased_letters_with_inner_hyphens_and_apostrophes() -> None:
    assert words("Follow-up e-mail DIDN'T arrive, 3 days!") == [
        "follow-up",
        "e-mail",
        "didn't",
        "arrive",
        "days",
    ]


def test_terms_are_content_words_and_phrases_of_adjacent_words() -> None:
    # "the", "was" stop words; "agent" and "rude" not adjacent; "hung up": "up" is a stop word
    assert terms("The agent was rude and hung up on me") == {"agent", "rude", "hung"}
    assert terms("Canned answer again") == {"canned", "answer", "canned answer"}


def test_punctuation_and_numbers_break_phrases() -> None:
    # "gone. Great" is two sentences; "waited 82 minutes" has a number between the words
    assert terms("Problem gone. Great job") == {"problem", "gone", "problem gone", "great",
                                                "job", "great job"}  # fmt: skip
    assert terms("Waited 82 minutes") == {"waited", "minutes"}
    assert terms("slow, rude") == {"slow", "rude"}


def test_negations_start_phrases_but_are_no_theme_alone() -> None:
    assert terms("Still NOT fixed!!!") == {"still", "fixed", "not fixed"}
    assert terms("Didn’t help") == {"help", "didn't help"}  # typographic apostrophe
    assert terms("never") == set()


def test_swedish_stop_words_and_negations() -> None:
    assert terms("Väntade 3 timmar på svar och fick ett standardsvar.") == {
        "väntade",
        "timmar",
        "svar",
        "standardsvar",
    }
    assert terms("Ärendet stängdes, inte löst") == {
        "ärendet",
        "stängdes",
        "ärendet stängdes",
        "löst",
        "inte löst",
    }


def test_decomposed_letters_are_the_same_word() -> None:
    decomposed = "va\u0308ntade"  # a + combining diaeresis
    assert terms(decomposed) == terms("väntade") == {"väntade"}


def test_markup_is_dropped_but_its_words_stay() -> None:
    assert terms("The agent was <b>rude</b>") == {"agent", "rude"}
    assert terms('<script>alert("still waiting")</script>') == {
        "alert",
        "still",
        "waiting",
        "still waiting",
    }
    # an entity breaks a phrase like the character it stands for
    assert terms("rude &amp; slow") == {"rude", "slow"}


@pytest.mark.parametrize("text", [None, "", "   ", "!!!", "...?", "123 456", "- - -", "😀 😡"])
def test_empty_and_punctuation_only_comments_have_no_terms(text: str | None) -> None:
    assert terms(text) == set()


def test_non_latin_text_does_not_crash() -> None:
    assert terms("Очень медленно") == {"очень", "медленно", "очень медленно"}
    assert terms("服务很慢") == {"服务很慢"}  # no spaces: one word, as far as a regex can tell


# -- counting -------------------------------------------------------------------------------


def test_a_word_repeated_is_no_phrase() -> None:
    assert terms("slow slow slow") == {"slow"}


def test_a_term_counts_once_per_comment_and_duplicates_count_each_time() -> None:
    corpus = count_terms(["slow slow slow", "slow", "slow", None, "", "  ", "???"])
    # 3 comments mention "slow" (one repeats it); "???" is a comment without terms
    assert corpus.counts == {"slow": 3}
    assert corpus.comments == 4
    assert list(corpus.texts) == ["slow slow slow", "slow", "???"]


# -- the statistic, by hand ----------------------------------------------------------------

GROUP = ["slow", "slow, rude", "slow"]  # slow 3, rude 1: n_a = 4
OTHER = ["fast", "fast, kind", "slow"]  # fast 2, kind 1, slow 1: n_b = 4


def test_log_odds_and_z_of_one_word_by_hand() -> None:
    scores = log_odds(count_terms(GROUP).counts, count_terms(OTHER).counts, prior=0.1)
    # pooled counts: slow 4, rude 1, fast 2, kind 1 -> a0 = 0.1 * 8 = 0.8, a_slow = 0.1 * 4 = 0.4
    # delta = log((3 + 0.4) / (4 + 0.8 - 3 - 0.4)) - log((1 + 0.4) / (4 + 0.8 - 1 - 0.4))
    #       = log(3.4 / 1.4) - log(1.4 / 3.4) = 2 log(3.4 / 1.4) = 1.774606
    # var = 1 / 3.4 + 1 / 1.4 = 1.008403 -> z = 1.774606 / 1.004193 = 1.767197
    delta, z = scores["slow"]
    assert delta == pytest.approx(2 * math.log(3.4 / 1.4))
    assert delta == pytest.approx(1.774606, abs=1e-6)
    assert z == pytest.approx(1.767197, abs=1e-6)
    # "fast": y_a 0, y_b 2, a = 0.2: log(0.2 / 4.6) - log(2.2 / 2.6) = -3.135494 + 0.167054
    # = -2.968440; var = 1 / 0.2 + 1 / 2.2 = 5.454545 -> z = -2.968440 / 2.335497 = -1.271010
    assert scores["fast"][0] == pytest.approx(math.log(0.2 / 4.6) - math.log(2.2 / 2.6))
    assert scores["fast"][1] == pytest.approx(-1.271010, abs=1e-6)


def test_swapping_the_groups_flips_the_sign() -> None:
    a, b = count_terms(GROUP).counts, count_terms(OTHER).counts
    forward, backward = log_odds(a, b), log_odds(b, a)
    for term, (delta, z) in forward.items():
        assert backward[term] == (pytest.approx(-delta), pytest.approx(-z))


def test_a_word_as_common_in_both_groups_scores_zero_even_when_sizes_differ() -> None:
    # "agent" in half of each group, groups of 4 and 8 comments
    a = count_terms(["agent slow", "agent", "slow", "rude"]).counts
    b = count_terms(["agent fast"] * 2 + ["agent"] * 2 + ["fast"] * 2 + ["kind"] * 2).counts
    assert log_odds(a, b)["agent"][1] == pytest.approx(0.0, abs=0.35)


def test_nothing_to_compare_gives_no_scores() -> None:
    assert log_odds({"slow": 3}, {}) == {}
    assert log_odds({"slow": 3}, {"slow": 1}) == {}  # one term: nothing sets it apart
    with pytest.raises(ValueError, match="prior"):
        log_odds({"a": 1, "b": 2}, {"a": 2, "b": 1}, prior=0)


def test_compare_lists_themes_past_min_z_with_counts_and_examples() -> None:
    result = compare(GROUP, OTHER, labels=("unhappy", "happy"), min_count=1, min_z=1.5)
    assert result.group.label == "unhappy" and result.other.label == "happy"
    assert result.group.comments == 3 and result.other.comments == 3
    assert result.terms == 4
    (slow,) = result.group.themes
    assert (slow.term, slow.count, slow.other_count) == ("slow", 3, 1)
    assert slow.z == pytest.approx(1.767197, abs=1e-6)
    assert slow.examples == ("slow", "slow, rude")  # distinct, in the order given
    assert result.other.themes == ()  # "fast" reaches only |z| 1.27
    # by default |z| must reach 1.96: nothing in so small a sample
    default = compare(GROUP, OTHER)
    assert default.group.themes == () and default.other.themes == ()


def test_min_count_is_per_group() -> None:
    group = ["refund late"] * 2 + ["agent"] * 20
    other = ["agent"] * 20 + ["great"] * 20
    result = compare(group, other, min_z=0, min_count=3)
    assert all(t.count >= 3 for t in result.group.themes)
    assert "refund late" not in {t.term for t in result.group.themes}


def test_empty_groups_do_not_crash() -> None:
    for group, other in (([], []), ([None, ""], ["fine"]), (["!!!"], ["?"]), ([], ["slow"] * 9)):
        result = compare(group, other)
        assert result.group.themes == () and result.other.themes == ()


def _planted(seed: int = 7) -> tuple[list[str], list[str]]:
    """Detractors mention "canned answer" and "on hold"; promoters "quick reply"."""
    import random

    rng = random.Random(seed)
    filler = ["agent", "ticket", "product", "order", "account", "issue", "team"]

    def noise() -> str:
        return " ".join(rng.sample(filler, 2))

    detractors = [f"{noise()}. Got a canned answer." for _ in range(30)]
    detractors += [f"On hold forever. {noise()}" for _ in range(20)]
    detractors += [noise() for _ in range(50)]
    promoters = [f"Quick reply! {noise()}" for _ in range(40)]
    promoters += [noise() for _ in range(160)]
    return detractors, promoters


def test_planted_themes_are_found_and_phrases_replace_their_words() -> None:
    detractors, promoters = _planted()
    result = compare(detractors, promoters, labels=("detractors", "promoters"))
    top = [t.term for t in result.group.themes]
    # "canned", "answer" and "canned answer" are mentioned by the same 30 comments:
    # one theme, the phrase
    assert top[:2] == ["canned answer", "hold forever"]
    assert "canned" not in top and "answer" not in top and "hold" not in top
    promoters_top = result.other.themes
    assert promoters_top[0].term == "quick reply"
    # a filler pair can pass 1.96 by chance (here "team ticket", 13 vs 1, z 2.03); the
    # planted themes are the only firm ones (z above 3)
    assert [t.term for t in (*result.group.themes, *promoters_top) if t.z > 3] == [
        "canned answer",
        "hold forever",
        "quick reply",
    ]
    canned = result.group.themes[0]
    assert (canned.count, canned.other_count) == (30, 0)
    assert len(canned.examples) == 3 and all("canned answer" in e for e in canned.examples)
    # filler words are spread evenly: none is a theme
    assert not {"agent", "ticket", "product"} & set(top)


def test_results_are_the_same_on_every_run_and_order_of_equal_scores_is_by_term() -> None:
    detractors, promoters = _planted()
    first = compare(detractors, promoters)
    assert compare(detractors, promoters) == first
    group = ["bbb", "aaa"] * 10
    result = compare(group, ["ccc"] * 20, min_z=0)
    assert [t.term for t in result.group.themes] == ["aaa", "bbb"]


def test_top_limits_each_side() -> None:
    group = [f"{w} {w}" for w in ("alpha", "beta", "gamma", "delta", "omega") for _ in range(6)]
    result = compare(group, ["zeta"] * 30, top=2, min_z=0)
    assert len(result.group.themes) == 2


def test_examples_keep_markup_as_text_and_long_comments_are_cut() -> None:
    long = "Slow " + "very " * 100 + "slow reply"
    group = ["It was <b>rude</b>."] * 5 + [long] * 5
    result = compare(group, ["Fine thanks"] * 10, min_z=0)
    by_term = {t.term: t for t in result.group.themes}
    assert by_term["rude"].examples == ("It was <b>rude</b>.",)
    (cut,) = by_term["slow reply"].examples
    assert len(cut) == fw.EXAMPLE_CHARS and cut.endswith("…")


# -- the metric glue ----------------------------------------------------------------------

AS_OF = date(2026, 3, 29)


def _survey_rows() -> list[str]:
    """Rows in March 2026 (window: the 28 days to 29 March), one per line of the plan below."""
    rows = ["ts,score,sat,minutes,resolved,perceived,expected,channel,comment"]
    plan = [
        # score, sat, minutes, resolved, perceived, expected, channel, comment, times
        (2, 1, 300, "no", 3, 5, "chat", "Got a canned answer", 6),
        (5, 2, 250, "no", 4, 6, "chat", "On hold forever", 4),
        (6, 3, 90, "no", 4, 5, "email", "", 3),
        (8, 4, 60, "yes", 5, 5, "email", "Fine", 5),
        (9, 5, 30, "yes", 6, 5, "phone", "Quick reply, friendly agent", 8),
        (10, 5, 20, "yes", 7, 6, "phone", "The agent was <b>great</b>", 4),
        (11, 5, 10, "yes", 6, 6, "phone", "Score out of range", 2),
    ]
    start = datetime(2026, 3, 2, 9)
    i = 0
    for score, sat, minutes, resolved, perceived, expected, channel, comment, times in plan:
        for _ in range(times):
            ts = start + timedelta(hours=7 * i)
            text = f'"{comment}"' if comment else ""
            rows.append(
                f"{ts:%Y-%m-%d %H:%M},{score},{sat},{minutes},{resolved},{perceived},{expected},"
                f"{channel},{text}"
            )
            i += 1
    rows.append(f"2026-02-01 10:00,0,1,999,no,1,7,chat,{'Old comment before the window'}")
    return rows


PLAYBOOK = """
playbook: themes-test
title: Themes
sources:
  surveys: {type: csv, path: surveys.csv, timestamp: ts, comments: comment}
  plain: {type: csv, path: surveys.csv, timestamp: ts}
metrics:
  nps: {source: surveys, kpi: nps, field: score, target: 30}
  csat: {source: surveys, kpi: csat, field: sat, target: 80}
  sla: {source: surveys, kpi: sla, field: minutes, params: {limit: 120}, target: 90}
  fcr: {source: surveys, kpi: rate, field: resolved, target: 70}
  reopen: {source: surveys, kpi: rate, field: resolved, target: 10, direction: decrease}
  wait: {source: surveys, kpi: mean, field: minutes, target: 100, direction: decrease}
  score: {source: surveys, kpi: mean, field: score, target: 7}
  gap: {source: surveys, kpi: servqual_gap, field: perceived, params: {expectation: expected},
        target: 0}
  volume: {source: surveys, kpi: count, target: 10}
  bare: {source: plain, kpi: nps, field: score, target: 30}
  own: {source: plain, kpi: nps, field: score, target: 30, comments: coment}
  email: {source: surveys, kpi: nps, field: score, target: 30, filter: "channel = 'email'"}
"""


@pytest.fixture
def survey(playbook_file):
    from pdca.playbook import load_checked

    path = playbook_file(PLAYBOOK, **{"surveys.csv": "\n".join(_survey_rows()) + "\n"})
    loaded = load_checked(path)
    return loaded.playbook, loaded.registry


def _analyse(survey, metric: str, **options):
    from pdca.check.themes import analyse

    playbook, registry = survey
    return analyse(playbook, registry, metric, AS_OF, **options)


def _rows(result) -> tuple[int, int]:
    return tuple(g["rows"] for g in result["groups"])  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("metric", "labels", "rows"),
    [
        # detractors: scores 2 (6), 5 (4), 6 (3) = 13; promoters 9 (8), 10 (4) = 12;
        # 8 is passive, 11 out of range
        ("nps", ("detractors (0-6)", "promoters (9-10)"), (13, 12)),
        # sat below 4: 1, 2, 3 -> 6 + 4 + 3 = 13; 4 or more: 5 + 8 + 4 + 2 = 19
        ("csat", ("dissatisfied (below 4)", "satisfied (4 or more)"), (13, 19)),
        # minutes above 120: 300, 250 -> 10; at most 120: the other 22
        ("sla", ("over the limit (above 120)", "within the limit (120 or less)"), (10, 22)),
        # rate, higher is better: "no" rows are off target
        ("fcr", ("resolved: no", "resolved: yes"), (13, 19)),
        # rate, lower is better: "yes" rows are off target
        ("reopen", ("resolved: yes", "resolved: no"), (19, 13)),
        # mean of a decrease metric: rows above the target of 100 minutes
        ("wait", ("above target (100)", "at or below target (100)"), (10, 22)),
        # mean of an increase metric: rows below the target of 7
        ("score", ("below target (7)", "at or above target (7)"), (13, 19)),
        # perceived - expected: -2 (6), -2 (4), -1 (3) below; 0, +1, +1, 0 the rest
        ("gap", ("below expectation", "meets or exceeds expectation"), (13, 19)),
    ],
)
def test_rows_are_split_by_the_kpi_rule(survey, metric: str, labels, rows) -> None:
    result = _analyse(survey, metric)
    assert tuple(g["label"] for g in result["groups"]) == labels
    assert _rows(result) == rows
    assert result["split"]["kind"] == "kpi"
    assert result["split"]["rule"] == f"{labels[0]} vs {labels[1]}"


def test_nps_themes_json(survey) -> None:
    result = _analyse(survey, "nps", min_count=3)
    assert result["window"] == {"start": "2026-03-02", "end": "2026-03-29", "days": 28}
    assert result["comments_column"] == "comment"
    assert result["split"] == {
        "kind": "kpi",
        "rule": "detractors (0-6) vs promoters (9-10)",
        "column": "score",
    }
    detractors, promoters = result["groups"]
    # 13 detractor rows, 3 without a comment; the old comment is outside the window
    assert (detractors["rows"], detractors["comments"]) == (13, 10)
    assert (promoters["rows"], promoters["comments"]) == (12, 12)
    terms_a = [t["term"] for t in detractors["themes"]]
    assert terms_a[0] == "canned answer"
    first = detractors["themes"][0]
    assert set(first) == {
        "term", "z", "log_odds", "count", "share", "other_count", "other_share", "examples",
    }  # fmt: skip
    assert (first["count"], first["share"], first["other_count"], first["other_share"]) == (
        6,
        60.0,
        0,
        0.0,
    )
    assert first["examples"] == ["Got a canned answer"]
    assert "old comment" not in str(result).lower()
    assert result["method"]["min_count"] == 3 and result["method"]["top"] == 10


def test_html_looking_comments_stay_text(survey) -> None:
    result = _analyse(survey, "nps", min_z=0, min_count=1)
    examples = [e for g in result["groups"] for t in g["themes"] for e in t["examples"]]
    assert "The agent was <b>great</b>" in examples


def test_split_by_a_column(survey) -> None:
    result = _analyse(survey, "nps", by="channel", group="chat", vs="phone")
    assert [g["label"] for g in result["groups"]] == ["channel = chat", "channel = phone"]
    assert _rows(result) == (10, 14)  # all rows of each channel, whatever the score
    rest = _analyse(survey, "nps", by="channel", group="chat")
    assert [g["label"] for g in rest["groups"]] == ["channel = chat", "channel != chat"]
    assert _rows(rest) == (10, 22)
    assert rest["split"] == {
        "kind": "by",
        "rule": "channel = chat vs channel != chat",
        "column": "channel",
    }


def test_the_metric_filter_applies(survey) -> None:
    result = _analyse(survey, "email")
    # email rows: score 6 (3, no comment) and 8 (5, passive)
    assert _rows(result) == (3, 0)
    assert [g["comments"] for g in result["groups"]] == [0, 0]
    assert all(g["themes"] == [] for g in result["groups"])


def test_days_widen_the_window(survey) -> None:
    result = _analyse(survey, "nps", days=60, min_z=0, min_count=1)
    assert result["window"]["days"] == 60
    assert _rows(result)[0] == 14  # the old score-0 row from February is in


def test_kpi_without_a_per_row_meaning_is_a_clear_error(survey) -> None:
    with pytest.raises(PlaybookError) as info:
        _analyse(survey, "volume")
    message = str(info.value)
    assert "KPI 'count', which gives no verdict per row" in message
    assert "--by COLUMN --group VALUE" in message
    # but a column split works for any KPI
    assert _rows(_analyse(survey, "volume", by="channel", group="email")) == (8, 24)


def test_metric_without_comments_column_says_where_to_add_it(survey) -> None:
    with pytest.raises(PlaybookError, match=r"add `comments: COLUMN` to the metric or to source"):
        _analyse(survey, "bare")
    result = _analyse(survey, "bare", comments="comment")
    assert result["comments_column"] == "comment"


def test_missing_comments_column_points_at_the_key(survey) -> None:
    with pytest.raises(SourceError) as info:
        _analyse(survey, "own")
    message = str(info.value)
    assert "playbook.yaml:" in message and "comments column 'coment'" in message
    assert "did you mean 'comment'?" in message
    with pytest.raises(SourceError, match=r"--by column 'chanel'.*did you mean 'channel'"):
        _analyse(survey, "nps", by="chanel", group="chat")


def test_unknown_metric(survey) -> None:
    with pytest.raises(PlaybookError, match=r"no metric 'nope' \(metrics: nps, csat"):
        _analyse(survey, "nope")


def test_has_themes(survey) -> None:
    from pdca.check.themes import has_themes

    playbook, _ = survey
    assert has_themes(playbook, "nps") and has_themes(playbook, "gap")
    assert not has_themes(playbook, "volume")  # no per-row rule
    assert not has_themes(playbook, "bare")  # no comments column
    assert has_themes(playbook, "own")  # its own column (the data is not read here)
    assert not has_themes(playbook, "missing")


def test_text_report(survey) -> None:
    from pdca.check.themes import to_text

    text = to_text(_analyse(survey, "nps"))
    lines = text.splitlines()
    assert lines[0] == "Themes in 'comment' comments on nps, 2026-03-02 to 2026-03-29"
    assert "  detractors (0-6): 13 rows, 10 with a comment" in lines
    assert "What sets detractors (0-6) apart:" in lines
    assert any(line.startswith("  canned answer  z ") for line in lines)
    assert "      Got a canned answer" in lines


def test_task_stubs_are_valid_yaml_tasks(survey) -> None:
    import yaml

    from pdca.check.themes import to_tasks

    playbook, _ = survey
    stubs = to_tasks(_analyse(survey, "nps"), playbook)
    tasks = yaml.safe_load(textwrap.dedent(stubs))
    assert next(iter(tasks)) == "rca-nps-canned-answer"
    task = tasks["rca-nps-canned-answer"]
    assert task["owner"] == "todo-owner" and task["phase"] == "plan"
    assert "objective" not in task  # no objective lists the metric
    assert task["title"] == "Root-cause analysis: 'canned answer' in comments of detractors (0-6)"
    assert "6 of 10 comments" in task["description"]


def test_task_ids_are_slugs_and_unique() -> None:
    from pdca.check.themes import _task_id

    taken = {"rca-nps-vantade"}
    assert _task_id("nps", "väntade", taken) == "rca-nps-vantade-2"
    assert _task_id("nps", "didn't help", set()) == "rca-nps-didn-t-help"
    assert _task_id("nps", "服务", set()) == "rca-nps-theme"


def test_glue_reads_a_session_it_is_given(survey) -> None:
    from pdca.check.themes import analyse
    from pdca.data.session import DataSession

    playbook, registry = survey
    with DataSession(playbook, registry) as session:
        first = analyse(playbook, registry, "nps", AS_OF, session=session)
        second = analyse(playbook, registry, "csat", AS_OF, session=session)
        assert session.con.execute("SELECT 1").fetchone() == (1,)  # still open
    assert _rows(first) == (13, 12) and _rows(second) == (13, 19)


def test_rows_method_of_the_data_session(survey) -> None:
    from pdca.data.session import DataSession

    playbook, registry = survey
    metric = playbook.metrics["email"]
    with DataSession(playbook, registry) as session:
        table = session.rows(
            metric, ["comment", "channel"], datetime(2026, 3, 1), datetime(2026, 3, 30)
        )
        columns = [d[0] for d in session.con.execute(f"SELECT * FROM {table}").description]
        assert columns == ["__ts", "comment", "channel"]
        (channels,) = session.con.execute(f"SELECT list(DISTINCT channel) FROM {table}").fetchone()
        assert channels == ["email"]  # the metric's filter applies
        with pytest.raises(SourceError, match=r"reads column 'nope'.*\(available: ts, score"):
            session.rows(metric, ["nope"], datetime(2026, 3, 1), datetime(2026, 3, 30))
