"""Verifier loader nodes: one per family that `available_verifiers()` says can load here.

Weights live in ``models/verifiers/<family>/`` under every folder ComfyUI knows for the
``verifiers`` key: ``ComfyUI/models/verifiers`` (registered by `register_folder`) and any
``verifiers:`` entry of ``extra_model_paths.yaml``. The ``model`` combo lists the folders
and files found there; a model that is not there fails validation with the folder, the
expected files and the docs page, before anything runs.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import comfy.model_management
import folder_paths
from comfy_api.latest import io

from ..verifiers import available_verifiers, load_verifier
from .comfy_schema import SpecNode, to_schema
from .verifier_specs import loader_spec, options_from_widgets

log = logging.getLogger("flowsearch.nodes")
FOLDER_KEY = "verifiers"


def register_folder() -> None:
    """Add ``ComfyUI/models/verifiers`` as the default ``verifiers`` folder (idempotent;
    paths from ``extra_model_paths.yaml`` stay)."""
    folder_paths.add_model_folder_path(
        FOLDER_KEY, os.path.join(folder_paths.models_dir, FOLDER_KEY), is_default=True
    )


def family_dirs(family: str) -> list[str]:
    try:
        bases = folder_paths.get_folder_paths(FOLDER_KEY)
    except KeyError:
        return []
    return [os.path.join(base, family) for base in bases]


WEIGHT_EXTENSIONS = (".safetensors", ".pt", ".pth", ".bin", ".ckpt", ".onnx")
THIS_FOLDER = "./"  # the family folder itself holds the model (e.g. models/verifiers/pickscore/)


def list_models(family: str) -> tuple[str, ...]:
    """What ``model`` offers: ``./`` when ``<base>/<family>/`` itself holds files, then its
    sub-folders and weight files, first base first."""
    seen: list[str] = []
    for folder in family_dirs(family):
        if not os.path.isdir(folder):
            continue
        names = sorted(n for n in os.listdir(folder) if not n.startswith("."))
        if any(os.path.isfile(os.path.join(folder, n)) for n in names) and THIS_FOLDER not in seen:
            seen.insert(0, THIS_FOLDER)
        for name in names:
            full = os.path.join(folder, name)
            if name not in seen and (os.path.isdir(full) or name.endswith(WEIGHT_EXTENSIONS)):
                seen.append(name)
    return tuple(seen)


def find_model(family: str, name: str) -> str | None:
    """Full path of a ``model`` entry (the first base that has it), or ``None``."""
    for folder in family_dirs(family):
        if name == THIS_FOLDER:
            if os.path.isdir(folder) and any(
                os.path.isfile(os.path.join(folder, n)) for n in os.listdir(folder)
            ):
                return folder
            continue
        path = os.path.join(folder, name)
        if name and os.sep not in name.strip("/") and os.path.exists(path):
            return path
    return None


class VerifierLoader(SpecNode):
    """Base of the generated loader nodes; ``FAMILY`` names the registry family."""

    FAMILY: str
    AVAILABILITY: Any

    @classmethod
    def define_schema(cls) -> io.Schema:
        return to_schema(cls.spec())

    @classmethod
    def spec(cls):
        return loader_spec(cls.AVAILABILITY, list_models(cls.FAMILY))

    @classmethod
    def validate_inputs(cls, **values: Any) -> bool | str:
        spec = cls.spec()
        model = values.get("model")
        if (
            cls.AVAILABILITY.needs_weights
            and model is not None
            and find_model(cls.FAMILY, model) is None
        ):
            return missing_weights(cls.AVAILABILITY, model)
        errors = spec.check_values({k: v for k, v in values.items() if k != "model"})
        return "; ".join(errors) or True

    @classmethod
    def execute(cls, model: str | None = None, **values: Any) -> io.NodeOutput:
        a = cls.AVAILABILITY
        path = None
        if a.needs_weights:
            path = find_model(cls.FAMILY, model or "")
            if path is None:
                raise FileNotFoundError(missing_weights(a, model))
        options = options_from_widgets(a, values, path)
        if options.get("device") == "auto":
            options["device"] = str(comfy.model_management.get_torch_device())
        return io.NodeOutput(load_verifier(cls.FAMILY, options))


def missing_weights(availability: Any, model: str | None) -> str:
    where = " or ".join(f"'{d}'" for d in family_dirs(availability.family)) or (
        f"ComfyUI/{availability.folder}"
    )
    files = ", ".join(availability.files) or "the model's files"
    return (
        f"verifier weights not found: '{model}' is not in {where}. Download the public model "
        f"'{availability.model_id}' yourself (FlowSearch never downloads), put it in that "
        f"folder (expected files: {files}) and pick it in 'model'; see {availability.docs}"
    )


def loader_nodes() -> list[type[VerifierLoader]]:
    """One node class per family this environment can load (the others are logged)."""
    nodes = []
    for family, a in available_verifiers().items():
        if not a.available:
            log.info("FlowSearch: no loader node for verifier '%s': %s", family, a.reason)
            continue
        name = f"FlowSearchLoadVerifier_{family}"
        attrs = {"FAMILY": family, "AVAILABILITY": a, "SPEC": loader_spec(a, ())}
        nodes.append(type(name, (VerifierLoader,), attrs))
    return nodes
