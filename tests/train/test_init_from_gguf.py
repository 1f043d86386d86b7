"""`train.init_from` a model file: a GGUF (the shipped model, an export) is a starting point like a checkpoint.

The file holds trits and scales, not the float weights they came from; the trainer rebuilds float weights that
ternarize back to exactly the file's, so the run starts from the very function the file computes."""

from __future__ import annotations

import pytest

from nanochat_cli.data.prepare import prepare_data
from nanochat_cli.errors import NanochatError
from nanochat_cli.formats.export import export_checkpoint, model_weights
from nanochat_cli.formats.model_file import load_model_weights
from nanochat_cli.model import TernaryLM
from nanochat_cli.train.checkpoint import load_initial_weights
from nanochat_cli.train.trainer import train
from tests.data.synthetic import make_corpus, tiny_recipe
from tests.train.run_helpers import assert_same_weights, read_metrics


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("gguf_init")
    src, cache = make_corpus(root / "src", n_crates=6, files_per_crate=4), root / "cache"
    recipe = tiny_recipe(src, cache, root / "base", overrides=["model.group_size=32"])
    train(recipe)
    gguf = export_checkpoint(root / "base", root / "base.gguf")
    return {"src": src, "cache": cache, "recipe": recipe, "gguf": gguf, "root": root}


def test_a_gguf_loads_into_the_training_model_bit_for_bit(exported):
    file = load_model_weights(exported["gguf"])
    model = TernaryLM(file.config)
    tokenizer = prepare_data(exported["recipe"], show_progress=False).tokenizer_path
    assert load_initial_weights(exported["gguf"], model, file.config.to_dict(), tokenizer) == exported["gguf"]
    # exported again, the model is the file: every trit, scale and float tensor identical
    assert_same_weights(file, model_weights(model, file.tokenizer_json))


def test_training_continues_from_a_gguf(exported):
    root = exported["root"]
    recipe = tiny_recipe(exported["src"], exported["cache"], root / "from_gguf",
                         overrides=["model.group_size=32", f"train.init_from={exported['gguf']}", "train.seed=7"])
    out = train(recipe)
    assert out["step"] == 6
    fresh = tiny_recipe(exported["src"], exported["cache"], root / "fresh", overrides=["model.group_size=32", "train.seed=7"])
    train(fresh)
    # the warm start begins where the base run ended, far below a fresh run's first loss
    warm, cold = read_metrics(root / "from_gguf"), read_metrics(root / "fresh")
    base = read_metrics(root / "base")
    assert warm[0]["loss"] < cold[0]["loss"]
    assert warm[0]["loss"] == pytest.approx(base[-1]["loss"], rel=0.25)


def test_a_gguf_of_another_shape_or_tokenizer_is_refused(exported, tmp_path):
    bad_shape = tiny_recipe(exported["src"], exported["cache"], tmp_path / "a",
                            overrides=["model.group_size=32", "model.d_model=32", f"train.init_from={exported['gguf']}"])
    with pytest.raises(NanochatError, match="differs from the file's in d_model"):
        train(bad_shape)
    other_corpus = make_corpus(tmp_path / "src2", n_crates=6, files_per_crate=4, seed=5)  # other merges, same size
    other_tokens = tiny_recipe(other_corpus, tmp_path / "cache2", tmp_path / "b",
                               overrides=["model.group_size=32", f"train.init_from={exported['gguf']}"])
    with pytest.raises(NanochatError, match="its tokenizer differs from this run's data"):
        train(other_tokens)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_a_missing_or_foreign_init_from_is_one_clear_error(exported, tmp_path):
    missing = tiny_recipe(exported["src"], exported["cache"], tmp_path / "a",
                          overrides=["model.group_size=32", f"train.init_from={tmp_path / 'nope.gguf'}"])
    with pytest.raises(NanochatError, match="nope.gguf does not exist; give a training run directory"):
        train(missing)
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"not a model file at all")
    foreign = tiny_recipe(exported["src"], exported["cache"], tmp_path / "b",
                          overrides=["model.group_size=32", f"train.init_from={junk}"])
    with pytest.raises(NanochatError, match="junk.gguf"):
        train(foreign)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
