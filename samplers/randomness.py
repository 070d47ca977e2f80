"""Randomness: seeded CPU generators and per-particle keyed noise streams.

All randomness in FlowSearch comes from explicit seeds or `torch.Generator`s (no global
state). Two tools:

- `generator_from_seed(seed, salt)`: a CPU generator seeded with ``(seed XOR salt) mod 2^64``;
  a salt separates streams that share a user-facing seed (e.g. ComfyUI's initial noise
  and the SDE noise of the same NOISE seed).
- Keyed streams (`stream_key`, `keyed_normal`): particle ``j`` of draw ``d`` of a search
  with base seed ``seed`` gets standard-normal noise from its own CPU generator seeded with
  ``stream_key(seed, d, j)``. A particle's noise therefore depends only on (seed, draw,
  index) -- not on how many particles are drawn together, how they are chunked, or the
  device -- which is what lets a larger budget *contain* a smaller one (see docs/search.md).
  Keys are mixed with SplitMix64's finaliser, so neighbouring indices give unrelated seeds.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

_UINT64 = (1 << 64) - 1
_GOLDEN = 0x9E37_79B9_7F4A_7C15


def generator_from_seed(seed: int, salt: int = 0) -> torch.Generator:
    """CPU generator seeded with ``(seed XOR salt) mod 2^64`` (``seed`` any Python int)."""
    if isinstance(seed, bool) or not isinstance(seed, int):
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


def keyed_normal(
    seed: int,
    key: Sequence[int],
    indices: Sequence[int],
    shape: Sequence[int],
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """``[len(indices), *shape]`` standard normal; row ``r`` is drawn from a CPU generator
    seeded with ``stream_key(seed, *key, indices[r])`` (in at least float32, then cast).

    Costs one ``manual_seed`` and one ``normal_`` call per row (~3-5 µs on a CPU)."""
    work = torch.promote_types(dtype, torch.float32)
    out = torch.empty((len(indices), *shape), dtype=work)
    gen = torch.Generator(device="cpu")
    base = stream_key(seed, *key)
    for j, row in zip(indices, out.unbind(0)):
        gen.manual_seed(_mix(base ^ (int(j) & _UINT64)))
        row.normal_(generator=gen)
    return out.to(device=device, dtype=dtype)
