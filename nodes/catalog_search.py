"""Specs of the search nodes: Flow Search, Score Images, Verifier Ensemble.

Pure data (never imports ComfyUI); the node classes build their schemas from these.
"""

from __future__ import annotations

from .spec import Field, NodeSpec, Output

METHOD_TYPE = "FLOWSEARCH_METHOD"
VERIFIER_TYPE = "VERIFIER"
PROMPT_TIP = (
    "What the verifier checks the images against (it may differ from the conditioning "
    "text, e.g. a counting spec or the text to render). Ignored by verifiers that take no "
    "prompt (aesthetic, safety)."
)

FLOW_SEARCH = NodeSpec(
    node_id="FlowSearch_FlowSearch",
    display_name="FlowSearch Flow Search",
    category="FlowSearch/search",
    description=(
        "Inference-time search for flow models: a drop-in for SamplerCustomAdvanced that "
        "spends an NFE budget (one NFE = one particle through the model) on the connected "
        "method's particle search, scoring x0 estimates with the verifier, and returns the "
        "best sample. Conditioning, CFG, FLUX guidance, LoRAs and noise_mask come from the "
        "GUIDER exactly as in SamplerCustomAdvanced."
    ),
    inputs=(
        Field("noise", "NOISE", "Its seed seeds the search (batch item b uses seed + b)."),
        Field("guider", "GUIDER", "The model with conditioning and CFG (e.g. BasicGuider)."),
        Field(
            "sigmas",
            "SIGMAS",
            "Model times t (1 = noise), e.g. BasicScheduler or FlowSearch Time Schedule. "
            "Starting below 1 (denoise < 1) searches from the input latent noised to the first "
            "sigma.",
        ),
        Field("latent_image", "LATENT", "Start latent; batch B gives B independent searches."),
        Field(
            "vae",
            "VAE",
            "Decodes the final images (and intermediate ones unless a cheap VAE is given).",
        ),
        Field("verifier", VERIFIER_TYPE, "The reward model the search maximises."),
        Field("prompt", "STRING", PROMPT_TIP, "", multiline=True),
        Field("method", METHOD_TYPE, "A FlowSearch method node (best-of-N, RBF, SMC, ...)."),
        Field(
            "nfe_budget",
            "INT",
            "NFEs per batch item: model evaluations of one particle each (CFG's two passes "
            "count as one). Never exceeded; methods state their minimum for the SIGMAS.",
            100,
            min=1,
            max=100000,
        ),
        Field(
            "max_particles",
            "INT",
            "Most particles per model call (memory). Results do not depend on it beyond the "
            "model's own floating-point batch effects.",
            8,
            min=1,
            max=4096,
        ),
        Field(
            "held_out_verifier",
            VERIFIER_TYPE,
            "Optional: a second verifier the search never sees; the report gives its scores "
            "of the returned images (does search over-fit the reward?).",
            optional=True,
        ),
        Field(
            "cheap_vae",
            "VAE",
            "Optional: a cheap decoder for intermediate rewards (e.g. TAEF1 from "
            "models/vae_approx). Final images always use the main VAE.",
            optional=True,
        ),
    ),
    outputs=(
        Output("best_latent", "LATENT", "The best sample per batch item (at the last sigma)."),
        Output("best_image", "IMAGE", "The best sample per batch item, decoded by the main VAE."),
        Output(
            "candidates", "IMAGE", "All final candidates, best first (batch item 0, then 1, ...)."
        ),
        Output("report", "STRING", "JSON: method, settings, seed, NFE, rewards, timings, trace."),
        Output("plot", "IMAGE", "Reward vs NFE: best so far (lines) and populations (dots)."),
    ),
)

SCORE_IMAGES = NodeSpec(
    node_id="FlowSearch_ScoreImages",
    display_name="FlowSearch Score Images",
    category="FlowSearch/verifiers",
    description=(
        "Rank any batch of images with a verifier: returns the batch sorted best first, the "
        "best image, and the scores (FLOAT list, best first, and a JSON string with each "
        "image's index in the input batch)."
    ),
    inputs=(
        Field("images", "IMAGE", "Images to rank (any batch, e.g. from KSampler + VAE Decode)."),
        Field("verifier", VERIFIER_TYPE, "The verifier that scores them (higher is better)."),
        Field("prompt", "STRING", PROMPT_TIP, "", multiline=True),
    ),
    outputs=(
        Output("sorted_images", "IMAGE", "The batch, best first."),
        Output("best_image", "IMAGE", "The highest-scoring image."),
        Output("scores", "FLOAT", "Scores, best first (one per image).", is_list=True),
        Output("scores_json", "STRING", "JSON list of {index, score}, best first."),
    ),
)


def _member(i: int, optional: bool) -> tuple[Field, Field]:
    return (
        Field(
            f"verifier_{i}",
            VERIFIER_TYPE,
            f"Member {i} of the ensemble" + (" (optional)." if optional else "."),
            optional=optional,
        ),
        Field(
            f"weight_{i}",
            "FLOAT",
            f"Weight of member {i}; negative turns it into a penalty (e.g. safety).",
            1.0,
            min=-100.0,
            max=100.0,
            step=0.05,
        ),
    )


ENSEMBLE = NodeSpec(
    node_id="FlowSearch_VerifierEnsemble",
    display_name="FlowSearch Verifier Ensemble",
    category="FlowSearch/verifiers",
    description=(
        "Combine 2-4 verifiers into one: rank = weighted mean rank within the scored batch; "
        "zscore = weighted sum of scores standardised within the batch. Both are relative to "
        "the batch scored together (see the docs for which methods accept that)."
    ),
    inputs=(
        *_member(1, False),
        *_member(2, False),
        *_member(3, True),
        *_member(4, True),
        Field(
            "mode",
            "COMBO",
            "rank: mean rank (robust to scale, not differentiable). zscore: weighted sum of "
            "per-batch standardised scores (differentiable when all members are).",
            "rank",
            options=("rank", "zscore"),
        ),
    ),
    outputs=(Output("verifier", VERIFIER_TYPE, "The ensemble, usable wherever a VERIFIER is."),),
)
