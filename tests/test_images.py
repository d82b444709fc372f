"""Product image uploads: what is accepted, what is stored, what is refused, and deleting."""

import re
import struct
import subprocess
import sys
import time
import zlib
from io import BytesIO
from pathlib import Path

import pytest
from PIL import ExifTags, Image, PngImagePlugin
from werkzeug.datastructures import FileStorage

from shop import images
from shop.images import ImageRejected, delete_image, save_image, thumbnail_name

ROOT = Path(__file__).resolve().parents[1]
STORED_NAME = re.compile(r"^[0-9a-f]{32}\.webp$")
RED, BLUE, WHITE = (220, 30, 30), (30, 30, 220), (255, 255, 255)


@pytest.fixture
def folder(tmp_path):
    """An existing, empty upload folder."""
    path = tmp_path / "products"
    path.mkdir()
    return path


def upload(data: bytes, filename: str = "photo.jpg") -> FileStorage:
    """Wrap bytes as the FileStorage a form upload gives a view."""
    return FileStorage(stream=BytesIO(data), filename=filename)


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    """Encode an in-memory image in a given format."""
    out = BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def two_tone(size: tuple[int, int], left=RED, right=BLUE, mode: str = "RGB") -> Image.Image:
    """An image whose left half is one colour and right half another, to see rotations."""
    image = Image.new(mode, size, right)
    image.paste(left, (0, 0, size[0] // 2, size[1]))
    return image


def webp_chunks(data: bytes) -> list[str]:
    """The chunk names of a RIFF WebP file, to prove no metadata chunk was written."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    names, offset = [], 12
    while offset + 8 <= len(data):
        name, size = data[offset : offset + 4].decode("ascii"), struct.unpack("<I", data[offset + 4 : offset + 8])[0]
        names.append(name)
        offset += 8 + size + (size & 1)
    return names


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width × height pixels: a decompression bomb's calling card."""
    data = bytearray(encode(Image.new("1", (8, 8)), "PNG"))
    # IHDR is the first chunk: signature (8), length (4), b"IHDR" (4), then width and height; its CRC follows at 29.
    struct.pack_into(">II", data, 16, width, height)
    struct.pack_into(">I", data, 29, zlib.crc32(data[12:29]))
    return bytes(data)


def close_to(actual, expected, tolerance: int = 16) -> bool:
    """True when two RGB colours differ by at most ``tolerance`` per channel (WebP is lossy)."""
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def assert_clean_webp(path) -> None:
    """The stored file is a WebP with no EXIF, XMP or ICC data."""
    data = path.read_bytes()
    assert not {"EXIF", "XMP ", "ICCP"} & set(webp_chunks(data))
    with Image.open(path) as stored:
        assert stored.format == "WEBP"
        assert not stored.getexif()
        assert not {"exif", "xmp", "icc_profile"} & set(stored.info)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_accepts_jpeg_png_and_webp_and_stores_webp_at_most_1600_with_a_400_thumbnail(folder, fmt):
    image = two_tone((2000, 1500))  # within every kind's pixel budget (WebP's is the smallest)

    name = save_image(upload(encode(image, fmt)), folder)

    assert STORED_NAME.match(name)
    assert sorted(p.name for p in folder.iterdir()) == sorted([name, thumbnail_name(name)])
    with Image.open(folder / name) as stored, Image.open(folder / thumbnail_name(name)) as thumb:
        assert (stored.format, stored.size) == ("WEBP", (1600, 1200))
        assert (thumb.format, thumb.size) == ("WEBP", (400, 300))
        assert close_to(stored.convert("RGB").getpixel((400, 600)), RED)
        assert close_to(thumb.convert("RGB").getpixel((300, 150)), BLUE)


def test_png_transparency_is_flattened_on_white(folder):
    image = two_tone((400, 400), left=(0, 0, 0, 0), right=(*RED, 255), mode="RGBA")

    name = save_image(upload(encode(image, "PNG"), "logo.png"), folder)

    with Image.open(folder / name) as stored:
        assert stored.mode == "RGB"
        assert close_to(stored.getpixel((100, 200)), WHITE)
        assert close_to(stored.getpixel((300, 200)), RED)


def test_a_small_image_is_not_enlarged(folder):
    name = save_image(upload(encode(two_tone((300, 250)), "PNG")), folder)

    with Image.open(folder / name) as stored, Image.open(folder / thumbnail_name(name)) as thumb:
        assert stored.size == thumb.size == (300, 250)


def test_the_name_and_extension_sent_are_ignored(folder):
    name = save_image(upload(encode(two_tone((300, 300)), "PNG"), "../../etc/evil.php"), folder)

    assert STORED_NAME.match(name)
    assert sorted(p.name for p in folder.iterdir()) == sorted([name, thumbnail_name(name)])


def test_creates_the_folder_when_missing(tmp_path):
    folder = tmp_path / "uploads" / "products"

    name = save_image(upload(encode(two_tone((300, 300)), "JPEG")), folder)

    assert (folder / name).is_file() and (folder / thumbnail_name(name)).is_file()


def test_exif_and_gps_are_stripped_and_orientation_is_applied(folder):
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # the camera was turned: rotate 90° clockwise to show it
    exif[ExifTags.Base.Make] = "PhoneCo"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 31.0, 12.0)
    data = encode(two_tone((400, 200)), "JPEG", exif=exif)
    with Image.open(BytesIO(data)) as sent:  # the test image really carries the location
        assert sent.getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "N"

    name = save_image(upload(data), folder)

    for stored_name in (name, thumbnail_name(name)):
        assert_clean_webp(folder / stored_name)
    with Image.open(folder / name) as stored:
        # Rotated clockwise: the 400 × 200 picture stands up, and its left (red) half is now on top.
        assert stored.size == (200, 400)
        assert close_to(stored.getpixel((100, 100)), RED)
        assert close_to(stored.getpixel((100, 300)), BLUE)


def test_png_text_icc_and_exif_are_stripped(folder):
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "Jane Doe, jane@example.com")
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneCo"
    data = encode(two_tone((300, 300)), "PNG", pnginfo=text, icc_profile=b"not-really-a-profile", exif=exif)

    name = save_image(upload(data, "scan.png"), folder)

    assert_clean_webp(folder / name)
    assert b"Jane Doe" not in (folder / name).read_bytes()


def truncated_jpeg() -> bytes:
    """A real JPEG cut in half, as an interrupted upload leaves it."""
    data = encode(Image.effect_noise((600, 600), 50).convert("RGB"), "JPEG")
    return data[: len(data) // 2]


def png_with_bad_crc() -> bytes:
    """A PNG whose pixel data fails its checksum: decoding alone would not notice, verify() does."""
    data = bytearray(encode(two_tone((300, 300)), "PNG"))
    data[-16] ^= 0xFF  # the last IDAT chunk's CRC, just before the 12-byte IEND chunk
    return bytes(data)


NOT_AN_IMAGE = "That file is not an image we can read. Upload a JPEG, PNG or WebP."
MAKE_IT_SMALLER = "Make it smaller (1600 pixels a side is plenty) and upload it again."
TOO_MANY_PIXELS = f"The image has too many pixels. {MAKE_IT_SMALLER}"
PNG_OVER_BUDGET = f"The image has too many pixels: a PNG may have at most 8 megapixels. {MAKE_IT_SMALLER}"
REFUSALS = [
    pytest.param(lambda: b"Dear customer,\nthis is not a photo.\n", NOT_AN_IMAGE, id="text-renamed-jpg"),
    pytest.param(lambda: b"", "The file is empty. Choose an image to upload.", id="empty"),
    pytest.param(truncated_jpeg, NOT_AN_IMAGE, id="truncated-jpeg"),
    pytest.param(png_with_bad_crc, NOT_AN_IMAGE, id="png-bad-crc"),
    pytest.param(
        lambda: b'<svg xmlns="http://www.w3.org/2000/svg" width="300" height="300"><script>alert(1)</script></svg>',
        NOT_AN_IMAGE,
        id="svg",
    ),
    pytest.param(
        lambda: b"<!doctype html><html><body><img src=x onerror=alert(1)></body></html>", NOT_AN_IMAGE, id="html"
    ),
    pytest.param(lambda: encode(two_tone((300, 300)), "GIF"), NOT_AN_IMAGE, id="gif-not-accepted"),
    pytest.param(lambda: encode(two_tone((300, 300)), "BMP"), NOT_AN_IMAGE, id="bmp-not-accepted"),
    pytest.param(
        lambda: b"\xff\xd8\xff\xe0" + bytes(9 * 1024 * 1024), "The image is too large: at most 8 MB.", id="9-mb"
    ),
    pytest.param(
        lambda: encode(two_tone((100, 100)), "PNG"), "The image is too small: at least 200 × 200 pixels.", id="100x100"
    ),
    pytest.param(
        lambda: encode(two_tone((1200, 150)), "JPEG"),
        "The image is too small: at least 200 × 200 pixels.",
        id="one-side-too-short",
    ),
    # 48 MP: Pillow only warns (up to twice its limit), so our check stands in the way, and says why.
    pytest.param(lambda: png_declaring(8000, 6000), PNG_OVER_BUDGET, id="bomb-48-megapixels"),
    pytest.param(
        lambda: png_declaring(8000, 6000),
        PNG_OVER_BUDGET,
        id="bomb-48-megapixels-warning-as-error",
        marks=pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning"),
    ),
    # 90 MP: over twice Pillow's limit, so Pillow itself raises while reading the header.
    pytest.param(
        lambda: png_declaring(10000, 9000),
        TOO_MANY_PIXELS,
        id="bomb-90-megapixels-warning-as-error",
        marks=pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning"),
    ),
    # 400 MP: Pillow itself raises DecompressionBombError while opening.
    pytest.param(lambda: png_declaring(20000, 20000), TOO_MANY_PIXELS, id="bomb-400-megapixels"),
]


@pytest.mark.parametrize(("make_data", "message"), REFUSALS)
def test_refuses_with_a_clear_message_and_leaves_nothing(folder, make_data, message):
    with pytest.raises(ImageRejected) as refused:
        save_image(upload(make_data()), folder)

    assert str(refused.value) == message
    assert list(folder.iterdir()) == []


def test_refusal_does_not_create_the_folder(tmp_path):
    folder = tmp_path / "not-yet"

    with pytest.raises(ImageRejected):
        save_image(upload(b"not an image"), folder)

    assert not folder.exists()


def test_reads_no_more_than_the_limit_from_the_stream(folder):
    stream = BytesIO(bytes(50 * 1024 * 1024))

    with pytest.raises(ImageRejected):
        save_image(FileStorage(stream=stream, filename="huge.jpg"), folder)

    assert stream.tell() == images.MAX_BYTES + 1


def test_a_failed_write_leaves_nothing_behind(folder, monkeypatch):
    # The thumbnail's path points into a folder that does not exist, so its write fails after the main file's.
    monkeypatch.setattr(images, "thumbnail_name", lambda name: f"missing/{name}")

    with pytest.raises(OSError):
        save_image(upload(encode(two_tone((300, 300)), "PNG")), folder)

    assert list(folder.iterdir()) == []


def test_thumbnail_name():
    assert thumbnail_name("0123456789abcdef0123456789abcdef.webp") == "0123456789abcdef0123456789abcdef-thumb.webp"


def test_delete_removes_the_image_and_its_thumbnail(folder):
    name = save_image(upload(encode(two_tone((300, 300)), "PNG")), folder)

    delete_image(name, folder)

    assert list(folder.iterdir()) == []


def test_delete_of_an_image_already_gone_is_quiet(folder):
    assert delete_image("0123456789abcdef0123456789abcdef.webp", folder) is None
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize(
    "name",
    [
        "../x.webp",
        "x.webp",
        "/etc/passwd",
        "../0123456789abcdef0123456789abcdef.webp",
        "0123456789abcdef0123456789abcdef.webp/../../x.webp",
        "0123456789ABCDEF0123456789ABCDEF.webp",
        "0123456789abcdef0123456789abcdef-thumb.webp",
        "0123456789abcdef0123456789abcdef.webp\n",
    ],
)
def test_delete_refuses_names_it_did_not_generate(tmp_path, folder, name):
    outside = tmp_path / "x.webp"
    outside.write_bytes(b"keep me")

    with pytest.raises(ValueError):
        delete_image(name, folder)

    assert outside.read_bytes() == b"keep me"


# The pixel budget: what an upload may declare, so that one decode stays under 100 MB of a worker.


def png_of(width: int, height: int) -> bytes:
    """A real, fully decodable transparent RGBA PNG, built a row at a time so the test never holds its pixels."""
    compressor, row = zlib.compressobj(9), bytes(1 + 4 * width)  # filter byte 0, then transparent black
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def jpeg_declaring(width: int, height: int, progressive: bool = False) -> bytes:
    """A small JPEG whose frame header claims width × height pixels."""
    data = bytearray(encode(two_tone((300, 300)), "JPEG", progressive=progressive))
    frame = data.index(b"\xff\xc2" if progressive else b"\xff\xc0")
    struct.pack_into(">HH", data, frame + 5, height, width)
    return bytes(data)


def over_budget(kind: str, megapixels: int) -> str:
    """The refusal for an image over its kind's budget."""
    return f"The image has too many pixels: a {kind} may have at most {megapixels} megapixels. {MAKE_IT_SMALLER}"


def test_the_40_megapixel_png_is_refused_at_once_with_the_reason(folder):
    data = png_of(8000, 5000)
    assert len(data) < 200_000  # the attack: 155 KB that decodes to 40 million pixels

    started = time.perf_counter()
    with pytest.raises(ImageRejected) as refused:
        save_image(upload(data, "huge.png"), folder)

    assert str(refused.value) == over_budget("PNG", 8)
    assert time.perf_counter() - started < 0.5  # from the header; decoding took 1.6 s and 259 MB
    assert list(folder.iterdir()) == []


# 8 variants: each kind one pixel row over its budget, and a JPEG bomb of each kind.
OVER_BUDGET = [
    pytest.param(lambda: png_of(4000, 2001), over_budget("PNG", 8), id="png-8.004-mp"),
    pytest.param(lambda: png_declaring(4000, 2001), over_budget("PNG", 8), id="png-header-8.004-mp"),
    pytest.param(lambda: jpeg_declaring(6000, 4001), over_budget("JPEG", 24), id="jpeg-24.006-mp"),
    pytest.param(
        lambda: jpeg_declaring(4000, 3001, progressive=True),
        over_budget("progressive JPEG", 12),
        id="progressive-jpeg-12.004-mp",
    ),
    pytest.param(lambda: encode(Image.new("RGBA", (2000, 1501)), "WEBP"), over_budget("WebP", 3), id="webp-3.002-mp"),
    pytest.param(lambda: jpeg_declaring(65000, 65000), TOO_MANY_PIXELS, id="jpeg-bomb-4225-mp"),
    pytest.param(lambda: jpeg_declaring(65000, 65000, progressive=True), TOO_MANY_PIXELS, id="progressive-bomb"),
    # 42 MP: past Pillow's warning (24 MP), short of its error (48 MP): still our reason, not a warning.
    pytest.param(lambda: jpeg_declaring(7000, 6000), over_budget("JPEG", 24), id="jpeg-42-mp-past-pillow-warning"),
]


@pytest.mark.parametrize(("make_data", "message"), OVER_BUDGET)
def test_an_image_over_its_kinds_budget_is_refused_from_its_header(folder, make_data, message):
    with pytest.raises(ImageRejected) as refused:
        save_image(upload(make_data()), folder)

    assert str(refused.value) == message
    assert list(folder.iterdir()) == []


MAKE_WORST = """
import sys
from PIL import Image
mode, width, height, fmt, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
# Texture (not a flat colour) so that the JPEG and WebP decoders and the encoder do real work.
bands = [Image.effect_noise((width // 16, height // 16), 90).resize((width, height)) for _ in range(4)]
image = Image.merge("RGBA", bands)
if fmt == "PNG":
    image = Image.new("RGBA", (width, height))  # a textured RGBA PNG this big is over 8 MB
options = {"PNG": {}, "WEBP": {"quality": 85}}.get(fmt, {"quality": 85, "subsampling": 0})
options["progressive"] = fmt == "progressive JPEG"
image.convert(mode).save(path, "JPEG" if fmt.endswith("JPEG") else fmt, **options)
"""
MEASURE = """
import re, sys, tempfile
from pathlib import Path
from shop.images import save_image

def peak_rss_mb():
    # VmHWM, not ru_maxrss: after fork and exec, ru_maxrss still counts the parent's (pytest's) peak.
    return int(re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text())[1]) // 1024

before = peak_rss_mb()
with tempfile.TemporaryDirectory() as folder, open(sys.argv[1], "rb") as upload:
    save_image(upload, Path(folder))
print(peak_rss_mb() - before)
"""


@pytest.mark.parametrize(
    ("mode", "size", "fmt"),
    [
        ("RGB", (6000, 4000), "JPEG"),
        ("RGB", (4000, 3000), "progressive JPEG"),
        ("RGBA", (4000, 2000), "PNG"),
        ("RGBA", (2000, 1500), "WEBP"),
    ],
    ids=["jpeg-24-mp", "progressive-jpeg-12-mp", "png-rgba-8-mp", "webp-rgba-3-mp"],
)
def test_the_worst_image_each_budget_allows_is_stored_in_under_100_mb(tmp_path, mode, size, fmt):
    """Peak memory in a fresh process (the peak is a high-water mark, so the image is made in another)."""
    path = tmp_path / "worst"
    subprocess.run([sys.executable, "-c", MAKE_WORST, mode, *map(str, size), fmt, str(path)], check=True)
    assert path.stat().st_size <= images.MAX_BYTES

    measured = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)], check=True, capture_output=True, text=True, cwd=ROOT
    )

    print(f"{fmt} {size}: +{measured.stdout.strip()} MB")
    assert int(measured.stdout) < 100, f"{fmt} {size}: {measured.stdout.strip()} MB"
