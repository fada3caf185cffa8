"""Spreading a few human labels to unlabeled images.

Two mechanisms:
* percentile propagation (Géron ch. 9): the label of a cluster's representative goes to the
  given percentage of the cluster's images closest to its centre;
* graph label spreading (Zhou et al. 2004) on a symmetric kNN graph with self-tuning
  Gaussian weights, which follows the shape of the data instead of k-means' spheres.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import numpy as np

from .clustering import Clustering
from .graph import default_n_neighbors, knn_affinity, spread  # noqa: F401 (re-exported)
from .sampling import sample_indices

# Measured with benchmarks/_scratch/drive.py (digits book3, 4 seeds, k=50 clusters in the
# diffusion embedding, then run_round): percentile 50 -> exported labels 98.1 %, test 93.5 %;
# percentile 100 -> 98.4 % / 93.3 %.  Clusters in the diffusion embedding are pure enough
# (98.5 % whole-cluster accuracy) that the whole cluster is the better start, and run_round's
# cross-fitted self-training corrects the cluster edges afterwards.
DEFAULT_PERCENTILE: float = 100.0


@dataclass(frozen=True)
class Propagation:
    idx: np.ndarray          # (M,) image indices that receive a label
    labels: np.ndarray       # (M,) object array of str labels
    confidence: np.ndarray   # (M,) float in [0, 1]
    cluster: np.ndarray      # (M,) source cluster (-1 for graph spreading)
    rank: np.ndarray         # (M,) 0-based distance rank inside the cluster (-1 for graph spreading)

    @staticmethod
    def empty() -> "Propagation":
        return Propagation(np.zeros(0, int), np.zeros(0, object), np.zeros(0), np.zeros(0, int),
                           np.zeros(0, int))

    def take(self, keep: np.ndarray) -> "Propagation":
        """The rows where the mask ``keep`` is True."""
        return Propagation(self.idx[keep], self.labels[keep], self.confidence[keep], self.cluster[keep], self.rank[keep])


def cluster_members(clustering: Clustering, cluster: int) -> np.ndarray:
    """Member indices of ``cluster`` sorted by distance to its centre (closest first)."""
    return clustering.member_order.members(int(cluster))


def propagation_cutoff(clustering: Clustering, cluster: int, percentile: float) -> int:
    """How many of ``cluster_members`` receive the label: ceil(percentile % of the cluster).

    0 % propagates to nobody, 100 % to the whole cluster.
    """
    return int(_cutoffs(clustering.member_order.sizes[[int(cluster)]], percentile)[0])


def _cutoffs(sizes: np.ndarray, percentile: float) -> np.ndarray:
    """``propagation_cutoff`` for clusters of these ``sizes``."""
    p = float(np.clip(percentile, 0.0, 100.0))
    return np.minimum(sizes, np.ceil(p / 100.0 * sizes - 1e-9)).astype(int)


def beyond_cutoff(clustering: Clustering, clusters: Sequence[int], percentile: float) -> np.ndarray:
    """Mask over images: members of ``clusters`` outside their ``percentile`` cutoff, i.e. at a
    position of ``cluster_members`` at or past ``propagation_cutoff`` (all clusters at once)."""
    members = clustering.member_order
    labels = np.asarray(clustering.labels)
    chosen = np.zeros(len(members.sizes), dtype=bool)
    chosen[np.asarray(list(clusters), dtype=int)] = True
    return chosen[labels] & (members.rank >= _cutoffs(members.sizes, percentile)[labels])


def percentile_confidence(rank: np.ndarray, size: int) -> np.ndarray:
    """A prior confidence for a propagated label, falling with the distance rank.

    Images near the centre almost always share the representative's class; the edge of a
    cluster is where k-means mixes classes.  Measured on digits with k=50: the closest half
    of a cluster agrees with its representative ~97 % of the time, the farthest tenth ~85 %.
    """
    frac = (np.asarray(rank, float) + 0.5) / max(size, 1)
    return np.clip(0.97 - 0.15 * frac ** 2, 0.0, 1.0)


def propagate_percentile(clustering: Clustering, cluster_labels: Mapping[int, str], percentile: float,
                         *, exclude: Sequence[int] = ()) -> Propagation:
    """Give each labelled cluster's label to its ``percentile`` % most central members.

    ``exclude`` (human-labelled images) and the cluster's detached groups (members the kNN
    graph does not connect to the representative, ``Clustering.detached``) never receive a
    propagated label; the rounds' classifier labels those.
    """
    excluded = np.zeros(len(clustering.labels), dtype=bool)  # a mask: 100k set lookups cost 30 ms
    excluded[np.asarray(list(exclude), dtype=int)] = True
    if clustering.detached is not None:
        excluded |= clustering.detached
    members = clustering.member_order
    cuts = _cutoffs(members.sizes, percentile)
    idx, labels, conf, clusters, ranks = [], [], [], [], []
    for c, label in cluster_labels.items():
        if label is None:
            continue
        c = int(c)
        cluster = members.members(c)
        chosen = cluster[:int(cuts[c])]
        rank = np.arange(len(chosen))
        keep = ~excluded[chosen]
        idx.append(chosen[keep])
        ranks.append(rank[keep])
        conf.append(percentile_confidence(rank[keep], len(cluster)))
        labels.append(np.full(int(keep.sum()), label, dtype=object))
        clusters.append(np.full(int(keep.sum()), c, dtype=int))
    if not idx:
        return Propagation.empty()
    return Propagation(idx=np.concatenate(idx).astype(int), labels=np.concatenate(labels),
                       confidence=np.concatenate(conf), cluster=np.concatenate(clusters),
                       rank=np.concatenate(ranks).astype(int))


def label_spreading(X, labeled_idx, labels, *, exclude: Sequence[int] = (), n_neighbors: Optional[int] = None,
                    random_state=0) -> Propagation:
    """Spread ``labels`` of ``labeled_idx`` over a kNN graph of X to every other image.

    Confidence is the normalised spreading score of the winning class.  ``exclude`` and the
    seeds themselves receive no label.  random_state is accepted for API symmetry (the
    method is deterministic).
    """
    labeled_idx = np.asarray(labeled_idx, dtype=int)
    labels = np.asarray(labels, dtype=object)
    n = len(X)
    if len(labeled_idx) == 0 or n < 2:
        return Propagation.empty()
    classes, cls = np.unique(labels.astype(str), return_inverse=True)
    F = spread(knn_affinity(X, n_neighbors), labeled_idx, cls, len(classes))
    target = np.ones(n, dtype=bool)
    target[labeled_idx] = False
    target[np.asarray(list(exclude), dtype=int)] = False
    idx = np.flatnonzero(target)
    best = F[idx].argmax(axis=1)
    return Propagation(idx=idx, labels=classes[best].astype(object), confidence=F[idx, best],
                       cluster=np.full(len(idx), -1, int), rank=np.full(len(idx), -1, int))


# An RBF SVM's fit time grows about quadratically with its training set (100k images: minutes
# per fit).  Past this size a random subset of the pool's current labels trains it (human
# labels are always included); every image is still scored.  Digits-sized sets are unaffected.
MAX_SVM_TRAIN = 10000


def capped_sample(indices: np.ndarray, limit: int, random_state=0) -> np.ndarray:
    """``indices`` itself when it has at most ``limit`` entries, else a sorted random subset of that size."""
    indices = np.asarray(indices, dtype=int)
    return indices[sample_indices(len(indices), max(int(limit), 0), random_state)]


def self_train(X, y_init: np.ndarray, fixed: np.ndarray, n_classes: int, *, n_iter: int = 2,
               n_folds: int = 5, weight=None, groups=None, probe=(), random_state=0, cancel=None):
    """Cross-fitted self-training: relabel every non-fixed image by a classifier that never saw it.

    Each iteration splits the images into folds; an SVM trained on the other folds' current
    labels relabels the held-out fold.  Labels that disagree with the rest of the data are
    corrected, while an in-sample fit would merely memorise them.  ``fixed`` images (human
    labels) keep their label and always stay in the training folds' data.
    ``probe``: fixed images that also get held-out scores (audit answers, ``pipeline.run_round``):
    each keeps its label but sits out of one fold's training, in every iteration, and is
    scored by that fold's model.
    Returns (labels, held-out scores (N, C) of the last iteration, the labels the last
    iteration was trained on): calibrate the scores against the latter, which the held-out
    model did not produce itself.
    """
    from sklearn.model_selection import KFold
    from .active import CalibratedSVM
    from .types import check
    X = np.asarray(X, dtype=np.float64)
    n = len(X)
    y = np.asarray(y_init, dtype=int).copy()
    fixed = np.asarray(fixed, dtype=int)
    is_fixed = np.zeros(n, dtype=bool)
    is_fixed[fixed] = True
    free = np.flatnonzero(~is_fixed)
    scores = np.zeros((n, n_classes))
    w = np.ones(n) if weight is None else np.asarray(weight, float)
    folds = int(min(n_folds, len(free)))
    if folds < 2:
        return y, scores, y.copy()
    previous = y.copy()
    probe = np.asarray(probe, dtype=int)
    probe_fold = np.random.default_rng(random_state).permutation(len(probe)) % folds
    for it in range(n_iter):
        check(cancel)
        previous = y
        new = y.copy()
        if groups is None:
            splits = KFold(folds, shuffle=True, random_state=random_state + it).split(free)
        else:
            # whole groups (the images one propagated label came from) are held out together,
            # so a cluster's shared label cannot vouch for itself
            g = np.asarray(groups)[free]
            ug = np.unique(g)
            fold_of = np.random.default_rng(random_state + it).permutation(len(ug)) % folds
            gf = fold_of[np.searchsorted(ug, g)]
            splits = [(np.flatnonzero(gf != f), np.flatnonzero(gf == f)) for f in range(folds)]
        for f, (tr, te) in enumerate(splits):
            out = probe[probe_fold == f]
            kept = fixed[~np.isin(fixed, out)] if len(out) else fixed
            train = np.concatenate([kept, capped_sample(free[tr], MAX_SVM_TRAIN - len(kept), random_state + it)])
            clf = CalibratedSVM(n_classes, random_state=random_state).fit(X[train], y[train], w[train])
            scores[free[te]] = clf.scores(X[free[te]])
            if len(out):
                scores[out] = clf.scores(X[out])
            new[free[te]] = scores[free[te]].argmax(axis=1)
        y = new
    return y, scores, previous


# A cluster whose representative has no human label (after a switch of feature space and
# re-clustering) is named by its human-labelled members when they clearly agree.
# Measured on cdigits (simulate, 50 labels, switch pixels -> hog): test accuracy .227 vs
# .143 without it (seed 0), .110 vs .100 (seed 2); label accuracy .256 vs .187, .174 vs .152.
# One member is enough: it is a random member, right about as often as the cluster is pure,
# nearly as often as the representative.  Measured (cdigits, 6 seeds, switch after 20 labels):
# 1 member -> test 67.7 %, estimate error +11.6; 2 members -> 48.3 %, +31.7 (with 2, a
# cluster holding one stray label was neither named nor asked again: ~15 of 50 stayed unnamed).
MAJORITY_MIN = 1         # human-labelled members needed to name a cluster without its representative
MAJORITY_SHARE = 2 / 3   # share of them that must agree


def majority_label(labels: Sequence[str]) -> Optional[str]:
    """The clear majority of ``labels`` (at least MAJORITY_MIN agreeing, a MAJORITY_SHARE of all), or None."""
    if not labels:
        return None
    label, count = Counter(labels).most_common(1)[0]
    return label if count >= MAJORITY_MIN and count >= MAJORITY_SHARE * len(labels) else None


def name_clusters(representatives: Sequence[int], cluster_of: Optional[np.ndarray],
                  human: dict[int, str]) -> dict[int, str]:
    """Cluster id -> its label: the human label of its representative or, when that has none,
    the ``majority_label`` of its human-labelled members (``cluster_of``: cluster id per image)."""
    out = {c: human[int(rep)] for c, rep in enumerate(representatives) if int(rep) in human}
    if cluster_of is None or len(out) == len(representatives):
        return out
    by_cluster: dict[int, list[str]] = {}
    for i, lab in human.items():
        by_cluster.setdefault(int(cluster_of[i]), []).append(lab)
    for c, labs in by_cluster.items():
        if c not in out:
            found = majority_label(labs)
            if found is not None:
                out[c] = found
    return out
