"""The tiny experiment that the experiment tests train: the `runway init` example cut down."""

from tiny_example import tiny_example

TINY_CONFIG = tiny_example(epochs=2)
