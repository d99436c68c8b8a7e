"""Artifact names and paths: only files of the artifact store are ever read or served.

The defence has two layers, and each is tested here on its own (issue 14, point 5):

1. the name check of ``ArtifactStore.name_of``: a URL, ``file://`` URI, reference or
   bare name maps to an artifact name, or to None;
2. the check of ``ArtifactStore.path``: whatever it is given, only a well-formed name
   of an existing artifact becomes a path.

With either layer removed the other still refuses encoded traversal (``..%2F``),
``file://`` URIs with ``..``, absolute paths and names through a symlink; with both
removed, ``artifact_path("file://<store>/..%2F<db>")`` would hand out the database.
Written against the mutants ``benchmarks/mutation.py`` found alive.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from wireflow_nb import NotFoundError
from wireflow_nb.engine import LocalEngine
from wireflow_nb.engine.artifacts import ARTIFACT_PREFIX, ArtifactStore

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def store(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(tmp_path / "home" / "artifacts")


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file beside the store (where the database lives) that must never be served."""
    path = tmp_path / "home" / "wireflow_nb.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"SQLite format 3\x00 secret rows")
    return path


def _attacks(store: ArtifactStore, secret: Path, name: str) -> list[str]:
    root = store.root.as_uri()
    db = secret.name
    return [
        f"../{db}",
        f"..%2F{db}",
        f"..%2f..%2f{db}",
        f"%2e%2e%2F{db}",
        f"{root}/..%2F{db}",
        f"{root}/%2e%2e%2f{db}",
        f"{root}/../{db}",
        f"{root}/{name}/../../{db}",
        f"{root}/{name}%2F..%2F..%2F{db}",
        f"{ARTIFACT_PREFIX}../{db}",
        f"{ARTIFACT_PREFIX}..%2F{db}",
        str(secret),
        secret.as_uri(),
        f"{root}/{name}\x00.png",
        f"http://127.0.0.1:1/api/v1/files/..%2F{db}",
        f"http://127.0.0.1:1/api/v1/files/{name}/../{db}",
        "/etc/passwd",
        "file:///etc/passwd",
        "",
        name.upper(),
        name[:-4] + ".PNG",
        " " + name,
        name[1:],
        "0" + name,
        name[:-4] + ".toolongext",
        name[:-4] + ".",
        name[:-4] + ".p-g",
        name[:-4],
        name.replace(".", "/"),
    ]


# -- layer 1: the name check of name_of -------------------------------------------------------
def test_name_of_knows_every_way_an_artifact_is_written(store: ArtifactStore) -> None:
    name = store.save(PNG)
    assert store.name_of(name) == name
    assert store.name_of(store.ref(name)) == name
    assert store.name_of(store.url(name, None)) == name
    base = "http://127.0.0.1:8123/api/v1/files/"
    assert store.name_of(store.url(name, base), base) == name
    assert store.name_of(f"{base}{name}?download=1", base) == name
    assert store.name_of(base.rstrip("/") + "/" + name, base.rstrip("/")) == name
    # a URL an earlier server handed out (another port): found when the file exists
    assert store.name_of(f"https://old.example:9/api/v1/files/{name}") == name
    assert store.name_of(f"http://old.example:9/api/v1/files/{'0' * 64}.png") is None


def test_name_of_decodes_file_uris_of_the_store(store: ArtifactStore) -> None:
    name = store.save(PNG)
    encoded = store.root.as_uri() + "/" + name.replace("a", "%61").replace("b", "%62")
    assert store.name_of(encoded) == name


def test_name_of_refuses_what_is_not_an_artifact_name(store: ArtifactStore, secret: Path) -> None:
    name = store.save(PNG)
    for attack in _attacks(store, secret, name):
        assert store.name_of(attack) is None, attack
        assert store.name_of(attack, "http://127.0.0.1:1/api/v1/files/") is None, attack
    assert store.name_of(None) is None  # type: ignore[arg-type]
    assert store.name_of(b"name") is None  # type: ignore[arg-type]
    assert store.name_of(f"ftp://host/files/{name}") is None
    assert store.name_of(f"http://host/other/{name}") is None


def test_name_of_refuses_a_path_through_a_symlinked_folder(store: ArtifactStore, secret: Path) -> None:
    (store.root / "link").symlink_to(secret.parent, target_is_directory=True)
    inner = "0" * 64 + ".png"
    (secret.parent / inner).write_bytes(PNG)
    for url in (f"{store.root.as_uri()}/link/{inner}", f"{ARTIFACT_PREFIX}link/{inner}", f"link/{inner}"):
        assert store.name_of(url) is None, url


def test_name_of_never_answers_with_a_name_that_does_not_exist_for_foreign_urls(store: ArtifactStore) -> None:
    name = store.save(PNG)
    (store.root / name).unlink()
    assert store.name_of(f"http://old.example:9/api/v1/files/{name}") is None
    assert store.name_of(name) == name  # a bare name is a name; path() says it is missing


# -- layer 2: the check of path ---------------------------------------------------------------
def test_path_gives_the_file_of_an_artifact_and_only_that(store: ArtifactStore) -> None:
    name = store.save(PNG)
    path = store.path(name)
    assert path == store.root / name and path.read_bytes() == PNG
    assert store.read(name) == PNG
    assert store.exists(name) and store.is_name(name)


def test_path_refuses_every_attack_on_its_own(store: ArtifactStore, secret: Path) -> None:
    name = store.save(PNG)
    for attack in _attacks(store, secret, name):
        with pytest.raises(ValueError, match="is not the name of an output file"):
            store.path(attack)
        with pytest.raises(ValueError):
            store.read(attack)
        assert not store.exists(attack), attack
        assert not store.is_name(attack), attack
    for not_text in (None, 7, b"x", Path(name)):
        with pytest.raises(ValueError):
            store.path(not_text)  # type: ignore[arg-type]


def test_path_refuses_a_name_through_a_symlinked_folder(store: ArtifactStore, secret: Path) -> None:
    (store.root / "link").symlink_to(secret.parent, target_is_directory=True)
    inner = "0" * 64 + ".png"
    (secret.parent / inner).write_bytes(PNG)
    with pytest.raises(ValueError):
        store.path(f"link/{inner}")
    assert not store.exists(f"link/{inner}")


def test_a_well_formed_name_that_is_not_stored_is_missing(store: ArtifactStore) -> None:
    name = "f" * 64 + ".png"
    with pytest.raises(FileNotFoundError, match="no output file named"):
        store.path(name)
    assert not store.exists(name)
    (store.root / name).mkdir()  # a folder with an artifact's name is not a file
    with pytest.raises(FileNotFoundError):
        store.path(name)
    assert not store.exists(name)


# -- both layers through the engine -----------------------------------------------------------
def test_the_engine_hands_out_only_files_of_its_store(
    tmp_path: Path, make_engine: Callable[..., LocalEngine]
) -> None:
    engine = make_engine(tmp_path / "home")
    store_root = tmp_path / "home" / "artifacts"
    db = tmp_path / "home" / "wireflow_nb.sqlite3"
    assert db.is_file()
    name = ArtifactStore(store_root).save(PNG)  # an output file, as a node stores it
    assert engine.artifact_path(name) == store_root.resolve() / name
    assert engine.artifact_path(store_root.resolve().as_uri() + "/" + name).read_bytes() == PNG
    root = store_root.resolve().as_uri()
    for attack in (
        f"{root}/..%2F{db.name}",
        f"{root}/%2E%2E%2F{db.name}",
        f"{root}/../{db.name}",
        f"../{db.name}",
        str(db),
        db.as_uri(),
        "f" * 64 + ".png",  # well formed, not stored
    ):
        with pytest.raises(NotFoundError) as info:
            engine.artifact_path(attack)
        assert info.value.status_code == 404
        assert info.value.body == {"error": f"No output file {attack!r}"}
    for not_text in (None, 3, b"abc"):
        with pytest.raises(NotFoundError):
            engine.artifact_path(not_text)  # type: ignore[arg-type]


def test_an_output_file_is_found_under_the_servers_url(
    tmp_path: Path, make_engine: Callable[..., LocalEngine]
) -> None:
    engine = make_engine(tmp_path / "home", artifact_base_url="http://127.0.0.1:8123/api/v1/files/")
    name = ArtifactStore(tmp_path / "home" / "artifacts").save(PNG)
    assert engine.artifact_path(f"http://127.0.0.1:8123/api/v1/files/{name}").read_bytes() == PNG
    assert os.path.basename(engine.artifact_path(f"http://127.0.0.1:8123/api/v1/files/{name}?x=1")) == name
    with pytest.raises(NotFoundError):
        engine.artifact_path("http://127.0.0.1:8123/api/v1/files/..%2Fwireflow_nb.sqlite3")


def test_a_name_with_a_trailing_newline_is_not_a_name(store: ArtifactStore) -> None:
    """``$`` in a pattern also matches before a final newline: the name check must not."""
    name = store.save(PNG)
    for url in (name + "\n", store.ref(name) + "\n", store.root.as_uri() + "/" + name + "%0A"):
        assert store.name_of(url) is None, url
    assert not store.is_name(name + "\n") and not store.exists(name + "\n")
    with pytest.raises(ValueError, match="is not the name of an output file"):
        store.path(name + "\n")


def test_a_url_with_files_only_in_its_query_is_not_an_artifact(store: ArtifactStore) -> None:
    name = store.save(PNG)
    assert store.name_of(f"http://host.test/other?next=/files/{name}") is None
    assert store.name_of(f"https://host.test/files/{name}?next=/files/x") == name
