"""The live search panel inside ComfyUI: server routes and the Flow Search node's event sink.

`install_routes()` (called when the pack loads, before ComfyUI builds its web app) adds

- ``POST /flowsearch/control`` ``{prompt_id, node_id, action: "stop" | "pick", batch,
  population, index}``: steer a running search (200, or 4xx with ``{"error": ...}``);
- ``GET /flowsearch/state?client_id=...``: that client's latest search per node as replay
  logs (a reloaded page rebuilds its panels from them);

and `panel_sink(controls, ...)` is the node's live-panel event sink: throttled
``flowsearch.*`` messages to the client that queued the prompt (docs/web.md). The registry
of running searches (`LiveHub`) hangs off ComfyUI's ``PromptServer`` instance.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from .live_hub import ControlError, LiveHub
from .live_protocol import latent_rgb_preview
from .live_session import LiveSession

HUB_ATTRIBUTE = "flowsearch_live_hub"
ROUTES_ATTRIBUTE = "flowsearch_live_routes"
log = logging.getLogger(__name__)


def _prompt_server() -> Any | None:
    try:
        from server import PromptServer
    except ImportError:
        return None
    return getattr(PromptServer, "instance", None)


def _prompt_running(server: Any) -> Callable[[str], bool]:
    def running(prompt_id: str) -> bool:
        queue = getattr(server, "prompt_queue", None)
        if queue is None:
            return True
        current, _ = queue.get_current_queue_volatile()
        return any(len(item) > 1 and item[1] == prompt_id for item in current)

    return running


def hub_of(server: Any) -> LiveHub:
    """The server's `LiveHub` (created on first use)."""
    hub = getattr(server, HUB_ATTRIBUTE, None)
    if hub is None:
        hub = LiveHub(is_prompt_running=_prompt_running(server))
        setattr(server, HUB_ATTRIBUTE, hub)
    return hub


def add_routes(routes: Any, hub: LiveHub) -> None:
    """Register the control and state handlers for ``hub`` on an aiohttp ``RouteTableDef``."""
    from aiohttp import web

    @routes.post("/flowsearch/control")
    async def control(request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            return web.json_response({"error": f"the body is not JSON: {error}"}, status=400)
        try:
            return web.json_response(hub.control(body))
        except ControlError as error:
            return web.json_response({"error": str(error)}, status=error.status)
        except Exception as error:  # a control request must never take the server down
            log.exception("FlowSearch control request failed")
            return web.json_response({"error": f"{type(error).__name__}: {error}"}, status=500)

    @routes.get("/flowsearch/state")
    async def state(request: web.Request) -> web.Response:
        client_id = request.query.get("client_id", "")
        if not client_id:
            return web.json_response(
                {"error": "client_id is required: /flowsearch/state?client_id=..."}, status=400
            )
        return web.json_response(hub.state(client_id))


def install_routes(server: Any | None = None) -> LiveHub | None:
    """Add the panel's routes to ComfyUI's server (once); None when there is no server.

    Must run while ComfyUI loads custom nodes: it builds its web app from ``server.routes``
    afterwards and cannot take new routes once serving.
    """
    server = server if server is not None else _prompt_server()
    if server is None or not hasattr(server, "routes"):
        return None
    hub = hub_of(server)
    if not getattr(server, ROUTES_ATTRIBUTE, False):
        add_routes(server.routes, hub)
        setattr(server, ROUTES_ATTRIBUTE, True)
    return hub


class SilentSink:
    """The sink when no browser can watch (no server, or the prompt came without a client)."""

    finished = True

    def __call__(self, batch: int, event: Any) -> None:
        pass

    def report(self, report: Mapping[str, Any] | str) -> None:
        pass

    def close(self) -> None:
        pass


def preview_for(latent_format: Any) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """ComfyUI's Latent2RGB preview for a model's latent format, or None if it has none."""
    factors = getattr(latent_format, "latent_rgb_factors", None)
    if factors is None:
        return None
    return latent_rgb_preview(factors, getattr(latent_format, "latent_rgb_factors_bias", None))


def thumbnail_decoder(
    model: Any = None, cheap_vae: Any = None, chunk: int = 8
) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """How thumbnails are decoded: the node's cheap VAE when one is connected (model-space
    latents through the model's ``process_latent_out``, as the rewards are), else the
    model's Latent2RGB factors, else None (no thumbnails)."""
    if model is None:
        return None
    if cheap_vae is not None:
        from .search_io import LatentDecoder

        return LatentDecoder(cheap_vae, model, chunk)
    return preview_for(getattr(model.model, "latent_format", None))


def panel_sink(
    controls: Sequence[Any],
    *,
    model: Any = None,
    cheap_vae: Any = None,
    chunk: int = 8,
    preview: Callable[[torch.Tensor], torch.Tensor] | None = None,
    prompt_id: str | None = None,
    node_id: str | None = None,
) -> LiveSession | SilentSink:
    """The live panel's event sink for the executing Flow Search node.

    ``controls[b]``: batch item b's `SearchControl` (the panel's stop / pick). Thumbnails
    are decoded by ``preview(x0 [n, ...] model space) -> [n, H, W, 3]`` in [0, 1] if given,
    else by `thumbnail_decoder` (``model``'s ComfyUI ``ModelPatcher``, the node's
    ``cheap_vae`` if connected, ``chunk`` latents per decode). Prompt and node ids default
    to ComfyUI's executing context. After the node wrote its report, call the sink's
    ``report(report_json)`` (the panel's summary). Without a server or a client id (a
    prompt queued by a script), a `SilentSink` that does nothing.
    """
    server = _prompt_server()
    client_id = getattr(server, "client_id", None) if server is not None else None
    if prompt_id is None or node_id is None:
        from comfy_execution.utils import get_executing_context

        context = get_executing_context()
        if context is not None:
            prompt_id = prompt_id if prompt_id is not None else context.prompt_id
            node_id = node_id if node_id is not None else context.node_id
    if server is None or client_id is None or prompt_id is None or node_id is None:
        return SilentSink()
    session = LiveSession(
        prompt_id=prompt_id,
        node_id=node_id,
        client_id=client_id,
        controls=controls,
        send=lambda name, data: server.send_sync(name, data, client_id),
        listening=lambda: client_id in getattr(server, "sockets", {}),
        preview=preview if preview is not None else thumbnail_decoder(model, cheap_vae, chunk),
    )
    return hub_of(server).add(session)
