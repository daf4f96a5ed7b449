"""The open_clip zero-shot labeler on a tiny randomly initialised CLIP: nothing is downloaded."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import numpy as np
import pytest
import torch

open_clip = pytest.importorskip("open_clip")

from hitlbench import testing  # noqa: E402
from hitlbench.core.params import check_params  # noqa: E402
from hitlbench.core.registry import parameters_of  # noqa: E402
from hitlbench.types import HitlbenchError, TaskInfo  # noqa: E402
from hitlbench.zero_shot.base import labelers  # noqa: E402
from hitlbench.zero_shot.open_clip_labeler import OpenCLIP, prepare_images  # noqa: E402

TINY = "hitlbench-test-tiny-clip"
TINY_CFG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 2, "width": 64, "patch_size": 8, "head_width": 32},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}
TASK = TaskInfo(3, ("cat", "dog", "aquarium_fish"), (3, 32, 32))


@pytest.fixture(scope="module", autouse=True)
def tiny_config(tmp_path_factory):
    """A ViT CLIP of 3.5M parameters (most in the token embedding), registered for this module."""
    from open_clip import factory

    path = tmp_path_factory.mktemp("open_clip_config") / f"{TINY}.json"
    path.write_text(json.dumps(TINY_CFG))
    open_clip.add_model_config(path)
    yield
    factory._MODEL_CONFIG_PATHS.remove(path)
    factory._MODEL_CONFIGS.pop(TINY, None)


@pytest.fixture
def no_network(monkeypatch, tmp_path):
    """Every connection attempt recorded and refused; empty Hugging Face and open_clip caches."""
    from huggingface_hub import constants

    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args[:2])
        raise OSError("network refused by the test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.delenv("HITLBENCH_ALLOW_DOWNLOADS", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf_hub"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # open_clip's URL cache: ~/.cache/clip
    return attempts


@pytest.fixture(scope="module")
def plain(tiny_config) -> OpenCLIP:
    """The tiny model with random weights from seed 0, default templates, no prompts."""
    return bound(seed=0)


def images(n: int, channels: int = 3, height: int = 32, width: int = 32, seed: int = 0):
    return np.random.default_rng(seed).random((n, channels, height, width), dtype=np.float32)


def bound(seed: int = 0, **params) -> OpenCLIP:
    labeler = OpenCLIP(**{"model": TINY, "pretrained": None, **params})
    labeler.bind(TASK, device="cpu", seed=seed)
    return labeler


def proba(labeler: OpenCLIP, x: np.ndarray) -> np.ndarray:
    return labeler.answer(x, np.arange(len(x), dtype=np.int64)).proba


def test_registered_with_checked_defaults():
    assert labelers.get("clip") is OpenCLIP and labelers.get("open_clip") is OpenCLIP
    check_params(OpenCLIP, parameters_of(OpenCLIP), "labeler 'open_clip'")
    labeler = labelers.create("clip", model=TINY, pretrained=None, prompts={"cat": ["kitty"]})
    assert labeler.get_params()["prompts"] == {"cat": ["kitty"]}
    for bad in (
        {"batch_size": 0},
        {"templates": []},
        {"templates": ["a photo"]},
        {"prompts": {"cat": []}},
        {"input_px": 0},
        {"pretrained": ""},
    ):
        with pytest.raises(HitlbenchError):
            labelers.create("clip", **bad)


def test_answers_are_distributions(plain):
    answers = plain.answer(images(5), np.arange(5, dtype=np.int64))
    assert answers.proba.shape == (5, 3) and answers.proba.dtype == np.float32
    np.testing.assert_allclose(answers.proba.sum(axis=1), 1.0, atol=1e-5)
    assert answers.fine == (None,) * 5
    assert proba(plain, images(0)).shape == (0, 3)
    with pytest.raises(RuntimeError, match="bind"):
        OpenCLIP(model=TINY, pretrained=None).answer(images(1), np.arange(1))


def test_seed_sets_random_weights_and_leaves_global_rng_alone():
    x = images(4)
    before = torch.get_rng_state()
    first = proba(bound(seed=3), x)
    assert torch.equal(torch.get_rng_state(), before)
    assert np.array_equal(first, proba(bound(seed=3), x))
    assert not np.allclose(first, proba(bound(seed=4), x))


def test_grey_and_rgb_of_any_size(plain):
    labeler = plain
    grey = images(2, channels=1, height=17, width=23)
    p_grey = proba(labeler, grey)
    assert p_grey.shape == (2, 3)
    np.testing.assert_array_equal(p_grey, proba(labeler, np.repeat(grey, 3, axis=1)))
    p_rgb = proba(labeler, images(3, height=41, width=29))
    np.testing.assert_allclose(p_rgb.sum(axis=1), 1.0, atol=1e-5)
    with pytest.raises(HitlbenchError, match="1 or 3"):
        proba(labeler, images(1, channels=4))
    bigger = bound(input_px=48)
    assert bigger.input_size() == (48, 48) and proba(bigger, grey).shape == (2, 3)


@pytest.mark.parametrize("mode", ["shortest", "squash", "longest"])
def test_prepare_images_resizes_like_open_clip(mode):
    x = torch.rand(2, 1, 20, 50)
    out = prepare_images(x, (32, 32), (0.5, 0.5, 0.5), (0.25, 0.25, 0.25), "bicubic", mode)
    assert out.shape == (2, 3, 32, 32) and out.dtype == torch.float32
    assert out.min() >= -2.0 and out.max() <= 2.0  # clamped to [0, 1] before normalising
    if mode == "longest":  # 20x50 scaled to 13x32, padded with black above and below
        assert torch.all(out[:, :, :9] == -2.0) and torch.all(out[:, :, -10:] == -2.0)
    else:  # torchvision's tensor transforms, as open_clip composes them, clamped like PIL's
        from torchvision.transforms import InterpolationMode
        from torchvision.transforms import functional as TF

        grey = x.expand(-1, 3, -1, -1)
        if mode == "squash":
            ref = TF.resize(grey, [32, 32], InterpolationMode.BICUBIC, antialias=True)
        else:
            ref = TF.resize(grey, 32, InterpolationMode.BICUBIC, antialias=True)
            ref = TF.center_crop(ref, [32, 32])
        torch.testing.assert_close(out, (ref.clamp(0, 1) - 0.5) / 0.25)


def test_prompts_and_templates_reach_the_text_tower(plain):
    x = images(4)
    assert plain.phrases("aquarium_fish")[0] == "a photo of a aquarium fish."
    prompted = bound(prompts={"cat": ["tabby cat", "kitten"], "dog": ["puppy"]})
    assert len(prompted.phrases("cat")) == 2 * len(prompted.templates)
    assert not np.allclose(proba(plain, x), proba(prompted, x))
    other_templates = bound(templates=["an origami {}."])
    assert not np.allclose(proba(plain, x), proba(other_templates, x))
    with pytest.raises(HitlbenchError, match="does not have"):
        bound(prompts={"kat": ["cat"]})


def test_pretrained_weights_not_on_disk_raise_without_touching_the_network(no_network):
    start = time.monotonic()
    with pytest.raises(HitlbenchError, match="HITLBENCH_ALLOW_DOWNLOADS=1"):
        OpenCLIP(model="ViT-B-32", pretrained="openai").bind(TASK, device="cpu", seed=0)
    with pytest.raises(HitlbenchError, match="no pretrained tag"):
        OpenCLIP(model="ViT-B-32", pretrained="no_such_tag").bind(TASK, device="cpu", seed=0)
    with pytest.raises(HitlbenchError, match="no architecture"):
        OpenCLIP(model="ViT-Z-99").bind(TASK, device="cpu", seed=0)
    assert no_network == [] and time.monotonic() - start < 5.0


def test_missing_checkpoint_file_raises(tmp_path):
    missing = tmp_path / "nothing.pt"
    with pytest.raises(HitlbenchError, match="not a file"):
        bound(checkpoint=str(missing))
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    with pytest.raises(HitlbenchError, match="broken.pt"):
        bound(checkpoint=str(broken))


def test_checkpoint_reproduces_the_saved_model(plain, tmp_path):
    """The real loading path: weights saved from one model, loaded through `checkpoint:`."""
    x = images(6)
    saved = plain
    torch.save(saved.net.state_dict(), tmp_path / "tiny.pt")
    loaded = bound(seed=1, checkpoint=str(tmp_path / "tiny.pt"))  # the seed no longer matters
    np.testing.assert_array_equal(proba(saved, x), proba(loaded, x))
    assert not np.allclose(proba(bound(seed=1), x), proba(loaded, x))


def _hub_snapshot(cache: Path, repo: str, filename: str, state: dict) -> None:
    """A file in the Hugging Face cache layout, as hf_hub_download leaves it."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    folder = cache / f"models--{repo.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text(commit)
    (folder / "snapshots" / commit).mkdir(parents=True)
    torch.save(state, folder / "snapshots" / commit / filename)


def test_pretrained_tags_load_offline_from_the_caches(plain, no_network, monkeypatch, tmp_path):
    from huggingface_hub import constants
    from open_clip.pretrained import _PRETRAINED, _pcfg
    from open_clip.transformer import QuickGELU

    url = "https://example.invalid/weights/hitlbench-tiny.pt"
    tags = {
        "hub": _pcfg(hf_hub="hitlbench/tiny-clip/"),
        "hub_quickgelu": _pcfg(hf_hub="hitlbench/tiny-clip/", quick_gelu=True),
        "url_only": _pcfg(url=url, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)),
    }
    monkeypatch.setitem(_PRETRAINED, TINY, tags)
    with pytest.raises(HitlbenchError, match="not on disk"):
        bound(pretrained="hub")
    with pytest.raises(HitlbenchError, match="not on disk"):
        bound(pretrained="url_only")

    x = images(4)
    saved = plain
    state = saved.net.state_dict()
    _hub_snapshot(
        Path(constants.HF_HUB_CACHE), "hitlbench/tiny-clip", "open_clip_pytorch_model.bin", state
    )
    (tmp_path / "home" / ".cache" / "clip").mkdir(parents=True)
    torch.save(state, tmp_path / "home" / ".cache" / "clip" / "hitlbench-tiny.pt")

    np.testing.assert_array_equal(proba(saved, x), proba(bound(seed=1, pretrained="hub"), x))
    quick = bound(pretrained="hub_quickgelu")
    assert any(isinstance(m, QuickGELU) for m in quick.net.modules())
    assert not any(isinstance(m, QuickGELU) for m in saved.net.modules())
    by_url = bound(pretrained="url_only")
    assert by_url.preprocess_cfg["mean"] == (0.5, 0.5, 0.5)
    assert not np.allclose(proba(saved, x), proba(by_url, x))  # same weights, its own mean/std
    assert no_network == []


def test_downloads_only_when_allowed(plain, no_network, monkeypatch, tmp_path):
    """open_clip's fetch runs with the Hub online only under HITLBENCH_ALLOW_DOWNLOADS=1."""
    from huggingface_hub import constants
    from open_clip import pretrained
    from open_clip.pretrained import _PRETRAINED, _pcfg

    weights = tmp_path / "fetched.pt"
    torch.save(plain.net.state_dict(), weights)
    offline_at_fetch = []

    def fetch(cfg, **kwargs):
        offline_at_fetch.append(constants.HF_HUB_OFFLINE)
        return str(weights)

    monkeypatch.setattr(pretrained, "download_pretrained", fetch)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setitem(_PRETRAINED, TINY, {"hub": _pcfg(hf_hub="hitlbench/tiny-clip/")})
    bound(pretrained="hub")
    monkeypatch.setenv("HITLBENCH_ALLOW_DOWNLOADS", "1")
    fetched = bound(pretrained="hub")
    assert offline_at_fetch == [True, False] and constants.HF_HUB_OFFLINE is False
    np.testing.assert_array_equal(proba(plain, images(2)), proba(fetched, images(2)))


def test_passes_the_labeler_contract():
    testing.check_labeler(lambda: OpenCLIP(model=TINY, pretrained=None))
