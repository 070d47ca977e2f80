"""Test support for the verifier tests: tiny checkpoints in the real layouts, shared checks.

Importable as ``support`` from the verifier tests (pytest puts ``tests/verifiers`` on
``sys.path``) and, from a development checkout, as ``flowsearch.tests.verifiers.support``
(e.g. from the ComfyUI host tests, to build tiny verifier folders; see
`tiny_models.write_tiny_checkpoint`).
"""
