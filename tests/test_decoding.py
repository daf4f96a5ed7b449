"""Every image is decoded as an image viewer shows it (`data.decode.as_shown`), or refused by name."""

import io

import numpy as np
import pytest
from PIL import Image

from hitlbench.data.decode import as_shown
from hitlbench.data.imagefolder_boxes import ImageFolderBoxes
from hitlbench.types import HitlbenchError


def reopened(image: Image.Image, fmt: str = "PNG", **save) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **save)
    buffer.seek(0)
    return Image.open(buffer)


def grey16(value: int) -> Image.Image:
    return Image.fromarray(np.full((6, 6), value, np.uint16))


def test_an_imagefolder_of_16_bit_grey_pngs_is_scaled_not_clipped(tmp_path, monkeypatch):
    monkeypatch.setenv("HITLBENCH_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "data"
    rows = ["path,x0,y0,x1,y1"]
    for name, value in (("dark", 2000), ("bright", 50000)):
        (root / name).mkdir(parents=True)
        for k in range(2):
            grey16(value).save(root / name / f"{k}.png")
            rows.append(f"{name}/{k}.png,1,1,5,5")
    (root / "boxes.csv").write_text("\n".join(rows) + "\n")
    with Image.open(root / "dark" / "0.png") as image:
        assert image.mode == "I;16"  # what the fixture is
    data = ImageFolderBoxes(root=str(root), image_size=6).load()
    by_class = {name: data.images[data.labels == k] for k, name in enumerate(data.class_names)}
    assert (by_class["dark"] == round(2000 / 257)).all()  # 8, as a viewer shows it
    assert (by_class["bright"] == round(50000 / 257)).all()  # 195, not 255


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (grey16(65535), (255, 255, 255)),
        (grey16(0), (0, 0, 0)),
        (Image.fromarray(np.full((4, 4), 40000, np.int32), "I"), (156, 156, 156)),
        (Image.fromarray(np.full((4, 4), 0.5, np.float32), "F"), (128, 128, 128)),
        (Image.new("RGBA", (4, 4), (200, 0, 0, 0)), (255, 255, 255)),  # transparent: the page
        (Image.new("RGBA", (4, 4), (200, 0, 0, 255)), (200, 0, 0)),
        (Image.new("LA", (4, 4), (10, 0)), (255, 255, 255)),
        (Image.new("1", (4, 4), 1), (255, 255, 255)),
        (Image.new("CMYK", (4, 4), (0, 0, 0, 0)), (255, 255, 255)),
    ],
    ids=["16-bit white", "16-bit black", "I", "F", "RGBA clear", "RGBA opaque", "LA", "1", "CMYK"],
)
def test_every_mode_is_shown_as_a_viewer_shows_it(image, expected):
    rgb = as_shown(image, "x.png")
    assert rgb.mode == "RGB"
    assert np.asarray(rgb)[0, 0].tolist() == list(expected)


def test_a_palette_with_a_transparent_colour_is_composited_over_white():
    palette = Image.new("P", (4, 4), 1)
    palette.putpalette([0, 0, 0, 250, 10, 10] + [0] * 762)
    shown = as_shown(reopened(palette, transparency=1), "p.png")
    assert np.asarray(shown)[0, 0].tolist() == [255, 255, 255]
    assert np.asarray(as_shown(reopened(palette), "p.png"))[0, 0].tolist() == [250, 10, 10]


def test_the_exif_orientation_is_applied():
    wide = Image.new("RGB", (30, 10), (0, 90, 0))
    exif = wide.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to show
    shown = as_shown(reopened(wide, "JPEG", exif=exif.tobytes()), "phone.jpg")
    assert shown.size == (10, 30)


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        (Image.fromarray(np.full((4, 4), 3.5, np.float32), "F"), "values outside \\[0, 1\\]"),
        (Image.fromarray(np.full((4, 4), -4, np.int32), "I"), "values outside 0..65535"),
    ],
)
def test_an_image_no_single_scale_can_show_is_refused_by_name(image, problem):
    with pytest.raises(HitlbenchError, match=f"weird.tif: .*{problem}"):
        as_shown(image, "weird.tif")
