"""The ``wireflow-nb`` command: ``run`` a workflow file, show its ``history``, ``serve``
the Executions API over the local engine.

``run`` and ``history`` use the in-process ``LocalEngine`` by default and the API at
``--api URL`` otherwise (hosted, or another ``wireflow-nb serve``). The API key comes
from ``--api-key`` or ``WIREFLOW_API_KEY`` and is never printed.

Exit codes: 0 done, 1 the workflow failed or the backend refused it, 2 bad arguments
or file, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ._exceptions import (
    BadRequestError,
    ExecutionCancelledError,
    ExecutionFailedError,
    InsufficientCreditsError,
    WaitTimeoutError,
    WireflowError,
    WorkflowValidationError,
    redact,
)
from .models import IteratorConfig, NodeRun, PollResponse, error_message
from .provenance import record_for, saved_bytes

if TYPE_CHECKING:
    from .backend import Backend
    from .models import ExecuteRequest
    from .workflow import Workflow

__all__ = ["main", "parse_iterate", "parse_trigger"]

from ._advice import API_KEY_ENV

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """A bad argument or input file (exit code 2)."""


# -- argument parsing ---------------------------------------------------------------------


def parse_trigger(text: str) -> dict[str, Any]:
    """``--trigger``: a JSON object, or ``@file.json``."""
    source = text
    if text.startswith("@"):
        try:
            source = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--trigger: cannot read {text[1:]}: {exc.strerror or exc}") from None
    try:
        value = json.loads(source)
    except json.JSONDecodeError as exc:
        raise UsageError(f'--trigger must be a JSON object, e.g. \'{{"name": "Ada"}}\' ({exc.msg})') from None
    if not isinstance(value, dict):
        raise UsageError('--trigger must be a JSON object, e.g. \'{"name": "Ada"}\'')
    return value


def _iterate_value(text: str) -> Any:
    """A number stays a number; everything else is text."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return text
    return value if isinstance(value, int | float) and not isinstance(value, bool) else text


def parse_iterate(text: str) -> IteratorConfig:
    """``--iterate NODE.FIELD=v1,v2,...`` (or ``NODE.FIELD=[JSON array]``)."""
    target, sep, values_text = text.partition("=")
    node_id, dot, field = target.rpartition(".")
    if not sep or not dot or not node_id or not field:
        raise UsageError(f"--iterate {text!r}: expected NODE.FIELD=v1,v2 (e.g. prompt.text=a fox,a cat)")
    values: list[Any]
    if values_text.lstrip().startswith("["):
        try:
            parsed = json.loads(values_text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--iterate {text!r}: the values are not a JSON array ({exc.msg})") from None
        if not isinstance(parsed, list):
            raise UsageError(f"--iterate {text!r}: the values must be a JSON array")
        values = parsed
    else:
        values = [_iterate_value(v.strip()) for v in values_text.split(",")]
    if not values or values == [""]:
        raise UsageError(f"--iterate {text!r}: give at least one value")
    return IteratorConfig(node_id=node_id, field=field, values=values)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def _add_backend_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--api",
        metavar="URL",
        help="use the API at URL (e.g. http://127.0.0.1:8000/api/v1) instead of the local engine",
    )
    parser.add_argument(
        "--api-key", metavar="KEY", help=f"the API key (default: ${API_KEY_ENV}); never printed"
    )
    parser.add_argument(
        "--home", metavar="DIR", help="local engine home (history, outputs); default: WIREFLOW_NB_HOME"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wireflow-nb",
        description="Run Wireflow workflows offline or against the API, and serve the API locally.",
    )
    from ._version import __version__

    parser.add_argument("--version", action="version", version=f"wireflow-nb {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = commands.add_parser("run", help="run a workflow file, show progress, write its outputs")
    run.add_argument("workflow", metavar="WORKFLOW.json", help="a workflow file (nodes and edges)")
    _add_backend_options(run)
    run.add_argument("--target", metavar="NODE", help="run only NODE and what it depends on")
    run.add_argument("--trigger", metavar="JSON", help="triggerData: a JSON object, or @file.json")
    run.add_argument(
        "--iterate",
        metavar="NODE.FIELD=v1,v2",
        action="append",
        default=[],
        help="a batch: one run per value of NODE's FIELD (repeatable; several are zipped)",
    )
    run.add_argument("--out", metavar="DIR", help="write outputs (images, videos, text, JSON) to DIR")
    run.add_argument(
        "--workflow-id", metavar="ID", help="the workflow id (default: the file's id, else its name)"
    )
    run.add_argument(
        "--timeout", metavar="SECONDS", type=_positive_float, help="give up waiting after SECONDS"
    )
    run.add_argument(
        "--model-latency",
        metavar="SECONDS",
        type=_positive_float,
        help="local engine: simulated model latency",
    )
    run.add_argument(
        "--credits",
        metavar="N",
        type=_positive_float,
        help="local engine: the credits of a new home (default 1000)",
    )
    run.add_argument("--quiet", "-q", action="store_true", help="no progress lines")

    history = commands.add_parser("history", help="list a workflow's executions, most recent first")
    history.add_argument("workflow_id", metavar="WORKFLOW_ID")
    _add_backend_options(history)
    history.add_argument(
        "--limit", type=int, default=10, metavar="N", help="rows to show (1..100, default 10)"
    )
    history.add_argument("--offset", type=int, default=0, metavar="N", help="rows to skip (default 0)")
    history.add_argument("--json", action="store_true", help="print the rows as JSON")

    serve = commands.add_parser("serve", help="serve the Executions API over the local engine")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any free port)")
    serve.add_argument(
        "--api-key",
        metavar="KEY",
        help=f"required bearer key (default: ${API_KEY_ENV}, better: a command line is visible to other users)",
    )
    serve.add_argument("--home", metavar="DIR", help="engine home (history, outputs)")
    serve.add_argument(
        "--credits", type=_positive_float, metavar="N", help="the credits of a new home (default 1000)"
    )
    serve.add_argument(
        "--model-latency", type=_positive_float, metavar="SECONDS", help="simulated model latency"
    )
    serve.add_argument("--rate-limit", type=_positive_int, metavar="N", help="requests per minute per key")
    serve.add_argument(
        "--max-body-bytes", type=_positive_int, metavar="N", help="largest request body (413 above)"
    )
    serve.add_argument(
        "--public-url", metavar="URL", help="root URL clients reach (default http://HOST:PORT)"
    )
    for flag, metavar, text in (
        ("--nodes", "MODULE", "import MODULE first: its @wireflow_nb.node_type functions join the catalogue"),
        ("--allowed-host", "NAME", "a Host name served besides loopback names and --host ('*': no check)"),
        ("--allow-origin", "URL", "an origin (scheme://host[:port]) whose web pages may call the API"),
    ):
        serve.add_argument(flag, action="append", default=[], metavar=metavar, help=f"{text} (repeatable)")
    timeout_help = "close connections that do not send a request's headers within SECONDS (default 5)"
    serve.add_argument("--header-timeout", type=_positive_float, default=5.0, metavar="SECONDS", help=timeout_help)
    fetch_help = "fetch http(s) URLs given as inputs (public addresses only; default: refuse them)"
    serve.add_argument("--allow-url-fetch", action="store_true", help=fetch_help)
    serve.add_argument(
        "--log-level",
        default="warning",
        choices=("critical", "error", "warning", "info", "debug"),
        help="uvicorn log level",
    )
    return parser


# -- backends -----------------------------------------------------------------------------


def _api_key(args: argparse.Namespace) -> str | None:
    return args.api_key or os.environ.get(API_KEY_ENV) or None


def _open_backend(args: argparse.Namespace) -> Backend:
    if args.api:
        from .client import WireflowClient

        return WireflowClient(api_key=_api_key(args), base_url=args.api)  # type: ignore[return-value]
    from .engine import LocalEngine

    options: dict[str, Any] = {}
    if getattr(args, "model_latency", None) is not None:
        options["model_latency"] = args.model_latency
    if getattr(args, "credits", None) is not None:
        options["credits"] = args.credits
    return LocalEngine(args.home, **options)  # type: ignore[return-value]


def _close(backend: Any) -> None:
    close = getattr(backend, "close", None)
    if callable(close):
        close()


# -- run ------------------------------------------------------------------------------------


def _load(args: argparse.Namespace) -> tuple[Workflow, ExecuteRequest]:
    from .workflow import Workflow

    path = Path(args.workflow)
    if not path.is_file():
        raise UsageError(f"no such workflow file: {path}")
    workflow = Workflow.load(path, id=args.workflow_id)
    extra = workflow.extra
    target = args.target or extra.get("targetNodeId")
    trigger = parse_trigger(args.trigger) if args.trigger else extra.get("triggerData")
    iterators: list[Any] | None = [parse_iterate(t) for t in args.iterate] or extra.get("iteratorConfigs")
    request = workflow.to_request(target_node_id=target, trigger_data=trigger, iterator_configs=iterators)
    return workflow, request


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _safe_name(text: str) -> str:
    return _SAFE.sub("_", text).strip("._") or "node"


class Progress:
    """Prints one line each time a node (or a run) changes status."""

    def __init__(self, labels: dict[str, str], out: TextIO, *, quiet: bool = False) -> None:
        self.labels = labels
        self.out = out
        self.quiet = quiet
        self.width = max([len(n) for n in labels] + [4])
        self._seen: dict[tuple[str, str], str] = {}

    def _line(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.out, flush=True)

    def updater(self, execution_id: str, prefix: str) -> Callable[[PollResponse], None]:
        def on_update(poll: PollResponse) -> None:
            for node_run in poll.node_runs:
                status = str(node_run.status)
                key = (execution_id, node_run.node_id)
                if self._seen.get(key) == status:
                    continue
                self._seen[key] = status
                label = self.labels.get(node_run.node_id, "")
                self._line(
                    f"{prefix}{node_run.node_id:<{self.width}}  {status:<9}  {label}{_describe(node_run)}"
                )

        return on_update


def _describe(node_run: NodeRun) -> str:
    bits = []
    if node_run.cached:
        bits.append("cached")
    if node_run.images:
        bits.append(f"{len(node_run.images)} image(s)")
    if node_run.videos:
        bits.append(f"{len(node_run.videos)} video(s)")
    text = node_run.text
    if text is not None and not node_run.images and not node_run.videos:
        short = text if len(text) <= 60 else text[:57] + "..."
        bits.append(json.dumps(short, ensure_ascii=False))
    if node_run.error_message:
        bits.append(f"error: {node_run.error_message}")
    return f"  ({', '.join(bits)})" if bits else ""


_EXT = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "video/mp4": ".mp4",
}


def _extension(url: str, content_type: str | None, default: str) -> str:
    if content_type and content_type.split(";")[0].strip() in _EXT:
        return _EXT[content_type.split(";")[0].strip()]
    suffix = Path(url.split("?", 1)[0].split("#", 1)[0]).suffix.lower()
    if suffix and len(suffix) <= 6 and suffix[1:].isalnum():
        return suffix
    if content_type:
        guessed = mimetypes.guess_extension(content_type.split(";")[0].strip())
        if guessed:
            return guessed
    return default


def write_outputs(
    backend: Backend, poll: PollResponse, directory: Path, out: TextIO, record: Any = None
) -> list[Path]:
    """Every node output of one run as files: images and videos (their bytes, fetched the
    backend's way, carrying ``record``: ``provenance.saved_bytes``), text, other JSON;
    plus ``result.json`` (the last poll body)."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def write(path: Path, data: bytes, what: str) -> None:
        path.write_bytes(data)
        written.append(path)
        print(f"wrote {path} ({what})", file=out, flush=True)

    for node_run in poll.node_runs:
        if node_run.output is None:
            continue
        stem = _safe_name(node_run.node_id)
        media = [("image", m, ".png") for m in node_run.images] + [
            ("video", m, ".mp4") for m in node_run.videos
        ]
        for index, (kind, item, default_ext) in enumerate(media):
            name = stem if len(media) == 1 else f"{stem}-{index}"
            ext = _extension(item.url, item.content_type, default_ext)
            data = saved_bytes(backend.fetch_bytes(item.url), record)
            size = f", {item.width}x{item.height}" if item.width and item.height else ""
            write(directory / f"{name}{ext}", data, f"{kind}{size}")
        text = node_run.text
        if text is not None and not media:
            write(directory / f"{stem}.txt", text.encode("utf-8"), "text")
        elif not media and text is None:
            body = json.dumps(node_run.output, indent=2, ensure_ascii=False, default=str) + "\n"
            write(directory / f"{stem}.json", body.encode("utf-8"), "JSON")
    result = json.dumps(poll.to_wire(), indent=2, ensure_ascii=False, default=str) + "\n"
    (directory / "result.json").write_text(result, encoding="utf-8")
    written.append(directory / "result.json")
    return written


def _failure_text(poll: PollResponse) -> str:
    lines = [error_message(poll.error) or f"the execution ended {poll.status}"]
    for node_run in poll.failed_node_runs:
        lines.append(f"  node {node_run.node_id}: {node_run.error_message or 'failed'}")
    return "\n".join(lines)


def cmd_run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    workflow, request = _load(args)
    labels = {node.id: node.label for node in request.nodes}
    backend = _open_backend(args)
    progress = Progress(labels, out, quiet=args.quiet)
    failures = 0
    started = time.monotonic()
    try:
        where = args.api or "the local engine"
        print(f"running {workflow.id} ({len(request.nodes)} nodes) on {where}", file=out, flush=True)
        response = backend.execute(workflow.id, request)
        runs = response.execution_runs
        for index, run in enumerate(runs):
            prefix = f"[{index + 1}/{len(runs)}] " if len(runs) > 1 else ""
            on_update = progress.updater(run.id, prefix)
            # later runs of a batch often ended while we waited for the earlier ones
            poll = backend.poll(run.id)
            if poll.is_terminal:
                on_update(poll)
            else:
                try:
                    poll = backend.wait(run.id, timeout=args.timeout, on_update=on_update)
                except (ExecutionFailedError, ExecutionCancelledError) as exc:
                    poll = exc.poll
                    on_update(poll)
            if poll.state != "COMPLETED":
                failures += 1
                print(
                    f"error: {prefix}execution {run.id} {poll.status}: {_failure_text(poll)}",
                    file=err,
                    flush=True,
                )
            if args.out:
                directory = Path(args.out) / (f"run-{index}" if len(runs) > 1 else "")
                write_outputs(backend, poll, directory, out, record_for(request, execution_id=run.id))
            else:
                for node_run in poll.node_runs:
                    for media in [*node_run.images, *node_run.videos]:
                        print(f"{prefix}{node_run.node_id}: {media.url}", file=out)
        elapsed = time.monotonic() - started
        status = "FAILED" if failures else "COMPLETED"
        summary = f"{status}: {len(runs) - failures}/{len(runs)} run(s) completed in {elapsed:.1f} s"
        try:
            used = float(sum(float(backend.get_execution(run.id).credits_used or 0) for run in runs))
            summary += f", {int(used) if used.is_integer() else used} credits used"
        except WireflowError:
            pass
        print(summary, file=out, flush=True)
    finally:
        _close(backend)
    return EXIT_FAILED if failures else EXIT_OK


# -- history --------------------------------------------------------------------------------


def _table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def cmd_history(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if not 1 <= args.limit <= 100:
        raise UsageError(f"--limit must be between 1 and 100, got {args.limit}")
    if args.offset < 0:
        raise UsageError(f"--offset must be at least 0, got {args.offset}")
    backend = _open_backend(args)
    try:
        rows = backend.list_executions(args.workflow_id, limit=args.limit, offset=args.offset)
    finally:
        _close(backend)
    if args.json:
        print(json.dumps([r.to_wire() for r in rows], indent=2), file=out)
        return EXIT_OK
    if not rows:
        print(f"no executions of {args.workflow_id}", file=out)
        return EXIT_OK
    table = []
    for row in rows:
        seconds = f"{float(row.execution_time) / 1000:.1f} s" if row.execution_time is not None else None
        error = row.error_message
        if error and len(error) > 60:
            error = error[:57] + "..."
        table.append(
            [
                row.id,
                str(row.status),
                _cell(row.triggered_by),
                _cell(row.started_at),
                _cell(seconds),
                _cell(row.credits_used),
                _cell(error),
            ]
        )
    print(_table(table, ["ID", "STATUS", "TRIGGER", "STARTED", "TIME", "CREDITS", "ERROR"]), file=out)
    return EXIT_OK


# -- serve ----------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        from .server import DEFAULT_MAX_BODY_BYTES, serve
        from .server.serve import ServeConfigError
    except ImportError as exc:
        raise UsageError(
            f"the server needs the [server] extra: pip install 'wireflow_nb[server]' ({exc})"
        ) from None
    try:
        serve(
            host=args.host,
            port=args.port,
            api_key=args.api_key,
            home=args.home,
            credits=args.credits,
            model_latency=args.model_latency,
            rate_limit=args.rate_limit,
            max_body_bytes=args.max_body_bytes or DEFAULT_MAX_BODY_BYTES,
            public_url=args.public_url,
            allowed_hosts=args.allowed_host,
            allowed_origins=args.allow_origin,
            header_timeout=args.header_timeout,
            allow_url_fetch=args.allow_url_fetch,
            log_level=args.log_level,
            node_modules=args.nodes,
            stdout=out,
            stderr=err,
        )
    except ServeConfigError as exc:
        raise UsageError(str(exc)) from None
    return EXIT_OK


# -- main -----------------------------------------------------------------------------------


def _report(exc: BaseException, secrets: Sequence[str | None], err: TextIO) -> None:
    lines = [f"error: {exc}"]
    if isinstance(exc, BadRequestError):
        for detail in exc.details:
            where = " ".join(f"{k}={detail[k]}" for k in ("nodeId", "field") if detail.get(k))
            message = str(detail.get("message", ""))
            if message and message not in str(exc):
                lines.append(f"  - {where + ': ' if where else ''}{message}")
    elif isinstance(exc, InsufficientCreditsError):
        for item in exc.breakdown:
            lines.append(f"  - {item.node_id} ({item.node_label or ''}): {item.credits} credits")
    print(redact("\n".join(lines), secrets), file=err, flush=True)


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the command line; returns the exit code (the console script exits with it)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = build_parser()
    args = parser.parse_args(argv)
    secrets = [getattr(args, "api_key", None), os.environ.get(API_KEY_ENV)]
    commands = {"run": cmd_run, "history": cmd_history, "serve": cmd_serve}
    try:
        return commands[args.command](args, out, err)
    except UsageError as exc:
        print(redact(f"wireflow-nb {args.command}: error: {exc}", secrets), file=err, flush=True)
        return EXIT_USAGE
    except WorkflowValidationError as exc:
        print(redact(f"error: {exc}", secrets), file=err, flush=True)
        return EXIT_USAGE
    except WaitTimeoutError as exc:
        print(redact(f"error: {exc}", secrets), file=err, flush=True)
        return EXIT_FAILED
    except WireflowError as exc:
        _report(exc, secrets, err)
        return EXIT_FAILED
    except OSError as exc:
        print(redact(f"error: {exc}", secrets), file=err, flush=True)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted", file=err, flush=True)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
