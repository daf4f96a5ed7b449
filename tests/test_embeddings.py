"""Embedders and their on-disk cache: hits, rebuilt partial entries, offline weights."""

from __future__ import annotations

import json
import os
import socket
import time

import numpy as np
import pytest
import torch

from hitlbench import testing
from hitlbench.core.params import check_params
from hitlbench.core.registry import parameters_of
from hitlbench.embeddings import Embedder, cached_embeddings, dataset_embeddings, embedders
from hitlbench.embeddings.cache import CHECKSUM, checksum, entry_paths
from hitlbench.embeddings.open_clip_embedder import OpenCLIPEmbedder
from hitlbench.embeddings.timm_embedder import TimmEmbedder
from hitlbench.types import HitlbenchError

KEY = {"what": "test", "version": 1}
N, DIM = 10, 6


@pytest.fixture(autouse=True)
def cache(monkeypatch, tmp_path):
    """A fresh cache folder per test; nothing may be fetched over the network."""

    def refuse(*args, **kwargs):
        raise OSError("network refused by the test")

    monkeypatch.setenv("HITLBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("HITLBENCH_ALLOW_DOWNLOADS", raising=False)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return tmp_path / "cache" / "embeddings"


class Counting:
    """compute(indices) for `cached_embeddings`: rows i * 0.1 + column / 7, counting calls."""

    def __init__(self, dim: int = DIM):
        self.dim = dim
        self.rows = 0

    def __call__(self, indices: np.ndarray) -> np.ndarray:
        self.rows += len(indices)
        return (indices[:, None] * 0.1 + np.arange(self.dim) / 7.0).astype(np.float32)


def expected(n: int = N, dim: int = DIM) -> np.ndarray:
    return Counting(dim)(np.arange(n))


def fill(n: int = N, key=KEY, **kwargs) -> tuple[np.ndarray, bool, Counting]:
    compute = Counting()
    array, hit = cached_embeddings(key, n, compute, dim=DIM, batch=4, progress=False, **kwargs)
    return array, hit, compute


def test_second_call_is_a_hit_without_computing(cache):
    first, hit, compute = fill()
    assert not hit and compute.rows == N
    second, hit, compute = fill()
    assert hit and compute.rows == 0
    assert isinstance(second, np.memmap) and second.shape == (N, DIM)
    np.testing.assert_array_equal(first, second)
    assert sorted(p.suffix for p in cache.iterdir()) == [".json", ".npy"]
    meta = json.loads(entry_paths(KEY, N, DIM, "float16")[1].read_text())
    assert meta["key"] == KEY and meta["complete"] is True and (meta["n"], meta["dim"]) == (N, DIM)
    assert not fill(key={**KEY, "version": 2})[1]  # another key, another entry
    assert not fill(n=N - 1)[1]


def test_float16_round_trip_and_float32_exact():
    half, _, _ = fill()
    assert half.dtype == np.float16
    np.testing.assert_array_equal(half, expected().astype(np.float16))
    np.testing.assert_allclose(half.astype(np.float32), expected(), rtol=1e-3, atol=1e-3)
    full, _, _ = fill(dtype="float32")
    assert full.dtype == np.float32
    np.testing.assert_array_equal(full, expected())


def test_result_is_read_only():
    for array in (fill()[0], fill()[0]):  # computed, then from the cache
        assert isinstance(array, np.memmap) and not array.flags.writeable
        with pytest.raises(ValueError):
            array[0, 0] = 1.0


def corrupt_temp_left(npy, sidecar):
    for path in (npy, sidecar):
        path.unlink()
    (npy.parent / f".{npy.stem}.killed.npy.tmp").write_bytes(b"\x93NUMPY half a file")


def corrupt_truncate(npy, sidecar):
    with open(npy, "r+b") as fh:
        fh.truncate(os.path.getsize(npy) - 10)


def corrupt_shape(npy, sidecar):
    np.save(npy, np.zeros((N, DIM + 1), np.float16))


def corrupt_dtype(npy, sidecar):
    np.save(npy, np.zeros((N, DIM), np.float32))


def corrupt_sidecar(npy, sidecar):
    sidecar.write_text('{"key": ')


def corrupt_no_sidecar(npy, sidecar):
    sidecar.unlink()


def corrupt_key(npy, sidecar):
    meta = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps({**meta, "key": {"what": "else"}}))


def corrupt_not_complete(npy, sidecar):
    meta = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps({**meta, "complete": False}))


@pytest.mark.parametrize(
    "corrupt",
    [
        corrupt_temp_left,
        corrupt_truncate,
        corrupt_shape,
        corrupt_dtype,
        corrupt_sidecar,
        corrupt_no_sidecar,
        corrupt_key,
        corrupt_not_complete,
    ],
)
def test_partial_or_corrupt_entry_is_rebuilt(corrupt):
    fill()
    npy, sidecar = entry_paths(KEY, N, DIM, "float16")
    if corrupt is not corrupt_temp_left:  # the entry holds other values than compute gives
        nines = np.full((N, DIM), 9.0, np.float16)
        np.save(npy, nines)
        meta = json.loads(sidecar.read_text())
        valid = {**meta, "bytes": os.path.getsize(npy), CHECKSUM: checksum(nines)}
        sidecar.write_text(json.dumps(valid))
        assert np.all(fill()[0] == 9.0)  # still a valid entry, its digest too: trusted
    corrupt(npy, sidecar)
    array, hit, compute = fill()
    assert not hit and compute.rows == N
    np.testing.assert_array_equal(array, expected().astype(np.float16))
    assert fill()[1]  # whole again


def test_failed_compute_leaves_nothing_and_stale_temps_are_removed(cache):
    def broken(indices):
        if indices[0] >= 4:
            raise KeyboardInterrupt
        return expected()[indices]

    with pytest.raises(KeyboardInterrupt):
        cached_embeddings(KEY, N, broken, dim=DIM, batch=4, progress=False)
    assert list(cache.iterdir()) == []
    with pytest.raises(ValueError, match="expected"):
        cached_embeddings(KEY, N, lambda i: np.zeros((len(i), 3)), dim=DIM, progress=False)
    with pytest.raises(ValueError, match="NaN or infinite"):
        cached_embeddings(KEY, N, lambda i: np.full((len(i), DIM), 1e5), dim=DIM, progress=False)
    assert list(cache.iterdir()) == []
    npy, _ = entry_paths(KEY, N, DIM, "float16")
    stale, fresh = (cache / f".{npy.stem}.{name}.npy.tmp" for name in ("stale", "fresh"))
    for path in (stale, fresh):
        path.write_bytes(b"left by a killed write")
    old = time.time() - 2 * 24 * 3600
    os.utime(stale, (old, old))
    fill()
    assert not stale.exists() and fresh.exists()  # a fresh one may be another process's


def test_unwritable_cache_still_computes(monkeypatch, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("HITLBENCH_CACHE", str(blocker))
    array, hit, compute = fill()
    assert not hit and not array.flags.writeable
    np.testing.assert_array_equal(array, expected().astype(np.float16))


def test_empty_and_bad_arguments(capsys):
    array, hit, _ = fill(n=0)
    assert array.shape == (0, DIM) and not hit and fill(n=0)[1]
    for bad in ({"n": -1}, {"dim": 0}, {"batch": 0}, {"dtype": "int8"}):
        args = {"n": N, "dim": DIM, **bad}
        n = args.pop("n")
        with pytest.raises(ValueError):
            cached_embeddings(KEY, n, Counting(), progress=False, **args)
    cached_embeddings({"other": 1}, N, Counting(), dim=DIM, progress=True)
    assert "img" in capsys.readouterr().err


def images(n: int, channels: int = 1, size: int = 28, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, channels, size, size), dtype=np.float32)


def bound(cls: type[Embedder], seed: int = 0, **params) -> Embedder:
    embedder = cls(**params)
    embedder.bind(device="cpu", seed=seed)
    return embedder


def test_registered_with_checked_parameters():
    assert embedders.get("timm_features") is TimmEmbedder
    assert embedders.get("clip_image") is OpenCLIPEmbedder
    for cls in (TimmEmbedder, OpenCLIPEmbedder):
        check_params(cls, parameters_of(cls), cls.__name__)
    bad = [
        ("timm", {"input_px": 8}),
        ("timm", {"batch_size": 0}),
        ("timm", {"invert": 1}),
        ("timm", {"input_px": 64.0}),
        ("open_clip", {"pretrained": ""}),
        ("open_clip", {"batch_size": 0}),
        ("open_clip", {"input_px": 0}),
    ]
    for name, params in bad:
        with pytest.raises(HitlbenchError):
            embedders.create(name, **params)
    with pytest.raises(RuntimeError, match="bind"):
        TimmEmbedder().embed(images(1))
    with pytest.raises(HitlbenchError, match="no architecture"):
        bound(TimmEmbedder, arch="no_such_net")


def test_timm_random_weights_follow_the_seed():
    x = images(5)
    before = torch.get_rng_state()
    first = bound(TimmEmbedder, seed=3, arch="resnet10t", input_px=32, pretrained=False)
    assert torch.equal(torch.get_rng_state(), before)
    out = first.embed(x)
    assert out.shape == (5, 512) == (len(x), first.dim) and out.dtype == np.float32
    again = bound(TimmEmbedder, seed=3, arch="resnet10t", input_px=32, pretrained=False)
    np.testing.assert_array_equal(out, again.embed(x))
    assert first.cache_key() == again.cache_key()
    other = bound(TimmEmbedder, seed=4, arch="resnet10t", input_px=32, pretrained=False)
    assert not np.allclose(out, other.embed(x))
    assert other.cache_key() != first.cache_key() and "batch_size" not in first.cache_key()
    # grey equals its RGB repetition; batches do not change the features; invert does
    np.testing.assert_allclose(first.embed(np.repeat(x, 3, axis=1)), out, rtol=1e-5, atol=1e-5)
    first.batch_size = 2
    np.testing.assert_allclose(first.embed(x), out, rtol=1e-4, atol=1e-5)
    inverted = bound(
        TimmEmbedder, seed=3, arch="resnet10t", input_px=32, pretrained=False, invert=True
    )
    assert not np.allclose(inverted.embed(x), out)
    assert first.embed(x[:0]).shape == (0, 512)
    with pytest.raises(HitlbenchError, match="1 or 3"):
        first.embed(images(2, channels=2))


def test_efficientnet_lite0_pretrained_offline():
    embedder = embedders.create("timm", input_px=64)
    embedder.bind(device="cpu", seed=0)
    assert embedder.dim == 1280
    dark = np.zeros((1, 1, 28, 28), np.float32)
    stripes = np.zeros((1, 1, 28, 28), np.float32)
    stripes[..., ::4, :] = 1.0
    out = embedder.embed(np.concatenate([dark, stripes, images(2)]))
    assert out.shape == (4, 1280) and np.isfinite(out).all()
    cosine = out[0] @ out[1] / np.linalg.norm(out[0]) / np.linalg.norm(out[1])
    assert cosine < 0.95
    key = embedder.cache_key()
    assert "seed" not in key["weights"] and key["arch"] == "efficientnet_lite0"
    again = embedders.create("timm", input_px=64)
    again.bind(device="cpu", seed=1)  # pretrained: the seed does not matter
    assert again.cache_key() == key
    np.testing.assert_allclose(again.embed(stripes), out[1:2], rtol=1e-4, atol=1e-5)


TINY = "hitlbench-test-tiny-clip-embedder"
TINY_CFG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 2, "width": 64, "patch_size": 8, "head_width": 32},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}


@pytest.fixture
def tiny_clip(tmp_path):
    """A tiny random CLIP registered with open_clip for the test."""
    open_clip = pytest.importorskip("open_clip")
    from open_clip import factory

    path = tmp_path / f"{TINY}.json"
    path.write_text(json.dumps(TINY_CFG))
    open_clip.add_model_config(path)
    yield TINY
    factory._MODEL_CONFIG_PATHS.remove(path)
    factory._MODEL_CONFIGS.pop(TINY, None)


def test_open_clip_unit_norm_rows(tiny_clip):
    embedder = bound(OpenCLIPEmbedder, seed=0, model=tiny_clip, pretrained=None, batch_size=3)
    out = embedder.embed(images(5))
    assert out.shape == (5, 32) == (5, embedder.dim) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    same = bound(OpenCLIPEmbedder, seed=0, model=tiny_clip, pretrained=None)
    np.testing.assert_allclose(same.embed(images(5)), out, atol=1e-5)
    assert same.cache_key() == embedder.cache_key()
    other = bound(OpenCLIPEmbedder, seed=1, model=tiny_clip, pretrained=None)
    assert other.cache_key() != embedder.cache_key()
    with pytest.raises(HitlbenchError, match="1 or 3"):
        embedder.embed(images(1, channels=4))
    with pytest.raises(HitlbenchError, match="not on disk"):
        bound(OpenCLIPEmbedder)  # ViT-B-32 openai weights: not in the test's caches


def test_dataset_embeddings_cached(cache):
    data = testing.tiny_data(n=30)
    embedder = bound(TimmEmbedder, arch="resnet10t", input_px=32, pretrained=False, batch_size=7)
    array, hit = dataset_embeddings(data, embedder, progress=False)
    assert not hit and array.shape == (30, 512) and array.dtype == np.float16
    direct = embedder.embed(data.images.astype(np.float32) / 255.0)
    np.testing.assert_allclose(array.astype(np.float32), direct, rtol=2e-3, atol=2e-3)
    again, hit = dataset_embeddings(data, embedder, progress=False)
    assert hit and np.array_equal(again, array)
    other_data = testing.tiny_data(n=30, seed=1)  # no provenance: the image bytes identify it
    assert not dataset_embeddings(other_data, embedder, progress=False)[1]
    full, hit = dataset_embeddings(data, embedder, progress=False, dtype="float32")
    assert not hit and full.dtype == np.float32
    assert len(list(cache.glob("*.npy"))) == 3
