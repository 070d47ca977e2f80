"""A real ComfyUI server for browser tests: ``main.py --cpu`` on loopback, in a subprocess.

`ComfyServer.start` lays out a throw-away base folder (``--base-directory``: custom_nodes,
user, input, output, temp) with a symlink to the pack under test and a small test-node
package (`write_test_node_package`: the nodes of `tiny_nodes`), points ComfyUI at the
session's models with an ``extra_model_paths.yaml``, starts the server on a free port and
waits until ``/object_info`` answers. The database is in memory; nothing is written into
the ComfyUI checkout. HTTP helpers (`queue_prompt`, `wait_for`) use only the standard
library.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HOST_TESTS_DIR = Path(__file__).resolve().parent
TEST_PACKAGE = "flowsearch_test_nodes"
# The front end's settings for the default user, as if it had been used before: no
# "Get Started with a Template" dialog over the canvas on the first page load.
FRONT_END_SETTINGS = {"Comfy.TutorialCompleted": True}


class ServerError(RuntimeError):
    """The server refused a prompt, a prompt failed, or the server did not start;
    ``details`` holds what the server said."""

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.details = details


def write_test_node_package(custom_nodes: Path) -> Path:
    """``custom_nodes/flowsearch_test_nodes/``: a package that loads `tiny_nodes` (V3
    ``comfy_entrypoint``) from this folder, with one torch thread like the in-process tests."""
    package = custom_nodes / TEST_PACKAGE
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text(
        '"""FlowSearch test-only nodes (written by the host tests; not part of the pack)."""\n'
        "import sys\n\n"
        "import torch\n\n"
        f"sys.path.insert(0, {str(HOST_TESTS_DIR)!r})\n"
        "torch.set_num_threads(1)\n\n"
        "from tiny_nodes import comfy_entrypoint  # noqa: E402,F401\n",
        encoding="utf-8",
    )
    return package


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ComfyServer:
    """A running ComfyUI server: ``url`` (``http://127.0.0.1:<port>``), its process and log."""

    url: str
    process: subprocess.Popen
    log_path: Path
    base_dir: Path
    client_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @classmethod
    def start(
        cls,
        comfyui_path: str | Path,
        pack_dir: Path,
        workdir: Path,
        *,
        models_yaml: Path | None = None,
        pack_name: str = "flowsearch",
        settings: dict[str, Any] | None = None,
        timeout: float = 240.0,
        extra_args: tuple[str, ...] = (),
    ) -> ComfyServer:
        """Start ``python main.py --cpu`` from ``comfyui_path`` with the pack at ``pack_dir``
        loaded as ``custom_nodes/<pack_name>``; block until it serves ``/object_info``.

        ``models_yaml``: an ``extra_model_paths.yaml`` for the models; ``settings``: front-end
        settings of the default user on top of `FRONT_END_SETTINGS`; ``extra_args``: more
        ``main.py`` options (e.g. ``("--preview-method", "taesd")``)."""
        base = Path(workdir) / "base"
        custom_nodes = base / "custom_nodes"
        custom_nodes.mkdir(parents=True, exist_ok=True)
        (custom_nodes / pack_name).symlink_to(Path(pack_dir).resolve(), target_is_directory=True)
        write_test_node_package(custom_nodes)
        user = base / "user" / "default"
        user.mkdir(parents=True, exist_ok=True)
        settings = dict(FRONT_END_SETTINGS, **(settings or {}))
        (user / "comfy.settings.json").write_text(json.dumps(settings), encoding="utf-8")
        port = free_port()
        command = [
            sys.executable,
            str(Path(comfyui_path) / "main.py"),
            "--cpu",
            "--listen",
            "127.0.0.1",
            "--port",
            str(port),
            "--base-directory",
            str(base),
            "--database-url",
            "sqlite:///:memory:",
            "--disable-auto-launch",
            "--disable-api-nodes",
            *(("--extra-model-paths-config", str(models_yaml)) if models_yaml else ()),
            *extra_args,
        ]
        log_path = Path(workdir) / "server.log"
        env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                command,
                cwd=str(comfyui_path),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        server = cls(f"http://127.0.0.1:{port}", process, log_path, base)
        server._wait_ready(timeout)
        return server

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(
                    f"ComfyUI exited with code {self.process.returncode} while starting; log:\n"
                    + self.log_text()[-4000:]
                )
            try:
                with urllib.request.urlopen(self.url + "/object_info/KSampler", timeout=5) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        self.stop()
        raise ServerError(
            f"ComfyUI did not answer within {timeout:.0f} s; log:\n" + self.log_text()[-4000:]
        )

    def stop(self, timeout: float = 20.0) -> None:
        """Ctrl-C the server (as a user would), then kill it if it lingers."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    # --- HTTP ----------------------------------------------------------------------------

    def get_json(self, path: str, timeout: float = 30.0) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=timeout) as response:
            return json.loads(response.read())

    def post_json(self, path: str, body: Any, timeout: float = 30.0) -> Any:
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")
            try:
                detail = json.loads(detail)
            except ValueError:
                pass
            raise ServerError(f"POST {path} answered {error.code}", detail) from None

    def get_bytes(self, path: str, timeout: float = 30.0) -> bytes:
        with urllib.request.urlopen(self.url + path, timeout=timeout) as response:
            return response.read()

    def object_info(self) -> dict[str, dict]:
        """``GET /object_info``: every node definition, as the front end reads them."""
        return self.get_json("/object_info")

    def queue_prompt(self, prompt: dict[str, dict], client_id: str | None = None) -> str:
        """``POST /prompt``; returns the prompt id. A prompt the server rejects raises
        `ServerError` with its ``error`` and ``node_errors``."""
        body = {"prompt": prompt, "client_id": client_id or self.client_id}
        answer = self.post_json("/prompt", body)
        if answer.get("node_errors"):
            raise ServerError("prompt has node errors", answer["node_errors"])
        return answer["prompt_id"]

    def wait_for(self, prompt_id: str, timeout: float = 180.0) -> dict:
        """Poll ``GET /history/<id>`` until the prompt finished; its history entry
        (``outputs``, ``status``). A failed prompt raises `ServerError` with its messages."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            entry = self.get_json(f"/history/{prompt_id}").get(prompt_id)
            if entry and entry.get("status", {}).get("completed") is not None:
                status = entry["status"]
                if status.get("status_str") != "success":
                    raise ServerError(f"prompt {prompt_id} failed", status.get("messages"))
                return entry
            if self.process.poll() is not None:
                raise ServerError("ComfyUI exited while running a prompt", self.log_text()[-4000:])
            time.sleep(0.2)
        raise ServerError(f"prompt {prompt_id} did not finish within {timeout:.0f} s")

    def run(self, prompt: dict[str, dict], timeout: float = 180.0) -> dict:
        """Queue ``prompt`` and wait for it: its history entry."""
        return self.wait_for(self.queue_prompt(prompt), timeout)
