"""Executors of the Pillow image nodes: resize, crop, grid, caption and filter."""

from __future__ import annotations

from typing import Any

from PIL import Image, ImageFilter, ImageOps

from ..context import NodeError
from ._media import MAX_SIDE, as_float, as_int, caption_band, images_result, load_image, load_images


def image_resize(ctx: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    """``fit`` inside the box (keeps the aspect), ``fill`` it (crops), or ``stretch``."""
    image = load_image(ctx, inputs.get("image"))
    width = as_int(inputs.get("width"), 512, 1, MAX_SIDE)
    height = as_int(inputs.get("height"), 512, 1, MAX_SIDE)
    mode = inputs.get("mode") or "fit"
    if mode == "fit":
        out = ImageOps.contain(image, (width, height), Image.Resampling.LANCZOS)
    elif mode == "fill":
        out = ImageOps.fit(image, (width, height), Image.Resampling.LANCZOS)
    elif mode == "stretch":
        out = image.resize((width, height), Image.Resampling.LANCZOS)
    else:
        raise NodeError(f"mode {mode!r} is not one of fit, fill, stretch")
    return images_result(ctx, [out])


def image_crop(ctx: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    image = load_image(ctx, inputs.get("image"))
    left = as_int(inputs.get("left"), 0, 0)
    top = as_int(inputs.get("top"), 0, 0)
    width = as_int(inputs.get("width"), 256, 1)
    height = as_int(inputs.get("height"), 256, 1)
    right, bottom = min(image.width, left + width), min(image.height, top + height)
    if left >= image.width or top >= image.height or right <= left or bottom <= top:
        raise NodeError(
            f"the crop box (left {left}, top {top}, {width}x{height}) is outside the "
            f"{image.width}x{image.height} image"
        )
    return images_result(ctx, [image.crop((left, top, right, bottom))])


def image_grid(ctx: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    """Images side by side in ``columns`` columns, each fitted into the same cell."""
    images = load_images(ctx, inputs.get("images"))
    if not images:
        raise NodeError("no images to put in a grid: connect one or more images")
    columns = min(as_int(inputs.get("columns"), 2, 1, 16), len(images))
    gap = as_int(inputs.get("gap"), 4, 0, 128)
    cell_w = min(max(i.width for i in images), 1024)
    cell_h = min(max(i.height for i in images), 1024)
    rows = (len(images) + columns - 1) // columns
    width = columns * cell_w + (columns + 1) * gap
    height = rows * cell_h + (rows + 1) * gap
    if max(width, height) > MAX_SIDE:
        scale = MAX_SIDE / max(width, height)
        cell_w, cell_h = max(1, int(cell_w * scale)), max(1, int(cell_h * scale))
        width = columns * cell_w + (columns + 1) * gap
        height = rows * cell_h + (rows + 1) * gap
    grid = Image.new("RGB", (width, height), (24, 24, 27))
    for i, image in enumerate(images):
        tile = ImageOps.contain(image.convert("RGB"), (cell_w, cell_h), Image.Resampling.LANCZOS)
        row, col = divmod(i, columns)
        x = gap + col * (cell_w + gap) + (cell_w - tile.width) // 2
        y = gap + row * (cell_h + gap) + (cell_h - tile.height) // 2
        grid.paste(tile, (x, y))
    return images_result(ctx, [grid])


def image_caption(ctx: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    image = load_image(ctx, inputs.get("image"))
    text = inputs.get("text")
    position = inputs.get("position") or "bottom"
    if position not in ("top", "bottom"):
        raise NodeError(f"position {position!r} is not one of top, bottom")
    return images_result(ctx, [caption_band(image, "" if text is None else str(text), position=position)])


def image_filter(ctx: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    image = load_image(ctx, inputs.get("image"))
    name = inputs.get("filter") or "grayscale"
    radius = as_float(inputs.get("radius"), 2.0, 0.0, 50.0)
    if name == "grayscale":
        out = ImageOps.grayscale(image).convert("RGB")
    elif name == "blur":
        out = image.filter(ImageFilter.GaussianBlur(radius))
    elif name == "sharpen":
        out = image.filter(ImageFilter.UnsharpMask(radius=max(radius, 0.5), percent=160, threshold=2))
    else:
        raise NodeError(f"filter {name!r} is not one of grayscale, blur, sharpen")
    return images_result(ctx, [out])
