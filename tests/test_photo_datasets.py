"""The photo-dataset loaders read tiny fixtures written in each native format (DESIGN §4)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hitlbench.data import datasets, photo
from hitlbench.data.coco_boxes import COCOBoxes
from hitlbench.data.cub200 import CUB200
from hitlbench.data.hf_boxes import HFBoxes
from hitlbench.data.imagefolder_boxes import ImageFolderBoxes
from hitlbench.data.stanford_dogs import StanfordDogs
from hitlbench.data.voc_boxes import VOCBoxes
from hitlbench.data.yolo_boxes import YOLOBoxes
from hitlbench.testing import check_dataset
from hitlbench.types import HitlbenchError

S = 16  # image_size of every fixture load
CLASSES = ("alpha", "beta", "gamma")
SIZES = [(40, 32), (48, 40), (32, 48), (56, 24)]
N = 15  # 5 images per class


def spec(k: int) -> tuple[int, int, int, tuple[float, float, float, float]]:
    """(width, height, label, xyxy box) of fixture image k; image 0 is (40x32, box 10,8,30,24)."""
    w, h = SIZES[k % len(SIZES)]
    box = (10, 8, 30, 24) if k == 0 else (1 + k % 5, 2, w - 3, h - 1 - k % 4)
    return w, h, k % 3, box


def is_test(k: int) -> bool:
    return k % 4 == 3  # images 3, 7 and 11: one per class


def picture(k: int) -> Image.Image:
    w, h, _, _ = spec(k)
    return Image.fromarray(np.random.default_rng(k).integers(0, 256, (h, w, 3), np.uint8))


def draw(path: Path, k: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    picture(k).save(path)


def png_bytes(k: int) -> bytes:
    buffer = io.BytesIO()
    picture(k).save(buffer, format="PNG")
    return buffer.getvalue()


def check_loaded(data, order: list[int], first_image: Path) -> None:
    """Shapes, labels, names, boxes scaled to S (exactly for image 0) and image 0's pixels."""
    assert data.images.shape == (len(order), 3, S, S) and data.images.dtype == np.uint8
    assert data.labels.dtype == np.int64
    assert data.labels.tolist() == [spec(k)[2] for k in order]
    assert data.class_names == CLASSES
    assert data.boxes.dtype == np.float32 and data.boxes.shape == (len(order), 4)
    assert order[0] == 0 and data.boxes[0].tolist() == [4.0, 4.0, 12.0, 12.0]
    expected = [np.array(spec(k)[3]) * S / np.array(spec(k)[:2] * 2) for k in order]
    np.testing.assert_allclose(data.boxes, np.array(expected), atol=1e-5)
    with Image.open(first_image) as image:
        pixels = np.asarray(image.convert("RGB").resize((S, S), Image.Resampling.BILINEAR))
    np.testing.assert_array_equal(data.images[0], pixels.transpose(2, 0, 1))
    assert len(data.provenance["sha256"]) == 64


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("HITLBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("HITLBENCH_DATA", raising=False)


# -- fixtures in the native formats ---------------------------------------------------------------


def make_cub(root: Path) -> Path:
    folders = [f"{c + 1:03d}.{name}" for c, name in enumerate(CLASSES)]
    lines = {n: [] for n in ("images", "image_class_labels", "bounding_boxes", "train_test_split")}
    for k in range(N):
        w, h, label, (x0, y0, x1, y1) = spec(k)
        name = f"{folders[label]}/{CLASSES[label]}_{k:02d}.jpg"
        draw(root / "images" / name, k)
        lines["images"].append(f"{k + 1} {name}")
        lines["image_class_labels"].append(f"{k + 1} {label + 1}")
        lines["bounding_boxes"].append(f"{k + 1} {x0:.1f} {y0:.1f} {x1 - x0:.1f} {y1 - y0:.1f}")
        lines["train_test_split"].append(f"{k + 1} {0 if is_test(k) else 1}")
    lines["classes"] = [f"{c + 1} {folder}" for c, folder in enumerate(folders)]
    for name, rows in lines.items():
        (root / f"{name}.txt").write_text("\n".join(rows) + "\n")
    return root / "images" / f"{folders[0]}/alpha_00.jpg"


def voc_xml(w: int, h: int, boxes: list) -> str:
    objects = "".join(
        f"<object><name>dog</name><bndbox><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin>"
        f"<xmax>{b[2]}</xmax><ymax>{b[3]}</ymax></bndbox></object>"
        for b in boxes
    )
    return (
        f"<annotation><filename>%s</filename><size><width>{w}</width><height>{h}</height>"
        f"<depth>3</depth></size>{objects}</annotation>"
    )


def make_dogs(root: Path) -> Path:
    from scipy.io import savemat

    breeds = [f"n0209{c}000-{name}" for c, name in enumerate(CLASSES)]
    test = []
    for k in range(N):
        w, h, label, box = spec(k)
        stem = f"{breeds[label][:9]}_{k:02d}"
        draw(root / "Images" / breeds[label] / f"{stem}.jpg", k)
        boxes = [(1, 1, 5, 5), box] if k == 0 else [box]  # image 0: the larger second dog counts
        (root / "Annotation" / breeds[label]).mkdir(parents=True, exist_ok=True)
        (root / "Annotation" / breeds[label] / stem).write_text(voc_xml(w, h, boxes))
        if is_test(k):
            test.append(f"{breeds[label]}/{stem}.jpg")
    file_list = np.empty((len(test), 1), dtype=object)
    file_list[:, 0] = test
    savemat(root / "test_list.mat", {"file_list": file_list})
    return root / "Images" / breeds[0] / "n02090000_00.jpg"


def make_imagefolder(root: Path) -> Path:
    rows = ["path,x0,y0,x1,y1"]
    for k in range(N):
        _, _, label, box = spec(k)
        name = f"{CLASSES[label]}/img{k:02d}.png"
        draw(root / name, k)
        if k == 0:
            rows.append(f"{name},0,0,4,4")  # a smaller second box: the largest one counts
        rows.append(f"{name},{','.join(str(v) for v in box)}")
    (root / "boxes.csv").write_text("\n".join(rows) + "\n")
    return root / "alpha" / "img00.png"


def make_coco(root: Path) -> Path:
    # Roboflow style: category 0 is an unused super-category
    categories = [{"id": 0, "name": "letters", "supercategory": "none"}]
    categories += [
        {"id": c + 1, "name": n, "supercategory": "letters"} for c, n in enumerate(CLASSES)
    ]
    images, annotations = [], []
    for k in range(N + 1):  # the last image has no box and is left out
        draw(root / f"{k:02d}.jpg", k)
        w, h, label, (x0, y0, x1, y1) = spec(k)
        images.append({"id": 100 + k, "file_name": f"{k:02d}.jpg", "width": w, "height": h})
        if k == N:
            continue
        if k == 0:  # a smaller box of another class: the largest box gives the label
            annotations.append({"id": 999, "image_id": 100, "category_id": 2, "bbox": [0, 0, 3, 3]})
            # a crowd region of another class, larger still: no object box, skipped
            crowd = {"id": 998, "image_id": 100, "category_id": 3, "bbox": [0, 0, 40, 32]}
            annotations.append({**crowd, "iscrowd": 1})
        bbox = [x0, y0, x1 - x0, y1 - y0]
        annotations.append(
            {"id": k, "image_id": 100 + k, "category_id": label + 1, "bbox": bbox, "iscrowd": 0}
        )
    coco = {"images": images, "annotations": annotations, "categories": categories}
    (root / "_annotations.coco.json").write_text(json.dumps(coco))
    return root / "00.jpg"


def voc_object(name: str, box, difficult: int = 0) -> str:
    corners = "".join(f"<{t}>{v}</{t}>" for t, v in zip(("xmin", "ymin", "xmax", "ymax"), box))
    return f"<object><name>{name}</name><difficult>{difficult}</difficult><bndbox>{corners}</bndbox></object>"


def make_voc(root: Path) -> Path:
    """JPEGImages/ + Annotations/*.xml + ImageSets/Main/test.txt, as most VOC exports are."""
    (root / "Annotations").mkdir(parents=True, exist_ok=True)
    (root / "ImageSets" / "Main").mkdir(parents=True, exist_ok=True)
    for k in range(N + 1):  # the last image's only object is difficult: left out, counted
        draw(root / "JPEGImages" / f"{k:02d}.jpg", k)
        w, h, label, box = spec(k)
        objects = [voc_object(CLASSES[label], box, difficult=int(k == N))]
        if k == 0:  # a smaller box of another class, and a larger difficult one: both lose
            objects += [voc_object("beta", (1, 1, 4, 4)), voc_object("gamma", (0, 0, w, h), 1)]
        size = f"<size><width>{w}</width><height>{h}</height><depth>3</depth></size>"
        xml = f"<annotation><filename>{k:02d}.jpg</filename>{size}{''.join(objects)}</annotation>"
        (root / "Annotations" / f"{k:02d}.xml").write_text(xml)
    test_ids = [f"{k:02d}" for k in range(N) if is_test(k)]
    (root / "ImageSets" / "Main" / "test.txt").write_text("\n".join(test_ids) + "\n")
    return root / "JPEGImages" / "00.jpg"


def make_yolo(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "data.yaml").write_text(
        f"train: ../train/images\nval: ../valid/images\nnc: 3\nnames: {list(CLASSES)}\n"
    )
    for k in range(N + 1):  # the last image is background (empty label file), left out
        folder = root / ("test" if is_test(k) else "train")
        draw(folder / "images" / f"{k:02d}.jpg", k)
        w, h, label, (x0, y0, x1, y1) = spec(k)
        line = f"{label} {(x0 + x1) / 2 / w} {(y0 + y1) / 2 / h} {(x1 - x0) / w} {(y1 - y0) / h}"
        lines = {0: ["1 0.05 0.05 0.1 0.1", line], N: []}.get(k, [line])
        (folder / "labels").mkdir(parents=True, exist_ok=True)
        (folder / "labels" / f"{k:02d}.txt").write_text("".join(f"{x}\n" for x in lines))
    return root / "train" / "images" / "00.jpg"


# -- loading ----------------------------------------------------------------------------------------

FOLDER_ORDER = sorted(range(N), key=lambda k: (spec(k)[2], k))  # class folders, then file names
YOLO_ORDER = [k for k in range(N) if not is_test(k)] + [k for k in range(N) if is_test(k)]
FORMATS = {
    "cub200": (CUB200, make_cub, list(range(N))),
    "stanford_dogs": (StanfordDogs, make_dogs, FOLDER_ORDER),
    "imagefolder_boxes": (ImageFolderBoxes, make_imagefolder, FOLDER_ORDER),
    "coco_boxes": (COCOBoxes, make_coco, list(range(N))),
    "yolo_boxes": (YOLOBoxes, make_yolo, YOLO_ORDER),
    "voc_boxes": (VOCBoxes, make_voc, list(range(N))),
}


@pytest.mark.parametrize("name", FORMATS)
def test_loads_native_format(name, tmp_path):
    cls, make, order = FORMATS[name]
    first = make(tmp_path / "data")
    dataset = cls(root=str(tmp_path / "data"), image_size=S)
    data = dataset.load()
    check_loaded(data, order, first)
    assert data.provenance["source"] == str(tmp_path / "data")
    check_dataset(dataset)


@pytest.mark.parametrize(
    ("name", "alias"),
    [("cub200", "birds"), ("stanford_dogs", "dogs"), ("imagefolder_boxes", "flowers17")]
    + [("yolo_boxes", "asl_letters"), ("coco_boxes", None), ("hf_boxes", None)]
    + [("voc_boxes", "pascal_voc")],
)
def test_registered(name, alias):
    assert datasets.aliases(name) == ([alias] if alias else [])


@pytest.mark.parametrize("name", ["cub200", "stanford_dogs", "yolo_boxes", "voc_boxes"])
def test_official_split(name, tmp_path):
    cls, make, order = FORMATS[name]
    make(tmp_path)
    split = cls(root=str(tmp_path), image_size=S, split="official").build(np.random.default_rng(0))
    assert split.data.official_test.tolist() == [is_test(k) for k in order]
    assert sorted(np.asarray(order)[split.holdout].tolist()) == [3, 7, 11]
    assert len(split.pool) == N - 3


@pytest.mark.parametrize("name", ["imagefolder_boxes", "coco_boxes"])
def test_no_official_split(name, tmp_path):
    cls, make, _ = FORMATS[name]
    make(tmp_path)
    with pytest.raises(HitlbenchError, match="no official test split"):
        cls(root=str(tmp_path), image_size=S, split="official").build(np.random.default_rng(0))


def test_skipped_images_are_counted(tmp_path):
    make_coco(tmp_path / "coco")
    make_yolo(tmp_path / "yolo")
    make_voc(tmp_path / "voc")
    for data in (
        COCOBoxes(root=str(tmp_path / "coco"), image_size=S).load(),
        YOLOBoxes(root=str(tmp_path / "yolo"), image_size=S).load(),
        VOCBoxes(root=str(tmp_path / "voc"), image_size=S).load(),
    ):
        assert data.provenance["images_without_boxes"] == 1
        assert len(data) == N


def test_coco_crowd_regions_are_not_objects(tmp_path):
    make_coco(tmp_path)  # image 0 has a crowd region larger than its object, of another class
    data = COCOBoxes(root=str(tmp_path), image_size=S).load()
    assert data.provenance["crowd_regions_skipped"] == 1
    assert data.labels[0] == spec(0)[2] and data.boxes[0].tolist() == [4.0, 4.0, 12.0, 12.0]
    replace_in(
        tmp_path / "_annotations.coco.json",
        '"bbox": [10, 8, 20, 16], "iscrowd": 0',
        '"bbox": [10, 8, 20, 16], "iscrowd": 1',
    )
    replace_in(
        tmp_path / "_annotations.coco.json",
        '"category_id": 2, "bbox": [0, 0, 3, 3]',
        '"category_id": 2, "bbox": [0, 0, 3, 3], "iscrowd": 1',
    )
    only_crowds = COCOBoxes(root=str(tmp_path), image_size=S).load()
    assert len(only_crowds) == N - 1 and only_crowds.provenance["images_without_boxes"] == 2


def test_yolo_class_names_must_match_the_ids_label_lines_use(tmp_path):
    make_yolo(tmp_path)
    replace_in(tmp_path / "data.yaml", "nc: 3", "nc: 4")
    with pytest.raises(HitlbenchError, match="nc is 4 but `names` lists 3 classes"):
        YOLOBoxes(root=str(tmp_path), image_size=S).load()
    (tmp_path / "data.yaml").write_text("names: {0: alpha, 1: beta, 3: gamma}\n")
    with pytest.raises(HitlbenchError, match="maps class ids"):
        YOLOBoxes(root=str(tmp_path), image_size=S).load()


OVERSHOOT = {  # image 0's box (10, 8, 30, 24) on 40x32, pushed just past the right edge
    "cub200": lambda r: replace_in(r / "bounding_boxes.txt", "1 10.0 8.0 20.0", "1 10.0 8.0 30.6"),
    "stanford_dogs": lambda r: replace_in(r / DOG_ANNOTATION, "<xmax>30<", "<xmax>41<"),
    "imagefolder_boxes": lambda r: replace_in(r / "boxes.csv", "img00.png,10,8,30", "img00.png,10,8,40.6"),
    "coco_boxes": lambda r: replace_in(r / "_annotations.coco.json", "[10, 8, 20, 16]", "[10, 8, 30.6, 16]"),
    "yolo_boxes": lambda r: replace_in(r / "train/labels/00.txt", "0 0.5 0.5 0.5", "0 0.75 0.5 0.5008"),
    "voc_boxes": lambda r: replace_in(r / "Annotations/00.xml", "<xmax>30<", "<xmax>41<"),
}  # fmt: skip


@pytest.mark.parametrize("name", OVERSHOOT)
def test_a_box_past_the_edge_is_clipped_to_the_image(name, tmp_path):
    cls, make, _ = FORMATS[name]
    make(tmp_path)
    OVERSHOOT[name](tmp_path)
    box = cls(root=str(tmp_path), image_size=S).load().boxes[0]
    assert box[2] == S and box[1] == 4.0 and box[3] == 12.0


def test_a_box_in_the_original_photo_s_pixels_is_refused_naming_its_annotation(tmp_path):
    """Image 0 is 40x32; its box given in the pixels of a 2x larger original is not clipped."""
    make_coco(tmp_path)
    replace_in(tmp_path / "_annotations.coco.json", "[10, 8, 20, 16]", "[20, 16, 40, 32]")
    message = (
        r"annotation 2 \(id 0\): box \(20, 16, 60, 48\) lies outside the image "
        r"\(x 0..40, y 0..32\) by more than rounding \(1 pixel\)"
    )
    with pytest.raises(HitlbenchError, match=message):
        COCOBoxes(root=str(tmp_path), image_size=S).load()


def yolo_with_classes_txt(root: Path) -> Path:
    """The YOLO fixture laid out as Label Studio exports it: classes.txt, no data.yaml."""
    first = make_yolo(root)
    (root / "data.yaml").unlink()
    (root / "classes.txt").write_text("".join(f"{name}\n" for name in CLASSES))
    return first


def test_yolo_reads_label_studio_s_classes_txt(tmp_path):
    first = yolo_with_classes_txt(tmp_path)
    data = YOLOBoxes(root=str(tmp_path), image_size=S).load()
    check_loaded(data, YOLO_ORDER, first)  # class names from classes.txt, in line order
    (tmp_path / "classes.txt").write_text("alpha\n\nbeta\ngamma\n")
    with pytest.raises(HitlbenchError, match=r"classes.txt line 2: blank line among the class"):
        YOLOBoxes(root=str(tmp_path), image_size=S).load()


def coco_json(root: Path) -> Path:
    return root / "_annotations.coco.json"


DUPLICATES = {  # (format, what is listed twice): (mutation, what the message must say)
    ("coco_boxes", "image id"): (
        lambda r: replace_in(coco_json(r), '"id": 101, "file_name"', '"id": 100, "file_name"'),
        r"_annotations.coco.json: images\[0\] and images\[1\] have the same id 100",
    ),
    ("coco_boxes", "file name"): (
        lambda r: replace_in(coco_json(r), '"file_name": "01.jpg"', '"file_name": "00.jpg"'),
        r"images\[0\] and images\[1\] have the same file_name '00.jpg'",
    ),
    ("voc_boxes", "file name"): (
        lambda r: replace_in(r / "Annotations/01.xml", "<filename>01.jpg<", "<filename>00.jpg<"),
        r"Annotations/01.xml: describes image .*JPEGImages/00.jpg, as .*Annotations/00.xml does",
    ),
    ("yolo_boxes", "file name"): (
        lambda r: draw(r / "train/images/00.png", 0),
        r"train/images/00.png: same file name as 00.jpg but for the suffix",
    ),
}


@pytest.mark.parametrize("case", DUPLICATES, ids=[f"{f}-{what}" for f, what in DUPLICATES])
def test_an_image_listed_twice_is_refused_naming_it(case, tmp_path):
    cls, make, _ = FORMATS[case[0]]
    make(tmp_path)
    mutate, message = DUPLICATES[case]
    mutate(tmp_path)
    with pytest.raises(HitlbenchError, match=message):
        cls(root=str(tmp_path), image_size=S).load()


def test_default_root_is_under_hitlbench_data(monkeypatch, tmp_path):
    make_cub(tmp_path / "CUB_200_2011")
    monkeypatch.setenv("HITLBENCH_DATA", str(tmp_path))
    data = datasets.create("birds", image_size=S).load()
    assert data.provenance["source"] == str(tmp_path / "CUB_200_2011")


def test_second_load_comes_from_the_cache(monkeypatch, tmp_path):
    make_imagefolder(tmp_path)
    first = ImageFolderBoxes(root=str(tmp_path), image_size=S).load()
    monkeypatch.setattr(photo, "_decode", lambda *a: pytest.fail("decoded again"))
    again = ImageFolderBoxes(root=str(tmp_path), image_size=S).load()
    np.testing.assert_array_equal(first.images, again.images)
    np.testing.assert_array_equal(first.boxes, again.boxes)


@pytest.mark.parametrize("name", FORMATS)
def test_missing_root_says_where(name, tmp_path):
    cls = FORMATS[name][0]
    with pytest.raises(HitlbenchError, match="HITLBENCH_DATA") as info:
        cls().load()
    assert "Download it manually from http" in str(info.value)
    with pytest.raises(HitlbenchError, match="not a folder") as info:
        cls(root=str(tmp_path / "absent")).load()
    assert str(tmp_path / "absent") in str(info.value)


def test_bad_image_size_is_refused():
    with pytest.raises(HitlbenchError, match="image_size"):
        datasets.create("cub200", image_size=0)


# -- errors that name the offending file ------------------------------------------------------------


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (old, path)
    path.write_text(text.replace(old, new, 1))


def corrupt(path: Path) -> None:
    path.write_bytes(b"this is not an image")


def drop_dog_07(root: Path) -> None:
    """Remove test image 7 and its annotation: test_list.mat still lists it."""
    (root / "Images/n02091000-beta/n02091000_07.jpg").unlink()
    (root / "Annotation/n02091000-beta/n02091000_07").unlink()


CUB_FIRST = "images/001.alpha/alpha_00.jpg"
DOG_FIRST = "Images/n02090000-alpha/n02090000_00.jpg"
DOG_ANNOTATION = "Annotation/n02090000-alpha/n02090000_00"
ERRORS = [
    # (format, what is broken, mutation of the fixture root, file the message must name)
    ("cub200", "no area inside", lambda r: replace_in(r / "bounding_boxes.txt", "1 10.0 8.0 20.0", "1 40.2 8.0 0.5"), "bounding_boxes.txt"),
    ("cub200", "far outside", lambda r: replace_in(r / "bounding_boxes.txt", "1 10.0 8.0 20.0", "1 10.0 8.0 32.0"), "bounding_boxes.txt"),
    ("cub200", "x1 < x0", lambda r: replace_in(r / "bounding_boxes.txt", "1 10.0 8.0 20.0", "1 10.0 8.0 -5.0"), "bounding_boxes.txt"),
    ("cub200", "missing annotation file", lambda r: (r / "bounding_boxes.txt").unlink(), "bounding_boxes.txt"),
    ("cub200", "undecodable image", lambda r: corrupt(r / CUB_FIRST), "alpha_00.jpg"),
    ("cub200", "class id out of range", lambda r: replace_in(r / "image_class_labels.txt", "1 1\n", "1 4\n"), "image_class_labels.txt"),
    ("cub200", "missing image", lambda r: (r / CUB_FIRST).unlink(), "images.txt"),
    ("cub200", "box of an unknown image", lambda r: replace_in(r / "bounding_boxes.txt", "1 10.0", "99 10.0"), "bounding_boxes.txt"),
    ("stanford_dogs", "no area inside", lambda r: replace_in(r / DOG_ANNOTATION, "<xmin>10</xmin><ymin>8</ymin><xmax>30<", "<xmin>40.2</xmin><ymin>8</ymin><xmax>40.7<"), DOG_ANNOTATION),
    ("stanford_dogs", "far outside", lambda r: replace_in(r / DOG_ANNOTATION, "<xmax>30<", "<xmax>42<"), DOG_ANNOTATION),
    ("stanford_dogs", "x1 < x0", lambda r: replace_in(r / DOG_ANNOTATION, "<xmax>30<", "<xmax>3<"), DOG_ANNOTATION),
    ("stanford_dogs", "missing annotation file", lambda r: (r / DOG_ANNOTATION).unlink(), DOG_ANNOTATION),
    ("stanford_dogs", "undecodable image", lambda r: corrupt(r / DOG_FIRST), DOG_FIRST),
    ("stanford_dogs", "missing image", lambda r: (r / DOG_FIRST).unlink(), DOG_ANNOTATION),
    ("stanford_dogs", "test list names a missing image", drop_dog_07, "test_list.mat"),
    ("imagefolder_boxes", "no area inside", lambda r: replace_in(r / "boxes.csv", "img00.png,10,8,30", "img00.png,40.1,-1,40.9"), "boxes.csv"),
    ("imagefolder_boxes", "far outside", lambda r: replace_in(r / "boxes.csv", "img00.png,10,8,30", "img00.png,10,8,42"), "boxes.csv line 3"),
    ("imagefolder_boxes", "x1 < x0", lambda r: replace_in(r / "boxes.csv", "img00.png,10,8,30", "img00.png,10,8,5"), "boxes.csv"),
    ("imagefolder_boxes", "missing annotation file", lambda r: (r / "boxes.csv").unlink(), "boxes.csv"),
    ("imagefolder_boxes", "undecodable image", lambda r: corrupt(r / "alpha/img00.png"), "img00.png"),
    ("imagefolder_boxes", "image without a box", lambda r: draw(r / "beta/extra.png", 1), "boxes.csv"),
    ("imagefolder_boxes", "missing image", lambda r: (r / "beta/img01.png").unlink(), "boxes.csv"),
    ("coco_boxes", "no area inside", lambda r: replace_in(r / "_annotations.coco.json", "[10, 8, 20, 16]", "[-0.9, 10, 0.6, 20]"), "_annotations.coco.json"),
    ("coco_boxes", "far outside", lambda r: replace_in(r / "_annotations.coco.json", "[10, 8, 20, 16]", "[10, 8, 20, 48]"), "_annotations.coco.json annotation 2 (id 0)"),
    ("coco_boxes", "x1 < x0", lambda r: replace_in(r / "_annotations.coco.json", "[10, 8, 20, 16]", "[10, 8, -20, 16]"), "_annotations.coco.json"),
    ("coco_boxes", "missing annotation file", lambda r: (r / "_annotations.coco.json").unlink(), "_annotations.coco.json"),
    ("coco_boxes", "undecodable image", lambda r: corrupt(r / "00.jpg"), "00.jpg"),
    ("coco_boxes", "class id out of range", lambda r: replace_in(r / "_annotations.coco.json", '"category_id": 1, "bbox": [10', '"category_id": 7, "bbox": [10'), "_annotations.coco.json"),
    ("coco_boxes", "missing image", lambda r: (r / "00.jpg").unlink(), "_annotations.coco.json"),
    ("coco_boxes", "box of an unknown image", lambda r: replace_in(r / "_annotations.coco.json", '"image_id": 101', '"image_id": 555'), "_annotations.coco.json"),
    ("yolo_boxes", "no area inside", lambda r: replace_in(r / "train/labels/00.txt", "0 0.5 0.5 0.5", "0 1.002 0.5 0.002"), "00.txt"),
    ("yolo_boxes", "far outside", lambda r: replace_in(r / "train/labels/00.txt", "0 0.5 0.5 0.5", "0 0.75 0.5 0.52"), "00.txt line 2"),
    ("yolo_boxes", "x1 < x0", lambda r: replace_in(r / "train/labels/00.txt", "0 0.5 0.5 0.5", "0 0.5 0.5 -0.5"), "00.txt"),
    ("yolo_boxes", "missing annotation file", lambda r: (r / "train/labels/01.txt").unlink(), "01.txt"),
    ("yolo_boxes", "missing data.yaml", lambda r: (r / "data.yaml").unlink(), "data.yaml"),
    ("yolo_boxes", "undecodable image", lambda r: corrupt(r / "train/images/00.jpg"), "00.jpg"),
    ("yolo_boxes", "class id out of range", lambda r: replace_in(r / "train/labels/01.txt", "1 ", "3 "), "01.txt"),
    ("yolo_boxes", "labels of a missing image", lambda r: (r / "train/images/01.jpg").unlink(), "01.txt"),
    ("voc_boxes", "no area inside", lambda r: replace_in(r / "Annotations/00.xml", "<xmin>10</xmin><ymin>8</ymin><xmax>30<", "<xmin>40.2</xmin><ymin>8</ymin><xmax>40.7<"), "00.xml"),
    ("voc_boxes", "far outside", lambda r: replace_in(r / "Annotations/00.xml", "<xmax>30<", "<xmax>42<"), "00.xml object 0"),
    ("voc_boxes", "x1 < x0", lambda r: replace_in(r / "Annotations/00.xml", "<xmax>30<", "<xmax>3<"), "00.xml"),
    ("voc_boxes", "missing image", lambda r: (r / "JPEGImages/01.jpg").unlink(), "01.xml"),
    ("voc_boxes", "undecodable image", lambda r: corrupt(r / "JPEGImages/00.jpg"), "00.jpg"),
    ("voc_boxes", "invalid XML", lambda r: (r / "Annotations/02.xml").write_text("<annotation"), "02.xml"),
    ("voc_boxes", "object without a name", lambda r: replace_in(r / "Annotations/01.xml", "<name>beta</name>", "<name></name>"), "01.xml"),
    ("voc_boxes", "missing folder", lambda r: (r / "Annotations").rename(r / "Notes"), "Annotations"),
]  # fmt: skip


PROBLEM = {  # what each kind of breakage must say, besides the file's name
    "no area inside": "no area inside the image",
    "far outside": "outside the image .* by more than rounding",
    "x1 < x0": "x1 <= x0",
    "missing annotation file": "annotation file missing",
    "missing data.yaml": "annotation file missing",
    "undecodable image": "cannot decode image",
    "class id out of range": "class id",
    "missing image": "does not exist|annotation for a missing image",
    "box of an unknown image": "refers to image id",
    "image without a box": "no box for image",
    "test list names a missing image": "missing image",
    "labels of a missing image": "labels for a missing image",
    "invalid XML": "not valid Pascal VOC XML",
    "object without a name": "has no <name>",
    "missing folder": "folder missing",
}


@pytest.mark.parametrize(
    ("name", "broken", "mutate", "named"), ERRORS, ids=[f"{e[0]}-{e[1]}" for e in ERRORS]
)
def test_errors_name_the_file(name, broken, mutate, named, tmp_path):
    cls, make, _ = FORMATS[name]
    make(tmp_path)
    mutate(tmp_path)
    with pytest.raises(HitlbenchError, match=PROBLEM[broken]) as info:
        cls(root=str(tmp_path), image_size=S).load()
    assert named in str(info.value), str(info.value)


# -- Hugging Face datasets (local files, offline) ---------------------------------------------------


def hf_parquet(path: Path, ks: list[int], broken: dict | None = None) -> None:
    """A parquet file in the Hub's detection layout: embedded PNGs and nested `objects`."""
    from datasets import ClassLabel, Dataset, Features, List, Value
    from datasets import Image as HFImage

    rows = {"image": [], "objects": []}
    for k in ks:
        _, _, label, (x0, y0, x1, y1) = spec(k)
        bbox, category = [[x0, y0, x1 - x0, y1 - y0]], [label]
        if k == 0:  # a smaller second object of another class: the largest box counts
            bbox, category = [[0, 0, 2, 2], *bbox], [1, label]
        rows["image"].append({"bytes": png_bytes(k), "path": f"{k:02d}.png"})
        rows["objects"].append({"bbox": bbox, "category": category})
    for key, value in (broken or {}).items():
        rows[key][0] = value
    features = Features(
        {
            "image": HFImage(),
            "objects": {
                "bbox": List(List(Value("float32"), length=4)),
                "category": List(ClassLabel(names=list(CLASSES))),
            },
        }
    )
    Dataset.from_dict(rows, features=features).to_parquet(str(path))


def hf_dataset(tmp_path: Path, **params) -> HFBoxes:
    train, test = tmp_path / "train.parquet", tmp_path / "test.parquet"
    hf_parquet(train, [k for k in range(N) if not is_test(k)], params.pop("broken", None))
    hf_parquet(test, [k for k in range(N) if is_test(k)])
    params = {
        "path": "parquet",
        "data_files": {"train": str(train), "test": str(test)},
        "hf_test_split": "test",
        "image_column": "image",
        "label_column": "objects.category",
        "box_column": "objects.bbox",
        "box_format": "xywh",
        "load_kwargs": {"cache_dir": str(tmp_path / "hf")},
        "image_size": S,
        **params,
    }
    return HFBoxes(**params)


def test_hf_parquet_nested_objects(tmp_path):
    dataset = hf_dataset(tmp_path)
    data = dataset.load()
    draw(tmp_path / "first.png", 0)
    check_loaded(data, YOLO_ORDER, tmp_path / "first.png")
    assert data.official_test.tolist() == [is_test(k) for k in YOLO_ORDER]
    assert data.provenance["source"].startswith("parquet data_files=")
    check_dataset(dataset)
    split = HFBoxes(**{**dataset.get_params(), "split": "official"}).build(np.random.default_rng(0))
    assert sorted(np.asarray(YOLO_ORDER)[split.holdout].tolist()) == [3, 7, 11]


def test_hf_imagefolder_flat_columns(tmp_path):
    """Images as files, labels as strings, one normalised xyxy box per row (metadata.jsonl)."""
    lines = []
    for k in range(N):
        w, h, label, (x0, y0, x1, y1) = spec(k)
        draw(tmp_path / "images" / f"{k:02d}.png", k)
        box = [x0 / w, y0 / h, x1 / w, y1 / h]
        lines.append(
            json.dumps({"file_name": f"{k:02d}.png", "species": CLASSES[label], "box": box})
        )
    (tmp_path / "images" / "metadata.jsonl").write_text("\n".join(lines) + "\n")
    data = HFBoxes(
        path="imagefolder",
        data_dir=str(tmp_path / "images"),
        label_column="species",
        box_column="box",
        box_format="xyxy",
        box_normalized=True,
        load_kwargs={"cache_dir": str(tmp_path / "hf")},
        image_size=S,
    ).load()
    check_loaded(data, list(range(N)), tmp_path / "images" / "00.png")
    assert data.official_test is None


HF_ERRORS = [
    ("no area inside", {"broken": {"objects": {"bbox": [[50, 8, 20, 16]], "category": [0]}}}, "row 0"),
    ("x1 < x0", {"broken": {"objects": {"bbox": [[10, 8, -20, 16]], "category": [0]}}}, "row 0"),
    ("undecodable image", {"broken": {"image": {"bytes": b"junk", "path": "broken.png"}}}, "broken.png"),
    ("missing column", {"box_column": "objects.box"}, "objects.box"),
    ("missing column", {"label_column": "classes"}, "'classes'"),
    ("missing files", {"data_files": "/nonexistent/x.parquet", "hf_test_split": None}, "/nonexistent/x.parquet"),
]  # fmt: skip


@pytest.mark.parametrize(("broken", "params", "named"), HF_ERRORS, ids=[e[0] for e in HF_ERRORS])
def test_hf_errors_name_the_row_or_file(broken, params, named, tmp_path):
    with pytest.raises(HitlbenchError) as info:
        hf_dataset(tmp_path, **params).load()
    assert named in str(info.value), str(info.value)


def test_hf_the_same_image_in_two_rows_is_refused(tmp_path):
    (tmp_path / "copy").mkdir(), (tmp_path / "name").mkdir()
    image_1 = {"bytes": png_bytes(1), "path": "01.png"}  # row 0 made a copy of row 1
    with pytest.raises(HitlbenchError, match=r"row 1: image '01.png' is also .* row 0"):
        hf_dataset(tmp_path / "copy", broken={"image": image_1}).load()
    other = {"bytes": png_bytes(0), "path": "01.png"}  # another image that shares the name
    assert len(hf_dataset(tmp_path / "name", broken={"image": other}).load()) == N


def test_hf_a_box_beyond_the_image_is_refused(tmp_path):
    far = {"objects": {"bbox": [[10, 8, 32, 16]], "category": [0]}}  # x1 = 42 on a 40 px image
    with pytest.raises(HitlbenchError, match=r"row 0 \(image 00.png\): box .* lies outside"):
        hf_dataset(tmp_path, broken=far).load()


def test_hf_needs_a_path():
    with pytest.raises(HitlbenchError, match="set `path`"):
        datasets.create("hf_boxes").load()


def test_hf_class_id_out_of_range(tmp_path):
    from datasets import Dataset
    from datasets import Image as HFImage

    rows = {
        "image": [{"bytes": png_bytes(k), "path": f"{k:02d}.png"} for k in range(3)],
        "label": [0, -1, 1],
        "bbox": [list(spec(k)[3]) for k in range(3)],
    }
    Dataset.from_dict(rows).cast_column("image", HFImage()).to_parquet(str(tmp_path / "x.parquet"))
    dataset = HFBoxes(
        path="parquet",
        data_files=str(tmp_path / "x.parquet"),
        box_format="xyxy",
        load_kwargs={"cache_dir": str(tmp_path / "hf")},
        image_size=S,
    )
    with pytest.raises(HitlbenchError, match=r"row 1: class id -1 is out of range"):
        dataset.load()
