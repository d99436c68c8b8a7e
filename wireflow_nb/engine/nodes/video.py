"""Executor of ``video:from-images``: frames to an MP4."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image, ImageOps

from ..context import NodeError
from ._media import as_float, even, load_images, mp4_bytes, video_result

#: Largest side of a video made from images.
MAX_VIDEO_SIDE = 1280


def video_from_images(ctx: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    """Each image is shown ``secondsPerImage`` at ``fps``; frames take the first
    image's size (even sides, at most 1280)."""
    images = load_images(ctx, inputs.get("images"))
    if not images:
        raise NodeError("no frames: connect one or more images")
    fps = as_float(inputs.get("fps"), 2.0, 0.1, 60.0)
    per_image = as_float(inputs.get("secondsPerImage"), 1.0, 0.05, 60.0)
    first = images[0]
    scale = min(1.0, MAX_VIDEO_SIDE / max(first.width, first.height))
    width, height = even(int(first.width * scale)), even(int(first.height * scale))
    repeat = max(1, round(fps * per_image))
    frames = []
    for image in images:
        frame = ImageOps.pad(image.convert("RGB"), (width, height), Image.Resampling.LANCZOS, color=(0, 0, 0))
        frames.extend([np.asarray(frame)] * repeat)
    data = mp4_bytes(frames, (width, height), fps, ctx)
    return video_result(ctx, data, width, height, len(frames) / fps, frames=len(frames), fps=fps)
