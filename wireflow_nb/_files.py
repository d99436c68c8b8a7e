"""Writing a file whole or not at all: ``write_atomic``.

Every file the package writes for the user or for itself (a saved workflow, a blueprint,
an output carrying its workflow, the catalogue cache, an upload record, a stored
artifact) goes through here: the bytes go to a temporary file beside the target, which
then replaces it in one ``os.replace``; on any error the temporary file is removed and
the target is as it was. Imports nothing of the package.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["write_atomic"]

#: ``private``: readable by its user only; else the usual mode of a user's file
PRIVATE_MODE, SHARED_MODE = 0o600, 0o644


def write_atomic(path: str | os.PathLike[str], data: bytes | str, *, private: bool = False) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` whole or not at all; ``private``: mode
    0600 whatever the umask (the package's own files), else 0644 (the user's files)."""
    target = Path(path)
    body = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        if os.name == "posix":
            os.fchmod(fd, PRIVATE_MODE if private else SHARED_MODE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target
