"""setuptools shim: the only thing pyproject.toml cannot say is cffi's `cffi_modules` build hook."""

from setuptools import setup

# native/build.py: the ternary kernels (C, cffi API mode) -> nanochat_cli.kernels._native
# nanochat_cli/infer/ops_build.py: the engine's int8 head and fused RMSNorm + quantization -> nanochat_cli.infer._ops
setup(cffi_modules=["native/build.py:ffibuilder", "nanochat_cli/infer/ops_build.py:ffibuilder"])
