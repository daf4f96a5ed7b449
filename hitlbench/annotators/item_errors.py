"""Item-dependent errors: a person is wrong more often on hard items, and wrong toward the
classes people actually confuse an item with.

Difficulty and confusion come from a reference model that is not the loop's classifier (if it
were, margin sampling would pick exactly the items the simulated person gets wrong): a
logistic regression on the first `REFERENCE["components"]` principal components (whitened, so
that it converges) of each image's grayscale pixels, at most `REFERENCE["px"]` pixels a side, scored out of fold (5
stratified folds) over the whole collection, so no item's own label is behind its difficulty.
scikit-learn fits it (PCA, LogisticRegression, cross_val_predict); the probabilities are cached
on disk per collection (`core.cache.cached_arrays`), like the embeddings. On Fashion-MNIST's
70,000 images the fit takes about 21 s on 2 cores and is right out of fold on 0.838 of them.

From the out-of-fold probabilities q ([N, C]):

- **chance of error**: item i of class t is answered wrong with probability
  sigmoid(a_t + slope * logit(1 - q[i, t])), with a_t solved (scipy's brentq) so that the mean
  over the collection's items of class t is the person's error rate on t: their average error
  rate stays what their confusion model states, and the hardest items take most of it;
- **the wrong answer**: class j != t with probability proportional to q[i, j] times the
  person's own confusion row (their class-level tendencies, a school's shared wrong class);
  where that product is zero everywhere, by the confusion row alone.

On a two-class concept task this is a concept rater: a negative the reference model finds
close to the concept (a hard negative) is rated "yes" more often, an atypical positive "no".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xxhash
from scipy.optimize import brentq
from scipy.special import expit, logit

from ..core.cache import cached_arrays

REFERENCE = {"model": "pca_logistic", "px": 28, "components": 50, "folds": 5, "version": 2}
_CLIP = 1e-4  # difficulties kept inside (0, 1) so that their log-odds are finite


def reference_probabilities(images: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Out-of-fold class probabilities of the reference model, float64 [N, n_classes], cached
    on disk by the images' and labels' bytes.

    `images`: uint8 [N, C_img, H, W]; `labels`: int64 [N] in 0..n_classes-1. Raises ValueError
    when a class has fewer items than the folds (out-of-fold scores need each class in every
    training fold), a class with none included.
    """
    labels = np.asarray(labels, np.int64)
    counts = np.bincount(labels, minlength=n_classes)
    if counts.min() < REFERENCE["folds"]:
        raise ValueError(
            f"item-dependent errors need at least {REFERENCE['folds']} items of every class "
            f"(the reference model is scored out of {REFERENCE['folds']} folds); class "
            f"{int(counts.argmin())} has {int(counts.min())}"
        )
    key = {
        **REFERENCE,
        "images": _digest(images),
        "labels": _digest(labels),
        "shape": list(images.shape),
    }
    return cached_arrays("item_difficulty", key, lambda: {"proba": _fit(images, labels)})["proba"]


def _digest(array: np.ndarray) -> str:
    return xxhash.xxh3_128_hexdigest(np.ascontiguousarray(array).tobytes())


def reference_features(images: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """float32 [N, h*w]: grayscale pixels in [0, 1], area-resized to at most `px` a side,
    `chunk` images at a time (never the whole collection as floats)."""
    return np.concatenate(
        [_small_gray(images[s : s + chunk]) for s in range(0, len(images), chunk)]
    )


def _small_gray(images: np.ndarray) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    gray = torch.from_numpy(np.asarray(images, np.float32).mean(axis=1, keepdims=True) / 255.0)
    side = max(gray.shape[-2:])
    if side > REFERENCE["px"]:
        scale = REFERENCE["px"] / side
        size = tuple(max(1, round(s * scale)) for s in gray.shape[-2:])
        gray = F.interpolate(gray, size=size, mode="area")
    return gray.flatten(1).numpy()


def _fit(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline

    features = reference_features(images)
    n_components = min(REFERENCE["components"], features.shape[1], len(labels) // 2)
    model = make_pipeline(
        PCA(n_components, whiten=True, random_state=0), LogisticRegression(max_iter=300, C=1.0)
    )
    folds = StratifiedKFold(REFERENCE["folds"], shuffle=True, random_state=0)
    proba = cross_val_predict(model, features, labels, cv=folds, method="predict_proba")
    return proba.astype(np.float64)


@dataclass(frozen=True)
class ItemErrors:
    """One person's item-dependent errors over a collection: `rates` float64 [N] (the chance of
    a wrong answer on each item) and `wrong` float64 [N, C] (the distribution of a wrong answer,
    zero on the item's own class; rows sum to 1, except all-zero rows for a class the person
    never gets wrong, whose rate is 0)."""

    rates: np.ndarray
    wrong: np.ndarray

    @classmethod
    def calibrated(
        cls, proba: np.ndarray, labels: np.ndarray, confusion: np.ndarray, slope: float
    ) -> ItemErrors:
        """A person with confusion matrix `confusion` [C, C] on items whose reference
        probabilities are `proba` [N, C] and true classes `labels` [N]: per class t, the mean
        error rate over its items equals 1 - confusion[t, t]; `slope` >= 0 is how steeply the
        log-odds of an error follow the reference model's (0: every item of a class alike)."""
        labels, proba = np.asarray(labels, np.int64), np.asarray(proba, np.float64)
        hardness = logit(np.clip(1.0 - proba[np.arange(len(labels)), labels], _CLIP, 1 - _CLIP))
        rates = np.zeros(len(labels))
        for t in np.unique(labels):
            members = labels == t
            rates[members] = _rates_with_mean(slope * hardness[members], 1.0 - confusion[t, t])
        return cls(rates, _wrong_answers(proba, labels, confusion))

    def answer(self, items: np.ndarray, truth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """int64 [N]: the person's answers to dataset items `items` with true labels `truth`
        (two uniform draws per item: whether they err, then which class)."""
        u = rng.random((len(items), 2))
        errs = u[:, 0] < self.rates[items]
        cumulative = np.cumsum(self.wrong[items], axis=1)
        wrong = (u[:, 1:] * cumulative[:, -1:] > cumulative).sum(axis=1)
        wrong = np.minimum(wrong, self.wrong.shape[1] - 1)
        return np.where(errs, wrong, np.asarray(truth, np.int64)).astype(np.int64)


def _rates_with_mean(shifted: np.ndarray, mean: float) -> np.ndarray:
    """sigmoid(a + shifted) with the offset a solved so that its mean is `mean` (in [0, 1])."""
    if mean <= 0.0 or mean >= 1.0:
        return np.full(len(shifted), float(np.clip(mean, 0.0, 1.0)))
    low, high = -40.0 - shifted.max(), 40.0 - shifted.min()  # means near 0 and near 1 between
    offset = brentq(lambda a: expit(a + shifted).mean() - mean, low, high, xtol=1e-12)
    return expit(offset + shifted)


def _wrong_answers(proba: np.ndarray, labels: np.ndarray, confusion: np.ndarray) -> np.ndarray:
    """[N, C]: each item's wrong-answer distribution, its reference probabilities times the
    person's confusion row for its class, off the true class; the row alone where that is 0."""
    rows = np.array(confusion, np.float64)[labels]
    rows[np.arange(len(labels)), labels] = 0.0
    mixed = proba * rows
    mixed[np.arange(len(labels)), labels] = 0.0
    total = mixed.sum(axis=1, keepdims=True)
    fallback = rows / np.maximum(rows.sum(axis=1, keepdims=True), 1e-300)
    return np.where(total > 0, mixed / np.where(total > 0, total, 1.0), fallback)
