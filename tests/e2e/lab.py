"""Helpers that drive one notebook open in JupyterLab: kernel, Run All, errors, code in
the kernel, and canvases (pixels, coordinates, frames).

Everything waits on a condition with a deadline; nothing sleeps a fixed time.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def wait_until(
    fn: Callable[[], T | None],
    *,
    timeout: float = 20.0,
    interval: float = 0.05,
    message: str | Callable[[], str] = "",
) -> T:
    """Call ``fn`` until it returns something truthy; return it, or fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while True:
        try:
            value = fn()
            if value:
                return value
        except AssertionError as exc:
            last_exc = exc
        if time.monotonic() > deadline:
            text = message() if callable(message) else message
            raise AssertionError(
                f"timed out after {timeout} s: {text}" + (f" ({last_exc})" if last_exc else "")
            )
        time.sleep(interval)


# Run code in the notebook's own kernel from the page, collecting its output. The
# request goes down the same websocket as the widgets' comm messages, after them, so
# the kernel handles every mouse event sent before it first.
_PANEL_JS = """
const findPanel = (path) => {
  for (const w of window.jupyterapp.shell.widgets('main')) {
    if (w.context && w.context.path === path) return w;
  }
  throw new Error('no notebook panel for ' + path);
};
"""
_EXECUTE_JS = (
    _PANEL_JS
    + """
async ({path, code, timeoutMs}) => {
  const panel = findPanel(path);
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  if (!kernel) throw new Error('notebook ' + path + ' has no kernel');
  const future = kernel.requestExecute({code, silent: false, store_history: false});
  let out = '', err = null;
  future.onIOPub = (msg) => {
    const t = msg.header.msg_type;
    if (t === 'stream') out += msg.content.text;
    else if (t === 'execute_result') out += (msg.content.data['text/plain'] || '');
    else if (t === 'error') err = msg.content.ename + ': ' + msg.content.evalue + '\\n' + msg.content.traceback.join('\\n');
  };
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('kernel did not answer in ' + timeoutMs + ' ms')), timeoutMs); });
  try { await Promise.race([future.done, timeout]); } finally { clearTimeout(timer); }
  return {out, err, t: performance.now()};
}
"""
)

# Errors the kernel reports outside cells: an exception in a widget's event handler is
# published as an `error` (or stderr) message whose parent is the comm message, which
# no output area shows (JupyterLab only logs it in its Log Console).
_KERNEL_ERRORS_JS = (
    _PANEL_JS
    + """
(path) => {
  const panel = findPanel(path);
  const store = window.__wfKernelErrors = window.__wfKernelErrors || {};
  if (store[path] && store[path].hooked === panel.sessionContext) return;
  store[path] = {hooked: panel.sessionContext, errors: []};
  panel.sessionContext.iopubMessage.connect((_, msg) => {
    const parent = msg.parent_header && msg.parent_header.msg_type;
    const t = msg.header.msg_type;
    if (t === 'error') {
      store[path].errors.push(`[${parent}] ${msg.content.ename}: ${msg.content.evalue}\\n` + msg.content.traceback.join('\\n'));
    } else if (t === 'stream' && msg.content.name === 'stderr') {
      let text = msg.content.text;
      // ipywidgets' harmless start-up probe: the front end opens a `jupyter.widget.control`
      // comm before the kernel imported ipywidgets (refused), then sends on it (ipywidgets
      // #3525). Its one "No such comm" is no handler's exception.
      if (text.includes('No such comm target registered: jupyter.widget.control')) {
        store[path].probe = true;
        text = text.replace(/^.*No such comm target registered: jupyter\\.widget\\.control.*$\\n?/m, '');
      }
      if (parent === 'comm_msg' && store[path].probe && /No such comm: [-0-9a-f]+/.test(text)) {
        store[path].probe = false;
        text = text.replace(/^.*No such comm: [-0-9a-f]+.*$\\n?/m, '');
      }
      if (parent === 'comm_msg' && text.trim()) store[path].errors.push(`[${parent}] stderr: ${text}`);
    }
  });
}
"""
)

# Count the frames copied onto visible canvases inside `root` (ipycanvas draws on a
# detached canvas, then every view copies it with drawImage), and time mouse events.
# Also: each canvas given to `target` gets its own list of frames ([time, calls]), and
# `calls` counts every 2D drawing call on any canvas (detached ones included), so the
# work done between an event ([type, time, calls]) and a frame can be told.
_FRAME_PROBE_JS = """
(rootSelector) => {
  if (window.__wfProbe) { window.__wfProbe.root = rootSelector; return; }
  const probe = window.__wfProbe = {root: rootSelector, frames: [], events: [], calls: 0, targets: {}};
  const proto = CanvasRenderingContext2D.prototype;
  const orig = proto.drawImage;
  probe.drawMs = [];  // [end time, duration] of each copy onto a visible layer
  proto.drawImage = function (...args) {
    probe.calls++;
    const t = performance.now();
    const result = orig.apply(this, args);
    const c = this.canvas;
    if (c && c.isConnected && c.closest) {
      const end = performance.now();
      if (c.closest(probe.root)) {
        probe.frames.push(end);
        probe.drawMs.push([end, end - t]);
      }
      for (const sel in probe.targets) if (c.closest(sel)) probe.targets[sel].push([end, probe.calls]);
    }
    return result;
  };
  for (const name of ['fillRect', 'strokeRect', 'clearRect', 'fill', 'stroke', 'fillText', 'strokeText', 'putImageData']) {
    const f = proto[name];
    proto[name] = function (...args) { probe.calls++; return f.apply(this, args); };
  }
  for (const type of ['mousedown', 'mousemove', 'mouseup', 'wheel', 'keydown']) {
    document.addEventListener(type, (e) => probe.events.push([type, performance.now(), probe.calls]), true);
  }
}
"""


class CanvasHandle:
    """An ipycanvas widget in the page, found by a CSS class given in Python."""

    def __init__(self, page: Any, scope: str, css_class: str) -> None:
        self.page = page
        self.selector = f"{scope} .{css_class}"
        self.root = page.locator(self.selector).first
        # a Canvas or a MultiCanvas (its layers composited) is one <canvas> carrying the
        # class; the editor's LayerStack (widgets/_stack.py) holds one <canvas> per layer,
        # the last (top) one receiving the events.
        self.layers_selector = f"{scope} canvas.{css_class}, {scope} .{css_class} canvas"
        self.top = page.locator(self.layers_selector).last

    # -- geometry -------------------------------------------------------------------
    def size(self) -> tuple[int, int]:
        """The canvas size in event units (its ``width``/``height`` attributes)."""
        w, h = self.top.evaluate("c => [c.width, c.height]")
        return int(w), int(h)

    def stable_box(self, timeout: float = 10.0) -> dict[str, float]:
        """The top canvas' bounding box once two reads 100 ms apart agree."""
        self.top.scroll_into_view_if_needed()
        prev: dict[str, float] | None = None

        def settled() -> dict[str, float] | None:
            nonlocal prev
            box = self.top.bounding_box()
            same = box is not None and prev is not None and all(abs(box[k] - prev[k]) < 0.5 for k in box)
            prev = box
            return box if same and box["width"] > 0 else None

        return wait_until(
            settled, timeout=timeout, interval=0.1, message=f"{self.selector} box never settled"
        )

    def to_page(self, x: float, y: float, box: dict[str, float] | None = None) -> tuple[float, float]:
        """Map event coordinates (canvas units, as ipycanvas reports them) to page pixels."""
        box = box or self.stable_box()
        w, h = self.size()
        return box["x"] + x * box["width"] / w, box["y"] + y * box["height"] / h

    # -- pixels ---------------------------------------------------------------------
    def pixel_stats(self) -> dict[str, Any]:
        """Composite every layer; report how much differs from the dominant colour, and a
        ``hash`` of the picture (to wait for a change)."""
        return self.root.evaluate(
            """root => {
              const layers = root.tagName === 'CANVAS' ? [root] : Array.from(root.querySelectorAll('canvas'));
              if (!layers.length) return {layers: 0, width: 0, height: 0, distinct: 0, nonBackground: 0, fraction: 0};
              const w = layers[0].width, h = layers[0].height;
              const out = document.createElement('canvas'); out.width = w; out.height = h;
              const ctx = out.getContext('2d');
              for (const c of layers) ctx.drawImage(c, 0, 0);
              const d = ctx.getImageData(0, 0, w, h).data;
              const counts = new Map();
              for (let i = 0; i < d.length; i += 16) {   // every 4th pixel is plenty
                const key = (d[i] << 24) ^ (d[i+1] << 16) ^ (d[i+2] << 8) ^ d[i+3];
                counts.set(key, (counts.get(key) || 0) + 1);
              }
              let top = 0, total = 0;
              for (const v of counts.values()) { total += v; if (v > top) top = v; }
              let hash = 0;   // of every 4th pixel: tells two frames apart
              for (let i = 0; i < d.length; i += 16) hash = (Math.imul(hash, 31) + d[i] + (d[i+1] << 8) + (d[i+2] << 16)) | 0;
              return {layers: layers.length, width: w, height: h, distinct: counts.size,
                      nonBackground: total - top, fraction: (total - top) / Math.max(total, 1), hash};
            }"""
        )

    def wait_nonblank(
        self, min_fraction: float = 0.002, min_colors: int = 3, timeout: float = 20.0
    ) -> dict[str, Any]:
        last: dict[str, Any] = {}

        def ok() -> dict[str, Any] | None:
            nonlocal last
            last = self.pixel_stats()
            return last if last["fraction"] >= min_fraction and last["distinct"] >= min_colors else None

        return wait_until(
            ok, timeout=timeout, interval=0.1, message=lambda: f"canvas {self.selector} blank: {last}"
        )

    def wait_changed(self, since: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        """Wait until the picture differs from ``since`` (an earlier ``pixel_stats()``)."""
        return wait_until(
            lambda: (lambda st: st if st["hash"] != since["hash"] else None)(self.pixel_stats()),
            timeout=timeout,
            interval=0.1,
            message=f"canvas {self.selector} did not change",
        )

    # -- frames and timing -----------------------------------------------------------
    def install_probe(self) -> None:
        """Probe the page's canvas drawing (once a page), with frames counted on this
        canvas, which also becomes a target of its own (see ``frames_since``)."""
        self.page.evaluate(_FRAME_PROBE_JS, self.selector)
        self.page.evaluate(
            "(sel) => { const t = window.__wfProbe.targets; t[sel] = t[sel] || []; }", self.layers_selector
        )

    def frames_since(self, t0: float) -> list[list[float]]:
        """``[time, calls]`` of each frame copied onto this canvas after page time ``t0``
        (``calls``: 2D drawing calls made on any canvas of the page so far)."""
        return list(
            self.page.evaluate(
                "([sel, t0]) => window.__wfProbe.targets[sel].filter(f => f[0] > t0)",
                [self.layers_selector, t0],
            )
        )

    def frame_count(self) -> int:
        return int(self.page.evaluate("() => window.__wfProbe.frames.length"))

    def dispatch_moves(self, points: list[tuple[float, float]]) -> float:
        """Fire ``mousemove`` events at page ``points`` on the top layer all at once (as
        a fast hand does; Playwright's mouse waits for each one); returns the page time."""
        return float(
            self.top.evaluate(
                """(c, pts) => {
                  for (const [x, y] of pts) {
                    c.dispatchEvent(new MouseEvent('mousemove', {clientX: x, clientY: y, bubbles: true}));
                  }
                  return performance.now();
                }""",
                [list(p) for p in points],
            )
        )

    def wait_own_frame_after(self, t0: float, timeout: float = 5.0) -> float | None:
        """Time (ms, page clock) of the first frame copied onto this canvas after ``t0``
        (``install_probe`` first), or None."""
        return self.page.evaluate(
            """async ([sel, t0, timeoutMs]) => {
              const frames = window.__wfProbe.targets[sel];
              const end = performance.now() + timeoutMs;
              while (performance.now() < end) {
                const f = frames.find(f => f[0] > t0);
                if (f !== undefined) return f[0];
                await new Promise(r => setTimeout(r, 1));
              }
              return null;
            }""",
            [self.layers_selector, t0, timeout * 1000],
        )

    def wait_quiet(self, quiet_ms: float = 80.0, timeout: float = 10.0) -> bool:
        """Wait until no frame was copied onto this canvas for ``quiet_ms``; False on timeout."""
        return bool(
            self.page.evaluate(
                """async ([sel, quietMs, timeoutMs]) => {
                  const frames = window.__wfProbe.targets[sel];
                  const end = performance.now() + timeoutMs;
                  while (performance.now() < end) {
                    const last = frames.length ? frames[frames.length - 1][0] : -Infinity;
                    if (performance.now() - last >= quietMs) return true;
                    await new Promise(r => setTimeout(r, 5));
                  }
                  return false;
                }""",
                [self.layers_selector, quiet_ms, timeout * 1000],
            )
        )

    def draw_ms_since(self, t0: float) -> list[float]:
        """Durations (ms) of the copies onto visible layers since page time ``t0``."""
        return list(
            self.page.evaluate("(t0) => window.__wfProbe.drawMs.filter(x => x[0] > t0).map(x => x[1])", t0)
        )

    def now(self) -> float:
        return float(self.page.evaluate("() => performance.now()"))

    def last_event_time(self, type_: str) -> float:
        return float(
            self.page.evaluate(
                "(t) => { const e = window.__wfProbe.events.filter(x => x[0] === t); return e.length ? e[e.length-1][1] : -1; }",
                type_,
            )
        )

    def wait_frame_after(self, t0: float, timeout: float = 5.0) -> float | None:
        """Time (ms, page clock) of the first frame drawn after ``t0``, or None."""
        return self.page.evaluate(
            """async ([t0, timeoutMs]) => {
              const end = performance.now() + timeoutMs;
              while (performance.now() < end) {
                const f = window.__wfProbe.frames.find(t => t > t0);
                if (f !== undefined) return f;
                await new Promise(r => setTimeout(r, 1));
              }
              return null;
            }""",
            [t0, timeout * 1000],
        )


def errors_in(scope: Any) -> list[str]:
    """Tracebacks, stderr output and widget errors ("Error displaying widget", a missing
    front-end extension) shown inside the locator ``scope``."""
    found: list[str] = []
    for sel in (
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]',
        ".jupyter-widgets-error-widget",
    ):
        found += [t.strip() for t in scope.locator(sel).all_text_contents() if t.strip()]
    found += [
        t.strip()
        for t in scope.locator(".jp-OutputArea-output").all_text_contents()
        if "Error displaying widget" in t or "Traceback (most recent call last)" in t
    ]
    return list(dict.fromkeys(found))


def assert_no_errors_in(scope: Any, where: str) -> None:
    errors = errors_in(scope)
    assert not errors, f"errors shown in {where}:\n" + "\n---\n".join(errors)


# Console lines Voila prints offline that mean nothing for the tests.
VOILA_NOISE = re.compile(
    r"ERR_NAME_NOT_RESOLVED|Unsatisfied version|No satisfying version|Available versions"
)


def console_errors(page: Any, ignore: re.Pattern[str] | None = None) -> list[str]:
    """Error lines of the browser console recorded by the ``page`` fixture."""
    lines = [line for line in getattr(page, "console_log", []) if line.startswith(("[error]", "[pageerror]"))]
    return [line for line in lines if not (ignore and ignore.search(line))]


class VoilaPage:
    """A notebook rendered as a standalone page by Voila (it runs the notebook on GET)."""

    def __init__(self, page: Any, url: str, path: str) -> None:
        self.page = page
        self.url = url
        self.path = path
        self.body = page.locator("body")

    def open(self, timeout: float = 60.0) -> None:
        self.page.goto(self.url, timeout=timeout * 1000)

    def errors(self) -> list[str]:
        return errors_in(self.body)

    def assert_no_errors(self) -> None:
        assert_no_errors_in(self.body, f"Voila page {self.path}")

    def canvas(self, css_class: str, timeout: float = 30.0) -> CanvasHandle:
        handle = CanvasHandle(self.page, "body", css_class)
        handle.top.wait_for(timeout=timeout * 1000)
        return handle

    def widget(self, css_class: str) -> Any:
        return self.page.locator(f".{css_class}").first


class NotebookPage:
    """One notebook open in JupyterLab in ``page``."""

    def __init__(self, page: Any, url: str, path: str) -> None:
        self.page = page
        self.url = url
        self.path = path
        self.panel = page.locator(PANEL)

    # -- lifecycle ------------------------------------------------------------------
    def open(self, timeout: float = 60.0) -> None:
        self.page.goto(self.url)
        self.panel.wait_for(timeout=timeout * 1000)
        self.page.evaluate(_KERNEL_ERRORS_JS, self.path)  # early: to see the widgets' start-up probe
        self.wait_kernel_ready(timeout)
        self.page.evaluate(_KERNEL_ERRORS_JS, self.path)  # again if the session changed meanwhile
        # More room for outputs: fold the left sidebar (the file browser).
        self.page.evaluate("() => window.jupyterapp.shell.collapseLeft()")

    def save(self) -> None:
        """Save the notebook (outputs included, so a reload shows the widget views)."""
        self.page.evaluate(_PANEL_JS + "async (path) => { await findPanel(path).context.save(); }", self.path)

    def reload(self, timeout: float = 60.0) -> None:
        """Reload the page; the notebook reattaches to its running kernel. Call ``save()``
        first: a reload shows what the file holds."""
        self.page.reload()
        self.panel.wait_for(timeout=timeout * 1000)
        self.wait_kernel_ready(timeout)
        self.page.evaluate(_KERNEL_ERRORS_JS, self.path)
        self.page.evaluate("() => window.jupyterapp.shell.collapseLeft()")

    def wait_kernel_ready(self, timeout: float = 60.0) -> None:
        def ready() -> bool:
            status = self.panel.locator(".jp-Notebook-ExecutionIndicator").first
            name = self.panel.locator(".jp-KernelName").first
            if not status.count() or not name.count():
                return False
            text = (name.text_content() or "").strip()
            return status.get_attribute("data-status") == "idle" and bool(text) and text != "No Kernel"

        wait_until(ready, timeout=timeout, interval=0.1, message=f"kernel of {self.path} never became idle")

    def run_all(self, timeout: float = 120.0) -> None:
        """Run > Run All Cells through the menu, then wait until every code cell ran."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        self.page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()
        self.wait_cells_done(timeout)

    def cell_prompts(self) -> list[str]:
        return [t.strip() for t in self.panel.locator(".jp-CodeCell .jp-InputPrompt").all_text_contents()]

    def wait_cells_done(self, timeout: float = 120.0) -> None:
        def done() -> bool:
            prompts = self.cell_prompts()
            return bool(prompts) and all(re.fullmatch(r"\[\d+\]:", p) for p in prompts)

        wait_until(
            done, timeout=timeout, interval=0.1, message=lambda: f"cells still running: {self.cell_prompts()}"
        )

    # -- errors ---------------------------------------------------------------------
    def errors(self) -> list[str]:
        """Tracebacks, stderr and widget errors shown in the notebook's outputs."""
        return errors_in(self.panel)

    def kernel_errors(self) -> list[str]:
        """Exceptions raised in widget event handlers (no output area shows them), since
        the notebook was opened or reloaded."""
        errors = self.page.evaluate(
            "(path) => ((window.__wfKernelErrors || {})[path] || {errors: []}).errors", self.path
        )
        return [ANSI.sub("", e) for e in errors]

    def assert_no_errors(self) -> None:
        """Nothing wrong in the outputs, and no exception in a widget event handler."""
        assert_no_errors_in(self.panel, self.path)
        errors = self.kernel_errors()
        assert not errors, f"exceptions in widget event handlers of {self.path}:\n" + "\n---\n".join(errors)

    # -- the kernel -----------------------------------------------------------------
    def execute(self, code: str, timeout: float = 30.0) -> str:
        """Run ``code`` in this notebook's kernel (not as a cell); return its output."""
        result = self.page.evaluate(
            _EXECUTE_JS, {"path": self.path, "code": code, "timeoutMs": timeout * 1000}
        )
        if result["err"]:
            raise AssertionError(f"kernel error running:\n{code}\n{ANSI.sub('', result['err'])}")
        return str(result["out"])

    def kernel_sync(self, timeout: float = 30.0) -> float:
        """Page-clock time (ms) at which the kernel answered a no-op sent now: by then it
        has handled every widget message the page sent before."""
        result = self.page.evaluate(
            _EXECUTE_JS, {"path": self.path, "code": "pass", "timeoutMs": timeout * 1000}
        )
        return float(result["t"])

    def eval_json(self, expr: str, timeout: float = 30.0) -> Any:
        """The value of a Python expression in the kernel, through JSON."""
        out = self.execute(f"import json as _j\nprint('@@JSON@@' + _j.dumps({expr}, default=str))", timeout)
        line = next(line for line in out.splitlines() if line.startswith("@@JSON@@"))
        return json.loads(line[len("@@JSON@@") :])

    def wait_python(self, expr: str, predicate: Callable[[Any], bool], timeout: float = 10.0) -> Any:
        """Poll ``expr`` in the kernel until ``predicate(value)``; return the value."""
        last: list[Any] = [None]

        def ok() -> bool:
            last[0] = self.eval_json(expr)
            return bool(predicate(last[0]))

        wait_until(ok, timeout=timeout, interval=0.05, message=lambda: f"{expr} = {last[0]!r}")
        return last[0]

    # -- widgets --------------------------------------------------------------------
    def canvas(self, css_class: str, timeout: float = 30.0) -> CanvasHandle:
        handle = CanvasHandle(self.page, PANEL, css_class)
        handle.top.wait_for(timeout=timeout * 1000)
        return handle

    def widget(self, css_class: str) -> Any:
        return self.panel.locator(f".{css_class}").first


def run_editor(nb: NotebookPage, name: str = "editor") -> EditorHandle:
    """Run every cell of ``nb``, wait for the editor ``name`` to draw, check no error."""
    nb.run_all()
    handle = EditorHandle(nb, name)
    handle.canvas.wait_nonblank()
    nb.assert_no_errors()
    return handle


class EditorHandle:
    """A ``GraphEditor`` shown in a notebook, known in the kernel as ``expr``.

    Geometry comes from the editor itself (``node_bounds``, ``port_position``: event
    coordinates, i.e. canvas buffer pixels = CSS px x ``pixel_ratio``), mapped to page
    pixels through the canvas' on-screen box, so the tests hold whatever the zoom, the
    pan, the CSS stretching or the pixel ratio.
    """

    def __init__(self, nb: NotebookPage, expr: str = "editor", css_class: str = "wf-canvas") -> None:
        self.nb = nb
        self.expr = expr
        self.css_class = css_class
        self.refresh()

    def refresh(self) -> None:
        """Find the canvas again (after a reload)."""
        self.canvas = self.nb.canvas(self.css_class)
        self.pixel_ratio = float(self.nb.eval_json(f"{self.expr}.pixel_ratio"))

    # -- geometry -------------------------------------------------------------------
    def to_page(self, x: float, y: float) -> tuple[float, float]:
        """Event coordinates -> page pixels."""
        return self.canvas.to_page(x, y)

    def page_to_world_scale(self) -> float:
        """World units per page pixel at the current zoom."""
        box = self.canvas.stable_box()
        buffer_w, _ = self.canvas.size()
        return buffer_w / box["width"] / self.pixel_ratio / self.zoom()

    def bounds(self, node_id: str) -> tuple[float, float, float, float]:
        x, y, w, h = self.nb.eval_json(f"{self.expr}.node_bounds({node_id!r})")
        return float(x), float(y), float(w), float(h)

    def node_grab_point(self, node_id: str) -> tuple[float, float]:
        """Page point in the middle of a node's body (away from its ports)."""
        x, y, w, h = self.bounds(node_id)
        return self.to_page(x + w / 2, y + h / 2)

    def port_point(self, node_id: str, handle: str, side: str | None = None) -> tuple[float, float]:
        x, y = self.nb.eval_json(f"{self.expr}.port_position({node_id!r}, {handle!r}, {side!r})")
        return self.to_page(float(x), float(y))

    def empty_point(self) -> tuple[float, float]:
        """Event coordinates of a point on no node, edge or port."""
        e = self.expr
        x, y = self.nb.eval_json(
            f"next([x, y] for y in range(40, int({e}.height * {e}.pixel_ratio), 40) "
            f"for x in range(40, int({e}.width * {e}.pixel_ratio), 40) "
            f"if {e}.state.hit(x / {e}.pixel_ratio, y / {e}.pixel_ratio).kind == 'none')"
        )
        return float(x), float(y)

    # -- state ----------------------------------------------------------------------
    def node_ids(self) -> list[str]:
        return list(self.nb.eval_json(f"[n.id for n in {self.expr}.workflow.nodes]"))

    def positions(self) -> dict[str, list[float]]:
        return dict(
            self.nb.eval_json(f"{{n.id: [n.position.x, n.position.y] for n in {self.expr}.workflow.nodes}}")
        )

    def edges_into(self, node_id: str) -> list[list[str]]:
        return list(
            self.nb.eval_json(
                f"[[e.source, e.source_handle, e.target, e.target_handle] "
                f"for e in {self.expr}.workflow.edges if e.target == {node_id!r}]"
            )
        )

    def zoom(self) -> float:
        return float(self.nb.eval_json(f"{self.expr}.view.zoom"))

    def selection(self) -> list[str]:
        return sorted(self.nb.eval_json(f"{self.expr}.selected_node_ids"))

    # -- gestures -------------------------------------------------------------------
    def click(self, point: tuple[float, float]) -> None:
        self.nb.page.mouse.click(*point)

    def drag(self, start: tuple[float, float], end: tuple[float, float], steps: int = 10) -> None:
        mouse = self.nb.page.mouse
        mouse.move(*start)
        mouse.down()
        mouse.move(*end, steps=steps)
        mouse.up()
