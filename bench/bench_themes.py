"""Benchmark theme analysis: 1,000,000 survey comments, two groups. Budget: 30 s.

The comments are generated to look like a big survey export: a third empty,
lengths from one word to a paragraph, English and some Swedish, punctuation,
numbers, a little HTML, and common short answers ("Thanks!") repeated many
times, as real exports repeat them. Words follow a Zipf law over a vocabulary
of real and made-up words, so most comments are unique; three themes are
planted in the first group and two in the second.

A reference runs in the same process on the same comments, so the ratio
survives a slower or faster machine:

* ``Counter(str.split)``: a plain ``collections.Counter`` over lower-cased,
  whitespace-split words: the least any word count in Python costs, with no
  stop words, phrases, punctuation handling or statistics.

Run: ``.venv/bin/python bench/bench_themes.py``. Prints; asserts nothing.
"""

from __future__ import annotations

import time
from collections import Counter

import numpy as np
from harness import figure, header, result

from pdca.check.stats.themes import compare

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
    counted: Counter[str] = Counter()
    for text in texts:
        counted.update(text.lower().split())
    reference = time.perf_counter() - t0

    t0 = time.perf_counter()
    found = compare(group, other, labels=("group", "other"))
    themes = time.perf_counter() - t0

    print(f"{len(counted):,} words counted by the reference; {found.terms:,} terms by pdca")
    figure("themes (Fightin' Words)", themes, reference, note="reference: Counter(str.split)")
    result("themes.1M_comments", themes, reference, "s", f"pdca<={BUDGET:g}s", themes <= BUDGET)
    for side in (found.group, found.other):
        top = ", ".join(f"{t.term} ({t.z:.0f})" for t in side.themes[:5])
        print(f"  {side.label}: {side.comments:,} comments; top: {top}")


if __name__ == "__main__":
    main()
