"""Formula tests for docs/*/sequences/transformer.md.

The page's Transformer layer is written from tensor operations in snippets/transformer.py
(multi-head attention, layer normalization, the feed-forward network, post-LN and pre-LN encoder
layers, a decoder layer, the sinusoidal encoding and its rotation matrices). Here those functions
get the weights of PyTorch's own layers and are compared with them in float64:
nn.MultiheadAttention (batch_first, key_padding_mask, causal attn_mask, averaged weights),
nn.TransformerEncoderLayer (norm_first False and True, ReLU and GELU), nn.TransformerDecoderLayer
(causal tgt_mask, memory and its padding mask) and nn.LayerNorm. The sinusoidal encoding is
checked against the paper's formula written as a loop, the rotation property to 1e-10, the
parameter count against numel() and the cost against torch's FLOP counter. The mutation tests
run wrong variants through the same comparisons: post-LN and pre-LN swapped, scores divided by
d_k, layer norm with the unbiased variance, heads concatenated in the wrong order.
"""

import math

import pytest
import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from snippet_code import snippet_function

S = snippet_function("transformer", "multi_head_attention", "encoder_layer", "decoder_layer", "layer_norm",
                     "layer_params", "mha_params", "sinusoidal_encoding", "rotation", "score_stats",
                     "encoder_layer_param_count", "attention_flops", "train_reverser", "reverser_weights",
                     "padding_mask", "causal_mask", "D_KS")
NAMESPACE = S["multi_head_attention"].__globals__  # the snippet's functions look their helpers up here
MERGE_HEADS = NAMESPACE["merge_heads"]
DTYPE = torch.float64
RTOL, ATOL = 1e-10, 1e-12


def tolerances_off(actual, expected, rtol=RTOL, atol=ATOL):
    """How many tolerances the worst entry is off (<= 1 passes); inf on a shape mismatch or a NaN."""
    if actual.shape != expected.shape:
        return math.inf
    off = (actual - expected).abs() / (atol + rtol * expected.abs())
    return off.nan_to_num(nan=math.inf).max().item()


def randomize_(module, seed):
    """Give every parameter random values, biases and layer-norm weights included (they start at 0 and 1)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) / math.sqrt(p.shape[-1]))
            if p.dim() == 1:
                p.add_(1.0 if p.shape[0] % 2 else 0.0)
    return module


def inputs(B, T, d, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, T, d, generator=g, dtype=DTYPE)


def lengths_mask(lengths, T):
    """(B, T) True for real tokens: the first lengths[b] positions of sequence b."""
    return torch.arange(T).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)


# ---------------------------------------------------------------------------
# Multi-head attention vs nn.MultiheadAttention
# ---------------------------------------------------------------------------
MHA_CASES = [  # d_model, h, L, S, cross, key padding, causal
    (16, 4, 6, 6, False, False, False),
    (16, 4, 6, 6, False, True, False),
    (16, 4, 6, 6, False, False, True),
    (24, 3, 7, 7, False, True, True),
    (24, 8, 5, 9, True, True, False),
    (32, 1, 4, 4, False, True, True),
]


def mha_off(case, seed=0):
    d, h, L, S_len, cross, pad, causal = case
    mha = randomize_(nn.MultiheadAttention(d, h, batch_first=True, dtype=DTYPE), seed)
    x_q = inputs(3, L, d, seed + 1)
    x_kv = inputs(3, S_len, d, seed + 2) if cross else x_q
    is_real = lengths_mask([S_len, S_len - 2, S_len - 1], S_len) if pad else torch.ones(3, S_len, dtype=torch.bool)
    allowed = is_real.unsqueeze(1).expand(-1, L, -1)
    kwargs = {"key_padding_mask": ~is_real} if pad else {}
    if causal:
        allowed = allowed & S["causal_mask"](L)
        kwargs["attn_mask"] = ~S["causal_mask"](L)  # PyTorch: True = may NOT attend
    out_ref, w_ref = mha(x_q, x_kv, x_kv, need_weights=True, average_attn_weights=True, **kwargs)
    out, A = S["multi_head_attention"](x_q, x_kv, S["mha_params"](mha), h, allowed)
    return max(tolerances_off(out, out_ref), tolerances_off(A.mean(1), w_ref))


@pytest.mark.parametrize("case", MHA_CASES)
def test_multi_head_attention_matches_torch(case):
    assert mha_off(case) <= 1.0


def test_per_head_weights_and_shapes():
    mha = randomize_(nn.MultiheadAttention(16, 4, batch_first=True, dtype=DTYPE), 3)
    x = inputs(2, 5, 16, 4)
    _, w_ref = mha(x, x, x, need_weights=True, average_attn_weights=False)
    out, A = S["multi_head_attention"](x, x, S["mha_params"](mha), 4)
    assert out.shape == (2, 5, 16) and A.shape == (2, 4, 5, 5)  # h heads of size d_model / h = 4
    assert tolerances_off(A, w_ref) <= 1.0


# ---------------------------------------------------------------------------
# Encoder and decoder layers vs nn.TransformerEncoderLayer / nn.TransformerDecoderLayer
# ---------------------------------------------------------------------------
def encoder_off(norm_first, activation, pad, impl_norm_first=None, seed=0):
    d, h, d_ff, T = 16, 4, 40, 7
    layer = randomize_(nn.TransformerEncoderLayer(d, h, d_ff, dropout=0.0, activation=activation, batch_first=True,
                                                  norm_first=norm_first, dtype=DTYPE), seed)
    x = inputs(3, T, d, seed + 1)
    is_real = lengths_mask([T, 5, 3], T) if pad else torch.ones(3, T, dtype=torch.bool)
    ref = layer(x, src_key_padding_mask=~is_real if pad else None)  # train mode: no fast path
    mine = S["encoder_layer"](x, S["layer_params"](layer), h,
                              norm_first if impl_norm_first is None else impl_norm_first,
                              activation, S["padding_mask"](is_real, T))
    return tolerances_off(mine, ref)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("pad", [False, True])
def test_encoder_layer_matches_torch(norm_first, activation, pad):
    assert encoder_off(norm_first, activation, pad) <= 1.0


def decoder_off(norm_first, activation, seed=0):
    d, h, d_ff, T_tgt, T_src = 24, 3, 48, 5, 8
    layer = randomize_(nn.TransformerDecoderLayer(d, h, d_ff, dropout=0.0, activation=activation, batch_first=True,
                                                  norm_first=norm_first, dtype=DTYPE), seed)
    y = inputs(2, T_tgt, d, seed + 1)
    memory = inputs(2, T_src, d, seed + 2)  # the encoder output
    src_real = lengths_mask([T_src, 5], T_src)
    ref = layer(y, memory, tgt_mask=~S["causal_mask"](T_tgt), memory_key_padding_mask=~src_real)
    mine = S["decoder_layer"](y, memory, S["layer_params"](layer), h, self_mask=S["causal_mask"](T_tgt),
                              cross_mask=S["padding_mask"](src_real, T_tgt), norm_first=norm_first,
                              activation=activation)
    return tolerances_off(mine, ref)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_decoder_layer_matches_torch(norm_first, activation):
    assert decoder_off(norm_first, activation) <= 1.0


def test_decoder_is_causal():
    """Changing target token 4 changes no decoder output before position 4."""
    layer = randomize_(nn.TransformerDecoderLayer(16, 4, 32, dropout=0.0, batch_first=True, dtype=DTYPE), 5)
    y, memory = inputs(1, 6, 16, 6), inputs(1, 9, 16, 7)
    p = S["layer_params"](layer)
    out = S["decoder_layer"](y, memory, p, 4, self_mask=S["causal_mask"](6))
    y2 = y.clone()
    y2[0, 4] += 1.0
    out2 = S["decoder_layer"](y2, memory, p, 4, self_mask=S["causal_mask"](6))
    assert torch.equal(out[0, :4], out2[0, :4])
    assert (out[0, 4:] - out2[0, 4:]).abs().max() > 1e-3


# ---------------------------------------------------------------------------
# Layer normalization vs nn.LayerNorm
# ---------------------------------------------------------------------------
def ln_off(fn, d=16, eps=1e-5, spread=1.0, seed=0):
    ln = randomize_(nn.LayerNorm(d, eps=eps, dtype=DTYPE), seed)
    x = 3.0 + spread * inputs(4, 5, d, seed + 1)
    return tolerances_off(fn(x, ln.weight.detach(), ln.bias.detach(), eps=eps), ln(x))


@pytest.mark.parametrize("d,eps,spread", [(16, 1e-5, 1.0), (512, 1e-5, 2.0), (8, 1e-2, 0.05), (64, 1e-6, 1e-3)])
def test_layer_norm_matches_torch(d, eps, spread):
    assert ln_off(S["layer_norm"], d, eps, spread) <= 1.0


def test_layer_norm_statistics_per_token():
    """Without gamma and beta every token vector has mean 0 and (biased) variance var / (var + eps)."""
    x = inputs(2, 3, 32, 9) * 5 + 2
    y = S["layer_norm"](x, torch.ones(32, dtype=DTYPE), torch.zeros(32, dtype=DTYPE))
    var = x.var(-1, unbiased=False)
    assert y.mean(-1).abs().max() < 1e-12
    assert tolerances_off(y.var(-1, unbiased=False), var / (var + 1e-5)) <= 1.0


# ---------------------------------------------------------------------------
# Sinusoidal positional encoding: the paper's formula and the rotation property
# ---------------------------------------------------------------------------
def paper_pe(T, d):
    """Vaswani et al. (2017), section 3.5, written as a loop."""
    return torch.tensor([[math.sin(pos / 10000 ** (j / d)) if j % 2 == 0 else math.cos(pos / 10000 ** ((j - 1) / d))
                          for j in range(d)] for pos in range(T)], dtype=DTYPE)


@pytest.mark.parametrize("T,d", [(50, 16), (200, 64), (30, 512)])
def test_sinusoidal_matches_paper(T, d):
    assert tolerances_off(S["sinusoidal_encoding"](T, d), paper_pe(T, d), rtol=0, atol=1e-12) <= 1.0


def rotation_off(rotation, d=64, T=120, ks=(1, 3, 17, 50)):
    pe = S["sinusoidal_encoding"](T + max(ks), d)
    worst = 0.0
    for k in ks:
        R = rotation(k, d)
        shifted = pe[:T] @ R.T  # row pos: (R_k PE(pos))^T
        worst = max(worst, tolerances_off(shifted, pe[k:k + T], rtol=0, atol=1e-10))
    return worst


def test_rotation_property():
    assert rotation_off(S["rotation"]) <= 1.0
    R3, R5 = S["rotation"](3, 32), S["rotation"](5, 32)
    assert tolerances_off(R3 @ R3.T, torch.eye(32, dtype=DTYPE)) <= 1.0  # orthogonal
    assert tolerances_off(R3 @ R5, S["rotation"](8, 32), rtol=0, atol=1e-10) <= 1.0  # R_3 R_5 = R_8


def test_dot_product_depends_only_on_offset():
    """PE(pos) . PE(pos + k) = sum_i cos(k omega_i): the same for every pos, symmetric in k, d/2 at k = 0."""
    d = 64
    pe = S["sinusoidal_encoding"](300, d)
    omega = 10000 ** (-torch.arange(0, d, 2, dtype=DTYPE) / d)
    for k in (0, 1, 10, 50, 100):
        dots = (pe[:200] * pe[k:200 + k]).sum(-1)
        expected = torch.cos(k * omega).sum()
        assert (dots - expected).abs().max() < 1e-10
    assert abs((pe[0] * pe[0]).sum().item() - d / 2) < 1e-12


# ---------------------------------------------------------------------------
# Var(q . k) = d_k, measured
# ---------------------------------------------------------------------------
def variance_within(measured, target, rel=0.07):
    return abs(measured / target - 1) <= rel


@pytest.fixture(scope="module")
def stats():
    return S["score_stats"](S["D_KS"])


def test_score_variance_grows_as_d_k(stats):
    for d_k, v_unscaled, v_scaled in zip(S["D_KS"], stats["unscaled"]["var"], stats["scaled"]["var"]):
        assert variance_within(v_unscaled, d_k)  # Var(q . k) = d_k
        assert variance_within(v_scaled, 1.0)  # Var(q . k / sqrt(d_k)) = 1
        assert not variance_within(v_unscaled / d_k**2, 1.0)  # mutation: q . k / d_k has variance 1 / d_k
        assert not variance_within(v_unscaled, 1.0)  # mutation: no scaling


# ---------------------------------------------------------------------------
# Parameter count and cost
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("d,h,d_ff", [(512, 8, 2048), (16, 4, 64), (24, 3, 50), (768, 12, 3072)])
def test_parameter_count(d, h, d_ff):
    enc = nn.TransformerEncoderLayer(d, h, d_ff)
    dec = nn.TransformerDecoderLayer(d, h, d_ff)
    assert S["encoder_layer_param_count"](d, d_ff) == sum(p.numel() for p in enc.parameters())
    # the decoder layer adds a cross-attention (4 d^2 + 4 d) and a third layer norm (2 d)
    assert S["encoder_layer_param_count"](d, d_ff) + 4 * d * d + 6 * d == sum(p.numel() for p in dec.parameters())


def test_base_model_parameter_counts():
    """Page: 3,152,384 per encoder layer and 4,204,032 per decoder layer for d = 512, d_ff = 2048;
    with a shared 37,000-token embedding about 63 million in all (Vaswani et al. report 65 million)."""
    enc = S["encoder_layer_param_count"](512, 2048)
    dec = enc + 4 * 512**2 + 6 * 512
    assert (enc, dec) == (3_152_384, 4_204_032)
    assert 6 * enc + 6 * dec + 37_000 * 512 == 63_082_496


@pytest.mark.parametrize("n,d,h,d_ff", [(10, 16, 4, 64), (33, 24, 3, 96), (64, 8, 2, 32)])
def test_flops_match_counter(n, d, h, d_ff):
    """torch's FLOP counter (2 per multiply-add) on the layer written from tensor ops vs the page's count."""
    layer = nn.TransformerEncoderLayer(d, h, d_ff, dropout=0.0, batch_first=True, dtype=DTYPE)
    p = S["layer_params"](layer)
    x = inputs(1, n, d, 0)
    with FlopCounterMode(display=False) as counter:
        S["encoder_layer"](x, p, h)
    assert counter.get_total_flops() == 2 * sum(S["attention_flops"](n, d, d_ff).values())


def test_crossover_length():
    """Page: with d_ff = 4 d, attention's n^2 terms (2 n^2 d) pass the rest (12 n d^2) at n = 6 d."""
    d = 512
    f = S["attention_flops"]
    for n, attention_wins in ((6 * d - 1, False), (6 * d + 1, True)):
        c = f(n, d, 4 * d)
        assert (c["scores"] + c["weighted sum"] > c["projections"] + c["feed-forward"]) == attention_wins


# ---------------------------------------------------------------------------
# The numbers the page states about its figures
# ---------------------------------------------------------------------------
def test_figure_2_numbers(stats):
    i = S["D_KS"].index(64)
    assert stats["unscaled"]["var"][i] == pytest.approx(63.6, abs=0.05)
    assert stats["scaled"]["var"][i] == pytest.approx(0.99, abs=0.005)
    assert stats["unscaled"]["max_weight"][i] == pytest.approx(0.85, abs=0.005)
    assert stats["scaled"]["max_weight"][i] == pytest.approx(0.25, abs=0.005)
    assert stats["unscaled"]["max_weight"][-1] == pytest.approx(0.95, abs=0.005)  # d_k = 512
    assert all(0.23 <= w <= 0.25 for w in stats["scaled"]["max_weight"])  # "near 0.24 for every d_k"


def test_figure_3_numbers():
    pe = S["sinusoidal_encoding"](100, 64)
    G = pe @ pe.T
    assert [round(G[0, k].item(), 1) for k in (0, 1, 10, 50)] == [32.0, 30.9, 21.1, 15.7]
    assert tolerances_off(G, G.T) <= 1.0
    assert G.min().item() > 10  # every pair of positions up to 99 apart: positive, above 10
    assert G[0, 1:].max().item() < 32.0


def test_figure_4_numbers():
    src_real = torch.tensor([[True] * 6, [True] * 4 + [False] * 2])
    tgt_real = torch.tensor([[True] * 5, [True] * 3 + [False] * 2])
    assert int(S["padding_mask"](src_real, 6)[1].sum()) == 24
    assert int((S["causal_mask"](5) & S["padding_mask"](tgt_real, 5)[1]).sum()) == 12
    assert int(S["padding_mask"](src_real, 5)[1].sum()) == 20


@pytest.fixture(scope="module")
def reverser():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)  # as the snippet runs
    try:
        model, losses, accuracy = S["train_reverser"]()
        weights = S["reverser_weights"](model, torch.tensor([[3, 1, 4, 1, 5, 9, 2, 6]]))
    finally:
        torch.set_default_dtype(previous)
    return model, losses, accuracy, weights


def test_figure_5_numbers(reverser):
    model, losses, accuracy, weights = reverser
    assert losses[0] == pytest.approx(2.56, abs=0.05) and losses[-1] < 0.01
    assert accuracy >= 0.99  # 0.996 in the printed run
    anti = weights.sum(0).flip(-1).diagonal() / weights.shape[0]  # weight on key T - 1 - i
    assert anti.mean().item() == pytest.approx(0.64, abs=0.03)
    assert anti.min().item() == pytest.approx(0.49, abs=0.03)
    mean = weights.mean(0).flip(-1)  # column 7 - j: the anti-diagonal becomes the diagonal
    near = mean.diagonal() + torch.cat([mean.diagonal(1), torch.zeros(1)]) + torch.cat([torch.zeros(1), mean.diagonal(-1)])
    assert near.min().item() >= 0.93  # within one position of key 7 - i
    # the weights read by multi_head_attention are the ones nn.MultiheadAttention computes
    layer = model.layer
    with torch.no_grad():
        x = torch.tensor([[3, 1, 4, 1, 5, 9, 2, 6]])
        h = layer.norm1(model.embed(x) + model.pe)
        _, w_ref = layer.self_attn(h, h, h, need_weights=True, average_attn_weights=False)
    assert (weights - w_ref[0]).abs().max() < 1e-5


# ---------------------------------------------------------------------------
# Mutation tests: wrong formulas through the same comparisons
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("norm_first", [False, True])
def test_swapped_layer_norm_placement_is_caught(norm_first):
    assert encoder_off(norm_first, "relu", True) <= 1.0
    assert encoder_off(norm_first, "relu", True, impl_norm_first=not norm_first) > 1e6


def attention_divided_by_d_k(Q, K, V, mask=None):
    scores = Q @ K.transpose(-2, -1) / Q.shape[-1]  # 1/d_k instead of 1/sqrt(d_k)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    A = torch.softmax(scores, dim=-1)
    return A @ V, A


def merge_heads_reversed(x):  # Concat(head_h, ..., head_1)
    return MERGE_HEADS(x.flip(1))


def merge_heads_without_transpose(x):  # (B, h, T, d_k) reshaped directly: mixes positions and heads
    B, h, T, d_k = x.shape
    return x.reshape(B, T, h * d_k)


def layer_norm_unbiased(x, gamma, beta, eps=1e-5):
    mu = x.mean(-1, keepdim=True)
    var = x.var(-1, unbiased=True, keepdim=True)  # divides by d - 1
    return gamma * (x - mu) / torch.sqrt(var + eps) + beta


def layer_norm_eps_outside(x, gamma, beta, eps=1e-5):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return gamma * (x - mu) / (torch.sqrt(var) + eps) + beta


@pytest.mark.parametrize("name,mutant", [("attention", attention_divided_by_d_k),
                                         ("merge_heads", merge_heads_reversed),
                                         ("merge_heads", merge_heads_without_transpose)],
                         ids=["scores divided by d_k", "heads concatenated in reverse", "no transpose before concat"])
def test_wrong_attention_is_caught(monkeypatch, name, mutant):
    case = MHA_CASES[3]
    assert mha_off(case) <= 1.0
    monkeypatch.setitem(NAMESPACE, name, mutant)
    assert mha_off(case) > 1e6


@pytest.mark.parametrize("mutant", [layer_norm_unbiased, layer_norm_eps_outside], ids=lambda f: f.__name__)
def test_wrong_layer_norm_is_caught(monkeypatch, mutant):
    assert ln_off(S["layer_norm"], 8, 1e-2, 0.05) <= 1.0
    assert ln_off(mutant, 8, 1e-2, 0.05) > 1e6
    assert encoder_off(False, "relu", False) <= 1.0
    monkeypatch.setitem(NAMESPACE, "layer_norm", mutant)
    assert encoder_off(False, "relu", False) > 1e4  # eps = 1e-5 here: eps outside the root is off by ~1e-5


def test_wrong_rotation_is_caught():
    assert rotation_off(S["rotation"]) <= 1.0
    assert rotation_off(lambda k, d: S["rotation"](k, d).T) > 1e6  # rotating the wrong way: R_{-k}
    assert rotation_off(lambda k, d: S["rotation"](k + 1, d)) > 1e6


def test_wrong_frequencies_are_caught():
    wrong = torch.tensor([[math.sin(pos / 10000 ** (2 * (j // 2) / 64)) if j % 2 == 0 else
                           math.cos(pos / 10000 ** (2 * (j // 2 + 1) / 64)) for j in range(64)] for pos in range(50)],
                         dtype=DTYPE)  # the cosine of pair i with the frequency of pair i + 1
    assert tolerances_off(S["sinusoidal_encoding"](50, 64), paper_pe(50, 64), rtol=0, atol=1e-12) <= 1.0
    assert tolerances_off(wrong, paper_pe(50, 64), rtol=0, atol=1e-12) > 1e6
