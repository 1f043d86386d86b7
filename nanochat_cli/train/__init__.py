"""Training: Muon + Lion, WSD schedule, validation, collapse guard, atomic checkpoints, torchrun DDP.

Run `nanochat train RECIPE.toml` (entry point: `nanochat_cli.train.trainer.train`); load a checkpoint with
`nanochat_cli.formats.checkpoint_dir.load_checkpoint_model(dir)`.
"""
