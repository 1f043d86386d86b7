"""Recipe loading: sections -> dataclasses, dotted overrides typed by field, errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from nanochat_cli.errors import NanochatError
from nanochat_cli.recipes import SECTIONS, data_key, describe_recipe, load_recipe, model_config, recipe_from_dict

RECIPES = Path(__file__).resolve().parents[2] / "recipes"


def test_overrides_are_parsed_to_the_field_type():
    r = recipe_from_dict({}, [
        "train.steps=12", "optimizer.matrix_lr=3e-2", "guard.enabled=false", "data.sources=debian,/tmp/x",
        "data.debian_packages=[\"librust-a-dev\"]", "checkpoint.dir=runs/x y", "loss.entropy_lambda=1",
    ])
    assert r.train.steps == 12 and isinstance(r.train.steps, int)
    assert r.optimizer.matrix_lr == 0.03
    assert r.guard.enabled is False
    assert r.data.sources == ["debian", "/tmp/x"]
    assert r.data.debian_packages == ["librust-a-dev"]
    assert r.checkpoint.dir == "runs/x y"
    assert r.loss.entropy_lambda == 1.0 and isinstance(r.loss.entropy_lambda, float)


@pytest.mark.parametrize(
    "d, overrides, match",
    [
        ({"trian": {}}, [], r"unknown recipe section \[trian\]; valid sections: model, data"),
        ({"train": {"step": 3}}, [], r"'train.step'; valid keys in \[train\]: steps"),
        ({"train": {"steps": "10"}}, [], r"'train.steps' must be int"),
        ({"guard": {"enabled": 1}}, [], r"'guard.enabled' must be bool"),
        ({"guard": {"action": "panic"}}, [], r"'guard.action' is 'panic'; valid choices: warn, lower_lr, stop"),
        ({}, ["train.steps=ten"], r"'train.steps' must be int"),
        ({}, ["steps=10"], r"section.key=value"),
        ({}, ["model.d_modle=64"], r"unknown recipe key 'model.d_modle'; valid keys: size, .*d_model"),
        ({"model": {"d_model": "wide"}}, [], r"'model.d_model' must be int"),
        ({"train": {"batch_size": 0}}, [], r"'train.batch_size' must be > 0"),
        ({"data": {"sources": []}}, [], r"data.sources' is empty"),
        ({}, ["schedule.warmup_steps=-1"], r"'schedule.warmup_steps' must be >= 0, got -1"),
        ({}, ["optimizer.matrix_lr=nan"], r"'optimizer.matrix_lr' must be >= 0, got nan"),
        ({}, ["schedule.min_lr_ratio=1.5"], r"'schedule.min_lr_ratio' must be in \[0, 1\]"),
        ({}, ["optimizer.muon_momentum=2"], r"'optimizer.muon_momentum' must be in \[0, 1\), got 2.0"),
    ],
)
def test_bad_recipes_name_the_key(d, overrides, match):
    with pytest.raises(NanochatError, match=match):
        recipe_from_dict(d, overrides)


def test_model_section_selects_a_named_config_and_overrides_it():
    r = recipe_from_dict({"model": {"size": "tiny", "n_layers": 3}, "data": {"vocab_size": 1000}}, ["model.ternary=false"])
    cfg = model_config(r)
    assert (cfg.n_layers, cfg.vocab_size, cfg.ternary) == (3, 1000, False)
    with pytest.raises(NanochatError, match="unknown model config 'huge'"):
        model_config(recipe_from_dict({"model": {"size": "huge"}}))


def test_data_key_depends_on_the_data_section_only():
    a = recipe_from_dict({}, ["train.steps=5"])
    b = recipe_from_dict({}, ["train.steps=9", "data.cache_dir=/elsewhere"])
    c = recipe_from_dict({}, ["data.vocab_size=5000"])
    assert data_key(a.data) == data_key(b.data) != data_key(c.data)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(NanochatError, match="not found"):
        load_recipe(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[train\nsteps = 1\n")
    with pytest.raises(NanochatError, match="not valid TOML"):
        load_recipe(bad)


@pytest.mark.parametrize("name", ["tiny.toml", "stable_v2.toml", "nano_125m.toml"])
def test_shipped_recipes_load_and_build_their_model_config(name):
    r = load_recipe(RECIPES / name)
    cfg = model_config(r)
    assert cfg.vocab_size == r.data.vocab_size
    assert r.train.seq_len <= cfg.max_seq_len


def test_every_key_is_documented():
    text = describe_recipe()
    for section in SECTIONS:
        assert f"[{section}]" in text
    assert "entropy_lambda" in text and "nats" in text
