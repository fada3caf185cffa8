"""The default labeling pipeline: one active-learning round, and the export rule.

The session, the app and ``simulate`` call only ``run_round`` and ``final_labels``; every
default decision of the semi-supervised loop lives here so it can be read in one place.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import numpy as np

from .active import (QUERY_STRATEGIES, CalibratedSVM, _softmax, fit_temperature, random_batch, select_batch,
                     uncertainty)
from .events import HUMAN, PREDICTED, PROPAGATED, LabelVocabulary, source_names
from .graph import KnnVote, knn_affinity, smooth, spread
from .propagation import MAX_SVM_TRAIN, Propagation, capped_sample, self_train
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
    estimates: dict = field(default_factory=dict)  # the candidate accuracy estimates, by name
    pick_agreement: list = field(default_factory=list)  # (agreed, answered) per answered uncertainty batch
    audit_agreement: list = field(default_factory=list)  # [(agreed, answered)]: the audit re-scored (see audit)


# --- defaults, each measured (benchmarks/_scratch, 3 seeds, 50 labels; digits book3/book2 on
# raw pixels, and PNG sets through labeler.features "auto": rendered letters, texture crops,
# random shapes, lfw faces) ---------------------------------------------------------------------
# (the image-set numbers below predate the GeM block-14 cnn embedding; RESULTS.md has current ones)
# Held-out SVM probabilities of the pool are smoothed over the kNN graph, F = (1-a)(I-aS)^-1 P,
# before they become labels.  a=0.5: exported labels as good or better everywhere and the
# confidences become informative (wrong labels ~0.6-0.8 instead of 0.99 like right ones);
# a=0.8 makes them too humble for the accuracy estimate.
SMOOTH_ALPHA = 0.5
# A new image's probability = (1-w) SVM(pool labels) + w kNN vote of the pool's smoothed
# label distributions.  w=0.75: digits book3 93.6 -> 95.2 %, book2 98.2 -> 98.7 %, letters
# 91.5 -> 91.7 %, textures 98.8 -> 97.5 % (the price), shapes/faces unchanged (w=0.5: 94.2 / 98.5 /
# 92.0 / 98.4).  The SVM's probabilities are sharper than the vote's, so w must be above 0.5
# for the vote to count.  A data-driven choice (whichever of 5-fold SVM / leave-one-out kNN
# reproduces the pool's labels better, ``_knn_weight``, enabled by TEST_KNN_WEIGHT < 0) was
# measured and rejected: the labels come from the SVM, so the SVM always "wins", digits included.
TEST_KNN_WEIGHT = 0.75
KNN_WEIGHT_SVM_WINS = 0.0
KNN_WEIGHT_KNN_WINS = 0.8
# Weight of a propagated (cluster) label as a graph seed, relative to a human label; below 1
# the cluster label also stops being the self-training start.  Measured: 0.3 -> letters
# 86 % labels (vs 92), 0 -> 64 %: the clusters carry most of the information.
PROPAGATED_WEIGHT = 1.0
# Self-training folds by "propagation group" (nearest human with the same label) instead of at
# random, so an impure cluster's label cannot vouch for itself.  Measured: shapes 86 -> 90 %,
# but letters 92 -> 84 % and digits 98.5 -> 96 % labels (classes with few clusters lose their
# only evidence).  Off.
GROUP_FOLDS = False
SELF_TRAIN_FOLDS = 5
# The app's label-accuracy estimate (no ground truth).  "heldout": mean probability the
# cross-fitted SVM gives the exported label; "smoothed": mean exported confidence (graph
# mixing makes it humble); "mid", their mean.  "mid" was chosen while "heldout" read +0.5..+7
# points on the earlier feature spaces.  Re-measured after the figure space (|estimate - truth|,
# mean over seeds; digits 20 seeds, sets 3; at 50 labels, then after 5 rounds of 10):
#   digits book3   mid 0.81 -> 0.82   heldout 0.68 -> 0.31
#   digits book2   mid 1.11 -> 1.17   heldout 0.64 -> 0.28
#   cdigits32 2.56 / 0.35, noisy cdigits 1.99 / 1.77, cdigits64 0.88 / 1.00, letters 0.57 / 0.22,
#   textures 1.62 / 0.95, faces 0.44 / 0.64, colour textures 1.00 / 1.17 (mid / heldout at 50)
#   shapes 3.0 / 3.6, letters in 10 fonts 15.1 / 17.7: both over-confident where clusters are
#   impure, heldout a little more.
# "heldout" is within 2 points on every set but those two, at every round; "mid" also misses
# cdigits32 and noisy cdigits (under-confident by 2-2.6 for three rounds).
ESTIMATE = "heldout"


class PoolModel:
    """What run_round trained, usable on new images: predict / predict_proba / classes_ (str labels).

    A blend of the SVM trained on the pool's final labels and a kNN vote of the pool's
    (graph-smoothed) label distributions.
    """

    def __init__(self, estimator: CalibratedSVM, classes: np.ndarray, vote: Optional[KnnVote] = None,
                 knn_weight: float = 0.0):
        self.estimator_ = estimator
        self.classes_ = np.asarray(classes, dtype=object)
        self.vote_ = vote
        self.knn_weight = float(knn_weight) if vote is not None else 0.0

    def predict_proba(self, X) -> np.ndarray:
        P = self.estimator_.predict_proba(X)
        if self.knn_weight > 0:
            P = (1 - self.knn_weight) * P + self.knn_weight * self.vote_.predict_proba(X)
        return P

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


# Stop signal: the model predicted at least STOP_AGREEMENT of the human's answers to its own
# least-certain picks, in each of the last two answered batches (of >= STOP_MIN_ANSWERED).
# Measured (benchmarks/stop_signal.py data, 50 labels + 15 rounds x 10; digits 5 seeds each
# split, letters / textures / shapes / cdigits32 / cdigits64 3 seeds): test accuracy the later
# rounds still added after the signal, mean over seeds, and labels at the signal:
#   agreement >= 0.9 twice: +0.42 points at 110 labels (shapes +1.4, worst seed +3.3)
#   agreement = 1.0 once:   +0.36 at 110;  agreement >= 0.9 once: +0.54 at 87
#   exported labels changing < 0.5 % twice: +0.83 at 93
#   the earlier rule (estimate >= 99 %, or < 0.5 points gained over two rounds): +1.16 at
#   81 labels -- it fired at 50-70 labels on shapes (+5.3 missed), where the estimate is
#   6 points too high; the model's own accuracy estimate cannot see what it gets wrong, the
#   human's answers to its uncertain picks can.
STOP_AGREEMENT = 0.9
STOP_MIN_ANSWERED = 5


def _stop_signal(est: Optional[float], pick_agreement: Sequence) -> tuple[bool, str]:
    """(stop?, why) from the (agreed, answered) counts of each answered batch so far."""
    if est is None:
        return False, "not enough labels to estimate accuracy"
    last = [(int(a), int(n)) for a, n in pick_agreement][-2:]
    if len(last) == 2 and all(n >= STOP_MIN_ANSWERED and a >= STOP_AGREEMENT * n for a, n in last):
        agreed, answered = _totals(last)
        return True, (f"the model had already predicted {agreed} of your last {answered} answers "
                      "to its least-certain images")
    return False, ""


def _totals(batches: Sequence) -> tuple[int, int]:
    """(agreed, answered) summed over (agreed, answered) batches."""
    return sum(int(a) for a, _ in batches), sum(int(n) for _, n in batches)


def batch_agreement(picks: Sequence[int], predictions: Mapping[int, tuple], human: Mapping[int, str]
                    ) -> Optional[tuple[int, int]]:
    """(agreed, answered): of the ``picks`` the human has labelled, how many the model had
    predicted (``predictions``: index -> (label, ...) from the round that picked them); None
    when none is answered yet."""
    answered = [int(i) for i in picks if int(i) in human]
    if not answered:
        return None
    return sum(predictions.get(i, (None,))[0] == human[i] for i in answered), len(answered)


def audit(audit_agreement: Sequence, z: float = 1.96) -> Optional[dict]:
    """What the human's answers to *random* batches say about the model's accuracy.

    The model's own estimate cannot see errors it shares across a whole cluster (letters in 10
    fonts: 18 points too high); a random batch is a sample of the images it labels, so the share
    of answers it had predicted is an unbiased estimate, with a Wilson ``z`` interval.  Each
    round re-scores the earlier answers against its own model (``run_round``, step 7), so an
    audit keeps measuring the current labels instead of those it was answered for.
    None before any random batch is answered.
    """
    agreed, answered = _totals(audit_agreement)
    if answered == 0:
        return None
    p = agreed / answered
    centre = (p + z * z / (2 * answered)) / (1 + z * z / answered)
    half = z * np.sqrt(p * (1 - p) / answered + z * z / (4 * answered ** 2)) / (1 + z * z / answered)
    return {"agreed": agreed, "answered": answered, "accuracy": p,
            "low": float(max(0.0, centre - half)), "high": float(min(1.0, centre + half))}


# reported_accuracy's prior: the model's own estimate was within about a point of the truth on
# 8 of the 10 image sets measured (RESULTS.md) and far off on the rest (letters in 10 fonts +18,
# shapes +3: whole clusters wrong together; the font letters had blank images, and remade
# without them the estimate is +6).  Measured with benchmarks/audit.py (12 seeds, 9
# sets, 20 random answers; mean |reported - truth|): model alone 2.91 (max 18.1), audit alone
# 3.18, "the audit once its interval excludes the model" 2.37 (max 8.0), this posterior 1.89
# (max 9.7; 1.0 or less on the seven sets where the model is right).
MODEL_TRUST = 0.8      # prior probability that the model's estimate is right
MODEL_SPREAD = 0.01    # how far from the truth a right estimate is (standard deviation)


def reported_accuracy(estimate: Optional[float], audit_agreement: Sequence = (), human_share: float = 0.0
                      ) -> Optional[dict]:
    """The label accuracy the app reports: the model's estimate, corrected by any random audit.

    The model's estimate averages over every image, so it is precise, but it is blind to
    errors a whole cluster shares; an audit (``audit``) is unbiased but wide (about +-15
    points after 20 answers).  Bayes with two hypotheses: the model is right (accuracy near
    ``estimate``, prior MODEL_TRUST) or it knows nothing (accuracy uniform); the audit's
    answers weigh them.  Returns {"accuracy": posterior mean, "low", "high": 95 % credible
    interval, "model_weight": posterior probability that the model is right, "answered"};
    before any audit answer, just the estimate (None for the rest); None without either.
    An audit only asks about machine labels (a random batch never picks a human-labelled
    image), while the estimate counts human labels as right: with ``human_share`` h of the
    images human-labelled, the audit speaks of (accuracy - h) / (1 - h), so the weighing is
    done on that scale and the result reported on the whole pool's (h + (1 - h) x).
    """
    agreed, answered = _totals(audit_agreement)
    if answered == 0:  # nothing to weigh the model against
        return None if estimate is None else {"accuracy": float(estimate), "low": None, "high": None,
                                               "model_weight": None, "answered": 0}
    h = min(max(float(human_share), 0.0), 0.999)
    p = np.linspace(0.0, 1.0, 2001)  # accuracy of the machine labels
    if estimate is None:
        model = np.zeros_like(p)
    else:
        machine = min(max((float(estimate) - h) / (1.0 - h), 0.0), 1.0)
        model = np.exp(-0.5 * ((p - machine) / MODEL_SPREAD) ** 2)
        model /= model.mean()  # a density on [0, 1], like the uniform alternative
    with np.errstate(divide="ignore", invalid="ignore"):
        loglik = np.nan_to_num(agreed * np.log(p), nan=0.0, neginf=-np.inf) + \
            np.nan_to_num((answered - agreed) * np.log1p(-p), nan=0.0, neginf=-np.inf)
    lik = np.exp(loglik - loglik.max())
    trust = MODEL_TRUST if estimate is not None else 0.0
    right, unknown = trust * model * lik, (1.0 - trust) * lik
    post = right + unknown
    post /= post.sum()
    cdf = np.cumsum(post)
    pool = lambda x: float(h + (1.0 - h) * x)  # noqa: E731
    return {"accuracy": pool((p * post).sum()), "low": pool(p[np.searchsorted(cdf, 0.025)]),
            "high": pool(p[min(np.searchsorted(cdf, 0.975), len(p) - 1)]),
            "model_weight": float(right.sum() / (right.sum() + unknown.sum())), "answered": answered}


def audited_confidence(confidence, estimate: Optional[float], audit_agreement: Sequence = (),
                       human_share: float = 0.0) -> np.ndarray:
    """Exported confidences once an audit has weighed the model (``reported_accuracy``).

    If the model is right, its confidences mean what they say; if it knows nothing, an
    image's chance of being right is the audit's share, whatever the model claims (letters
    in 10 fonts: labels the model is 99 % sure of are 67 % right).  So each confidence
    becomes w c + (1 - w) a, with w the model's posterior weight and a the audit's posterior
    mean, (agreed + 1) / (answered + 2); their mean is then about the reported accuracy of the
    machine labels.  ``confidence``: machine labels' only.  Unchanged before any audit answer.
    """
    confidence = np.asarray(confidence, dtype=float)
    weights = audit_weights(estimate, audit_agreement, human_share)
    if weights is None:
        return confidence
    w, a = weights
    return w * confidence + (1.0 - w) * a


def audit_weights(estimate: Optional[float], audit_agreement: Sequence = (), human_share: float = 0.0
                  ) -> Optional[tuple[float, float]]:
    """(w, a) of ``audited_confidence``: the model's posterior weight and the audit's posterior
    mean; None before any audit answer."""
    agreed, answered = _totals(audit_agreement)
    if answered == 0:
        return None
    return reported_accuracy(estimate, audit_agreement, human_share)["model_weight"], (agreed + 1) / (answered + 2)


def _label_groups(X, h_idx, h_cls, y) -> np.ndarray:
    """Group of each image: its nearest human-labelled image with the same current label.

    Approximates "the cluster this label was propagated from" without needing the clustering.
    """
    from sklearn.neighbors import NearestNeighbors
    from .graph import blas_threads
    groups = np.full(len(X), -1, dtype=int)
    with blas_threads(1):
        for c in np.unique(y):
            members = np.flatnonzero(y == c)
            humans = h_idx[h_cls == c]
            if len(humans) == 0:
                groups[members] = -1 - c
                continue
            nb = NearestNeighbors(n_neighbors=1).fit(X[humans]).kneighbors(X[members], return_distance=False)
            groups[members] = humans[nb[:, 0]]
    return groups


def _knn_weight(X, y, vote, n_classes, random_state) -> tuple[float, tuple]:
    """Weight of the kNN vote in the test-time blend, from out-of-sample agreement with y."""
    if TEST_KNN_WEIGHT >= 0:
        return TEST_KNN_WEIGHT, (None, None)
    if vote is None or len(np.unique(y)) < 2 or len(y) < 10:
        return 0.0, (None, None)
    from sklearn.model_selection import KFold
    pred = np.zeros(len(y), dtype=int)
    for tr, te in KFold(5, shuffle=True, random_state=random_state).split(X):
        pred[te] = CalibratedSVM(n_classes, random_state=random_state).fit(X[tr], y[tr]).predict(X[te])
    svm_err = float(np.mean(pred != y))
    knn_err = float(np.mean(vote.loo_proba(np.eye(n_classes)[y]).argmax(axis=1) != y))
    w = KNN_WEIGHT_KNN_WINS if knn_err < svm_err else KNN_WEIGHT_SVM_WINS
    return w, (svm_err, knn_err)


def run_round(X, human_idx, human_labels, *, propagated_idx=(), propagated_labels=(),
              propagated_confidence=(), batch_size: int = 10, strategy: str = "auto",
              pick_agreement=(), audit_idx=(), random_state=0, progress: Optional[ProgressCallback] = None,
              cancel: Optional[CancelToken] = None) -> RoundResult:
    """Train on the human (and propagated) labels, label every image, pick the next batch.

    1. label spreading of human + propagated labels over the kNN graph (a first label for all);
    2. cross-fitted RBF-SVM self-training (each image relabelled by a model that never saw it),
       temperature-scaled on held-out scores;
    3. graph smoothing of those held-out probabilities -> exported labels and confidences;
    4. the test-time model: SVM on the final labels blended with a kNN vote of the pool;
    5. the next batch: margin-uncertain candidates grouped by k-means, the most central of each;
    6. the accuracy estimate (see ESTIMATE) and the stop signal (see STOP_AGREEMENT) from
       ``pick_agreement``: (agreed, answered) per answered uncertainty batch, how many of the
       human's answers to earlier picks the model had predicted; kept on the result;
    7. the audit (``audit``) re-scored against this round's model: ``audit_idx`` are the human's
       answers to random batches; each is predicted by a self-training fold that did not train
       on it, so an old audit measures the current model, not the one it was answered for.
    """
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
    seed_w = np.concatenate([np.ones(len(h_idx)), PROPAGATED_WEIGHT * p_conf])
    F = spread(W, seed_idx, seed_cls, max(n_classes, 1), seed_weight=seed_w)
    y_pool = F.argmax(axis=1)
    # a propagated label stands until self-training finds evidence against it
    if PROPAGATED_WEIGHT >= 1.0:
        y_pool[p_idx] = np.searchsorted(classes, p_lab)
    y_pool[h_idx] = h_cls
    check(cancel)
    report(progress, 1, 4, "self-training")

    # 2. Cross-fitted self-training with an RBF SVM: each image is relabelled by a model
    #    that never saw its current label; human labels are fixed and always trained on.
    groups = _label_groups(X, h_idx, h_cls, y_pool) if GROUP_FOLDS else None
    probe = np.intersect1d(np.asarray(audit_idx, dtype=int), h_idx)
    y_pool, scores, y_prev = self_train(X, y_pool, h_idx, n_classes, groups=groups, n_folds=SELF_TRAIN_FOLDS,
                                        probe=probe, random_state=random_state, cancel=cancel)
    free = np.ones(n, dtype=bool)
    free[h_idx] = False
    # Temperature scaling on the held-out scores: the probabilities mean what they say on
    # data the model did not train on.
    T = fit_temperature(scores[free], y_prev[free])
    proba = _softmax(scores / T)
    proba_heldout = proba.copy()
    proba[h_idx] = 0.0
    proba[h_idx, h_cls] = 1.0
    # 3. Smooth the held-out probabilities over the graph: an image whose neighbours the
    #    SVM labels otherwise is pulled towards them (humans stay clamped).
    if SMOOTH_ALPHA > 0:
        proba = smooth(W, proba, alpha=SMOOTH_ALPHA, fixed=h_idx)
    predicted = classes[proba.argmax(axis=1)].astype(object)
    confidence = proba.max(axis=1)
    fit_rows = np.concatenate([h_idx, capped_sample(np.flatnonzero(free), MAX_SVM_TRAIN - len(h_idx), random_state)])
    est = CalibratedSVM(n_classes, temperature=T, random_state=random_state).fit(
        X[fit_rows], proba.argmax(axis=1)[fit_rows])
    vote = KnnVote(X, proba) if n > 2 else None
    knn_weight, cv_errors = _knn_weight(X, proba.argmax(axis=1), vote, n_classes, random_state)
    model = PoolModel(est, classes, vote, knn_weight)
    check(cancel)
    report(progress, 2, 4, "picks")

    # 5. the next batch
    strat = "margin" if strategy == "auto" else strategy
    if strat == "random":  # an audit (see audit): a plain random sample
        picks = random_batch(n, batch_size, exclude=h_idx, random_state=random_state)
    else:
        picks = select_batch(X, uncertainty(proba, strat), batch_size, exclude=h_idx,
                             random_state=random_state)
    lab = proba.argmax(axis=1)
    p_svm = proba_heldout[np.arange(n), lab]
    p_svm[h_idx] = 1.0
    estimates = {"smoothed": float(confidence.mean()), "heldout": float(p_svm.mean())}
    estimates["mid"] = 0.5 * (estimates["smoothed"] + estimates["heldout"])
    est_acc = float(estimates[ESTIMATE]) if len(h_idx) >= 2 else None
    human_cls = dict(zip(h_idx.tolist(), h_cls.tolist()))
    rescored = [(int(sum(proba_heldout[i].argmax() == human_cls[i] for i in probe.tolist())), len(probe))] \
        if len(probe) else []
    stop, reason = _stop_signal(est_acc, pick_agreement)
    report(progress, 4, 4, "done")
    return RoundResult(classes=[str(c) for c in classes], predicted=predicted, confidence=confidence,
                       picks=picks, estimated_accuracy=est_acc, n_labels_used=int(len(h_idx)),
                       stop_suggested=stop, stop_reason=reason, model=model, estimates=estimates,
                       pick_agreement=[(int(a), int(n)) for a, n in pick_agreement],
                       audit_agreement=rescored)


def final_labels(n_images: int, human_idx, human_labels, propagated: Optional[Propagation],
                 round_result: Optional[RoundResult], estimate: Optional[float] = None, audit_agreement: Sequence = ()):
    """The export rule.

    1. A human label always wins, with confidence 1.0.
    2. Otherwise, if a round has been run, its prediction: run_round already used the
       propagated labels as (weighted) evidence together with the graph and the classifier,
       so it supersedes them.  Where it agrees with a propagated label the source stays
       "propagated" (that is how the label first came about) with the round's confidence.
    3. Without a round, the propagated label and its confidence.
    4. Once random batches are answered (an audit), machine confidences are weighed against it
       (``audited_confidence``, with the latest round's accuracy ``estimate``).
    Returns (labels, source, confidence); unlabeled images have None / None / 0.0.
    ``final_label_codes`` is the same rule on label codes (the session's export table).
    """
    vocabulary = LabelVocabulary()
    human_idx = np.asarray(human_idx, dtype=int)
    human = vocabulary.encode(human_labels)
    prop_idx, prop, prop_conf = (np.zeros(0, int), np.zeros(0, np.int32), np.zeros(0)) if propagated is None else \
        (np.asarray(propagated.idx, dtype=int), vocabulary.encode(propagated.labels), propagated.confidence)
    predicted = None if round_result is None else \
        (vocabulary.encode(round_result.predicted), np.asarray(round_result.confidence, dtype=float))
    codes, source, conf = final_label_codes(n_images, human_idx, human, prop_idx, prop, prop_conf, predicted,
                                            estimate=estimate, audit_agreement=audit_agreement)
    return vocabulary.decode(codes), source_names(source), conf


def final_label_codes(n_images: int, human_idx: np.ndarray, human_codes: np.ndarray, prop_idx: np.ndarray,
                      prop_codes: np.ndarray, prop_confidence: np.ndarray,
                      predicted: Optional[tuple[np.ndarray, np.ndarray]], estimate: Optional[float] = None,
                      audit_agreement: Sequence = ()) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``final_labels`` on integer label codes (-1: none): the human labels, the propagated ones
    and ``predicted`` = the latest round's (codes, confidences) for every image, or None before
    any round.  Returns (label codes, source codes (``events.SOURCES``, -1: none), confidence)."""
    codes = np.full(n_images, -1, dtype=np.int32)
    source = np.full(n_images, -1, dtype=np.int8)
    conf = np.zeros(n_images)
    if predicted is None:
        codes[prop_idx], source[prop_idx], conf[prop_idx] = prop_codes, PROPAGATED, prop_confidence
    else:
        codes[:], conf[:] = predicted
        source[codes >= 0] = PREDICTED
        source[prop_idx[codes[prop_idx] == prop_codes]] = PROPAGATED
    known = codes >= 0
    conf[known] = audited_confidence(conf[known], estimate, audit_agreement, len(human_idx) / max(n_images, 1))
    codes[human_idx], source[human_idx], conf[human_idx] = human_codes, HUMAN, 1.0
    return codes, source, conf
