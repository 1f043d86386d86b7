"""setuptools shim: the only thing pyproject.toml cannot say is cffi's `cffi_modules` build hook."""

from setuptools import setup

# native/build.py: the one C library (ternary kernels + the engine's heads, norms, attention and layer stack, cffi API
# mode) -> nanochat_cli.kernels._native
setup(cffi_modules=["native/build.py:ffibuilder"])
