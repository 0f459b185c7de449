"""The committed cassettes: current, traceable to their captures, and free of secrets.

They are built by ``tests/transport/cassette/build_cassettes.py`` from
``../shared/lmstudio-captures``; this checks the files on disk are what it builds now.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

HERE = Path(__file__).resolve().parent
CASSETTES = HERE.parents[2] / "cassettes"
CAPTURES = HERE.parents[3] / "shared" / "lmstudio-captures"
FILES = sorted(CASSETTES.glob("*/*.yaml"))


def load_builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_cassettes", HERE / "build_cassettes.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_there_are_cassettes() -> None:
    assert len(FILES) == 18 + 6  # the transport's, the llm plugin's


def test_cassettes_are_what_the_builder_writes() -> None:
    """Re-running build_cassettes.py would change nothing (and writes no other file)."""
    built: dict[Path, str] = {}
    load_builder().build(lambda path, text: built.__setitem__(path, text))
    assert sorted(built) == FILES
    for path, text in built.items():
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: rebuild it"


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_cassette_is_vcrpy_format_and_names_its_captures(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    modules = HERE.parents[1].glob(f"*/cassette/{path.parent.name}.py")
    assert any(modules), "one folder per test module"
    replayed = [
        line.removeprefix("#").strip()
        for line in text.splitlines()
        if line.startswith("#   ") and not line.startswith(("#     ", "#   - "))
    ]
    assert replayed
    for name in replayed:
        assert (CAPTURES / name).is_file(), name
        first_line = (CAPTURES / name).read_text(encoding="utf-8").partition("\n")[0]
        assert f"#     {first_line}" in text
    data = yaml.safe_load(text)
    assert data["version"] == 1
    for interaction in data["interactions"]:
        assert set(interaction) == {"request", "response"}
        assert set(interaction["request"]) == {"method", "uri", "body", "headers"}
        assert interaction["request"]["uri"].startswith("http://localhost:1234/")
        assert set(interaction["response"]) == {"status", "headers", "body"}
        assert isinstance(interaction["response"]["body"]["string"], str)
        assert {k.lower() for k in interaction["request"]["headers"]}.isdisjoint(
            {"authorization", "cookie", "x-api-key"}
        )


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_cassette_holds_no_token(path: Path) -> None:
    lowered = path.read_text(encoding="utf-8").lower()
    for marker in ("authorization", "bearer", "sk-lm-", "api_key", "api-key"):
        assert marker not in lowered
