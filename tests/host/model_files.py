"""A throw-away ComfyUI base folder for host tests: models, input, output, temp, user.

The tiny VAE is written as real files with the names ComfyUI users have, so loader nodes
(``VAELoader``) find and load them through ``folder_paths`` exactly as in a user's install:

- ``models/vae/ae.safetensors``: the whole tiny taef1-layout VAE (FLUX's VAE file name);
- ``models/vae_approx/taef1_encoder.safetensors`` + ``taef1_decoder.safetensors``: the same
  weights split the way ComfyUI's ``VAELoader`` offers them as ``"taef1"`` (and its latent
  previewer reads them).

The diffusion model and the text encoders have no tiny files: ComfyUI's FLUX detection
assumes full-size dimensions. Graphs swap those loaders for the test nodes of `tiny_nodes`
(`workflow_convert.TINY_FLUX_SUBSTITUTIONS`).

`register_in_process` points this process's ``folder_paths`` at the folder (models first in
every list, output/input/temp/user replaced); `write_extra_model_paths` writes the
``extra_model_paths.yaml`` that gives a ComfyUI server the same models.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from tiny_models import tiny_vae_modules, tiny_vae_state_dict

FLUX_VAE_FILE = "ae.safetensors"
TAEF1_FILES = ("taef1_encoder.safetensors", "taef1_decoder.safetensors")
# Model folders made (empty unless listed above) and registered; tests add more with
# `HostDirs.model_folder`.
MODEL_FOLDERS = (
    "checkpoints",
    "diffusion_models",
    "text_encoders",
    "vae",
    "vae_approx",
    "loras",
    "upscale_models",
)


@dataclass(frozen=True)
class HostDirs:
    """A ComfyUI base folder (``root``): ``models/``, ``input/``, ``output/``, ``temp/``,
    ``user/`` and ``custom_nodes/``."""

    root: Path

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def output(self) -> Path:
        return self.root / "output"

    @property
    def input(self) -> Path:
        return self.root / "input"

    @property
    def temp(self) -> Path:
        return self.root / "temp"

    @property
    def user(self) -> Path:
        return self.root / "user"

    @property
    def custom_nodes(self) -> Path:
        return self.root / "custom_nodes"

    def model_folder(self, name: str) -> Path:
        """``models/<name>``, created, and registered with ``folder_paths`` when ComfyUI is
        imported in this process (so ``get_filename_list(name)`` lists its files)."""
        path = self.models / name
        path.mkdir(parents=True, exist_ok=True)
        folder_paths = _folder_paths_if_imported()
        if folder_paths is not None:
            folder_paths.add_model_folder_path(name, str(path), is_default=True)
        return path


def make_host_dirs(root: Path, seed: int = 0) -> HostDirs:
    """Create the folders under ``root`` and write the tiny model files (seeded)."""
    from safetensors.torch import save_file

    dirs = HostDirs(Path(root))
    for path in (dirs.input, dirs.output, dirs.temp, dirs.user, dirs.custom_nodes):
        path.mkdir(parents=True, exist_ok=True)
    for name in MODEL_FOLDERS:
        (dirs.models / name).mkdir(parents=True, exist_ok=True)
    save_file(tiny_vae_state_dict(seed), str(dirs.models / "vae" / FLUX_VAE_FILE))
    parts = tiny_vae_modules(seed)
    for file, part in zip(TAEF1_FILES, (parts["encoder"], parts["decoder"])):
        tensors = {k: v.detach().clone().contiguous() for k, v in part.state_dict().items()}
        save_file(tensors, str(dirs.models / "vae_approx" / file))
    return dirs


def register_in_process(dirs: HostDirs) -> None:
    """Make this process's ComfyUI use ``dirs``: every model folder's files listed first;
    output, input, temp and user directories replaced (nothing lands in the checkout)."""
    import folder_paths

    for path in sorted(p for p in dirs.models.iterdir() if p.is_dir()):
        folder_paths.add_model_folder_path(path.name, str(path), is_default=True)
    folder_paths.set_output_directory(str(dirs.output))
    folder_paths.set_input_directory(str(dirs.input))
    folder_paths.set_temp_directory(str(dirs.temp))
    folder_paths.set_user_directory(str(dirs.user))


def write_extra_model_paths(dirs: HostDirs, path: Path) -> Path:
    """An ``extra_model_paths.yaml`` naming every model folder under ``dirs.models``, listed
    first (ComfyUI's ``--extra-model-paths-config`` reads it)."""
    lines = ["flowsearch_tests:", f"  base_path: {dirs.root}", "  is_default: true"]
    for sub in sorted(p for p in dirs.models.iterdir() if p.is_dir()):
        lines.append(f"  {sub.name}: models/{sub.name}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _folder_paths_if_imported():
    return sys.modules.get("folder_paths")
