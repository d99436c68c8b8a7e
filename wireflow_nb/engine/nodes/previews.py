"""Local previews of the hosted fal.ai model nodes.

Offline there is no model to call, so each preview draws a deterministic picture from
prompt + seed + size (a gradient, shapes, the prompt written on it) or a short real
MP4, and says ``"provider": "local-preview"`` in its output. The same inputs always give
the same bytes, so runs are reproducible and cacheable.
"""

from __future__ import annotations

import colorsys
import hashlib
import random
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageOps

from ...catalog import NUM_IMAGES
from ._media import (
    as_float,
    as_int,
    caption_band,
    even,
    font,
    images_result,
    load_image,
    mp4_bytes,
    video_result,
    whole_number,
)

PROVIDER = "local-preview"
#: Frames per second and largest size of preview videos (small, so they encode fast).
VIDEO_FPS = 8
VIDEO_BOX = (320, 240)


def _palette(prompt: str, seed: int) -> list[tuple[int, int, int]]:
    digest = hashlib.sha256(prompt.encode()).digest()
    rng = random.Random(seed)
    base = digest[0] / 255 + rng.random() * 0.15
    colors = []
    for i in range(4):
        hue = (base + i * (0.12 + digest[1 + i] / 2550)) % 1.0
        sat = 0.45 + digest[5 + i] / 510
        val = 0.55 + rng.random() * 0.4
        r, g, b = colorsys.hsv_to_rgb(hue, sat, val)
        colors.append((int(r * 255), int(g * 255), int(b * 255)))
    return colors


def _gradient(
    width: int, height: int, c1: tuple[int, int, int], c2: tuple[int, int, int], angle: float
) -> Image.Image:
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    t = xs * np.cos(angle) + ys * np.sin(angle)
    t -= t.min()
    t /= max(float(t.max()), 1.0)
    a, b = np.array(c1, np.float32), np.array(c2, np.float32)
    pixels = a[None, None, :] * (1 - t[..., None]) + b[None, None, :] * t[..., None]
    return Image.fromarray(pixels.astype(np.uint8), "RGB")


def draw_preview(prompt: str, seed: int, width: int, height: int, *, label: bool = True) -> Image.Image:
    """The picture of ``prompt`` at ``seed``: the same arguments give the same pixels."""
    colors = _palette(prompt, seed)
    rng = random.Random(f"{seed}|{prompt}|{width}x{height}")
    image = _gradient(width, height, colors[0], colors[1], rng.uniform(0, 3.1416)).convert("RGBA")
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    scale = min(width, height)
    for _ in range(rng.randint(5, 10)):
        color = (*rng.choice(colors[1:]), rng.randint(90, 190))
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        r = rng.uniform(0.06, 0.3) * scale
        shape = rng.random()
        if shape < 0.45:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=color)
        elif shape < 0.75:
            draw.rectangle((x - r, y - r * 0.6, x + r, y + r * 0.6), fill=color)
        else:
            points = [(x + rng.uniform(-r, r), y + rng.uniform(-r, r)) for _ in range(3)]
            draw.polygon(points, fill=color)
    image = Image.alpha_composite(image, overlay).convert("RGB")
    image = caption_band(image, prompt or "(no prompt)", position="bottom", size=max(11, scale // 20))
    if label:
        tag = ImageDraw.Draw(image)
        tag.text(
            (6, 4), f"local preview · seed {seed}", font=font(max(10, scale // 32)), fill=(255, 255, 255)
        )
    return image


def text_to_image(ctx: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    prompt = str(inputs.get("prompt") or "")
    width = as_int(inputs.get("width"), 512, 64, 2048)
    height = as_int(inputs.get("height"), 512, 64, 2048)
    count = whole_number(NUM_IMAGES, inputs.get("numImages"))
    seed = as_int(inputs.get("seed", ctx.seed), 0, 0)
    images = []
    for i in range(count):
        ctx.check_cancelled()
        images.append(draw_preview(prompt, seed + i, width, height))
        ctx.progress((i + 1) / count)
    return images_result(ctx, images, seed=seed, provider=PROVIDER, prompt=prompt)


def image_to_image(ctx: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    """The input image blended with the prompt's picture by ``strength``."""
    source = load_image(ctx, inputs.get("image")).convert("RGB")
    source = ImageOps.contain(source, (2048, 2048)) if max(source.size) > 2048 else source
    prompt = str(inputs.get("prompt") or "")
    strength = as_float(inputs.get("strength"), 0.6, 0.0, 1.0)
    seed = as_int(inputs.get("seed", ctx.seed), 0, 0)
    art = draw_preview(prompt, seed, source.width, source.height, label=False)
    out = Image.blend(source, art, strength * 0.7)
    out = caption_band(out, prompt, position="bottom") if prompt else out
    return images_result(ctx, [out], seed=seed, provider=PROVIDER, prompt=prompt, strength=strength)


def _frames_from(still: Image.Image, width: int, height: int, count: int, seed: int) -> list[np.ndarray]:
    """A slow zoom and pan across ``still`` (a Ken Burns move), ``count`` frames."""
    rng = random.Random(seed)
    dx, dy = rng.uniform(-0.08, 0.08), rng.uniform(-0.08, 0.08)
    big = ImageOps.fit(still.convert("RGB"), (int(width * 1.25), int(height * 1.25)))
    frames = []
    for i in range(count):
        t = i / max(1, count - 1)
        zoom = 1.25 - 0.2 * t
        w, h = width * zoom, height * zoom
        cx = big.width / 2 + dx * big.width * t
        cy = big.height / 2 + dy * big.height * t
        left = min(max(0.0, cx - w / 2), big.width - w)
        top = min(max(0.0, cy - h / 2), big.height - h)
        box = (left, top, left + w, top + h)
        frames.append(np.asarray(big.resize((width, height), Image.Resampling.BILINEAR, box=box)))
    return frames


def _video(
    ctx: Any, still: Image.Image, width: int, height: int, duration: float, seed: int, **extra: Any
) -> dict[str, Any]:
    count = max(2, round(duration * VIDEO_FPS))
    frames = _frames_from(still, width, height, count, seed)
    ctx.progress(0.5)
    data = mp4_bytes(frames, (width, height), VIDEO_FPS, ctx)
    return video_result(
        ctx, data, width, height, count / VIDEO_FPS, seed=seed, provider=PROVIDER, fps=VIDEO_FPS, **extra
    )


def text_to_video(ctx: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    prompt = str(inputs.get("prompt") or "")
    duration = as_float(inputs.get("durationSeconds"), 2.0, 0.5, 10.0)
    width = even(as_int(inputs.get("width"), 320, 64, 1280))
    height = even(as_int(inputs.get("height"), 240, 64, 1280))
    seed = as_int(inputs.get("seed", ctx.seed), 0, 0)
    still = draw_preview(prompt, seed, int(width * 1.25), int(height * 1.25))
    return _video(ctx, still, width, height, duration, seed, prompt=prompt)


def image_to_video(ctx: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    source = load_image(ctx, inputs.get("image")).convert("RGB")
    prompt = str(inputs.get("prompt") or "")
    duration = as_float(inputs.get("durationSeconds"), 2.0, 0.5, 10.0)
    seed = as_int(inputs.get("seed", ctx.seed), 0, 0)
    # fit the preview box (320x240), keeping the picture's shape
    scale = min(VIDEO_BOX[0] / source.width, VIDEO_BOX[1] / source.height)
    width, height = even(round(source.width * scale)), even(round(source.height * scale))
    still = caption_band(source, prompt, position="bottom") if prompt else source
    return _video(ctx, still, width, height, duration, seed, prompt=prompt)
