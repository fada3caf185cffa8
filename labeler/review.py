"""Checking the human's own labels: which answers do the other answers contradict?

An annotator presses a wrong key now and then, and here a slip costs more than one image: the
answer to a representative is spread to its whole cluster (about 1/k of the pool), and nothing
downstream undoes it, because a human label is never overridden. In
``benchmarks/annotator_slips.py`` two wrong answers in 50 cost the digits' exported labels 3.4-4
points.

So each human label is held out in turn and the *other* human labels are spread over the kNN
graph (the round's first step, ``graph.spread``); the share the held-out image then gets for its
own label is its ``support``. A label is a suspect when the others clearly point to another class
(``SUSPECT_RATIO``). Each class's scores are first divided by the mass the class gets over the
whole pool (class mass normalisation, Zhu, Ghahramani and Lafferty 2003), so a class whose labels
sit in a dense part of the graph does not outvote the rest: on the 1797 digits (raw pixels, 50
labels, 10 draws, a suspect being any other class ahead) that flags 9-10 % of right labels
instead of 12-14 %, and every injected slip either way.

The check is exact leave-one-out: spreading one column per human label gives the graph's
influence of every label on every image, and dropping a label's influence on itself leaves what
the others say. Past ``LOO_COLUMNS_PER_CLASS`` x classes labels that costs more than ``FOLDS``
ordinary spreads, and the check holds labels out by folds instead.

Only labels whose class holds another human label can be checked (nobody else can vouch for the
only example of a class), and only where another label reaches the image through the graph (a
group the graph keeps apart, like the zeros among raw-pixel digits, hears nobody).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

import numpy as np

from .graph import knn_affinity, spread
from .types import CancelToken, ProgressCallback, check, report

FOLDS = 10                  # folds when leave-one-out costs more than FOLDS spreads
LOO_COLUMNS_PER_CLASS = FOLDS
# A suspect: the others' favourite class gets at least this many times the given label's share.
# Chosen on 6 sets (8 seeds, 2 slips among 50 answers each; benchmarks/RESULTS.md "Stop 41"):
# "any other class ahead" finds 95 of 96 slips but flags 5-17 right labels per 50; twice ahead
# finds 91 and flags 0.5-4.1 (9.4 with 25 classes of 2 labels); three times misses 19. On six
# held-out sets twice ahead found 80 of 92, but only 7 of 16 on noisy coloured digits, where
# ``LabelCheck.leaning`` (the weaker doubts) holds the rest. On 16 sets made later it found 77-78 %
# (textures, noisy and jittered digits miss most); a lower ratio, fixed or up to a tenth of the
# labels, found more but flagged too many right labels on textures (stop 42,
# benchmarks/label_check_rules.py).
SUSPECT_RATIO = 2.0
# A label whose class has only one other answer is judged by that one label alone, so its share
# is noisy: right labels there were flagged 12 % of the time (2-5 other answers: 3-5 %), and
# every slip there had a ratio above 3 (28 sets, stop 42). Such a label needs this ratio instead.
PAIR_RATIO = 3.0


@dataclass
class LabelCheck:
    """Every checkable human label, the suspects first (most contradicted first).

    ``idx``: image ids; ``given``: the human's label; ``suggested``: the class the other labels
    point to; ``support``: the held-out share of the given label (0-1); ``suggested_share``: that
    of ``suggested``; ``suspect``: ``suggested_share`` >= SUSPECT_RATIO x ``support`` (PAIR_RATIO x
    when the class has one other answer). ``unchecked``: images whose class has no other human label,
    or that no other label reaches through the graph.
    """
    idx: np.ndarray
    given: np.ndarray
    suggested: np.ndarray
    support: np.ndarray
    suggested_share: np.ndarray
    suspect: np.ndarray
    unchecked: np.ndarray

    @property
    def suspects(self) -> np.ndarray:
        return self.idx[self.suspect]

    @property
    def leaning(self) -> np.ndarray:
        """Labels the others lean against without clearly contradicting them (another class
        ahead, by less than SUSPECT_RATIO), the most contradicted first: where the graph is
        noisy, slips hide here (noisy coloured digits: 7 of 16 slips are suspects, all 16 are
        suspects or leaning)."""
        return self.idx[~self.suspect & (self.suggested != self.given)]


def check_human_labels(X, human_idx, human_labels, *, confirmed: Optional[Mapping[int, str]] = None,
                       random_state=0, progress: Optional[ProgressCallback] = None,
                       cancel: Optional[CancelToken] = None) -> LabelCheck:
    """Hold out each human label, spread the others over the kNN graph of ``X``, compare.

    ``confirmed`` (image -> label): labels the human kept after an earlier check; while unchanged
    they are evidence for the others but never suspects."""
    idx = np.asarray(human_idx, dtype=int)
    labels = np.asarray(human_labels, dtype=object).astype(str)
    classes, y = np.unique(labels, return_inverse=True)
    counts = np.bincount(y, minlength=len(classes))
    checkable = counts[y] >= 2
    empty = LabelCheck(*(np.zeros(0, dtype=t) for t in (int, object, object, float, float, bool)),
                       unchecked=idx[~checkable])
    if checkable.sum() < 2 or len(classes) < 2:
        return empty
    report(progress, 0, 1, "Checking your labels against each other")
    W = knn_affinity(X)
    check(cancel)
    if len(idx) <= LOO_COLUMNS_PER_CLASS * len(classes):
        scores = _leave_one_out(W, idx, y, len(classes))
    else:
        scores = _by_folds(W, idx, y, len(classes), random_state, progress, cancel)
    report(progress, 1, 1, "Checking your labels against each other")
    total = scores.sum(axis=1)
    checkable &= total > 0  # no other label reaches the image in the graph: nothing to say
    scores = scores / np.maximum(total, 1e-300)[:, None]
    rows = np.flatnonzero(checkable)
    support = scores[rows, y[rows]]
    suggested = scores[rows].argmax(axis=1)
    share = scores[rows, suggested]
    needed = np.where(counts[y[rows]] == 2, PAIR_RATIO, SUSPECT_RATIO)
    suspect = share >= needed * support
    if confirmed:
        suspect &= np.array([confirmed.get(int(i)) != label for i, label in zip(idx[rows], labels[rows])], dtype=bool)
    # suspects first, the most contradicted first (the smallest share of the given label against
    # the others' favourite); then the rest in the same order
    order = np.lexsort((support / np.maximum(share, 1e-300), ~suspect))
    rows, suggested = rows[order], suggested[order]
    return LabelCheck(idx=idx[rows], given=labels[rows], suggested=classes[suggested].astype(object),
                      support=support[order], suggested_share=share[order], suspect=suspect[order],
                      unchecked=idx[~checkable])


def _leave_one_out(W, idx: np.ndarray, y: np.ndarray, n_classes: int) -> np.ndarray:
    """(m, C) class scores of each human label from all the others, divided by class mass.

    Spreading is linear in its seeds: with one column per seed, row i of the result holds the
    influence of every seed on image i. The scores of seed j without itself are that row at
    j, its own column zeroed, summed by class: exactly a spread without seed j (``spread``
    normalises each row, which leaves its proportions alone). The class masses are those of
    all the labels, seed j's included: one label of a class moves them little.
    """
    m = len(idx)
    one_hot = np.eye(n_classes)[y]
    influence = spread(W, idx, np.arange(m), m)  # (n, m): the share of seed k at image i
    mass = (influence @ one_hot).sum(axis=0)    # each class's share summed over the pool
    influence = influence[idx]
    np.fill_diagonal(influence, 0.0)
    return (influence @ one_hot) / np.maximum(mass, 1e-300)


def _by_folds(W, idx, y, n_classes, random_state, progress, cancel) -> np.ndarray:
    """(m, C) class scores of each human label from the labels outside its fold."""
    rng = np.random.default_rng(random_state)
    fold = rng.permutation(len(idx)) % FOLDS
    scores = np.zeros((len(idx), n_classes))
    for f in range(FOLDS):
        check(cancel)
        report(progress, f, FOLDS, "Checking your labels against each other")
        held, kept = fold == f, fold != f
        F = spread(W, idx[kept], y[kept], n_classes)
        scores[held] = F[idx[held]] / np.maximum(F.sum(axis=0), 1e-300)
    return scores


# --------------------------------------------------------------------------- the session's side
CONFIRMED_META = "label_check_confirmed"  # {image id: label} the human kept after a check flagged it


def confirmed_labels(session) -> dict[int, str]:
    """Labels the human looked at again and kept; they stay evidence, but are not asked again
    while the label is the same."""
    return {int(i): str(label) for i, label in (session.store.get_meta(CONFIRMED_META, {}) or {}).items()}


def confirm_label(session, index: int) -> None:
    """The human kept the human label of ``index`` after a check flagged it (committed at once)."""
    label = session.human_labels().get(int(index))
    if label is None:
        return
    confirmed = {str(i): lab for i, lab in confirmed_labels(session).items()}
    confirmed[str(int(index))] = label
    session.store.set_meta(CONFIRMED_META, confirmed)


def label_check_job(session):
    """A job (``labeler.jobs``) checking the session's human labels; labels the human confirmed
    (unchanged since) are not suspects."""
    if session.features is None:
        raise RuntimeError("Features have not been computed for this session yet.")
    X, human, seed = session.features, session.human_labels(), session.random_state
    kept = confirmed_labels(session)

    def job(progress=None, cancel=None) -> LabelCheck:
        return check_human_labels(X, np.fromiter(human.keys(), dtype=int, count=len(human)),
                                  np.array(list(human.values()), dtype=object), confirmed=kept, random_state=seed,
                                  progress=progress, cancel=cancel)
    return job
