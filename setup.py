"""setuptools shim: the only thing pyproject.toml cannot say is cffi's `cffi_modules` build hook."""

from setuptools import setup

setup(cffi_modules=[])
