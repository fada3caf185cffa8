"""Label efficiency of the app's default pipeline against common baselines, same budgets and seeds.

    python benchmarks/label_efficiency.py --seeds 20 --out benchmarks/RESULTS_table.md
    python benchmarks/label_efficiency.py --images DIR --truth truth.csv --seeds 5

Datasets: digits (book3 and book2 splits, raw 64 pixels) and any folder of images with a
truth CSV (image and label columns, see labeler/label_csv.py; a stratified 25 % held out afresh for each seed, features from
labeler.features "auto" fitted on that seed's pool).
Methods (every baseline's final classifier is an RBF SVM unless the method has its own):
random labels + SVM; the book recipe (KMeans(50) closest representatives + whole-cluster
propagation + LogisticRegression) on the same features as ours, and for image folders also on
raw pixels as the book runs it (the "pixels" extractor); sklearn LabelSpreading (kNN kernel) seeded with random
labels; modAL uncertainty sampling (10 random, then batches of 10, SVM with probabilities);
scikit-activeml TypiClust and ProbCover (budget picked in one batch, then SVM); ours =
the real session via labeler.simulate.  "exported" = accuracy of the labels the method
would export for the whole pool (its predictions, human labels kept).
A second table gives ours with 5 active-learning rounds of 10, calibration of the exported
confidences and the error of the app's own accuracy estimate.
"""
from __future__ import annotations

import argparse
import atexit
import os
import shutil
import sys
import tempfile
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sklearn.cluster import KMeans  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.semi_supervised import LabelSpreading  # noqa: E402
from sklearn.svm import SVC  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from labeler.label_csv import read_truth_csv, truth_warnings_once  # noqa: E402
from labeler.simulate import digits_data, images_data, simulate_once  # noqa: E402

svm = lambda seed: SVC(C=10, gamma="scale", random_state=seed)


def _fit_eval(clf, X, y, Xt, yt, idx):
    clf.fit(X[idx], y[idx])
    pool = clf.predict(X).astype(object)
    pool[idx] = y[idx]
    return clf.score(Xt, yt), float(np.mean(pool == y))


def m_random(X, y, Xt, yt, b, seed):
    idx = np.random.default_rng(seed).choice(len(X), b, replace=False)
    return _fit_eval(svm(seed), X, y, Xt, yt, idx)


def m_book(X, y, Xt, yt, b, seed):
    km = KMeans(n_clusters=b, random_state=seed)
    reps = np.argmin(km.fit_transform(X), axis=0)
    y_prop = y[reps][km.labels_]
    clf = LogisticRegression(max_iter=10_000).fit(X, y_prop)
    pool = clf.predict(X).astype(object)
    pool[reps] = y[reps]
    return clf.score(Xt, yt), float(np.mean(pool == y))


def m_label_spreading(X, y, Xt, yt, b, seed):
    idx = np.random.default_rng(seed).choice(len(X), b, replace=False)
    classes, yi = np.unique(y, return_inverse=True)
    seeds = np.full(len(X), -1)
    seeds[idx] = yi[idx]
    ls = LabelSpreading(kernel="knn", n_neighbors=10, max_iter=200).fit(X, seeds)
    return float(np.mean(classes[ls.predict(Xt)] == yt)), float(np.mean(classes[ls.transduction_] == y))


def m_modal(X, y, Xt, yt, b, seed):
    # modAL's ActiveLearner.teach() calls check_X_y(force_all_finite=...), removed in
    # scikit-learn 1.8, so the loop refits the SVM itself and uses modAL's query strategy.
    from modAL.uncertainty import uncertainty_sampling
    rng = np.random.default_rng(seed)
    idx = list(rng.choice(len(X), min(10, b), replace=False))
    while len(idx) < b:
        est = SVC(C=10, gamma="scale", probability=True, random_state=seed).fit(X[idx], y[idx])
        cand = np.setdiff1d(np.arange(len(X)), idx)
        q = uncertainty_sampling(est, X[cand], n_instances=min(10, b - len(idx)))
        q = q[0] if isinstance(q, tuple) else q  # some modAL versions return (idx, X[idx])
        idx += list(cand[np.asarray(q).ravel()])
    return _fit_eval(svm(seed), X, y, Xt, yt, np.array(idx))


def _skactiveml(strategy, X, y, Xt, yt, b, seed):
    classes, yi = np.unique(y, return_inverse=True)
    y_missing = np.full(len(X), np.nan)
    idx = strategy.query(X, y_missing, batch_size=b)
    return _fit_eval(svm(seed), X, y, Xt, yt, np.asarray(idx))


def m_typiclust(X, y, Xt, yt, b, seed):
    from skactiveml.pool import TypiClust
    return _skactiveml(TypiClust(random_state=seed), X, y, Xt, yt, b, seed)


def m_probcover(X, y, Xt, yt, b, seed):
    from skactiveml.pool import ProbCover
    # ProbCover derives its ball radius from the number of classes, which it is told.
    return _skactiveml(ProbCover(n_classes=len(np.unique(y)), random_state=seed), X, y, Xt, yt, b, seed)


METHODS = {"random + SVM": m_random, "book recipe (whole-cluster + LR)": m_book,
           "sklearn LabelSpreading (random seeds)": m_label_spreading,
           "modAL uncertainty sampling + SVM": m_modal, "skactiveml TypiClust + SVM": m_typiclust,
           "skactiveml ProbCover + SVM": m_probcover}


def _row(name, ta, la, secs):
    ta, la = np.array(ta) * 100, np.array(la) * 100
    return f"| {name} | {ta.mean():.1f} ± {ta.std():.1f} | {ta.min():.1f} | {la.mean():.1f} | {secs:.1f} |"


def _other_spaces(data) -> dict:
    """(X_pool, X_test) in every candidate feature space other than the set's own (image
    folders only; the book's digits have no other space)."""
    if data.in_space is None:
        return {}
    from labeler.feature_check import candidate_spaces
    out = {}
    for name in candidate_spaces():
        if name != data.feature_name:
            Xp, Xpt, _, _ = data.in_space(name)
            out[name] = (np.asarray(Xp, float), np.asarray(Xpt, float))
    return out


def _arrays(data):
    return (np.asarray(data.X_pool, float), np.asarray(data.y_pool).astype(object),
            np.asarray(data.X_test, float), np.asarray(data.y_test).astype(object))


class _Tally:
    """Per-method test and exported-label accuracies, and seconds, summed over seeds."""

    def __init__(self):
        self.test, self.labels, self.secs = {}, {}, {}

    def add(self, name, test, labels, secs):
        self.test.setdefault(name, []).append(test)
        self.labels.setdefault(name, []).append(labels)
        self.secs[name] = self.secs.get(name, 0.0) + secs

    def row(self, name):
        return _row(name, self.test[name], self.labels[name], self.secs[name] / len(self.test[name]))

    def mean(self, name):
        return float(np.mean(self.test[name]))


def _timed(fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    return (*out, time.perf_counter() - t)


def compare(data_for, label: str, seeds: int, budget: int, per_seed_split: bool) -> list[str]:
    """Every method and ours on each seed's data (``data_for(seed)``): for image folders each
    seed has its own stratified pool/test split, so a small test part's luck averages out."""
    tally, runs, ceilings, book_name = _Tally(), [], {}, "book recipe on raw pixels (as in the book)"
    for s in range(seeds):
        data = data_for(s)
        X, y, Xt, yt = _arrays(data)
        others = _other_spaces(data)
        for name, fn in METHODS.items():
            tally.add(name, *_timed(fn, X, y, Xt, yt, budget, s))
        if "pixels" in others:
            Xp, Xpt = others["pixels"]
            tally.add(book_name, *_timed(m_book, Xp, y, Xpt, yt, budget, s))
        runs.append(simulate_once(data, budget=budget, seed=s))
        with threadpool_limits(1):
            t0 = time.perf_counter()
            ceilings.setdefault("own", []).append(svm(0).fit(X, y).score(Xt, yt))
            ceiling_secs = time.perf_counter() - t0
            for name, (Xp, Xpt) in others.items():
                ceilings.setdefault(name, []).append(svm(0).fit(Xp, y).score(Xpt, yt))
    split = "a stratified 75/25 split per seed" if per_seed_split else "the fixed split"
    lines = [f"### {label}: {len(X)} pool / {len(Xt)} test images, {len(np.unique(y))} classes, "
             f"{budget} labels, {seeds} seeds ({split})", "",
             "| method | test acc % (mean ± std) | worst seed | exported-label acc % | s / seed |",
             "|---|---|---|---|---|"]
    for name in METHODS:
        lines.append(tally.row(name))
        if name.startswith("book recipe") and book_name in tally.test:
            lines.append(tally.row(book_name))
    lines.append(_row("**ours (labeler.simulate)**", [r["test_accuracy"] for r in runs],
                      [r["label_accuracy"] for r in runs], float(np.mean([r["seconds"] for r in runs]))))
    own = float(np.mean(ceilings.pop("own")))
    lines.append(f"| ceiling: all {len(X)} pool labels + SVM | {own * 100:.1f} | | 100.0 | {ceiling_secs:.1f} |")
    other = {name: float(np.mean(v)) for name, v in ceilings.items()}
    if other:
        lines.append("| ceiling in the other feature spaces | " + ", ".join(
            f"{name} {acc * 100:.1f}" for name, acc in other.items()) + " | | | |")
    ceiling = max([own, *other.values()])  # judge against the best space's ceiling
    book = tally.mean(next(n for n in METHODS if n.startswith("book recipe")))
    ours = float(np.mean([r["test_accuracy"] for r in runs]))
    est = np.array([abs(r["estimated_accuracy"] - r["label_accuracy"]) for r in runs]) * 100
    bias = np.mean([r["estimated_accuracy"] - r["label_accuracy"] for r in runs]) * 100
    cal = {c: [r["calibration"][c] for r in runs if r["calibration"][c] is not None] for c in runs[0]["calibration"]}
    over_pixels = "" if book_name not in tally.test else \
        f" ({(ours - tally.mean(book_name)) * 100:+.1f} over the book recipe on raw pixels)"
    lines += ["", f"ours: {ours / ceiling * 100:.1f} % of the ceiling (best space), {(ours - book) * 100:+.1f} points over the book "
              f"recipe on the same features{over_pixels}; coverage {np.mean([r['coverage'] for r in runs]) * 100:.0f} %; |estimated − true "
              f"label accuracy| mean {est.mean():.2f}, max {est.max():.2f} points (mean bias {bias:+.2f}); "
              "exported labels with confidence ≥ c that are right (mean over seeds): "
              + ", ".join(f"≥{c}: {np.mean(v) * 100:.1f} %" for c, v in cal.items() if v), ""]
    return lines


def _mirror_confidences(data, budget, rounds, batch, seed):
    """The simulate flow in memory (fit_clusters -> propagate -> run_round x rounds ->
    final_labels), to read each exported label's confidence (simulate returns no rows)."""
    from labeler.clustering import fit_clusters
    from labeler.pipeline import final_labels, run_round
    from labeler.propagation import DEFAULT_PERCENTILE, propagate_percentile
    X, y = np.asarray(data.X_pool, float), np.asarray(data.y_pool).astype(str)
    cl = fit_clusters(X, k=min(budget, len(X)), random_state=seed)
    h = [int(i) for i in cl.representatives]
    prop = propagate_percentile(cl, {c: y[r] for c, r in enumerate(h)}, DEFAULT_PERCENTILE, exclude=h)
    rr = None
    for r in range(rounds + 1):
        rr = run_round(X, h, y[h], propagated_idx=prop.idx, propagated_labels=prop.labels,
                       propagated_confidence=prop.confidence, batch_size=batch, random_state=seed)
        if r < rounds:
            h += [int(i) for i in rr.picks]
    labels, _, conf = final_labels(len(X), h, y[h], prop, rr)
    return conf, labels.astype(str) == y


def rounds_and_calibration(data_for, label: str, seeds: int, budget: int, rounds: int, batch: int) -> list[str]:
    """Ours with AL rounds through the real session; calibration from the session's exported rows."""
    curves, las, ests, confs, oks = [], [], [], [], []
    for s in range(seeds):
        data = data_for(s)
        run = simulate_once(data, budget=budget, rounds=rounds, batch=batch, seed=s)
        curves.append(run["curve"])
        las.append(run["label_accuracy"])
        ests.append(abs(run["estimated_accuracy"] - run["label_accuracy"]))
        conf, ok = _mirror_confidences(data, budget, rounds, batch, s)
        confs.append(conf)
        oks.append(ok)
    c = np.array(curves) * 100
    lines = [f"### {label}: {budget} labels + {rounds} rounds × {batch}, {seeds} seeds", "",
             "| labels | " + " | ".join(str(budget + i * batch) for i in range(rounds + 1)) + " |",
             "|---|" + "---|" * (rounds + 1),
             "| test acc % mean | " + " | ".join(f"{v:.1f}" for v in c.mean(0)) + " |",
             "| test acc % worst | " + " | ".join(f"{v:.1f}" for v in c.min(0)) + " |", "",
             f"exported-label accuracy {np.mean(las) * 100:.2f} %; largest drop of the mean curve between "
             f"rounds {max(0.0, -np.diff(c.mean(0)).min()):.2f} points; |estimate − truth| mean "
             f"{np.mean(ests) * 100:.2f} points", ""]
    if confs:
        conf, ok = np.concatenate(confs), np.concatenate(oks)
        lines += ["| confidence ≥ c | share of labels | fraction correct |", "|---|---|---|"]
        for cc in (0.8, 0.9, 0.95, 0.99):
            m = conf >= cc
            lines.append(f"| {cc} | {m.mean() * 100:.1f} % | {ok[m].mean() * 100 if m.any() else float('nan'):.2f} % |")
        lines.append("")
    return lines


def datasets(images: str | None, truth_csv: str | None) -> list[tuple[str, object, bool]]:
    """[(name, data_for(seed) -> SimulationData, per-seed split?)]: the image folder ``images``
    (truth from ``truth_csv``, else the sub-folder names) split afresh for each seed, or digits
    in the book's two fixed splits when ``images`` is None."""
    if not images:
        return [(name, lambda seed, d=digits_data(split): d, False)
                for name, split in (("digits book3", "book3"), ("digits book2", "book2"))]
    truth = read_truth_csv(truth_csv) if truth_csv else None
    cache = tempfile.mkdtemp(prefix="label-efficiency-")  # raw vectors shared by every split and space
    atexit.register(shutil.rmtree, cache, ignore_errors=True)
    folder = os.path.normpath(images)
    name = os.path.basename(folder)
    if name == "img":  # image_sets.py layout: <set>/img + <set>/truth.csv
        name = os.path.basename(os.path.dirname(folder))
    splits = {}

    def data_for(seed: int):
        if seed not in splits:
            splits[seed] = images_data(images, truth, seed=seed, cache_dir=cache)
        return splits[seed]
    return [(name, data_for, True)]


def main(argv=None) -> str:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--budget", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=5, help="active-learning rounds for the second table (0: no second table)")
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--images", help="folder of images (instead of digits)")
    ap.add_argument("--truth", help="CSV of image,label for --images (header names as `main.py simulate --help` says)")
    ap.add_argument("--out", help="write the markdown here")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    threadpool_limits(1)
    sets = datasets(args.images, args.truth)
    lines = [f"Command: `python benchmarks/label_efficiency.py {' '.join(sys.argv[1:] if argv is None else argv)}`", ""]
    with truth_warnings_once():  # truth rows that name no image are said, once
        print("\n".join(lines), flush=True)
        for label, data_for, per_seed_split in sets:
            # each table is printed once, as soon as it is measured
            table = compare(data_for, label, args.seeds, args.budget, per_seed_split)
            print("\n".join(table), flush=True)
            lines += table
            if args.rounds > 0:  # the first table already gives ours without rounds
                table = rounds_and_calibration(data_for, label, args.seeds, args.budget, args.rounds, args.batch)
                print("\n".join(table), flush=True)
                lines += table
    text = "\n".join(lines)
    if args.out:
        tmp = args.out + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        os.replace(tmp, args.out)
    return text


if __name__ == "__main__":
    main()
