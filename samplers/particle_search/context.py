"""The machinery every search method shares: budgeted denoiser, reward, steps, noise, trace.

Particles live in the interpolant's space at grid index ``i`` (time ``s_i``). Evaluating a
population at ``i < M`` costs one NFE per particle and yields its Tweedie estimate
``x0_hat`` and look-ahead reward ``r(x0_hat)``; at ``i = M`` (s = 0) the state *is* the
sample and evaluation is free. Stepping from ``i`` to ``i + 1`` uses ``x0_hat`` and
injected noise; the step to ``s = 0`` returns ``x0_hat``, so a population evaluated at
``M - 1`` already holds its final samples and rewards.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from ..denoiser import Denoiser, PathDenoiser
from ..diffusion import Diffusion
from ..interpolants import Interpolant
from ..sampling import randn_like
from ..steps import euler_step
from .result import StepRecord, Timings

Reward = Callable[[torch.Tensor], torch.Tensor]


class StopSearch(Exception):
    """Raised inside a method when ``should_stop()`` asks the search to end."""


@dataclass
class Evaluated:
    """A population at grid index ``i``: state, Tweedie estimate, reward and guided estimate."""

    x: torch.Tensor
    x0_hat: torch.Tensor
    reward: torch.Tensor | None  # [N] float64 on CPU, non-finite as -inf; None if unscored
    i: int
    x0_step: torch.Tensor | None = None  # x0_hat corrected by gradient guidance, if any

    def __len__(self) -> int:
        return self.x.shape[0]

    @property
    def for_step(self) -> torch.Tensor:
        return self.x0_hat if self.x0_step is None else self.x0_step

    def select(self, idx: torch.Tensor) -> Evaluated:
        x0s = None if self.x0_step is None else self.x0_step[idx]
        r = None if self.reward is None else self.reward[idx]
        return Evaluated(self.x[idx], self.x0_hat[idx], r, self.i, x0s)

    @staticmethod
    def cat(parts: list[Evaluated]) -> Evaluated:
        x0s = None if parts[0].x0_step is None else torch.cat([p.x0_step for p in parts])
        return Evaluated(
            torch.cat([p.x for p in parts]),
            torch.cat([p.x0_hat for p in parts]),
            torch.cat([p.reward for p in parts]),
            parts[0].i,
            x0s,
        )


@dataclass
class Ledger:
    """Mutable accounting shared by a context and its sub-grid views."""

    nfe: int = 0
    nfe_backward: int = 0
    nonfinite: int = 0
    trace: list[StepRecord] = field(default_factory=list)
    timings: Timings = field(default_factory=Timings)
    best: tuple[float, torch.Tensor, bool] | None = None  # (reward, x0, is_final)
    latest: Evaluated | None = None  # the last evaluated population, scored or not


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
        generator: torch.Generator | None,
        device: torch.device,
        dtype: torch.dtype,
        max_batch: int | None,
        callback: Callable[[dict[str, Any]], None] | None,
        should_stop: Callable[[], bool] | None,
        method: str,
    ) -> None:
        self.reward_fn = reward
        self.interpolant, self.diffusion, self.grid = interpolant, diffusion, grid
        self.shape, self.nfe_budget = shape, nfe_budget
        self.generator, self.device, self.dtype = generator, device, dtype
        self.max_batch, self.callback, self.should_stop = max_batch, callback, should_stop
        self.method = method
        self.path_denoiser = PathDenoiser(denoiser, interpolant)
        self.ledger = Ledger()

    # -- sizes ----------------------------------------------------------------------------
    @property
    def steps(self) -> int:
        return len(self.grid) - 1

    @property
    def nfe(self) -> int:
        return self.ledger.nfe

    @property
    def remaining(self) -> int:
        return self.nfe_budget - self.ledger.nfe

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
        """``[n, *shape]`` standard normal in the search dtype, from the search generator."""
        like = torch.empty((n, *self.shape), dtype=self.dtype, device=self.device)
        return randn_like(like, self.generator).to(self.dtype)

    def initial_states(self, n: int) -> torch.Tensor:
        """Pure-noise states at ``s_0``: ``sigma(s_0) * eps``."""
        return self.interpolant.coefficients(self.grid[0]).sigma_t * self.randn(n)

    # -- model calls ----------------------------------------------------------------------
    def _chunks(self, n: int) -> list[slice]:
        size = n if not self.max_batch else self.max_batch
        return [slice(a, min(n, a + size)) for a in range(0, n, size)]

    def check_stop(self) -> None:
        if self.should_stop is not None and self.should_stop():
            raise StopSearch

    def denoise(self, x: torch.Tensor, i: int) -> torch.Tensor:
        """``x0_hat`` of states ``x`` at grid index ``i < M``; spends ``len(x)`` NFEs."""
        n = x.shape[0]
        if self.ledger.nfe + n > self.nfe_budget:  # a method planned wrongly: never overrun
            raise RuntimeError(f"{self.method}: {n} NFEs requested with {self.remaining} left")
        outs = []
        for sl in self._chunks(n):
            self.check_stop()
            start = time.perf_counter()
            out = self.path_denoiser(x[sl], self.grid[i])
            self.ledger.timings.denoiser += time.perf_counter() - start
            self.ledger.nfe += out.shape[0]
            outs.append(out.to(self.dtype))
        return outs[0] if len(outs) == 1 else torch.cat(outs)

    def score(self, x0: torch.Tensor) -> torch.Tensor:
        """Rewards ``[N]`` (float64, CPU) of samples ``x0``; NaN/inf count as ``-inf``."""
        outs = []
        for sl in self._chunks(x0.shape[0]):
            start = time.perf_counter()
            r = self.reward_fn(x0[sl])
            self.ledger.timings.reward += time.perf_counter() - start
            if not isinstance(r, torch.Tensor) or r.shape != (x0[sl].shape[0],):
                got = tuple(r.shape) if isinstance(r, torch.Tensor) else type(r).__name__
                raise ValueError(
                    f"reward must return a Tensor of shape [{x0[sl].shape[0]}]; got {got}"
                )
            outs.append(r.detach().to("cpu", torch.float64))
        r = outs[0] if len(outs) == 1 else torch.cat(outs)
        bad = ~torch.isfinite(r)
        n_bad = int(bad.sum())
        if n_bad == 0:  # the common case: skip the masking ops
            return r
        self.ledger.nonfinite += n_bad
        return torch.where(bad, torch.full_like(r, -torch.inf), r)

    def evaluate(
        self, x: torch.Tensor, i: int, guidance_scale: float = 0.0, *, score: bool = True
    ) -> Evaluated:
        """Denoise (if ``i < M``) and, with ``score``, reward the estimates and remember the
        best seen. At ``i = M - 1`` the estimates are the final samples (always scored)."""
        if guidance_scale and self.grid[i] > 0:
            from .guidance import guided_evaluate

            return guided_evaluate(self, x, i, guidance_scale)
        x0_hat = self.denoise(x, i) if self.grid[i] > 0 else x
        final = self.is_final(i)
        if not (score or final):
            self.ledger.latest = Evaluated(x, x0_hat, None, i)
            return self.ledger.latest
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
        if g > 0 and noise is None:
            noise = self.randn(len(ev))
        return euler_step(ev.x, ev.for_step, s, s_next, self.interpolant, g, noise)

    def propose(self, ev: Evaluated, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``k`` children of each particle (child-major within parent): states at ``i + 1``
        and their parent indices."""
        parents = torch.arange(len(ev)).repeat_interleave(k)
        return self.step(ev.select(parents)), parents

    # -- reporting ------------------------------------------------------------------------
    def record(
        self,
        step: int,
        nfe: int,
        rewards=None,
        parents=None,
        *,
        s: float | None = None,
        **events: Any,
    ) -> None:
        """Append a trace record (``s`` defaults to the grid time of ``step``) and call the
        user's callback."""
        rewards_l = _to_list(rewards, float)
        parents_l = _to_list(parents, int)
        s = self.grid[min(step, self.steps)] if s is None else s
        rec = StepRecord(step, s, nfe, rewards_l, parents_l, dict(events))
        self.ledger.trace.append(rec)
        if self.callback is not None:
            self.callback(
                {
                    "method": self.method,
                    "step": step,
                    "steps": self.steps,
                    "nfe_used": self.ledger.nfe,
                    "nfe_budget": self.nfe_budget,
                    "best_reward": None if self.ledger.best is None else self.ledger.best[0],
                    "rewards": rewards_l,
                    "parents": parents_l,
                    "events": rec.events,
                }
            )


def _to_list(values, kind: type) -> list | None:
    """Plain Python list of ``values`` (tensor, range or sequence). Tensors go through one
    ``tolist()`` call: iterating a tensor element by element creates a 0-d tensor per item
    and cost SMC/SVDD ~20% of their per-step overhead."""
    if values is None:
        return None
    if isinstance(values, torch.Tensor):
        values = values.tolist()
    return [kind(v) for v in values]
