"""``WorkflowApp`` offers its backend's catalogue (``catalog_source.catalog_for``): fetched
from a real ``wireflow-nb serve`` on loopback, from the cache on disk when the server is
gone (with its age), else the built-ins; and it says which at the palette's top."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import ipywidgets as widgets
import pytest

from tests._catalogs import BUILT_INS, serving_node_types, shown_source
from tests._servers import TEST_API_KEY, RunningServer, wait_until
from wireflow_nb import AsyncWireflowClient, BackendCatalog, WireflowClient, Workflow, acatalog_for
from wireflow_nb.catalog import Catalog, default_catalog
from wireflow_nb.catalog_source import CatalogCache, catalog_for
from wireflow_nb.widgets import WorkflowApp


def source_text(app: WorkflowApp) -> str:
    return shown_source(app.editor.palette)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with serving_node_types(tmp_path_factory.mktemp("app-types")) as running:
        yield running


def test_the_app_on_a_client_offers_the_served_types(server: RunningServer) -> None:
    with server.client() as client:
        app = WorkflowApp(client, workflow=Workflow("served"))
        try:
            assert len(app.editor.catalog) == BUILT_INS + 500 and "video:kind_006" in app.editor.catalog
            assert f"server {server.base_url}, fetched now" in source_text(app)
            palette = app.editor.palette
            assert not any(h.value for h in palette.headings.values())  # folded: hundreds of types
            palette.search.value = "kind_006"
            palette.buttons["video:kind_006"].click()
            (node,) = app.workflow.nodes
            assert node.node_type == "video:kind_006"
            assert isinstance(app.editor.inspector.fields["style"], widgets.Dropdown)
        finally:
            app.close()


def test_the_app_prices_and_checks_with_the_served_catalogue(server: RunningServer) -> None:
    wf = Workflow("priced")
    wf.add_node("utility:kind_003", id="make", prompt="a fox")  # price 3
    wf.add_node("upscale:kind_008", id="take", prompt="x")  # price 1, outputs image
    wf.add_node("logic:kind_005", id="end")  # price 5
    with server.client() as client:
        app = WorkflowApp(client, workflow=wf)
        try:
            assert "9 credits" in app.estimate_label.value  # the served prices (client: no estimate_cost)
            wf.connect("take", "result", "end", "seamless")  # an image into a boolean input
            assert app.run() is None  # refused before anything is sent
            assert "kind mismatch: image output take.result cannot feed boolean input end.seamless" in (
                app.message.value
            )
        finally:
            app.close()


def test_the_app_on_an_async_client_offers_the_served_types(server: RunningServer) -> None:
    client = server.async_client()
    app = WorkflowApp(client, workflow=Workflow("served-async"))
    try:
        assert "audio:kind_499" not in app.editor.catalog and "mask:kind_499" in app.editor.catalog
        assert len(app.editor.catalog) == BUILT_INS + 500 and "fetched now" in source_text(app)
    finally:
        app.close()


def test_the_app_on_a_local_engine_offers_the_engine_s_own_types(engine) -> None:
    app = WorkflowApp(engine)
    try:
        assert app.editor.catalog is engine.catalog
        assert "LocalEngine's own types" in source_text(app)
    finally:
        app.close()


def test_offline_the_app_uses_the_cache_with_its_age_else_the_built_ins(tmp_path: Path) -> None:
    home = Path(os.environ["WIREFLOW_NB_HOME"])  # the per-test home (tests/conftest.py)
    with serving_node_types(tmp_path / "served", count=30) as server:
        base_url = server.base_url
        first = WorkflowApp(server.client(), workflow=Workflow("online"))
        assert len(first.editor.catalog) == BUILT_INS + 30 and "fetched now" in source_text(first)
        first.close()
    cache = CatalogCache(home / "catalogs")
    path = cache.path(base_url)
    text = path.read_text(encoding="utf-8")
    assert TEST_API_KEY not in text and base_url in text  # keyed by URL, never the key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700

    # the server is gone: the cache, and how old it is
    offline = Workflow("offline")
    offline.add_node("logic:kind_015", prompt="a")  # price 1
    offline.add_node("utility:kind_003", prompt="b")  # price 3
    second = WorkflowApp(WireflowClient(api_key=TEST_API_KEY, base_url=base_url), workflow=offline)
    assert len(second.editor.catalog) == BUILT_INS + 30 and "logic:kind_015" in second.editor.catalog
    said = source_text(second)
    assert "cache from" in said and "less than a minute old" in said and "server unreachable" in said
    assert TEST_API_KEY not in said
    # no estimate from the server: the cached catalogue's prices, not "price unknown"
    assert second.wait_idle(60)
    assert "4 credits" in second.estimate_label.value and "unknown" not in second.estimate_label.value
    second.close()

    body = json.loads(text)
    body["fetchedAt"] = time.time() - 3 * 3600 - 60
    path.write_text(json.dumps(body), encoding="utf-8")
    third = WorkflowApp(WireflowClient(api_key=TEST_API_KEY, base_url=base_url))
    assert "3 hours old" in source_text(third)
    third.close()

    # a damaged cache: ignored with a note, the built-ins offered
    path.write_text('{"format": 1, "baseUrl": "', encoding="utf-8")
    fourth = WorkflowApp(WireflowClient(api_key=TEST_API_KEY, base_url=base_url))
    assert fourth.editor.catalog is default_catalog()
    said = source_text(fourth)
    assert "built-in types" in said and "is damaged" in said
    fourth.close()

    # no cache at all
    path.unlink()
    fifth = WorkflowApp(WireflowClient(api_key=TEST_API_KEY, base_url=base_url))
    assert fifth.editor.catalog is default_catalog()
    assert "built-in types (no catalogue from the backend: server unreachable" in source_text(fifth)
    fifth.close()


def test_a_server_that_does_not_answer_holds_the_app_only_for_the_timeout(tmp_path: Path) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # connections are accepted by the system, never answered
    base_url = f"http://127.0.0.1:{silent.getsockname()[1]}/api/v1"
    cached = Catalog(list(default_catalog())[:3])
    CatalogCache(tmp_path / "cache").write(base_url, cached, time.time() - 7200)
    client = WireflowClient(api_key=TEST_API_KEY, base_url=base_url, max_retries=0)
    try:
        catalog, source = catalog_for(client, cache_dir=tmp_path / "cache", timeout=0.5)
        assert catalog.node_types == cached.node_types
        assert (
            source.kind == "cache"
            and "2 hours old (server unreachable: no answer within 0.5 s)" in source.text
        )
    finally:
        client.close()
        silent.close()


def test_a_fresh_cache_spares_the_request_with_max_age(tmp_path: Path) -> None:
    with serving_node_types(tmp_path / "served", count=5) as server:
        base_url = server.base_url
        _, fetched = catalog_for(server.client(), cache_dir=tmp_path / "cache")
        assert fetched.kind == "server" and fetched.age() is not None and fetched.age() < 60
    client = WireflowClient(api_key=TEST_API_KEY, base_url=base_url)
    catalog, source = catalog_for(client, cache_dir=tmp_path / "cache", max_age=3600)
    assert "process:kind_004" in catalog and source.kind == "cache"
    assert "the server was not asked" in source.text and "unreachable" not in source.text
    catalog, source = catalog_for(client, cache_dir=tmp_path / "cache", max_age=0.0)
    assert source.kind == "cache" and "server unreachable" in source.text  # too old: asked, gone


def test_an_async_client_that_gets_no_answer_costs_only_the_timeout(tmp_path: Path) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    base_url = f"http://127.0.0.1:{silent.getsockname()[1]}/api/v1"
    client = AsyncWireflowClient(api_key=TEST_API_KEY, base_url=base_url, max_retries=0)

    async def ask() -> BackendCatalog:
        try:
            return await acatalog_for(client, cache_dir=tmp_path / "cache", timeout=0.3)
        finally:
            await client.close()

    try:
        catalog, source = asyncio.run(ask())
    finally:
        silent.close()
    assert catalog is default_catalog()
    assert source.kind == "builtin" and "server unreachable: no answer within 0.3 s" in source.text


class SlowBackend:
    """A backend whose catalogue answers when the test lets it (``release``), or fails."""

    base_url = "https://wireflow.invalid/api/v1"

    def __init__(self, catalog: Catalog | None) -> None:
        self.catalog_to_send = catalog
        self.release = threading.Event()

    def nodes(self) -> Catalog:
        self.release.wait(60)
        if self.catalog_to_send is None:
            raise ConnectionError("unreachable")
        return self.catalog_to_send


def test_a_late_answer_still_refreshes_the_cache_for_the_next_time(tmp_path: Path) -> None:
    served = Catalog(list(default_catalog())[:2])
    slow = SlowBackend(served)
    catalog, source = catalog_for(slow, cache_dir=tmp_path, timeout=0.05)
    assert source.kind == "builtin" and "no answer within 0.05 s" in source.text
    cache = CatalogCache(tmp_path)
    assert not cache.path(slow.base_url).exists()
    slow.release.set()
    wait_until(lambda: cache.path(slow.base_url).exists(), message="the late answer to be cached")
    gone = SlowBackend(None)
    gone.release.set()
    catalog, source = catalog_for(gone, cache_dir=tmp_path)
    assert catalog.node_types == served.node_types
    assert source.kind == "cache" and "server unreachable: unreachable" in source.text
