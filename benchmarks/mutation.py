"""Mutation testing of the rules that must never be wrong (issue 14, point 4).

Mutates, one mutant at a time, the code that prices and charges credits, holds
idempotency keys, checks artifact names and paths, compares API keys, validates
workflows and escapes HTML (the list is ``benchmarks/mutation.toml``), runs that rule's
focused tests against each mutant, and prints per rule: mutants, killed, survived,
survival % and every surviving mutant with its diff. Exit status 1 when a rule lets
more than ``--max-survival`` percent (default 10) survive.

    PYTHONPATH=$PWD python benchmarks/mutation.py                 # every rule
    PYTHONPATH=$PWD python benchmarks/mutation.py -m credits -m api-keys
    PYTHONPATH=$PWD python benchmarks/mutation.py --list          # count mutants only

Not part of the CI run: a full run (about 700 mutants) takes about 15 minutes on a
shared 2-core machine; each mutant's tests get ``timeout`` seconds (mutation.toml).

The mutation tool is cosmic-ray (the ``dev`` extra): its operators make the mutants
and its ``mutate_and_test`` applies one in place, runs the tests in a subprocess and
puts the file back. This script chooses which mutants count (only those inside the
functions the config names, minus the equivalent mutants: those inside annotations,
``if TYPE_CHECKING:``, ``def f(self, *, ...)`` -> ``/``, and those the config lists
with a reason), runs them in file order and reports. Every file is checked byte for
byte after its rule, and restored if a run was interrupted. Sessions are kept in
``benchmarks/.mutation/<rule>.sqlite`` (cosmic-ray's work database: ``cr-report`` and
``cr-html`` read them).
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    import tomllib
except ImportError:  # Python 3.10: cosmic-ray brings the toml package
    import toml as tomllib  # type: ignore[no-redef]

REPO = Path(__file__).resolve().parent.parent
CONFIG = Path(__file__).with_suffix(".toml")
SESSIONS = Path(__file__).resolve().parent / ".mutation"


@dataclass(frozen=True)
class Equivalent:
    """A mutant that cannot change behaviour, excluded with the reason why."""

    function: str
    operator: str  # an fnmatch pattern of cosmic-ray operator names
    code: str  # the mutated line, stripped
    reason: str
    #: when several mutants of one operator share the line: text the mutated line holds
    becomes: str = ""

    def matches(self, function: str | None, operator: str, line: str, mutated: Callable[[], str]) -> bool:
        return (
            function == self.function
            and fnmatch.fnmatchcase(operator, self.operator)
            and line.strip() == self.code
            and (not self.becomes or self.becomes in mutated())
        )


@dataclass
class Rule:
    """One rule under test: a file, the functions of it that hold the rule, and its tests."""

    name: str
    path: str
    #: qualified names (``Class.method``); ``*`` is the whole module; ``fn@regex``: only
    #: the lines of ``fn`` that match ``regex``
    functions: list[str]
    tests: list[str]
    equivalents: list[Equivalent] = field(default_factory=list)
    timeout: float = 60.0


@dataclass
class Outcome:
    """What became of one mutant."""

    where: str
    operator: str
    status: str  # killed | survived | timeout | incompetent | equivalent
    diff: str = ""
    reason: str = ""


def load_rules(path: Path = CONFIG) -> tuple[list[Rule], dict[str, Any]]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    defaults = data.get("defaults", {})
    rules = []
    for entry in data["rule"]:
        equivalents = [Equivalent(**eq) for eq in entry.get("equivalent", [])]
        rules.append(
            Rule(
                name=entry["name"],
                path=entry["path"],
                functions=list(entry["functions"]),
                tests=list(entry["tests"]),
                equivalents=equivalents,
                timeout=float(entry.get("timeout", defaults.get("timeout", 60))),
            )
        )
    return rules, defaults


# -- which mutants count -------------------------------------------------------------------
def _definitions(source: str) -> list[tuple[str, int, int]]:
    """``(qualified name, first line, last line)`` of every function and class,
    decorators included."""
    found: list[tuple[str, int, int]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                found.append((name, first, child.end_lineno or child.lineno))
                visit(child, name + ".")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return found


def _annotations(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where the type annotations are: ``((line, col), (end line, end col))`` each."""
    found = []
    for node in ast.walk(ast.parse(source)):
        annotation: list[ast.expr | None] = []
        if isinstance(node, ast.arg):
            annotation.append(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            annotation.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            annotation.append(node.annotation)
        for item in annotation:
            if item is not None and item.end_lineno is not None and item.end_col_offset is not None:
                found.append(((item.lineno, item.col_offset), (item.end_lineno, item.end_col_offset)))
    return found


#: Why a mutant inside an annotation is excluded (every module under test has
#: ``from __future__ import annotations`` and no pydantic model: annotations are strings
#: nothing evaluates at run time).
ANNOTATION = "inside a type annotation, which is never evaluated at run time (PEP 563)"
#: Why ``def f(self, *, ...)`` -> ``def f(self, /, ...)`` is excluded.
SELF_ONLY_POSITIONAL = (
    "def f(self, *, ...) becomes def f(self, /, ...): self is positional anyway and the "
    "keyword arguments are still taken by keyword, so every valid call behaves the same"
)
#: Why ``if TYPE_CHECKING:`` mutants are excluded.
TYPE_CHECKING_IMPORTS = (
    "imports for the type checker only: importing them at run time as well changes no "
    "behaviour (were it an import cycle, every test would fail and kill the mutant)"
)


class Selection:
    """Which lines of a file are under test, and the function each line belongs to."""

    def __init__(self, source: str, functions: list[str]) -> None:
        self.lines = source.splitlines()
        self.definitions = _definitions(source)
        self.annotations = _annotations(source)
        if "from __future__ import annotations" not in source:
            self.annotations = []
        self.whole = "*" in functions
        self.wanted: dict[str, re.Pattern[str] | None] = {}
        for spec in functions:
            if spec == "*":
                continue
            name, _, pattern = spec.partition("@")
            self.wanted[name] = re.compile(pattern) if pattern else None
        known = {name for name, _, _ in self.definitions}
        missing = sorted(set(self.wanted) - known)
        if missing:
            raise SystemExit(f"mutation.toml names functions that do not exist: {', '.join(missing)}")

    def function_of(self, line: int) -> str | None:
        """The innermost function or class holding ``line``."""
        best: tuple[str, int, int] | None = None
        for name, first, last in self.definitions:
            if first <= line <= last and (best is None or first >= best[1]):
                best = (name, first, last)
        return best[0] if best else None

    def in_annotation(self, start: tuple[int, int]) -> bool:
        return any(first <= tuple(start) < last for first, last in self.annotations)

    def selected(self, line: int) -> bool:
        if self.whole:
            return True
        text = self.lines[line - 1]
        for name, first, last in self.definitions:
            if name in self.wanted and first <= line <= last:
                pattern = self.wanted[name]
                if pattern is None or pattern.search(text):
                    return True
        return False


# -- running -------------------------------------------------------------------------------
def _test_command(rule: Rule, defaults: dict[str, Any]) -> str:
    args = [sys.executable, "-m", "pytest", *defaults.get("pytest_args", []), *rule.tests]
    return shlex.join(args)


def _environment() -> None:
    """What every test run inherits: this checkout first on the path, and pytest without
    the plugins the rules' tests do not use (nbval alone costs seconds a run)."""
    path = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = str(REPO) + (os.pathsep + path if path else "")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    os.environ.setdefault("WIREFLOW_NB_MODEL_LATENCY", "0")


def _baseline(rule: Rule, command: str) -> None:
    """The tests must pass before anything is mutated, or every mutant looks killed."""
    done = subprocess.run(shlex.split(command), cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stdout.write(done.stdout[-4000:] + done.stderr[-2000:])
        raise SystemExit(f"[{rule.name}] the tests fail on the unmutated code: {command}")


def _short_diff(diff: str) -> str:
    keep = [
        line
        for line in diff.splitlines()
        if line.startswith(("-", "+")) and not line.startswith(("---", "+++"))
    ]
    return "\n".join("        " + line for line in keep)


class _Interrupted(Exception):
    pass


def _on_term(signum: int, frame: Any) -> None:
    raise _Interrupted(f"signal {signum}")


def run_rule(rule: Rule, defaults: dict[str, Any], *, list_only: bool, all_operators: bool) -> list[Outcome]:
    from cosmic_ray.commands import init
    from cosmic_ray.mutating import mutate_and_test, mutate_code
    from cosmic_ray.plugins import get_operator
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult

    target = REPO / rule.path
    original = target.read_bytes()
    source = original.decode("utf-8")
    selection = Selection(source, rule.functions)
    SESSIONS.mkdir(exist_ok=True)
    session = SESSIONS / f"{rule.name}.sqlite"
    command = _test_command(rule, defaults)
    outcomes: list[Outcome] = []
    excluded = [] if all_operators else list(defaults.get("exclude_operators", []))
    with use_db(str(session), WorkDB.Mode.create) as db:
        init(
            [Path(rule.path)],
            db,
            {},
        )
        items = sorted(
            db.work_items,
            key=lambda item: (item.mutations[0].start_pos, item.mutations[0].operator_name),
        )
        chosen = []
        for item in items:
            mutation = item.mutations[0]
            line = mutation.start_pos[0]
            if not selection.selected(line):
                db.set_result(
                    item.job_id, WorkResult(worker_outcome=WorkerOutcome.SKIPPED, output="not a rule")
                )
                continue
            function = selection.function_of(line)
            text = selection.lines[line - 1]
            where = f"{rule.path}:{line} ({function})"
            if any(fnmatch.fnmatchcase(mutation.operator_name, p) for p in excluded):
                db.set_result(
                    item.job_id, WorkResult(worker_outcome=WorkerOutcome.SKIPPED, output="operator")
                )
                continue
            reason = ANNOTATION if selection.in_annotation(mutation.start_pos) else None
            if text.strip() == "if TYPE_CHECKING:":
                reason = TYPE_CHECKING_IMPORTS
            if mutation.operator_name == "core/ReplaceBinaryOperator_Mul_Div" and "(self, *," in text:
                reason = SELF_ONLY_POSITIONAL

            def mutated_line(mutation: Any = mutation, line: int = line) -> str:
                operator = get_operator(mutation.operator_name)(**(mutation.operator_args or {}))
                code = mutate_code(source, operator, mutation.occurrence) or ""
                lines = code.splitlines()
                return lines[line - 1] if len(lines) >= line else ""

            equivalent = next(
                (
                    eq
                    for eq in rule.equivalents
                    if eq.matches(function, mutation.operator_name, text, mutated_line)
                ),
                None,
            )
            if equivalent is not None:
                reason = equivalent.reason
            if reason is not None:
                db.set_result(item.job_id, WorkResult(worker_outcome=WorkerOutcome.SKIPPED, output=reason))
                outcomes.append(Outcome(where, mutation.operator_name, "equivalent", reason=reason))
                continue
            chosen.append((item, where))
        print(f"[{rule.name}] {rule.path}: {len(chosen)} mutants ({len(outcomes)} equivalent excluded)")
        print(f"[{rule.name}] tests: {command}", flush=True)
        if list_only:
            return outcomes + [
                Outcome(where, item.mutations[0].operator_name, "listed") for item, where in chosen
            ]
        _baseline(rule, command)
        started = time.monotonic()
        try:
            for n, (item, where) in enumerate(chosen, 1):
                mutation = item.mutations[0]
                result = mutate_and_test(item.mutations, command, rule.timeout)
                db.set_result(item.job_id, result)
                if result.worker_outcome != WorkerOutcome.NORMAL:
                    status = "incompetent"
                elif result.test_outcome == TestOutcome.SURVIVED:
                    status = "survived"
                elif result.output == "timeout":
                    status = "timeout"
                else:
                    status = "killed"
                outcomes.append(Outcome(where, mutation.operator_name, status, diff=result.diff or ""))
                if status in ("survived", "incompetent"):
                    print(
                        f"  {n}/{len(chosen)} {status.upper()}: {where} {mutation.operator_name}", flush=True
                    )
                elif n % 25 == 0:
                    print(f"  {n}/{len(chosen)} ({time.monotonic() - started:.0f} s)", flush=True)
        finally:
            if target.read_bytes() != original:
                target.write_bytes(original)
                print(f"[{rule.name}] restored {rule.path} after an interrupted mutant", flush=True)
        print(f"[{rule.name}] done in {time.monotonic() - started:.0f} s", flush=True)
    return outcomes


def report(rule: Rule, outcomes: list[Outcome]) -> float:
    """Print the rule's figures and survivors; returns the survival percentage."""
    counted = [o for o in outcomes if o.status not in ("equivalent", "listed")]
    survived = [o for o in counted if o.status == "survived"]
    incompetent = [o for o in counted if o.status == "incompetent"]
    killed = len(counted) - len(survived) - len(incompetent)
    percent = 100.0 * len(survived) / len(counted) if counted else 0.0
    equivalents = sum(o.status == "equivalent" for o in outcomes)
    print(
        f"\n== {rule.name}: {len(counted)} mutants, {killed} killed, {len(survived)} survived "
        f"({percent:.1f}%), {len(incompetent)} incompetent, {equivalents} equivalent excluded"
    )
    for o in survived + incompetent:
        print(f"    {o.status}: {o.where} {o.operator}\n{_short_diff(o.diff)}")
    return percent


def _selected_rules(rules: list[Rule], names: list[str]) -> Iterator[Rule]:
    if not names:
        yield from rules
        return
    known = {r.name: r for r in rules}
    for name in names:
        if name not in known:
            raise SystemExit(f"unknown rule {name!r}; rules: {', '.join(known)}")
        yield known[name]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-m", "--rule", action="append", default=[], help="run only this rule (repeatable)")
    parser.add_argument("--list", action="store_true", help="count the mutants, run nothing")
    parser.add_argument(
        "--all-operators", action="store_true", help="also the operators mutation.toml leaves out"
    )
    parser.add_argument("--max-survival", type=float, default=10.0, help="percent allowed to survive")
    args = parser.parse_args(argv)
    rules, defaults = load_rules()
    _environment()
    signal.signal(signal.SIGTERM, _on_term)
    started = time.monotonic()
    table = []
    for rule in _selected_rules(rules, args.rule):
        outcomes = run_rule(rule, defaults, list_only=args.list, all_operators=args.all_operators)
        if not args.list:
            table.append((rule, outcomes, report(rule, outcomes)))
    if args.list:
        return 0
    print(f"\n{'rule':<22} {'mutants':>7} {'killed':>7} {'survived':>8} {'survival':>8}")
    failed = False
    for rule, outcomes, percent in table:
        counted = [o for o in outcomes if o.status != "equivalent"]
        survived = sum(o.status == "survived" for o in counted)
        killed = sum(o.status in ("killed", "timeout") for o in counted)
        print(f"{rule.name:<22} {len(counted):>7} {killed:>7} {survived:>8} {percent:>7.1f}%")
        failed = failed or percent > args.max_survival
    print(f"\ntotal time {time.monotonic() - started:.0f} s")
    if failed:
        print(f"a rule lets more than {args.max_survival:g}% of its mutants survive")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
