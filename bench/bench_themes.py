"""Benchmark theme analysis: 1,000,000 survey comments, two groups. Budget: 30 s.

The comments are generated to look like a big survey export: a third empty,
lengths from one word to a paragraph, English and some Swedish, punctuation,
numbers, a little HTML, and common short answers ("Thanks!") repeated many
times, as real exports repeat them. Words follow a Zipf law over a vocabulary
of real and made-up words, so most comments are unique; three themes are
planted in the first group and two in the second.

The reference runs in the same process on the same comments and computes the
same numbers from the conventions in :mod:`pdca.check.stats.themes`, the way a
competent Python user would: repeated comments counted with a ``Counter`` and
tokenised once, markup and entities dropped with two regular expressions, one
token regex, stop words and negations from the same lists (they are data, not
method), each token's kind looked up in a dict, and the weighted log-odds and
z of every term with numpy, candidates ranked as pdca ranks them. Before the
figure is printed, pdca's comment counts per group, its count of every term
(``count_terms``) and the z, log-odds and counts of every theme it lists must
equal the reference's (numbers to 1e-9), the strongest theme of each group
must be the reference's strongest candidate and the listed themes in its
order; a difference stops the benchmark.

What the reference leaves out, and so what the ratio includes: the pass that
leaves out themes a stronger listed theme mostly says (the overlap rule) and
the example comments. A second line times ``count_terms`` alone against the
whole reference, to show where pdca's time goes.

Run: ``.venv/bin/python bench/bench_themes.py``. Prints; asserts only that
the numbers agree.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections import Counter
from typing import Any

import numpy as np
from benchkit import same
from harness import figure, header, result

from pdca.check.stats.themes import NEGATIONS, STOP_WORDS, Comparison, compare, count_terms

N, SEED, VOCAB = 1_000_000, 20260330, 20_000
BUDGET = 30.0


def _words(text: str) -> list[str]:
    return text.split()


REAL_WORDS = _words(
    "agent answer reply ticket chat phone email wait waited hours minutes refund invoice "
    "login password account order delivery help support service friendly quick slow "
    "problem issue solved fixed closed again manager callback app website error update "
    "ärende svar väntan kundtjänst hjälp snabbt trevlig krångligt faktura inloggning"
)
FILLER = _words("the a and to i was it for my of in on with but not very is that this")
SHORT = ("Thanks!", "Great service.", "ok", "Tack!", "Good", "N/A", "-", "...", "Nothing to add.")
THEMES_A = ("canned answer", "waited three days", "nobody called back")
THEMES_B = ("solved on the first try", "very patient")


def vocabulary(rng: np.random.Generator) -> np.ndarray:
    syllables = np.array(_words("ka lo mi ne su ta vi ro pe da fo gu ri sa to lu me"))
    made = ["".join(rng.choice(syllables, rng.integers(2, 4))) for _ in range(VOCAB)]
    return np.array(REAL_WORDS + FILLER * 4 + made, dtype=object)


def comments(rng: np.random.Generator) -> tuple[list[str], list[str]]:
    """N comments split 40/60 into two groups."""
    words = vocabulary(rng)
    ranks = np.arange(1, len(words) + 1, dtype=np.float64)
    weights = 1.0 / ranks
    weights /= weights.sum()
    lengths = np.minimum(rng.geometric(1 / 12, N), 120)
    drawn = rng.choice(len(words), size=int(lengths.sum()), p=weights)
    kind = rng.random(N)
    group = rng.random(N) < 0.4
    theme = rng.random(N)
    punct = rng.choice(np.array([" ", " ", " ", " ", ", ", ". ", "! ", " 24 "]), lengths.sum())
    out_a: list[str] = []
    out_b: list[str] = []
    pos = 0
    for i in range(N):
        n = int(lengths[i])
        if kind[i] < 0.33:
            text = ""
        elif kind[i] < 0.43:
            text = SHORT[i % len(SHORT)]
        else:
            chosen = zip(words[drawn[pos : pos + n]], punct[pos : pos + n], strict=True)
            parts = [f"{w}{p}" for w, p in chosen]
            if theme[i] < 0.05:
                planted = THEMES_A if group[i] else THEMES_B
                parts.insert(n // 2, planted[i % len(planted)] + ". ")
            if kind[i] > 0.97:
                parts.insert(0, "<b>")
                parts.append("</b> &amp;")
            text = "".join(parts).strip().capitalize()
        pos += n
        (out_a if group[i] else out_b).append(text)
    return out_a, out_b


# ---- the reference: the same counts and scores, written from the conventions ----

TAG = re.compile(r"</?[A-Za-z][^<>]{0,80}>")
ENTITY = re.compile(r"&(?:[A-Za-z]{2,8}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});")
TOKEN = re.compile(r"\w+(?:[-']\w+)*|[^\w\s]+")
CONTENT, NEGATION, BREAK = 0, 1, 2


def ref_kind(token: str) -> int:
    if len(token) < 2 or not token[0].isalpha() or token in STOP_WORDS:
        return BREAK
    return NEGATION if token in NEGATIONS else CONTENT


def ref_terms(text: str, kinds: dict[str, int]) -> set[str]:
    """Words and two-word phrases of one comment (see pdca.check.stats.themes' conventions)."""
    text = ENTITY.sub(" ; ", TAG.sub(" ", text)).lower()
    if not text.isascii():
        text = unicodedata.normalize("NFC", text).replace("\u2019", "'").replace("\u02bc", "'")
    out: set[str] = set()
    prev = None
    for token in TOKEN.findall(text):
        kind = kinds.get(token)
        if kind is None:
            kind = kinds[token] = ref_kind(token)
        if kind == CONTENT:
            out.add(token)
            if prev is not None and prev != token:
                out.add(f"{prev} {token}")
            prev = token
        elif kind == NEGATION:
            prev = token
        else:
            prev = None
    return out


def ref_count(texts: list[str]) -> tuple[int, Counter[str]]:
    """Comments with text, and the comments mentioning each term (repeats tokenised once)."""
    seen = Counter(t for t in texts if t and not t.isspace())
    counts: Counter[str] = Counter()
    kinds: dict[str, int] = {}
    for text, times in seen.items():
        found = ref_terms(text, kinds)
        if times == 1:
            counts.update(found)
        else:
            for term in found:
                counts[term] += times
    return sum(seen.values()), counts


def reference(a_texts: list[str], b_texts: list[str]) -> dict[str, Any]:
    """Counts, log-odds and z of every term, and each group's candidate themes, ranked."""
    na_comments, a = ref_count(a_texts)
    nb_comments, b = ref_count(b_texts)
    vocab = list(a.keys() | b.keys())
    ya = np.array([a.get(t, 0) for t in vocab], dtype=float)
    yb = np.array([b.get(t, 0) for t in vocab], dtype=float)
    prior = 0.1 * (ya + yb)
    prior0 = prior.sum()
    delta = np.log((ya + prior) / (ya.sum() + prior0 - ya - prior)) - np.log(
        (yb + prior) / (yb.sum() + prior0 - yb - prior)
    )
    z = delta / np.sqrt(1 / (ya + prior) + 1 / (yb + prior))
    ranked = []
    for sign, own in ((1.0, ya), (-1.0, yb)):
        (hit,) = np.nonzero((sign * z >= 1.96) & (own >= 3))
        ranked.append(
            sorted(hit.tolist(), key=lambda i: (-sign * z[i], -vocab[i].count(" "), vocab[i]))
        )
    return {
        "comments": (na_comments, nb_comments),
        "counts": (a, b),
        "vocab": vocab,
        "score": {t: (float(d), float(s)) for t, d, s in zip(vocab, delta, z, strict=True)},
        "ranked": [[vocab[i] for i in side] for side in ranked],
    }


def agree(found: Comparison, ref: dict[str, Any], pdca_counts: tuple[Counter[str], ...]) -> None:
    """pdca's themes carry the reference's numbers; stops the benchmark when not."""
    assert pdca_counts == ref["counts"], "term counts differ"
    assert found.terms == len(ref["vocab"])
    assert (found.group.comments, found.other.comments) == ref["comments"]
    a, b = ref["counts"]
    for side, sign, ranked, (own, other) in (
        (found.group, 1.0, ref["ranked"][0], (a, b)),
        (found.other, -1.0, ref["ranked"][1], (b, a)),
    ):
        assert side.themes and side.themes[0].term == ranked[0], "the strongest theme differs"
        places = [ranked.index(t.term) for t in side.themes]
        assert places == sorted(places), "themes out of the reference's order"
        for theme in side.themes:
            delta, z = ref["score"][theme.term]
            got = (theme.z, theme.log_odds, theme.count, theme.other_count)
            want = (sign * z, sign * delta, own[theme.term], other[theme.term])
            assert same(got, want), (theme.term, got, want)


def main() -> None:
    header("bench_themes: theme analysis of 1,000,000 comments")
    rng = np.random.default_rng(SEED)
    t0 = time.perf_counter()
    group, other = comments(rng)
    made = time.perf_counter() - t0
    texts = group + other
    distinct = len(set(texts))
    print(f"generated {len(texts):,} comments in {made:.1f} s ({distinct:,} distinct)")

    t0 = time.perf_counter()
    ref = reference(group, other)
    t_ref = time.perf_counter() - t0

    t0 = time.perf_counter()
    found = compare(group, other, labels=("group", "other"))
    themes = time.perf_counter() - t0

    t0 = time.perf_counter()
    counted = (count_terms(group).counts, count_terms(other).counts)
    t_count = time.perf_counter() - t0
    agree(found, ref, counted)
    print(
        f"same numbers: the counts of all {found.terms:,} terms, and the z, log-odds and "
        "counts of every listed theme, equal the reference's"
    )
    note = "reference: the same counts and scores, no overlap pass or examples"
    figure("themes (Fightin' Words)", themes, t_ref, note=note)
    figure(
        "counting terms alone",
        t_count,
        t_ref,
        note="pdca's count_terms, against the whole reference",
    )
    result("themes.1M_comments", themes, t_ref, "s", f"pdca<={BUDGET:g}s", themes <= BUDGET)
    for side in (found.group, found.other):
        top = ", ".join(f"{t.term} ({t.z:.0f})" for t in side.themes[:5])
        print(f"  {side.label}: {side.comments:,} comments; top: {top}")


if __name__ == "__main__":
    main()
