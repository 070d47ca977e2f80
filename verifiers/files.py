"""Where verifier weights live, and the errors that say how to put them there.

Nothing here downloads. Every family's weights sit in ComfyUI's ``models/verifiers/<family>/``
(a file, or one sub-folder per model) and are documented in ``docs/verifiers/<family>.md``.
A `WeightSource` holds those facts for one family (or one part of it, e.g. the aesthetic
model's CLIP folder), so every missing file, folder or package raises an error that names
the folder, the expected files, the public model to download and the docs page.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType

log = logging.getLogger("flowsearch.verifiers")

#: ComfyUI models sub-folder the nodes search for verifier weights (``models/verifiers/<family>/``).
COMFY_FOLDER = "models/verifiers"


class MissingWeightsError(FileNotFoundError):
    """Raised when a verifier's weights are not where they were looked for."""


class MissingDependencyError(ImportError):
    """Raised when an optional dependency a verifier family needs is not installed."""


@dataclass(frozen=True)
class WeightSource:
    """Facts about one family's weights, for error messages and the registry.

    ``family`` is the registry name: weights go to ``models/verifiers/<family>/<subfolder>/``,
    the docs page is ``docs/verifiers/<family>.md``. ``files`` lists what the folder holds
    (``a|b`` = either). ``bundled`` families ship their weights inside a pip package.
    """

    family: str
    title: str
    model_id: str
    files: tuple[str, ...] = ()
    subfolder: str = ""
    extra: str = "verifiers"
    bundled: bool = False

    @property
    def folder(self) -> str:
        """``models/verifiers/<family>/`` (plus the sub-folder of this part, if any)."""
        sub = f"{self.subfolder}/" if self.subfolder else ""
        return f"{COMFY_FOLDER}/{self.family}/{sub}"

    @property
    def docs(self) -> str:
        return f"docs/verifiers/{self.family}.md"

    def part(self, *, subfolder: str, model_id: str, files: Sequence[str]) -> WeightSource:
        """The same family, another part (e.g. a tokenizer folder inside the family folder)."""
        return replace(self, subfolder=subfolder, model_id=model_id, files=tuple(files))

    def where(self) -> str:
        """One sentence: what to download, where to put it, where it is documented."""
        if self.bundled:
            return f"{self.title} ships its weights with its package; see {self.docs}."
        files = ", ".join(f.replace("|", " or ") for f in self.files) or "its files"
        return (
            f"Download the public model '{self.model_id}' yourself (FlowSearch never downloads) "
            f"and place it in ComfyUI/{self.folder} (expected files: {files}), or pass the "
            f"path of the downloaded folder/file; see {self.docs}."
        )

    def missing(self, what: str) -> MissingWeightsError:
        return MissingWeightsError(f"{self.title}: {what}. {self.where()}")


def require_path(path: str | Path, source: WeightSource) -> Path:
    """``path`` as a Path if it exists, else `MissingWeightsError` with the fix."""
    p = Path(path).expanduser()
    if p.exists():
        return p
    raise source.missing(f"weights not found at '{p}'")


def require_files(folder: str | Path, source: WeightSource) -> Path:
    """Check ``folder`` is a folder holding each of ``source.files`` (``a|b``: either)."""
    root = require_path(folder, source)
    if not root.is_dir():
        raise NotADirectoryError(
            f"{source.title} expects a model folder (Hugging Face layout), got the file '{root}'; "
            + source.where()
        )
    for spec in source.files:
        options = spec.split("|")
        if not any((root / name).is_file() for name in options):
            raise source.missing(f"'{root}' has no {' or '.join(options)}")
    return root


def find_weights_file(
    path: Path, names: Sequence[str], source: WeightSource, *, any_single: bool = False
) -> Path:
    """``path`` if it is a file, else the first of ``names`` inside the folder ``path``.

    With ``any_single``, a folder holding exactly one ``.safetensors``/``.pt``/``.pth`` file
    also resolves to it. Otherwise `MissingWeightsError` lists what was looked for."""
    if path.is_file():
        return path
    for name in names:
        if (path / name).is_file():
            return path / name
    found = sorted(p for p in path.iterdir() if p.suffix in (".safetensors", ".pt", ".pth"))
    if any_single and len(found) == 1:
        return found[0]
    several = f"; found several: {', '.join(p.name for p in found)}" if any_single and found else ""
    raise source.missing(f"no weights in '{path}' (looked for {', '.join(names)}{several})")


def optional_import(module: str, source: WeightSource) -> ModuleType:
    """Import an optional dependency or raise `MissingDependencyError` naming the install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{source.title} needs the optional package '{module}' ({exc}); install it with "
            f"`pip install flowsearch[{source.extra}]`. {source.where()}"
        ) from exc
