"""nanochat: train, quantize, run, evaluate and serve 1.58-bit ternary language models that write Rust."""

__version__ = "0.1.0"
