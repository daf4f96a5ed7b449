import numpy as np
import pytest

from hitlbench.classifiers import classifiers
from hitlbench.core.cache import CacheWarning, cached_arrays
from hitlbench.embeddings import cached_embeddings
from hitlbench.embeddings.cache import entry_paths
from hitlbench.feedback.labels import LabelsOnly
from hitlbench.testing import tiny_data, tiny_labeled


def test_computed_once_per_key_and_recomputed_when_unreadable(monkeypatch, tmp_path):
    monkeypatch.setenv("HITLBENCH_CACHE", str(tmp_path))
    calls = []

    def compute():
        calls.append(1)
        return {"order": np.arange(5) * len(calls)}

    first = cached_arrays("order", {"seed": 1}, compute)
    again = cached_arrays("order", {"seed": 1}, compute)
    assert len(calls) == 1 and np.array_equal(first["order"], again["order"])
    cached_arrays("order", {"seed": 2}, compute)
    assert len(calls) == 2  # another key, another artefact
    for stored in (tmp_path / "order").glob("*.npz"):
        stored.write_bytes(b"garbage")
    with pytest.warns(CacheWarning, match="cannot be read"):
        again = cached_arrays("order", {"seed": 1}, compute)
    assert np.array_equal(again["order"], np.arange(5) * 3)
    assert not list((tmp_path / "order").glob(".*.tmp"))


# --- contents that changed after they were written ------------------------------------------

N, DIM = 12, 5


def rows_of(indices: np.ndarray) -> np.ndarray:
    """compute(indices) for `cached_embeddings`: finite float32 [B, DIM], row i's own values."""
    return (indices[:, None] * 0.25 + np.arange(DIM) / 8.0).astype(np.float32)


def filled(calls: list[int]) -> tuple[np.ndarray, bool]:
    def compute(indices):
        calls.append(len(indices))
        return rows_of(indices)

    return cached_embeddings({"what": "changed"}, N, compute, dim=DIM, batch=4, progress=False)


def overwrite(rows: np.ndarray) -> None:
    rows[:] = rows[::-1] + 1.0  # other finite values


def zero(rows: np.ndarray) -> None:
    rows[:] = 0.0


def make_nan(rows: np.ndarray) -> None:
    rows[:] = np.nan


@pytest.mark.parametrize("change", [overwrite, zero, make_nan])
def test_embedding_rows_changed_after_writing_are_rebuilt_with_a_message(
    monkeypatch, tmp_path, change
):
    monkeypatch.setenv("HITLBENCH_CACHE", str(tmp_path))
    calls: list[int] = []
    filled(calls)
    npy, sidecar = entry_paths({"what": "changed"}, N, DIM, "float16")
    written = sidecar.read_text()
    entry = np.load(npy, mmap_mode="r+")
    change(entry[3:7])  # in place: same size, same header, the sidecar untouched
    entry.flush()
    del entry
    assert sidecar.read_text() == written
    calls.clear()
    with pytest.warns(CacheWarning, match=rf"{npy.name} \(12 x 5 float16\) changed after it"):
        array, hit = filled(calls)
    assert not hit and sum(calls) == N
    np.testing.assert_array_equal(array, rows_of(np.arange(N)).astype(np.float16))
    calls.clear()
    assert filled(calls)[1] and not calls  # whole again: a plain hit


def test_cached_arrays_changed_after_writing_are_rebuilt_with_a_message(monkeypatch, tmp_path):
    monkeypatch.setenv("HITLBENCH_CACHE", str(tmp_path))
    calls = []

    def compute():
        calls.append(1)
        return {"values": np.arange(64, dtype=np.float64)}

    cached_arrays("values", {"seed": 1}, compute)
    (stored,) = (tmp_path / "values").glob("*.npz")
    raw = bytearray(stored.read_bytes())
    at = raw.find(np.float64(40).tobytes())
    raw[at : at + 8] = np.float64(np.nan).tobytes()  # a NaN where 40.0 was
    stored.write_bytes(bytes(raw))
    with pytest.warns(CacheWarning, match=rf"{stored.name} cannot be read or changed"):
        again = cached_arrays("values", {"seed": 1}, compute)
    assert len(calls) == 2 and np.array_equal(again["values"], np.arange(64))


def test_nan_from_the_embedding_cache_is_rebuilt_not_a_diverged_classifier(monkeypatch, tmp_path):
    monkeypatch.setenv("HITLBENCH_CACHE", str(tmp_path))
    data = tiny_data(n=30, n_classes=2)
    embedder = {
        "name": "timm",
        "params": {"arch": "resnet10t", "input_px": 32, "pretrained": False},
    }

    def prepared():
        clf = classifiers.create("embedding_mlp", embedder=embedder, epochs=2)
        clf.bind(data.task(), device="cpu", seed=0)
        return clf, clf.prepare(data, progress=False)

    assert prepared()[1] == "embeddings: computed and cached"
    (npy,) = (tmp_path / "embeddings").glob("*.npy")
    entry = np.load(npy, mmap_mode="r+")
    entry[:] = np.nan  # every row: any fit would see a NaN loss
    entry.flush()
    del entry
    with pytest.warns(CacheWarning, match=npy.name):
        clf, message = prepared()
        # trusting the entry, this fit raised DivergedError ("its training loss is nan")
        clf.fit(tiny_labeled(data), feedback=LabelsOnly(), rng=np.random.default_rng(0))
    assert message == "embeddings: computed and cached" and np.isfinite(clf.embeddings).all()
