"""nanochat's TQ2_0 / TQ1_0 encoders are byte-identical to gguf-py's reference quantizers and decode identically."""

import gguf
import numpy as np
import pytest
from gguf import quants
from hypothesis import given, settings
from hypothesis import strategies as st

from nanochat_cli.errors import NanochatError
from nanochat_cli.ternary import block_scales, decode_tq1_0, decode_tq2_0, dequantize, encode_tq1_0, encode_tq2_0, ternarize

CASES = [(encode_tq2_0, decode_tq2_0, gguf.GGMLQuantizationType.TQ2_0),
         (encode_tq1_0, decode_tq1_0, gguf.GGMLQuantizationType.TQ1_0)]


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 5), st.integers(1, 3), st.sampled_from([0, 256]), st.integers(0, 2**31 - 1))
@pytest.mark.parametrize("enc,dec,qtype", CASES, ids=["tq2_0", "tq1_0"])
def test_tq_export_matches_gguf_quantize_and_dequantize(enc, dec, qtype, m, blocks, group_size, seed):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((m, 256 * blocks)).astype(np.float32) * rng.uniform(0.01, 10)
    w[0, :256] = 0  # an all-zero block must store d = 0, as gguf does
    t, s = ternarize(w, group_size)
    ours = enc(t, block_scales(s, group_size, w.shape))
    wd = dequantize(t, s, group_size)
    assert np.array_equal(ours, quants.quantize(wd, qtype))
    tt, d = dec(ours, w.shape)
    assert np.array_equal(tt, t)
    assert np.array_equal(quants.dequantize(ours, qtype), (tt.reshape(m, blocks, 256) * d[..., None]).reshape(w.shape))


def test_tq_rejects_rows_not_multiple_of_256_and_sub_block_groups():
    t, s = ternarize(np.ones((2, 128), np.float32), 0)
    with pytest.raises(NanochatError, match="multiples of 256"):
        block_scales(s, 0, t.shape)
    t, s = ternarize(np.ones((2, 512), np.float32), 128)
    with pytest.raises(NanochatError, match="one scale per 256"):
        block_scales(s, 128, t.shape)
