"""Files for the photo-upload cases, made with Pillow: photos as phones write them (with GPS and a
serial number in EXIF), files that only pretend to be photos, and pixel floods."""

from __future__ import annotations

import io
import random
import struct
import zlib

from PIL import Image, PngImagePlugin

GPS_IFD = 0x8825
EXIF_IFD = 0x8769
# What a stored photo must never contain (from the metadata of the files below).
SECRETS = (b"SN-0123456789", b"PhoneMaker", b"near Sarmin", b"reporter phone 0999", b"xmpmeta")


def jpeg(size=(64, 48), colour=(200, 30, 30), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="JPEG", **save)
    return out.getvalue()


def gps_jpeg(orientation: int | None = None, size=(64, 48)) -> bytes:
    """A JPEG as a phone writes it: GPS position, camera make, serial number, a comment."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    if orientation:
        exif[0x0112] = orientation
    exif.get_ifd(EXIF_IFD)[0xA431] = "SN-0123456789"  # BodySerialNumber
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (35.0, 52.0, 3.0)
    gps[3] = "E"
    gps[4] = (36.0, 42.0, 11.0)
    return jpeg(size, exif=exif.tobytes(), comment=b"taken near Sarmin")


def png(mode="RGBA", size=(20, 10), colour=(0, 0, 255, 128), metadata=True, **save) -> bytes:
    info = PngImagePlugin.PngInfo()
    if metadata:
        info.add_text("Comment", "reporter phone 0999")
        info.add_text("XML:com.adobe.xmp", "<x:xmpmeta>GPS 35.8 36.7</x:xmpmeta>")
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, format="PNG", pnginfo=info, **save)
    return out.getvalue()


def encoded(fmt: str, mode="RGB", size=(16, 16), colour=(10, 120, 40), **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, format=fmt, **save)
    return out.getvalue()


def animated_webp() -> bytes:
    frames = [Image.new("RGB", (16, 16), (i * 80, 0, 0)) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, format="WEBP", save_all=True, append_images=frames[1:], duration=100)
    return out.getvalue()


def distinct_jpeg(n: int) -> bytes:
    """Photos that differ in their pixels (so none is taken for a repeat of another)."""
    return jpeg((32, 32), ((n * 37) % 256, (n * 91) % 256, (n * 53) % 256))


def noise_png(side: int, seed: int = 7) -> bytes:
    """Incompressible pixels: a PNG of about 3 x side^2 bytes."""
    pixels = random.Random(seed).randbytes(side * side * 3)  # noqa: S311 (test data, not secrets)
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), pixels).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return struct.pack(">I", len(data)) + kind + data + crc


def png_flood(width: int, height: int) -> bytes:
    """A pixel flood: a PNG header claiming width x height, with a few bytes of data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\x00" * 4096))
        + _chunk(b"IEND", b"")
    )


def jpeg_flood(width: int, height: int) -> bytes:
    """A small JPEG whose frame header (SOF0) is rewritten to claim width x height."""
    data = bytearray(jpeg((8, 8)))
    at = data.index(b"\xff\xc0")
    data[at + 5 : at + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def bad_crc_png() -> bytes:
    data = bytearray(png(metadata=False))
    data[29] ^= 0xFF  # the first byte of the IHDR chunk's CRC (8 + 4 + 4 + 13 bytes in)
    return bytes(data)


SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script><rect width='10' height='10'/></svg>"
)
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 57
ZIP_TAIL = b"PK\x03\x04" + b"reliability-polyglot-payload" * 8
