"""Where the time of a click goes: ``bench_browser.py --split``.

Splits each click's mouse-down-to-frame time into stages, on the page's clock:

- ``send``: the mouse down event -> its comm message leaves the page (the page's
  WebSocket ``send``, wrapped);
- ``to_kernel``: -> the kernel's shell starts handling that ``comm_msg`` (its handler,
  wrapped, stamps the wall clock; the page's clock is mapped with ``performance.timeOrigin``,
  both read on this machine);
- ``kernel``: the ``comm_msg`` handler, the widget's Python handler and its sending;
- ``to_page``: -> the kernel's canvas batch (a ``comm_msg`` whose method is ``custom``)
  arrives in the page (the socket's ``onmessage``, wrapped);
- ``draw``: -> the first frame on the clicked canvas (JupyterLab decoding the message,
  ipycanvas drawing the batch and copying it onto the page).

and records the messages the kernel sent meanwhile, in order (``status:busy``,
``comm_msg:custom``, ...). The three middle stages add up to the time from send to arrival.
"""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

# Wrap the page's WebSocket: every frame sent or received, summed up as
# [direction, page time, msg_type, method, event, execution_state]. Received frames are
# seen by wrapping ``onmessage`` of each socket when it first sends.
WS_PROBE_JS = r"""
() => {
  if (window.__wfWs) { window.__wfWs.length = 0; return; }
  const log = window.__wfWs = [];
  const text = new TextDecoder();
  const sum = (data) => {
    let s = '';
    try { s = typeof data === 'string' ? data : text.decode(data instanceof ArrayBuffer ? new Uint8Array(data) : data); } catch (e) { s = ''; }
    const pick = (re) => { const m = s.match(re); return m ? m[1] : ''; };
    return [pick(/"msg_type":\s*"(\w+)"/), pick(/"method":\s*"(\w+)"/), pick(/"event":\s*"(\w+)"/), pick(/"execution_state":\s*"(\w+)"/)];
  };
  const hooked = new WeakSet();
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    const t = performance.now();
    if (!hooked.has(this)) {
      hooked.add(this);
      const onmessage = this.onmessage;
      this.onmessage = (e) => { log.push(['recv', performance.now(), ...sum(e.data)]); return onmessage.call(this, e); };
    }
    log.push(['send', t, ...sum(data)]);
    return send.call(this, data);
  };
}
"""

# In the kernel: stamp (wall clock, ms) the start and end of each comm_msg handled.
KERNEL_STAMPS = """\
import time as _split_time
_split_stamps = []
def _split_wrap(handler):
    def stamped(*args, **kwargs):
        _split_stamps.append(['arrive', _split_time.time() * 1000])
        try:
            return handler(*args, **kwargs)
        finally:
            _split_stamps.append(['done', _split_time.time() * 1000])
    return stamped
_split_kernel = get_ipython().kernel
_split_kernel.shell_handlers['comm_msg'] = _split_wrap(_split_kernel.shell_handlers['comm_msg'])
"""

STAGES = ("send", "to_kernel", "kernel", "to_page", "draw")


def install(nb: Any) -> float:
    """Start recording in ``nb``'s page and kernel; returns the page's time origin (ms)."""
    nb.execute(KERNEL_STAMPS)
    nb.page.evaluate(WS_PROBE_JS)
    return float(nb.page.evaluate("() => performance.timeOrigin"))


def one_click(nb: Any, origin: float, t_event: float, t_frame: float) -> dict[str, Any] | None:
    """The stages of the click whose mouse down came at ``t_event`` and whose first frame
    at ``t_frame`` (page clock); None if a stage is missing from the record."""
    ws = nb.page.evaluate("(t0) => window.__wfWs.filter(x => x[1] >= t0)", t_event)
    sent = next((w for w in ws if w[0] == "send" and w[4] == "mouse_down"), None)
    if sent is None:
        return None
    kernel = [(k, t - origin) for k, t in nb.eval_json("_split_stamps")]  # since ``clear``
    arrive = next((t for k, t in kernel if k == "arrive"), None)
    done = next((t for k, t in kernel if k == "done" and arrive is not None and t >= arrive), None)
    batch = next((w for w in ws if w[0] == "recv" and w[1] > sent[1] and w[2:4] == ["comm_msg", "custom"]), None)
    if arrive is None or done is None or batch is None:
        return None
    received = [":".join(x for x in w[2:] if x) for w in ws if w[0] == "recv" and sent[1] < w[1] <= t_frame]
    return {
        "send": sent[1] - t_event,
        "to_kernel": arrive - sent[1],
        "kernel": done - arrive,
        "to_page": batch[1] - done,
        "draw": t_frame - batch[1],
        "received": received,
    }


def clear(nb: Any) -> None:
    """Forget what was recorded (before a click; then let the page and kernel settle)."""
    nb.execute("_split_stamps.clear()")
    nb.page.evaluate("() => { window.__wfWs.length = 0; }")


def table(splits: dict[str, list[dict[str, Any]]]) -> str:
    """Median ms per stage and canvas, and the messages most often received per click."""
    lines = [
        "split of a click (median ms): mouse down -> send -> kernel handles -> kernel done"
        " -> batch arrives -> frame",
        f"{'canvas':<8} {'n':>3} " + " ".join(f"{s:>9}" for s in STAGES) + "  received before the frame",
    ]
    for name, rows in splits.items():
        if not rows:
            lines.append(f"{name:<8} {0:>3}  (no complete record)")
            continue
        medians = [statistics.median(r[s] for r in rows) for s in STAGES]
        common = Counter(", ".join(r["received"]) for r in rows).most_common(1)[0][0]
        lines.append(f"{name:<8} {len(rows):>3} " + " ".join(f"{m:>9.1f}" for m in medians) + f"  {common}")
    return "\n".join(lines)
