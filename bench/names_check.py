"""Benchmark 4: check_app_name against a large set of names already taken.

10,000 taken names (8,000 production names plus the ``-int`` name of 2,000
of them) and 1,000 candidates: 60 % new valid names, 20 % taken ones, 5 %
whose ``-int`` form is taken and 15 % invalid ones (look-alike Unicode,
upper case, reserved, punycode-like, too short or too long).  Everything is
generated from a fixed seed, so every run checks the same names.

:func:`measure` takes any ``check(name)`` callable so another benchmark (the
ORM path of the Odoo addon) can time its own check on the same candidates.
"""

import codecs
import random
import string
import time

from bench.common import ROOT, summary_us
from mintcloud.names import check_app_name

TAKEN = 10_000
CANDIDATES = 1_000
ROUNDS = 5
SEED = 20240917
HOSTILE_NAMES = ROOT / "tests" / "data" / "hostile_names.txt"
LETTERS = string.ascii_lowercase


def _word(rng, low=4, high=14):
    """A random lowercase app-name-like word, sometimes with a digit or a hyphen."""
    length = rng.randint(low, high)
    chars = [rng.choice(LETTERS) for _ in range(length)]
    if length > 6 and rng.random() < 0.3:
        chars[rng.randint(2, length - 3)] = "-"
    if rng.random() < 0.2:
        chars[-1] = rng.choice(string.digits)
    return "".join(chars)


def _hostile_names():
    """The names of ``tests/data/hostile_names.txt`` (decoded), or []."""
    if not HOSTILE_NAMES.exists():
        return []
    names = []
    for line in HOSTILE_NAMES.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        names.append(codecs.decode(line.split("\t", 1)[0], "unicode_escape"))
    return names


def _invalid(rng, count, fresh):
    extra = ["www", "admin", "api", "xn--acme", "ab", "a" * 70, "shop-int", "9lives"]
    pool = _hostile_names() + extra + [name.capitalize() for name in fresh[:50]]
    return [rng.choice(pool) for _ in range(count)]


def dataset(seed=SEED, taken=TAKEN, candidates=CANDIDATES):
    """``(taken names as a set, candidate list)``, the same for the same seed."""
    rng = random.Random(seed)
    prod = set()
    while len(prod) < taken * 8 // 10:
        prod.add(_word(rng))
    prod = sorted(prod)
    taken_set = set(prod) | {f"{name}-int" for name in rng.sample(prod, taken // 5)}
    fresh = []
    while len(fresh) < candidates * 60 // 100:
        word = _word(rng)
        if word not in taken_set and f"{word}-int" not in taken_set:
            fresh.append(word)
    int_taken = [n[: -len("-int")] for n in taken_set if n.endswith("-int")]
    chosen = (
        fresh
        + rng.sample(prod, candidates * 20 // 100)
        + rng.sample(sorted(int_taken), candidates * 5 // 100)
    )
    chosen += _invalid(rng, candidates - len(chosen), fresh)
    rng.shuffle(chosen)
    return taken_set, chosen


def measure(check, candidates, rounds=ROUNDS):
    """Time ``check(name)`` for every candidate, ``rounds`` times after a warm-up.

    Returns the :func:`bench.common.summary_us` of all samples plus the
    number of checks and of names that had problems (from the last round).
    """
    for name in candidates:
        check(name)
    samples, rejected = [], 0
    clock = time.perf_counter_ns
    for _ in range(rounds):
        rejected = 0
        for name in candidates:
            start = clock()
            problems = check(name)
            samples.append(clock() - start)
            rejected += bool(problems)
    return {**summary_us(samples), "checks": len(samples), "rejected": rejected}


def run(taken=TAKEN, candidates=CANDIDATES, rounds=ROUNDS):
    """Benchmark check_app_name on the generated data set; the result dict."""
    taken_set, names = dataset(taken=taken, candidates=candidates)
    result = measure(lambda name: check_app_name(name, taken_set), names, rounds)
    return {
        "taken": len(taken_set),
        "candidates": len(names),
        "rounds": rounds,
        **result,
    }


def report(result):
    """The printed line of benchmark 4."""
    r = result
    return [
        f"app-name check: {r['candidates']} names vs {r['taken']} taken (set), "
        f"{r['rounds']} rounds -> mean {r['mean_us']:.1f} µs, "
        f"p95 {r['p95_us']:.1f} µs per check "
        f"({r['rejected']} of {r['candidates']} rejected)",
    ]
