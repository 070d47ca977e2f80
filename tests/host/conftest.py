"""Fixtures for tests that run the pack inside a real ComfyUI (CPU).

Set ``COMFYUI_PATH`` to a ComfyUI checkout whose requirements are installed in the running
environment (recipe: docs/testing.md). Without it every test here is skipped, with the
reason, and ComfyUI is never imported. All tests here carry the ``host`` marker.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

HOST_DIR = Path(__file__).resolve().parent
PACK_DIR = HOST_DIR.parents[1]
COMFYUI_PATH = os.environ.get("COMFYUI_PATH", "")
SKIP_REASON = (
    "COMFYUI_PATH is unset: host tests need a ComfyUI checkout with its requirements "
    "installed in this environment (see docs/testing.md)"
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HOST_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.host)


@pytest.fixture(autouse=True)
def _needs_comfyui() -> None:
    if not COMFYUI_PATH:
        pytest.skip(SKIP_REASON)


@pytest.fixture(scope="session")
def comfy_host() -> Any:
    """ComfyUI booted from ``COMFYUI_PATH`` on the CPU, built-in nodes loaded (~6-20 s)."""
    if not COMFYUI_PATH:
        pytest.skip(SKIP_REASON)
    from comfy_host_harness import boot

    import flowsearch

    here = Path(flowsearch.__file__).resolve().parent
    if here != PACK_DIR:
        pytest.fail(
            f"`import flowsearch` resolves to {here}, not the checkout under test {PACK_DIR}; "
            "run `pip install --no-deps -e .` from this checkout in the host environment"
        )
    return boot(COMFYUI_PATH)


@pytest.fixture(scope="session")
def pack_node_ids(comfy_host: Any) -> list[str]:
    """Node ids this pack registered through ComfyUI's own custom-node loader."""
    from comfy_host_harness import load_pack

    return load_pack(comfy_host, str(PACK_DIR))


@pytest.fixture
def tiny_flux(comfy_host: Any) -> Any:
    """A fresh tiny FLUX ``ModelPatcher`` (CPU, float32, every parameter initialised)."""
    from comfy_host_harness import build_tiny_flux

    return build_tiny_flux(seed=0)


@pytest.fixture(scope="session")
def run_graph(comfy_host: Any, pack_node_ids: list[str]) -> Callable[[dict], dict]:
    """``run_graph(prompt) -> {node_id: outputs}``: validate + execute an API-format prompt."""
    from comfy_host_harness import run_prompt

    return lambda prompt: run_prompt(comfy_host, prompt)
