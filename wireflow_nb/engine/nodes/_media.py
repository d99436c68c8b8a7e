"""Helpers the built-in executors share: reading inputs (numbers, images), writing
image and video outputs in the wire shapes of DECISIONS.md, fonts and MP4 encoding."""

from __future__ import annotations

import io
import os
import tempfile
import textwrap
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..._media import decode_image
from ...catalog import InputSpec
from ..context import NodeError
from ..outputs import encode_png, image_output

__all__ = [
    "MAX_SIDE",
    "as_float",
    "as_int",
    "caption_band",
    "encode_png",
    "even",
    "font",
    "image_output",
    "images_result",
    "load_image",
    "load_images",
    "mp4_bytes",
    "video_result",
    "wrap_text",
]

#: The largest side of an image the local executors produce.
MAX_SIDE = 4096

_FORMAT_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}


def as_int(value: Any, default: int, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an int (``"12"``, ``12.0``), clamped; ``default`` when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        number = default
    else:
        try:
            number = round(float(value))
        except (TypeError, ValueError):
            raise NodeError(f"expected a whole number, got {value!r}") from None
    if minimum is not None:
        number = max(minimum, number)
    if maximum is not None:
        number = min(maximum, number)
    return number


def whole_number(spec: InputSpec, value: Any) -> int:
    """``InputSpec.whole_number`` (the rule the price counts with), as a ``NodeError``."""
    try:
        return spec.whole_number(value)
    except ValueError as exc:
        raise NodeError(str(exc)) from None


def as_float(value: Any, default: float, minimum: float | None = None, maximum: float | None = None) -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        number = default
    else:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise NodeError(f"expected a number, got {value!r}") from None
    if minimum is not None:
        number = max(minimum, number)
    if maximum is not None:
        number = min(maximum, number)
    return number


def even(n: int) -> int:
    """``n`` rounded down to an even number (H.264 wants even sides), at least 2."""
    return max(2, n - n % 2)


def load_image(ctx: Any, value: Any) -> Image.Image:
    """An input image (URL, media dict, path, data: URL or bytes) as RGB or RGBA."""
    if value is None or value == [] or value == "":
        raise NodeError("no image was given: connect an image or set a URL")
    if isinstance(value, Image.Image):
        image = value
    else:
        try:
            image = decode_image(ctx.load_bytes(value))
        except ValueError as exc:
            raise NodeError(str(exc)) from None
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
    return image


def load_images(ctx: Any, values: Any) -> list[Image.Image]:
    if values is None:
        return []
    if not isinstance(values, (list, tuple)):
        values = [values]
    return [load_image(ctx, v) for v in values if v not in (None, "")]


def images_result(ctx: Any, images: Iterable[Image.Image], **extra: Any) -> dict[str, Any]:
    return {"images": [image_output(ctx, image) for image in images], **extra}


def stored_image_item(ctx: Any, data: bytes) -> dict[str, Any]:
    """Store image bytes as they are when the browser can show them, else as PNG."""
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception as exc:
        raise NodeError(f"the input is not an image Pillow can read ({exc})") from None
    content_type = _FORMAT_TYPES.get(image.format or "")
    if content_type is None:
        return image_output(ctx, image.convert("RGBA" if "A" in image.getbands() else "RGB"))
    url = ctx.save_bytes(data, content_type, carry=False)  # a file given is passed on as it is
    return {"url": url, "width": image.width, "height": image.height, "contentType": content_type}


@lru_cache(maxsize=32)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType sizes
        return ImageFont.load_default()


def wrap_text(text: str, draw: ImageDraw.ImageDraw, face: Any, width: int, max_lines: int = 6) -> list[str]:
    """``text`` wrapped to lines no wider than ``width`` pixels."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        words = paragraph.split()
        line = ""
        for word in words:
            candidate = f"{line} {word}".strip()
            if draw.textlength(candidate, font=face) <= width or not line:
                line = candidate
            else:
                lines.append(line)
                line = word
        lines.append(line)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], textwrap.shorten(" ".join(lines[max_lines - 1 :]), 60)]
    return lines


def caption_band(
    image: Image.Image, text: str, *, position: str = "bottom", size: int | None = None
) -> Image.Image:
    """``image`` with ``text`` written on a translucent band at its top or bottom."""
    base = image.convert("RGBA")
    if not text.strip():
        return base.convert(image.mode if image.mode in ("RGB", "RGBA") else "RGB")
    face = font(size or max(12, base.height // 16))
    overlay = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    margin = max(4, base.width // 40)
    lines = wrap_text(text, draw, face, base.width - 2 * margin)
    line_height = int(getattr(face, "size", 12) * 1.25)
    band = line_height * len(lines) + 2 * margin
    top = 0 if position == "top" else base.height - band
    draw.rectangle((0, top, base.width, top + band), fill=(0, 0, 0, 150))
    for i, line in enumerate(lines):
        draw.text((margin, top + margin + i * line_height), line, font=face, fill=(255, 255, 255, 255))
    out = Image.alpha_composite(base, overlay)
    return out if image.mode == "RGBA" else out.convert("RGB")


def mp4_bytes(
    frames: Sequence[np.ndarray] | Iterable[np.ndarray], size: tuple[int, int], fps: float, ctx: Any
) -> bytes:
    """Encode RGB frames (``height x width x 3`` uint8) as an H.264 MP4 with the ffmpeg
    that imageio-ffmpeg ships. ``size`` is ``(width, height)``, both even."""
    import imageio_ffmpeg

    fd, path = tempfile.mkstemp(suffix=".mp4")
    os.close(fd)
    try:
        writer = imageio_ffmpeg.write_frames(
            path,
            size,
            fps=fps,
            codec="libx264",
            macro_block_size=2,
            ffmpeg_log_level="error",
            output_params=["-movflags", "+faststart"],
        )
        writer.send(None)
        try:
            for frame in frames:
                ctx.check_cancelled()
                writer.send(np.ascontiguousarray(frame, dtype=np.uint8))
        finally:
            writer.close()
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass


def video_result(
    ctx: Any, data: bytes, width: int, height: int, duration: float, **extra: Any
) -> dict[str, Any]:
    url = ctx.save_bytes(data, "video/mp4")
    item = {
        "url": url,
        "width": width,
        "height": height,
        "contentType": "video/mp4",
        "durationSeconds": round(duration, 3),
    }
    return {"videos": [item], **extra}
