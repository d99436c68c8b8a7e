"""The built-in node types. Executors live in ``wireflow_nb.engine.nodes`` and are
resolved on first run, so reading the catalog never imports Pillow or ffmpeg."""

from __future__ import annotations

from ._spec import InputSpec as I
from ._spec import NodeSpec, OutputSpec

_N = "wireflow_nb.engine.nodes"

IMAGE_PRICE = 10
VIDEO_PRICE = 50

#: Images per run of text-to-image: its executor and its price both count with this spec.
NUM_IMAGES = I("numImages", "integer", default=1, port=False, minimum=1, maximum=4)


BUILTINS: tuple[NodeSpec, ...] = (
    # inputs ---------------------------------------------------------------------------
    NodeSpec(
        "input:text",
        "Text",
        "input",
        inputs=(
            I("text", "text", default="", multiline=True, port=False, help="the text this node outputs"),
        ),
        # the hosted app names the same output `out-prompt` too (HOSTED-NOTES.md)
        outputs=(OutputSpec("text", "text"), OutputSpec("prompt", "text")),
        kind="input",
        executor=f"{_N}:input_text",
        description="A piece of text, e.g. a prompt.",
    ),
    NodeSpec(
        "input:number",
        "Number",
        "input",
        inputs=(I("value", "number", default=0, port=False),),
        outputs=(OutputSpec("value", "number"),),
        kind="input",
        executor=f"{_N}:input_number",
        description="A number.",
    ),
    NodeSpec(
        "input:image",
        "Image",
        "input",
        inputs=(
            I(
                "image",
                "image",
                required=True,
                port=False,
                help="an http(s) or data: URL, or a local file path",
            ),
        ),
        outputs=(OutputSpec("images", "image"),),
        kind="input",
        executor=f"{_N}:input_image",
        description="An image from a URL, a local path, bytes, a PIL image or a numpy array.",
    ),
    NodeSpec(
        "input:video",
        "Video",
        "input",
        inputs=(
            I(
                "video",
                "video",
                required=True,
                port=False,
                help="an http(s) or data: URL, or a local file path",
            ),
        ),
        outputs=(OutputSpec("videos", "video"),),
        kind="input",
        executor=f"{_N}:input_video",
        description="A video (MP4, WebM) from a URL, a local path or bytes.",
    ),
    NodeSpec(
        "input:audio",
        "Audio",
        "input",
        inputs=(
            I(
                "audio",
                "audio",
                required=True,
                port=False,
                help="an http(s) or data: URL, or a local file path",
            ),
        ),
        outputs=(OutputSpec("audio", "audio"),),
        kind="input",
        executor=f"{_N}:input_audio",
        description="A sound (WAV, MP3) from a URL, a local path or bytes, e.g. for a hosted audio model.",
    ),
    NodeSpec(
        "trigger",
        "Trigger",
        "input",
        inputs=(),
        outputs=(OutputSpec("data", "json"),),
        kind="input",
        executor=f"{_N}:trigger",
        extra={"dynamic_outputs": True},
        description="Outputs the fields of triggerData (connect from any field name).",
    ),
    # text -----------------------------------------------------------------------------
    NodeSpec(
        "text:template",
        "Template",
        "text",
        inputs=(
            I(
                "template",
                "text",
                default="",
                multiline=True,
                port=False,
                help="text with {{name}} placeholders (each one an input port) and {{trigger.x}}",
            ),
        ),
        outputs=(OutputSpec("text", "text"),),
        executor=f"{_N}:text_template",
        template_field="template",
        description="Fill {{placeholders}} of a text from inputs and trigger data.",
    ),
    # image ----------------------------------------------------------------------------
    NodeSpec(
        "image:resize",
        "Resize image",
        "image",
        inputs=(
            I("image", "image", required=True),
            I("width", "integer", default=512, port=False, minimum=1, maximum=8192),
            I("height", "integer", default=512, port=False, minimum=1, maximum=8192),
            I("mode", "choice", default="fit", choices=("fit", "fill", "stretch"), port=False),
        ),
        outputs=(OutputSpec("images", "image"),),
        executor=f"{_N}:image_resize",
        description="Resize an image (fit inside, fill and crop, or stretch).",
    ),
    NodeSpec(
        "image:crop",
        "Crop image",
        "image",
        inputs=(
            I("image", "image", required=True),
            I("left", "integer", default=0, port=False, minimum=0),
            I("top", "integer", default=0, port=False, minimum=0),
            I("width", "integer", default=256, port=False, minimum=1),
            I("height", "integer", default=256, port=False, minimum=1),
        ),
        outputs=(OutputSpec("images", "image"),),
        executor=f"{_N}:image_crop",
        description="Cut a rectangle out of an image.",
    ),
    NodeSpec(
        "image:grid",
        "Image grid",
        "image",
        inputs=(
            I("images", "image", required=True, multiple=True, help="connect several images"),
            I("columns", "integer", default=2, port=False, minimum=1, maximum=16),
            I("gap", "integer", default=4, port=False, minimum=0, maximum=128),
        ),
        outputs=(OutputSpec("images", "image"),),
        executor=f"{_N}:image_grid",
        description="Put several images into one grid image.",
    ),
    NodeSpec(
        "image:caption",
        "Caption image",
        "image",
        inputs=(
            I("image", "image", required=True),
            I("text", "text", default="", help="the caption"),
            I("position", "choice", default="bottom", choices=("top", "bottom"), port=False),
        ),
        outputs=(OutputSpec("images", "image"),),
        executor=f"{_N}:image_caption",
        description="Write a caption onto an image.",
    ),
    NodeSpec(
        "image:filter",
        "Filter image",
        "image",
        inputs=(
            I("image", "image", required=True),
            I("filter", "choice", default="grayscale", choices=("grayscale", "blur", "sharpen"), port=False),
            I("radius", "number", default=2, port=False, minimum=0, maximum=50, help="blur radius"),
        ),
        outputs=(OutputSpec("images", "image"),),
        executor=f"{_N}:image_filter",
        description="Grayscale, blur or sharpen an image.",
    ),
    # video ----------------------------------------------------------------------------
    NodeSpec(
        "video:from-images",
        "Images to video",
        "video",
        inputs=(
            I("images", "image", required=True, multiple=True, help="the frames, in edge order"),
            I("fps", "number", default=2, port=False, minimum=0.1, maximum=60),
            I("secondsPerImage", "number", default=1, port=False, minimum=0.05, maximum=60),
        ),
        outputs=(OutputSpec("videos", "video"),),
        executor=f"{_N}:video_from_images",
        description="Turn frames into an MP4 (ffmpeg from imageio-ffmpeg).",
    ),
    # models (local previews of the hosted fal.ai models) ---------------------------------
    NodeSpec(
        "model:fal:text-to-image",
        "Text to Image",
        "model",
        inputs=(
            I("prompt", "text", required=True, multiline=True, help="what to draw"),
            I("width", "integer", default=512, port=False, minimum=64, maximum=2048),
            I("height", "integer", default=512, port=False, minimum=64, maximum=2048),
            I("seed", "integer", default=None, port=False, minimum=0, help="empty: a new seed, recorded"),
            NUM_IMAGES,
        ),
        outputs=(OutputSpec("images", "image"),),
        price=IMAGE_PRICE,
        kind="model",
        executor=f"{_N}:text_to_image",
        generative=True,
        description="Generate an image from a prompt (local preview offline; fal.ai when hosted).",
    ),
    NodeSpec(
        "model:fal:image-to-image",
        "Image to Image",
        "model",
        inputs=(
            I("image", "image", required=True),
            I("prompt", "text", default="", multiline=True),
            I("strength", "number", default=0.6, port=False, minimum=0, maximum=1),
            I("seed", "integer", default=None, port=False, minimum=0),
        ),
        outputs=(OutputSpec("images", "image"),),
        price=IMAGE_PRICE,
        kind="model",
        executor=f"{_N}:image_to_image",
        generative=True,
        description="Transform an image guided by a prompt.",
    ),
    NodeSpec(
        "model:fal:image-to-video",
        "Image to Video",
        "model",
        inputs=(
            I("image", "image", required=True),
            I("prompt", "text", default="", multiline=True),
            I("durationSeconds", "number", default=2, port=False, minimum=0.5, maximum=10),
            I("seed", "integer", default=None, port=False, minimum=0),
        ),
        outputs=(OutputSpec("videos", "video"),),
        price=VIDEO_PRICE,
        kind="model",
        executor=f"{_N}:image_to_video",
        generative=True,
        description="Animate an image into a short video.",
    ),
    NodeSpec(
        "model:fal:text-to-video",
        "Text to Video",
        "model",
        inputs=(
            I("prompt", "text", required=True, multiline=True),
            I("durationSeconds", "number", default=2, port=False, minimum=0.5, maximum=10),
            I("width", "integer", default=320, port=False, minimum=64, maximum=1280),
            I("height", "integer", default=240, port=False, minimum=64, maximum=1280),
            I("seed", "integer", default=None, port=False, minimum=0),
        ),
        outputs=(OutputSpec("videos", "video"),),
        price=VIDEO_PRICE,
        kind="model",
        executor=f"{_N}:text_to_video",
        generative=True,
        description="Generate a short video from a prompt.",
    ),
)
