"""Problem sets, the stop-token cut and program assembly (checked against MultiPL-E's own rules)."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nanochat_cli.errors import NanochatError
from nanochat_cli.rust.problems import (
    Problem,
    assemble_program,
    cut_at_stop_tokens,
    eval_prompts_for_decontamination,
    load_problem_file,
    load_problem_set,
    problem_set_hash,
)


def multiple_e_program(problem: dict, raw_completion: str) -> str:
    """MultiPL-E's pipeline written out independently: regex cut at the earliest stop token, then
    `prompt + completion + "\\n" + tests` (evaluation/src/main.py, cached_eval_script)."""
    m = re.search("|".join(re.escape(s) for s in problem["stop_tokens"]), raw_completion)
    completion = raw_completion[: m.start()] if m else raw_completion
    return problem["prompt"] + completion + "\n" + problem["tests"]


SEED_PROMPTS = [  # the seed project's 16 prompts, verbatim and in its order
    "fn factorial(n: u64) -> u64 {", "fn is_palindrome(s: &str) -> bool {", "fn reverse_string(s: String) -> String {",
    "struct Point { x: f64, y: f64 }", "enum Color { Red, Green, Blue }", "impl Point {",
    "fn find_duplicates(arr: &[i32]) -> Vec<i32> {", "fn merge_sorted(a: Vec<i32>, b: Vec<i32>) -> Vec<i32> {",
    "fn read_file(path: &str) -> Result<String, std::io::Error> {", "fn parse_int(s: &str) -> Option<i32> {",
    "fn sum_squares(nums: &[i32]) -> i32 {", "fn filter_even(nums: Vec<i32>) -> Vec<i32> {",
    "async fn fetch_data(url: &str) -> Result<String, Box<dyn std::error::Error>> {", "trait Parser {",
    "impl ToString for Point {", "macro_rules! vec_of_strings {",
]


def test_seed16_is_the_seeds_prompts_verbatim():
    seed = load_problem_set("seed16")
    assert [p.prompt for p in seed] == SEED_PROMPTS
    assert all(p.kind == "compile" and p.tests == "}\n" for p in seed)
    by_prompt = {p.prompt: p for p in seed}
    for prompt in ("impl Point {", "impl ToString for Point {"):  # Point is declared where the model cannot see it
        assert by_prompt[prompt].preamble == "struct Point { x: f64, y: f64 }\n\n"
    assert [p.prompt for p in seed if p.edition] == [SEED_PROMPTS[12]] and by_prompt[SEED_PROMPTS[12]].edition == "2018"
    assert sum(bool(p.preamble) for p in seed) == 2


def test_builtin_sets_load_with_unique_names_and_references():
    basic = load_problem_set("rust-basic")
    seed = load_problem_set("seed16")
    extra = load_problem_set("seed16-extra")
    assert len(seed) == 16 and len(extra) == 10 and all(p.kind == "compile" for p in seed + extra)
    assert 20 <= len(basic) <= 30 and all(p.kind == "tested" for p in basic)
    for p in basic + seed + extra:
        assert p.reference is not None and "\n}" not in p.reference  # the cut must not shorten a reference
        assert p.stop_tokens == ("\n}",)
    assert len({p.name for p in basic + seed + extra}) == len(basic) + len(seed) + len(extra)
    assert {"seed16_factorial", "seed16_impl_point", "seed16_trait_parser", "seed16_macro_vec_of_strings"} <= {
        p.name for p in seed
    }
    assert not {p.prompt for p in extra} & set(SEED_PROMPTS)


def test_builtin_tested_set_is_multiple_e_shaped():
    for p in load_problem_set("rust-basic"):
        assert p.prompt.rstrip("\n").endswith("{")
        assert p.tests.startswith("}\n\nfn main() {\n    let candidate = ")
        assert "assert_eq!(candidate(" in p.tests


@given(st.text(alphabet="ab}\n{ ", max_size=40), st.lists(st.text(alphabet="ab}\n", min_size=1, max_size=3), min_size=1, max_size=3))
def test_cut_at_stop_tokens_is_the_prefix_before_the_earliest_stop(text, stops):
    cut = cut_at_stop_tokens(text, stops)
    assert text.startswith(cut)
    m = re.search("|".join(re.escape(s) for s in stops), text)
    assert cut == (text[: m.start()] if m else text)
    assert not any(s in cut for s in stops)  # an occurrence inside the cut would be an earlier stop


def test_cut_examples():
    assert cut_at_stop_tokens("    x + 1\n}\n\nfn main() {}\n", ["\n}"]) == "    x + 1"
    assert cut_at_stop_tokens("    x + 1\n    }", ["\n}"]) == "    x + 1\n    }"
    assert cut_at_stop_tokens("a\nfn b\n}", ["\n}", "\nfn"]) == "a"
    assert cut_at_stop_tokens("", ["\n}"]) == ""


def test_assembly_matches_multiple_e_on_every_humaneval_problem(humaneval_path):
    records = json.loads(humaneval_path.read_text())
    problems = load_problem_file(humaneval_path)
    assert len(problems) == len(records) == 156
    completions = [
        "    todo!()\n}\n\nfn helper() -> i32 {\n    1\n}\n",  # model keeps going after the function
        "    let mut v = Vec::new();\n    for i in 0..3 {\n        v.push(i);\n    }\n    unimplemented!()",  # no stop
        "\n}",  # stops at once
        "",
    ]
    for rec, p in zip(records, problems):
        assert p.name == rec["name"] and p.preamble == ""
        for c in completions:
            assert assemble_program(p, c) == multiple_e_program(rec, c)


def test_load_jsonl_and_json_list_agree(tmp_path, mbpp_path):
    lines = mbpp_path.read_text().splitlines()[:5]
    jsonl = tmp_path / "five.jsonl"
    jsonl.write_text("\n".join(lines) + "\n")
    as_list = tmp_path / "five.json"
    as_list.write_text(json.dumps([json.loads(x) for x in lines], indent=2))
    a, b = load_problem_file(jsonl), load_problem_file(as_list)
    assert a == b and len(a) == 5
    assert problem_set_hash(a) == problem_set_hash(b)


def test_edition_is_validated_and_hashed_only_when_set(tmp_path):
    f = tmp_path / "e.json"
    f.write_text('[{"name": "a", "prompt": "p", "tests": "t", "edition": "2019"}]')
    with pytest.raises(NanochatError, match="edition '2019'"):
        load_problem_file(f)
    p = Problem("a", "async fn a() {", "}\n", kind="compile")
    assert problem_set_hash([p]) != problem_set_hash([Problem(**{**p.__dict__, "edition": "2018"})])
    canon = [{"name": "a", "prompt": "async fn a() {", "tests": "}\n", "stop_tokens": ["\n}"], "kind": "compile",
              "preamble": ""}]  # a set without editions hashes as it did before the field existed
    blob = json.dumps(canon, sort_keys=True, ensure_ascii=True, separators=(",", ":")).encode()
    assert problem_set_hash([p]) == hashlib.sha256(blob).hexdigest()


def test_problem_set_hash_changes_with_the_tests():
    ps = load_problem_set("rust-basic")
    changed = [Problem(p.name, p.prompt, p.tests.replace("5", "6"), p.stop_tokens) if i == 0 else p for i, p in enumerate(ps)]
    assert problem_set_hash(ps) == problem_set_hash(load_problem_set("rust-basic"))
    assert problem_set_hash(changed) != problem_set_hash(ps)


@pytest.mark.parametrize(
    "content, message",
    [
        ('[{"name": "a", "prompt": "fn a() {"}]', "lacks tests"),
        ("{not json\n", "not valid JSON"),
        ('[{"name": "a", "prompt": "p", "tests": "t", "stop_tokens": [""]}]', "bad stop_tokens"),
        ('[{"name": "a", "prompt": "p", "tests": "t"}, {"name": "a", "prompt": "p", "tests": "t"}]', "unique"),
        ("[]", "no problems"),
    ],
)
def test_bad_problem_files_are_one_line_errors(tmp_path, content, message):
    f = tmp_path / "bad.json"
    f.write_text(content)
    with pytest.raises(NanochatError, match=message):
        load_problem_file(f)


def test_unknown_set_names_the_choices():
    with pytest.raises(NanochatError, match="rust-basic, seed16"):
        load_problem_set("no-such-set")


def test_missing_multiple_dir_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("NANOCHAT_MULTIPLE_DIR", str(tmp_path))
    with pytest.raises(NanochatError, match="NANOCHAT_MULTIPLE_DIR"):
        load_problem_set("humaneval-rs")


def test_decontamination_prompts_cover_builtin_and_local_multiple(humaneval_path, mbpp_path):
    prompts = eval_prompts_for_decontamination()
    assert load_problem_set("seed16")[0].prompt in prompts
    assert load_problem_set("rust-basic")[-1].prompt in prompts
    assert json.loads(humaneval_path.read_text())[0]["prompt"] in prompts
    assert len(prompts) == 26 + 16 + 10 + 156 + 355


def test_decontamination_without_multiple_files_returns_builtins(tmp_path, monkeypatch):
    monkeypatch.setenv("NANOCHAT_MULTIPLE_DIR", str(tmp_path))
    assert len(eval_prompts_for_decontamination()) == 26 + 16 + 10


def test_binary_files_given_as_eval_inputs_are_one_line_errors(tmp_path):
    from nanochat_cli.evaluate.report import load_results
    from nanochat_cli.evaluate.completion_sources import CompletionsFileSource

    f = tmp_path / "binary.jsonl"
    f.write_bytes(b"\x7fELF\x02\x01\x01\x00\xd0\xff\xfe")
    with pytest.raises(NanochatError, match="not UTF-8"):
        load_problem_file(f)
    with pytest.raises(NanochatError, match="not UTF-8"):
        CompletionsFileSource(f)
    with pytest.raises(NanochatError, match="not valid JSON"):
        load_results(f)
