"""Fixtures for tests that run the pack inside a real ComfyUI (CPU).

Set ``COMFYUI_PATH`` to a ComfyUI checkout whose requirements are installed in the running
environment (recipe: docs/testing.md). Without it every test here is skipped, with the
reason, and ComfyUI is never imported. All tests here carry the ``host`` marker; the ones
that use a real server carry ``server``, those that use the browser also ``browser``.

In-process fixtures (ComfyUI booted once per session):
``comfy_host``, ``host_dirs``, ``pack_node_ids``, ``run_graph``, ``object_info``,
``ui_to_api``, ``tiny_flux``, ``tiny_vae``.
Server fixtures (one ComfyUI server per session, started on first use):
``comfy_server``, ``browser``, ``page``, ``artifacts_dir``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

HOST_DIR = Path(__file__).resolve().parent
PACK_DIR = HOST_DIR.parents[1]
ARTIFACTS_DIR = HOST_DIR / "_artifacts"
COMFYUI_PATH = os.environ.get("COMFYUI_PATH", "")
SKIP_REASON = (
    "COMFYUI_PATH is unset: host tests need a ComfyUI checkout with its requirements "
    "installed in this environment (see docs/testing.md)"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "server: starts a real ComfyUI server (session-wide)")
    config.addinivalue_line("markers", "browser: needs Playwright and Debian's chromium")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HOST_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.host)
            fixtures = set(getattr(item, "fixturenames", ()))
            if "comfy_server" in fixtures:
                item.add_marker(pytest.mark.server)
            if {"page", "browser"} & fixtures:
                item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def _needs_comfyui() -> None:
    if not COMFYUI_PATH:
        pytest.skip(SKIP_REASON)


# --- in-process ComfyUI ------------------------------------------------------------------


@pytest.fixture(scope="session")
def comfy_host(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """ComfyUI booted from ``COMFYUI_PATH`` on the CPU, built-in nodes and the test nodes
    of `tiny_nodes` loaded, ``folder_paths`` pointed at a session base folder (~6-20 s)."""
    if not COMFYUI_PATH:
        pytest.skip(SKIP_REASON)
    from comfy_host_harness import boot
    from model_files import make_host_dirs, register_in_process

    import flowsearch

    here = Path(flowsearch.__file__).resolve().parent
    if here != PACK_DIR:
        pytest.fail(
            f"`import flowsearch` resolves to {here}, not the checkout under test {PACK_DIR}; "
            "run `pip install --no-deps -e .` from this checkout in the host environment"
        )
    host = boot(COMFYUI_PATH)
    host.dirs = make_host_dirs(tmp_path_factory.mktemp("comfy_base"))
    register_in_process(host.dirs)
    return host


@pytest.fixture(scope="session")
def host_dirs(comfy_host: Any) -> Any:
    """The session's `model_files.HostDirs`: ``models/`` (tiny ``vae/ae.safetensors``,
    ``vae_approx/taef1_*``), ``input/``, ``output/``, ``temp/``, ``user/``; registered with
    ``folder_paths``. ``host_dirs.model_folder("verifiers")`` adds and registers a folder."""
    return comfy_host.dirs


@pytest.fixture(scope="session")
def pack_node_ids(comfy_host: Any) -> list[str]:
    """Node ids this pack registered through ComfyUI's own custom-node loader."""
    from comfy_host_harness import load_pack

    return load_pack(comfy_host, str(PACK_DIR))


@pytest.fixture
def tiny_flux(comfy_host: Any) -> Any:
    """A fresh tiny FLUX-schnell ``ModelPatcher`` (CPU, float32, every parameter set)."""
    from tiny_models import build_tiny_flux

    return build_tiny_flux(seed=0)


@pytest.fixture
def tiny_vae(comfy_host: Any) -> Any:
    """A fresh tiny taef1-layout ``comfy.sd.VAE``: ``[B, 16, 8, 8]`` -> ``[B, 64, 64, 3]``."""
    from tiny_models import build_tiny_vae

    return build_tiny_vae(seed=0)


@pytest.fixture(scope="session")
def run_graph(comfy_host: Any, pack_node_ids: list[str]) -> Callable[[dict], dict]:
    """``run_graph(prompt) -> {node_id: outputs}``: validate + execute an API-format prompt."""
    from comfy_host_harness import run_prompt

    return lambda prompt: run_prompt(comfy_host, prompt)


@pytest.fixture(scope="session")
def object_info(comfy_host: Any, pack_node_ids: list[str]) -> Callable[[], dict]:
    """``object_info()``: every node's definition as ``GET /object_info`` gives it (computed
    on each call, so file lists of loaders are current)."""
    from comfy_host_harness import object_info as compute

    return lambda: compute(comfy_host)


@pytest.fixture(scope="session")
def ui_to_api(object_info: Callable[[], dict]) -> Callable[..., dict]:
    """``ui_to_api(workflow, substitutions=None, extra_widget_values=None) -> prompt``: a
    saved UI workflow as the API prompt the front end queues (`workflow_convert`), then
    ``substitute``-d with ``substitutions`` (e.g. ``TINY_FLUX_SUBSTITUTIONS``)."""
    from workflow_convert import substitute
    from workflow_convert import ui_to_api as convert

    def run(
        workflow: Mapping[str, Any],
        substitutions: Mapping[str, Callable] | None = None,
        extra_widget_values: Mapping[str, int] | None = None,
    ) -> dict:
        prompt = convert(workflow, object_info(), extra_widget_values=extra_widget_values)
        return substitute(prompt, substitutions) if substitutions else prompt

    return run


# --- a real ComfyUI server and a browser -------------------------------------------------


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """``tests/host/_artifacts/`` (git-ignored): screenshots and server logs of failures."""
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    return ARTIFACTS_DIR


@pytest.fixture(scope="session")
def comfy_server(
    host_dirs: Any,
    tmp_path_factory: pytest.TempPathFactory,
    artifacts_dir: Path,
    request: pytest.FixtureRequest,
) -> Iterator[Any]:
    """A ComfyUI server (``main.py --cpu``, loopback, free port, ~10-30 s to start) with
    this pack and the test nodes loaded and the session's models folder (``host_dirs``)
    through ``extra_model_paths.yaml``: a `comfy_server.ComfyServer` (``url``, ``run``,
    ``queue_prompt``, ``wait_for``, ``object_info``, ``get_json``, ``log_text``). Its log
    is copied to the artifacts folder when any test of the session failed."""
    from comfy_server import ComfyServer
    from model_files import write_extra_model_paths

    workdir = tmp_path_factory.mktemp("comfy_server")
    models_yaml = write_extra_model_paths(host_dirs, workdir / "extra_model_paths.yaml")
    server = ComfyServer.start(COMFYUI_PATH, PACK_DIR, workdir, models_yaml=models_yaml)
    try:
        yield server
    finally:
        failed = request.session.testsfailed > 0
        server.stop()
        if failed:
            log = artifacts_dir / "comfy_server.log"
            log.write_text(server.log_text(), encoding="utf-8")
            print(f"\nComfyUI server log: {log}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Playwright's Chromium = Debian's ``/usr/bin/chromium`` (headless, ~1 s to start);
    skips with the reason when Playwright or chromium is missing. Module-scoped: Playwright's
    sync API keeps an event loop running, so a plain ``asyncio.run`` in a test fails while
    it lives (the harness's ComfyUI calls step around it, `outside_event_loop`)."""
    from browser_harness import launch_chromium

    with launch_chromium() as chromium:
        yield chromium


@pytest.fixture
def page(
    browser: Any, comfy_server: Any, artifacts_dir: Path, request: pytest.FixtureRequest
) -> Iterator[Any]:
    """A fresh browser page (1280x800) with ``page.console_errors`` (console ``error``
    messages and uncaught page errors, as strings), not yet navigated: ``page.goto(
    comfy_server.url)``. A screenshot goes to the artifacts folder when the test fails."""
    from browser_harness import open_page

    with open_page(browser) as p:
        yield p
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            p.screenshot(path=str(artifacts_dir / f"{request.node.name}-failure.png"))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report
