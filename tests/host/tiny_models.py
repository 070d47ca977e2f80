"""Tiny, fully initialised ComfyUI models for host tests: FLUX, its text encoders, a VAE.

Every ComfyUI import happens inside the functions (the module is imported by the test-node
package in a ComfyUI server too, after ComfyUI set itself up). All models live on the CPU in
float32 and are built from ComfyUI's own classes, so ComfyUI's nodes treat them as the
real thing; ComfyUI's layers skip weight init (the memory would be garbage), so every
parameter is set from a seeded generator by `init_parameters`.

Shapes (a 64x64 image): latent ``[B, 16, 8, 8]`` (FLUX layout, 16 tokens after 2x2
patches), decoded image ``[B, 64, 64, 3]`` in ``[0, 1]``; text conditioning from the tiny
CLIP ``[B, 256, 32]`` (T5 pads to 256 tokens) with ``pooled_output [B, 32]``.

Video: a tiny Wan 2.1 text-to-video model (5-D latents ``[B, 16, T, h, w]``, text
``[B, 8, 32]``) and a VAE with ComfyUI's Wan 2.1 VAE architecture at width 8 (latent frames
``T`` -> ``4 (T - 1) + 1`` frames, 8x in space).
"""

from __future__ import annotations

from typing import Any

import torch

# Tiny FLUX (ComfyUI's own `comfy.ldm.flux.model.Flux`): 16 latent channels, patch 2,
# hidden 64 = 2 heads x 32 (rope axes 8 + 12 + 12), one double and one single block.
TINY_FLUX_CONFIG: dict[str, Any] = {
    "image_model": "flux",
    "in_channels": 16,
    "out_channels": 16,
    "patch_size": 2,
    "vec_in_dim": 32,
    "context_in_dim": 32,
    "hidden_size": 64,
    "mlp_ratio": 2.0,
    "num_heads": 2,
    "depth": 1,
    "depth_single_blocks": 1,
    "axes_dim": [8, 12, 12],
    "theta": 10000,
    "qkv_bias": True,
    "guidance_embed": False,
}
TEXT_TOKENS = 5
FLUX_VARIANTS = ("schnell", "dev")

# Tiny text encoders with FLUX's interfaces: T5 hidden = FLUX context_in_dim, CLIP-L
# hidden = FLUX vec_in_dim (FLUX takes CLIP-L's pooled output). Vocabularies stay full size
# because ComfyUI's real tokenizers produce the ids.
TINY_CLIP_L_CONFIG = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_attention_heads": 2,
    "num_hidden_layers": 2,
    "projection_dim": 32,
}
TINY_T5_CONFIG = {"d_model": 32, "d_ff": 64, "d_kv": 16, "num_heads": 2, "num_layers": 1}

# taef1 latent scale and shift, as ComfyUI's VAELoader sets them for "taef1".
TAEF1_SCALE, TAEF1_SHIFT = 0.3611, 0.1159


def init_parameters(module: torch.nn.Module, seed: int) -> None:
    """Give every parameter a defined value (ComfyUI's ops skip init: memory is garbage).

    Matrices and conv kernels ``N(0, 1/fan_in)``; norm scales (``*scale``, and ``*norm*.weight``
    vectors) ``1 + N(0, 0.1^2)``; other vectors ``N(0, 0.1^2)``. Deterministic in ``seed`` (a
    CPU generator, parameter order).
    """
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.ndim >= 2:
                fan_in = p[0].numel()
                value = torch.randn(p.shape, generator=gen) / fan_in**0.5
            elif name.endswith("scale") or ("norm" in name and name.endswith("weight")):
                value = 1.0 + 0.1 * torch.randn(p.shape, generator=gen)
            else:
                value = 0.1 * torch.randn(p.shape, generator=gen)
            p.copy_(value.to(p.dtype))


def build_tiny_flux(seed: int = 0, variant: str = "schnell") -> Any:
    """A ``ModelPatcher`` around a tiny random FLUX model on the CPU (float32).

    ``variant="schnell"``: ComfyUI's ``supported_models.FluxSchnell`` (model type ``FLOW``:
    ``CONST`` prediction, ``ModelSamplingDiscreteFlow`` shift 1, no guidance input).
    ``variant="dev"``: ``supported_models.Flux`` (model type ``FLUX``,
    ``ModelSamplingFlux`` shift 1.15, guidance embedding read from ``FluxGuidance``).
    """
    import comfy.model_management as mm
    import comfy.model_patcher
    import comfy.supported_models

    if variant not in FLUX_VARIANTS:
        raise ValueError(f"variant={variant!r}: use one of {FLUX_VARIANTS}")
    unet_config = dict(TINY_FLUX_CONFIG, guidance_embed=variant == "dev")
    config_cls = comfy.supported_models.FluxSchnell
    if variant == "dev":
        config_cls = comfy.supported_models.Flux
    config = config_cls(unet_config)
    config.set_inference_dtype(torch.float32, None)
    model = config.get_model({}, "", device=torch.device("cpu"))
    init_parameters(model, seed)
    return comfy.model_patcher.ModelPatcher(
        model, load_device=mm.get_torch_device(), offload_device=mm.unet_offload_device()
    )


def tiny_conditioning(seed: int = 0, batch: int = 1) -> list:
    """FLUX-style CONDITIONING: text tokens ``[B, 5, 32]`` + ``pooled_output [B, 32]``."""
    gen = torch.Generator().manual_seed(seed)
    context = torch.randn(batch, TEXT_TOKENS, TINY_FLUX_CONFIG["context_in_dim"], generator=gen)
    pooled = torch.randn(batch, TINY_FLUX_CONFIG["vec_in_dim"], generator=gen)
    return [[context, {"pooled_output": pooled}]]


def build_tiny_flux_clip(seed: int = 0) -> Any:
    """A ComfyUI ``CLIP`` with FLUX's text-encoder pair (CLIP-L + T5), tiny and float32.

    Uses ComfyUI's real FLUX tokenizers and encoder classes, so ``CLIPTextEncode``,
    ``CLIPTextEncodeFlux`` and ``FluxGuidance`` work on it unchanged and different prompts
    give different conditioning: ``[1, 256, 32]`` tokens + ``pooled_output [1, 32]``.
    """
    import comfy.sd
    import comfy.supported_models_base
    import comfy.text_encoders.flux

    target = comfy.supported_models_base.ClipTarget(
        comfy.text_encoders.flux.FluxTokenizer, comfy.text_encoders.flux.flux_clip()
    )
    options = {
        "dtype": torch.float32,
        "clip_l_model_config": dict(TINY_CLIP_L_CONFIG),
        "t5xxl_model_config": dict(TINY_T5_CONFIG),
    }
    clip = comfy.sd.CLIP(target=target, model_options=options)
    init_parameters(clip.cond_stage_model, seed)
    return clip


def tiny_vae_modules(seed: int = 0) -> dict[str, torch.nn.Module]:
    """taef1-layout encoder and decoder (ComfyUI's TAESD classes, 16 latent channels).

    Initialised by `init_parameters`, then the decoder's first conv is scaled by
    ``1 / TAEF1_SCALE``: the decoder multiplies latents by that scale first, which left
    images barely depending on the latent. Decoding ``N(0, 1)`` latents gives images with
    mean ~0.43 and std ~0.39 (about a fifth of the values clamped at each end of ``[0, 1]``).
    """
    import comfy.taesd.taesd as taesd

    encoder = taesd.Encoder(latent_channels=16)
    decoder = taesd.Decoder(latent_channels=16)
    init_parameters(encoder, seed)
    init_parameters(decoder, seed + 1)
    with torch.no_grad():
        decoder[1].weight.div_(TAEF1_SCALE)
    return {"encoder": encoder, "decoder": decoder}


def tiny_vae_state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    """A whole-VAE state dict in the layout ``comfy.sd.VAE`` detects as TAESD (taef1).

    Keys ``taesd_encoder.*``, ``taesd_decoder.*``, ``vae_scale``, ``vae_shift``: the file
    a user's ``ae.safetensors`` slot can hold for tests, loaded by the real ``VAELoader``.
    """
    parts = tiny_vae_modules(seed)
    sd = {f"taesd_encoder.{k}": v for k, v in parts["encoder"].state_dict().items()}
    sd.update({f"taesd_decoder.{k}": v for k, v in parts["decoder"].state_dict().items()})
    sd["vae_scale"] = torch.tensor(TAEF1_SCALE)
    sd["vae_shift"] = torch.tensor(TAEF1_SHIFT)
    return {k: v.detach().clone().contiguous() for k, v in sd.items()}


def build_tiny_vae(seed: int = 0) -> Any:
    """A ComfyUI ``VAE`` (taef1 layout, CPU): ``[B, 16, h, w]`` latents <-> ``[B, 8h, 8w, 3]``."""
    import comfy.sd

    vae = comfy.sd.VAE(sd=tiny_vae_state_dict(seed))
    vae.throw_exception_if_invalid()
    return vae


TINY_WAN_CONFIG = {
    "image_model": "wan2.1", "model_type": "t2v", "patch_size": (1, 2, 2), "text_len": 8,
    "in_dim": 16, "dim": 64, "ffn_dim": 128, "freq_dim": 256, "text_dim": 32, "out_dim": 16,
    "num_heads": 2, "num_layers": 1, "window_size": (-1, -1), "qk_norm": True,
    "cross_attn_norm": True, "eps": 1e-6,
}  # fmt: skip


def build_tiny_wan(seed: int = 0) -> Any:
    """A tiny Wan 2.1 T2V ``ModelPatcher`` (CPU, float32; ComfyUI's ``WAN21_T2V`` config)."""
    import comfy.model_management as mm
    import comfy.model_patcher
    import comfy.supported_models

    config = comfy.supported_models.WAN21_T2V(dict(TINY_WAN_CONFIG))
    config.set_inference_dtype(torch.float32, None)
    model = config.get_model({}, "", device=torch.device("cpu"))
    init_parameters(model, seed)
    return comfy.model_patcher.ModelPatcher(
        model, load_device=mm.get_torch_device(), offload_device=mm.unet_offload_device()
    )


def build_tiny_wan_vae(seed: int = 0) -> Any:
    """A ComfyUI ``VAE`` recognised as Wan 2.1's (3-D latents, 4x time, 8x space) whose
    model is ComfyUI's Wan 2.1 VAE class at width 8 instead of 96 (the release fixes 96)."""
    import comfy.ldm.wan.vae
    import comfy.model_patcher
    import comfy.sd

    layout = {"z_dim": 16, "dim_mult": [1, 2, 4, 4], "attn_scales": [], "dropout": 0.0,
              "temperal_downsample": [False, True, True]}  # fmt: skip
    key = "decoder.middle.0.residual.0.gamma"  # what ComfyUI detects a Wan 2.1 VAE by
    with torch.device("meta"):
        shape = comfy.ldm.wan.vae.WanVAE(dim=96, num_res_blocks=2, **layout).state_dict()[key].shape
    vae = comfy.sd.VAE(sd={key: torch.ones(shape)})
    tiny = comfy.ldm.wan.vae.WanVAE(dim=8, num_res_blocks=1, **layout).eval().requires_grad_(False)
    init_parameters(tiny, seed)
    vae.first_stage_model = tiny
    vae.patcher = comfy.model_patcher.ModelPatcher(
        tiny, load_device=vae.device, offload_device=vae.patcher.offload_device
    )
    return vae
