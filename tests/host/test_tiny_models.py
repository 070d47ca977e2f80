"""The tiny test models behave like the real ones inside ComfyUI's own nodes."""

from __future__ import annotations

import pytest
import torch
from comfy_host_harness import GraphError, sampling_prompt
from model_files import FLUX_VAE_FILE


def latent(batch: int = 1, size: int = 8, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    return {"samples": torch.randn(batch, 16, size, size, generator=g)}


def test_tiny_vae_every_parameter_defined(tiny_vae):
    params = list(tiny_vae.first_stage_model.parameters())
    assert 1_000_000 < sum(p.numel() for p in params) < 5_000_000
    assert all(bool(torch.isfinite(p).all()) for p in params)
    assert all(float(p.detach().std()) > 0 for p in params if p.numel() > 1)
    assert tiny_vae.latent_channels == 16


@pytest.mark.parametrize(("batch", "size"), [(1, 8), (2, 8), (1, 4), (3, 6)])
def test_vae_decode_node_shapes(comfy_host, tiny_vae, batch, size):
    from nodes import VAEDecode

    with torch.inference_mode():  # as ComfyUI's executor runs nodes
        (images,) = VAEDecode().decode(tiny_vae, latent(batch, size))
    assert images.shape == (batch, 8 * size, 8 * size, 3)
    assert images.dtype == torch.float32
    assert float(images.min()) >= 0.0 and float(images.max()) <= 1.0
    # Not saturated, and different latents give different images.
    assert 0.2 < float(images.mean()) < 0.8 and float(images.std()) > 0.1
    if batch > 1:
        assert float((images[0] - images[1]).abs().mean()) > 0.05


def test_vae_round_trip_shape_and_determinism(comfy_host):
    from tiny_models import build_tiny_vae

    from nodes import VAEDecode, VAEEncode

    a, b = build_tiny_vae(3), build_tiny_vae(3)
    (images,) = VAEDecode().decode(a, latent(2))
    (encoded,) = VAEEncode().encode(a, images)
    assert encoded["samples"].shape == (2, 16, 8, 8)
    assert torch.equal(images, VAEDecode().decode(b, latent(2))[0])


def test_real_vae_loader_reads_tiny_files(comfy_host, host_dirs):
    from tiny_models import build_tiny_vae

    from nodes import VAEDecode, VAELoader

    assert (host_dirs.models / "vae" / FLUX_VAE_FILE).is_file()
    offered = VAELoader.INPUT_TYPES()["required"]["vae_name"][0]
    assert FLUX_VAE_FILE in offered and "taef1" in offered
    (from_file,) = VAELoader().load_vae(FLUX_VAE_FILE)
    (approx,) = VAELoader().load_vae("taef1")
    z = latent(1)
    expected = VAEDecode().decode(build_tiny_vae(0), z)[0]
    assert torch.equal(VAEDecode().decode(from_file, z)[0], expected)
    # "taef1" is the same weights split in two files, with the same scale and shift.
    assert torch.equal(VAEDecode().decode(approx, z)[0], expected)


def test_model_folder_is_registered(comfy_host, host_dirs):
    import folder_paths

    path = host_dirs.model_folder("flowsearch_test_folder")
    (path / "weights.safetensors").write_bytes(b"")
    assert folder_paths.get_filename_list("flowsearch_test_folder") == ["weights.safetensors"]
    assert folder_paths.get_output_directory() == str(host_dirs.output)


def test_tiny_clip_encodes_prompts_like_flux(comfy_host):
    from tiny_models import build_tiny_flux_clip

    from nodes import CLIPTextEncode

    clip = build_tiny_flux_clip(0)
    (apple,) = CLIPTextEncode().encode(clip, "a red apple")
    (car,) = CLIPTextEncode().encode(clip, "a blue car")
    (again,) = CLIPTextEncode().encode(build_tiny_flux_clip(0), "a red apple")
    tokens, extra = apple[0]
    assert tokens.shape == (1, 256, 32) and extra["pooled_output"].shape == (1, 32)
    assert torch.equal(tokens, again[0][0])
    assert float((extra["pooled_output"] - car[0][1]["pooled_output"]).abs().max()) > 0.1


def test_flux_graph_of_test_nodes_runs_to_an_image(run_graph):
    prompt = sampling_prompt({"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}})
    prompt["1"] = {"class_type": "FlowSearchTest_TinyUNet", "inputs": {"variant": "dev", "seed": 0}}
    prompt["10"] = {"class_type": "FlowSearchTest_TinyCLIP", "inputs": {"seed": 1}}
    prompt["11"] = {"class_type": "CLIPTextEncode", "inputs": {"clip": ["10", 0], "text": "a cat"}}
    prompt["12"] = {
        "class_type": "FluxGuidance",
        "inputs": {"conditioning": ["11", 0], "guidance": 3.5},
    }
    prompt["3"]["inputs"]["conditioning"] = ["12", 0]
    prompt["13"] = {"class_type": "VAELoader", "inputs": {"vae_name": FLUX_VAE_FILE}}
    prompt["14"] = {"class_type": "VAEDecode", "inputs": {"samples": ["7", 0], "vae": ["13", 0]}}
    prompt["15"] = {"class_type": "FlowSearchTest_ImageSink", "inputs": {"images": ["14", 0]}}
    out = run_graph(prompt)
    images = out["14"][0][0]
    assert images.shape == (1, 64, 64, 3) and bool(torch.isfinite(images).all())
    with pytest.raises(GraphError, match="validation"):
        bad = dict(prompt, **{"13": {"class_type": "VAELoader", "inputs": {"vae_name": "x.sft"}}})
        run_graph(bad)


def test_dev_variant_reads_flux_guidance(comfy_host):
    import comfy.model_sampling
    from tiny_models import build_tiny_flux, tiny_conditioning

    model = build_tiny_flux(0, "dev").model
    assert isinstance(model.model_sampling, comfy.model_sampling.ModelSamplingFlux)
    context, extra = tiny_conditioning(1)[0]
    x = torch.randn(1, 16, 8, 8, generator=torch.Generator().manual_seed(0))

    def out(guidance: float) -> torch.Tensor:
        kwargs = {"c_crossattn": context, "y": extra["pooled_output"]}
        kwargs["guidance"] = torch.tensor([guidance])
        with torch.no_grad():
            return model.apply_model(x, torch.tensor([0.7]), **kwargs)

    assert float((out(1.0) - out(4.0)).abs().max()) > 1e-4
