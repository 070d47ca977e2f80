"""`FlowSearch_FlowSearch`: budgeted particle search as a drop-in for SamplerCustomAdvanced.

The node checks everything it can before any model call (flow model, prompt, the method's
sampling settings for this model), then calls ``guider.sample`` with a KSAMPLER running the
core's `search_flow` (see `search_run`), and finally decodes the best samples and all final
candidates with the main VAE, scores them with the held-out verifier if one is connected,
and writes the JSON report and the reward-vs-NFE plot.
"""

from __future__ import annotations

import time

import comfy.model_management
import comfy.utils
import torch
from comfy_api.latest import io
from comfy_execution.utils import get_executing_context

from ..verifiers import reward_from_verifier
from . import live
from .autograd import autograd_allowed, make_autograd_ready, modules_of, normal_copy
from .catalog_search import FLOW_SEARCH
from .comfy_model import model_facts, require_flow_model
from .comfy_schema import SpecNode
from .methods import resolve
from .outputs import decode_outputs, held_out_scores, plot_image, search_report
from .progress import ProgressSink
from .report import EventLog
from .search_io import LatentDecoder, prepare_latent
from .search_run import SearchJob, search_sampler
from .verifier_use import check_prompt

NODE = "FlowSearch Flow Search"
KEEP_DECODED_BYTES = 512 * 2**20  # recent reward decodes kept for the outputs (512 MB)


class FlowSearchFlowSearch(SpecNode):
    """Search the connected method over the NFE budget; outputs the best samples."""

    SPEC = FLOW_SEARCH

    @classmethod
    def execute(
        cls,
        noise,
        guider,
        sigmas: torch.Tensor,
        latent_image: dict,
        vae,
        verifier,
        prompt: str,
        method,
        nfe_budget: int,
        max_particles: int,
        held_out_verifier=None,
        cheap_vae=None,
    ) -> io.NodeOutput:
        start = time.perf_counter()
        context = get_executing_context()
        node_id = None if context is None else context.node_id
        model = guider.model_patcher
        require_flow_model(model, NODE)
        text = check_prompt(verifier, prompt, NODE)
        resolved = resolve(method, model_facts(model))
        latent = prepare_latent(latent_image, model)
        initial_noise = noise.generate_noise(latent)
        if not bool(initial_noise.abs().sum() > 0):
            raise ValueError(
                f"{NODE}: the NOISE input gives no noise (DisableNoise?). The search draws its "
                "own noise per particle from the NOISE seed and starts from a clean latent; "
                "connect a RandomNoise node"
            )
        items = latent["samples"].shape[0]
        decoder = LatentDecoder(cheap_vae or vae, model, max_particles, KEEP_DECODED_BYTES)
        reward = reward_from_verifier(verifier, decoder, text)
        job = SearchJob(resolved, reward, nfe_budget, max_particles, items)
        progress = ProgressSink(model, items, nfe_budget, node_id)
        log = EventLog(items)
        panel = live.panel_sink(job.controls, model=model, cheap_vae=cheap_vae, chunk=max_particles)
        job.sinks += [progress, log, panel]
        guided = resolved.guidance_scale > 0
        if guided:  # see autograd.py: ComfyUI's weights are inference tensors
            reward_vae = cheap_vae or vae
            make_autograd_ready([model.model, reward_vae.first_stage_model, *modules_of(verifier)])
        search_start = time.perf_counter()
        with autograd_allowed(guided):
            samples = guider.sample(
                normal_copy(initial_noise) if guided else initial_noise,
                normal_copy(latent["samples"]) if guided else latent["samples"],
                search_sampler(job),
                sigmas,
                denoise_mask=normal_copy(latent.get("noise_mask")),
                callback=None,
                disable_pbar=not comfy.utils.PROGRESS_BAR_ENABLED,
                seed=noise.seed,
            )
        if comfy.model_management.processing_interrupted():
            progress.send_final_preview()
            comfy.model_management.throw_exception_if_processing_interrupted()
        search_seconds = time.perf_counter() - search_start
        results = [r for r in job.results if r is not None]
        best_images, candidates, decode_seconds = decode_outputs(results, vae, decoder)
        held_out, held_seconds = held_out_scores(held_out_verifier, best_images, candidates, text)
        out = latent.copy()
        out["samples"] = samples.to(comfy.model_management.intermediate_device())
        report = search_report(
            resolved=resolved,
            seed=int(noise.seed),
            nfe_budget=nfe_budget,
            max_particles=max_particles,
            prompt=text,
            verifier=verifier,
            results=results,
            reward=reward,
            decoder=decoder,
            held_out=held_out,
            seconds={
                "search": search_seconds,
                "outputs_decode": decode_seconds,
                "held_out": held_seconds,
                "total": time.perf_counter() - start,
            },
        )
        panel.report(report)
        plot = plot_image(log.series, nfe_budget)
        return io.NodeOutput(out, best_images, torch.cat(candidates), report, plot)
