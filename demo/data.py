"""Fashion-MNIST from Debian's ``dataset-fashion-mnist`` package, read with plain Python.

Files (gzip-compressed IDX, big-endian): ``{train,t10k}-images-idx3-ubyte.gz`` (uint8
``[N, 28, 28]``) and ``{train,t10k}-labels-idx1-ubyte.gz`` (uint8 ``[N]``), under
``/usr/share/datasets/fashion-mnist/`` by default.

Pixel convention of every FlowSearch Fashion-MNIST model (flow model and classifiers):
images zero-padded (2 px each side) from 28x28 to 32x32, scaled from [0, 255] to [-1, 1]
(``x = p / 127.5 - 1``, so padding is -1 = black background), layout ``[B, 1, 32, 32]``.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

#: Where the Debian package installs the files.
DEFAULT_ROOT = Path("/usr/share/datasets/fashion-mnist")

#: Class names in label order (0..9).
CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

#: IDX element-type codes -> numpy big-endian dtypes.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_SPLITS = {"train": "train", "test": "t10k"}


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (optionally ``.gz``) into a numpy array of its declared shape.

    Header: two zero bytes, one dtype code byte, one byte ``ndim``, then ``ndim`` big-endian
    uint32 dimensions; the data follow in C order.
    """
    p = Path(path)
    opener = gzip.open if p.suffix == ".gz" else open
    with opener(p, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"'{p}' is not an IDX file (bad magic {raw[:4]!r})")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"'{p}' has unknown IDX element type 0x{code:02x}")
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    dtype = _IDX_DTYPES[code]
    count = int(np.prod(dims)) if dims else 1
    offset = 4 + 4 * ndim
    if len(raw) - offset != count * dtype.itemsize:
        raise ValueError(
            f"'{p}' declares shape {dims} ({count * dtype.itemsize} bytes) "
            f"but holds {len(raw) - offset} data bytes"
        )
    data = np.frombuffer(raw, dtype=dtype, count=count, offset=offset)
    return data.reshape(dims).astype(dtype.newbyteorder("="))


def dataset_files(split: str, root: str | Path | None = None) -> tuple[Path, Path]:
    """Paths of the (images, labels) files of ``split`` ("train" or "test"), checked to exist."""
    if split not in _SPLITS:
        raise ValueError(f"split={split!r} is not one of {sorted(_SPLITS)}")
    base = Path(root) if root is not None else DEFAULT_ROOT
    stem = _SPLITS[split]
    images = base / f"{stem}-images-idx3-ubyte.gz"
    labels = base / f"{stem}-labels-idx1-ubyte.gz"
    missing = [str(p) for p in (images, labels) if not p.exists()]
    if missing:
        raise FileNotFoundError(
            f"Fashion-MNIST files not found: {', '.join(missing)}. Install Debian's package "
            f"with `apt-get install dataset-fashion-mnist` (it puts them in {DEFAULT_ROOT}) "
            f"or pass root= pointing at a folder holding the four *-ubyte.gz files."
        )
    return images, labels


def load_fashion_mnist(
    split: str, root: str | Path | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Load ``split`` as ``(images uint8 [N, 28, 28], labels int64 [N])``.

    ``N`` is 60000 for "train" and 10000 for "test".
    """
    img_path, lab_path = dataset_files(split, root)
    images = read_idx(img_path)
    labels = read_idx(lab_path)
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"unexpected Fashion-MNIST shapes: images {images.shape}, labels {labels.shape}"
        )
    return torch.from_numpy(images.astype(np.uint8)), torch.from_numpy(labels.astype(np.int64))


def to_model_space(images: torch.Tensor) -> torch.Tensor:
    """uint8 ``[N, 28, 28]`` (0..255) -> float32 ``[N, 1, 32, 32]`` in [-1, 1], padded with -1."""
    if images.dim() != 3 or images.shape[-2:] != (28, 28):
        raise ValueError(f"images must be [N, 28, 28], got {tuple(images.shape)}")
    x = images.to(torch.float32).div(127.5).sub(1.0).unsqueeze(1)
    return F.pad(x, (2, 2, 2, 2), value=-1.0)


def to_unit_range(x: torch.Tensor) -> torch.Tensor:
    """Model space [-1, 1] -> [0, 1] (clamped), same shape; for saving or showing images."""
    return x.add(1.0).mul(0.5).clamp(0.0, 1.0)
