"""Colours and text fitting of the editor's pictures: the canvas (``widgets/_draw.py``)
and the SVG repr (``_svg.py``) draw with the same palette.

Owns the colours of the background, nodes, selection and failures, of port kinds,
node categories and run statuses, the font sizes, and how a text is cut to a width.
Imports nothing but the standard library.
"""

from __future__ import annotations

import functools

BACKGROUND = "#f6f7f9"
GRID_MINOR = "#e6e9ee"
GRID_MAJOR = "#d5dae1"
NODE_FILL = "#ffffff"
UNKNOWN_FILL = "#fbfbfc"
BORDER = "#c3c9d2"
TEXT = "#1f2937"
MUTED = "#6b7280"
MISSING = "#c62828"
SELECTED = "#2563eb"
FAILED = "#dc2626"
OK_GREEN = "#16a34a"

KIND_COLORS = {
    "text": "#3b82f6",
    "number": "#0d9488",
    "boolean": "#9333ea",
    "image": "#f59e0b",
    "video": "#e11d48",
    "audio": "#10b981",
    "json": "#64748b",
    "any": "#94a3b8",
}

CATEGORY_COLORS = {
    "input": "#dbeafe",
    "trigger": "#dbeafe",
    "model": "#ede9fe",
    "generate": "#ede9fe",
    "llm": "#dcfce7",
    "text": "#dcfce7",
    "image": "#fef3c7",
    "compose": "#fef3c7",
    "video": "#ffe4e6",
    "audio": "#d1fae5",
    "process": "#e0f2fe",
    "logic": "#f3e8ff",
    "output": "#e2e8f0",
    "utility": "#f1f5f9",
}
UNKNOWN_HEADER = "#eceff3"

STATUS_COLORS = {
    "pending": "#9ca3af",
    "queued": "#9ca3af",
    "running": "#2563eb",
    "in_progress": "#2563eb",
    "completed": "#16a34a",
    "cached": "#0d9488",
    "failed": "#dc2626",
    "timeout": "#dc2626",
    "skipped": "#a3a3a3",
    "cancelled": "#ea580c",
}

LABEL_FONT_PX = 13.0
SMALL_FONT_PX = 11.0
#: Below this screen size, text is not drawn at its normal size.
MIN_TEXT_PX = 6.0
CHAMFER = 6.0


@functools.lru_cache(maxsize=256)
def rgb(color: str) -> tuple[int, int, int]:
    c = color.lstrip("#")
    if len(c) == 3:
        c = "".join(ch * 2 for ch in c)
    return (int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16))


def kind_color(kind: str) -> str:
    return KIND_COLORS.get(kind, KIND_COLORS["any"])


def category_color(category: str, known: bool = True) -> str:
    if not known:
        return CATEGORY_COLORS.get(category, UNKNOWN_HEADER)
    return CATEGORY_COLORS.get(category, CATEGORY_COLORS["utility"])


def badge_width(status: str) -> float:
    """Width of a node's status pill (the canvas and the SVG draw the same)."""
    return 12 + 6.2 * len(status)


def status_color(status: str) -> str:
    key = status.strip().lower().split()[0] if status.strip() else ""
    return STATUS_COLORS.get(key, "#6b7280")


def fit_text(text: str, max_width: float, font_px: float) -> str:
    """``text`` cut with an ellipsis to about ``max_width`` (average glyph width)."""
    per_char = 0.6 * font_px
    n = int(max_width / per_char)
    if n <= 0:
        return ""
    if len(text) <= n:
        return text
    return text[: max(0, n - 1)] + "\u2026"


NOTE_FILL = "#fff8c5"
NOTE_BORDER = "#e3c85a"
#: how much of a bypassed node shows through the veil drawn over it
BYPASS_VEIL = 0.55


def note_lines(text: str, max_width: float, font_px: float) -> list[tuple[str, bool]]:
    """A note's Markdown as wrapped lines ``(text, bold)``, kept cheap: ``#`` headings
    bold, ``-``/``*`` items as bullets (continuation lines indented), ``**`` dropped,
    words wrapped at about ``max_width`` (average glyph width, as ``fit_text``)."""
    per_line = max(1, int(max_width / (0.6 * font_px)))
    out: list[tuple[str, bool]] = []
    for raw in text.splitlines() or [""]:
        line = raw.rstrip()
        stripped = line.lstrip()
        bold = stripped.startswith("#")
        lead = indent = ""
        if bold:
            stripped = stripped.lstrip("#").strip()
        elif stripped[:2] in ("- ", "* ", "+ "):
            lead, indent, stripped = "\u2022 ", "  ", stripped[2:].strip()
        stripped = stripped.replace("**", "").replace("__", "").replace("`", "")
        words = stripped.split()
        current = lead
        for word in words:
            while len(word) > per_line - len(indent):  # a word longer than a line is cut
                if current.strip():
                    out.append((current, bold))
                    current = indent
                room = per_line - len(current)
                out.append((current + word[:room], bold))
                word, current = word[room:], indent
            candidate = current + ("" if current.endswith(" ") or not current.strip() else " ") + word
            if len(candidate) > per_line and current.strip():
                out.append((current, bold))
                current = indent + word
            else:
                current = candidate
        out.append((current, bold))
    return out
