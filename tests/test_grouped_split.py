"""`split: grouped` keeps every copy of one source photo on one side of the split (DESIGN §4)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hitlbench.data import datasets
from hitlbench.data.splits import grouped_take
from hitlbench.data.yolo_boxes import YOLOBoxes, source_of
from hitlbench.types import HitlbenchError

LETTERS = ("A", "B", "C")
SOURCES = 8  # source photos per letter in train/, each exported as 3 augmented copies
COPIES = 3
REAL_DATA = os.environ.get("HITLBENCH_DATA")  # ../shared/data where a copy is at hand


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("HITLBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("HITLBENCH_DATA", raising=False)


def write_image(folder: Path, stem: str, label: int, seed: int) -> None:
    """One 12 x 12 photo and its YOLO label (one centred box)."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / "labels").mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (12, 12, 3), np.uint8)
    Image.fromarray(pixels).save(folder / "images" / f"{stem}.jpg")
    (folder / "labels" / f"{stem}.txt").write_text(f"{label} 0.5 0.5 0.5 0.5\n")


def make_roboflow(root: Path) -> Path:
    """A Roboflow-style export: train/ holds 3 copies of each source photo
    (`A0_jpg.rf.<hash>.jpg`), valid/ one photo of each letter."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "data.yaml").write_text(f"nc: 3\nnames: {list(LETTERS)}\n")
    seed = 0
    for label, letter in enumerate(LETTERS):
        for source in range(SOURCES):
            for _ in range(COPIES):
                seed += 1
                stem = f"{letter}{source}_jpg.rf.{seed:032x}"
                write_image(root / "train", stem, label, seed)
        write_image(root / "valid", f"{letter}99_jpg.rf.{seed + 1000:032x}", label, seed + 1000)
    return root


def test_a_roboflow_file_names_its_source_photo():
    assert source_of(Path("A0_jpg.rf.292a080422ba984985192f413101af41.jpg")) == "A0"
    assert source_of(Path("hand_12_png.rf.0f.png")) == "hand_12"
    assert source_of(Path("plain.jpg")) == "plain"


def test_the_loader_exposes_each_items_source(tmp_path):
    data = YOLOBoxes(root=str(make_roboflow(tmp_path / "asl")), image_size=8).load()
    assert data.groups.shape == (len(LETTERS) * (SOURCES * COPIES + 1),)
    names, counts = np.unique(data.groups, return_counts=True)
    assert len(names) == len(LETTERS) * (SOURCES + 1)
    assert sorted(set(counts.tolist())) == [1, COPIES]  # valid/ photos stand alone


@pytest.mark.parametrize("seed", range(5))
def test_no_source_photo_straddles_pool_and_holdout(tmp_path, seed):
    root = make_roboflow(tmp_path / "asl")
    split = YOLOBoxes(root=str(root), image_size=8, holdout=0.3).build(np.random.default_rng(seed))
    groups = split.data.groups
    assert not set(groups[split.pool]) & set(groups[split.holdout])
    assert len(split.pool) + len(split.holdout) == len(groups)
    # a stratified share of the 27 sources: round(0.3 x 27) = 8, so 3, 3 and 2 of the letters
    held_sources = {g: split.data.labels[split.holdout][groups[split.holdout] == g][0]
                    for g in set(groups[split.holdout])}  # fmt: skip
    assert sorted(np.bincount(list(held_sources.values())).tolist()) == [2, 3, 3]


def test_grouped_is_the_default_and_holdout_lets_copies_straddle(tmp_path):
    root = str(make_roboflow(tmp_path / "asl"))
    assert YOLOBoxes(root=root).split == "grouped"
    straddling = []
    for seed in range(5):
        split = YOLOBoxes(root=root, image_size=8, split="holdout", holdout=0.3).build(
            np.random.default_rng(seed)
        )
        groups = split.data.groups
        straddling.append(len(set(groups[split.pool]) & set(groups[split.holdout])))
    assert max(straddling) > 0  # the paper's random split of files: near-copies on both sides


def test_grouped_needs_a_dataset_that_declares_groups():
    dataset = datasets.create("digits", split="grouped")
    with pytest.raises(HitlbenchError, match="declares no groups"):
        dataset.build(np.random.default_rng(0))


def test_a_group_of_two_classes_is_refused():
    labels = np.array([0, 0, 1, 1])
    groups = np.array(["a", "a", "a", "b"])
    with pytest.raises(HitlbenchError, match="group 'a' holds items of more than one class"):
        grouped_take(labels, groups, np.arange(4), 0.5, np.random.default_rng(0))


def test_the_asl_letters_split_keeps_each_of_its_720_photos_on_one_side(monkeypatch):
    if REAL_DATA:
        monkeypatch.setenv("HITLBENCH_DATA", REAL_DATA)
    try:
        split = YOLOBoxes(image_size=8).build(np.random.default_rng(0))
    except HitlbenchError as exc:
        pytest.skip(f"no local copy here: {exc}")
    groups = split.data.groups
    assert len(groups) == 1728 and len(np.unique(groups)) == 720
    assert not set(groups[split.pool]) & set(groups[split.holdout])
    assert round(len(set(groups[split.holdout])) / 720, 2) == 0.15
