"""The machinery every search method shares: budgeted denoiser, reward, steps, noise, events.

Particles live in the interpolant's space at grid index ``i`` (time ``s_i``). Evaluating a
population at ``i < M`` costs one NFE per particle and yields its Tweedie estimate
``x0_hat`` and look-ahead reward ``r(x0_hat)``; at ``i = M`` (s = 0) the state *is* the
sample and evaluation is free. Stepping from ``i`` to ``i + 1`` uses ``x0_hat`` and keyed
noise; the step to ``s = 0`` returns ``x0_hat``, so a population evaluated at ``M - 1``
already holds its final samples and rewards (on a grid that ends at 0).

Randomness: draw ``d`` of the run gives particle ``j`` the noise of the stream
``(seed, *stream, d, j)`` (`keyed_normal`), so noise never depends on chunking.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

import torch

from ..denoiser import Denoiser, PathDenoiser
from ..diffusion import Diffusion
from ..interpolants import Interpolant
from ..randomness import keyed_normal, stream_key
from ..steps import euler_step, start_state
from .events import SearchControl, SearchEvent
from .guidance import guidance_active, guided_x0
from .ledger import Ledger, PickSearch, StopSearch
from .population import Evaluated, cat_parts, int_list, mask_nonfinite
from .result import StepRecord

Reward = Callable[[torch.Tensor], torch.Tensor]
EventCallback = Callable[[SearchEvent], None]


class SearchContext:
    """Budgeted access to the denoiser and reward for one search run (see module doc)."""

    def __init__(
        self,
        *,
        denoiser: Denoiser,
        reward: Reward,
        interpolant: Interpolant,
        diffusion: Diffusion,
        grid: list[float],
        shape: tuple[int, ...],
        nfe_budget: int,
        seed: int,
        device: torch.device,
        dtype: torch.dtype,
        method: str,
        latent: torch.Tensor | None = None,
        guidance_scale: float = 0.0,
        max_batch: int | None = None,
        callback: EventCallback | None = None,
        should_stop: Callable[[], bool] | None = None,
        control: SearchControl | None = None,
    ) -> None:
        self.reward_fn = reward
        self.interpolant, self.diffusion, self.grid = interpolant, diffusion, grid
        self.main_grid = grid
        self.shape, self.nfe_budget, self.method = shape, nfe_budget, method
        self.seed, self.stream, self.device, self.dtype = seed, (0,), device, dtype
        self.latent, self.guidance_scale, self.max_batch = latent, guidance_scale, max_batch
        self.callback, self.should_stop, self.control = callback, should_stop, control
        self.batch_relative = getattr(reward, "batch_relative", None) is True
        self.x_start: torch.Tensor | None = None  # a given shared start state (search_flow)
        self.path_denoiser = PathDenoiser(denoiser, interpolant)
        self.ledger = Ledger()

    # -- sizes ----------------------------------------------------------------------------
    @property
    def steps(self) -> int:
        return len(self.grid) - 1

    @property
    def nfe(self) -> int:
        return self.path_denoiser.nfe

    @property
    def remaining(self) -> int:
        return self.nfe_budget - self.nfe

    def is_final(self, i: int) -> bool:
        """Whether ``x0_hat`` at grid index ``i`` is a final sample (the next level is 0)."""
        return self.grid[i] == 0.0 or (i + 1 < len(self.grid) and self.grid[i + 1] == 0.0)

    def on_grid(self, grid: list[float]) -> SearchContext:
        """The same search (budget, noise, ledger) on another grid, e.g. a segment."""
        view = copy.copy(self)
        view.grid = grid
        return view

    # -- randomness -----------------------------------------------------------------------
    def randn(self, n: int) -> torch.Tensor:
        """``[n, *shape]`` standard normal of the next draw, row ``j`` keyed by ``j``."""
        key = (*self.stream, self.ledger.next_draw())
        return keyed_normal(
            self.seed, key, range(n), self.shape, dtype=self.dtype, device=self.device
        )

    def rng(self) -> torch.Generator:
        """A CPU generator for one population-level choice (e.g. SMC resampling)."""
        key = stream_key(self.seed, *self.stream, self.ledger.next_draw())
        return torch.Generator(device="cpu").manual_seed(key)

    def start(self, noise: torch.Tensor) -> torch.Tensor:
        """States at ``s_0`` from standard-normal ``noise``: `start_state` with the latent,
        or copies of a given start state ``x_start`` (split sampling; ``noise`` unused)."""
        if self.x_start is not None:
            return self.x_start.expand(noise.shape[0], *self.shape).clone()
        return start_state(self.interpolant.coefficients(self.grid[0]), noise, self.latent)

    def initial_states(self, n: int) -> torch.Tensor:
        """``n`` fresh states at ``s_0``: ``alpha(s_0) latent + sigma(s_0) eps`` (no latent:
        the pure-noise state ``sigma(s_0) eps``)."""
        return self.start(self.randn(n))

    # -- model calls ----------------------------------------------------------------------
    def _chunks(self, n: int, whole: bool = False) -> list[slice]:
        size = n if whole or not self.max_batch else self.max_batch
        return [slice(a, min(n, a + size)) for a in range(0, n, size)]

    def poll(self) -> None:
        """Honour ``should_stop`` and the control (called before every denoiser chunk)."""
        if self.should_stop is not None and self.should_stop():
            raise StopSearch
        self.take_control()

    def take_control(self) -> None:
        """Raise `StopSearch` / `PickSearch` if the control asks for it."""
        request = None if self.control is None else self.control.take()
        if request == "stop":
            raise StopSearch
        if request is not None:
            raise PickSearch(*request)

    def forward(
        self, x: torch.Tensor, i: int
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """``(x0_hat, guided x0_hat or None, raw guided rewards or None)`` of states ``x`` at
        grid index ``i < M``; spends ``len(x)`` NFEs, one ``"nfe"`` event per chunk."""
        n, s = x.shape[0], self.grid[i]
        if self.nfe + n > self.nfe_budget:  # a method planned wrongly: never overrun
            raise RuntimeError(f"{self.method}: {n} NFEs requested with {self.remaining} left")
        c = self.interpolant.coefficients(s)
        guided = guidance_active(c, self.guidance_scale)
        x0s, guided_x0s, raws = [], [], []
        for sl in self._chunks(n):
            self.poll()
            start, reward_before = time.perf_counter(), self.ledger.timings.reward
            if guided:
                x0, x0_g, raw = guided_x0(
                    lambda xg: self.path_denoiser(xg, s), self._timed_reward, x[sl], c,
                    self.guidance_scale,
                )  # fmt: skip
                self.ledger.nfe_backward += x0.shape[0]
                guided_x0s.append(x0_g.to(self.dtype))
                raws.append(raw.to("cpu", torch.float64))
            else:
                x0 = self.path_denoiser(x[sl], s)
            # the reward's share of a guided chunk is counted as reward time
            spent = time.perf_counter() - start - (self.ledger.timings.reward - reward_before)
            self.ledger.timings.denoiser += spent
            x0s.append(x0.to(self.dtype))
            self.emit("nfe", s=s)
        if not guided:
            return cat_parts(x0s), None, None
        return cat_parts(x0s), cat_parts(guided_x0s), cat_parts(raws)

    def _timed_reward(self, x0: torch.Tensor) -> torch.Tensor:
        start = time.perf_counter()
        r = self.reward_fn(x0)
        self.ledger.timings.reward += time.perf_counter() - start
        if not isinstance(r, torch.Tensor) or r.shape != (x0.shape[0],):
            got = tuple(r.shape) if isinstance(r, torch.Tensor) else type(r).__name__
            raise ValueError(f"reward must return a Tensor of shape [{x0.shape[0]}]; got {got}")
        return r

    def score(self, x0: torch.Tensor) -> torch.Tensor:
        """Rewards ``[N]`` (float64, CPU) of samples ``x0``; NaN/inf count as ``-inf``.

        A batch-relative reward (``reward.batch_relative``, e.g. a rank ensemble) sees the
        whole population in one call, never ``max_batch`` chunks."""
        outs = [
            self._timed_reward(x0[sl]).detach().to("cpu", torch.float64)
            for sl in self._chunks(x0.shape[0], whole=self.batch_relative)
        ]
        r, n_bad = mask_nonfinite(outs[0] if len(outs) == 1 else torch.cat(outs))
        self.ledger.nonfinite += n_bad
        return r

    def evaluate(self, x: torch.Tensor, i: int, *, score: bool = True) -> Evaluated:
        """Denoise (if ``s_i > 0``) and, with ``score``, reward the estimates and remember the
        best seen. At ``i = M - 1`` the estimates are the final samples (always scored).
        With gradient guidance the rewards come with the gradient (no extra call)."""
        if self.grid[i] > 0:
            x0_hat, x0_guided, raw = self.forward(x, i)
        else:
            x0_hat, x0_guided, raw = x, None, None
        final = self.is_final(i)
        if x0_guided is not None and final:  # the guided estimate is returned: score it
            ev = Evaluated(x, x0_guided, self.score(x0_guided), i)
        elif x0_guided is not None:
            reward, n_bad = mask_nonfinite(raw)
            self.ledger.nonfinite += n_bad
            ev = Evaluated(x, x0_hat, reward, i, x0_guided)
        elif not (score or final):
            self.ledger.latest = Evaluated(x, x0_hat, None, i)
            return self.ledger.latest
        else:
            ev = Evaluated(x, x0_hat, self.score(x0_hat), i)
        self.remember(ev, final=final)
        return ev

    def remember(self, ev: Evaluated, *, final: bool) -> None:
        """Track the best sample so far (final samples win over look-ahead estimates)."""
        self.ledger.latest = ev
        k = int(torch.argmax(ev.reward))
        r = float(ev.reward[k])
        cur = self.ledger.best
        if cur is None or (final and not cur[2]) or (final == cur[2] and r > cur[0]):
            self.ledger.best = (r, ev.x0_hat[k : k + 1].detach().clone(), final)

    # -- dynamics -------------------------------------------------------------------------
    def step(self, ev: Evaluated, noise: torch.Tensor | None = None) -> torch.Tensor:
        """Advance an evaluated population from ``s_i`` to ``s_{i+1}`` (one SDE/ODE step)."""
        i = ev.i
        s, s_next = self.grid[i], self.grid[i + 1]
        g = self.diffusion(s, self.interpolant)
        if g > 0 and noise is None and s_next > 0:
            noise = self.randn(len(ev))
        return euler_step(ev.x, ev.for_step, s, s_next, self.interpolant, g, noise)

    def propose(self, ev: Evaluated, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``k`` children of each particle (child-major within parent): states at ``i + 1``
        and their parent indices."""
        parents = torch.arange(len(ev)).repeat_interleave(k)
        return self.step(ev.select(parents)), parents

    def rollout(
        self,
        ev: Evaluated,
        end: int,
        *,
        score_all: bool = False,
        each: Callable[[Evaluated], None] | None = None,
    ) -> Evaluated:
        """Step and evaluate ``ev`` from its index to ``end``, scoring at ``end`` only (or
        at every level with ``score_all``); ``each(ev)`` after every step. The one rollout
        loop of every method (and of a pick's finish)."""
        while ev.i < end:
            i = ev.i + 1
            ev = self.evaluate(self.step(ev), i, score=score_all or i == end)
            if each is not None:
                each(ev)
        return ev

    # -- reporting ------------------------------------------------------------------------
    def record(
        self,
        step: int,
        nfe: int,
        ev: Evaluated,
        parents=None,
        *,
        s: float | None = None,
        **events: Any,
    ) -> None:
        """Append a trace record for population ``ev`` (``s`` defaults to the grid time of
        ``step``), hold ``ev`` for picks, emit a ``"step"`` event, then honour the control."""
        rewards = None if ev.reward is None else ev.reward.tolist()
        parents_l = None if parents is None else int_list(parents)
        s = self.grid[min(step, self.steps)] if s is None else s
        rec = StepRecord(step, s, nfe, rewards, parents_l, dict(events))
        self.ledger.trace.append(rec)
        self.ledger.step = step
        pid = self.ledger.publish(ev, self.grid)
        self.ledger.retain(None if self.control is None else self.control.offer(pid, len(ev)))
        if self.callback is not None:
            self.emit(
                "step", s=s, rewards=None if rewards is None else tuple(rewards),
                parents=None if parents_l is None else tuple(parents_l), events=rec.events,
                population=pid, population_x0=ev.x0_hat,
            )  # fmt: skip
        self.take_control()

    def emit(self, kind: str, **fields: Any) -> None:
        """Send a `SearchEvent` with the run's common fields to the callback, if any."""
        if self.callback is None:
            return
        best = self.ledger.best
        base = dict(
            kind=kind, method=self.method, step=self.ledger.step, steps=len(self.main_grid) - 1,
            nfe_used=self.nfe, nfe_budget=self.nfe_budget,
            best_reward=None if best is None else best[0], best_x0=None if best is None else best[1],
            population=self.ledger.latest_population,
        )  # fmt: skip
        self.callback(SearchEvent(**{**base, **fields}))
