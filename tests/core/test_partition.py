"""The partition the labels are spread over: average linkage with medoids, or k-means."""
import numpy as np
import pytest

from labeler import clustering
from labeler.clustering import (_average_linkage, _average_start_kmeans, _means, _medoids, fit_clusters,
                                partition_method)


def _two_groups_with_stray(seed=0):
    """One cluster made of two separate groups (100 and 20 images) and a stray image of another
    class between them, where the cluster's mean falls."""
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 0.5, (100, 6))
    b = rng.normal(0, 0.5, (20, 6)) + 10 * np.eye(6)[0]
    Z = np.vstack([a, b])
    return np.vstack([Z, Z.mean(axis=0)])


def test_medoid_is_a_member_with_least_summed_distance():
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(40, 3))
    labels = np.r_[np.zeros(25, int), np.ones(15, int)]
    centres = _medoids(Z, labels, 2, chunk=7)  # chunks smaller than a cluster
    for c in range(2):
        members = Z[labels == c]
        total = np.linalg.norm(members[:, None] - members[None], axis=2).sum(axis=1)
        np.testing.assert_allclose(centres[c], members[np.argmin(total)])


def test_a_cluster_of_two_groups_is_represented_from_the_larger_not_by_the_stray_at_its_mean():
    Z = _two_groups_with_stray()
    labels = np.zeros(len(Z), int)
    stray = len(Z) - 1
    # the mean falls between the groups: the member closest to it is the stray
    assert np.argmin(np.linalg.norm(Z - _means(Z, labels, 1)[0], axis=1)) == stray
    medoid = np.argmin(np.linalg.norm(Z - _medoids(Z, labels, 1)[0], axis=1))
    assert medoid < 100  # a member of the larger group


def _big_disc_and_small_groups(seed=0):
    """A disc of 600 images (no tail of outliers) and ten groups of 30 around it."""
    rng = np.random.default_rng(seed)
    radius, angle = 5 * np.sqrt(rng.uniform(0, 1, 600)), rng.uniform(0, 2 * np.pi, 600)
    big = np.c_[radius * np.cos(angle), radius * np.sin(angle)]
    small = [rng.uniform(-0.5, 0.5, (30, 2)) + [12 * np.cos(a), 12 * np.sin(a)]
             for a in np.linspace(0, 2 * np.pi, 10, endpoint=False)]
    return np.vstack([big] + small), np.repeat(np.arange(11), [600] + [30] * 10)


@pytest.mark.parametrize("partition", [_average_linkage, _average_start_kmeans])
def test_average_linkage_keeps_a_big_separated_group_whole_where_kmeans_cuts_it(partition):
    Z, truth = _big_disc_and_small_groups()
    labels, centres = partition(Z, 11, 0)
    assert len(np.unique(labels[:600])) == 1  # the big group is one cluster...
    for g in range(1, 11):  # ...and each small one has a cluster of its own
        assert len(np.unique(labels[truth == g])) == 1
    assert len(np.unique(labels)) == 11
    km_labels, _ = clustering._kmeans(Z, 11, random_state=0)
    assert len(np.unique(km_labels[:600])) > 1  # k-means spends several clusters on it


def test_kmeans_is_the_default_partition():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(600, 5))
    assert clustering.PARTITION == "kmeans"
    assert partition_method(len(X), 10, graph=True) == "kmeans"
    seen = []
    fit_clusters(X, 10, random_state=0, progress=lambda p: seen.append(p.message))
    assert "k-means with k=10" in seen


def test_auto_starts_kmeans_from_average_linkage_only_with_twelve_images_per_cluster(monkeypatch):
    monkeypatch.setattr(clustering, "PARTITION", "auto")
    rng = np.random.default_rng(3)
    X = rng.normal(size=(600, 5))
    seen = []
    fit_clusters(X, 50, random_state=0, progress=lambda p: seen.append(p.message))
    assert "k-means from average linkage with k=50" in seen
    seen.clear()
    fit_clusters(X[:599], 50, random_state=0, progress=lambda p: seen.append(p.message))
    assert "k-means with k=50" in seen


def test_auto_is_average_start_with_a_graph_twelve_images_per_cluster_and_at_most_average_max(monkeypatch):
    monkeypatch.setattr(clustering, "PARTITION", "auto")
    assert partition_method(600, 50, graph=True) == "average-start"
    assert partition_method(599, 50, graph=True) == "kmeans"  # 11.98 per cluster
    assert partition_method(600, 50, graph=False) == "kmeans"
    assert partition_method(clustering.AVERAGE_MAX + 1, 50, graph=True) == "kmeans"


@pytest.mark.parametrize("partition", ["kmeans", "average", "average-start"])
def test_a_named_partition_applies_everywhere(monkeypatch, partition):
    monkeypatch.setattr(clustering, "PARTITION", partition)
    assert partition_method(100, 50, graph=False) == partition
    assert partition_method(1000, 10, graph=True) == partition


@pytest.mark.parametrize("partition, message", [("kmeans", "k-means with k=10"),
                                                ("average", "average linkage with k=10"),
                                                ("average-start", "k-means from average linkage with k=10")])
def test_fit_clusters_says_which_partition_it_makes(monkeypatch, partition, message):
    monkeypatch.setattr(clustering, "PARTITION", partition)
    rng = np.random.default_rng(3)
    X = np.vstack([rng.normal(0, 0.5, (80, 5)) + 6 * np.eye(5)[i % 5] * (1 + i // 5) for i in range(10)])
    seen = []
    fit = fit_clusters(X, 10, random_state=0, progress=lambda p: seen.append(p.message))
    assert message in seen
    assert fit.k == 10 and len(np.unique(fit.labels)) == 10
    for c in range(fit.k):
        assert fit.representatives[c] in np.flatnonzero(fit.labels == c)


def test_fit_clusters_by_average_linkage_asks_each_clusters_medoid(monkeypatch):
    monkeypatch.setattr(clustering, "PARTITION", "average")
    rng = np.random.default_rng(3)
    X = np.vstack([rng.normal(0, 0.5, (80, 5)) + 6 * np.eye(5)[i % 5] * (1 + i // 5) for i in range(10)])
    fit = fit_clusters(X, 10, random_state=0)
    for c in range(fit.k):
        assert fit.distances[fit.representatives[c]] == pytest.approx(0.0, abs=1e-9)  # the medoid itself
    again = fit_clusters(X, 10, random_state=5)  # the same images asked (the numbering may differ)
    np.testing.assert_array_equal(np.sort(again.representatives), np.sort(fit.representatives))


def test_an_unknown_partition_is_refused(monkeypatch):
    monkeypatch.setattr(clustering, "PARTITION", "ward")
    with pytest.raises(ValueError, match="PARTITION"):
        partition_method(1000, 10, graph=True)
