"""No command destroys what it was not asked to write: resumes stay in their run, outputs never replace a device,
FIFO, symlink or directory, bad paths fail before the work, a failed train leaves no run directory."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

import numpy as np
import pytest

from nanochat_cli.atomic_write import check_output_path, write_text_atomic
from nanochat_cli.errors import NanochatError
from nanochat_cli.recipes import load_recipe
from nanochat_cli.train.checkpoint import list_checkpoints, open_run_dir, resume_target
from nanochat_cli.train.trainer import train
from tests.cli_helpers import in_process, one_error_line
from tests.data.synthetic import make_corpus, tiny_recipe
from tests.train.run_helpers import nanochat, read_metrics, write_recipe

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A corpus, a recipe file whose checkpoint.dir is `tiny`, and a run made with --set checkpoint.dir=`other`
    that stopped at step 3 of 6 (the README's own advice for a second run)."""
    root = tmp_path_factory.mktemp("reliability")
    src, cache = make_corpus(root / "src", n_crates=6, files_per_crate=4), root / "cache"
    recipe_file = write_recipe(tiny_recipe(src, cache, root / "tiny"), root / "tiny.toml")
    train(load_recipe(recipe_file, [f"checkpoint.dir={root / 'other'}", "train.stop_at_step=3"]))
    return {"root": root, "src": src, "cache": cache, "recipe": recipe_file, "run": root / "other"}


def snapshot(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


# ---- resume ----


@pytest.mark.slow  # one real training subprocess (3 steps)
def test_resume_writes_only_into_the_resumed_run_and_clears_a_killed_write(base, tmp_path):
    other, tiny = tmp_path / "other", tmp_path / "tiny"
    shutil.copytree(base["run"], other)
    shutil.copytree(base["run"], tiny)  # stands in for the recipe's own run, which the resume must not touch
    recipe = write_recipe(tiny_recipe(base["src"], base["cache"], tiny), tmp_path / "tiny.toml")
    killed = other / ".step_0000005.tmp-4242"  # a kill -9 during a checkpoint write
    killed.mkdir()
    (killed / "model.safetensors").write_bytes(b"half")
    before = snapshot(tiny)

    proc = nanochat("train", str(recipe), "--resume", str(other))
    assert proc.returncode == 0, proc.stderr
    assert snapshot(tiny) == before
    assert [p.name for p in list_checkpoints(other)] == ["step_0000003", "step_0000006"]
    assert [r["step"] for r in read_metrics(other)] == [1, 2, 3, 4, 5, 6]
    assert not killed.exists()
    saved = json.loads((other / "step_0000006" / "config.json").read_text())
    assert saved["recipe"]["checkpoint"]["dir"] == str(other)  # the checkpoint records where it really lives


def test_resume_target_is_the_run_of_the_checkpoint_given(base):
    run = base["run"]
    step = run / "step_0000003"
    assert resume_target(run, "runs/tiny") == (step, run)
    assert resume_target(step, "runs/tiny") == (step, run)
    # a --set checkpoint.dir naming the same run (spelled differently) is fine
    assert resume_target(step, f"{run}/", ("checkpoint.dir",)) == (step, run)


@pytest.mark.slow  # one real subprocess
def test_resume_with_a_conflicting_checkpoint_dir_is_one_line_error(base, tmp_path):
    before = snapshot(base["run"])
    third = tmp_path / "third"
    proc = nanochat("train", str(base["recipe"]), "--resume", str(base["run"]), "--set", f"checkpoint.dir={third}")
    one_error_line(proc, "names another directory")
    assert not third.exists() and snapshot(base["run"]) == before


# ---- a failed train creates nothing ----


@pytest.mark.slow  # one real subprocess
def test_failed_train_creates_no_run_directory(base, tmp_path):
    (tmp_path / "empty").mkdir()
    run = tmp_path / "runs" / "new"
    recipe = write_recipe(tiny_recipe(tmp_path / "empty", tmp_path / "cache", run), tmp_path / "r.toml")
    one_error_line(nanochat("train", str(recipe)), "no Rust sources found")
    assert not run.exists() and not run.parent.exists()
    # a check that needs the prepared data and the built model (init_from of another shape) creates nothing either
    bad = tiny_recipe(base["src"], base["cache"], run, overrides=["model.n_layers=2", f"train.init_from={base['run']}"])
    with pytest.raises(NanochatError, match="differs from the checkpoint's in n_layers"):
        train(bad)
    assert not run.parent.exists()


def test_stale_temp_dirs_are_cleared_and_an_interrupted_rewrite_is_restored(tmp_path):
    run = tmp_path / "run"
    (run / ".step_0000004.tmp-123").mkdir(parents=True)  # a checkpoint a kill left half-written
    (run / ".step_0000004.tmp-123" / "optimizer.pt").write_bytes(b"x")
    (run / ".metrics.jsonl.tmp-123-abcd").write_text("{}")  # an atomic_write temp file
    (run / ".step_0000002.old-77").mkdir()  # killed between the two renames: the only copy of step 2
    (run / ".step_0000002.old-77" / "trainer_state.json").write_text("{}")
    (run / ".step_0000003.old-77").mkdir()  # killed after them: step 3 is in place, the old copy is garbage
    (run / "step_0000003").mkdir()
    (run / "step_0000003" / "trainer_state.json").write_text("{}")
    (run / "notes.txt").write_text("mine")
    removed = open_run_dir(run)
    assert sorted(p.name for p in run.iterdir()) == ["notes.txt", "step_0000002", "step_0000003"]
    assert set(removed) == {".step_0000004.tmp-123", ".metrics.jsonl.tmp-123-abcd", ".step_0000003.old-77"}


@pytest.mark.slow  # a 2-step training run in this process
def test_fresh_start_in_a_dir_holding_only_a_killed_write_cleans_it(base, tmp_path):
    run = tmp_path / "run"
    (run / ".step_0000002.tmp-999").mkdir(parents=True)
    train(tiny_recipe(base["src"], base["cache"], run, overrides=["train.steps=2"]))
    assert sorted(p.name for p in run.iterdir() if p.name.startswith((".", "step_"))) == ["step_0000002"]


@pytest.mark.parametrize("name", ["../../x", "/tmp/x", "sub/metrics.jsonl", "..", ".", "", "a\\b"])
def test_metrics_file_must_stay_inside_the_run(base, name):
    with pytest.raises(NanochatError, match="logging.metrics_file' must be a plain file name"):
        tiny_recipe(base["src"], base["cache"], overrides=[f"logging.metrics_file={name}"])


@pytest.mark.slow  # one real subprocess
def test_metrics_file_traversal_is_one_line_error(base, tmp_path):
    proc = nanochat("train", str(base["recipe"]), "--set", "logging.metrics_file=../../x")
    one_error_line(proc, "must be a plain file name inside checkpoint.dir")


# ---- writers never replace special files, and check their path before the work ----


def _special_targets(tmp_path: Path) -> dict[str, Path]:
    targets = {}
    os.mkfifo(tmp_path / "fifo")
    targets["FIFO"] = tmp_path / "fifo"
    (tmp_path / "real.txt").write_text("keep me")
    (tmp_path / "link").symlink_to(tmp_path / "real.txt")
    targets["symbolic link"] = tmp_path / "link"
    (tmp_path / "adir").mkdir()
    (tmp_path / "adir" / "inside").write_text("keep me")
    targets["directory"] = tmp_path / "adir"
    if IS_ROOT and Path("/dev/full").exists() and stat.S_ISCHR(os.lstat("/dev/full").st_mode):
        targets["character device"] = Path("/dev/full")  # the reported case: root turned it into a file
    return targets


def _assert_untouched(targets: dict[str, Path], tmp_path: Path) -> None:
    assert stat.S_ISFIFO(os.lstat(targets["FIFO"]).st_mode)
    assert targets["symbolic link"].is_symlink() and (tmp_path / "real.txt").read_text() == "keep me"
    assert (targets["directory"] / "inside").read_text() == "keep me"
    if "character device" in targets:
        assert stat.S_ISCHR(os.lstat("/dev/full").st_mode)
    assert not [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name]


def _writers(base) -> dict[str, tuple[list[str], str]]:
    """Each output-writing command: (arguments before the output path, the function it must not reach)."""
    ckpt = str(base["run"] / "step_0000003")
    return {
        "export": (["export", ckpt, "-o"], "nanochat_cli.formats.export.checkpoint_weights"),
        "quantize": (["quantize", ckpt, "-o"], "nanochat_cli.formats.quantize.iter_safetensors"),
        "eval": (["eval", "--reference", "--problems", "rust-basic", "-o"], "nanochat_cli.evaluate.command.run_eval"),
        "bench-kernels": (["bench-kernels", "--shapes", "64x128", "--threads", "1", "--batch", "1", "--json"],
                          "nanochat_cli.kernels.command.run_bench"),
    }


def _forbid(monkeypatch, target: str) -> None:
    def must_not_run(*a, **k):
        raise AssertionError(f"{target} ran although the output path was refused")

    monkeypatch.setattr(target, must_not_run)


@pytest.mark.parametrize("writer", ["export", "quantize", "eval", "bench-kernels"])
def test_every_writer_refuses_special_files_before_the_work(writer, base, tmp_path, capsys, monkeypatch):
    args, work = _writers(base)[writer]
    _forbid(monkeypatch, work)
    targets = _special_targets(tmp_path)
    for kind, target in targets.items():
        proc = in_process(capsys, monkeypatch, *args, str(target))
        one_error_line(proc, f"is a {kind}")
    _assert_untouched(targets, tmp_path)


@pytest.mark.parametrize("writer", ["export", "quantize", "eval", "bench-kernels"])
def test_every_writer_refuses_a_missing_or_unwritable_directory_before_the_work(writer, base, tmp_path, capsys,
                                                                               monkeypatch):
    args, work = _writers(base)[writer]
    _forbid(monkeypatch, work)
    one_error_line(in_process(capsys, monkeypatch, *args, str(tmp_path / "missing" / "out")), "does not exist")
    assert not (tmp_path / "missing").exists()
    if Path("/proc/self").is_dir():  # not writable even by root
        one_error_line(in_process(capsys, monkeypatch, *args, "/proc/nanochat-out"), "is not writable")


def test_the_gguf_writer_itself_refuses_special_files(tmp_path):
    from nanochat_cli.formats.gguf_io import write_gguf

    targets = _special_targets(tmp_path)
    for kind, target in targets.items():
        with pytest.raises(NanochatError, match=f"is a {kind}"):
            write_gguf(target, [("w", np.zeros((4, 4), np.float32))], {})
    _assert_untouched(targets, tmp_path)


@pytest.mark.slow  # one real subprocess
def test_export_to_a_fifo_is_one_line_error_from_the_shell(base, tmp_path):
    os.mkfifo(tmp_path / "fifo")
    one_error_line(nanochat("export", str(base["run"]), "-o", str(tmp_path / "fifo")), "is a FIFO")
    assert stat.S_ISFIFO(os.lstat(tmp_path / "fifo").st_mode)


def test_outputs_get_the_users_umask_not_0600(base, tmp_path, capsys, monkeypatch):
    old = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "a.json", "{}")
        proc = in_process(capsys, monkeypatch, "export", str(base["run"]), "-o", str(tmp_path / "m.gguf"))
        assert proc.returncode == 0, proc.stderr
    finally:
        os.umask(old)
    for name in ("a.json", "m.gguf"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "m.gguf"]  # no temp file left behind


def test_checkpoints_results_and_curves_follow_the_umask(tmp_path):
    import torch

    from nanochat_cli.evaluate.report import write_results
    from nanochat_cli.train.checkpoint import save_checkpoint
    from nanochat_cli.train.plot import write_curves

    (tmp_path / "tokenizer.json").write_text("{}")
    model = torch.nn.Linear(2, 2)
    old = os.umask(0o027)  # not the usual 022, so a hard-coded mode cannot pass by chance
    try:
        ckpt = save_checkpoint(tmp_path / "run", 1, model, {}, {}, tmp_path / "tokenizer.json",
                               [torch.optim.SGD(model.parameters(), lr=0.1)], {}, keep=2)
        write_results({"x": 1}, tmp_path / "results.json")
        write_curves([{"step": 1, "loss_window": 1.0}], tmp_path / "curves.png")
    finally:
        os.umask(old)
    assert stat.S_IMODE(ckpt.stat().st_mode) == 0o750
    files = [*ckpt.iterdir(), tmp_path / "results.json", tmp_path / "curves.png"]
    assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in files} == {f.name: 0o640 for f in files}


def test_replacing_an_existing_regular_file_is_allowed(tmp_path):
    out = tmp_path / "r.json"
    out.write_text("old")
    assert check_output_path(out) == out
    write_text_atomic(out, "new")
    assert out.read_text() == "new"
