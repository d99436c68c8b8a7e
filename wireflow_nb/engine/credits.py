"""Credits: the cost estimate of a request, and the ledger that holds the balance,
reserves a request's cost before it runs and charges nodes as they succeed. The price
of a node is ``NodeSpec.price_for``'s (the one home of pricing), set on each planned node
by ``planning``.

Rules (DECISIONS.md): a request's cost is the price of the nodes that will run, over every
run of the batch; nodes served from the cache cost nothing (and a node computed once in a
batch is a cache hit for the other runs); if the cost exceeds what is available, 402 and
nothing runs. Only nodes that ran and succeeded are charged.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .._exceptions import InsufficientCreditsError
from ..models import CreditsBreakdownItem
from .store import Store

if TYPE_CHECKING:
    from .cache import OutputCache
    from .planning import RunPlan

__all__ = ["CreditsLedger", "Reservation", "estimate", "insufficient_credits"]


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 6)


def estimate(plans: Iterable[RunPlan], cache: OutputCache | None) -> tuple[float, list[CreditsBreakdownItem]]:
    """Credits a batch will cost, and the per-node breakdown (nodes that cost something,
    in request order, summed over the batch)."""
    seen: set[str] = set()
    per_node: dict[str, list[Any]] = {}
    total = 0.0
    for plan in plans:
        for planned in plan.nodes.values():
            if not planned.price:
                continue
            if planned.cacheable:
                if planned.key in seen or (cache is not None and planned.key in cache):
                    continue
                seen.add(planned.key)
            entry = per_node.setdefault(planned.id, [planned.index, planned.label, 0.0])
            entry[2] += planned.price
            total += planned.price
    breakdown = [
        CreditsBreakdownItem(node_id=node_id, node_label=label, credits=_number(credits))
        for node_id, (_, label, credits) in sorted(per_node.items(), key=lambda item: item[1][0])
    ]
    return total, breakdown


def insufficient_credits(
    required: float, available: float, breakdown: list[CreditsBreakdownItem]
) -> InsufficientCreditsError:
    """The 402 error with the spec's exact body."""
    req, avail = _number(required), _number(available)
    message = f"Insufficient credits. Required: {req}, Available: {avail}"
    body = {
        "error": message,
        "insufficientCredits": True,
        "requiredCredits": req,
        "availableCredits": avail,
        "breakdown": [item.to_wire() for item in breakdown],
    }
    return InsufficientCreditsError(
        message,
        body=body,
        required_credits=req,
        available_credits=avail,
        breakdown=breakdown,
    )


class Reservation:
    """Credits set aside for one request (a whole batch) until its runs end."""

    __slots__ = ("left", "open_runs")

    def __init__(self, amount: float, runs: int) -> None:
        self.left = amount
        self.open_runs = runs


class CreditsLedger:
    """The balance (persisted in the store) and the reservations of running requests."""

    def __init__(self, store: Store, initial: float) -> None:
        self._store = store
        self._lock = threading.Lock()
        balance = store.get_meta("credits_balance")
        used = store.get_meta("credits_used")
        if balance is None:
            store.set_metas({"credits_balance": repr(float(initial)), "credits_used": "0.0"})
            balance, used = repr(float(initial)), "0.0"
        self._balance = float(balance)
        self._used = float(used or 0)
        self._reserved = 0.0

    @property
    def balance(self) -> float:
        return self._balance

    @property
    def used(self) -> float:
        """Credits charged over the life of this home."""
        return self._used

    @property
    def available(self) -> float:
        """The balance minus what running requests have reserved."""
        with self._lock:
            return self._balance - self._reserved

    def reserve(self, amount: float, runs: int, breakdown: list[CreditsBreakdownItem]) -> Reservation:
        """Set ``amount`` aside, or raise the 402 error when it is not available."""
        with self._lock:
            available = self._balance - self._reserved
            if amount > available + 1e-9:
                raise insufficient_credits(amount, max(available, 0.0), breakdown)
            self._reserved += amount
            return Reservation(amount, runs)

    def can_charge(self, reservation: Reservation, amount: float) -> bool:
        """Whether a node of price ``amount`` may run (its reservation, or free credits, cover it)."""
        with self._lock:
            extra = max(0.0, amount - reservation.left)
            return extra <= self._balance - self._reserved + 1e-9

    def charge(
        self, reservation: Reservation, amount: float, *, save: Callable[[dict[str, str]], None] | None = None
    ) -> None:
        """Take ``amount`` off the balance for a node that succeeded. ``save`` writes the
        new balance (default: on its own); the engine passes one that writes it in the
        same transaction as the node's run, so a crash never keeps one without the other."""
        if not amount:
            return
        with self._lock:
            from_reservation = min(amount, reservation.left)
            reservation.left -= from_reservation
            self._reserved -= from_reservation
            self._balance -= amount
            self._used += amount
            values = {"credits_balance": repr(self._balance), "credits_used": repr(self._used)}
        (save or self._store.set_metas)(values)

    def release(self, reservation: Reservation) -> None:
        """One run of the request ended; the last one returns what is left."""
        with self._lock:
            reservation.open_runs -= 1
            if reservation.open_runs <= 0 and reservation.left:
                self._reserved -= reservation.left
                reservation.left = 0.0

    def add(self, amount: float) -> float:
        with self._lock:
            self._balance += float(amount)
            value = repr(self._balance)
        self._store.set_meta("credits_balance", value)
        return self._balance
