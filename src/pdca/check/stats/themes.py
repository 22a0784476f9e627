"""Which words and two-word phrases set one group of comments apart from another.

Service teams read feedback for recurring themes: what detractors complain
about that promoters do not, what customers of one channel say that others do
not. Counting words per group is not enough: frequent words ("agent", "ticket")
top every list, and a word seen twice in a small group looks like a theme. This
module uses the weighted log-odds ratio with an informative Dirichlet prior
(Monroe, Colaresi & Quinn 2008, "Fightin' Words: Lexical Feature Selection and
Evaluation for Identifying the Content of Political Conflict", *Political
Analysis* 16(4)), which corrects both.

For a term *i* with counts y_i^a in group a and y_i^b in group b, group totals
n^a = Σ_i y_i^a and n^b, and prior pseudo-counts a_i with a0 = Σ_i a_i::

    delta_i = log((y_i^a + a_i) / (n^a + a0 - y_i^a - a_i))
            - log((y_i^b + a_i) / (n^b + a0 - y_i^b - a_i))
    var_i  ≈ 1 / (y_i^a + a_i) + 1 / (y_i^b + a_i)
    z_i    = delta_i / sqrt(var_i)

The prior is *informative*: a_i = prior × (y_i^a + y_i^b), the pooled corpus
scaled by ``prior`` (default 0.1, so a0 is a tenth of the data). Its log-odds
are the same in both groups, so it pulls every term towards "no difference",
and pulls rare terms hardest: a word in 2 comments cannot reach the z of a
phrase in 12. z > 0 sets group a apart, z < 0 group b. With thousands of terms,
a few reach |z| ≈ 2 by chance: z is a screening score, not a test, and themes
with z above 3 are the firm ones.

Conventions (tests pin them down):

* A *term* is a word or two adjacent words. Text is lower-cased and
  NFC-normalised; tag-like markup (``<b>``, ``</i>``, ``&amp;``) is dropped so
  HTML pasted into a survey does not make "b" a theme; words are runs of
  letters (any alphabet) and digits that start with a letter, with inner
  hyphens and apostrophes kept (``follow-up``, ``didn't``, ``väntade``).
  Numbers, punctuation, one-letter words and English and Swedish stop words
  are dropped and break phrases.
* Negations (``not``, ``never``, ``didn't``, ``inte``, ``aldrig`` ...) are no
  theme on their own but start a phrase: "not fixed", "inte löst".
* Counts are *comments mentioning the term*: a term counts once per comment, so
  one angry comment repeating "slow" five times is one customer, not five.
* Identical comments are tokenised once (real exports repeat "Thanks!" and
  canned survey answers thousands of times); they still count once each.
* A theme is left out of a group's list when most (80 %) of the comments
  mentioning it also mention a stronger theme listed for that group: "canned
  answer" says what "canned" would, and one sentence pasted into many comments
  is one theme, not five.
* Equal scores list phrases before words, then by the term, so results are the
  same on every run. Example comments are the first distinct ones met in the
  order given.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_PRIOR = 0.1
DEFAULT_MIN_COUNT = 3
DEFAULT_MIN_Z = 1.96
DEFAULT_TOP = 10
DEFAULT_EXAMPLES = 3
EXAMPLE_CHARS = 300
"""Longer example comments are cut: a theme needs a glimpse, not a whole letter."""
OVERLAP = 0.8
"""A theme is left out when this share of its comments also mention a stronger listed one."""
POOL_PER_THEME = 5
MIN_POOL = 50
OVERLAP_SAMPLE = 1000
"""Candidates looked at per theme listed (at least ``MIN_POOL``), strongest first, when
leaving overlaps out."""


def _word_list(text: str) -> frozenset[str]:
    return frozenset(text.split())


ENGLISH_STOP_WORDS = _word_list(
    """
    a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    etc few for from further get gets getting got had has have having he her here hers
    herself him himself his how i i'd i'll i'm i've if in into is it it's its itself
    just let's like me more most my myself now of off on once only or other our ours
    ourselves out over own same she she's should so some such than that that's the
    their theirs them themselves then there there's these they they'd they'll they're
    they've this those through to too under until up us very was we we'd we'll we're
    we've were what what's when where which while who whom why will with would you
    you'd you'll you're you've your yours yourself yourselves ok okay im ive
    """
)
"""Function words with no theme in them (after NLTK's list, negations taken out)."""

SWEDISH_STOP_WORDS = _word_list(
    """
    alla allt att av blev bli blir blivit de dem den denna deras dess dessa det detta dig
    din dina ditt du där då efter en er era ert ett fick från få får fått för ha hade han
    hans har henne hennes hon honom hur här i in inom jag ju kan kunde man med mellan men
    mig min mina mitt mot mycket ni nu när någon något några och om oss på samma sedan sig
    sin sina sitt skulle som så sådan sådana sådant till under upp ut utan vad var vara
    varför varit varje vars vart vem vi vid vilka vilkas vilken vilket vår våra vårt än är
    åt över
    """
)
"""Swedish function words (after NLTK's list, negations taken out)."""

NEGATIONS = _word_list(
    """
    no not never nor cannot can't couldn't didn't doesn't don't hadn't hasn't haven't
    isn't wasn't weren't won't wouldn't shouldn't aren't without
    inte icke ej aldrig ingen inget inga utan
    """
)
"""Words that turn the next one around: kept only as the first word of a phrase."""

STOP_WORDS = (ENGLISH_STOP_WORDS | SWEDISH_STOP_WORDS) - NEGATIONS

_TOKEN = re.compile(r"\w+(?:[-']\w+)*|[^\w\s]+")
"""Words, numbers and runs of punctuation; only tokens starting with a letter are words."""
_TAG = re.compile(r"</?[A-Za-z][^<>]{0,80}>")
_ENTITY = re.compile(r"&(?:[A-Za-z]{2,8}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});")


def _prepare(text: str) -> str:
    """Lower-cased, NFC, one kind of apostrophe, markup replaced by spaces."""
    if "<" in text:
        text = _TAG.sub(" ", text)  # <b>rude</b>: the word stays, the tag goes
    if "&" in text:
        text = _ENTITY.sub(" ; ", text)  # "rude &amp; slow" is no phrase "rude slow"
    text = text.lower()
    if not text.isascii():
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        text = text.replace("\u2019", "'").replace("\u02bc", "'")
    return text


def words(text: str | None) -> list[str]:
    """The lower-cased words of a comment, markup dropped; stop words still in."""
    return [t for t in _TOKEN.findall(_prepare(text)) if t[0].isalpha()] if text else []


def terms(text: str | None) -> set[str]:
    """The words and two-word phrases a comment mentions, each once.

    Only words separated by spaces make a phrase: "gone. Great" or "waited 82
    minutes" do not give "gone great" or "waited minutes".
    """
    out: set[str] = set()
    if not text:
        return out
    kinds = _KINDS
    if len(kinds) > _KINDS_MAX:
        _reset_kinds()
    add = out.add
    prev: str | None = None
    for token in _TOKEN.findall(_prepare(text)):
        kind = kinds[token]
        if kind is _CONTENT:
            add(token)
            if prev is not None and prev != token:  # "slow slow" says no more than "slow"
                add(prev + " " + token)
            prev = token
        elif kind is _BREAK:
            prev = None
        else:  # a negation starts a phrase but is no theme alone
            prev = token
    return out


_BREAK, _NEGATION, _CONTENT = "break", "negation", "content"
_KINDS_MAX = 1_000_000


class _Kinds(dict[str, str]):
    """Each token's part in a phrase, worked out once: one look-up per token is the hot loop."""

    def __missing__(self, token: str) -> str:
        if len(token) < 2 or not token[0].isalpha() or token in STOP_WORDS:
            kind = _BREAK
        else:
            kind = _NEGATION if token in NEGATIONS else _CONTENT
        self[token] = kind
        return kind


_KINDS = _Kinds()


def _reset_kinds() -> None:
    _KINDS.clear()
    _KINDS.update(dict.fromkeys(STOP_WORDS, _BREAK))
    _KINDS.update(dict.fromkeys(NEGATIONS, _NEGATION))


_reset_kinds()


@dataclass(frozen=True)
class Corpus:
    """One group's comments: how many have text, and how many mention each term."""

    comments: int
    counts: Counter[str]
    texts: Counter[str]
    """Each distinct comment text, in the order first met, and how often it was given."""


def count_terms(texts: Iterable[str | None]) -> Corpus:
    """Count the comments mentioning each term; blank and missing comments are skipped."""
    seen: Counter[str] = Counter(t for t in texts if t and not t.isspace())
    counts: Counter[str] = Counter(
        itertools.chain.from_iterable(terms(text) for text, times in seen.items() if times == 1)
    )
    for text, times in seen.items():
        if times > 1:
            for term in terms(text):
                counts[term] += times
    return Corpus(sum(seen.values()), counts, seen)


@dataclass(frozen=True)
class Theme:
    """A term that sets its group apart: its score and how often each group mentions it."""

    term: str
    z: float
    log_odds: float
    """delta: log-odds of the term in this group minus in the other (> 0)."""
    count: int
    """Comments of this group mentioning the term."""
    other_count: int
    """Comments of the other group mentioning it."""
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Side:
    label: str
    comments: int
    themes: tuple[Theme, ...]


@dataclass(frozen=True)
class Comparison:
    """Themes of both groups, each list strongest first."""

    group: Side
    other: Side
    terms: int
    """Distinct terms in both groups together."""
    prior: float
    min_count: int
    min_z: float


def log_odds(
    a: Mapping[str, int], b: Mapping[str, int], prior: float = DEFAULT_PRIOR
) -> dict[str, tuple[float, float]]:
    """delta and z of every term (see the module docstring); z > 0 favours ``a``.

    Empty when either group has no terms or only one term exists: there is
    nothing to compare.
    """
    vocab = list(a.keys() | b.keys())
    scores = _scores(vocab, a, b, prior)
    if scores is None:
        return {}
    delta, z = scores
    return {t: (float(d), float(s)) for t, d, s in zip(vocab, delta, z, strict=True)}


def _scores(
    vocab: Sequence[str], a: Mapping[str, int], b: Mapping[str, int], prior: float
) -> tuple[np.ndarray, np.ndarray] | None:
    counts = _counts(vocab, a, b)
    if counts is None:
        return None
    return _log_odds(*counts, prior)


def _counts(
    vocab: Sequence[str], a: Mapping[str, int], b: Mapping[str, int]
) -> tuple[np.ndarray, np.ndarray] | None:
    ya = np.fromiter((a.get(t, 0) for t in vocab), dtype=np.float64, count=len(vocab))
    yb = np.fromiter((b.get(t, 0) for t in vocab), dtype=np.float64, count=len(vocab))
    if not ya.any() or not yb.any() or len(vocab) < 2:
        return None
    return ya, yb


def _log_odds(ya: np.ndarray, yb: np.ndarray, prior: float) -> tuple[np.ndarray, np.ndarray]:
    if not prior > 0:
        raise ValueError(f"prior must be above 0, got {prior}")
    na, nb = ya.sum(), yb.sum()
    alpha = prior * (ya + yb)
    alpha0 = prior * (na + nb)
    delta = np.log((ya + alpha) / (na + alpha0 - ya - alpha)) - np.log(
        (yb + alpha) / (nb + alpha0 - yb - alpha)
    )
    z = delta / np.sqrt(1.0 / (ya + alpha) + 1.0 / (yb + alpha))
    return delta, z


def compare(
    group: Iterable[str | None],
    other: Iterable[str | None],
    *,
    labels: tuple[str, str] = ("group", "other"),
    top: int = DEFAULT_TOP,
    min_count: int = DEFAULT_MIN_COUNT,
    min_z: float = DEFAULT_MIN_Z,
    prior: float = DEFAULT_PRIOR,
    examples: int = DEFAULT_EXAMPLES,
) -> Comparison:
    """The terms that set ``group`` apart from ``other`` and the other way round.

    A theme needs |z| >= ``min_z`` and at least ``min_count`` comments of its
    own group; each side lists at most ``top``, with up to ``examples`` comments.
    """
    if not prior > 0:
        raise ValueError(f"prior must be above 0, got {prior}")
    a, b = count_terms(group), count_terms(other)
    vocab = list(a.counts.keys() | b.counts.keys())  # any order: ties are broken below
    counts = _counts(vocab, a.counts, b.counts)
    picked: tuple[list[Theme], list[Theme]] = ([], [])
    if counts is not None:
        delta, z = _log_odds(*counts, prior)
        for side, (mine, own, other_counts, sign) in enumerate(
            ((a, counts[0], counts[1], 1.0), (b, counts[1], counts[0], -1.0))
        ):
            signed = sign * z
            (found,) = np.nonzero((signed >= min_z) & (own >= min_count) & np.isfinite(z))
            candidates = [
                Theme(
                    vocab[i],
                    float(signed[i]),
                    float(sign * delta[i]),
                    int(own[i]),
                    int(other_counts[i]),
                )
                for i in found.tolist()
            ]
            candidates.sort(key=lambda th: (-th.z, -th.term.count(" "), th.term))
            picked[side].extend(_select(candidates, mine, top, examples))
    return Comparison(
        Side(labels[0], a.comments, tuple(picked[0])),
        Side(labels[1], b.comments, tuple(picked[1])),
        terms=len(vocab),
        prior=prior,
        min_count=min_count,
        min_z=min_z,
    )


def _select(candidates: list[Theme], corpus: Corpus, top: int, limit: int) -> list[Theme]:
    """The ``top`` strongest themes that no stronger listed theme mostly says, with examples.

    One more pass over the group's comments finds how often the strongest
    candidates are mentioned together, and collects example comments. A theme
    is left out when most (``OVERLAP``) of the comments mentioning it also
    mention a stronger listed one: the word "canned" inside "canned answer",
    or the fragments of one sentence pasted into many comments. The share is
    read from the first ``OVERLAP_SAMPLE`` comments mentioning each candidate,
    so the pass stops early on big exports instead of reading every comment again.
    """
    if top <= 0 or not candidates:
        return []
    pool = candidates[: max(POOL_PER_THEME * top, MIN_POOL)]
    index = {th.term: i for i, th in enumerate(pool)}
    wanted = [min(th.count, OVERLAP_SAMPLE) for th in pool]
    seen = [0] * len(pool)
    with_other: Counter[tuple[int, int]] = Counter()  # (x, y): x's sampled comments naming y
    found: list[list[str]] = [[] for _ in pool]
    pending = set(range(len(pool)))
    search = _finder(pool[i].term for i in pending)
    for text, times in corpus.texts.items():
        if search(_prepare(text)) is None:
            continue  # a cheap scan first: most comments name no candidate still sampled
        hit = [index[t] for t in terms(text) if t in index]
        done = False
        for x in hit:
            if len(found[x]) < limit:
                found[x].append(_cut(text))
            if seen[x] >= wanted[x]:
                continue
            seen[x] += times
            for y in hit:
                if y != x:
                    with_other[x, y] += times
            if seen[x] >= wanted[x]:
                pending.discard(x)
                done = True
        if done:
            if not pending:
                break
            search = _finder(pool[i].term for i in pending)

    def share(x: int, y: int) -> float:
        """Of the comments mentioning x, the share that also mention y."""
        return with_other[x, y] / seen[x] if seen[x] else 0.0

    kept: list[int] = []
    for j, theme in enumerate(pool):
        covered = [i for i in kept if share(j, i) >= OVERLAP]
        if not covered:
            kept.append(j)
            if len(kept) == top:
                break
            continue
        i = covered[0]
        if share(i, j) >= OVERLAP and theme.term.count(" ") > pool[i].term.count(" "):
            kept[kept.index(i)] = j  # one theme either way: the phrase says more
    kept.sort(key=lambda k: (-pool[k].z, -pool[k].term.count(" "), pool[k].term))
    return [
        Theme(
            pool[j].term,
            pool[j].z,
            pool[j].log_odds,
            pool[j].count,
            pool[j].other_count,
            tuple(found[j]),
        )
        for j in kept
    ]


def _finder(found_terms: Iterable[str]) -> Callable[[str], re.Match[str] | None]:
    """A regex search for any of the terms in prepared text (may match a little more)."""
    patterns = sorted((r"\s+".join(map(re.escape, t.split(" "))) for t in found_terms), key=len)
    return re.compile("|".join(reversed(patterns))).search


def _cut(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= EXAMPLE_CHARS:
        return text
    return text[: EXAMPLE_CHARS - 1].rstrip() + "…"
