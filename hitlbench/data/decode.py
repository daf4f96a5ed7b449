"""Every photo decoded as an image viewer shows it, by Pillow, or refused by name.

One function for every loader, so that modes are handled the same way everywhere:

- the EXIF orientation is applied (a phone photo stored sideways is shown upright);
- the first frame of an animated or multi-page file is used;
- high bit depths are scaled to 8 bits, not clipped: 16-bit grey (`I;16*`, and `I` whose values
  fit in 16 bits) is divided by 257 (65,535 -> 255); 32-bit float grey (`F`) with values in
  [0, 1] is multiplied by 255; other `I` or `F` images are refused, since no single scale shows
  them as a viewer would;
- transparency (an alpha channel, or a palette or grey image with a transparent colour) is
  composited over white, as on a page;
- every other mode (1-bit, grey, palette, CMYK, YCbCr, LAB, HSV, ...) is converted by Pillow.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageOps

from ..types import HitlbenchError

SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I;16N", "I;16BS", "I;16LS", "I;16S")
BACKGROUND = (255, 255, 255)  # transparent pixels are shown over white


def _eight_bit_grey(image: Image.Image, name: str) -> Image.Image:
    """A 16-bit integer or 32-bit float grey image as 8-bit grey, scaled as a viewer does."""
    values = np.asarray(image)
    if image.mode == "F":
        if not (np.isfinite(values).all() and values.min() >= 0.0 and values.max() <= 1.0):
            raise HitlbenchError(
                f"{name}: a 32-bit float image with values outside [0, 1] "
                f"({np.nanmin(values):g} to {np.nanmax(values):g}); save it as 8 or 16 bits"
            )
        scaled = values.astype(np.float64) * 255.0
    else:
        if image.mode not in SIXTEEN_BIT and (values.min() < 0 or values.max() > 65535):
            raise HitlbenchError(
                f"{name}: a 32-bit integer image with values outside 0..65535 "
                f"({values.min()} to {values.max()}); save it as 8 or 16 bits"
            )
        scaled = values.astype(np.float64) / 257.0
    return Image.fromarray(np.rint(scaled).clip(0, 255).astype(np.uint8), "L")


def as_shown(image: Image.Image, name: str) -> Image.Image:
    """`image` (an opened Pillow image) as 8-bit RGB, as an image viewer shows it.

    Raises `HitlbenchError` naming `name` for an image no single scale can show.
    """
    image.seek(0)
    image = ImageOps.exif_transpose(image)
    if image.mode in SIXTEEN_BIT or image.mode in ("I", "F"):
        image = _eight_bit_grey(image, name)
    if "A" in image.getbands() or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*BACKGROUND, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")
