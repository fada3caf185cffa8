import numpy as np
import pytest
from sklearn.datasets import make_blobs

from labeler.active import near_duplicates_of, select_batch, uncertainty


def test_uncertainty_orders():
    p = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.4, 0.3, 0.3]])
    for s in ("least_confidence", "margin", "entropy"):
        u = uncertainty(p, s)
        assert u[0] < u[1] and u[0] < u[2]
    assert uncertainty(p, "margin")[1] == pytest.approx(1.0)
    with pytest.raises(ValueError):
        uncertainty(p, "nope")


def test_batch_excludes_labelled_and_duplicates():
    X, _ = make_blobs(n_samples=200, centers=4, random_state=0)
    X = np.vstack([X, np.repeat(X[:1], 20, axis=0)])     # 20 copies of image 0
    scores = np.zeros(len(X))
    scores[200:] = 10.0                                  # the copies look most uncertain
    picks = select_batch(X, scores, 10, exclude=[0], random_state=0)
    assert len(picks) == 10 and len(set(picks)) == 10
    assert 0 not in picks
    assert not np.any(np.isin(picks, np.arange(200, 220)))   # copies of a labelled image


def test_batch_is_diverse():
    X, _ = make_blobs(n_samples=300, centers=5, random_state=0)
    # uncertain scores concentrated on one tight clump
    scores = -np.linalg.norm(X - X[0], axis=1)
    picks = select_batch(X, scores, 8, random_state=0)
    top8 = np.argsort(-scores)[:8]
    spread = lambda idx: np.mean([np.linalg.norm(X[i] - X[j]) for i in idx for j in idx if i < j])
    assert spread(picks) > spread(top8)
    assert len(np.unique(X[picks], axis=0)) == len(picks)


def test_batch_reproducible_and_small_pool():
    X, _ = make_blobs(n_samples=50, centers=2, random_state=0)
    s = np.random.default_rng(0).random(50)
    assert np.array_equal(select_batch(X, s, 5, random_state=1), select_batch(X, s, 5, random_state=1))
    assert len(select_batch(X, s, 10, exclude=range(45))) == 5
    assert len(select_batch(X, s, 10, exclude=range(50))) == 0


def test_near_duplicates():
    X = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [5.0, 5.0]])
    m = near_duplicates_of(X, np.array([1, 2, 3]), np.array([0]))
    assert list(m) == [True, False, False]
