"""Re-checking the feature space with the human labels as they arrive.

``auto`` features are chosen before any label exists (the clearest cluster structure,
see ``features/auto.py``). That is wrong when the strongest structure is not the
class (coloured noisy digits: raw pixels cluster by colour). Once the human has
labelled a few dozen images, each candidate space can be scored by how well it
separates *those* labels, and the app can switch.

Score: leave-one-out nearest-neighbour accuracy of the human-labelled images in a
space. Each space's raw vectors are standardised per column over the labelled rows
(so no single high-variance pixel or colour channel dominates), then compared by
cosine similarity; each image takes the label of its most similar other labelled image.

Switch rule: the best other space replaces the current one only when it is at least
``MIN_GAIN`` points more accurate **and** the paired difference is beyond noise: with
``b`` = images the other space gets right and the current one wrong, ``c`` = the
reverse, McNemar's ``(b - c) / sqrt(b + c) >= MIN_Z``. Nothing is decided with fewer
than ``MIN_LABELS`` labelled images or fewer than 2 classes.

Measurement (benchmarks/_scratch/fc_eval.py; raw pixels/hog/cnn vectors of the five
PNG sets of benchmarks/_scratch/make_sets.py; 5 draws of 50 random labelled images;
LOO accuracy mean, all-label LOO 1-NN in brackets):

    set       pixels        hog           cnn
    cdigits   .18 (.39)     .34 (.49)     .17 (.21)
    letters   .18 (.35)     .28 (.66)     .72 (.94)
    shapes    .36 (.63)     .54 (.82)     .89 (.92)
    textures  .36 (.51)     .36 (.55)     .87 (.99)
    faces     .88 (.91)     .96 (.97)     .98 (.99)

The 50-label ranking matches the all-label ranking wherever the all-label gap is
large. Alternatives scored the same draws: 1-NN with centring + L2 only (same picks),
3-NN (a few points lower), LOO ridge classifier (same picks, lower and slower), LOO
nearest class mean (same picks), LOO RBF SVM (C=10; hog .20 vs pixels .16 on
cdigits: too flat to act on). Draw-to-draw std is .03-.08, so two equal spaces differ
by up to ~10 points by chance: hence the paired McNemar test. ``MIN_GAIN`` = 10
points: on cdigits through ``simulate`` (labels = the 50 pixel-space representatives)
hog beats pixels by 10-30 points (z 1.1-3.1); 15 points missed one of the two clear
cases. No set where the current space is the best crossed the rule.

End to end (``main.py simulate --images <set>/img --truth <set>/truth.csv --budget 50
--seeds 3``; before = ``--no-feature-check``), mean test accuracy before -> after:
cdigits .108 -> .149 (switched pixels -> hog in 2 of 3 seeds), letters .893, shapes
.889, textures .975, faces .973 unchanged (no switch recommended; z against the
current cnn space <= -1.6 everywhere except faces seed 1, where auto had picked pixels
and cnn scored .98 vs .88, z 1.9: kept). Digits (book features, no check) unchanged.
The switch cannot undo the first 50 questions: they were spent on pixel-space
(colour) representatives, so hog gets 50 labels poorly spread over its own clusters.
(Those figures are from the gray HOG and the head-average cnn embedding.)

Since then the check also runs after the first ``EARLY_CHECK_LABELS`` labels, and HOG
uses colour gradients. ``benchmarks/_scratch/rs.py``, 3 seeds, 50 labels, mean test
accuracy: cdigits 10.6 (no check) -> 31.3 (check after 50 labels, switch in 3 of 3) ->
50.8 (check after 20 labels too; all 3 switch at 20); starting in colour hog gets
78.8, so 20 questions asked in the wrong space still cost a lot. letters, textures,
faces, shapes and cdigits32 are unchanged (no switch at 20 or at 50).

Then (6 seeds): a single human label inside a new cluster names it (``propagation.MAJORITY_MIN``)
and the remaining questions go to the clusters nobody has named: 48.3 -> 67.7; checks every
``CHECK_EVERY`` labels while representatives are asked (one seed missed the switch at 20 and
made it at 50): 73.2, worst seed 40.3 -> 65.7.  The other sets still never switch (5 seeds each).

Then the ``figure`` space arrived (``features/figure.py``), "auto" picked it on letters, and the
check swapped it for the cnn in 3 of 3 seeds (letters 98.7 -> 92.5 %, worst 84.0) and for hog
in 1 of 3 on clean coloured digits (mean 98.4 -> 97.2). The cause is a bias of the score, not a
worse space: the labelled images are the current space's representatives, one per cluster, so
in the current space each one's nearest labelled neighbour belongs to another cluster, often
of another class (figure 0.15-0.42 on its own representatives, the cnn 0.50-0.90 on the same
images; after a switch the roles reverse: cnn 0.42-0.56, figure 0.48-0.64). So two conditions were added: the scores count
only labelled images whose class has another labelled image (``scorable``; nobody else can have
a right neighbour), at least ``MIN_SCORABLE`` of them; and a switch needs the current space to be
near chance on them: ``chance_skill`` < ``MAX_CURRENT_SKILL``. Measured at every check of
``benchmarks/_scratch/chkmeta.py`` (3 seeds): a wrong start (raw pixels on coloured digits,
noisy coloured digits, letters) has skill -0.15 to +0.09 and is still switched away from
(cdigits 10.6 -> 80.3 %, cdigits32 9.6 -> 96.4 %, letters 13.3 -> 95.0 %); the figure space on
letters, wrongly switched before, has 0.12-0.41 and is kept (98.7 %). The margin between the
two groups is small (0.09 vs 0.12); now that "auto" starts in a good space on every set measured,
the check is a safety net for a wrong start, and it no longer switches on any of them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np
from scipy.stats import binom

MIN_LABELS = 20   # below this LOO accuracy is too coarse to act on
MIN_GAIN = 0.10   # 10 points of LOO 1-NN accuracy
MIN_Z = 2.0       # McNemar z of the paired difference ...
# ... and its exact (binomial) one-sided p-value at most ``max_p``: with few discordant pairs the
# z approximation is far too keen (4 against 0 gives z = 2.0 but p = 0.06).  One session runs
# several tests: each check compares every other candidate space, and the checks repeat (20, 30,
# 40, 50 labels at the default budget of 50), so the threshold is Bonferroni's: FAMILY_ALPHA over
# (other spaces x CHECKS_PER_SESSION), 0.004 with four candidate spaces.  Measured (8 seeds of
# letters and of letters in 10 fonts, where "auto" starts right; every check logged without
# switching): at 0.025 a good start was switched away twice at 30 labels, p = 0.016 and 0.020;
# end to end (simulate, 50 labels) those seeds go from 16.3 to 77.9 % (fonts) and 95.0 to 97.0 %
# (letters), and no seed of the 16 switches.  Of 16 wrong starts (raw pixels forced on letters,
# font letters, clean and noisy coloured digits, 4 seeds each) 15 switch as before, at the same
# check, to the same space; one (noisy digits) switches at 30 labels to the figure space instead
# of at 20 (p = 0.020) to hog: 65.7 -> 92.7 %.  (One wrong start, clean coloured digits in raw
# pixels, is never switched under either threshold: its skill, 0.10-0.13, is above
# MAX_CURRENT_SKILL.)
FAMILY_ALPHA = 0.05
CHECKS_PER_SESSION = 4
# ... and only when the current space is near chance on the labels (skill, see chance_skill).
# The labelled images are the current space's representatives, one per cluster, so in that space
# each one's nearest labelled neighbour is another cluster's: the score is biased against the
# current space.  Without this condition the check swapped a good space for a worse one (see below).
MAX_CURRENT_SKILL = 0.1
# Scores count only labelled images whose class has another labelled image (the others cannot
# have a right neighbour in any space), and need at least this many of them (a guard against
# judging a 20-class set on a handful of pairs; not itself what fixed the letters case).
MIN_SCORABLE = 15
# When the check runs by itself: once this many human labels exist, then every CHECK_EVERY
# labels while representatives are still being asked, and once every representative is
# labelled (the app's controller and ``simulate`` both follow ``check_due``).
# Measured (simulate, 50 labels): noisy coloured digits, where "auto" then picked colour-clustered
# pixels (it no longer does: see features/auto.py): checks at 50 only -> 31 % test accuracy, at 20
# and 50 -> 51 % (3 seeds; a switch at
# 20 leaves 30 questions for the new space's clusters; checking at 30 instead of 20: 40 %);
# with one stray label naming its cluster (propagation.MAJORITY_MIN) 67.7 % (6 seeds; one seed
# missed the switch at 20 and reached 40 %); checking every 10 labels -> 73.2 %, worst seed
# 65.7 %, estimate error +11.6 -> +6.3 points (every 5: the same).  Letters, textures, faces,
# shapes, clean coloured digits: unchanged, no switch at any point in 5 seeds each.
EARLY_CHECK_LABELS = 20
CHECK_EVERY = 10


def check_due(n_labels: int, last_checked: int, n_representatives: int, representatives_done: bool) -> bool:
    """Should the automatic check run now?

    ``last_checked`` = the label count of the latest check (0 when none ran).  Once every
    representative is labelled the automatic checks stop after one last look: the rounds
    that follow pick uncertain images, and more looks would only add chances of a spurious
    switch (the rounds panel can still run one on request).
    """
    if n_labels < EARLY_CHECK_LABELS or n_labels <= last_checked:
        return False
    if last_checked < EARLY_CHECK_LABELS:
        return True
    if representatives_done:
        return last_checked < n_representatives
    return n_labels - last_checked >= CHECK_EVERY


@dataclass(frozen=True)
class FeatureCheck:
    current: str
    scores: dict[str, float]          # space -> LOO 1-NN accuracy on the human labels
    n_labels: int
    recommended: Optional[str] = None  # a better space, or None to keep the current one
    reason: str = ""
    z: dict[str, float] = field(default_factory=dict)  # space -> McNemar z against the current space

    def as_meta(self) -> dict:
        return {"current": self.current, "scores": dict(self.scores), "n_labels": self.n_labels,
                "recommended": self.recommended, "reason": self.reason, "z": dict(self.z)}


def normalise(X: np.ndarray) -> np.ndarray:
    """Per-column standardisation over the given rows, then unit L2 rows (cosine geometry)."""
    X = np.asarray(X, dtype=np.float64)
    X = X - X.mean(axis=0)
    std = X.std(axis=0)
    X = X / np.where(std > 1e-8, std, 1.0)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.where(norms > 1e-12, norms, 1.0)


def loo_1nn_correct(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per labelled row: does its most cosine-similar other row carry the same label?"""
    Z = normalise(X)
    S = Z @ Z.T
    np.fill_diagonal(S, -np.inf)
    return np.asarray(y)[np.argmax(S, axis=1)] == np.asarray(y)


def scorable(y: np.ndarray) -> np.ndarray:
    """Labelled rows whose class has another labelled row: only these can have a right neighbour."""
    _, inverse, counts = np.unique(np.asarray(y), return_inverse=True, return_counts=True)
    return counts[inverse] >= 2


def chance_skill(accuracy: float, y: np.ndarray) -> float:
    """How far ``accuracy`` (over the ``scorable`` rows of ``y``) is from chance (0) towards
    perfect (1); chance = the mean probability that another labelled image shares the row's class."""
    _, inverse, counts = np.unique(np.asarray(y), return_inverse=True, return_counts=True)
    same_class = counts[inverse][scorable(y)]
    if len(y) < 2 or len(same_class) == 0:
        return 0.0
    chance = float(np.mean((same_class - 1) / (len(y) - 1)))
    return (accuracy - chance) / (1.0 - chance) if chance < 1.0 else 0.0


def mcnemar(correct_other: np.ndarray, correct_current: np.ndarray) -> tuple[float, float]:
    """(z, exact one-sided p) that the other space is right more often on the same rows."""
    b = int(np.sum(correct_other & ~correct_current))
    d = int(np.sum(correct_current & ~correct_other))
    if b + d == 0:
        return 0.0, 1.0
    return round(float((b - d) / np.sqrt(b + d)), 2), float(binom.sf(b - 1, b + d, 0.5))


def max_p(n_other_spaces: int) -> float:
    """The p-value a switch needs, with ``n_other_spaces`` compared at each check (see FAMILY_ALPHA)."""
    return FAMILY_ALPHA / (max(int(n_other_spaces), 1) * CHECKS_PER_SESSION)


def check_spaces(vectors: dict[str, np.ndarray], labels, current: str) -> FeatureCheck:
    """Score each space in ``vectors`` (rows = the same labelled images, in ``labels`` order)
    and recommend one other than ``current`` when it is clearly better (see the module doc)."""
    y = np.asarray([str(v) for v in labels])
    n, n_classes = len(y), len(set(y.tolist()))
    if n < MIN_LABELS or n_classes < 2:
        return FeatureCheck(current, {}, n, None, f"{n} labels in {n_classes} classes: too few to compare spaces")
    rows = scorable(y)
    if rows.sum() < MIN_SCORABLE:
        reason = f"only {int(rows.sum())} labels share a class with another: too few to compare spaces"
        return FeatureCheck(current, {}, n, None, reason)
    correct = {name: loo_1nn_correct(X, y)[rows] for name, X in vectors.items()}
    scores = {name: round(float(c.mean()), 4) for name, c in correct.items()}
    if current not in correct:
        best = max(scores, key=scores.get)
        return FeatureCheck(current, scores, n, None, f"current space {current!r} is not a candidate; best is {best}")
    base = correct[current]
    z, p_value = {}, {}
    for name, c in correct.items():
        if name == current:
            continue
        z[name], p_value[name] = mcnemar(c, base)
    others = [s for s in scores if s != current]
    if not others:
        return FeatureCheck(current, scores, n, None, "no other space to compare", z)
    best = max(others, key=lambda s: (scores[s], z[s]))
    gain = scores[best] - scores[current]
    skill = chance_skill(scores[current], y)
    clearly = gain >= MIN_GAIN and z[best] >= MIN_Z and p_value[best] <= max_p(len(others))
    if clearly and skill < MAX_CURRENT_SKILL:
        reason = (f"{best} separates the {n} human labels better: {scores[best]:.0%} vs {scores[current]:.0%} "
                  f"nearest-neighbour accuracy (z = {z[best]:.1f})")
        return FeatureCheck(current, scores, n, best, reason, z)
    reason = (f"keep the {current} features: no other space separates your {n} labels clearly better "
              f"(best other, {best}: {scores[best]:.0%} vs {scores[current]:.0%} nearest-neighbour accuracy, "
              f"z = {z[best]:.1f})")
    if clearly:
        reason = (f"keep the {current} features: they already separate your labels well above chance. "
                  f"{best} scores higher ({scores[best]:.0%} vs {scores[current]:.0%} nearest-neighbour "
                  f"accuracy), as expected: your labels were asked one per {current} cluster, so in the "
                  f"{current} space they lie apart")
    return FeatureCheck(current, scores, n, None, reason, z)


def labelled_vectors(paths: list[str], keys: list[tuple[int, float]], rows: list[int], names: list[str], *,
                     cache_dir: Optional[str], random_state: int = 0, workers: int = 2,
                     progress=None, cancel=None) -> dict[str, np.ndarray]:
    """Raw vectors of ``paths[rows]`` in each space of ``names``.

    Each extractor is resolved on all ``paths`` with ``random_state`` exactly as
    ``extract_features`` resolves it, so the vectors land in (and come from) the same
    cache entries a later switch to that space reads.
    """
    from labeler.features.cache import raw_cache
    from labeler.features.registry import resolved_extractor
    from labeler.features.runner import compute_raw
    from labeler.types import Progress, check

    out: dict[str, np.ndarray] = {}
    sub_paths, sub_keys = [paths[i] for i in rows], [keys[i] for i in rows]
    for step, name in enumerate(names):
        check(cancel)
        extractor = resolved_extractor(name, paths, random_state)
        cache = raw_cache(cache_dir, extractor)
        message = f"Checking features with the labels: {name} ({step + 1}/{len(names)})"
        relay = None if progress is None else (lambda p, m=message: progress(Progress(p.done, p.total, m)))
        out[name], _ = compute_raw(extractor, sub_paths, sub_keys, cache, workers=workers, cancel=cancel,
                                   progress=relay, message=message)
    return out


def candidate_spaces() -> list[str]:
    from labeler.features.auto import candidate_names
    return candidate_names()
