"""pass@k against hand-computed values and the closed form; rates and the error-code histogram."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nanochat_cli.evaluate.metrics import error_code_histogram, ks_for, mean_pass_at_k, pass_at_k, rate


@pytest.mark.parametrize(
    "n, c, k, expected",
    [
        (5, 1, 1, 0.2),  # pass@1 = c / n
        (10, 3, 2, 1 - 21 / 45),  # 1 - C(7,2)/C(10,2)
        (10, 0, 5, 0.0),
        (4, 4, 2, 1.0),
        (10, 8, 3, 1.0),  # n - c = 2 < k = 3: every draw of 3 contains a correct sample
        (100, 1, 10, 0.1),  # one correct in 100: chance it is among 10 drawn
        (20, 5, 20, 1.0),
        (6, 2, 3, 1 - 4 / 20),  # 1 - C(4,3)/C(6,3)
    ],
)
def test_pass_at_k_hand_computed(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


@st.composite
def nck(draw):
    n = draw(st.integers(1, 200))
    return n, draw(st.integers(0, n)), draw(st.integers(1, n))


@given(nck())
def test_pass_at_k_equals_closed_form(args):
    n, c, k = args
    exact = 1 - Fraction(math.comb(n - c, k), math.comb(n, k))
    assert pass_at_k(n, c, k) == pytest.approx(float(exact), abs=1e-9)


@given(nck())
def test_pass_at_k_is_monotone_and_bounded(args):
    n, c, k = args
    p = pass_at_k(n, c, k)
    assert 0.0 <= p <= 1.0
    if k < n:
        assert pass_at_k(n, c, k + 1) >= p - 1e-12
    if c < n:
        assert pass_at_k(n, c + 1, k) >= p - 1e-12
    assert pass_at_k(n, c, 1) == pytest.approx(c / n)


def test_pass_at_k_rejects_impossible_counts():
    for n, c, k in [(3, 4, 1), (3, 1, 0), (3, 1, 4), (3, -1, 1)]:
        with pytest.raises(ValueError):
            pass_at_k(n, c, k)


def test_mean_pass_at_k_averages_over_problems():
    assert mean_pass_at_k([(10, 10), (10, 0), (10, 5)], 1) == pytest.approx((1 + 0 + 0.5) / 3)
    assert math.isnan(mean_pass_at_k([(1, 1)], 5))


def test_ks_and_rates_and_histogram():
    assert ks_for(1) == [1] and ks_for(7) == [1, 5, 7] and ks_for(100) == [1, 5, 10, 20, 50, 100]
    assert rate([True, False, True, True]) == 0.75 and math.isnan(rate([]))
    hist = error_code_histogram([["E0308", "E0425"], [], ["E0308"]])
    assert hist == {"E0308": 2, "E0425": 1} and next(iter(hist)) == "E0308"
