"""Formula tests for docs/*/sequences/word-embeddings.md.

The page's equations are implemented here from scratch and compared with PyTorch:
- the skip-gram negative-sampling loss and its gradients, written with sigmoid formulas, against
  autograd through the snippet's sgns_loss and two nn.Embedding tables (repeated words included);
- the full-softmax skip-gram loss and its gradient against F.cross_entropy and autograd;
- nn.Embedding as a lookup: one-hot times the weight matrix, forward and backward;
- GloVe's weighting function and loss for a tiny co-occurrence matrix, with hand-derived
  gradients against autograd of a vectorized torch implementation;
- the noise distribution unigram^(3/4) / Z and the subsampling keep probability.
Mutation tests run wrong formulas (the sign of the negative term, a missing normalization, an
uncapped weighting, the plain unigram) through the same comparisons. The numbers the page states
about the figures are read from a full, off-screen run of the snippet and asserted.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from snippet_code import run_snippet, snippet_function

SNIPPET = snippet_function("word_embeddings", "sgns_loss", "noise_distribution", "keep_probability",
                           "glove_weight", "analogy", "cosine_matrix", "category_similarity")
sgns_loss = SNIPPET["sgns_loss"]
DTYPE = torch.float64
RTOL, ATOL = 1e-10, 1e-12


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def off(actual, expected, rtol=RTOL, atol=ATOL):
    """Worst entry's error in units of the tolerance (<= 1 passes); inf on NaN or a shape mismatch."""
    actual, expected = torch.as_tensor(actual, dtype=DTYPE), torch.as_tensor(expected, dtype=DTYPE)
    if actual.shape != expected.shape:
        return math.inf
    err = ((actual - expected).abs() / (atol + rtol * expected.abs())).max().item()
    return math.inf if math.isnan(err) else err


# ---------------------------------------------------------------------------
# Skip-gram with negative sampling: loss and gradients by hand vs autograd
# ---------------------------------------------------------------------------
def sgns_by_hand(V, U, centers, contexts, negatives, wrong_sign=False):
    """Page: l = -log s(u_o.v) - sum_k log s(-u_k.v), averaged over the B pairs; gradients
    dl/dv = (s(u_o.v) - 1) u_o + sum_k s(u_k.v) u_k, dl/du_o = (s(u_o.v) - 1) v, dl/du_k = s(u_k.v) v,
    accumulated per word (a word can be a center, a context and a noise word several times).
    wrong_sign: the mutation log s(+u_k.v) for the noise words."""
    B = len(centers)
    loss, gV, gU = 0.0, torch.zeros_like(V), torch.zeros_like(U)
    for b in range(B):
        v, o = V[centers[b]], contexts[b]
        s_o = float(U[o] @ v)
        loss -= math.log(sigmoid(s_o))
        gV[centers[b]] += (sigmoid(s_o) - 1) * U[o] / B
        gU[o] += (sigmoid(s_o) - 1) * v / B
        for w in negatives[b]:
            s_k = float(U[w] @ v)
            if wrong_sign:  # -log s(s_k): derivative -(1 - s(s_k))
                loss -= math.log(sigmoid(s_k))
                gV[centers[b]] += -(1 - sigmoid(s_k)) * U[w] / B
                gU[w] += -(1 - sigmoid(s_k)) * v / B
            else:  # -log s(-s_k): derivative s(s_k)
                loss -= math.log(sigmoid(-s_k))
                gV[centers[b]] += sigmoid(s_k) * U[w] / B
                gU[w] += sigmoid(s_k) * v / B
    return loss / B, gV, gU


def sgns_case(seed, n_words=7, dim=4, B=5, k=3):
    gen = torch.Generator().manual_seed(seed)
    V = torch.randn(n_words, dim, generator=gen, dtype=DTYPE)
    U = torch.randn(n_words, dim, generator=gen, dtype=DTYPE)
    centers = torch.randint(n_words, (B,), generator=gen)
    contexts = torch.randint(n_words, (B,), generator=gen)
    negatives = torch.randint(n_words, (B, k), generator=gen)
    centers[1] = centers[0]  # a repeated center
    negatives[0, 1] = contexts[0]  # a noise word equal to the true context
    return V, U, centers, contexts, negatives


def sgns_off(seed, wrong_sign=False):
    V, U, centers, contexts, negatives = sgns_case(seed)
    center_emb = torch.nn.Embedding.from_pretrained(V.clone(), freeze=False)
    context_emb = torch.nn.Embedding.from_pretrained(U.clone(), freeze=False)
    loss = sgns_loss(center_emb(centers), context_emb(contexts), context_emb(negatives))
    loss.backward()
    hand_loss, gV, gU = sgns_by_hand(V, U, centers, contexts, negatives, wrong_sign)
    return max(off(hand_loss, loss.detach()), off(gV, center_emb.weight.grad), off(gU, context_emb.weight.grad))


@pytest.mark.parametrize("seed", range(4))
def test_sgns_loss_and_gradient_match_autograd(seed):
    assert sgns_off(seed) <= 1.0


@pytest.mark.parametrize("seed", range(4))
def test_wrong_sign_on_the_negative_term_fails(seed):
    """Mutation: s(u_k.v) instead of s(-u_k.v) in the noise term."""
    assert sgns_off(seed, wrong_sign=True) > 1e6


def test_sgns_loss_starts_at_one_plus_k_log_two():
    """With all context vectors zero (the word2vec initialization) every score is 0: l = (1 + k) log 2."""
    v = torch.randn(6, 4, dtype=DTYPE)
    loss = sgns_loss(v, torch.zeros(6, 4, dtype=DTYPE), torch.zeros(6, 5, 4, dtype=DTYPE))
    assert abs(loss.item() - 6 * math.log(2)) < 1e-14


# ---------------------------------------------------------------------------
# Full softmax: -u_o.v + log sum_w exp(u_w.v) vs F.cross_entropy, gradient vs autograd
# ---------------------------------------------------------------------------
def softmax_loss_by_hand(v, U, o, normalize=True):
    scores = [float(U[w] @ v) for w in range(U.shape[0])]
    log_z = math.log(sum(math.exp(s) for s in scores)) if normalize else 0.0
    p = torch.tensor([math.exp(s - log_z) for s in scores], dtype=DTYPE)
    grad_v = -U[o] + (p[:, None] * U).sum(0)  # -u_o + sum_w p(w|c) u_w
    grad_U = p[:, None] * v[None, :]
    grad_U[o] -= v
    return -scores[o] + log_z, grad_v, grad_U


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("normalize", [True, False], ids=["right", "mutation-no-normalizer"])
def test_full_softmax_matches_cross_entropy(seed, normalize):
    gen = torch.Generator().manual_seed(seed)
    U = torch.randn(11, 5, generator=gen, dtype=DTYPE, requires_grad=True)
    v = torch.randn(5, generator=gen, dtype=DTYPE, requires_grad=True)
    o = int(torch.randint(11, (), generator=gen))
    loss = F.cross_entropy((U @ v)[None, :], torch.tensor([o]))
    loss.backward()
    hand, grad_v, grad_U = softmax_loss_by_hand(v.detach(), U.detach(), o, normalize)
    worst = max(off(hand, loss.detach()), off(grad_v, v.grad), off(grad_U, U.grad))
    assert (worst <= 1.0) if normalize else (worst > 1e6)


# ---------------------------------------------------------------------------
# nn.Embedding is one-hot times a matrix
# ---------------------------------------------------------------------------
def test_embedding_lookup_is_one_hot_times_weight():
    torch.manual_seed(0)
    emb = torch.nn.Embedding(10, 3, dtype=DTYPE)
    ids = torch.tensor([[1, 4, 4], [9, 0, 1]])
    out = emb(ids)
    one_hot = F.one_hot(ids, 10).to(DTYPE)
    assert torch.equal(out, one_hot @ emb.weight)  # exact: each row is a copy
    upstream = torch.randn(2, 3, 3, dtype=DTYPE)
    (out * upstream).sum().backward()
    expected = one_hot.reshape(-1, 10).T @ upstream.reshape(-1, 3)  # repeated ids add up
    assert off(emb.weight.grad, expected) <= 1.0
    assert emb.weight.grad[[2, 3, 5, 6, 7, 8]].abs().max() == 0  # unused rows get no gradient


# ---------------------------------------------------------------------------
# GloVe: the weighting function and the weighted least-squares loss
# ---------------------------------------------------------------------------
X_TINY = torch.tensor([[0, 3, 120, 1],
                       [3, 0, 7, 0],
                       [120, 7, 0, 45],
                       [1, 0, 45, 2]], dtype=DTYPE)


def f_by_hand(x, x_max=100.0, alpha=0.75, capped=True):
    if x == 0:
        return 0.0
    return min(1.0, (x / x_max) ** alpha) if capped else (x / x_max) ** alpha


def test_glove_weight_values():
    glove_weight = SNIPPET["glove_weight"]
    xs = [0.0, 1.0, 3.0, 50.0, 99.0, 100.0, 120.0, 1e4]
    assert off(glove_weight(torch.tensor(xs)), [f_by_hand(x) for x in xs]) <= 1.0
    assert glove_weight(torch.tensor(50.0)).item() == pytest.approx(0.5946, abs=1e-4)  # (1/2)^(3/4), on the page
    assert glove_weight(torch.tensor(1.0)).item() == pytest.approx(0.0316, abs=1e-4)  # (1/100)^(3/4), on the page


def glove_by_hand(W, Wt, b, bt, X, capped=True):
    """J = sum_{X_ij > 0} f(X_ij) e_ij^2, e_ij = w_i.w~_j + b_i + b~_j - log X_ij;
    dJ/dw_i = sum_j 2 f e_ij w~_j, dJ/dw~_j = sum_i 2 f e_ij w_i, dJ/db_i = sum_j 2 f e_ij, dJ/db~_j = sum_i 2 f e_ij."""
    n = X.shape[0]
    J, gW, gWt, gb, gbt = 0.0, torch.zeros_like(W), torch.zeros_like(Wt), torch.zeros_like(b), torch.zeros_like(bt)
    for i in range(n):
        for j in range(n):
            x = float(X[i, j])
            if x == 0:
                continue  # f(0) = 0: log 0 is never needed
            fx = f_by_hand(x, capped=capped)
            e = float(W[i] @ Wt[j]) + float(b[i]) + float(bt[j]) - math.log(x)
            J += fx * e * e
            gW[i] += 2 * fx * e * Wt[j]
            gWt[j] += 2 * fx * e * W[i]
            gb[i] += 2 * fx * e
            gbt[j] += 2 * fx * e
    return J, gW, gWt, gb, gbt


def glove_torch(W, Wt, b, bt, X):
    glove_weight = SNIPPET["glove_weight"]
    mask = X > 0
    log_x = torch.log(torch.where(mask, X, torch.ones_like(X)))
    err = W @ Wt.T + b[:, None] + bt[None, :] - log_x
    return (glove_weight(X) * mask * err**2).sum()


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("capped", [True, False], ids=["right", "mutation-uncapped-f"])
def test_glove_loss_and_gradients(seed, capped):
    gen = torch.Generator().manual_seed(seed)
    params = [torch.randn(4, 3, generator=gen, dtype=DTYPE), torch.randn(4, 3, generator=gen, dtype=DTYPE),
              torch.randn(4, generator=gen, dtype=DTYPE), torch.randn(4, generator=gen, dtype=DTYPE)]
    leaves = [p.clone().requires_grad_(True) for p in params]
    J = glove_torch(*leaves, X_TINY)
    J.backward()
    hand = glove_by_hand(*params, X_TINY, capped=capped)
    worst = max(off(hand[0], J.detach()), *(off(h, p.grad) for h, p in zip(hand[1:], leaves)))
    assert (worst <= 1.0) if capped else (worst > 1e6)


# ---------------------------------------------------------------------------
# Noise distribution and subsampling
# ---------------------------------------------------------------------------
COUNTS = np.array([500.0, 120.0, 30.0, 8.0, 1.0])


@pytest.mark.parametrize("power,right", [(0.75, True), (1.0, False), (0.5, False)],
                         ids=["unigram^0.75", "mutation-unigram", "mutation-sqrt"])
def test_noise_distribution(power, right):
    hand = torch.tensor([c**0.75 for c in COUNTS], dtype=DTYPE)
    hand = hand / hand.sum()
    got = SNIPPET["noise_distribution"](COUNTS, power)
    assert abs(got.sum().item() - 1) < 1e-14
    assert (off(got, hand) <= 1.0) if right else (off(got, hand) > 1e6)
    if right:  # raising to 3/4 moves mass from frequent to rare words
        unigram = COUNTS / COUNTS.sum()
        assert got[0] < unigram[0] and got[-1] > unigram[-1]


def test_keep_probability():
    t = 0.01
    freq = COUNTS / COUNTS.sum()
    hand = [min(1.0, math.sqrt(t / f)) for f in freq]
    assert off(SNIPPET["keep_probability"](COUNTS, t), hand) <= 1.0


def test_analogy_excludes_its_inputs():
    """b - a + c is closest to c itself when the offset b - a is small; the usual test then skips c."""
    E = torch.tensor([[1.0, 0.0, 0.0], [1.0, 0.2, 0.0], [0.0, 0.0, 1.0], [0.3, 0.6, 1.0], [0.0, 1.0, 0.0]], dtype=DTYPE)
    analogy = SNIPPET["analogy"]
    assert analogy(E, 0, 1, 2, exclude_inputs=False) == 2  # the input c
    assert analogy(E, 0, 1, 2) == 3


# ---------------------------------------------------------------------------
# The numbers the page states about the figures
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def snippet_run():
    return run_snippet("word_embeddings")


def test_figure_numbers(snippet_run):
    """Section "Skip-gram on a synthetic corpus", Figures 1 and 2, and the analogy section."""
    r = snippet_run["result"]
    assert snippet_run["figures"] == 3
    assert len(r["vocab"]) == 84 and r["n_tokens"] == 16289
    assert r["n_kept"] == pytest.approx(12400, rel=0.01) and r["n_pairs"] == pytest.approx(31600, rel=0.01)
    assert round(float(r["keep"][r["word_to_id"]["the"]]), 2) == 0.36
    # the loss falls from about 3.5 (mean of the first 20 steps) to about 1.4 (last 20)
    assert r["losses"][:20].mean() == pytest.approx(3.5, abs=0.05)
    assert r["losses"][-20:].mean() == pytest.approx(1.4, abs=0.05)
    assert 6 * math.log(2) == pytest.approx(4.16, abs=0.005)  # (1 + k) log 2 at the start, k = 5
    # Figure 2: mean cosine 0.98 within a category, 0.33 between; every category > 0.9 within, < 0.45 between
    within, between = r["within"], r["between"]
    assert np.mean(list(within.values())) == pytest.approx(0.98, abs=0.005)
    assert np.mean(list(between.values())) == pytest.approx(0.33, abs=0.005)
    assert min(within.values()) > 0.9 and max(between.values()) < 0.45
    assert r["purity"] == 1.0  # all 48 category words have their nearest neighbor in their own category
    # Figure 1: the 2-D projection keeps about two thirds of the variance
    assert snippet_run["pca"].explained_variance_ratio_.sum() == pytest.approx(2 / 3, abs=0.04)
    # analogies: 35 of 56 with the input words excluded, 27 without the exclusion
    assert r["analogies"] == (35, 56) and r["analogies_no_exclusion"] == (27, 56)
