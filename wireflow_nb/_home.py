"""The user's data folder of wireflow_nb: ``$WIREFLOW_NB_HOME``, else the per-user data
folder (platformdirs). The local engine keeps its home there and the clients their
upload cache. Imports nothing of the package."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["HOME_ENV", "data_home"]

HOME_ENV = "WIREFLOW_NB_HOME"


def data_home() -> Path:
    """``$WIREFLOW_NB_HOME``, else the per-user data folder (platformdirs)."""
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("wireflow_nb"))
