"""`python -m nanochat_cli.model`: the named model sizes and their parameters (ternary / full precision / mHC)."""

from nanochat_cli.model.config import parameter_table

print(parameter_table())
