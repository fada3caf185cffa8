"""Clustering of feature vectors: k-means or average linkage, representatives, k-selection data, 2-D maps.

The human labels one representative per cluster (Géron ch. 9, "Using clustering for
semi-supervised learning"), so the quality of the whole labeling run depends on
(a) clusters that are class-pure and (b) representatives that are typical of their cluster.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Iterable, Optional, Sequence

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from sklearn.cluster import AgglomerativeClustering, KMeans, MiniBatchKMeans
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_samples, silhouette_score
from sklearn.neighbors import NearestNeighbors

from .graph import blas_threads, default_n_neighbors, diffusion_embedding, knn_affinity
from .sampling import sample_indices
from .types import CancelToken, ProgressCallback, check, report

# Above this many images full KMeans gets slow enough that MiniBatchKMeans pays off.
MINIBATCH_ABOVE = 20_000
REPRESENTATIVES = ("closest", "typical")


@dataclass(frozen=True)
class Clustering:
    labels: np.ndarray           # (N,) cluster id per image, 0..k-1
    distances: np.ndarray        # (N,) distance of each image to its own cluster's centre
    representatives: np.ndarray  # (k,) image index the human labels for each cluster
    centers: np.ndarray          # (k, D) centres in the clustering space
    k: int
    # (N,) True for members of a sizeable group that the kNN graph does not connect to its
    # cluster's representative (see ``detached_groups``); None when no graph was built
    detached: Optional[np.ndarray] = None
    # the k asked for; ``k`` can be smaller when detached groups were split off (see
    # ``_split_off_detached``), and re-clustering (say, after a feature switch) asks for this again
    requested_k: Optional[int] = None

    @cached_property
    def member_order(self) -> "MemberOrder":
        """Every image sorted by cluster, then by distance to its centre; sorted once per
        clustering (at 100k images a sort costs ~13 ms, and propagation asks on every slider move)."""
        labels = np.asarray(self.labels, dtype=int)
        order = np.lexsort((self.distances, labels))  # stable: ties keep index order
        sizes = np.bincount(labels, minlength=int(self.k))
        starts = np.concatenate([[0], np.cumsum(sizes)])
        rank = np.empty(len(labels), dtype=np.int64)
        rank[order] = np.arange(len(order)) - starts[labels[order]]
        return MemberOrder(order=order, starts=starts, rank=rank)


@dataclass(frozen=True)
class MemberOrder:
    order: np.ndarray   # (N,) images by (cluster, distance to its centre)
    starts: np.ndarray  # (k+1,) cluster c is order[starts[c]:starts[c + 1]]
    rank: np.ndarray    # (N,) each image's position inside its cluster, 0 = closest to the centre

    @property
    def sizes(self) -> np.ndarray:
        return np.diff(self.starts)

    def members(self, cluster: int) -> np.ndarray:
        """A copy: callers may change it without touching the cached order."""
        return self.order[self.starts[cluster]:self.starts[cluster + 1]].copy()


def _duplicate_map(n: int, duplicate_groups: Optional[Iterable[Sequence[int]]]) -> np.ndarray:
    """Map each image to a canonical id shared by byte-identical copies."""
    canon = np.arange(n)
    for group in duplicate_groups or ():
        group = [int(i) for i in group if 0 <= int(i) < n]
        if group:
            canon[group] = min(group)
    return canon


def typicality(X: np.ndarray, n_neighbors: int = 20) -> np.ndarray:
    """TypiClust typicality: inverse mean distance to the nearest neighbours (higher = denser)."""
    n = len(X)
    kk = int(min(n_neighbors, n - 1))
    if kk < 1:
        return np.ones(n)
    dist, _ = NearestNeighbors(n_neighbors=kk + 1).fit(X).kneighbors(X)
    return 1.0 / (dist[:, 1:].mean(axis=1) + 1e-12)


def choose_representatives(labels: np.ndarray, distances: np.ndarray, k: int, *,
                           score: Optional[np.ndarray] = None,
                           duplicate_groups=None) -> np.ndarray:
    """One distinct image per cluster: the best by ``score`` (default: closest to the centre).

    Byte-identical copies share one canonical id; a content already chosen for another
    cluster is skipped, so the human never labels the same picture twice.
    """
    n = len(labels)
    canon = _duplicate_map(n, duplicate_groups)
    order_key = distances if score is None else -score
    taken: set[int] = set()
    reps = np.full(k, -1, dtype=int)
    for c in range(k):
        members = np.flatnonzero(labels == c)
        if len(members) == 0:
            continue
        for i in members[np.argsort(order_key[members], kind="stable")]:
            if canon[i] not in taken:
                reps[c] = i
                taken.add(int(canon[i]))
                break
        if reps[c] < 0:  # every member duplicates an earlier pick: fall back to the best one
            reps[c] = members[np.argmin(order_key[members])]
    # Empty clusters (rare with k-means++) borrow the farthest not-yet-chosen image.
    for c in np.flatnonzero(reps < 0):
        free = np.setdiff1d(np.arange(n), reps[reps >= 0])
        reps[c] = free[np.argmax(distances[free])] if len(free) else 0
    return reps


# Above this many images the graph embedding (an eigen-decomposition) gets slow; k-means
# then runs on the features themselves.
DIFFUSION_MAX = 20_000
SPACES = ("auto", "diffusion", "features")


def graph_pays(n: int, k: Optional[int]) -> bool:
    """Whether k clusters of n images should be sought in the kNN graph's diffusion embedding
    (else in the features): yes while a cluster would hold more than half as many images as
    one image's graph neighbourhood (n / k > degree / 2).  An empirical line, from end-to-end
    runs at 50 labels (benchmarks/RESULTS.md, "Small folders", stop 27): in 150-image pools
    (n / k = 3, degree 8) the features win, 25 font letters 74.8 -> 80.6 %, 20 letters 86.0 ->
    93.5 %, coloured digits 88.7 -> 90.9 %; in pools of 300-450 (n / k 6-9) the diffusion still
    wins on balanced letters and digits (coloured digits 94.9 against 92.8 at 300, letters
    94.9 against 93.1 at 450), though not on shapes or very unequal classes."""
    return k is None or n / max(int(k), 1) > default_n_neighbors(n) / 2


def clustering_space(X, *, space: str = "auto", k: Optional[int] = None, random_state=0
                     ) -> tuple[np.ndarray, Optional[sp.csr_matrix]]:
    """(the coordinates k-means works in, the kNN graph or None): the graph's diffusion
    embedding, or the features themselves (no graph).

    Measured on digits, letters, textures and noisy coloured digits (see graph.py): clusters
    in the diffusion embedding are much purer than k-means on the raw features, because they
    follow the data's manifold (a class is one connected region, not one sphere) -- when the
    clusters are big enough (``graph_pays``; ``k``: the number of clusters, None = assume so).
    """
    if space not in SPACES:
        raise ValueError(f"space must be one of {SPACES}, got {space!r}")
    X = np.asarray(X, dtype=np.float64)
    n = len(X)
    auto_features = n > DIFFUSION_MAX or not graph_pays(n, k)
    if space == "features" or (space == "auto" and auto_features) or n < 8:
        return X, None
    W = knn_affinity(X)
    return diffusion_embedding(W, random_state=random_state), W


def _detached_components(W: sp.csr_matrix, labels: np.ndarray, representatives: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray]:
    """(connected component of each image inside its cluster, ``detached_groups`` mask)."""
    labels = np.asarray(labels, dtype=int)
    W = sp.csr_matrix(W)
    rows, cols = W.nonzero()
    same = labels[rows] == labels[cols]  # only edges inside a cluster connect its members
    inside = sp.csr_matrix((np.ones(int(same.sum())), (rows[same], cols[same])), shape=W.shape)
    _, component = connected_components(inside, directed=False)
    size = np.bincount(component)
    rep_component = component[np.asarray(representatives, dtype=int)]  # indexed by cluster
    least = default_n_neighbors(len(labels)) // 2 + 1
    return component, (component != rep_component[labels]) & (size[component] >= least)


def detached_groups(W: sp.csr_matrix, labels: np.ndarray, representatives: np.ndarray) -> np.ndarray:
    """Mask of the images in a group of their cluster that the kNN graph ``W`` does not connect,
    through that cluster's own members, to its representative.

    The diffusion embedding can put two groups with no edge between them (letters A and N
    of one font, measured on bigletters) side by side, and k-means then makes them one
    cluster: the representative's label would go to a whole group it has nothing to do with,
    confidently.  Only groups of more than half a neighbourhood (default_n_neighbors / 2)
    count: smaller ones are stray images whose neighbours sit in other clusters, and leaving
    those out was measured to cost a little on texture sets.
    """
    return _detached_components(W, labels, representatives)[1]


# The partition the human's labels are spread over (``PARTITION``):
#   "kmeans"         k-means;
#   "average"        average linkage, medoid centres (``_average_linkage``);
#   "average-start"  k-means started once from average linkage's clusters (``_average_start_kmeans``);
#   "auto"           "average-start" where the pool holds at least AVERAGE_PER_CLUSTER images per
#                    cluster (in the graph's diffusion embedding, at most AVERAGE_MAX images),
#                    "kmeans" elsewhere.
# Measured end to end at 50 labels (benchmarks/RESULTS.md, stops 39 and 40).  Average linkage
# keeps a well-separated class whole, so one answer covers it, and gives the labels it saves to
# small groups that k-means folds into a bigger class's cluster; but it sometimes joins two
# classes in one cluster (the colour textures' astronaut and coffee crops on 6 of 20 seeds).
# k-means started from its clusters splits such joins again.  "auto" met every digits target
# (book2's exported labels 98.4 -> 98.9 %) and a bar set before its runs on the 15 sets it was
# drawn from (20 seeds, no set below -0.10).  Held-out sets made afterwards then lost: MNIST
# digits in a 1050-image pool -0.89 points (20 seeds), shapes -0.58 (8 seeds).  The line at 12
# images per cluster had been drawn after the fact, and it does not carry over, so k-means
# stays the default.  "auto" keeps k-means above AVERAGE_MAX images (a named partition applies
# everywhere, for benchmarks): scipy's linkage holds the GIL throughout and grows as n^2 (a
# ticker thread's longest gap: 73 ms at 2000 images, 224 at 3000, 795 at 5000), which would
# stall the GUI thread while the clustering runs on a worker.
PARTITIONS = ("kmeans", "average", "average-start", "auto")
PARTITION = "kmeans"
AVERAGE_PER_CLUSTER = 12
AVERAGE_MAX = 2000


def partition_method(n: int, k: int, graph: bool) -> str:
    """The partition ``fit_clusters`` makes of ``n`` images into ``k`` clusters (``PARTITION``,
    with "auto" resolved): "kmeans", "average" or "average-start"."""
    if PARTITION not in PARTITIONS:
        raise ValueError(f"PARTITION must be one of {PARTITIONS}, got {PARTITION!r}")
    if PARTITION != "auto":
        return PARTITION
    return "average-start" if graph and n <= AVERAGE_MAX and n / max(int(k), 1) >= AVERAGE_PER_CLUSTER \
        else "kmeans"


def _average_linkage(Z: np.ndarray, k: int, random_state=None) -> tuple[np.ndarray, np.ndarray]:
    """(cluster per row, medoids): agglomerative clustering, average linkage.

    The centres are medoids, not means.  Unlike k-means', an average-linkage cluster can be two
    groups joined, and its mean then falls between them, where only strays sit: on MNIST 2000
    the member closest to a cluster's mean was one of its 2 nines among 112 zeros, and the
    whole cluster was labelled 9.  The medoid lies in the larger group."""
    labels = _average_linkage_labels(Z, k)
    return labels, _medoids(Z, labels, k)


def _average_linkage_labels(Z: np.ndarray, k: int) -> np.ndarray:
    """Cluster per row: agglomerative clustering, average linkage, cut at k clusters."""
    return AgglomerativeClustering(n_clusters=k, linkage="average").fit_predict(Z).astype(int)


def _medoids(Z: np.ndarray, labels: np.ndarray, k: int, chunk: int = 512) -> np.ndarray:
    """Each cluster's medoid (the member with the least summed distance to the others)."""
    centres = np.zeros((k, Z.shape[1]))
    for c in range(k):
        members = Z[labels == c]
        if len(members) == 0:
            continue
        sq = np.einsum("ij,ij->i", members, members)
        total = np.empty(len(members))
        for start in range(0, len(members), chunk):  # bounded memory for big clusters
            block = members[start:start + chunk]
            d2 = sq[start:start + chunk, None] + sq[None, :] - 2.0 * block @ members.T
            total[start:start + chunk] = np.sqrt(np.maximum(d2, 0.0)).sum(axis=1)
        centres[c] = members[np.argmin(total)]
    return centres


def _average_start_kmeans(Z: np.ndarray, k: int, random_state) -> tuple[np.ndarray, np.ndarray]:
    """(cluster per row, centres): k-means started once from average linkage's clusters (their
    means as the initial centres), so its balanced clusters take average linkage's places."""
    labels = _average_linkage_labels(Z, k)
    km = KMeans(n_clusters=k, init=_means(Z, labels, k), n_init=1, random_state=random_state).fit(Z)
    return km.labels_.astype(int), km.cluster_centers_


def _kmeans(Z: np.ndarray, k: int, random_state) -> tuple[np.ndarray, np.ndarray]:
    """(cluster per row, centres)."""
    if len(Z) > MINIBATCH_ABOVE:
        km = MiniBatchKMeans(n_clusters=k, n_init=3, batch_size=4096, random_state=random_state)
    else:
        km = KMeans(n_clusters=k, n_init=4, random_state=random_state)
    km.fit(Z)
    return km.labels_.astype(int), km.cluster_centers_


def _means(Z: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Each cluster's mean: what k-means converges to, and the centre of a group split off."""
    sums = np.zeros((k, Z.shape[1]))
    np.add.at(sums, labels, Z)
    return sums / np.maximum(np.bincount(labels, minlength=k), 1)[:, None]


def _split_off_detached(Z, W, labels, centers, choose, random_state, partition=None, centres=None
                        ) -> tuple[np.ndarray, np.ndarray]:
    """(labels, centres) in which each sizeable detached group has a cluster, and so a
    representative, of its own, with as many clusters in all as before when the data allow.

    A detached group is a region no human label reaches: on bigletters a whole letter (all 60
    of its images) sat in another letter's cluster on 3 of 8 seeds, so it was never asked and
    never predicted.  (That came mostly from an embedding that missed pieces of the graph,
    fixed in ``graph.diffusion_embedding``; this stays as a safety net.)  k-means is re-run
    with one cluster fewer per group found, and up to that many of the largest groups of the
    new run become clusters.  When the re-run leaves fewer
    groups than that, it is tried (at most three runs in all) with one fewer cluster per group
    it did leave, so the annotator is asked the k questions of the budget where possible.
    ``partition`` (default ``_kmeans``) makes the re-runs and ``centres`` (default ``_means``)
    their centres.
    """
    partition = partition or _kmeans
    centres = centres or _means
    k = len(centers)
    component, detached = _detached_components(W, labels, choose(labels, centers))
    wanted = len(np.unique(component[detached]))
    if wanted == 0 or k - wanted < max(1, k // 2):
        return labels, centers
    best, tried = None, set()
    while 0 < wanted and wanted not in tried and len(tried) < 3:
        tried.add(wanted)
        run, run_centers = partition(Z, k - wanted, random_state)
        component, detached = _detached_components(W, run, choose(run, run_centers))
        groups, sizes = np.unique(component[detached], return_counts=True)
        largest = groups[np.argsort(-sizes, kind="stable")][:wanted]
        for j, group in enumerate(largest):
            run[component == group] = k - wanted + j
        total = k - wanted + len(largest)
        if best is None or total > best[1]:
            best = (run, total)
        if total == k:
            break
        wanted = len(groups)
    run, total = best
    return run, centres(Z, run, total)


def _partition_maker(method: str):
    """(make the partition, its centres, what the progress says) for a ``partition_method``
    result; looked up per call, so a benchmark can swap one of these functions."""
    return {"kmeans": (_kmeans, _means, "k-means"),
            "average": (_average_linkage, _medoids, "average linkage"),
            "average-start": (_average_start_kmeans, _means, "k-means from average linkage")}[method]


def fit_clusters(X, k: int, *, representative: str = "closest", random_state=0,
                 duplicate_groups=None, space: str = "auto", split_detached: bool = True,
                 progress: Optional[ProgressCallback] = None,
                 cancel: Optional[CancelToken] = None) -> Clustering:
    """k clusters (``partition_method``: k-means, MiniBatchKMeans above MINIBATCH_ABOVE images,
    or one of the average-linkage partitions) plus one representative per cluster.

    ``space="auto"`` clusters in the kNN-graph diffusion embedding up to DIFFUSION_MAX images,
    on the features above; ``centers`` and ``distances`` are in that space.  Closest-to-centre
    representatives are the default: a "most typical" (densest) pick was measured to sit
    sometimes in a dense pocket of the wrong class and mislabel a whole cluster.  With a
    graph, a sizeable group it does not connect to its cluster's representative gets a
    cluster of its own (``split_detached``; see ``_split_off_detached``), so it is asked.
    """
    if representative not in REPRESENTATIVES:
        raise ValueError(f"representative must be one of {REPRESENTATIVES}, got {representative!r}")
    X = np.asarray(X, dtype=np.float64)
    n = len(X)
    k = int(max(1, min(k, n)))
    check(cancel)
    report(progress, 0, 4, "clustering space")
    with blas_threads(1):
        Z, W = clustering_space(X, space=space, k=k, random_state=random_state)
        check(cancel)
        requested_k = k
        partition, centres, what = _partition_maker(partition_method(n, k, graph=W is not None))
        report(progress, 1, 4, f"{what} with k={k}")
        labels, centers = partition(Z, k, random_state)
        score = typicality(Z) if representative == "typical" else None

        def choose(labels, centers):
            distances = np.linalg.norm(Z - centers[labels], axis=1)
            return choose_representatives(labels, distances, len(centers), score=score,
                                          duplicate_groups=duplicate_groups)
        check(cancel)
        report(progress, 2, 4, "detached groups")
        if W is not None and split_detached:
            labels, centers = _split_off_detached(Z, W, labels, centers, choose, random_state, partition, centres)
        check(cancel)
        report(progress, 3, 4, "representatives")
        k = len(centers)
        distances = np.linalg.norm(Z - centers[labels], axis=1)
        reps = choose(labels, centers)
        detached = None if W is None else detached_groups(W, labels, reps)
    result = Clustering(labels=labels, distances=distances, representatives=reps, centers=centers, k=k,
                        detached=detached, requested_k=requested_k)
    result.member_order  # sorted here, on the worker, not on the first slider move
    report(progress, 4, 4, "done")
    return result


@dataclass(frozen=True)
class KSelection:
    ks: np.ndarray
    inertias: np.ndarray
    silhouettes: np.ndarray


def k_selection(X, ks, *, sample_size: int = 3000, random_state=0,
                progress: Optional[ProgressCallback] = None,
                cancel: Optional[CancelToken] = None) -> KSelection:
    """Inertia (elbow) and mean silhouette for each k, computed on a sample when X is large."""
    X = np.asarray(X, dtype=np.float64)
    Xs = X[sample_indices(len(X), sample_size, random_state)]
    ks = np.array([int(k) for k in ks if 2 <= int(k) < len(Xs)], dtype=int)
    inertias, sils = np.zeros(len(ks)), np.zeros(len(ks))
    with blas_threads(1):
        for j, k in enumerate(ks):
            check(cancel)
            report(progress, j, len(ks), f"k={k}")
            km = KMeans(n_clusters=int(k), n_init=2, random_state=random_state).fit(Xs)
            inertias[j] = km.inertia_
            sils[j] = silhouette_score(Xs, km.labels_)
    report(progress, len(ks), len(ks), "done")
    return KSelection(ks=ks, inertias=inertias, silhouettes=sils)


def silhouette_diagram(X, labels, *, sample_size: int = 3000, random_state=0):
    """(sample indices, per-sample silhouette) for a silhouette diagram of a clustering."""
    X = np.asarray(X, dtype=np.float64)
    labels = np.asarray(labels)
    idx = sample_indices(len(X), sample_size, random_state)
    if len(np.unique(labels[idx])) < 2:
        return idx, np.zeros(len(idx))
    with blas_threads(1):
        return idx, silhouette_samples(X[idx], labels[idx])


def suggest_k(n_images: int, budget: Optional[int] = None) -> int:
    """Number of clusters: one per label the human is willing to give up front.

    Without a budget: about 3 % of the images (Géron uses k=50 for 1,400 digits), in [2, 200].
    """
    if budget is not None:
        return int(max(1, min(budget, n_images)))
    return int(max(2, min(200, round(0.03 * n_images), n_images)))


# t-SNE is O(N log N) but slow in practice; above this many images we embed a sample
# and place the rest at the position of their nearest sampled neighbour.
TSNE_MAX = 5000


def map_2d(X, *, method: str = "pca", random_state=0,
           progress: Optional[ProgressCallback] = None,
           cancel: Optional[CancelToken] = None) -> np.ndarray:
    """(N, 2) coordinates for a scatter plot: "pca" or "tsne" (t-SNE on at most TSNE_MAX images)."""
    X = np.asarray(X, dtype=np.float64)
    n = len(X)
    check(cancel)
    report(progress, 0, 2, method)
    if n < 3:
        return np.zeros((n, 2)) if X.shape[1] < 2 else X[:, :2].copy()
    with blas_threads(1):
        if method == "pca":
            out = PCA(n_components=2, random_state=random_state).fit_transform(X)
        elif method == "tsne":
            from sklearn.manifold import TSNE
            idx = sample_indices(n, TSNE_MAX, random_state)
            Xp = PCA(n_components=min(50, X.shape[1], len(idx)), random_state=random_state).fit_transform(X[idx]) \
                if X.shape[1] > 50 else X[idx]
            perplexity = float(min(30, max(2, (len(idx) - 1) / 3)))
            emb = TSNE(n_components=2, perplexity=perplexity, init="pca",
                       random_state=random_state).fit_transform(Xp)
            if len(idx) == n:
                out = emb
            else:
                nn = NearestNeighbors(n_neighbors=1).fit(X[idx])
                out = emb[nn.kneighbors(X, return_distance=False)[:, 0]]
        else:
            raise ValueError(f"method must be 'pca' or 'tsne', got {method!r}")
    report(progress, 2, 2, "done")
    return np.asarray(out, dtype=np.float64)
