"""The verified (snippet) corpus: decontamination by signature and body, FIM, tokenizer reuse, prepare end to end."""

from __future__ import annotations

import json
import random
import sys
import types

import numpy as np
import pytest

from nanochat_cli.data import prepare as prepare_mod
from nanochat_cli.data.decontaminate import SnippetDecontaminator
from nanochat_cli.data.fim import FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX, FimDocument, apply_fim, fim_split
from nanochat_cli.data.prepare import prepare_data
from nanochat_cli.data.snippet import Snippet
from nanochat_cli.errors import NanochatError
from tests.data.rustc import needs_rustc
from tests.data.synthetic import make_corpus, tiny_recipe

EVAL_PROMPT = (
    "/// Return the number of vowels in the given string.\n/// >>> vowels_count(String::from(\"abcde\"))\n/// 2\n"
    "fn vowels_count(s: String) -> isize {\n"
)
EVAL_TESTS = (
    "}\n\nfn main() {\n    let candidate = vowels_count;\n    assert_eq!(candidate(String::from(\"abcde\")), 2);\n"
    "    assert_eq!(candidate(String::from(\"Alone\")), 3);\n}\n"
)



def test_snippet_decontamination_by_signature_alone_and_by_normalized_body():
    d = SnippetDecontaminator([EVAL_PROMPT], [EVAL_TESTS])
    # the signature without its doc text, reformatted
    assert d.is_contaminated("pub fn vowels_count(s:String)->isize{\n    s.len() as isize\n}\nfn main() {}\n")
    # the test body, re-indented, comments added, under another function name
    body = ("fn main() {\n  // checks\n  let candidate = my_count;\n"
            "  assert_eq!( candidate(String::from(\"abcde\")), 2 );\n  assert_eq!(candidate(String::from(\"Alone\")), 3);\n}\n")
    assert d.is_contaminated("fn my_count(s: String) -> isize { 0 }\n" + body)
    # one long assert line alone is enough
    assert d.is_contaminated('fn main() {\n    assert_eq!(candidate(String::from("Alone")), 3);\n}\n')
    # same name, other signature; short common code: clean
    assert not d.is_contaminated("fn vowels_count(s: &str) -> usize {\n    0\n}\nfn main() {\n    let x = 1 + 2;\n}\n")


def test_fim_pieces_concatenate_back_to_the_document():
    rng = random.Random(3)
    for n in (0, 1, 7, 200):
        text = "".join(rng.choice("fn main() {}\n\u00e9") for _ in range(n))
        f = fim_split(text, random.Random(n))
        assert f.document() == text
        assert f.psm_text() == FIM_PREFIX + f.prefix + FIM_SUFFIX + f.suffix + FIM_MIDDLE + f.middle
    docs = [f"fn f{i}() {{}}\n" for i in range(400)]
    out = apply_fim(docs, 0.5, seed=1)
    assert out == apply_fim(docs, 0.5, seed=1)  # seeded
    n_fim = sum(isinstance(d, FimDocument) for d in out)
    assert 150 < n_fim < 250
    assert [d if isinstance(d, str) else d.document() for d in out] == docs
    assert apply_fim(docs, 0.0, seed=1) == docs


# ---- prepare end to end, on a stub "synthetic" source ----


def _program(i: int) -> str:
    return f"/// Square plus {i}.\nfn square_plus_{i}(x: i64) -> i64 {{\n    x * x + {i}\n}}\n\nfn main() {{\n" \
           f"    assert_eq!(square_plus_{i}(3), {9 + i});\n}}\n"


def _stub_programs(n: int, seed: int) -> list[Snippet]:
    good = [Snippet("synthetic", f"family{i % 4}", "bin", _program(i), f"stub#{i}") for i in range(n)]
    bad = [Snippet("synthetic", "family0", "bin", 'fn main() {\n    let x: u32 = "no";\n}\n', "stub#bad")]
    dup = [Snippet("synthetic", "family1", "bin", "// a comment\n" + _program(0).replace("    ", "  "), "stub#dup")]
    planted = [Snippet("synthetic", "family2", "bin",
                       "fn vowels_count(s: String) -> isize {\n    0\n}\nfn main() {\n    vowels_count(String::new());\n}\n", "stub#eval")]
    return good + bad + dup + planted


@pytest.fixture
def stub_synthetic(monkeypatch):
    monkeypatch.setitem(sys.modules, "nanochat_cli.data.synthetic_rust",
                        types.SimpleNamespace(synthetic_programs=_stub_programs, FAMILIES=("family0", "family1")))
    monkeypatch.setattr(prepare_mod, "evaluation_prompts", lambda: [EVAL_PROMPT])
    monkeypatch.setattr(prepare_mod, "evaluation_bodies", lambda: [EVAL_TESTS])


def _snippet_recipe(tmp_path, *overrides):
    return tiny_recipe(tmp_path / "unused", tmp_path / "cache", overrides=[
        'data.sources=["synthetic"]', "data.synthetic_programs=12", "data.verify_jobs=2", "data.verify_timeout=10",
        "data.val_fraction=0.3", *overrides])


@needs_rustc
def test_prepare_builds_a_verified_corpus_split_by_group(tmp_path, stub_synthetic):
    p = prepare_data(_snippet_recipe(tmp_path), show_progress=False)
    st = p.manifest["snippets"]["synthetic"]
    assert st["candidates"] == 15
    assert st["duplicates"] == {"exact": 0, "normalized": 1}
    assert st["decontaminated"] == 1
    assert st["verified"] == {"OK": 12, "SyntaxError": 1}
    assert st["compiled"] == 12 and st["yield"] == round(12 / 13, 4)
    assert st["groups"]["train"] >= 1 and st["groups"]["val"] >= 1
    assert st["tokens"]["train"] + st["tokens"]["val"] == sum(p.manifest["tokens"].values())
    records = [json.loads(line) for line in (p.dir / "verify.jsonl").read_text().splitlines()]
    assert len(records) == 13 and {r["status"] for r in records} == {"OK", "SyntaxError"}
    # the shards hold exactly the passing programs, each group on one side
    tok = p.tokenizer()
    sides, order = {}, {}
    for split in ("train", "val"):
        ids = np.asarray(p.tokens(split))
        docs = [tok.decode(d[:-1].tolist()) for d in np.split(ids, np.flatnonzero(ids == 0) + 1)[:-1]]
        for d in docs:
            i = int(d.split("square_plus_")[1].split("(")[0])
            assert d == _program(i)
            assert sides.setdefault(i % 4, split) == split
            order.setdefault(split, []).append(i)
    assert len(sides) == 4
    # in a seeded shuffle, not the generator's order (where a program's renamed copy would follow it)
    assert order["train"] != sorted(order["train"])
    assert prepare_data(_snippet_recipe(tmp_path), show_progress=False).dir == p.dir  # reused


def test_the_generator_families_enter_the_cache_key(tmp_path, stub_synthetic, monkeypatch):
    recipe = _snippet_recipe(tmp_path, "data.verify=false")
    before = prepare_mod.data_dir(recipe)
    monkeypatch.setattr(sys.modules["nanochat_cli.data.synthetic_rust"], "FAMILIES", ("family0", "family1", "new"))
    assert prepare_mod.data_dir(recipe) != before  # new families draw other programs: another corpus


def test_copies_enter_the_cache_key_only_when_asked_for(tmp_path, stub_synthetic):
    plain = prepare_mod.data_dir(_snippet_recipe(tmp_path, "data.verify=false"))
    assert prepare_mod.data_dir(_snippet_recipe(tmp_path, "data.verify=false", "data.retyped_copies=0")) == plain
    assert prepare_mod.data_dir(_snippet_recipe(tmp_path, "data.verify=false", "data.renamed_copies=0")) == plain
    retyped = prepare_mod.data_dir(_snippet_recipe(tmp_path, "data.verify=false", "data.retyped_copies=1"))
    renamed = prepare_mod.data_dir(_snippet_recipe(tmp_path, "data.verify=false", "data.renamed_copies=1"))
    assert prepare_mod.data_dir(_snippet_recipe(tmp_path, "data.verify=false", "data.doc_examples=0.0")) == plain
    doc = prepare_mod.data_dir(_snippet_recipe(tmp_path, "data.verify=false", "data.doc_examples=0.5"))
    assert len({plain, retyped, renamed, doc}) == 4


@pytest.mark.parametrize("key", ["fim_rate", "doc_examples"])
def test_shares_outside_0_1_are_refused_by_name(tmp_path, stub_synthetic, key):
    with pytest.raises(NanochatError, match=f"data.{key}"):
        prepare_data(_snippet_recipe(tmp_path, "data.verify=false", f"data.{key}=1.5"), show_progress=False)


def test_tokenizer_from_reuses_the_ids_and_enters_the_cache_key(tmp_path, stub_synthetic):
    corpus = make_corpus(tmp_path / "src", n_crates=4, files_per_crate=2)
    first = tiny_recipe(corpus, tmp_path / "cache")
    (tmp_path / "first.toml").write_text(
        f'[data]\nsources = ["{corpus}"]\ncache_dir = "{tmp_path / "cache"}"\nvocab_size = 400\nmin_file_bytes = 10\nval_fraction = 0.3\n')
    stage2 = _snippet_recipe(tmp_path, "data.verify=false", f'data.tokenizer_from={tmp_path / "first.toml"}')
    p2 = prepare_data(stage2, show_progress=False)  # prepares first.toml's data on the way
    p1 = prepare_data(first, show_progress=False)
    assert p2.tokenizer_path.read_bytes() == p1.tokenizer_path.read_bytes()
    assert p2.manifest["tokenizer"]["sha256"] == p1.manifest["hashes"]["tokenizer.json"]
    # a directory or the file itself give the same corpus directory
    for spec in (p1.dir, p1.tokenizer_path):
        again = _snippet_recipe(tmp_path, "data.verify=false", f'data.tokenizer_from={spec}')
        assert prepare_data(again, show_progress=False).manifest["tokenizer"]["sha256"] == p2.manifest["tokenizer"]["sha256"]
    # another tokenizer with the same spec string must not reuse the directory
    other = tmp_path / "other" / "tokenizer.json"
    other.parent.mkdir()
    other.write_bytes(p1.tokenizer_path.read_bytes() + b" ")  # the same vocabulary, another file hash
    r = _snippet_recipe(tmp_path, "data.verify=false", f'data.tokenizer_from={other.parent}')
    assert prepare_data(r, show_progress=False).dir != prepare_data(
        _snippet_recipe(tmp_path, "data.verify=false", f'data.tokenizer_from={p1.dir}'), show_progress=False).dir


def test_tokenizer_from_errors_are_one_line(tmp_path, stub_synthetic):
    with pytest.raises(NanochatError, match="holds no tokenizer.json"):
        prepare_data(_snippet_recipe(tmp_path, f'data.tokenizer_from={tmp_path}'), show_progress=False)
    with pytest.raises(NanochatError, match="recipe .*nope.toml not found"):
        prepare_data(_snippet_recipe(tmp_path, f'data.tokenizer_from={tmp_path / "nope.toml"}'), show_progress=False)


def test_fim_rate_writes_control_tokens_into_train_only(tmp_path, stub_synthetic):
    p = prepare_data(_snippet_recipe(tmp_path, "data.verify=false", "data.fim_rate=1.0"), show_progress=False)
    tok = p.tokenizer()
    prefix_id = tok.token_to_id(FIM_PREFIX)
    train, val = np.asarray(p.tokens("train")), np.asarray(p.tokens("val"))
    assert (train == prefix_id).sum() == p.manifest["documents"]["train"]
    assert (val == prefix_id).sum() == 0
    assert not list(p.dir.parent.glob("*.tmp-*"))  # nothing half built left behind
