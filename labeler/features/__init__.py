"""Image feature extraction: raw pixels, HOG, a pretrained CNN, or user-supplied embeddings.

``extract_features(paths, "auto", cache_dir=...)`` picks the extractor whose features
show the clearest cluster structure on a sample of the images (see ``auto.py``),
caches raw per-image vectors on disk and returns a ``FeatureResult``.
"""
from labeler.features.base import FeatureError, FeatureExtractor, FeatureResult
from labeler.features.extract import extract_features
from labeler.features.registry import available_extractors, make_extractor

__all__ = [
    "FeatureError",
    "FeatureExtractor",
    "FeatureResult",
    "available_extractors",
    "extract_features",
    "make_extractor",
]
