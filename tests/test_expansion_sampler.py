"""The expansion sampler (Stretcu et al. 2023, Agile Modeling, §3.2): the nearest neighbours of
each phrase or seed image, a random sample of their union, on features the tests make."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from hitlbench.concepts import concept_task, resolve_concept
from hitlbench.core.pretrained import create_timm
from hitlbench.core.torch_rng import seeded
from hitlbench.data.base import Dataset, datasets
from hitlbench.harness.runner import execute
from hitlbench.harness.spec import resolve_spec
from hitlbench.samplers import expansion as module
from hitlbench.samplers import samplers
from hitlbench.testing import tiny_data
from hitlbench.types import HitlbenchError, PoolView

CLASSES = ("cat", "dog", "car")
TARGET = {0: 281, 1: 207, 2: 817}  # ImageNet: tabby (a cat.n.01), golden retriever, sports car
CAT = {"name": "cat", "positives": ["cat"], "phrases": ["cat"], "negative_phrases": ["dog"]}
N = 60  # items 0, 3, 6, ... are cats, 1, 4, ... dogs, 2, 5, ... cars


def animals(n: int = N):
    return replace(tiny_data(n=n, n_classes=3), class_names=CLASSES)


def task(concept=CAT):
    data = animals()
    return concept_task(data, resolve_concept(concept, CLASSES), None, np.random.default_rng(0))


@pytest.fixture(scope="module")
def head() -> torch.nn.Module:
    return create_timm("efficientnet_lite0", pretrained=True).get_classifier().eval()


@pytest.fixture(scope="module")
def features(head) -> np.ndarray:
    """float16 [N, 1280] as the cache holds them: the head's logits are 0 except item i's
    class's ImageNet class, at 6 + 6 i / N, so a later item of a class is nearer its phrase."""
    weight, bias = head.weight.detach().double(), head.bias.detach().double()
    logits = torch.zeros(N, 1000, dtype=torch.float64)
    for i in range(N):
        logits[i, TARGET[i % 3]] = 6 + 6 * i / N
    rows = weight.T @ torch.linalg.solve(weight @ weight.T, (logits - bias).T)  # least norm
    return rows.T.numpy().astype(np.float16)


def pool(indices) -> PoolView:
    def pixels(positions):
        raise AssertionError("expansion reads embeddings, never pixels")

    return PoolView(np.asarray(indices, np.int64), crops=pixels, raw=pixels)


def prepared(monkeypatch, data, rows, **params):
    """(the sampler prepared on `data` with `rows` as its cached embeddings, its line)."""
    monkeypatch.setattr(module, "dataset_embeddings", lambda data, embedder, progress: (rows, True))
    sampler = samplers.create("expansion", **params)
    return sampler, sampler.prepare(data, progress=False)


def picks(sampler, indices, k, seed=0) -> set[int]:
    """Dataset indices of a batch of k from the pool `indices`."""
    chosen = sampler.select(pool(indices), k, model=None, rng=np.random.default_rng(seed))
    assert len(set(chosen.tolist())) == k
    return set(np.asarray(indices)[chosen].tolist())


def strongest(cls: int, count: int, among=range(N)) -> set[int]:
    return set(sorted((i for i in among if i % 3 == cls), reverse=True)[:count])


def test_imagenet_scores_rank_items_of_the_phrase_classes_first(head, features):
    columns = module.imagenet_columns(["cat", "dog", "unicorn"])
    assert columns.shape == (1000, 3) and columns[281, 0] == 1 and columns[207, 1] == 1
    assert not columns[:, 2].any()  # WordNet's unicorn has no ImageNet class
    scores = module.imagenet_scores(features, head, columns[:, :2])
    assert scores.shape == (N, 2) and scores.dtype == np.float32
    for column, cls in ((0, 0), (1, 1)):
        order = np.argsort(-scores[:, column], kind="stable")
        assert list(order[:20]) == sorted(strongest(cls, 20), reverse=True)


def test_the_batch_is_a_random_sample_of_the_union_of_neighbours(monkeypatch, features):
    sampler, note = prepared(monkeypatch, task(), features, neighbours=5, negative_phrases=False)
    assert note == (
        "sampler expansion: 1 of 1 phrases and 0 of 0 negative phrases by ImageNet/WordNet "
        "(efficientnet_lite0's head); embeddings: cache hit"
    )
    everything = range(N)
    union = strongest(0, 5)
    batches = [picks(sampler, everything, 3, seed) for seed in range(6)]
    assert all(batch <= union for batch in batches) and len({frozenset(b) for b in batches}) > 1
    assert picks(sampler, everything, 3, seed=2) == batches[2]  # the same for the same seed
    more = picks(sampler, everything, 8)  # fewer neighbours than k: all, then random others
    assert union < more and len(more - union) == 3
    rest = sorted(set(everything) - strongest(0, 7))  # the nearest ones were labeled
    assert picks(sampler, rest, 5) == strongest(0, 5, among=rest)


def test_negative_phrases_retrieve_their_neighbours_too(monkeypatch, features):
    sampler, note = prepared(monkeypatch, task(), features, neighbours=5)
    assert "1 of 1 negative phrases" in note
    assert picks(sampler, range(N), 10) == strongest(0, 5) | strongest(1, 5)
    concept = {**CAT, "negative_phrases": ["dog", "unicorn"], "phrases": ["cat", "tabby"]}
    sampler, note = prepared(monkeypatch, task(concept), features, neighbours=5)
    assert "2 of 2 phrases and 1 of 2 negative phrases" in note  # tabby: ImageNet's tabby
    assert "none under 'unicorn'" in note


def test_open_clip_phrases_by_the_text_tower(monkeypatch, tmp_path):
    open_clip = pytest.importorskip("open_clip")
    from open_clip import factory

    config = tmp_path / "hitlbench-test-tiny-clip-expansion.json"
    config.write_text(json.dumps({
        "embed_dim": 32,
        "vision_cfg": {"image_size": 32, "layers": 2, "width": 64, "patch_size": 8},
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2,
                     "layers": 2},
    }))  # fmt: skip
    open_clip.add_model_config(config)
    try:
        with seeded(0):  # random weights, saved as a user's checkpoint would be
            torch.save(open_clip.create_model(config.stem).state_dict(), tmp_path / "w.pt")
        params = {"model": config.stem, "checkpoint": str(tmp_path / "w.pt")}
        embedder = {"name": "open_clip", "params": params}
        probe = samplers.create("expansion", embedder=embedder)
        probe.inner.bind(device="cpu", seed=0)
        text = module.clip_text(probe.inner, ["cat", "dog"])
        tokens = open_clip.get_tokenizer(config.stem)(["cat"])
        with torch.no_grad():
            direct = torch.nn.functional.normalize(probe.inner.net.encode_text(tokens), dim=-1)
        np.testing.assert_allclose(text[:1], direct.numpy(), atol=1e-5)
        rows = np.random.default_rng(0).normal(size=(N, 32))
        rows[[3, 9]] = text[0] + 0.01 * rows[[3, 9]]  # two items right by "cat"
        rows[[4]] = text[1]  # one by "dog"
        sampler, note = prepared(
            monkeypatch, task(), rows.astype(np.float16), embedder=embedder, neighbours=2
        )
        assert note.startswith("sampler expansion: 1 phrases and 1 negative phrases by CLIP")
        # the name "cat" is the phrase "cat": once; neighbours of "cat" and of "dog"
        assert picks(sampler, range(N), 4) >= {3, 9, 4}
    finally:
        factory._MODEL_CONFIG_PATHS.remove(config)
        factory._MODEL_CONFIGS.pop(config.stem, None)


def test_seed_images_retrieve_on_a_task_without_a_concept(monkeypatch):
    rows = np.random.default_rng(0).normal(size=(N, 16))
    rows[[10, 20, 30]] = rows[0] + 0.01 * rows[[10, 20, 30]]  # near the seed image 0
    sampler, note = prepared(monkeypatch, animals(), rows.astype(np.float16), seed_items=[0],
                             neighbours=3)  # fmt: skip
    assert note == "sampler expansion: 1 seed items by cosine; embeddings: cache hit"
    assert picks(sampler, range(1, N), 3) == {10, 20, 30}


def test_refusals(monkeypatch, features):
    with pytest.raises(HitlbenchError, match="needs a concept task .* or seed_items"):
        prepared(monkeypatch, animals(), features)
    with pytest.raises(HitlbenchError, match=r"seed_items \[60\] are not dataset indices"):
        prepared(monkeypatch, task(), features, seed_items=[1, 60])
    mythical = {"name": "mythical", "positives": ["cat"], "phrases": ["unicorn"]}
    with pytest.raises(HitlbenchError, match="'unicorn' \\(unicorn.n.01\\); 'mythical' \\(no Wo"):
        prepared(monkeypatch, task(mythical), features)
    random_weights = {"name": "timm", "params": {"arch": "resnet10t", "pretrained": False}}
    with pytest.raises(HitlbenchError, match="random weights; set pretrained: true"):
        prepared(monkeypatch, task(), features, embedder=random_weights)
    with pytest.raises(HitlbenchError, match="prepare"):
        samplers.create("expansion").select(pool(range(N)), 3, model=None, rng=None)
    for bad in ({"neighbours": 0}, {"seed_items": []}, {"seed_items": [-1]}):
        with pytest.raises(HitlbenchError, match="neighbours|seed_items"):
            samplers.create("expansion", **bad)


@datasets.register("test_expansion_animals")
class Animals(Dataset):
    """tiny_data named cat, dog and car."""

    offers = frozenset()

    def load(self):
        return animals()


def test_margin_with_an_expansion_cold_start_in_the_loop(monkeypatch, tmp_path):
    monkeypatch.setenv("HITLBENCH_CACHE", str(tmp_path / "cache"))
    first_batches = []
    select = module.Expansion.select

    def spy(self, pool, k, *, model, rng):
        first_batches.append(select(self, pool, k, model=model, rng=rng))
        return first_batches[-1]

    monkeypatch.setattr(module.Expansion, "select", spy)
    spec = resolve_spec({
        "dataset": {"name": "test_expansion_animals", "params": {"concept": CAT}},
        "sampler": {"name": "margin", "params": {"cold_start": "expansion"}},
        "classifier": {"name": "embedding_mlp", "params": {"lr": 0.01}},
        "rounds": 3, "batch_size": 10, "threads": 1, "device": "cpu",
    })  # fmt: skip
    started = []
    record, _ = execute(spec, out=tmp_path / "out", on_start=started.append)
    classifier, sampler = started[0]["prepared"].split("\n")
    assert classifier == "embeddings: computed and cached"
    assert sampler.startswith("sampler expansion: 1 of 1 phrases and 1 of 1 negative phrases")
    assert sampler.endswith("embeddings: cache hit")  # one embedding pass for both
    assert len(first_batches) == 1 and len(first_batches[0]) == 10  # then margin
    assert [row["n_labeled"] for row in record["rounds"]] == [10, 20, 30]
