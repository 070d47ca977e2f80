"""Exact test beds shared by tests and benchmarks (pure torch, no ComfyUI)."""

from .gaussian_mixture import GaussianMixture, example_mixture

__all__ = ["GaussianMixture", "example_mixture"]
