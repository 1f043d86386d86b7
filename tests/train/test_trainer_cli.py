"""`nanochat train` / `nanochat data prepare` from the shell: DDP under torchrun, signals, one-line errors."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from nanochat_cli.formats.checkpoint_dir import list_checkpoints
from tests.cli_helpers import in_process, one_error_line
from tests.data.synthetic import make_corpus, tiny_recipe
from tests.train.run_helpers import REPO, nanochat, read_metrics, write_recipe


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    return make_corpus(root / "src", n_crates=6, files_per_crate=4), root / "cache"


@pytest.mark.slow  # one real subprocess (a fresh torch import: ~5-15 s on a busy machine)
def test_bad_recipe_key_is_one_line_error(tmp_path, capsys, monkeypatch):
    bad = tmp_path / "bad.toml"
    bad.write_text("[train]\nstpes = 10\n")
    one_error_line(nanochat("train", str(bad)), "unknown recipe key 'train.stpes'")  # one real subprocess
    one_error_line(in_process(capsys, monkeypatch, "data", "prepare", str(REPO / "recipes" / "tiny.toml"),
                               "--set", "data.vocab_size=big"), "'data.vocab_size' must be int")


def test_missing_data_source_is_one_line_error(tmp_path, capsys, monkeypatch):
    recipe = write_recipe(tiny_recipe(tmp_path / "no-such-dir", tmp_path / "cache"), tmp_path / "r.toml")
    one_error_line(in_process(capsys, monkeypatch, "data", "prepare", str(recipe)), "is not a directory")
    (tmp_path / "empty").mkdir()
    recipe = write_recipe(tiny_recipe(tmp_path / "empty", tmp_path / "cache"), tmp_path / "r2.toml")
    one_error_line(in_process(capsys, monkeypatch, "train", str(recipe)), "no Rust sources found")


def test_unwritable_checkpoint_dir_is_one_line_error(corpus, tmp_path, capsys, monkeypatch):
    src, cache = corpus
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")  # root can write anywhere; a file in the path cannot be a directory
    recipe = write_recipe(tiny_recipe(src, cache, blocker / "run"), tmp_path / "r.toml")
    one_error_line(in_process(capsys, monkeypatch, "train", str(recipe)), "is not writable")


@pytest.mark.slow
def test_two_process_ddp_matches_one_process_with_the_same_global_batch(corpus, tmp_path):
    src, cache = corpus
    # fp32: the comparison is about DDP's arithmetic; bf16 autocast (the CPU default where the CPU has it) rounds
    # the two batch splits differently at ~1e-5
    one = write_recipe(tiny_recipe(src, cache, tmp_path / "one", train={"batch_size": 4, "dtype": "fp32"}), tmp_path / "one.toml")
    two = write_recipe(tiny_recipe(src, cache, tmp_path / "two", train={"batch_size": 2, "dtype": "fp32"}), tmp_path / "two.toml")
    p1 = nanochat("train", str(one), "--json")
    assert p1.returncode == 0, p1.stderr
    p2 = nanochat("train", str(two), "--json", torchrun=2)
    assert p2.returncode == 0, p2.stderr[-3000:]
    a, b = read_metrics(tmp_path / "one"), read_metrics(tmp_path / "two")
    assert [r["step"] for r in a] == [r["step"] for r in b] == list(range(1, 7))
    # step 1 runs the same weights on the same windows: equal up to the order of the mean reduction
    assert b[0]["loss"] == pytest.approx(a[0]["loss"], rel=1e-6)
    assert b[0]["grad_norm"] == pytest.approx(a[0]["grad_norm"], rel=1e-5)
    # later steps: torch.optim.Muon orthogonalizes in bf16, so a 1e-7 difference in the all-reduced gradient
    # can round an update element differently (2^-8 relative), and a changed weight can flip a trit; measured:
    # float twin within 1e-5, ternary within 3e-4 after 6 steps
    for ra, rb in zip(a, b):
        assert rb["loss"] == pytest.approx(ra["loss"], rel=2e-3), ra["step"]
        assert rb["entropy"] == pytest.approx(ra["entropy"], rel=2e-3)
    assert b[-1]["val_loss"] == pytest.approx(a[-1]["val_loss"], rel=2e-3)
    assert '"world_size": 2' in p2.stdout


@pytest.mark.slow
def test_ranks_stop_together_when_the_time_budget_is_spent(corpus, tmp_path):
    """Rank 0's clock decides for both ranks: a budget spent by the first step ends the run there on both (a rank
    that went on alone would wait in the next all-reduce until the timeout)."""
    src, cache = corpus
    recipe = write_recipe(tiny_recipe(src, cache, tmp_path / "run", train={"batch_size": 2, "time_budget_s": 1e-3}),
                          tmp_path / "r.toml")
    p = nanochat("train", str(recipe), "--json", torchrun=2)
    assert p.returncode == 0, p.stderr[-3000:]
    assert '"stopped": "time_budget"' in p.stdout and '"step": 1,' in p.stdout
    recs = read_metrics(tmp_path / "run")
    assert [r["step"] for r in recs] == [1] and recs[0]["val_loss"] is not None
    assert [c.name for c in list_checkpoints(tmp_path / "run")] == ["step_0000001"]


@pytest.mark.slow
def test_sigterm_writes_a_checkpoint_and_exits_cleanly(corpus, tmp_path):
    src, cache = corpus
    r = tiny_recipe(src, cache, tmp_path / "run", train={"steps": 100000})
    recipe = write_recipe(r, tmp_path / "r.toml")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "nanochat_cli.cli", "train", str(recipe)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    metrics = tmp_path / "run" / "metrics.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and not (metrics.exists() and metrics.read_text().count("\n") >= 2):
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "stopped by signal (SIGTERM)" in err
    step = int(next(line.split()[1] for line in out.splitlines() if line.startswith("step ")))
    assert (tmp_path / "run" / f"step_{step:07d}" / "model.safetensors").is_file()
    assert read_metrics(tmp_path / "run")[-1]["step"] == step


@pytest.mark.slow  # one real subprocess
def test_train_to_a_pipe_writes_one_line_per_step_record(corpus, tmp_path):
    src, cache = corpus
    recipe = write_recipe(tiny_recipe(src, cache, tmp_path / "run"), tmp_path / "r.toml")
    proc = nanochat("train", str(recipe), "--set", "logging.progress=true", env_extra={"COLUMNS": "80"})
    assert proc.returncode == 0, proc.stderr
    steps = [line for line in proc.stderr.splitlines() if line.startswith("step ")]
    assert [line.split()[1] for line in steps] == [f"{i}/6" for i in range(1, 7)], proc.stderr
    for line in steps:  # each record whole on its own line: loss first, eta last, nothing wrapped onto the next
        assert re.fullmatch(r"step \d+/6  loss \d+\.\d+  .*MFU [\d.]+%  eta \d+s", line), line
    assert len(read_metrics(tmp_path / "run")) == 6
