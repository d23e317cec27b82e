"""Formula tests for docs/*/sequences/attention.md.

The page's equations are implemented here from scratch (matmul, exp / softmax, -inf mask)
and checked against PyTorch's references:
torch.nn.functional.scaled_dot_product_attention and torch.nn.MultiheadAttention.
"""

import math

import pytest
import torch
import torch.nn.functional as F

# (batch dims, L, S, d_k, d_v): L != S and d_k != d_v in most cases
SHAPES = [
    ((), 5, 5, 8, 8),
    ((2,), 4, 7, 16, 5),
    ((2, 3), 4, 7, 16, 5),
    ((3, 2), 9, 6, 32, 12),
    ((2, 4), 1, 10, 64, 3),
    ((1, 8), 12, 12, 64, 64),
]


def make_qkv(batch, L, S, d_k, d_v, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(*batch, L, d_k, generator=g, dtype=dtype)
    k = torch.randn(*batch, S, d_k, generator=g, dtype=dtype)
    v = torch.randn(*batch, S, d_v, generator=g, dtype=dtype)
    return q, k, v


def attention_from_formula(q, k, v, M=None, scale=True):
    """Page: Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k) + M) V, softmax over the keys.

    M is an additive mask (0 where allowed, -inf where masked), or None.
    The softmax is written out as exp(s - max) / sum exp(s - max).
    """
    d_k = q.shape[-1]
    s = q @ k.transpose(-2, -1)  # (..., L, S): s_ij = q_i . k_j
    if scale:
        s = s / math.sqrt(d_k)
    if M is not None:
        s = s + M
    s = s - s.amax(dim=-1, keepdim=True)
    e = torch.exp(s)  # exp(-inf) = 0 for masked entries
    A = e / e.sum(dim=-1, keepdim=True)  # attention weights alpha_ij
    return A @ v, A


def additive_mask_from_bool(allowed, dtype=torch.float64):
    """Page: M_ij = 0 if query i may attend to key j, -inf otherwise."""
    M = torch.zeros(allowed.shape, dtype=dtype)
    return M.masked_fill(~allowed, float("-inf"))


def causal_allowed(L, S):
    """Page: key j is allowed for query i iff j <= i (top-left aligned when L != S)."""
    i = torch.arange(L).unsqueeze(1)
    j = torch.arange(S).unsqueeze(0)
    return j <= i


@pytest.mark.parametrize("batch,L,S,d_k,d_v", SHAPES)
def test_matches_sdpa_no_mask(batch, L, S, d_k, d_v):
    q, k, v = make_qkv(batch, L, S, d_k, d_v)
    out, A = attention_from_formula(q, k, v)
    ref = F.scaled_dot_product_attention(q, k, v)
    assert out.shape == (*batch, L, d_v)
    assert A.shape == (*batch, L, S)
    torch.testing.assert_close(out, ref, rtol=1e-10, atol=1e-12)
    # rows of the weight matrix are probability distributions over the keys
    torch.testing.assert_close(A.sum(-1), torch.ones(*batch, L, dtype=A.dtype))
    assert (A >= 0).all()


@pytest.mark.parametrize("batch,L,S,d_k,d_v", SHAPES)
def test_float32_matches_sdpa(batch, L, S, d_k, d_v):
    q, k, v = make_qkv(batch, L, S, d_k, d_v, dtype=torch.float32, seed=1)
    out, _ = attention_from_formula(q, k, v)
    ref = F.scaled_dot_product_attention(q, k, v)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("batch,L,S,d_k,d_v", SHAPES)
def test_scale_matters(batch, L, S, d_k, d_v):
    """Dropping the 1/sqrt(d_k) factor gives a different answer, so the tests can fail."""
    q, k, v = make_qkv(batch, L, S, d_k, d_v, seed=2)
    ref = F.scaled_dot_product_attention(q, k, v)
    out_unscaled, _ = attention_from_formula(q, k, v, scale=False)
    assert not torch.allclose(out_unscaled, ref, atol=1e-3)
    # ... and Luong's unscaled dot score is SDPA with scale = 1
    ref_unscaled = F.scaled_dot_product_attention(q, k, v, scale=1.0)
    torch.testing.assert_close(out_unscaled, ref_unscaled, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("batch,L,S,d_k,d_v", SHAPES)
def test_boolean_and_additive_masks(batch, L, S, d_k, d_v):
    q, k, v = make_qkv(batch, L, S, d_k, d_v, seed=3)
    g = torch.Generator().manual_seed(4)
    allowed = torch.rand(*batch, L, S, generator=g) > 0.4
    allowed[..., 0] = True  # every query keeps at least one key (no all -inf row)
    M = additive_mask_from_bool(allowed)
    out, A = attention_from_formula(q, k, v, M)

    # boolean mask: in SDPA, True means "may attend"
    ref_bool = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
    torch.testing.assert_close(out, ref_bool, rtol=1e-10, atol=1e-12)
    # additive float mask with -inf entries
    ref_add = F.scaled_dot_product_attention(q, k, v, attn_mask=M)
    torch.testing.assert_close(out, ref_add, rtol=1e-10, atol=1e-12)

    # masked weights are exactly zero and the allowed ones still sum to 1
    assert (A[~allowed] == 0).all()
    torch.testing.assert_close(A.sum(-1), torch.ones(*batch, L, dtype=A.dtype))
    # the wrong boolean convention (True = masked, as in nn.MultiheadAttention) differs
    flipped = allowed.clone()
    flipped[..., 0] = False
    flipped[..., 1:] = ~allowed[..., 1:]
    flipped[..., 1] = True
    assert not torch.allclose(F.scaled_dot_product_attention(q, k, v, attn_mask=flipped), out)


@pytest.mark.parametrize("batch,L,S,d_k,d_v", SHAPES)
def test_general_additive_bias(batch, L, S, d_k, d_v):
    """A finite additive mask (bias) is added to the scaled scores before the softmax."""
    q, k, v = make_qkv(batch, L, S, d_k, d_v, seed=5)
    g = torch.Generator().manual_seed(6)
    bias = torch.randn(L, S, generator=g, dtype=torch.float64)  # broadcast over batch
    out, _ = attention_from_formula(q, k, v, bias)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
    torch.testing.assert_close(out, ref, rtol=1e-10, atol=1e-12)


def test_padding_mask_broadcast():
    """Key-padding mask of shape (B, 1, 1, S) broadcast over heads and queries."""
    B, H, L, d_k, d_v = 3, 2, 6, 8, 4
    q, k, v = make_qkv((B, H), L, L, d_k, d_v, seed=7)
    lengths = torch.tensor([6, 4, 2])
    key_is_real = torch.arange(L) < lengths[:, None]  # (B, S)
    allowed = key_is_real[:, None, None, :]  # (B, 1, 1, S)
    out, A = attention_from_formula(q, k, v, additive_mask_from_bool(allowed))
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
    torch.testing.assert_close(out, ref, rtol=1e-10, atol=1e-12)
    assert (A[1, :, :, 4:] == 0).all() and (A[2, :, :, 2:] == 0).all()
    # padded keys have no influence: changing their values changes nothing
    v2 = v.clone()
    v2[2, :, 2:] = 1e3
    out2, _ = attention_from_formula(q, k, v2, additive_mask_from_bool(allowed))
    torch.testing.assert_close(out2, out)


@pytest.mark.parametrize("batch,L,S,d_k,d_v", SHAPES)
def test_causal_mask(batch, L, S, d_k, d_v):
    q, k, v = make_qkv(batch, L, S, d_k, d_v, seed=8)
    allowed = causal_allowed(L, S)
    out, A = attention_from_formula(q, k, v, additive_mask_from_bool(allowed))
    ref = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    torch.testing.assert_close(out, ref, rtol=1e-10, atol=1e-12)
    assert (A[..., ~allowed] == 0).all()  # no weight on future keys j > i
    torch.testing.assert_close(A.sum(-1), torch.ones(*batch, L, dtype=A.dtype))


def test_causal_output_ignores_future():
    """Output i of causal attention does not change when keys/values after i change."""
    q, k, v = make_qkv((2,), 7, 7, 8, 5, seed=9)
    M = additive_mask_from_bool(causal_allowed(7, 7))
    out, _ = attention_from_formula(q, k, v, M)
    k2, v2 = k.clone(), v.clone()
    k2[:, 4:] = torch.randn(2, 3, 8, dtype=k.dtype)
    v2[:, 4:] = torch.randn(2, 3, 5, dtype=v.dtype)
    out2, _ = attention_from_formula(q, k2, v2, M)
    torch.testing.assert_close(out2[:, :4], out[:, :4])
    assert not torch.allclose(out2[:, 4:], out[:, 4:])


def test_zeroing_after_softmax_is_wrong():
    """Multiplying the weights by the mask AFTER the softmax leaves rows that do not sum to 1."""
    q, k, v = make_qkv((), 5, 5, 8, 8, seed=10)
    allowed = causal_allowed(5, 5)
    A_wrong = torch.softmax(q @ k.T / math.sqrt(8), dim=-1) * allowed
    assert (A_wrong.sum(-1)[:-1] < 1 - 1e-6).all()  # every row except the last loses mass
    ref = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert not torch.allclose(A_wrong @ v, ref, atol=1e-3)


def test_self_attention_matches_multihead_attention():
    """Self-attention Q = X W_Q, K = X W_K, V = X W_V against nn.MultiheadAttention (1 head).

    nn.MultiheadAttention computes x @ W.T with W = in_proj_weight blocks, and applies an
    output projection W_O; with bias=False:  output = Attention(X W_Q, X W_K, X W_V) W_O.
    Its key_padding_mask uses True = "ignore this key", the inverse of SDPA's boolean mask.
    """
    torch.manual_seed(11)
    B, n, d_model = 2, 6, 12
    mha = torch.nn.MultiheadAttention(d_model, num_heads=1, bias=False, batch_first=True)
    mha = mha.double().eval()
    X = torch.randn(B, n, d_model, dtype=torch.float64)
    W = mha.in_proj_weight.detach()
    W_Q, W_K, W_V = W[:d_model].T, W[d_model:2 * d_model].T, W[2 * d_model:].T
    W_O = mha.out_proj.weight.detach().T

    key_is_pad = torch.tensor([[False] * 6, [False] * 4 + [True] * 2])
    allowed = (~key_is_pad)[:, None, :]  # (B, 1, S)
    Z, A = attention_from_formula(X @ W_Q, X @ W_K, X @ W_V, additive_mask_from_bool(allowed))
    ref_out, ref_A = mha(X, X, X, key_padding_mask=key_is_pad, need_weights=True)
    torch.testing.assert_close(Z @ W_O, ref_out, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(A, ref_A, rtol=1e-10, atol=1e-12)


def test_self_attention_is_permutation_equivariant():
    torch.manual_seed(12)
    n, d_model, d_k, d_v = 7, 10, 6, 4
    X = torch.randn(n, d_model, dtype=torch.float64)
    W_Q = torch.randn(d_model, d_k, dtype=torch.float64)
    W_K = torch.randn(d_model, d_k, dtype=torch.float64)
    W_V = torch.randn(d_model, d_v, dtype=torch.float64)
    out, _ = attention_from_formula(X @ W_Q, X @ W_K, X @ W_V)
    perm = torch.randperm(n)
    Xp = X[perm]
    out_p, _ = attention_from_formula(Xp @ W_Q, Xp @ W_K, Xp @ W_V)
    torch.testing.assert_close(out_p, out[perm])


def test_luong_and_bahdanau_scores():
    """Luong 'general' with W_a = I is the dot score; Luong 'concat' with W_a = [W_1, W_2]
    is Bahdanau's additive score v_a^T tanh(W_1 h_t + W_2 h_s)."""
    torch.manual_seed(13)
    d, d_a, S = 6, 5, 9
    h_t = torch.randn(d, dtype=torch.float64)  # decoder state (query)
    h_s = torch.randn(S, d, dtype=torch.float64)  # encoder states (keys = values)
    dot = h_s @ h_t
    general = h_s @ (torch.eye(d, dtype=torch.float64) @ h_t)
    torch.testing.assert_close(general, dot)

    W_a = torch.randn(d_a, 2 * d, dtype=torch.float64)
    v_a = torch.randn(d_a, dtype=torch.float64)
    concat = torch.stack([v_a @ torch.tanh(W_a @ torch.cat([h_t, h_s[j]])) for j in range(S)])
    additive = torch.tanh(h_t @ W_a[:, :d].T + h_s @ W_a[:, d:].T) @ v_a
    torch.testing.assert_close(concat, additive)

    # weights = softmax over source positions; context = weighted sum of encoder states,
    # which is SDPA with one query, keys = values = h_s, and scale 1 (Luong's dot score)
    alpha = torch.exp(dot) / torch.exp(dot).sum()
    c = (alpha[:, None] * h_s).sum(0)
    ref = F.scaled_dot_product_attention(h_t[None, None], h_s[None], h_s[None], scale=1.0)
    torch.testing.assert_close(c, ref[0, 0])


@pytest.mark.parametrize("d_k", [4, 16, 64, 256])
def test_variance_of_dot_product_is_d_k(d_k):
    """Footnote 4 of Vaswani et al.: q, k with independent N(0, 1) components give
    Var(q . k) = d_k, and Var(q . k / sqrt(d_k)) = 1. Relative tolerance 4 % (the standard
    error is below 1 %); sqrt(d_k), d_k**2, d_k - 1 or 2 d_k would all fail."""
    g = torch.Generator().manual_seed(d_k)
    N = 60_000
    q = torch.randn(N, d_k, generator=g)
    k = torch.randn(N, d_k, generator=g)
    dots = (q * k).sum(-1).double()
    var = dots.var().item()
    assert abs(dots.mean().item()) < 4 * math.sqrt(d_k / N)
    assert abs(var / d_k - 1) < 0.04, var
    for wrong in (math.sqrt(d_k), d_k**2, 2 * d_k, d_k - 1 if d_k <= 16 else None):
        if wrong is not None:
            assert abs(var / wrong - 1) > 0.04
    scaled_var = (dots / math.sqrt(d_k)).var().item()
    assert abs(scaled_var - 1) < 0.04


def test_unscaled_softmax_saturates():
    """With unscaled scores the largest weight approaches 1 and the softmax Jacobian
    diag(p) - p p^T vanishes as d_k grows; with 1/sqrt(d_k) scaling neither happens."""
    g = torch.Generator().manual_seed(14)
    S, N = 16, 400

    def stats(d_k, scale):
        q = torch.randn(N, 1, d_k, generator=g, dtype=torch.float64)
        k = torch.randn(N, S, d_k, generator=g, dtype=torch.float64)
        s = (q * k).sum(-1) * scale
        p = torch.softmax(s, -1)
        jac = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]
        return p.max(-1).values.mean().item(), jac.flatten(1).norm(dim=-1).median().item()

    max_small, jac_small = stats(16, 1 / 4)
    max_big, jac_big = stats(1024, 1 / 32)
    assert abs(max_small - max_big) < 0.03 and abs(jac_small / jac_big - 1) < 0.1
    max_unscaled, jac_unscaled = stats(1024, 1.0)
    assert max_unscaled > 0.9 and jac_unscaled < 1e-2 * jac_big
