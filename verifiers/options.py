"""Typed, checked loader options for the verifier families, with the metadata a UI needs.

Each family's loader options are a frozen dataclass derived from `LoaderOptions`. Every
field is declared with `option`, whose metadata holds what a loader node's schema is built
from: the tooltip, ``min``/``max``/``step`` for numbers, ``choices`` for fixed strings,
``kind="path"`` for folders, and whether ``None`` is allowed (``nullable``). The type is the
field's annotation. `LoaderOptions.schema` returns one `OptionSpec` per field.

Values are checked when a record is made (type, range, choices; ``ValueError`` naming the
field, the value and what is allowed), and `LoaderOptions.from_mapping` refuses unknown
names. `LoaderOptions.loader_kwargs` turns a record into the keyword arguments of the
family's ``load_*`` function (``dtype`` names become torch dtypes; an empty path means
"not given").
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
_TYPES = {bool: "bool", int: "int", float: "float", str: "str"}


def option(
    default: Any,
    tooltip: str,
    *,
    min: float | None = None,
    max: float | None = None,
    step: float | None = None,
    choices: Sequence[str] | None = None,
    kind: str | None = None,
) -> Any:
    """A dataclass field with its UI metadata (see the module docstring)."""
    meta = {"tooltip": tooltip, "min": min, "max": max, "step": step, "kind": kind}
    meta["choices"] = tuple(choices) if choices is not None else None
    return dataclasses.field(default=default, metadata=meta)


@dataclass(frozen=True)
class OptionSpec:
    """One loader option as a node schema needs it. ``type`` is ``"bool"``, ``"int"``,
    ``"float"``, ``"str"`` or ``"path"`` (a folder or file; empty = not given)."""

    name: str
    type: str
    default: Any
    tooltip: str
    min: float | None = None
    max: float | None = None
    step: float | None = None
    choices: tuple[str, ...] | None = None
    nullable: bool = False

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _base_type(annotation: Any) -> tuple[type, bool]:
    """``(python type, nullable)`` of a field annotation such as ``int | None``."""
    args = typing.get_args(annotation)
    if args:
        real = [a for a in args if a is not type(None)]
        if len(real) != 1:
            raise TypeError(f"option annotation {annotation} is not 'T' or 'T | None'")
        return real[0], len(real) < len(args)
    return annotation, False


@dataclass(frozen=True)
class LoaderOptions:
    """Base of every family's loader options (see the module docstring)."""

    def __post_init__(self) -> None:
        for spec in self.schema():
            value = getattr(self, spec.name)
            object.__setattr__(self, spec.name, _checked(type(self).__name__, spec, value))

    @classmethod
    def schema(cls) -> tuple[OptionSpec, ...]:
        """One `OptionSpec` per field, in declaration order."""
        hints = typing.get_type_hints(cls)
        specs = []
        for f in dataclasses.fields(cls):
            base, nullable = _base_type(hints[f.name])
            meta = f.metadata
            kind = "path" if meta.get("kind") == "path" else _TYPES[base]
            specs.append(
                OptionSpec(
                    name=f.name,
                    type=kind,
                    default=f.default,
                    tooltip=meta.get("tooltip", ""),
                    min=meta.get("min"),
                    max=meta.get("max"),
                    step=meta.get("step"),
                    choices=meta.get("choices"),
                    nullable=nullable,
                )
            )
        return tuple(specs)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> LoaderOptions:
        """A checked record from ``{name: value}``; unknown names are a ``ValueError``."""
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise ValueError(f"{cls.__name__} has no option(s) {unknown}; the options are {names}")
        return cls(**values)

    def replace(self, **changes: Any) -> LoaderOptions:
        """A copy with ``changes`` (checked like `from_mapping`)."""
        return self.from_mapping({**self.to_json(), **changes})

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def loader_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of the family's ``load_*`` function (``path`` included)."""
        out: dict[str, Any] = {}
        for spec in self.schema():
            value = getattr(self, spec.name)
            if spec.name == "dtype":
                value = DTYPES[value]
            elif spec.type == "path":
                value = value or None
            out[spec.name] = value
        return out


def _checked(owner: str, spec: OptionSpec, value: Any) -> Any:
    """``value`` checked against ``spec`` (ints are accepted for floats)."""
    where = f"{owner}.{spec.name}"
    if value is None:
        if spec.nullable:
            return None
        raise ValueError(f"{where} may not be None (default: {spec.default!r})")
    want = {"bool": bool, "int": int, "float": float, "str": str, "path": str}[spec.type]
    if spec.type == "path" and hasattr(value, "__fspath__"):
        value = str(value)
    if spec.type == "float" and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, want) or (want is not bool and isinstance(value, bool)):
        raise ValueError(
            f"{where} must be of type {spec.type}, got {value!r} ({type(value).__name__})"
        )
    if spec.type == "float" and not math.isfinite(value):
        raise ValueError(f"{where} must be finite, got {value!r}")
    if spec.min is not None and value < spec.min:
        raise ValueError(f"{where} must be >= {spec.min}, got {value!r}")
    if spec.max is not None and value > spec.max:
        raise ValueError(f"{where} must be <= {spec.max}, got {value!r}")
    if spec.choices is not None and value not in spec.choices:
        raise ValueError(f"{where} must be one of {list(spec.choices)}, got {value!r}")
    if spec.name == "device":
        try:
            torch.device(value)
        except RuntimeError as exc:
            raise ValueError(f"{where}: {value!r} is not a torch device ({exc})") from None
    return value


@dataclass(frozen=True)
class TorchOptions(LoaderOptions):
    """Options of every family that runs a torch model on local weights."""

    path: str = option(
        "", "Model folder or file under ComfyUI/models/verifiers/<family>/", kind="path"
    )
    device: str = option("cpu", "Torch device the verifier runs on: cpu, cuda, cuda:1, mps")
    dtype: str = option(
        "float32", "Weights dtype; bfloat16/float16 halve the memory (scores stay float32)",
        choices=tuple(DTYPES),
    )  # fmt: skip
    batch_size: int = option(8, "Images per forward pass (scores do not depend on it)", min=1)


@dataclass(frozen=True)
class BundledOptions(LoaderOptions):
    """Options of families whose weights ship with their pip package (ONNX Runtime on CPU)."""

    threads: int | None = option(None, "ONNX Runtime intra-op threads (None: its default)", min=1)
    batch_size: int = option(8, "Images per call (scores do not depend on it)", min=1)
