"""``python -m flowsearch.demo``: the Fashion-MNIST search demo (see `flowsearch.demo.cli`)."""

from .cli import main

main()
