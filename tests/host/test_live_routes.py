"""The live panel's HTTP routes (POST /flowsearch/control, GET /flowsearch/state) on aiohttp.

A minimal aiohttp app with the routes `install_routes` adds to ComfyUI's ``PromptServer``,
driven by aiohttp's own test client: status codes, error bodies, that a handler failure
never takes the server down, and the "no server / no client" paths of the node's sink.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest


class Control:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def stop(self) -> None:
        self.calls.append(("stop",))

    def pick(self, population: int, index: int) -> None:
        if index > 3:
            raise ValueError(f"index={index}: population {population} has 4 particles (0-3)")
        self.calls.append(("pick", population, index))


class Exploding(Control):
    def stop(self) -> None:
        raise RuntimeError("boom")


class Event:
    def __init__(self, kind: str = "nfe") -> None:
        self.kind = kind
        self.population_x0 = None
        self.best_x0 = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "method": "rbf",
            "step": 1,
            "steps": 4,
            "nfe_used": 2,
            "nfe_budget": 8,
        }


class StandInServer:
    """What `install_routes` and `panel_sink` use of ComfyUI's ``PromptServer``."""

    def __init__(self, client_id: str | None = "c1", connected: bool = True) -> None:
        from aiohttp import web

        self.routes = web.RouteTableDef()
        self.client_id = client_id
        self.sockets = {client_id: object()} if connected and client_id else {}
        self.sent: list[tuple[str, dict, Any]] = []

    def send_sync(self, event: str, data: dict, sid: Any = None) -> None:
        json.dumps(data, allow_nan=False)
        self.sent.append((event, data, sid))


def run_with_client(server: StandInServer, scenario) -> Any:
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    async def main():
        app = web.Application()
        app.add_routes(server.routes)
        async with TestClient(TestServer(app)) as client:
            return await scenario(client)

    return asyncio.run(main())


@pytest.fixture
def live(comfy_host):
    from flowsearch.nodes import live

    return live


def session_on(live, server: StandInServer, controls, prompt_id="p1", node_id="5"):
    hub = live.install_routes(server)
    sink = live.panel_sink(controls, prompt_id=prompt_id, node_id=node_id)
    assert sink in hub.sessions.values()
    sink(0, Event())
    return hub, sink


def test_control_route_stops_and_picks(live, monkeypatch):
    server = StandInServer()
    monkeypatch.setattr("server.PromptServer.instance", server, raising=False)
    controls = [Control()]
    session_on(live, server, controls)

    async def scenario(client):
        stop = await client.post(
            "/flowsearch/control", json={"prompt_id": "p1", "node_id": "5", "action": "stop"}
        )
        pick = await client.post(
            "/flowsearch/control",
            json={"prompt_id": "p1", "node_id": "5", "action": "pick", "population": 2, "index": 1},
        )
        return stop.status, await stop.json(), pick.status, await pick.json()

    stop_status, stop_body, pick_status, pick_body = run_with_client(server, scenario)
    assert (stop_status, stop_body["ok"]) == (200, True)
    assert (pick_status, pick_body["index"]) == (200, 1)
    assert controls[0].calls == [("stop",), ("pick", 2, 1)]
    assert server.sent[0][0] == "flowsearch.start" and server.sent[0][2] == "c1"


def test_control_route_errors_are_clear_and_never_crash(live, monkeypatch):
    server = StandInServer()
    monkeypatch.setattr("server.PromptServer.instance", server, raising=False)
    hub, sink = session_on(live, server, [Control()])
    session_on(live, server, [Exploding()], node_id="6")

    cases = [
        (b"not json", 400, "not JSON"),
        (json.dumps({"prompt_id": "p1", "node_id": "5", "action": "fly"}), 400, "'stop' or 'pick'"),
        (
            json.dumps({"prompt_id": "nope", "node_id": "5", "action": "stop"}),
            404,
            "no Flow Search node 5",
        ),
        (
            json.dumps(
                {"prompt_id": "p1", "node_id": "5", "action": "pick", "population": 0, "index": 9}
            ),
            400,
            "index=9: population 0 has 4 particles",
        ),
        (
            json.dumps({"prompt_id": "p1", "node_id": "6", "action": "stop"}),
            500,
            "RuntimeError: boom",
        ),
    ]

    async def scenario(client):
        replies = []
        for body, _, _ in cases:
            reply = await client.post("/flowsearch/control", data=body)
            replies.append((reply.status, await reply.json()))
        sink.close()  # the node returned: a finished search
        late = await client.post(
            "/flowsearch/control", json={"prompt_id": "p1", "node_id": "5", "action": "stop"}
        )
        replies.append((late.status, await late.json()))
        alive = await client.get("/flowsearch/state", params={"client_id": "c1"})
        replies.append((alive.status, await alive.json()))
        return replies

    replies = run_with_client(server, scenario)
    for (status, body), (_, want_status, want_text) in zip(replies, cases):
        assert status == want_status and want_text in body["error"]
    assert replies[len(cases)][0] == 409 and "has finished" in replies[len(cases)][1]["error"]
    assert replies[-1][0] == 200  # the server still answers


def test_state_route_replays_the_clients_searches(live, monkeypatch):
    server = StandInServer()
    monkeypatch.setattr("server.PromptServer.instance", server, raising=False)
    session_on(live, server, [Control()])

    async def scenario(client):
        mine = await client.get("/flowsearch/state", params={"client_id": "c1"})
        other = await client.get("/flowsearch/state", params={"client_id": "c2"})
        missing = await client.get("/flowsearch/state")
        return (await mine.json(), await other.json(), missing.status, await missing.json())

    mine, other, missing_status, missing_body = run_with_client(server, scenario)
    (search,) = mine["searches"]
    assert (search["prompt_id"], search["node_id"], search["running"]) == ("p1", "5", True)
    assert search["messages"][0][0] == "flowsearch.start"
    assert other["searches"] == []
    assert missing_status == 400 and "client_id" in missing_body["error"]


def test_install_routes_is_idempotent(live):
    server = StandInServer()
    assert live.install_routes(server) is live.install_routes(server)
    assert len(list(server.routes)) == 2


def test_no_server_or_no_client_gives_a_silent_sink(live, monkeypatch):
    monkeypatch.setattr("server.PromptServer.instance", None, raising=False)
    assert isinstance(live.panel_sink([Control()], prompt_id="p", node_id="1"), live.SilentSink)
    server = StandInServer(client_id=None)
    monkeypatch.setattr("server.PromptServer.instance", server, raising=False)
    sink = live.panel_sink([Control()], prompt_id="p", node_id="1")
    assert isinstance(sink, live.SilentSink)
    sink(0, Event())
    sink.report("{}")
    assert server.sent == []


def test_a_disconnected_client_gets_nothing(live, monkeypatch):
    server = StandInServer(connected=False)
    monkeypatch.setattr("server.PromptServer.instance", server, raising=False)
    sink = live.panel_sink([Control()], prompt_id="p", node_id="1")
    sink(0, Event())
    assert server.sent == [] and sink.log.snapshot()[0][0] == "flowsearch.start"
    server.sockets["c1"] = object()  # the page reconnects
    sink(0, Event("done"))
    assert [e for e, _, _ in server.sent] == ["flowsearch.progress", "flowsearch.done"]


def test_the_latent_rgb_preview_of_a_comfy_latent_format(live):
    import comfy.latent_formats
    import torch

    preview = live.preview_for(comfy.latent_formats.Flux())
    images = preview(torch.zeros(2, 16, 8, 8))
    assert images.shape == (2, 8, 8, 3)
    assert live.preview_for(object()) is None
