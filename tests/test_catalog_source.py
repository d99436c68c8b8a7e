"""``catalog_source`` without a server: what a source says (ages, why the server's
catalogue was not used) and what it never shows or stores (the key, a URL's user info).
The real server's paths are in ``tests/app/test_app_catalog.py``."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from wireflow_nb import AuthenticationError
from wireflow_nb.catalog import Catalog, default_catalog
from wireflow_nb.catalog_source import CatalogCache, catalog_for, describe_age

KEY = "sk-live-0123456789abcdefSECRET"


class Backend:
    """A backend answering ``nodes()`` with a catalogue or raising an error."""

    def __init__(
        self, answer: Catalog | Exception, base_url: str = "https://wireflow.invalid/api/v1"
    ) -> None:
        self.answer = answer
        self.base_url = base_url
        self._secrets = (KEY,)
        self.calls = 0
        self.lock = threading.Lock()

    def nodes(self) -> Catalog:
        with self.lock:
            self.calls += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (5, "less than a minute"),
        (61, "1 minute"),
        (3599, "59 minutes"),
        (7200, "2 hours"),
        (47 * 3600, "47 hours"),
        (3 * 86400, "3 days"),
    ],
)
def test_ages_in_words(seconds: float, words: str) -> None:
    assert describe_age(seconds) == words


def test_an_error_answer_is_not_called_unreachable_and_the_key_is_never_shown(tmp_path: Path) -> None:
    refused = Backend(AuthenticationError(f"Invalid API key {KEY}", status_code=401, body=None))
    catalog, source = catalog_for(refused, cache_dir=tmp_path)
    assert catalog is default_catalog() and source.kind == "builtin"
    assert "no catalogue from the server: Invalid API key" in source.text and "unreachable" not in source.text
    assert KEY not in source.text and KEY not in (source.reason or "")
    gone = Backend(ConnectionError(f"refused, key {KEY}"))
    _, source = catalog_for(gone, cache_dir=tmp_path)
    assert "server unreachable: refused" in source.text and KEY not in source.text
    empty = Backend(Catalog())
    _, source = catalog_for(empty, cache_dir=tmp_path)
    assert "no catalogue from the server: the server's catalogue is empty" in source.text


def test_the_cache_holds_no_user_info_and_is_shared_by_the_same_url(tmp_path: Path) -> None:
    served = Catalog(list(default_catalog())[:4])
    with_user = Backend(served, "https://alice:pa55word@wireflow.invalid/api/v1/")
    catalog, source = catalog_for(with_user, cache_dir=tmp_path)
    assert source.kind == "server" and source.text == "server https://wireflow.invalid/api/v1, fetched now"
    (path,) = tmp_path.iterdir()
    text = path.read_text(encoding="utf-8")
    assert "pa55word" not in text and "alice" not in text and KEY not in text
    plain = Backend(ConnectionError("down"), "https://wireflow.invalid/api/v1")
    catalog, source = catalog_for(plain, cache_dir=tmp_path)
    assert source.kind == "cache" and catalog.node_types == served.node_types
    other = Backend(ConnectionError("down"), "https://other.invalid/api/v1")
    _, source = catalog_for(other, cache_dir=tmp_path)
    assert source.kind == "builtin"  # another server's cache is not this one's


def test_a_cache_written_for_another_url_is_refused(tmp_path: Path) -> None:
    cache = CatalogCache(tmp_path)
    cache.write("https://a.invalid/api/v1", Catalog(list(default_catalog())[:2]), 0.0)
    cache.path("https://a.invalid/api/v1").rename(cache.path("https://b.invalid/api/v1"))
    note = cache.read("https://b.invalid/api/v1")
    assert isinstance(note, str) and "is damaged" in note and "a.invalid" in note


def test_a_local_engine_is_not_asked_nor_cached(tmp_path: Path) -> None:
    from wireflow_nb import LocalEngine

    with LocalEngine(tmp_path / "home") as engine:
        catalog, source = catalog_for(engine, cache_dir=tmp_path / "cache")
        assert catalog is engine.catalog and source.kind == "backend"
    assert not (tmp_path / "cache").exists()
    catalog, source = catalog_for(object(), cache_dir=tmp_path / "cache")
    assert catalog is default_catalog() and "the backend has no node catalogue" in source.text
