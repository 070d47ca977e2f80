"""Diffusion Tree Search, DTS* (Jain et al., arXiv 2506.20701), the greedy variant.

The denoising chain is a tree: a node is a state at grid index ``i`` (evaluated: its
``x0_hat`` is known), an edge one SDE step. Each iteration

1. **selects** a path from the root (a virtual node above ``s_0``): at a node with fewer
   than ``children`` children it stops; otherwise it moves to the child with the highest
   value (DTS*'s greedy rule; DTS samples ``∝ exp(lam v)`` instead);
2. **expands** that node by one new child (fresh noise at the root, else one SDE step) and
   **rolls it out** to the final level, every state becoming a node;
3. **backs up** the final reward along the path with the soft Bellman rule
   ``v(n) = (1/lam) log mean_c exp(lam v(c))`` over the node's children.

An expansion at index ``i`` costs ``M - 1 - i`` NFEs (``M`` at the root): re-visiting low
noise is cheap, which is how the tree turns budget into refinements of its best paths.
A node whose subtree is complete (every level full) is never selected again; when the next
expansion on the greedy path would not fit the remaining budget, the path continues to a
deeper (cheaper) node; the search ends when no expansion fits. Rewards are read on final
samples only (look-ahead rewards are not used). Rollouts are one particle at a time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from .context import SearchContext
from .population import Evaluated, Outcome, budget_error, need


@dataclass(frozen=True)
class DTSOptions:
    children: int = 4  # maximum children per node (the root's are the initial noises)
    lam: float = 1.0  # soft-backup inverse temperature, in 1 / reward units

    def __post_init__(self) -> None:
        need(
            isinstance(self.children, int) and self.children >= 1,
            f"children must be an integer >= 1; got {self.children!r}",
        )
        lam = self.lam
        need(
            not isinstance(lam, bool) and isinstance(lam, (int, float)) and 0 < lam < math.inf,
            f"lam must be a positive finite number; got {lam!r}",
        )


@dataclass(eq=False)
class _Node:
    ev: Evaluated | None  # None for the root
    parent: _Node | None
    kids: list[_Node] = field(default_factory=list)
    value: float = -math.inf
    complete: bool = False  # the whole subtree is expanded


def run_dts(ctx: SearchContext, opts: DTSOptions) -> Outcome:
    m = ctx.steps
    if ctx.nfe_budget < m:
        raise budget_error(ctx.method, ctx.nfe_budget, m, "one trajectory of `steps` NFEs")
    root = _Node(None, None)
    finals: list[Evaluated] = []
    while not root.complete:
        node = _select(root, opts.children, ctx.remaining, m)
        if node is None:
            break
        nfe0 = ctx.nfe
        level = -1 if node.ev is None else node.ev.i
        if node.ev is None:
            first = ctx.evaluate(ctx.initial_states(1), 0, score=m == 1)
        else:
            first = ctx.evaluate(ctx.step(node.ev), level + 1, score=level + 2 == m)
        leaf = _grow(node, first)
        leaf = _extend(ctx, leaf, m)
        leaf.value, leaf.complete = float(leaf.ev.reward[0]), True
        finals.append(leaf.ev)
        _backup(leaf.parent, opts)
        ctx.record(leaf.ev.i, ctx.nfe - nfe0, leaf.ev, None, expanded_at=level + 1)
    return Outcome(Evaluated.cat(finals))


def _select(root: _Node, k: int, remaining: int, m: int) -> _Node | None:
    """The node to expand: greedy by value, skipping complete subtrees and expansions that
    do not fit ``remaining`` (those continue deeper, where expansions are cheaper)."""
    node = root
    while True:
        level = -1 if node.ev is None else node.ev.i
        if len(node.kids) < k and m - 1 - level <= remaining:
            return node
        open_kids = [c for c in node.kids if not c.complete and c.ev.i < m - 1]
        if not open_kids:
            return None
        node = max(open_kids, key=lambda c: c.value)


def _grow(parent: _Node, ev: Evaluated) -> _Node:
    child = _Node(ev, parent)
    parent.kids.append(child)
    return child


def _extend(ctx: SearchContext, node: _Node, m: int) -> _Node:
    """Roll ``node`` out to the final level, every state a node (one particle per call)."""
    while node.ev.i < m - 1:
        i = node.ev.i + 1
        node = _grow(node, ctx.evaluate(ctx.step(node.ev), i, score=i == m - 1))
    return node


def _backup(node: _Node | None, opts: DTSOptions) -> None:
    """Soft Bellman values and completeness from ``node`` up to the root."""
    while node is not None:
        values = torch.tensor([c.value for c in node.kids], dtype=torch.float64)
        lse = torch.logsumexp(opts.lam * values, 0) - math.log(len(node.kids))
        node.value = float(lse) / opts.lam
        node.complete = len(node.kids) >= opts.children and all(c.complete for c in node.kids)
        node = node.parent
