"""20 concurrent clients executing and polling against one server for a while
(``WIREFLOW_SOAK_SECONDS``, default 20 s; 60 s is the figure of the issue): no 5xx, no
lost or duplicated execution, every history consistent with what its clients did."""

from __future__ import annotations

import random
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests._servers import RunningServer, running_server
from tests._servers import wait_until as wait_for
from wireflow_nb import WireflowClient
from wireflow_nb._exceptions import WireflowError

from ._helpers import IMAGE_PRICE, all_executions, env_float, env_int, image_workflow, usage
from .conftest import Figures

CLIENTS = env_int("WIREFLOW_SOAK_CLIENTS", 20)
SECONDS = env_float("WIREFLOW_SOAK_SECONDS", 20.0)
CREDITS = 10_000_000
SHARED = "soak-shared"


class _Traffic:
    """Every HTTP answer the clients got (thread-safe), from httpx event hooks."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: Counter[int] = Counter()
        self.server_errors: list[str] = []
        self.latencies: list[float] = []

    def hook(self, response: httpx.Response) -> None:
        response.read()  # the body is wanted anyway; reading it closes the stream and sets elapsed
        with self.lock:
            self.statuses[response.status_code] += 1
            self.latencies.append(response.elapsed.total_seconds())
            if response.status_code >= 500:
                request = response.request
                self.server_errors.append(f"{request.method} {request.url.path} -> {response.status_code}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("soak-home"), credits=CREDITS, model_latency=0.05) as running:
        yield running


def test_concurrent_clients_execute_and_poll(server: RunningServer, figures: Figures) -> None:
    traffic = _Traffic()
    deadline = time.monotonic() + SECONDS
    started_ids: dict[int, list[tuple[str, str]]] = {k: [] for k in range(CLIENTS)}
    errors: list[str] = []
    reads = Counter[str]()
    reads_lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS)

    def client_loop(k: int) -> None:
        rng = random.Random(1000 + k)
        http = httpx.Client(timeout=30, event_hooks={"response": [traffic.hook]})
        client = WireflowClient(
            api_key=server.api_key,
            base_url=server.base_url,
            http_client=http,
            poll_initial=0.05,
            poll_factor=1.5,
            poll_max=0.5,
        )
        own = f"soak-{k}"
        barrier.wait(30)
        n = 0
        try:
            while time.monotonic() < deadline and n < 10_000:
                n += 1
                workflow_id = SHARED if rng.random() < 0.3 else own
                try:
                    response = client.execute(workflow_id, image_workflow(f"client {k} run {n}"))
                    [execution_id] = response.execution_ids
                    started_ids[k].append((workflow_id, execution_id))
                    [done] = [client.wait(execution_id, timeout=60)]
                    assert done.status == "COMPLETED"
                    roll = rng.random()
                    if roll < 0.3:
                        assert client.get_execution(execution_id).status == "COMPLETED"
                        kind = "details"
                    elif roll < 0.6:
                        limit = rng.randint(1, 100)
                        page = client.list_executions(workflow_id, limit=limit)
                        # newest first: the run just finished is on the first page, unless
                        # other clients of the shared workflow filled it since
                        assert any(row.id == execution_id for row in page) or len(page) == limit
                        kind = "history"
                    else:
                        _, old_id = rng.choice(started_ids[k])
                        assert client.poll(old_id).status in ("RUNNING", "COMPLETED")
                        kind = "poll-old"
                    with reads_lock:
                        reads[kind] += 1
                except (WireflowError, AssertionError) as exc:
                    errors.append(f"client {k}: {type(exc).__name__}: {str(exc)[:200]}")
        finally:
            client.close()
            http.close()

    threads = [threading.Thread(target=client_loop, args=(k,), name=f"soak-{k}") for k in range(CLIENTS)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 120)
    wall = time.monotonic() - began
    assert not any(t.is_alive() for t in threads), "a client did not stop"

    with server.http() as http:

        def settled() -> dict[str, list[dict[str, Any]]] | None:
            rows = {
                wid: all_executions(http, wid) for wid in [SHARED, *(f"soak-{k}" for k in range(CLIENTS))]
            }
            busy = [r for rs in rows.values() for r in rs if r["status"] in ("PENDING", "RUNNING")]
            return None if busy else rows

        history: dict[str, list[dict[str, Any]]] = wait_for(settled, timeout=60, message="all runs to end")
        spent = usage(http)

    started = [pair for k in range(CLIENTS) for pair in started_ids[k]]
    started_set = {eid for _, eid in started}
    server_ids = [row["id"] for rows in history.values() for row in rows]
    duplicates = len(server_ids) - len(set(server_ids))
    lost = started_set - set(server_ids)
    unknown = set(server_ids) - started_set
    statuses = Counter(row["status"] for rows in history.values() for row in rows)
    charged = sum(float(row["creditsUsed"] or 0) for rows in history.values() for row in rows)

    # each client ran sequentially: its history is its own runs, newest first; in the
    # shared history every client's runs keep their order
    order_problems = []
    for k in range(CLIENTS):
        own = [eid for wid, eid in started_ids[k] if wid == f"soak-{k}"]
        if [row["id"] for row in history[f"soak-{k}"]] != own[::-1]:
            order_problems.append(f"soak-{k}")
        shared_rows = [row["id"] for row in history[SHARED]]
        mine = [eid for wid, eid in started_ids[k] if wid == SHARED]
        if [eid for eid in shared_rows if eid in set(mine)] != mine[::-1]:
            order_problems.append(f"{SHARED} (client {k})")
    # paging: the rows of the shared history page by page equal one pass over it
    with server.http() as http:
        paged: list[str] = []
        for offset in range(0, len(history[SHARED]) + 7, 7):
            paged += [
                r["id"]
                for r in http.get(
                    f"/workflows/{SHARED}/executions", params={"limit": 7, "offset": offset}
                ).json()
            ]
    latencies = sorted(traffic.latencies)
    total_requests = sum(traffic.statuses.values())
    figures(
        f"soak: {CLIENTS} clients for {SECONDS:g} s against one server",
        {
            "executions started": len(started),
            "executions on server": len(server_ids),
            "lost / duplicated / unknown": f"{len(lost)} / {duplicates} / {len(unknown)}",
            "statuses": dict(statuses),
            "requests": f"{total_requests} ({total_requests / wall:.0f}/s over {wall:.1f} s)",
            "HTTP statuses": dict(sorted(traffic.statuses.items())),
            "5xx": len(traffic.server_errors),
            "latency p50 / p99 / max": (
                f"{statistics.median(latencies) * 1000:.0f} / "
                f"{latencies[int(len(latencies) * 0.99) - 1] * 1000:.0f} / {latencies[-1] * 1000:.0f} ms"
            ),
            "reads after runs": dict(reads),
            "client errors": len(errors),
            "credits used / charged / price x runs": (
                f"{spent['creditsUsed']} / {charged:g} / {IMAGE_PRICE * len(started)}"
            ),
        },
    )
    assert not traffic.server_errors, traffic.server_errors[:10]
    assert not errors, errors[:10]
    assert len(started) >= CLIENTS * 3
    assert duplicates == 0
    assert not lost and not unknown
    assert statuses.keys() == {"COMPLETED"}
    assert not order_problems, order_problems
    assert paged == [r["id"] for r in history[SHARED]]
    assert charged == IMAGE_PRICE * len(started) == float(spent["creditsUsed"])
    assert float(spent["creditsBalance"]) + float(spent["creditsUsed"]) == CREDITS
    assert "Traceback" not in server.log and "unhandled error" not in server.log
