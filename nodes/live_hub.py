"""The registry of live sessions: the panel's control (stop / pick) and state requests.

`LiveHub` holds the `LiveSession`s of one ComfyUI server by (prompt id, node id). Pure
Python (never imports ComfyUI): `live.py` puts one on ComfyUI's ``PromptServer`` and routes
``POST /flowsearch/control`` and ``GET /flowsearch/state`` to it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from .live_protocol import PROTOCOL_VERSION
from .live_session import LiveSession


class ControlError(Exception):
    """A control request the hub refuses: ``status`` is the HTTP code for the reply."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class LiveHub:
    """The live sessions of one ComfyUI server, by (prompt id, node id).

    ``is_prompt_running(prompt_id)`` tells whether the server still runs a prompt (a
    session of a prompt that ended without its ``done`` events, e.g. on an error, is then
    no longer steerable). Finished sessions are kept (the latest ``keep_finished``) so a
    reloaded page can show their summary.
    """

    def __init__(
        self,
        is_prompt_running: Callable[[str], bool] = lambda prompt_id: True,
        keep_finished: int = 16,
    ) -> None:
        self.is_prompt_running = is_prompt_running
        self.keep_finished = keep_finished
        self.sessions: dict[tuple[str, str], LiveSession] = {}
        self.lock = threading.Lock()

    def add(self, session: LiveSession) -> LiveSession:
        with self.lock:
            for other in self.sessions.values():
                if other.prompt_id != session.prompt_id:
                    other.finished = True  # ComfyUI runs one prompt at a time
            self.sessions.pop((session.prompt_id, session.node_id), None)
            self.sessions[(session.prompt_id, session.node_id)] = session
            finished = [key for key, s in self.sessions.items() if s.finished]
            for key in finished[: max(0, len(finished) - self.keep_finished)]:
                del self.sessions[key]
        return session

    def running(self, session: LiveSession) -> bool:
        return not session.finished and self.is_prompt_running(session.prompt_id)

    def control(self, body: Any) -> dict[str, Any]:
        """Apply a ``POST /flowsearch/control`` body; raises `ControlError` to refuse it."""
        if not isinstance(body, Mapping):
            raise ControlError(
                400, "the body must be a JSON object {prompt_id, node_id, action, ...}"
            )
        prompt_id, node_id, action = body.get("prompt_id"), body.get("node_id"), body.get("action")
        if not isinstance(prompt_id, str) or not isinstance(node_id, (str, int)):
            raise ControlError(
                400, f"prompt_id (string) and node_id are required, got {prompt_id!r}, {node_id!r}"
            )
        if action not in ("stop", "pick"):
            raise ControlError(400, f"action={action!r}: use 'stop' or 'pick'")
        with self.lock:
            session = self.sessions.get((prompt_id, str(node_id)))
        if session is None:
            raise ControlError(
                404, f"no Flow Search node {node_id} in prompt {prompt_id} on this server"
            )
        if not self.running(session):
            raise ControlError(
                409, f"the search of node {node_id} in prompt {prompt_id} has finished"
            )
        if action == "stop":
            for control in session.controls:
                control.stop()
            return {"ok": True, "action": "stop", "prompt_id": prompt_id, "node_id": str(node_id)}
        return self._pick(session, body)

    def _pick(self, session: LiveSession, body: Mapping[str, Any]) -> dict[str, Any]:
        batch = body.get("batch", session.batch if session.batch is not None else 0)
        population, index = body.get("population"), body.get("index")
        for name, value in (("batch", batch), ("population", population), ("index", index)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ControlError(
                    400,
                    f"{name}={value!r}: a pick needs non-negative integers batch, population, index",
                )
        if batch >= len(session.controls):
            raise ControlError(
                400, f"batch={batch}: this node runs {len(session.controls)} batch item(s)"
            )
        if batch in session.done_batches:
            raise ControlError(409, f"batch item {batch} has finished; pick from a running search")
        if batch != session.batch:
            raise ControlError(409, f"batch item {batch} is not running (item {session.batch} is)")
        try:
            session.controls[batch].pick(population, index)
        except ValueError as error:
            raise ControlError(400, str(error)) from error
        return {
            "ok": True,
            "action": "pick",
            "batch": batch,
            "population": population,
            "index": index,
        }

    def state(self, client_id: str) -> dict[str, Any]:
        """The ``GET /flowsearch/state`` reply: this client's sessions as replay logs."""
        with self.lock:
            sessions = [s for s in self.sessions.values() if s.client_id == client_id]
        latest: dict[str, LiveSession] = {}
        for session in sessions:
            latest[session.node_id] = session  # insertion order: the newest prompt wins
        searches = []
        for session in latest.values():
            with session.lock:
                messages = session.log.snapshot()
            searches.append(
                {
                    "prompt_id": session.prompt_id,
                    "node_id": session.node_id,
                    "running": self.running(session),
                    "messages": messages,
                }
            )
        return {"v": PROTOCOL_VERSION, "searches": searches}
