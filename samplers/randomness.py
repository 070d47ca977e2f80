"""Randomness: seeded CPU generators and per-particle keyed noise streams.

All randomness in FlowSearch comes from explicit seeds or `torch.Generator`s (no global
state). Two tools:

- `generator_from_seed(seed, salt)`: a CPU generator seeded with ``(seed XOR salt) mod 2^64``;
  a salt separates streams that share a user-facing seed (e.g. ComfyUI's initial noise
  and the SDE noise of the same NOISE seed).
- Keyed streams (`stream_key`, `keyed_normal`): particle ``j`` of draw ``d`` of a search
  with base seed ``seed`` gets standard-normal noise that depends only on
  ``(seed, d, j)`` and the state's shape: the CPU generator of its fixed block of indices
  is seeded with ``stream_key(seed, d, j // rows_per_block)``. So a particle's noise does
  not depend on how many particles are drawn together, how they are chunked, or the
  device -- which is what lets a larger budget *contain* a smaller one (see
  docs/search.md). Keys are mixed with SplitMix64's finaliser, so neighbouring blocks get
  unrelated seeds.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import torch

_UINT64 = (1 << 64) - 1
_GOLDEN = 0x9E37_79B9_7F4A_7C15


def generator_from_seed(seed: int, salt: int = 0) -> torch.Generator:
    """CPU generator seeded with ``(seed XOR salt) mod 2^64`` (``seed`` any Python int)."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"seed must be an integer; got {seed!r}")
    value = (int(seed) ^ int(salt)) & _UINT64
    return torch.Generator(device="cpu").manual_seed(value)


def randn_like(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Standard normal shaped like ``x``, drawn on the generator's device (so a CPU generator
    gives the same numbers whatever device ``x`` is on), in at least float32."""
    dtype = torch.promote_types(x.dtype, torch.float32)
    device = generator.device if generator is not None else x.device
    z = torch.randn(x.shape, generator=generator, device=device, dtype=dtype)
    return z.to(x.device)


def derive_seed(generator: torch.Generator | None) -> int:
    """One 63-bit base seed drawn from the caller's generator (any device; ``None`` uses
    torch's global generator). Everything random in a search is keyed from it on the CPU,
    so results are the same on every device."""
    device = generator.device if generator is not None else "cpu"
    value = torch.randint(0, 2**63 - 1, (1,), generator=generator, device=device)
    return int(value.item())


def _mix(z: int) -> int:
    """SplitMix64 finaliser: a bijection of 64-bit integers with good avalanche."""
    z = (z + _GOLDEN) & _UINT64
    z = ((z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9) & _UINT64
    z = ((z ^ (z >> 27)) * 0x94D0_49BB_1331_11EB) & _UINT64
    return z ^ (z >> 31)


def stream_key(seed: int, *parts: int) -> int:
    """A 64-bit generator seed for the stream named by ``(seed, *parts)``."""
    h = _mix(int(seed) & _UINT64)
    for p in parts:
        h = _mix(h ^ (int(p) & _UINT64))
    return h


#: Rows of one keyed generator: enough to amortise seeding a generator (a few µs) over
#: ~1024 numbers, one row per generator for rows larger than that (image latents).
BLOCK_ELEMENTS = 1024
MAX_BLOCK_ROWS = 16


def rows_per_block(row_numel: int) -> int:
    """How many consecutive particle indices share one keyed generator (a function of the
    row size only, so a row's numbers never depend on how many rows are drawn)."""
    return max(1, min(MAX_BLOCK_ROWS, BLOCK_ELEMENTS // max(1, row_numel)))


def keyed_normal(
    seed: int,
    key: Sequence[int],
    indices: Sequence[int],
    shape: Sequence[int],
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """``[len(indices), *shape]`` standard normal; row ``r`` depends only on
    ``(seed, *key, indices[r], shape)``.

    Indices are grouped in fixed blocks of `rows_per_block` consecutive values; block ``b``
    is drawn whole from a CPU generator seeded with ``stream_key(seed, *key, b)`` (in at
    least float32, then cast), and the requested rows are taken from it. So asking for more
    rows, fewer rows or other rows never changes a row's numbers."""
    work = torch.promote_types(dtype, torch.float32)
    shape = tuple(int(d) for d in shape)
    per = rows_per_block(math.prod(shape))
    contiguous = isinstance(indices, range) and indices.start == 0 and indices.step == 1
    idx = None if contiguous else torch.as_tensor(list(indices), dtype=torch.long)
    if contiguous:
        blocks = list(range(-(-len(indices) // per)))
    else:
        blocks = torch.unique(idx // per, sorted=True).tolist()
    buf = torch.empty((len(blocks) * per, *shape), dtype=work)
    gen = torch.Generator(device="cpu")
    base = stream_key(seed, *key)
    for b, chunk in zip(blocks, buf.split(per)):
        gen.manual_seed(_mix(base ^ (b & _UINT64)))
        chunk.normal_(generator=gen)
    if contiguous:
        out = buf[: len(indices)]
    else:
        pos = torch.searchsorted(torch.tensor(blocks), idx // per) * per + idx % per
        out = buf[pos]
    return out.to(device=device, dtype=dtype)
