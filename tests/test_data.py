import gzip
from pathlib import Path

import numpy as np
import pytest

from hitlbench.data import fmnist
from hitlbench.data.digits import Digits
from hitlbench.data.splits import make_split, stratified_take
from hitlbench.types import HitlbenchError


def write_idx(path: Path, array: np.ndarray, magic: int) -> None:
    header = np.array([magic, *array.shape], dtype=">u4").tobytes()
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


def fake_fmnist(folder: Path, n_train=40, n_test=10) -> None:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(
            folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 255, (n, 28, 28)), 2051
        )
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", np.arange(n) % 10, 2049)


@pytest.fixture
def no_system_copy(monkeypatch, tmp_path):
    monkeypatch.setattr(fmnist, "DEBIAN_DIR", tmp_path / "nowhere")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("HITLBENCH_DATA", raising=False)
    fmnist._load.cache_clear()


def test_fmnist_reads_hitlbench_data_first(monkeypatch, tmp_path, no_system_copy):
    fake_fmnist(tmp_path / "mine")
    monkeypatch.setenv("HITLBENCH_DATA", str(tmp_path / "mine"))
    data = fmnist.FashionMNIST().load()
    assert data.images.shape == (50, 1, 28, 28)
    assert data.official_test.sum() == 10
    assert data.provenance["source"] == str(tmp_path / "mine")
    assert len(data.provenance["sha256"]) == 64


def test_fmnist_missing_names_three_ways(no_system_copy):
    with pytest.raises(HitlbenchError) as info:
        fmnist.FashionMNIST().load()
    message = str(info.value)
    assert "HITLBENCH_DATA" in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "cache" in message


def test_fmnist_corrupt_file_is_named(monkeypatch, tmp_path, no_system_copy):
    fake_fmnist(tmp_path / "bad")
    (tmp_path / "bad" / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\x00" * 12))
    monkeypatch.setenv("HITLBENCH_DATA", str(tmp_path / "bad"))
    with pytest.raises(HitlbenchError, match="t10k-labels"):
        fmnist.FashionMNIST().load()


@pytest.mark.skipif(
    not fmnist.DEBIAN_DIR.exists(), reason="Debian's dataset-fashion-mnist is not installed"
)
def test_real_fmnist_official_split():
    split = fmnist.FashionMNIST(split="official").build(np.random.default_rng(0))
    assert len(split.data) == 70000
    assert (len(split.pool), len(split.holdout)) == (60000, 10000)
    assert np.bincount(split.data.labels[split.holdout]).tolist() == [1000] * 10
    assert split.data.provenance["package"].startswith("dataset-fashion-mnist ")


def test_stratified_holdout_and_pool_size():
    labels = np.repeat(np.arange(4), [100, 200, 300, 400])
    pool, held = make_split(
        labels, official_test=None, holdout=0.15, pool_size=100, rng=np.random.default_rng(0)
    )
    assert np.bincount(labels[held]).tolist() == [15, 30, 45, 60]
    assert np.bincount(labels[pool]).tolist() == [10, 20, 30, 40]
    assert not set(pool) & set(held)


def test_stratified_take_rounds_by_largest_remainder():
    labels = np.array([0] * 5 + [1] * 3 + [2] * 2)
    take = stratified_take(labels, np.arange(10), 5, np.random.default_rng(0))
    # exact shares 2.5, 1.5, 1.0: floors 2, 1, 1 and the one left goes to the first largest remainder
    assert np.bincount(labels[take], minlength=3).tolist() == [3, 1, 1]


def test_digits_has_no_official_split():
    with pytest.raises(HitlbenchError, match="no official test split"):
        Digits(split="official").build(np.random.default_rng(0))


def test_pool_size_larger_than_pool_is_refused():
    with pytest.raises(HitlbenchError, match="pool_size 5000 is larger"):
        Digits(pool_size=5000).build(np.random.default_rng(0))
