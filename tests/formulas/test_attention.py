"""Formula tests for docs/*/sequences/attention.md.

The page's equations are implemented here from scratch (matmul, exp / softmax, -inf mask) and checked
against PyTorch's references: torch.nn.functional.scaled_dot_product_attention (no mask, boolean and
additive attn_mask, is_causal) and torch.nn.MultiheadAttention. The attention function the page shows
(snippets/attention.py) is checked against the same references, and the mutation test runs wrong variants
(no or wrong scaling, missing transpose, softmax over the wrong axis, mask after the softmax) through the
same comparison. Bahdanau's additive score (the snippet's AdditiveAttention module) is checked against the
formula written out position by position, and its gradients against a backward pass derived by hand and
against autograd's gradcheck; Luong's dot, general and concat scores (the snippet's luong_scores) against
SDPA with scale 1, F.bilinear and a Linear-Tanh-Linear network. The numbers the page states about its
figures are recomputed with the snippet's functions.
"""

import math

import pytest
import torch
import torch.nn.functional as F

from snippet_code import snippet_function

snippet_attention = snippet_function("attention", "attention")["attention"]
RTOL, ATOL = 1e-10, 1e-12

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


def tolerances_off(actual, expected, rtol=RTOL, atol=ATOL):
    """How many tolerances the worst entry is off (<= 1 passes assert_close(rtol, atol)); inf on a shape mismatch."""
    if actual.shape != expected.shape:
        return math.inf
    off = (actual - expected).abs() / (atol + rtol * expected.abs())
    return off.nan_to_num(nan=math.inf).max().item()  # a NaN where the reference has a number is a mismatch


def assert_matches(actual, expected, rtol=RTOL, atol=ATOL):
    """The comparison the tests use, and the mutation test below reuses."""
    off = tolerances_off(actual, expected, rtol, atol)
    assert off <= 1.0, f"{off:.3g} tolerances off (shapes {tuple(actual.shape)} vs {tuple(expected.shape)})"


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
    assert_matches(out, ref)
    # rows of the weight matrix are probability distributions over the keys
    assert_matches(A.sum(-1), torch.ones(*batch, L, dtype=A.dtype))
    assert (A >= 0).all()


@pytest.mark.parametrize("batch,L,S,d_k,d_v", SHAPES)
def test_float32_matches_sdpa(batch, L, S, d_k, d_v):
    q, k, v = make_qkv(batch, L, S, d_k, d_v, dtype=torch.float32, seed=1)
    out, _ = attention_from_formula(q, k, v)
    ref = F.scaled_dot_product_attention(q, k, v)
    assert_matches(out, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("batch,L,S,d_k,d_v", SHAPES)
def test_scale_matters(batch, L, S, d_k, d_v):
    """Dropping the 1/sqrt(d_k) factor gives a different answer, so the tests can fail."""
    q, k, v = make_qkv(batch, L, S, d_k, d_v, seed=2)
    ref = F.scaled_dot_product_attention(q, k, v)
    out_unscaled, _ = attention_from_formula(q, k, v, scale=False)
    assert not torch.allclose(out_unscaled, ref, atol=1e-3)
    # ... and Luong's unscaled dot score is SDPA with scale = 1
    ref_unscaled = F.scaled_dot_product_attention(q, k, v, scale=1.0)
    assert_matches(out_unscaled, ref_unscaled)


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
    assert_matches(out, ref_bool)
    # additive float mask with -inf entries
    ref_add = F.scaled_dot_product_attention(q, k, v, attn_mask=M)
    assert_matches(out, ref_add)

    # masked weights are exactly zero and the allowed ones still sum to 1
    assert (A[~allowed] == 0).all()
    assert_matches(A.sum(-1), torch.ones(*batch, L, dtype=A.dtype))
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
    assert_matches(out, ref)


def test_padding_mask_broadcast():
    """Key-padding mask of shape (B, 1, 1, S) broadcast over heads and queries."""
    B, H, L, d_k, d_v = 3, 2, 6, 8, 4
    q, k, v = make_qkv((B, H), L, L, d_k, d_v, seed=7)
    lengths = torch.tensor([6, 4, 2])
    key_is_real = torch.arange(L) < lengths[:, None]  # (B, S)
    allowed = key_is_real[:, None, None, :]  # (B, 1, 1, S)
    out, A = attention_from_formula(q, k, v, additive_mask_from_bool(allowed))
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
    assert_matches(out, ref)
    assert (A[1, :, :, 4:] == 0).all() and (A[2, :, :, 2:] == 0).all()
    # padded keys have no influence: with garbage in the padded keys and values, the formula
    # still gives the reference output of the clean inputs
    k2, v2 = k.clone(), v.clone()
    k2[2, :, 2:], v2[2, :, 2:] = -1e3, 1e3
    out2, _ = attention_from_formula(q, k2, v2, additive_mask_from_bool(allowed))
    assert_matches(out2, ref)


@pytest.mark.parametrize("batch,L,S,d_k,d_v", SHAPES)
def test_causal_mask(batch, L, S, d_k, d_v):
    q, k, v = make_qkv(batch, L, S, d_k, d_v, seed=8)
    allowed = causal_allowed(L, S)
    out, A = attention_from_formula(q, k, v, additive_mask_from_bool(allowed))
    ref = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert_matches(out, ref)
    assert (A[..., ~allowed] == 0).all()  # no weight on future keys j > i
    assert_matches(A.sum(-1), torch.ones(*batch, L, dtype=A.dtype))


def test_causal_output_ignores_future():
    """Output i of causal attention is plain attention over keys/values 0..i only: the keys after i
    do not exist for it. Checked row by row against unmasked SDPA on the truncated sequence."""
    q, k, v = make_qkv((2,), 7, 7, 8, 5, seed=9)
    M = additive_mask_from_bool(causal_allowed(7, 7))
    out, _ = attention_from_formula(q, k, v, M)
    snippet_out, _ = snippet_attention(q, k, v, causal_allowed(7, 7))
    for i in range(7):
        ref_i = F.scaled_dot_product_attention(q[:, i:i + 1], k[:, :i + 1], v[:, :i + 1])[:, 0]
        assert_matches(out[:, i], ref_i)
        assert_matches(snippet_out[:, i], ref_i)


@pytest.mark.parametrize("batch,L,S,d_k,d_v", SHAPES)
@pytest.mark.parametrize("mask", ["none", "random", "causal"])
def test_snippet_attention_matches_sdpa(batch, L, S, d_k, d_v, mask):
    """The attention function the page shows (boolean mask, True = may attend) against SDPA."""
    q, k, v = make_qkv(batch, L, S, d_k, d_v, seed=20)
    allowed = None
    if mask == "random":
        allowed = torch.rand(*batch, L, S, generator=torch.Generator().manual_seed(21)) > 0.5
        allowed[..., 0] = True
    elif mask == "causal":
        allowed = causal_allowed(L, S)
    out, weights = snippet_attention(q, k, v, allowed)
    assert_matches(out, F.scaled_dot_product_attention(q, k, v, attn_mask=allowed))
    _, A = attention_from_formula(q, k, v, None if allowed is None else additive_mask_from_bool(allowed))
    assert_matches(weights, A)  # the weights are the page's alpha_ij


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
    assert_matches(Z @ W_O, ref_out)
    assert_matches(A, ref_A)


def test_self_attention_is_permutation_equivariant():
    """Shuffling the tokens shuffles the outputs the same way: the formula (and the snippet) on the
    shuffled tokens equals the reference on the original tokens, shuffled afterwards."""
    torch.manual_seed(12)
    n, d_model, d_k, d_v = 7, 10, 6, 4
    X = torch.randn(n, d_model, dtype=torch.float64)
    W_Q = torch.randn(d_model, d_k, dtype=torch.float64)
    W_K = torch.randn(d_model, d_k, dtype=torch.float64)
    W_V = torch.randn(d_model, d_v, dtype=torch.float64)
    ref = F.scaled_dot_product_attention(X @ W_Q, X @ W_K, X @ W_V)
    perm = torch.randperm(n)
    Xp = X[perm]
    out_p, _ = attention_from_formula(Xp @ W_Q, Xp @ W_K, Xp @ W_V)
    assert_matches(out_p, ref[perm])
    snippet_p, _ = snippet_attention(Xp @ W_Q, Xp @ W_K, Xp @ W_V)
    assert_matches(snippet_p, ref[perm])
    assert tolerances_off(out_p, ref) > 1e6  # the order really changed


def test_luong_and_bahdanau_scores():
    """Luong's scores against torch modules: 'general' h_t^T W_a h_s is F.bilinear; 'concat'
    v_a^T tanh(W_a [h_t; h_s]) is Linear -> Tanh -> Linear on the concatenation, and splitting W_a
    into [W_1, W_2] gives Bahdanau's additive score v_a^T tanh(W_1 h_t + W_2 h_s)."""
    torch.manual_seed(13)
    d, d_a, S = 6, 5, 9
    h_t = torch.randn(d, dtype=torch.float64)  # decoder state (query)
    h_s = torch.randn(S, d, dtype=torch.float64)  # encoder states (keys = values)
    dot = h_s @ h_t
    W_g = torch.randn(d, d, dtype=torch.float64)
    general = h_s @ (W_g.T @ h_t)  # h_t^T W_a h_s for every s
    assert_matches(general, F.bilinear(h_t.expand(S, d), h_s, W_g[None])[:, 0])
    # with W_a = I the general score is the dot score
    assert_matches(h_s @ h_t, F.bilinear(h_t.expand(S, d), h_s, torch.eye(d, dtype=torch.float64)[None])[:, 0])

    W_a = torch.randn(d_a, 2 * d, dtype=torch.float64)
    v_a = torch.randn(d_a, dtype=torch.float64)
    net = torch.nn.Sequential(torch.nn.Linear(2 * d, d_a, bias=False), torch.nn.Tanh(),
                              torch.nn.Linear(d_a, 1, bias=False)).double()
    with torch.no_grad():
        net[0].weight.copy_(W_a)
        net[2].weight.copy_(v_a[None])
    concat_ref = net(torch.cat([h_t.expand(S, d), h_s], dim=1))[:, 0].detach()
    additive = torch.tanh(h_t @ W_a[:, :d].T + h_s @ W_a[:, d:].T) @ v_a  # W_1 h_t + W_2 h_s
    assert_matches(additive, concat_ref)

    # weights = softmax over source positions; context = weighted sum of encoder states,
    # which is SDPA with one query, keys = values = h_s, and scale 1 (Luong's dot score)
    alpha = torch.exp(dot) / torch.exp(dot).sum()
    c = (alpha[:, None] * h_s).sum(0)
    ref = F.scaled_dot_product_attention(h_t[None, None], h_s[None], h_s[None], scale=1.0)
    assert_matches(c, ref[0, 0])


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


# ---------------------------------------------------------------------------
# Mutation test: plausible slips in the attention formula, each run through the same
# comparison (tolerances_off against SDPA) that accepts the snippet and the formula above
# ---------------------------------------------------------------------------
def _variant(scores, mask, v, *, dim=-1, after=False, fill=float("-inf")):
    """softmax(scores) v with a boolean mask, allowing the slips of the mutants below."""
    if mask is not None and not after:
        scores = scores.masked_fill(~mask, fill)
    weights = torch.softmax(scores, dim=dim)
    if mask is not None and after:
        weights = weights * mask
    return weights @ v


MUTANTS = {
    "no 1/sqrt(d_k)": lambda q, k, v, m: _variant(q @ k.transpose(-2, -1), m, v),
    "1/d_k instead of 1/sqrt(d_k)": lambda q, k, v, m: _variant(q @ k.transpose(-2, -1) / q.shape[-1], m, v),
    "1/sqrt(d_v) instead of 1/sqrt(d_k)": lambda q, k, v, m: _variant(
        q @ k.transpose(-2, -1) / math.sqrt(v.shape[-1]), m, v),
    "k not transposed": lambda q, k, v, m: _variant(q @ k / math.sqrt(q.shape[-1]), m, v),
    "softmax over the queries": lambda q, k, v, m: _variant(
        q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), m, v, dim=-2),
    "weighted sum of the keys": lambda q, k, v, m: _variant(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), m, k),
    "mask applied after the softmax": lambda q, k, v, m: _variant(
        q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), m, v, after=True),
    "masked scores set to 0, not -inf": lambda q, k, v, m: _variant(
        q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), m, v, fill=0.0),
    "mask convention inverted": lambda q, k, v, m: _variant(
        q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), ~m | (torch.arange(m.shape[-1]) == 0), v),
}


@pytest.mark.parametrize("name", list(MUTANTS))
def test_wrong_attention_formulas_are_caught(name):
    # S = d_k = d_v so that even the shape slips (missing transpose, keys as values) run; d_v differs
    # from d_k only where the slip is about d_v
    d_v = 5 if "d_v" in name else 8
    q, k, v = make_qkv((2,), 4, 8, 8, d_v, seed=30)
    k = k * 2.0  # scores of order 2 sqrt(d_k): a wrong scaling changes the weights clearly
    mask = causal_allowed(4, 8) | (torch.arange(8) >= 4)  # causal over keys 0-3, keys 4-7 seen by all
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert tolerances_off(snippet_attention(q, k, v, mask)[0], ref) <= 1.0  # the comparison accepts the page's code
    off = tolerances_off(MUTANTS[name](q, k, v, mask), ref)
    assert off > 1e6, f"{name}: only {off:.3g} tolerances off, the comparison could not tell it apart"


# ---------------------------------------------------------------------------
# The numbers the page states about its figures, from the snippet's own functions
# (the figure cells of snippets/attention.py call the same functions with the same arguments)
# ---------------------------------------------------------------------------
FIGURES = snippet_function("attention", "saturation_stats", "toy_self_attention")
FIG3_D_KS = [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]


def test_figure3_saturation_numbers():
    """Figure 3's caption: the score variance grows like d_k without scaling and stays at 1 with it; at
    d_k = 1024 the largest of 16 weights averages 0.97 unscaled and 0.25 scaled (about 0.25 for every d_k);
    the Jacobian norm falls from about 0.3 to about 5e-6 unscaled and stays at about 0.3 scaled."""
    stats = FIGURES["saturation_stats"](FIG3_D_KS, n_queries=400, n_keys=16)
    un, sc = stats["unscaled"], stats["scaled"]
    for d_k, v_un, v_sc in zip(FIG3_D_KS, un["var"], sc["var"]):
        assert abs(v_un / d_k - 1) < 0.15 and abs(v_sc - 1) < 0.15
    assert abs(un["max_w"][-1] - 0.97) < 0.01
    assert all(abs(m - 0.25) < 0.02 for m in sc["max_w"])
    assert abs(un["jac"][0] - 0.3) < 0.02 and 1e-6 < un["jac"][-1] < 1e-5
    assert all(abs(j - 0.3) < 0.02 for j in sc["jac"])
    # the stated "about 0.3" is close to, but above, the Jacobian norm of a uniform softmax, sqrt(S - 1) / S
    assert math.sqrt(15) / 16 < min(sc["jac"])


def test_figure4_toy_sentence_claims():
    """Figure 4's caption: without a mask every token attends most to itself and the two "the" tokens equally to
    each other; masked keys get weight exactly 0; every row sums to 1; with the causal mask, query i sees j <= i."""
    tokens, weights = FIGURES["toy_self_attention"]()
    T = len(tokens)
    _, w = weights["no mask"]
    diag = w.diagonal()
    assert all(diag[i] >= w[i].max() - 1e-6 for i in range(T))  # itself first (a tie for the two "the")
    assert torch.isclose(w[0, 4], w[0, 0]) and torch.isclose(w[4, 0], w[4, 4])
    for name, (mask, w) in weights.items():
        assert torch.allclose(w.sum(-1), torch.ones(T)), name
        if mask is not None:
            assert (w[~mask] == 0).all(), name
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    assert (weights["causal + padding mask"][1][~causal] == 0).all()
    assert (weights["padding mask"][1][:, tokens.index("<pad>")] == 0).all()


# ---------------------------------------------------------------------------
# Additive (Bahdanau) attention: the snippet's nn.Module against the formula written out, values and
# gradients (the backward pass derived by hand below, and checked by autograd)
# ---------------------------------------------------------------------------
ADD = snippet_function("attention", "AdditiveAttention", "luong_scores", "adam_step")


def additive_from_scratch(s, H, W_a, U_a, v_a, softmax_dim=-1, squash=torch.tanh):
    """Page: e_ij = v_a^T tanh(W_a s_{i-1} + U_a h_j), alpha_ij = softmax over j, c_i = sum_j alpha_ij h_j,
    one source position at a time. s: (B, d_s), H: (B, T, d_h)."""
    B, T, _ = H.shape
    e = torch.stack([torch.stack([v_a @ squash(W_a @ s[b] + U_a @ H[b, j]) for j in range(T)]) for b in range(B)])
    alpha = torch.exp(e - e.amax(dim=softmax_dim, keepdim=True))
    alpha = alpha / alpha.sum(dim=softmax_dim, keepdim=True)
    c = torch.stack([sum(alpha[b, j] * H[b, j] for j in range(T)) for b in range(B)])
    return e, alpha, c


def additive_backward(s, H, W_a, U_a, v_a, g, tanh_derivative=lambda t: 1 - t**2):
    """Gradients of L = sum_b g_b . c_b, by the chain rule:
    dL/dalpha_j = g . h_j; dL/de = alpha * (dL/dalpha - sum_m alpha_m dL/dalpha_m) (softmax Jacobian);
    z_j = W_a s + U_a h_j, t_j = tanh(z_j): dL/dz_j = dL/de_j v_a * (1 - t_j^2);
    dL/dv_a = sum_j dL/de_j t_j, dL/dW_a = sum_j dL/dz_j s^T, dL/dU_a = sum_j dL/dz_j h_j^T,
    dL/ds = W_a^T sum_j dL/dz_j, dL/dh_j = alpha_j g + U_a^T dL/dz_j."""
    z = (s @ W_a.T)[:, None, :] + H @ U_a.T  # (B, T, d_a)
    t = torch.tanh(z)
    alpha = torch.softmax(t @ v_a, dim=-1)  # (B, T)
    d_alpha = (H * g[:, None, :]).sum(-1)
    d_e = alpha * (d_alpha - (alpha * d_alpha).sum(-1, keepdim=True))
    d_z = d_e[:, :, None] * v_a * tanh_derivative(t)
    return {"v_a": (d_e[:, :, None] * t).sum((0, 1)),
            "W_a": torch.einsum("bta,bd->ad", d_z, s),
            "U_a": torch.einsum("bta,btd->ad", d_z, H),
            "s": d_z.sum(1) @ W_a,
            "H": alpha[:, :, None] * g[:, None, :] + d_z @ U_a}


def additive_setup(seed=40, B=3, T=7, d_s=5, d_h=6, d_a=4):
    torch.manual_seed(seed)
    module = ADD["AdditiveAttention"](d_s, d_h, d_a).double()
    s = torch.randn(B, d_s, dtype=torch.float64, requires_grad=True)
    H = torch.randn(B, T, d_h, dtype=torch.float64, requires_grad=True)
    g = torch.randn(B, d_h, dtype=torch.float64)
    W_a, U_a, v_a = module.W_a.weight.detach(), module.U_a.weight.detach(), module.v_a.weight.detach()[0]
    return module, s, H, g, W_a, U_a, v_a


def test_additive_module_matches_formula():
    module, s, H, _, W_a, U_a, v_a = additive_setup()
    c, alpha = module(s, H)
    e_ref, alpha_ref, c_ref = additive_from_scratch(s.detach(), H.detach(), W_a, U_a, v_a)
    assert_matches(alpha, alpha_ref)
    assert_matches(c, c_ref)
    assert_matches(alpha.sum(-1), torch.ones(3, dtype=torch.float64))
    # the softmax of the from-scratch scores is torch.softmax of them
    assert_matches(alpha_ref, torch.softmax(e_ref, dim=-1))


def test_additive_gradients_by_hand_match_autograd():
    module, s, H, g, W_a, U_a, v_a = additive_setup()
    c, _ = module(s, H)
    (c * g).sum().backward()
    by_hand = additive_backward(s.detach(), H.detach(), W_a, U_a, v_a, g)
    autograd = {"v_a": module.v_a.weight.grad[0], "W_a": module.W_a.weight.grad,
                "U_a": module.U_a.weight.grad, "s": s.grad, "H": H.grad}
    for name in by_hand:
        assert_matches(by_hand[name], autograd[name])
    # and autograd's own check of the module against finite differences
    assert torch.autograd.gradcheck(lambda s_, H_: module(s_, H_)[0], (s, H))
    # mutation: tanh'(z) written as 1 - tanh(z) (a dropped square) is caught by the same comparison
    wrong = additive_backward(s.detach(), H.detach(), W_a, U_a, v_a, g, tanh_derivative=lambda t: 1 - t)
    assert tolerances_off(wrong["W_a"], autograd["W_a"]) > 1e6


@pytest.mark.parametrize("slip", ["softmax over the batch", "no tanh", "scores from the keys only"])
def test_additive_mutants_are_caught(slip):
    module, s, H, _, W_a, U_a, v_a = additive_setup()
    c, alpha = module(s, H)
    kwargs = {"softmax over the batch": dict(softmax_dim=0), "no tanh": dict(squash=lambda z: z)}.get(slip, {})
    W = torch.zeros_like(W_a) if slip == "scores from the keys only" else W_a  # the decoder state ignored
    _, alpha_wrong, c_wrong = additive_from_scratch(s.detach(), H.detach(), W, U_a, v_a, **kwargs)
    assert tolerances_off(alpha_wrong, alpha) > 1e6 and tolerances_off(c_wrong, c) > 1e6


# ---------------------------------------------------------------------------
# Luong's score functions (the snippet's luong_scores) against torch modules
# ---------------------------------------------------------------------------
def luong_setup(seed=41, B=2, S=6, d=5, d_a=4):
    g = torch.Generator().manual_seed(seed)
    h_t = torch.randn(B, d, generator=g, dtype=torch.float64)
    H = torch.randn(B, S, d, generator=g, dtype=torch.float64)
    W_g = torch.randn(d, d, generator=g, dtype=torch.float64)  # general: h_t^T W_a h_s
    W_c = torch.randn(d_a, 2 * d, generator=g, dtype=torch.float64)  # concat: v_a^T tanh(W_a [h_t; h_s])
    v_c = torch.randn(d_a, generator=g, dtype=torch.float64)
    return h_t, H, W_g, W_c, v_c


def test_luong_dot_is_sdpa_with_scale_one():
    h_t, H, *_ = luong_setup()
    e = ADD["luong_scores"](h_t, H, "dot")
    context = (torch.softmax(e, dim=-1)[:, :, None] * H).sum(1)
    ref = F.scaled_dot_product_attention(h_t[:, None], H, H, scale=1.0)[:, 0]  # keys = values = h_s
    assert_matches(context, ref)
    # mutation: the Transformer's 1/sqrt(d) is not in Luong's dot score
    ref_scaled = F.scaled_dot_product_attention(h_t[:, None], H, H)[:, 0]
    assert tolerances_off(context, ref_scaled) > 1e6


def test_luong_general_is_bilinear():
    h_t, H, W_g, _, _ = luong_setup()
    B, S, d = H.shape
    e = ADD["luong_scores"](h_t, H, "general", W_a=W_g)
    ref = F.bilinear(h_t[:, None].expand(B, S, d), H, W_g[None])[..., 0]  # x1^T A x2
    assert_matches(e, ref)
    wrong = ADD["luong_scores"](h_t, H, "general", W_a=W_g.T)  # h_s^T W_a h_t: W_a transposed
    assert tolerances_off(wrong, ref) > 1e6


def test_luong_concat_is_mlp_and_bahdanau_score():
    h_t, H, _, W_c, v_c = luong_setup()
    B, S, d = H.shape
    e = ADD["luong_scores"](h_t, H, "concat", W_a=W_c, v_a=v_c)
    net = torch.nn.Sequential(torch.nn.Linear(2 * d, len(v_c), bias=False), torch.nn.Tanh(),
                              torch.nn.Linear(len(v_c), 1, bias=False)).double()
    with torch.no_grad():
        net[0].weight.copy_(W_c)
        net[2].weight.copy_(v_c[None])
        ref = net(torch.cat([h_t[:, None].expand(B, S, d), H], dim=-1))[..., 0]
    assert_matches(e, ref)
    # W_a [h_t; h_s] = W_1 h_t + W_2 h_s: the concat score is Bahdanau's additive score, so its weights are
    # those of the AdditiveAttention module with W_a = W_1 and U_a = W_2
    module = ADD["AdditiveAttention"](d, d, len(v_c)).double()
    with torch.no_grad():
        module.W_a.weight.copy_(W_c[:, :d])
        module.U_a.weight.copy_(W_c[:, d:])
        module.v_a.weight.copy_(v_c[None])
        _, alpha = module(h_t, H)
    assert_matches(torch.softmax(e, dim=-1), alpha)
    swapped = ADD["luong_scores"](h_t, H, "concat", W_a=torch.cat([W_c[:, d:], W_c[:, :d]], 1), v_a=v_c)
    assert tolerances_off(swapped, ref) > 1e6  # [h_s; h_t] instead of [h_t; h_s]


def test_adam_step_matches_torch_optim_adam():
    g = torch.Generator().manual_seed(42)
    w_ours = torch.randn(4, 3, generator=g, dtype=torch.float64)
    w_ref = w_ours.clone().requires_grad_(True)
    opt = torch.optim.Adam([w_ref], lr=0.03)
    state = {}
    for _ in range(5):
        grad = torch.randn(4, 3, generator=g, dtype=torch.float64)
        ADD["adam_step"]([w_ours], [grad], state, 0.03)
        w_ref.grad = grad.clone()
        opt.step()
    assert_matches(w_ours, w_ref.detach())
    plain = w_ref.detach() - 0.03 * grad  # mutation: one SGD step instead of Adam's last step
    assert tolerances_off(plain, w_ours) > 1e6


# ---------------------------------------------------------------------------
# Figure 2: the trained reverser (the figure cell calls these functions with their defaults)
# ---------------------------------------------------------------------------
REV = snippet_function("attention", "train_reverser", "evaluate_reverser", "reversal_batch", "luong_scores")


@pytest.fixture(scope="module")
def reverser():
    model, losses = REV["train_reverser"]()
    return model, losses, REV["evaluate_reverser"](model)


def test_reverser_task_and_teacher_forcing():
    x, y, y_in = REV["reversal_batch"](4, 5, torch.Generator().manual_seed(0))
    assert torch.equal(y, x.flip(1)) and (y_in[:, 0] == 10).all() and torch.equal(y_in[:, 1:], y[:, :-1])


def test_reverser_scores_are_luong_general(reverser):
    """The model's attend() computes Luong's general score h_t^T W_a h_s, with a softmax over s."""
    model = reverser[0]
    x, _, y_in = REV["reversal_batch"](3, 5, torch.Generator().manual_seed(2))
    with torch.no_grad():
        H, s0 = model.encode(x)
        h, _ = model.decoder(model.embed_tgt(y_in), s0)
        _, weights = model.attend(h, H)
        W_a = model.W_a.weight  # (d, 2d): h_t^T W_a h_s
        for t in range(5):
            ref = torch.softmax(REV["luong_scores"](h[:, t], H, "general", W_a=W_a), dim=-1)
            assert torch.allclose(weights[:, t], ref, atol=1e-6)
            assert not torch.allclose(weights[:, t], torch.softmax(REV["luong_scores"](h[:, t], H, "general",
                                                                                        W_a=2 * W_a), -1), atol=1e-3)


def test_figure2_reverser_numbers(reverser):
    """Page and caption: loss from about 2.3 (ln 10, a uniform guess) to below 0.1; 92 % of 1000 new strings
    reversed exactly, 97 % of the digits; mean weight on the anti-diagonal 0.92; the largest weight of a row on
    the anti-diagonal in 96 % of the rows; the example string's every row peaks there."""
    _, losses, (exact, per_digit, weights, x) = reverser
    assert abs(losses[0] - math.log(10)) < 0.05 and losses[-1] < 0.1
    assert abs(exact - 0.92) < 0.02 and abs(per_digit - 0.97) < 0.01
    T = x.shape[1]
    anti = torch.arange(T - 1, -1, -1)
    assert abs(weights[:, torch.arange(T), anti].mean().item() - 0.92) < 0.02
    assert abs((weights.argmax(-1) == anti).float().mean().item() - 0.96) < 0.01
    assert torch.equal(weights[0].argmax(-1), anti)
    assert torch.allclose(weights.sum(-1), torch.ones(1000, T), atol=1e-6)
    # the mean map of the right panel: every row's largest entry is its anti-diagonal entry
    assert torch.equal(weights.mean(0).argmax(-1), anti)


def test_figure2_caption_panels(reverser):
    """Caption: left, the string 59483 decoded greedily to 38495, each step putting 0.85 to 1.00 of its weight on
    the digit it copies; right, the anti-diagonal of the mean holds 0.85 to 0.99 of each row, less in the middle rows
    than in the first and the last."""
    model, _, (_, _, weights, x) = reverser
    T = x.shape[1]
    anti = torch.arange(T - 1, -1, -1)
    assert x[0].tolist() == [5, 9, 4, 8, 3]
    assert model.greedy(x[:1])[0][0].tolist() == [3, 8, 4, 9, 5]
    left = weights[0, torch.arange(T), anti]
    assert abs(left.min().item() - 0.85) < 0.01 and left.max().item() > 0.995
    right = weights.mean(0)[torch.arange(T), anti]
    assert abs(right.min().item() - 0.85) < 0.01 and abs(right.max().item() - 0.99) < 0.01
    assert min(right[0], right[-1]) > right[1:-1].max()
