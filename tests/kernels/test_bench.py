"""`nanochat bench-kernels` prints its table and writes JSON whose figures hang together (no timing asserts)."""

import json
from pathlib import Path

import pytest

from nanochat_cli.errors import NanochatError
from nanochat_cli.kernels import available_kernels, bench
from nanochat_cli.kernels.bench import parse_counts, parse_shapes


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setattr(bench, "TARGET_SECONDS", 0.005)
    monkeypatch.setattr(bench, "COLD_BYTES", 4 << 20)
    monkeypatch.setattr(bench, "DRAM_PROBE_BYTES", 4 << 20)


@pytest.mark.parametrize("cold", [False, True])
def test_bench_rows_cover_every_kernel_thread_and_batch(quick, cold):
    report = bench.run_bench([(64, 256)], [1, 2], [1, 3], cold=cold)
    kernels = available_kernels()
    assert len(report.rows) == len(kernels) * 2 * 2
    for r in report.rows:
        assert r.mode == ("cold" if cold else "hot")
        assert r.median_us > 0 and r.gops > 0 and r.roofline_gbs > 0
        assert r.gops == pytest.approx(2 * 64 * 256 * r.batch / (r.median_us * 1e-6) / 1e9, rel=1e-9)
        assert r.vs_scalar is not None and r.vs_numpy is not None
    for t in (1, 2):
        for n in (1, 3):
            group = [r for r in report.rows if r.threads == t and r.batch == n]
            assert sum(r.picked for r in group) == 1
            assert next(r for r in group if r.kernel == "scalar").vs_scalar == pytest.approx(1.0)


def test_cli_prints_table_and_writes_json(quick, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    from nanochat_cli.kernels.command import BenchOptions, bench_command

    out = tmp_path / "bench.json"
    bench_command(BenchOptions("64x128", "1", "1", False, out, None, numpy_baseline=False))
    printed = capsys.readouterr().out
    assert "64x128" in printed and "GOPS" in printed
    data = json.loads(out.read_text())
    assert {r["kernel"] for r in data["rows"]} == set(available_kernels())
    assert data["machine"]["numa_nodes"] >= 1 and data["probes"]["hot_read_gbs"]


@pytest.mark.parametrize("text", ["4096", "4096x", "axb", "64x100", "0x128", "64x128,"])
def test_bad_shapes_are_rejected(text):
    with pytest.raises(NanochatError, match="shape"):
        parse_shapes(text)


@pytest.mark.parametrize("text", ["", "0", "1,x", "99"])
def test_bad_thread_lists_are_rejected(text):
    with pytest.raises(NanochatError, match="thread"):
        parse_counts(text, "thread", 64)


def test_json_into_a_missing_directory_is_refused_before_timing(tmp_path, monkeypatch):
    from nanochat_cli.kernels.command import BenchOptions, bench_command

    def must_not_run(*a, **k):
        raise AssertionError("timed kernels although the output path was unwritable")

    monkeypatch.setattr("nanochat_cli.kernels.command.run_bench", must_not_run)
    with pytest.raises(NanochatError, match="does not exist"):
        bench_command(BenchOptions("64x128", "1", "1", False, tmp_path / "missing" / "bench.json", None, numpy_baseline=False))


def test_interleaved_comparison_gives_one_ratio_per_shape_thread_and_batch(capsys):
    """`python benchmarks/kernel_ab.py` (the A/B figures of docs/BENCHMARKS.md): shape of the output only."""
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "kernel_ab.py"
    spec = importlib.util.spec_from_file_location("kernel_ab", path)
    compare = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(compare)
    b = available_kernels()[-1]
    rows = compare.compare("scalar", b, [(40, 128)], [1, 3], [1, 2], rounds=2, reps=1)
    assert [(r["threads"], r["batch"]) for r in rows] == [(1, 1), (1, 3), (2, 1), (2, 3)]
    assert all(r["a_us"] > 0 and r["b_us"] > 0 and r["ratio_min"] <= r["ratio"] <= r["ratio_max"] for r in rows)
    compare.main(["--a", "scalar", "--b", b, "--shapes", "40x128", "--batch", "2", "--threads", "1", "--rounds", "1",
                  "--reps", "1"])
    assert "| 40x128 | 1 | 2 |" in capsys.readouterr().out
