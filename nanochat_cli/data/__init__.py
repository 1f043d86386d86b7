"""Rust corpus for training: sources, filters, dedup, decontamination, BPE tokenizer, token shards.

Run `nanochat data prepare RECIPE.toml` (entry point: `nanochat_cli.data.prepare.prepare_data`).
"""
