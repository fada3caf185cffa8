"""The default labeling pipeline: one active-learning round, and the export rule.

The session, the app and ``simulate`` call only ``run_round`` and ``final_labels``; every
default decision of the semi-supervised loop lives here so it can be read in one place.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

from .active import QUERY_STRATEGIES, CalibratedSVM, _softmax, fit_temperature, select_batch, uncertainty
from .graph import knn_affinity, spread
from .propagation import Propagation, self_train
from .types import CancelToken, ProgressCallback, check, report

STRATEGIES = ("auto",) + QUERY_STRATEGIES


@dataclass
class RoundResult:
    classes: list[str]
    predicted: np.ndarray          # (N,) object array: model's label for every image
    confidence: np.ndarray         # (N,) probability of `predicted`
    picks: np.ndarray              # (B,) images to ask next
    estimated_accuracy: Optional[float]
    n_labels_used: int
    stop_suggested: bool
    stop_reason: str
    model: object = field(repr=False, default=None)


class PoolModel:
    """What run_round trained, usable on new images: predict / predict_proba / classes_ (str labels)."""

    def __init__(self, estimator: CalibratedSVM, classes: np.ndarray):
        self.estimator_ = estimator
        self.classes_ = np.asarray(classes, dtype=object)

    def predict_proba(self, X) -> np.ndarray:
        return self.estimator_.predict_proba(X)

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.estimator_.predict(X)]


def _stop_signal(n_used: int, est: Optional[float], history: Sequence) -> tuple[bool, str]:
    if est is None:
        return False, "not enough labels to estimate accuracy"
    if est >= 0.99:
        return True, f"estimated label accuracy {est:.1%} >= 99%"
    past = [(int(n), float(a)) for n, a in history if a is not None]
    if len(past) >= 2 and est - past[-2][1] < 0.005:
        return True, "estimated accuracy gained < 0.5 points over the last two rounds"
    return False, ""


def run_round(X, human_idx, human_labels, *, propagated_idx=(), propagated_labels=(),
              propagated_confidence=(), batch_size: int = 10, strategy: str = "auto",
              history=(), random_state=0, progress: Optional[ProgressCallback] = None,
              cancel: Optional[CancelToken] = None) -> RoundResult:
    """Train on the human (and propagated) labels, label every image, pick the next batch."""
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    X = np.asarray(X, dtype=np.float64)
    n = len(X)
    h_idx = np.asarray(human_idx, dtype=int)
    h_lab = np.asarray(human_labels, dtype=object).astype(str)
    p_idx = np.asarray(propagated_idx, dtype=int)
    p_lab = np.asarray(propagated_labels, dtype=object).astype(str)
    p_conf = np.asarray(propagated_confidence, dtype=float)
    if len(p_conf) != len(p_idx):
        p_conf = np.ones(len(p_idx))
    keep = ~np.isin(p_idx, h_idx)  # a human label always wins
    p_idx, p_lab, p_conf = p_idx[keep], p_lab[keep], p_conf[keep]
    classes = np.unique(np.concatenate([h_lab, p_lab]))
    n_classes = len(classes)
    check(cancel)
    report(progress, 0, 4, "graph")
    h_cls = np.searchsorted(classes, h_lab)

    # 1. Spread human + propagated labels over the kNN graph: a first label for every image.
    W = knn_affinity(X)
    seed_idx = np.concatenate([h_idx, p_idx])
    seed_cls = np.searchsorted(classes, np.concatenate([h_lab, p_lab]))
    seed_w = np.concatenate([np.ones(len(h_idx)), p_conf])
    F = spread(W, seed_idx, seed_cls, max(n_classes, 1), seed_weight=seed_w)
    y_pool = F.argmax(axis=1)
    # a propagated label stands until self-training finds evidence against it
    y_pool[p_idx] = np.searchsorted(classes, p_lab)
    y_pool[h_idx] = h_cls
    check(cancel)
    report(progress, 1, 4, "self-training")

    # 2. Cross-fitted self-training with an RBF SVM: each image is relabelled by a model
    #    that never saw its current label; human labels are fixed and always trained on.
    y_pool, scores, y_prev = self_train(X, y_pool, h_idx, n_classes, random_state=random_state,
                                        cancel=cancel)
    free = np.ones(n, dtype=bool)
    free[h_idx] = False
    # Temperature scaling on the held-out scores: the probabilities mean what they say on
    # data the model did not train on.
    T = fit_temperature(scores[free], y_prev[free])
    proba = _softmax(scores / T)
    proba[h_idx] = 0.0
    proba[h_idx, h_cls] = 1.0
    predicted = classes[proba.argmax(axis=1)].astype(object)
    confidence = proba.max(axis=1)
    est = CalibratedSVM(n_classes, temperature=T, random_state=random_state).fit(X, y_pool)
    model = PoolModel(est, classes)
    check(cancel)
    report(progress, 2, 4, "picks")

    # 3. the next batch
    strat = "margin" if strategy == "auto" else strategy
    picks = select_batch(X, uncertainty(proba, strat), batch_size, exclude=h_idx,
                         random_state=random_state)
    est_acc = float(confidence.mean()) if len(h_idx) >= 2 else None
    stop, reason = _stop_signal(len(h_idx), est_acc, history)
    report(progress, 4, 4, "done")
    return RoundResult(classes=[str(c) for c in classes], predicted=predicted, confidence=confidence,
                       picks=picks, estimated_accuracy=est_acc, n_labels_used=int(len(h_idx)),
                       stop_suggested=stop, stop_reason=reason, model=model)


def final_labels(n_images: int, human_idx, human_labels, propagated: Optional[Propagation],
                 round_result: Optional[RoundResult]):
    """The export rule.

    1. A human label always wins, with confidence 1.0.
    2. Otherwise, if a round has been run, its prediction: run_round already used the
       propagated labels as (weighted) evidence together with the graph and the classifier,
       so it supersedes them.  Where it agrees with a propagated label the source stays
       "propagated" (that is how the label first came about) with the round's confidence.
    3. Without a round, the propagated label and its confidence.
    Returns (labels, source, confidence); unlabeled images have None / None / 0.0.
    """
    labels = np.full(n_images, None, dtype=object)
    source = np.full(n_images, None, dtype=object)
    conf = np.zeros(n_images)
    prop_lab = np.full(n_images, None, dtype=object)
    if propagated is not None and len(propagated.idx):
        prop_lab[propagated.idx] = propagated.labels
        if round_result is None:
            labels[propagated.idx] = propagated.labels
            source[propagated.idx] = "propagated"
            conf[propagated.idx] = propagated.confidence
    if round_result is not None:
        labels[:] = round_result.predicted
        conf[:] = round_result.confidence
        agree = np.array([p is not None and p == q for p, q in zip(prop_lab, labels)], dtype=bool)
        source[:] = "predicted"
        source[agree] = "propagated"
    h_idx = np.asarray(human_idx, dtype=int)
    labels[h_idx] = np.asarray(human_labels, dtype=object)
    source[h_idx] = "human"
    conf[h_idx] = 1.0
    return labels, source, conf
