"""The built-in executors named by ``wireflow_nb.catalog._builtins``
(``wireflow_nb.engine.nodes:<name>``). Each is ``fn(ctx, inputs) -> outputs`` and runs on
the engine's thread pool (Pillow and ffmpeg work)."""

from __future__ import annotations

from .images import image_caption, image_crop, image_filter, image_grid, image_resize
from .inputs import input_audio, input_image, input_number, input_text, input_video, trigger
from .previews import image_to_image, image_to_video, text_to_image, text_to_video
from .text import text_template
from .video import video_from_images

__all__ = [
    "image_caption",
    "image_crop",
    "image_filter",
    "image_grid",
    "image_resize",
    "image_to_image",
    "image_to_video",
    "input_audio",
    "input_image",
    "input_number",
    "input_text",
    "input_video",
    "text_template",
    "text_to_image",
    "text_to_video",
    "trigger",
    "video_from_images",
]
