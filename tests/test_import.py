"""Importing the pack never imports ComfyUI (checked in a fresh interpreter)."""

import json
import subprocess
import sys

COMFY_ROOTS = ("comfy", "comfy_api", "comfy_extras", "server", "folder_paths", "nodes", "execution")

SCRIPT = f"""
import importlib, json, sys
for name in ("flowsearch", "flowsearch.samplers", "flowsearch.verifiers", "flowsearch.testing"):
    importlib.import_module(name)
import flowsearch
print(json.dumps({{
    "comfy": sorted(m for m in sys.modules if m.split(".")[0] in {COMFY_ROOTS!r}),
    "entrypoint": callable(getattr(flowsearch, "comfy_entrypoint", None)),
    "web": flowsearch.WEB_DIRECTORY,
}}))
"""


def test_import_does_not_touch_comfyui(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["comfy"] == []
    assert report["entrypoint"] is True
    assert report["web"] == "./web"
