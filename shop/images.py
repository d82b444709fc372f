"""Uploaded images (product photos, post covers): check, re-encode as a clean WebP with a thumbnail, delete.

An upload is untrusted: its name and extension are ignored, only JPEG, PNG and
WebP parsers ever see its bytes, its pixel count is checked from the header
before anything is decoded, and what we store is re-encoded from the pixels
alone, so no EXIF (GPS position, camera serial), XMP or ICC data survives.
"""

import re
import secrets
import struct
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

MAX_BYTES = 8 * 1024 * 1024
# The pixel budget, per kind of file: the most pixels an upload may declare, checked from its header
# before any pixel is decoded, so that decoding and shrinking one stays under about 100 MB of a
# worker's memory. Peak memory added, measured in a fresh process (ru_maxrss, Pillow 13) for the
# worst image of each kind at its limit (see tests/test_images.py, which measures it again):
# - baseline JPEG, 24 MP: ~50 MB, as it decodes at 1/2 to 1/8 scale (draft);
# - progressive JPEG, 12 MP: ~85 MB, as libjpeg buffers every coefficient (6 bytes a pixel at 4:4:4);
# - PNG, 8 MP: ~80 MB, full decode (4 bytes a pixel) plus the premultiplied copy an RGBA resize makes;
# - WebP, 3 MP: ~75 MB, as Pillow's decoder holds the frame several times over.
# Before the budget a 40 MP PNG took ~670 MB here. An image is shown at MAX_SIDE at most anyway.
MEGAPIXEL_BUDGET = {"JPEG": 24, "progressive JPEG": 12, "PNG": 8, "WebP": 3}
MIN_SIDE = 200
MAX_SIDE = 1600
THUMB_SIDE = 400
WEBP_QUALITY = 82

# Only these parsers ever see an upload's bytes. A JPEG with extra frames, as many phones and
# cameras write, is opened by the JPEG parser and reported as MPO.
PARSERS = ("JPEG", "PNG", "WEBP")
STORED_NAME = re.compile(r"^[0-9a-f]{32}\.webp$")
THUMB_SUFFIX = "-thumb.webp"

# Pillow's own guard for any Image.open in the process: it warns above this and raises above twice
# this, so a bomb is stopped while its header is read. Our check gives the uploader the reason first.
Image.MAX_IMAGE_PIXELS = max(MEGAPIXEL_BUDGET.values()) * 1_000_000
# Modes Pillow resizes with a real filter; palette, 1-bit, 16-bit, CMYK ... are converted first.
RESAMPLED_MODES = ("RGB", "RGBA", "L", "LA")
# The cheapest of those each other mode converts to without losing anything the WebP could show.
GREY_MODES = ("1", "I", "I;16", "I;16B", "I;16L", "I;16N", "F")

# What Pillow raises on a broken, hostile or unsupported file. DecompressionBombWarning
# only arrives as an exception when warnings are errors, but then it must not become a 500.
UNREADABLE = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    struct.error,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)

NOT_AN_IMAGE = "That file is not an image we can read. Upload a JPEG, PNG or WebP."
EMPTY_FILE = "The file is empty. Choose an image to upload."
TOO_LARGE = f"The image is too large: at most {MAX_BYTES // (1024 * 1024)} MB."
TOO_SMALL = f"The image is too small: at least {MIN_SIDE} × {MIN_SIDE} pixels."
MAKE_IT_SMALLER = f"Make it smaller ({MAX_SIDE} pixels a side is plenty) and upload it again."
TOO_MANY_PIXELS = f"The image has too many pixels. {MAKE_IT_SMALLER}"
OVER_BUDGET = "The image has too many pixels: a {kind} may have at most {limit} megapixels. " + MAKE_IT_SMALLER


class ImageRejected(ValueError):
    """An upload that cannot be a stored image; the message is meant for the person uploading."""


def thumbnail_name(name: str) -> str:
    """Return the thumbnail's file name for a stored image name."""
    return name.removesuffix(".webp") + THUMB_SUFFIX


def save_image(upload: Any, folder: Path) -> str:
    """Check an upload, store it as WebP plus a thumbnail in ``folder`` and return the main file's name."""
    data = _read_limited(getattr(upload, "stream", upload))
    # Reading the EXIF orientation parses untrusted bytes too, so it is guarded like decoding.
    with _refused_if_unreadable():
        image = _prepare(_decode(data))
    main, thumb = _encode(image)
    name = secrets.token_hex(16) + ".webp"
    _write_both(folder, name, main, thumb)
    return name


def delete_image(name: str, folder: Path) -> None:
    """Remove a stored image and its thumbnail; refuse any name this module did not generate."""
    if not STORED_NAME.fullmatch(name):
        raise ValueError(f"Not a stored image name: {name!r}")
    for file_name in (name, thumbnail_name(name)):
        (folder / file_name).unlink(missing_ok=True)


def _read_limited(stream) -> bytes:
    """Read at most MAX_BYTES + 1 bytes, enough to tell a too-large file without reading it all."""
    chunks, remaining = [], MAX_BYTES + 1
    # A single read() may return less than asked on some streams, so keep reading to the limit.
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    data = b"".join(chunks)
    if not data:
        raise ImageRejected(EMPTY_FILE)
    if len(data) > MAX_BYTES:
        raise ImageRejected(TOO_LARGE)
    return data


@contextmanager
def _refused_if_unreadable() -> Iterator[None]:
    """Turn whatever Pillow raises on a broken or hostile file into a refusal the uploader can read."""
    try:
        yield
    except ImageRejected:
        raise
    except UNREADABLE as exc:
        if isinstance(exc, Image.DecompressionBombError | Image.DecompressionBombWarning):
            raise ImageRejected(TOO_MANY_PIXELS) from exc
        raise ImageRejected(NOT_AN_IMAGE) from exc


def _decode(data: bytes) -> Image.Image:
    """Open, verify and decode the bytes, refusing bombs before any pixel is decoded; at most MAX_SIDE."""
    with warnings.catch_warnings():
        # Pillow warns between one and two times MAX_IMAGE_PIXELS; _check_size refuses those with a reason.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        probe = Image.open(BytesIO(data), formats=PARSERS)
    with probe:
        _check_size(probe)
        probe.verify()
    # verify() leaves the image unusable and decodes nothing, so open again and load.
    image = Image.open(BytesIO(data), formats=PARSERS)
    if image.format in ("JPEG", "MPO"):
        # JPEG decodes at a reduced DCT scale (1/2 to 1/8) for free; Pillow keeps both sides >= the size asked.
        image.draft("RGB", _stored_size(image.size))
    image.load()
    return _shrunk(image)


def _check_size(image: Image.Image) -> None:
    """Refuse an image whose header declares more pixels than its kind's budget, or a side below MIN_SIDE."""
    width, height = image.size
    kind = _kind(image)
    if width * height > MEGAPIXEL_BUDGET[kind] * 1_000_000:
        raise ImageRejected(OVER_BUDGET.format(kind=kind, limit=MEGAPIXEL_BUDGET[kind]))
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ImageRejected(TOO_SMALL)


def _kind(image: Image.Image) -> str:
    """The key of MEGAPIXEL_BUDGET for an opened (not decoded) upload."""
    if image.format in ("JPEG", "MPO"):
        return "progressive JPEG" if image.info.get("progressive") else "JPEG"
    return "WebP" if image.format == "WEBP" else "PNG"


def _stored_size(size: tuple[int, int]) -> tuple[int, int]:
    """The size the stored image will have: the same shape, the longer side at most MAX_SIDE."""
    scale = min(1, MAX_SIDE / max(size))
    return max(1, int(size[0] * scale)), max(1, int(size[1] * scale))


def _shrunk(image: Image.Image) -> Image.Image:
    """The decoded image at most MAX_SIDE, made small first so that later copies cost little memory."""
    if image.mode not in RESAMPLED_MODES:
        # Pillow resizes palette and 1-bit images by nearest pixel (jagged), and 16-bit ones not at all.
        image = image.convert("L" if image.mode in GREY_MODES else _colour_mode(image))
    # In place: the full-size pixels go as soon as the small ones exist. The EXIF orientation stays in info.
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    return image


def _colour_mode(image: Image.Image) -> str:
    """RGBA only for an image with transparency: resizing RGBA makes a premultiplied copy, RGB does not."""
    return "RGBA" if image.has_transparency_data else "RGB"


def _prepare(image: Image.Image) -> Image.Image:
    """Turn the shrunk upload into an upright RGB image on white, without metadata."""
    upright = ImageOps.exif_transpose(image)
    rgba = upright.convert("RGBA")
    # A new image starts with empty info, so nothing from the upload's metadata can follow the pixels.
    clean = Image.new("RGB", rgba.size, "white")
    clean.paste(rgba, mask=rgba.getchannel("A"))
    return clean


def _encode(image: Image.Image) -> tuple[bytes, bytes]:
    """Encode the main image and its thumbnail as WebP bytes."""
    thumb = image.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    return _webp_bytes(image), _webp_bytes(thumb)


def _webp_bytes(image: Image.Image) -> bytes:
    """Encode one image as WebP with no EXIF, XMP or ICC chunk."""
    out = BytesIO()
    image.save(out, "WEBP", quality=WEBP_QUALITY, exif=b"", xmp="", icc_profile="")
    return out.getvalue()


def _write_both(folder: Path, name: str, main: bytes, thumb: bytes) -> None:
    """Write the image and its thumbnail, or neither: a failed write removes what was written."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        for path, content in ((folder / name, main), (folder / thumbnail_name(name), thumb)):
            # "x" never overwrites: a name collision fails instead of replacing another product's image.
            with path.open("xb") as file:
                written.append(path)
                file.write(content)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
