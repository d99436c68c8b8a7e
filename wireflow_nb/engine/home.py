"""The engine's home on disk: created private, checked on open, and the owner locks that
tell a live engine from a crashed one.

Privacy: what the engine creates under a home is for its user alone (folders 0700, files
0600, set at creation whatever the umask says). A home that already exists is never
chmod-ed behind the user's back: ``exposure_warning`` says what others can read and the
``chmod`` that fixes it.

Owners: each engine holds an ``flock`` on its own ``owners/<token>.lock`` while it is
open; the runs it starts carry ``<pid>:<token>:flock`` in their ``owner`` column. The
kernel drops the lock when the process dies, however it dies, so a later engine knows a
crashed owner even if its PID now belongs to another process. POSIX only: on Windows (no
``fcntl``) and on file systems without ``flock`` an engine gets no lock, and the owners
of old homes (``<pid>`` or ``<pid>:<token>``) are judged by ``legacy_owner_alive``.
Imports nothing of the engine.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import stat
import tempfile
import uuid
from datetime import datetime
from pathlib import Path

try:  # POSIX only; Windows engines work without owner locks
    import fcntl
except ImportError:  # pragma: no cover - exercised on Windows only
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "LOCK_SUFFIX",
    "OwnerLock",
    "create_private_file",
    "exposure_warning",
    "legacy_owner_alive",
    "lock_held",
    "make_private_dir",
    "owners_dir",
    "private_fd",
    "sweep_stale_locks",
]

logger = logging.getLogger("wireflow_nb.engine")

#: Mode of every folder the engine creates (its user only).
DIR_MODE = 0o700
#: Mode of every file the engine creates (its user only).
FILE_MODE = 0o600
#: The suffix of an owner lock file.
LOCK_SUFFIX = ".lock"

_OWNERS = "owners"
_TOKEN = re.compile(r"^[0-9a-f]{32}$")
_POSIX = os.name == "posix"
#: A legacy owner's process may have started this long after its run (clock ticks,
#: boot time rounded to whole seconds) and still count as the run's owner.
_START_SLACK = 1.0


# -- private folders and files -----------------------------------------------------------------
def make_private_dir(path: Path) -> bool:
    """Create ``path`` (and missing parents) with mode 0700 for ``path`` itself; returns
    whether it was created. An existing folder keeps its mode."""
    if path.is_dir():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.mkdir(path, DIR_MODE)
    except FileExistsError:
        return False
    # mkdir's mode is masked by the umask (which may also be too narrow to use): set it
    os.chmod(path, DIR_MODE)
    return True


def create_private_file(path: Path) -> bool:
    """Create an empty ``path`` with mode 0600 unless it exists; returns whether it was
    created. (SQLite gives its -wal and -shm files the mode of the database file.)"""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return False
    try:
        if _POSIX:
            os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return True


def private_fd(fd: int) -> None:
    """Give an open file of the home mode 0600 (``mkstemp`` does, but a narrow umask
    could leave it unreadable to its own user)."""
    if _POSIX:
        os.fchmod(fd, FILE_MODE)


def exposure_warning(home: Path, files: tuple[str, ...] = ()) -> str | None:
    """What of ``home`` other local users can read or write (the home folder, its direct
    sub-folders and ``files``), as a warning naming the ``chmod`` that fixes it; None when
    private (and always on Windows, where POSIX modes mean nothing)."""
    if not _POSIX:
        return None
    exposed = []
    entries = [home, *(p for p in _children(home) if p.is_dir()), *(home / name for name in files)]
    for path in entries:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            continue
        if mode & 0o077:
            exposed.append(f"{path} ({mode:04o})")
    if not exposed:
        return None
    return (
        f"the wireflow_nb home {home} is readable or writable by other local users: "
        f"{', '.join(exposed)}. It holds the run history, prompts, outputs and API key "
        f"hashes; make it private with: chmod -R go-rwx '{home}'"
    )


def _children(home: Path) -> list[Path]:
    try:
        return sorted(home.iterdir())
    except OSError:
        return []


# -- owner locks ----------------------------------------------------------------------------------
def owners_dir(home: Path) -> Path:
    return home / _OWNERS


class OwnerLock:
    """An engine's proof of life: an exclusive ``flock`` on ``owners/<token>.lock`` held
    from ``acquire`` to ``release`` (or to the death of the process)."""

    def __init__(self, token: str, path: Path, fd: int) -> None:
        self.token = token
        self.path = path
        self._fd: int | None = fd

    @property
    def owner(self) -> str:
        """What the engine's runs carry in their ``owner`` column."""
        return f"{os.getpid()}:{self.token}:flock"

    @classmethod
    def acquire(cls, home: Path) -> OwnerLock | None:
        """A new held lock under ``home``; None where locks are not available (Windows, a
        file system without ``flock``): the engine then runs without one."""
        if fcntl is None:
            return None
        folder = owners_dir(home)
        token = uuid.uuid4().hex
        try:
            make_private_dir(folder)
            # locked under a temporary name, then renamed: a sweeping engine never sees the
            # final name unlocked and takes it for a dead owner's
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=LOCK_SUFFIX)
        except OSError as exc:
            logger.warning(
                "cannot create an owner lock under %s (%s): crash recovery falls back to PIDs", folder, exc
            )
            return None
        try:
            private_fd(fd)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.write(fd, f"{os.getpid()}\n".encode())
            path = folder / f"{token}{LOCK_SUFFIX}"
            os.replace(tmp, path)
        except OSError as exc:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            logger.warning("cannot lock %s (%s): crash recovery falls back to PIDs", folder, exc)
            return None
        return cls(token, path, fd)

    def release(self) -> None:
        """Drop the lock and its file (unlinked first, so nobody locks a file that goes on)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        os.close(fd)


def _try_lock(path: Path) -> bool | None:
    """True: ``path`` was unlocked (this call took and dropped the lock); False: someone
    holds it; None: no such file or it cannot be checked."""
    if fcntl is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        logger.warning("cannot check the owner lock %s (%s)", path, exc)
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError as exc:
        logger.warning("cannot check the owner lock %s (%s)", path, exc)
        return None
    finally:
        os.close(fd)  # closing drops a lock this call took
    return True


def lock_held(home: Path, token: str) -> bool:
    """Whether a live process holds the owner lock ``token`` of ``home``. A lock file
    nobody holds, a missing one, or one that cannot be checked: not alive."""
    if not _TOKEN.match(token):
        return False
    return _try_lock(owners_dir(home) / f"{token}{LOCK_SUFFIX}") is False


def sweep_stale_locks(home: Path) -> None:
    """Delete the lock files of owners that are gone (after their runs were recovered)."""
    for path in _children(owners_dir(home)):
        if path.name.endswith(LOCK_SUFFIX) and not path.name.startswith(".") and _try_lock(path):
            with contextlib.suppress(OSError):
                path.unlink()


# -- owners of old homes ------------------------------------------------------------------------------
def legacy_owner_alive(pid: int, started_at: str | None) -> bool:
    """Whether process ``pid`` may be the engine (of a version without owner locks) that
    started a run at ``started_at``: it runs *and* it started no later than the run did.
    A PID reused by a newer process fails the second test. Where the start time of a
    process cannot be read (no Linux ``/proc``), the owner counts as gone: a crashed run
    wrongly kept RUNNING would stay so for as long as the PID lives, while an old engine
    still running is only possible for the moment of an upgrade."""
    run_start = _epoch(started_at)
    process_start = _process_start(pid)
    if run_start is None or process_start is None:
        return False
    return process_start <= run_start + _START_SLACK


def _epoch(iso: str | None) -> float | None:
    if not isinstance(iso, str):
        return None
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _process_start(pid: int) -> float | None:
    """When process ``pid`` started (epoch seconds), from Linux ``/proc``; None if it does
    not run or that cannot be read."""
    if pid <= 0:
        return None
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
        # fields after the command name (which may hold spaces and parentheses)
        fields = text[text.rindex(")") + 2 :].split()
        ticks = float(fields[19])  # field 22, starttime, in clock ticks since boot
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None
