"""Spreading a few human labels to unlabeled images.

Two mechanisms:
* percentile propagation (Géron ch. 9): the label of a cluster's representative goes to the
  given percentage of the cluster's images closest to its centre;
* graph label spreading (Zhou et al. 2004) on a symmetric kNN graph with self-tuning
  Gaussian weights, which follows the shape of the data instead of k-means' spheres.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.neighbors import NearestNeighbors

from .clustering import Clustering, blas_threads

# Measured with benchmarks/_scratch on digits (book3 split, 20 seeds, k = 50 clusters):
# percentile propagation is only the instant, visible first step; run_round re-derives
# every non-human label from the graph and the classifier, so the default is chosen for the
# accuracy of the propagated labels themselves.  See benchmarks/RESULTS.md.
DEFAULT_PERCENTILE: float = 50.0


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


def cluster_members(clustering: Clustering, cluster: int) -> np.ndarray:
    """Member indices of ``cluster`` sorted by distance to its centre (closest first)."""
    members = np.flatnonzero(clustering.labels == cluster)
    return members[np.argsort(clustering.distances[members], kind="stable")]


def propagation_cutoff(clustering: Clustering, cluster: int, percentile: float) -> int:
    """How many of ``cluster_members`` receive the label: ceil(percentile % of the cluster).

    0 % propagates to nobody, 100 % to the whole cluster.
    """
    n = int(np.sum(clustering.labels == cluster))
    p = float(np.clip(percentile, 0.0, 100.0))
    return int(min(n, np.ceil(p / 100.0 * n - 1e-9)))


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

    ``exclude`` (human-labelled images) never receive a propagated label.
    """
    excluded = set(int(i) for i in exclude)
    idx, labels, conf, clusters, ranks = [], [], [], [], []
    for c, label in cluster_labels.items():
        if label is None:
            continue
        c = int(c)
        members = cluster_members(clustering, c)
        cut = propagation_cutoff(clustering, c, percentile)
        chosen = members[:cut]
        rank = np.arange(cut)
        keep = np.array([int(i) not in excluded for i in chosen], dtype=bool)
        idx.append(chosen[keep])
        ranks.append(rank[keep])
        conf.append(percentile_confidence(rank[keep], len(members)))
        labels.append(np.full(int(keep.sum()), label, dtype=object))
        clusters.append(np.full(int(keep.sum()), c, dtype=int))
    if not idx:
        return Propagation.empty()
    return Propagation(idx=np.concatenate(idx).astype(int), labels=np.concatenate(labels),
                       confidence=np.concatenate(conf), cluster=np.concatenate(clusters),
                       rank=np.concatenate(ranks).astype(int))


def default_n_neighbors(n: int) -> int:
    """kNN graph degree from the data size: ~log2(n)+1, at least 5, at most 20 (and < n)."""
    return int(max(1, min(n - 1, max(5, min(20, round(np.log2(max(n, 2)) + 1))))))


def knn_affinity(X, n_neighbors: Optional[int] = None) -> sp.csr_matrix:
    """Symmetric kNN graph with self-tuning Gaussian weights exp(-d^2 / (s_i s_j)).

    s_i is the distance to the i-th image's n_neighbors/2-th neighbour (Zelnik-Manor &
    Perona), so the scale adapts to local density and needs no per-dataset gamma.
    """
    X = np.asarray(X, dtype=np.float64)
    n = len(X)
    k = default_n_neighbors(n) if n_neighbors is None else int(min(n_neighbors, n - 1))
    with blas_threads(1):
        dist, nbr = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)
    dist, nbr = dist[:, 1:], nbr[:, 1:]
    scale = np.maximum(dist[:, max(0, k // 2 - 1)], 1e-12)
    w = np.exp(-dist ** 2 / (scale[:, None] * scale[nbr]))
    W = sp.csr_matrix((w.ravel(), (np.repeat(np.arange(n), k), nbr.ravel())), shape=(n, n))
    return W.maximum(W.T).tocsr()


def spread(W: sp.csr_matrix, seed_idx: np.ndarray, seed_class: np.ndarray, n_classes: int, *,
           alpha: float = 0.99, seed_weight: Optional[np.ndarray] = None,
           n_iter: int = 200, tol: float = 1e-6) -> np.ndarray:
    """Zhou et al. label spreading F = (1-a) (I - a S)^-1 Y; returns row-normalised scores (N, C)."""
    n = W.shape[0]
    d = np.asarray(W.sum(axis=1)).ravel()
    dinv = 1.0 / np.sqrt(np.maximum(d, 1e-12))
    S = sp.diags(dinv) @ W @ sp.diags(dinv)
    Y = np.zeros((n, n_classes))
    wts = np.ones(len(seed_idx)) if seed_weight is None else np.asarray(seed_weight, float)
    np.add.at(Y, (np.asarray(seed_idx, int), np.asarray(seed_class, int)), wts)
    F = Y.copy()
    for _ in range(n_iter):
        F_new = alpha * (S @ F) + (1 - alpha) * Y
        if np.abs(F_new - F).max() < tol:
            F = F_new
            break
        F = F_new
    total = F.sum(axis=1, keepdims=True)
    out = np.full_like(F, 1.0 / n_classes)
    ok = total[:, 0] > 0
    out[ok] = F[ok] / total[ok]
    return out


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
