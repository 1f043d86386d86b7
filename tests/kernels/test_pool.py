"""The persistent thread pool: thread counts, concurrent callers (the GIL is released), fork safety."""

import os
import threading

import numpy as np
import pytest

from nanochat_cli.kernels import matmul, prepare, set_threads
from nanochat_cli.ternary import PlanarWeights, reference_matmul


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(5)
    trits = rng.integers(-1, 2, (300, 512), dtype=np.int8)
    scales = rng.uniform(0.1, 1, (300, 4)).astype(np.float32)
    q = rng.integers(-127, 128, (3, 512), dtype=np.int8)
    xs = np.ones(3, np.float32)
    return prepare(PlanarWeights.from_trits(trits, scales, 128)), q, xs, reference_matmul(trits, scales, 128, q, xs)


@pytest.mark.parametrize("threads", [1, 2, 3, 5])
def test_any_thread_count_gives_the_same_result(case, threads):
    prepared, q, xs, want = case
    set_threads(threads)
    for _ in range(20):
        np.testing.assert_array_equal(matmul(prepared, q, xs), want)


def test_concurrent_callers_from_python_threads(case):
    prepared, q, xs, want = case
    set_threads(2)
    errors = []

    def work():
        try:
            for _ in range(50):
                np.testing.assert_array_equal(matmul(prepared, q, xs), want)
        except Exception as e:  # noqa: BLE001 - reported by the main thread's assert
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and not any(t.is_alive() for t in threads)


def test_forked_child_can_use_the_pool(case):
    prepared, q, xs, want = case
    set_threads(2)
    matmul(prepared, q, xs)  # the parent's pool exists before the fork
    pid = os.fork()
    if pid == 0:
        ok = np.array_equal(matmul(prepared, q, xs), want)
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_rapidly_changing_thread_counts_and_sizes():
    """Jobs of 1..many items back to back: a worker waking late must never run a finished job's items."""
    rng = np.random.default_rng(9)
    cases = []
    for m in (1, 64, 65, 700):
        trits = rng.integers(-1, 2, (m, 64), dtype=np.int8)
        scales = np.ones((m, 1), np.float32)
        q = rng.integers(-127, 128, (2, 64), dtype=np.int8)
        xs = np.ones(2, np.float32)
        cases.append((prepare(PlanarWeights.from_trits(trits, scales, 64)), q, xs,
                      reference_matmul(trits, scales, 64, q, xs)))
    for i in range(400):
        set_threads(1 + i % 4)
        prepared, q, xs, want = cases[i % len(cases)]
        np.testing.assert_array_equal(matmul(prepared, q, xs, kernel="scalar" if i % 7 == 0 else None), want)


def test_fork_while_another_thread_is_multiplying(case):
    """The fork handlers keep a child from inheriting a pool lock held by a job in flight."""
    prepared, q, xs, want = case
    set_threads(2)
    stop = threading.Event()

    def busy():
        while not stop.is_set():
            matmul(prepared, q, xs)

    t = threading.Thread(target=busy)
    t.start()
    try:
        for _ in range(5):
            pid = os.fork()
            if pid == 0:
                ok = np.array_equal(matmul(prepared, q, xs), want)
                os._exit(0 if ok else 1)
            _, status = os.waitpid(pid, 0)
            assert os.waitstatus_to_exitcode(status) == 0
    finally:
        stop.set()
        t.join(timeout=30)
