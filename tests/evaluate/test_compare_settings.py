"""`nanochat eval compare` warns when the two runs differ in any generation or scoring setting."""

from __future__ import annotations

import copy

from nanochat_cli.evaluate.report import compare_results, setting_differences


def results(**config) -> dict:
    cfg = {"problems": "rust-basic", "mode": "multipl-e", "jobs": 2, "cache": True, "n_samples": 1,
           "temperature": 0.2, "top_p": 0.95, "max_tokens": 512, "seed": 0, "token_healing": True, **config}
    return {
        "created": "2026-12-06T00:00:00+00:00", "source": {"kind": "file"}, "config": cfg,
        "problem_set": {"sha256": "abc"},
        "sandbox": {"mode": cfg["mode"], "edition": "2015", "rustc": "rustc 1.85.0", "isolation": "none",
                    "limits": {"compile_timeout_s": 15.0, "run_timeout_s": 5.0}, "sandbox_version": 3},
        "summary": {"compile_rate": 0.5, "non_trivial_compile_rate": 0.5, "pass_rate": 0.5, "pass_at_k": {"1": 0.5},
                    "ast_means": {"cyclomatic": 1.0, "unwrap_calls": 0.0, "lines": 3.0}, "error_codes": {}},
        "problems": [],
    }


def test_identical_settings_give_no_warning_even_with_other_jobs_cache_or_path():
    a, b = results(), results(jobs=8, cache=False, problems="/elsewhere/rust-basic.json")
    assert setting_differences(a, b) == [] and compare_results(a, b)["warnings"] == []


def test_each_generation_setting_is_named_with_both_values():
    a = results()
    for key, value in (("temperature", 0.8), ("top_p", 1.0), ("max_tokens", 128), ("seed", 7),
                       ("token_healing", False)):
        b = results(**{key: value})
        assert setting_differences(a, b) == [f"{key} {a['config'][key]} vs {value}"]
        (warning,) = compare_results(a, b)["warnings"]
        assert "generation or scoring settings" in warning and f"{key} " in warning


def test_scoring_settings_mode_sandbox_and_limits_are_compared():
    a = results()
    b = copy.deepcopy(a)
    b["config"]["mode"] = "2021"
    b["sandbox"]["rustc"] = "rustc 1.90.0"
    b["sandbox"]["limits"]["run_timeout_s"] = 10.0
    assert setting_differences(a, b) == ["mode multipl-e vs 2021", "sandbox rustc rustc 1.85.0 vs rustc 1.90.0",
                                         "limits.run_timeout_s 5.0 vs 10.0"]


def test_n_samples_keeps_its_pass_at_k_note_and_a_key_new_to_one_file_counts():
    a, b = results(), results(n_samples=4)
    warnings = compare_results(a, b)["warnings"]
    assert any("n_samples 1 vs 4" in w for w in warnings) and any("pass@k is compared only" in w for w in warnings)
    del a["config"]["token_healing"]  # a file written before the setting existed
    assert "token_healing (absent) vs True" in setting_differences(a, results())
