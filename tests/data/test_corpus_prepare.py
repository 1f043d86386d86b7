"""The corpus pipeline end to end on a synthetic corpus: split by crate, decontamination, dedup, reuse."""

from __future__ import annotations

import json
import random
import shutil

import numpy as np
import pytest

from nanochat_cli.data import decontaminate
from nanochat_cli.data.corpus_sources import crate_name
from nanochat_cli.data.prepare import prepare_data
from nanochat_cli.errors import NanochatError
from tests.data.synthetic import make_corpus, rust_file, tiny_recipe

EVAL_PROMPT = (
    "/// Return the number of vowels in the given string, counting y only at the end.\n"
    "/// >>> vowels_count(String::from(\"abcde\"))\n/// 2\n"
    "fn vowels_count(s: String) -> isize {\n"
)


@pytest.fixture
def corpus(tmp_path):
    return make_corpus(tmp_path / "src", n_crates=6, files_per_crate=4)


@pytest.fixture
def eval_set(tmp_path, monkeypatch):
    """A stand-in evaluation set, so the test does not depend on the MultiPL-E files being present."""
    monkeypatch.setattr(decontaminate, "evaluation_prompts", lambda: [EVAL_PROMPT])
    import nanochat_cli.data.prepare as prepare_mod

    monkeypatch.setattr(prepare_mod, "evaluation_prompts", lambda: [EVAL_PROMPT])


def test_split_puts_every_crate_on_one_side_only(corpus, tmp_path, eval_set):
    # two versions of one crate must land on the same side
    shutil.copytree(corpus / "crate1-0.1.1", corpus / "crate1-0.2.0")
    for f in (corpus / "crate1-0.2.0" / "src").iterdir():
        f.write_text(rust_file(random.Random(f.name + "v2")))
    p = prepare_data(tiny_recipe(corpus, tmp_path / "cache"), show_progress=False)
    train, val = set(p.manifest["crates"]["train"]), set(p.manifest["crates"]["val"])
    assert train and val and not train & val
    assert train | val == {f"crate{i}" for i in range(6)}
    assert len(p.tokens("train")) == p.manifest["tokens"]["train"] > 0
    assert len(p.tokens("val")) == p.manifest["tokens"]["val"] > 0
    # the shards themselves, not just the manifest's lists: every document comes from a crate of its side
    crate_of = {f.read_text(): crate_name(f.relative_to(corpus).parts[0]) for f in corpus.rglob("*.rs")}
    tok = p.tokenizer()
    for split, names in (("train", train), ("val", val)):
        ids = np.asarray(p.tokens(split))
        docs = np.split(ids, np.flatnonzero(ids == 0) + 1)[:-1]
        assert len(docs) == p.manifest["files"][split]
        assert {crate_of[tok.decode(d[:-1].tolist())] for d in docs} <= names, split


def test_planted_eval_prompt_file_is_dropped(corpus, tmp_path, eval_set):
    planted = corpus / "crate2-0.1.2" / "src" / "planted.rs"
    # re-indented and with the body filled in: still the prompt's doc text and signature
    planted.write_text("use std::fmt;\n\n" + EVAL_PROMPT.replace("///", "    ///") + "    s.len() as isize\n}\n" + rust_file(random.Random(5)))
    innocent = corpus / "crate3-0.1.3" / "src" / "same_name.rs"
    innocent.write_text("/// Something else entirely.\nfn vowels_count(s: String) -> isize {\n    0\n}\n" + rust_file(random.Random(6)))
    p = prepare_data(tiny_recipe(corpus, tmp_path / "cache"), show_progress=False)
    deco = p.manifest["decontamination"]
    assert deco["dropped"] == 1
    assert deco["dropped_files"] == [str(planted)]


def test_real_multipl_e_prompt_is_caught():
    prompts = decontaminate._prompts_from_files()
    if not prompts:
        pytest.skip("MultiPL-E files not present (set NANOCHAT_MULTIPLE_DIR)")
    d = decontaminate.Decontaminator(prompts)
    assert d.count >= 500
    assert d.is_contaminated("// copied\n" + prompts[7] + "    todo!()\n}\n")
    assert not d.is_contaminated(rust_file(random.Random(1)))


def test_reformatted_eval_prompt_is_still_caught():
    """Not rustfmt'd (`->isize{`) and the doc moved into a `/** * */` block: the same prompt to a reader."""
    d = decontaminate.Decontaminator([EVAL_PROMPT])
    sig = EVAL_PROMPT.rstrip().splitlines()[-1]
    doc = [line.strip().removeprefix("///").strip() for line in EVAL_PROMPT.splitlines()
           if line.strip().startswith("///")]
    block = "/**\n" + "".join(f" * {line}\n" for line in doc) + " */\n"
    squeezed = sig.replace(" -> ", "->").replace(") {", "){").replace(", ", ",")
    assert d.is_contaminated(block + squeezed + "\n    0\n}\n")
    assert not d.is_contaminated("/** Something else. */\n" + squeezed + "\n    0\n}\n")


def test_bare_signatures_are_counted_as_written():
    """A prompt without doc text is indexed when its signature, as rustfmt spaces it, is long enough: removing
    the spaces at punctuation for matching must not drop it (`fn max_element(v: &[i32]) -> Option<i32> {`)."""
    prompt = "fn max_element(v: &[i32]) -> Option<i32> {\n"
    assert len(prompt.strip()) >= decontaminate.MIN_BARE_SIGNATURE
    d = decontaminate.Decontaminator([prompt])
    assert d.count == 1
    assert d.is_contaminated("pub " + prompt.replace(" -> ", "->") + "    v.iter().max().copied()\n}\n")


def test_exact_and_near_duplicates_are_removed(corpus, tmp_path, eval_set):
    src = corpus / "crate0-0.1.0" / "src" / "m0.rs"
    text = src.read_text()
    (corpus / "crate4-0.1.4" / "src" / "copy.rs").write_text(text + "\n\n")  # exact up to trailing blank lines
    near = text.replace("acc.wrapping_mul", "acc.wrapping_mul", 1).replace("pub struct", "pub(crate) struct", 1)
    (corpus / "crate5-0.1.5" / "src" / "near.rs").write_text(near)
    p = prepare_data(tiny_recipe(corpus, tmp_path / "cache"), show_progress=False)
    assert p.manifest["duplicates"] == {"exact": 1, "near": 1}


def test_rerun_reuses_the_built_corpus_and_a_new_data_section_rebuilds(corpus, tmp_path, eval_set):
    r = tiny_recipe(corpus, tmp_path / "cache")
    first = prepare_data(r, show_progress=False)
    stamp = (first.dir / "train.bin").stat().st_mtime_ns
    again = prepare_data(r, show_progress=False)
    assert again.dir == first.dir and (again.dir / "train.bin").stat().st_mtime_ns == stamp
    other = prepare_data(tiny_recipe(corpus, tmp_path / "cache", overrides=["data.vocab_size=420"]), show_progress=False)
    assert other.dir != first.dir
    manifest = json.loads((first.dir / "manifest.json").read_text())
    assert set(manifest["hashes"]) == {"tokenizer.json", "train.bin", "val.bin"}
    assert manifest["bytes_per_token"]["train"] > 1.0


def test_a_corpus_cleaned_against_other_eval_prompts_is_rebuilt(corpus, tmp_path, eval_set, monkeypatch):
    import nanochat_cli.data.prepare as prepare_mod

    planted = corpus / "crate2-0.1.2" / "src" / "planted.rs"
    other_prompt = EVAL_PROMPT.replace("vowels_count", "consonants_count").replace("vowels", "consonants")
    planted.write_text(other_prompt + "    0\n}\n" + rust_file(random.Random(5)))
    r = tiny_recipe(corpus, tmp_path / "cache")
    first = prepare_data(r, show_progress=False)
    assert first.manifest["decontamination"]["dropped"] == 0
    # the evaluation set grows (e.g. the MultiPL-E files appear): the cached corpus is not reused as is
    monkeypatch.setattr(prepare_mod, "evaluation_prompts", lambda: [EVAL_PROMPT, other_prompt])
    again = prepare_data(r, show_progress=False)
    assert again.dir == first.dir
    assert again.manifest["decontamination"]["dropped_files"] == [str(planted)]
    assert prepare_data(r, show_progress=False).manifest == again.manifest  # and now it is reused


def test_shards_hold_the_tokenizer_encoding_with_eot_separators(corpus, tmp_path, eval_set):
    p = prepare_data(tiny_recipe(corpus, tmp_path / "cache", overrides=["data.val_fraction=0.2"]), show_progress=False)
    tok = p.tokenizer()
    ids = np.asarray(p.tokens("val"))
    assert ids.dtype == np.uint16
    docs = np.split(ids, np.flatnonzero(ids == 0) + 1)[:-1]
    assert len(docs) == p.manifest["files"]["val"]
    text = tok.decode(docs[0][:-1].tolist())
    assert "fn " in text


def test_no_sources_gives_how_to(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(NanochatError, match="no Rust sources found.*apt-get update.*rust-src"):
        prepare_data(tiny_recipe(tmp_path / "empty", tmp_path / "cache"), show_progress=False)


def test_missing_directory_source_names_it(tmp_path):
    with pytest.raises(NanochatError, match="nowhere.*not a directory"):
        prepare_data(tiny_recipe(tmp_path / "nowhere", tmp_path / "cache"), show_progress=False)
