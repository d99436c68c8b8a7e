"""Status enums. Statuses are read case-insensitively; an unknown spelling is kept as the
string the server sent, so a new status never breaks a client."""

from __future__ import annotations

from enum import Enum
from typing import Any, Union


class ExecutionStatus(str, Enum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    TIMEOUT = "TIMEOUT"

    def __str__(self) -> str:
        return self.value


class NodeRunStatus(str, Enum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"
    CANCELLED = "CANCELLED"

    def __str__(self) -> str:
        return self.value


#: Spellings the hosted service uses for the same states.
_SYNONYMS = {
    "QUEUED": "PENDING",
    "WAITING": "PENDING",
    "IN_PROGRESS": "RUNNING",
    "PROCESSING": "RUNNING",
    "SUCCEEDED": "COMPLETED",
    "SUCCESS": "COMPLETED",
    "DONE": "COMPLETED",
    "ERROR": "FAILED",
    "CANCELED": "CANCELLED",
    "TIMED_OUT": "TIMEOUT",
}

TERMINAL_EXECUTION_STATUSES = frozenset(
    {
        ExecutionStatus.COMPLETED,
        ExecutionStatus.FAILED,
        ExecutionStatus.CANCELLED,
        ExecutionStatus.TIMEOUT,
    }
)

StatusValue = Union[ExecutionStatus, str]
NodeStatusValue = Union[NodeRunStatus, str]


def keep_exact(enum: type[Enum], value: Any) -> Any:
    """Before-validator: the enum member when the server wrote its exact value, otherwise
    the raw string (so ``running`` is written back as ``running``)."""
    if isinstance(value, enum):
        return value
    if isinstance(value, str):
        try:
            return enum(value)
        except ValueError:
            return value
    return value


def normalize_execution_status(value: Any) -> ExecutionStatus | str:
    """``ExecutionStatus`` for any known spelling (case-insensitive), else the string."""
    if isinstance(value, ExecutionStatus):
        return value
    text = str(value).strip().upper().replace("-", "_").replace(" ", "_")
    text = _SYNONYMS.get(text, text)
    try:
        return ExecutionStatus(text)
    except ValueError:
        return str(value)


def normalize_node_status(value: Any) -> NodeRunStatus | str:
    """``NodeRunStatus`` for any known spelling (case-insensitive), else the string."""
    if isinstance(value, NodeRunStatus):
        return value
    text = str(value).strip().upper().replace("-", "_").replace(" ", "_")
    text = _SYNONYMS.get(text, text)
    if text == "CANCELED":
        text = "CANCELLED"
    try:
        return NodeRunStatus(text)
    except ValueError:
        return str(value)


def is_terminal(value: Any) -> bool:
    return normalize_execution_status(value) in TERMINAL_EXECUTION_STATUSES


def error_message(error: Any) -> str | None:
    """The text of an ``error`` field, flat (``"..."``) or nested (``{"message": ...}``)."""
    if error is None:
        return None
    if isinstance(error, str):
        return error
    if isinstance(error, dict):
        for key in ("message", "error", "detail", "type", "code"):
            value = error.get(key)
            if isinstance(value, str) and value:
                return value
    return str(error)
