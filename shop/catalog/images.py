"""Product images: check an upload, re-encode it as a clean WebP with a thumbnail, delete it.

An upload is untrusted: its name and extension are ignored, only JPEG, PNG and
WebP parsers ever see its bytes, its pixel count is checked from the header
before anything is decoded, and what we store is re-encoded from the pixels
alone, so no EXIF (GPS position, camera serial), XMP or ICC data survives.
"""

import re
import secrets
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000
MIN_SIDE = 200
MAX_SIDE = 1600
THUMB_SIDE = 400
WEBP_QUALITY = 82

# Only these parsers ever see an upload's bytes. A JPEG with extra frames, as many phones and
# cameras write, is opened by the JPEG parser and reported as MPO.
PARSERS = ("JPEG", "PNG", "WEBP")
STORED_NAME = re.compile(r"^[0-9a-f]{32}\.webp$")
THUMB_SUFFIX = "-thumb.webp"

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
TOO_MANY_PIXELS = f"The image has too many pixels (at most {MAX_PIXELS // 1_000_000} megapixels)."


class ImageRejected(ValueError):
    """An upload that cannot be a product image; the message is meant for the person uploading."""


def thumbnail_name(name: str) -> str:
    """Return the thumbnail's file name for a stored image name."""
    return name.removesuffix(".webp") + THUMB_SUFFIX


def save_product_image(upload: Any, folder: Path) -> str:
    """Check an upload, store it as WebP plus a thumbnail in ``folder`` and return the main file's name."""
    data = _read_limited(getattr(upload, "stream", upload))
    # Reading the EXIF orientation parses untrusted bytes too, so it is guarded like decoding.
    with _refused_if_unreadable():
        image = _prepare(_decode(data))
    main, thumb = _encode(image)
    name = secrets.token_hex(16) + ".webp"
    _write_both(folder, name, main, thumb)
    return name


def delete_product_image(name: str, folder: Path) -> None:
    """Remove a stored image and its thumbnail; refuse any name this module did not generate."""
    if not STORED_NAME.fullmatch(name):
        raise ValueError(f"Not a stored product image name: {name!r}")
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
    """Open, verify and fully decode the bytes, refusing bombs before any pixel is decoded."""
    with Image.open(BytesIO(data), formats=PARSERS) as probe:
        _check_size(probe.size)
        probe.verify()
    # verify() leaves the image unusable and decodes nothing, so open again and load.
    image = Image.open(BytesIO(data), formats=PARSERS)
    if image.format in ("JPEG", "MPO"):
        # Decode big JPEGs at a reduced DCT scale to save memory; Pillow keeps both sides >= MAX_SIDE.
        image.draft("RGB", (MAX_SIDE, MAX_SIDE))
    image.load()
    return image


def _check_size(size: tuple[int, int]) -> None:
    """Refuse an image whose header declares too many pixels or a side below MIN_SIDE."""
    width, height = size
    if width * height > MAX_PIXELS:
        raise ImageRejected(TOO_MANY_PIXELS)
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ImageRejected(TOO_SMALL)


def _prepare(image: Image.Image) -> Image.Image:
    """Turn the decoded upload into an upright RGB image on white, without metadata, at most MAX_SIDE."""
    upright = ImageOps.exif_transpose(image)
    rgba = upright.convert("RGBA")
    # A new image starts with empty info, so nothing from the upload's metadata can follow the pixels.
    clean = Image.new("RGB", rgba.size, "white")
    clean.paste(rgba, mask=rgba.getchannel("A"))
    clean.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
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
