"""The toolbar's estimate, ``LocalEngine.estimate_cost`` and the credits a real run charges
are one figure: for every priced built-in node type, every way of writing ``numImages``,
without a batch and with a batch of 3 (over ``seed``, and over ``numImages`` itself), on
a ``LocalEngine`` and on a ``WireflowClient`` talking to a real ``wireflow-nb serve``.

The toolbar's figure is read through ``_credits.fetch_estimate(backend, request)``, the
path ``WorkflowApp.refresh_estimate`` takes in the background: the backend's own
``estimate()`` (the engine's in process, ``POST /workflows/{id}/estimate`` on the server)
with the batch's iterator configs. The catalog's figure (``toolbar_estimate(request)``,
what the toolbar shows when a backend gives no estimate) must agree too. Every run
starts from an empty cache (a fresh engine, or a prompt no other case used on the shared
server), so no node is free and the estimates, upper bounds, must be exact.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests._servers import RunningServer, running_server
from wireflow_nb import Workflow
from wireflow_nb.catalog import NodeSpec, default_catalog
from wireflow_nb.engine import LocalEngine
from wireflow_nb.models import ExecuteRequest
from wireflow_nb.widgets._credits import fetch_estimate
from wireflow_nb.widgets._estimate import toolbar_estimate
from wireflow_nb.widgets._run_state import batch_size

PRICED = [spec for spec in default_catalog() if spec.price]
NUM_IMAGES: tuple[Any, ...] = (None, 1, 2, 4, "3", 1.5)
#: A batch of 3 over numImages, written three ways (the runs make 1, 2 and 4 images: a total
#: that no single count times 3 gives, so pricing every run alike cannot pass).
NUM_IMAGES_BATCH = [1, "2", 3.6]

_prompts = itertools.count()


def cases() -> Iterator[Any]:
    for spec in PRICED:
        counts = NUM_IMAGES if spec.input("numImages") is not None else (None,)
        batches: list[str | None] = [None, "seed"]
        if spec.input("numImages") is not None:
            batches.append("numImages")
        for count, batch in itertools.product(counts, batches):
            yield pytest.param(spec, count, batch, id=f"{spec.node_type}-numImages={count!r}-batch={batch}")


@pytest.fixture(scope="module")
def source_image(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("estimate-image") / "red.png"
    Image.new("RGB", (16, 16), "red").save(path)
    return str(path)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(
        tmp_path_factory.mktemp("estimate-serve"), credits=1_000_000, model_latency=0
    ) as running:
        yield running


def request_for(spec: NodeSpec, count: Any, batch: str | None, image: str) -> ExecuteRequest:
    """One node of type ``spec`` (its image from an unpriced ``input:image``), small and
    quick, with a prompt no other case uses."""
    wf = Workflow("estimate")
    inputs: dict[str, Any] = {}
    if spec.input("prompt") is not None:
        inputs["prompt"] = f"a red fox, case {next(_prompts)}"
    if count is not None:
        inputs["numImages"] = count
    for name, value in (("width", 64), ("height", 64), ("durationSeconds", 0.5)):
        if spec.input(name) is not None:
            inputs[name] = value
    wf.add_node(spec.node_type, id="paid", **inputs)
    if spec.input("image") is not None:
        wf.add_node("input:image", id="source", image=image)
        wf.connect("source", "images", "paid", "image")
    configs = None
    if batch == "seed":
        configs = [{"nodeId": "paid", "field": "seed", "values": [1, 2, 3]}]
    elif batch == "numImages":
        configs = [{"nodeId": "paid", "field": "numImages", "values": NUM_IMAGES_BATCH}]
    return wf.to_request(iterator_configs=configs)


def charged_by_a_run(backend: Any, request: ExecuteRequest) -> float:
    before = backend.credits_balance()
    response = backend.execute("estimate", request)
    # one rule for the run count: what the app expects is what the backend starts
    assert len(response.execution_runs) == batch_size(request)
    for run in response.execution_runs:
        assert backend.wait(run.id, timeout=60).status == "COMPLETED"
    return float(before - backend.credits_balance())


def shown_figures(backend: Any, request: ExecuteRequest, source: str) -> tuple[float, float]:
    """The toolbar's figure on ``backend`` (the backend's own, labelled ``source``) and
    the catalog's (the fallback)."""
    shown = asyncio.run(fetch_estimate(backend, request, workflow_id="estimate"))
    assert shown.source == source
    return shown.total, toolbar_estimate(request).total


def engine_estimate(request: ExecuteRequest) -> float:
    with LocalEngine(home=":memory:", model_latency=0) as fresh:
        total, _ = fresh.estimate_cost(request)
    return float(total)


@pytest.mark.parametrize(("spec", "count", "batch"), list(cases()))
def test_on_a_local_engine(spec: NodeSpec, count: Any, batch: str | None, source_image: str) -> None:
    request = request_for(spec, count, batch, source_image)
    with LocalEngine(home=":memory:", model_latency=0) as engine:
        shown, catalog = shown_figures(engine, request, "local engine")
        charged = charged_by_a_run(engine, request)
    assert (shown, catalog, engine_estimate(request)) == (charged, charged, charged)


@pytest.mark.parametrize(("spec", "count", "batch"), list(cases()))
def test_on_a_client_of_a_real_server(
    spec: NodeSpec, count: Any, batch: str | None, source_image: str, server: RunningServer
) -> None:
    # a server reads no local file for a caller: the image goes as a data: URL
    picture = "data:image/png;base64," + base64.b64encode(Path(source_image).read_bytes()).decode()
    request = request_for(spec, count, batch, picture)
    with server.client(poll_initial=0.02, poll_max=0.1) as client:
        shown, catalog = shown_figures(client, request, "from the server")
        charged = charged_by_a_run(client, request)
    assert (shown, catalog, engine_estimate(request)) == (charged, charged, charged)


@pytest.mark.parametrize("where", ["local engine", "from the server"])
def test_the_app_shows_the_batch_priced_per_run_and_the_run_charges_it(
    where: str, server: RunningServer, tmp_path: Path
) -> None:
    from wireflow_nb.widgets.app import WorkflowApp

    wf = Workflow("estimate-app")
    wf.add_node("model:fal:text-to-image", id="image", prompt=f"a fox, {where}", numImages=4)
    with (
        server.client(poll_initial=0.02, poll_max=0.1)
        if where == "from the server"
        else LocalEngine(home=tmp_path / "home", credits=1000, model_latency=0)
    ) as backend:
        app = WorkflowApp(backend, workflow=wf, workflow_id="estimate-app")
        try:
            assert app.wait_idle(10)
            assert f"<b>40 credits</b> ({where})" in app.estimate_label.value
            app.set_batch("image", "numImages", NUM_IMAGES_BATCH)
            # at once, the catalog's prices run by run; then the backend's figure
            assert "\u224870 credits</b> (10 + 20 + 40; catalog prices" in app.estimate_label.value
            assert app.wait_idle(10)
            assert f"<b>70 credits</b> (3 runs; {where})" in app.estimate_label.value
            before = backend.credits_balance()
            run = app.run(wait=True)
            assert run is not None and run.state.status == "COMPLETED"
            assert before - backend.credits_balance() == 70
        finally:
            # (not app.close(): it leaves the app's tabs holding the closed OutputView,
            # which breaks any later look at every widget's state, as tests/security does)
            assert app.wait_idle(10)
