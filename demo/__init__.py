"""The FlowSearch demo and its project-trained Fashion-MNIST models.

``python -m flowsearch.demo`` runs the search demo (`demo.cli`). The models it uses:

* a small unconditional flow-matching U-Net on the linear path (t = 1 noise), exposed as a
  FlowSearch denoiser: ``flow_denoiser(load_flow_model())(x, t) -> x0_hat``;
* classifier A (the verifier the search optimises): ``classifier_reward(load_classifier("a"), c)``;
* classifier B (the held-out judge and the Fréchet-distance feature space): ``load_classifier("b")``.

Images are ``[B, 1, 32, 32]`` in [-1, 1] (28x28 padded with background). The weights ship
in ``weights/`` (see ``MODEL_CARD.md``); data come from Debian's ``dataset-fashion-mnist``.
The training scripts are in the repository's ``training/`` folder, not in the package.
"""

from .cli import main, parse_class
from .data import CLASS_NAMES, load_fashion_mnist, to_model_space, to_unit_range
from .models import classifier_reward, flow_denoiser, load_classifier, load_flow_model

__all__ = [
    "CLASS_NAMES",
    "classifier_reward",
    "flow_denoiser",
    "load_classifier",
    "load_fashion_mnist",
    "load_flow_model",
    "main",
    "parse_class",
    "to_model_space",
    "to_unit_range",
]
