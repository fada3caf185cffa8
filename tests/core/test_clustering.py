import numpy as np
import pytest
from sklearn.datasets import make_blobs

from labeler.clustering import (Clustering, fit_clusters, k_selection, map_2d, silhouette_diagram,
                                suggest_k)
from labeler.types import CancelToken, Cancelled


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=300, centers=4, cluster_std=0.6, random_state=1)
    return X, y


def test_shapes_and_consistency(blobs):
    X, _ = blobs
    c = fit_clusters(X, k=6, random_state=0)
    assert isinstance(c, Clustering) and c.k == 6
    assert c.labels.shape == (300,) and c.distances.shape == (300,)
    assert c.representatives.shape == (6,) and len(set(c.representatives)) == 6
    assert c.labels.min() >= 0 and c.labels.max() < 6
    # each representative belongs to its own cluster
    assert np.all(c.labels[c.representatives] == np.arange(6))
    assert np.all(c.distances >= 0)


@pytest.mark.parametrize("rep", ["closest", "typical"])
def test_reproducible(blobs, rep):
    X, _ = blobs
    a = fit_clusters(X, k=5, representative=rep, random_state=3)
    b = fit_clusters(X, k=5, representative=rep, random_state=3)
    assert np.array_equal(a.labels, b.labels)
    assert np.array_equal(a.representatives, b.representatives)


def test_closest_representative_is_most_central(blobs):
    X, _ = blobs
    c = fit_clusters(X, k=4, representative="closest", random_state=0)
    for j in range(4):
        members = np.flatnonzero(c.labels == j)
        assert c.distances[c.representatives[j]] == c.distances[members].min()


def test_distinct_representatives_with_duplicates():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(40, 3))
    # 30 exact copies of one point, spread through a big cluster
    X = np.vstack([base, np.repeat(base[:1], 30, axis=0)])
    dup = [[0] + list(range(40, 70))]
    c = fit_clusters(X, k=8, random_state=0, duplicate_groups=dup)
    canon = [0 if r in dup[0] else r for r in c.representatives]
    assert len(set(canon)) == len(canon)


def test_cancellation(blobs):
    X, _ = blobs
    tok = CancelToken()
    tok.cancel()
    with pytest.raises(Cancelled):
        fit_clusters(X, k=3, cancel=tok)
    with pytest.raises(Cancelled):
        k_selection(X, [2, 3], cancel=tok)


def test_progress_reported(blobs):
    X, _ = blobs
    seen = []
    fit_clusters(X, k=3, progress=seen.append)
    assert seen and seen[-1].done == seen[-1].total


def test_k_selection_and_silhouette(blobs):
    X, y = blobs
    ks = k_selection(X, [2, 3, 4, 5, 6], random_state=0)
    assert len(ks.ks) == len(ks.inertias) == len(ks.silhouettes) == 5
    assert np.all(np.diff(ks.inertias) < 0)
    assert ks.ks[np.argmax(ks.silhouettes)] == 4
    idx, s = silhouette_diagram(X, y, sample_size=100)
    assert len(idx) == len(s) == 100 and np.all((s >= -1) & (s <= 1))


def test_suggest_k():
    assert suggest_k(1400, budget=50) == 50
    assert suggest_k(20, budget=50) == 20
    assert 2 <= suggest_k(1400) <= 200


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_map_2d(blobs, method):
    X, _ = blobs
    m = map_2d(X[:120], method=method, random_state=0)
    assert m.shape == (120, 2) and np.all(np.isfinite(m))


def test_self_neighbors_is_cached_and_matches_sklearn():
    from sklearn.neighbors import NearestNeighbors
    from labeler import graph
    X = np.random.default_rng(3).normal(size=(200, 5))
    d5, i5 = graph.self_neighbors(X, 5)
    d_ref, i_ref = NearestNeighbors(n_neighbors=6).fit(X).kneighbors(X)
    np.testing.assert_allclose(d5, d_ref)
    assert (i5 == i_ref).all()
    d2, i2 = graph.self_neighbors(X, 2)            # served from the k=5 answer
    assert (i2 == i_ref[:, :3]).all()
    Y = X.copy()
    Y[0, 0] += 10                                   # different data is never served from the cache
    assert not np.allclose(graph.self_neighbors(Y, 5)[0], d5)


def test_a_graph_in_many_pieces_embeds_each_piece_apart_and_the_same_every_time():
    """24 far-apart blobs make a kNN graph in 24 pieces: eigenvalue 1 repeated 24 times, which a
    Lanczos solver finds only partly.  The embedding must give every piece its own direction
    (k-means with k = 24 recovers the pieces exactly) and be identical from call to call."""
    from scipy.sparse.csgraph import connected_components
    from labeler.graph import diffusion_embedding, knn_affinity
    centres = np.array([(30.0 * i, 30.0 * j) for i in range(6) for j in range(4)])
    X, blob = make_blobs(n_samples=24 * 30, centers=centres, cluster_std=1.0, random_state=0)
    W = knn_affinity(X)
    pieces, piece = connected_components(W, directed=False)
    assert pieces == 24
    first, second = diffusion_embedding(W, random_state=3), diffusion_embedding(W, random_state=3)
    assert np.array_equal(first, second)
    means = np.array([first[piece == p].mean(0) for p in range(pieces)])
    nearest_mean = np.linalg.norm(first[:, None, :] - means[None], axis=2).argmin(axis=1)
    assert np.array_equal(nearest_mean, piece)  # every image sits nearest its own piece
    fit = fit_clusters(X, 24, random_state=0)
    assert all(len(set(fit.labels[blob == b])) == 1 for b in range(24))


def test_small_clusters_are_found_in_the_features_not_the_graph():
    """k clusters no bigger than half a graph neighbourhood: k-means runs on the features
    (measured on small folders, RESULTS.md "Small folders"); bigger clusters keep the graph."""
    from labeler.clustering import clustering_space, graph_pays
    from labeler.graph import default_n_neighbors

    X, _ = make_blobs(n_samples=150, centers=25, cluster_std=0.5, random_state=2)
    degree = default_n_neighbors(150)
    edge = -(-150 * 2 // degree)  # the fewest clusters that hold no more than half a neighbourhood
    assert not graph_pays(150, edge) and graph_pays(150, edge - 1) and graph_pays(150, None)
    Z, W = clustering_space(X, k=50)
    assert W is None and np.array_equal(Z, X)
    Z, W = clustering_space(X, k=5)
    assert W is not None and Z.shape[0] == 150 and not np.array_equal(Z, X)
    auto, features = fit_clusters(X, 50, random_state=0), fit_clusters(X, 50, random_state=0, space="features")
    assert np.array_equal(auto.labels, features.labels) and auto.detached is None
    assert fit_clusters(X, 5, random_state=0).detached is not None
