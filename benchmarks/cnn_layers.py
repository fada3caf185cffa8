"""Which EfficientNet-Lite0 layer and pooling makes the best embedding for labeling?

For each offline set of ``benchmarks/image_sets.py`` (letters, shapes, textures, faces)
the images go through the network once; the outputs of block 14 (192 ch, 7x7), block 15
(320 ch) and the 1x1 head (1280 ch) are pooled by average, max and GeM (p = 3, negative
responses clipped), L2-normalised, and each candidate runs the app's own pipeline with 50
labels (fit_clusters k = 50 -> closest representatives -> whole-cluster propagation ->
pipeline.run_round) on the same split as ``label_efficiency.py --images`` (25 % held out).

    python benchmarks/cnn_layers.py [--sets DIR] [--seeds 2]

Prints, per set and candidate: ceiling (RBF SVM on all pool labels) and ours (test
accuracy of the run_round model, mean over seeds); then the mean of ours over the sets.
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SETS = ("letters", "shapes", "textures", "faces")


def pooled_outputs(paths: list[str]) -> dict[str, np.ndarray]:
    import torch

    from labeler.features.cnn import CnnExtractor, block_outputs, gem_pool, load_model

    def pools(prefix, x):
        return {f"{prefix} avg": x.mean(dim=(2, 3)), f"{prefix} max": x.amax(dim=(2, 3)), f"{prefix} GeM": gem_pool(x)}

    extractor, model, out = CnnExtractor(), load_model(), {}
    with torch.no_grad():
        for start in range(0, len(paths), 32):
            x = torch.from_numpy(np.stack([extractor.prepare(p) for p in paths[start:start + 32]]))
            found = {}
            for i, x in block_outputs(model, x, len(model._blocks) - 1):
                if i in (14, 15):
                    found.update(pools(f"block {i}", x))
            found.update(pools("head", model._swish(model._bn1(model._conv_head(x)))))
            for key, value in found.items():
                out.setdefault(key, []).append(value.numpy())
    return {k: np.concatenate(v) for k, v in out.items()}


def ours(X, y, Xt, yt, seed, budget=50) -> float:
    from labeler.clustering import fit_clusters
    from labeler.pipeline import run_round
    from labeler.propagation import DEFAULT_PERCENTILE, propagate_percentile

    cl = fit_clusters(X, k=budget, random_state=seed)
    h = [int(i) for i in cl.representatives]
    prop = propagate_percentile(cl, {c: y[r] for c, r in enumerate(h)}, DEFAULT_PERCENTILE, exclude=h)
    rr = run_round(X, h, y[h], propagated_idx=prop.idx, propagated_labels=prop.labels,
                   propagated_confidence=prop.confidence, random_state=seed)
    return float(np.mean(rr.model.predict(Xt).astype(str) == yt))


def main() -> None:
    from sklearn.model_selection import train_test_split
    from sklearn.svm import SVC
    from threadpoolctl import threadpool_limits

    from labeler.scan import scan_folder
    from labeler.label_csv import read_truth_csv

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "_scratch", "sets"),
                    help="output folder of image_sets.py (made there if missing)")
    ap.add_argument("--seeds", type=int, default=2)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    threadpool_limits(1)
    table: dict[str, dict[str, tuple[float, float]]] = {}
    for name in SETS:
        root = os.path.join(args.sets, name)
        if not os.path.exists(os.path.join(root, "truth.csv")):
            import subprocess
            subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "image_sets.py"),
                            "--out", args.sets, name], check=True)
        truth = read_truth_csv(os.path.join(root, "truth.csv"))
        scan = scan_folder(os.path.join(root, "img"))
        images = [r for r in scan.images if r.path in truth]
        labels = np.array([truth[r.path] for r in images])
        pool, test = train_test_split(np.arange(len(images)), test_size=0.25, stratify=labels, random_state=0)
        order = np.concatenate([np.sort(pool), np.sort(test)])
        feats = pooled_outputs([os.path.join(scan.root, images[i].path) for i in order])
        y_all, n = labels[order].astype(str), len(pool)
        for cand, F in feats.items():
            F = F / np.maximum(np.linalg.norm(F, axis=1, keepdims=True), 1e-12)
            X, Xt, y, yt = F[:n].astype(float), F[n:].astype(float), y_all[:n], y_all[n:]
            ceiling = SVC(C=10, gamma="scale").fit(X, y).score(Xt, yt)
            acc = float(np.mean([ours(X, y, Xt, yt, s) for s in range(args.seeds)]))
            table.setdefault(cand, {})[name] = (ceiling, acc)
            print(f"{name:9s} {cand:12s} ceiling {ceiling:.3f} ours {acc:.3f}", file=sys.stderr, flush=True)
    print(f"50 labels, {args.seeds} seeds: ours % (ceiling %) per set\n")
    print("| embedding | " + " | ".join(SETS) + " | mean ours |")
    print("|---|" + "---|" * (len(SETS) + 1))
    for cand, row in table.items():
        cells = [f"{row[s][1] * 100:.1f} ({row[s][0] * 100:.1f})" for s in SETS]
        print(f"| {cand} | " + " | ".join(cells) + f" | {np.mean([row[s][1] for s in SETS]) * 100:.1f} |")


if __name__ == "__main__":
    main()
