"""Formula tests for docs/*/optimization/regularization.md.

The page's equations are implemented here from scratch (Bernoulli masks, exact sums over
all masks, hand-written gradients and updates) and compared with PyTorch (nn.Dropout,
F.dropout, autograd, torch.optim.SGD / Adam / AdamW). Statistical checks use tolerances
derived from the standard error, tight enough that the unscaled (wrong) dropout fails them.
"""

import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from support import regression_data

DTYPE = torch.float64


def inverted_dropout(h, p, gen):
    """Page formula: m_j ~ Bernoulli(1 - p),  h~ = m * h / (1 - p)  (training mode)."""
    m = torch.bernoulli(torch.full_like(h, 1 - p), generator=gen)
    return m * h / (1 - p)


def unscaled_dropout(h, p, gen):
    """Training mode of the original scheme: h~ = m * h (no rescaling during training)."""
    m = torch.bernoulli(torch.full_like(h, 1 - p), generator=gen)
    return m * h


def all_masks(d):
    """Every mask in {0, 1}^d as rows of a (2^d, d) tensor."""
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=d)), dtype=DTYPE)


def mask_probs(masks, p):
    """P(m) = prod_j (1 - p)^{m_j} p^{1 - m_j} for independent Bernoulli(1 - p) units."""
    return ((1 - p) * masks + p * (1 - masks)).prod(dim=-1)


# ---------------------------------------------------------------------------
# E[m h / (1 - p)] = h,  Var[m h / (1 - p)] = p / (1 - p) h^2  (statistically)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("p,d,seed", [(0.1, 5, 0), (0.3, 8, 1), (0.5, 4, 2), (0.8, 6, 3)])
def test_inverted_dropout_expectation_and_variance(p, d, seed):
    gen = torch.Generator().manual_seed(seed)
    h = torch.randn(d, dtype=DTYPE, generator=gen) + 0.5 * torch.sign(torch.randn(d, dtype=DTYPE, generator=gen))
    n = 200_000
    samples = inverted_dropout(h.expand(n, d), p, gen)
    se = torch.sqrt(p / (1 - p) * h**2 / n)  # standard error of the sample mean, from the page's variance
    z = (samples.mean(0) - h).abs() / se
    assert z.max() < 5.0  # E = h within 5 standard errors
    torch.testing.assert_close(samples.var(0), p / (1 - p) * h**2, rtol=0.03, atol=0)
    # the same tolerance rejects dropout without the 1/(1-p) factor: E[m h] = (1 - p) h != h
    wrong = unscaled_dropout(h.expand(n, d), p, gen)
    assert ((wrong.mean(0) - h).abs() / se).max() > 5.0


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5, 0.8])
@pytest.mark.parametrize("shape", [(4000, 7), (300, 3, 5, 5)])
def test_nn_dropout_train_mode_values_and_rate(p, shape):
    torch.manual_seed(0)
    x = torch.rand(shape, dtype=DTYPE) + 0.1  # bounded away from 0, so a zero output means "dropped"
    x = x * torch.where(torch.rand(shape) < 0.5, -1.0, 1.0).to(DTYPE)
    drop = torch.nn.Dropout(p)
    drop.train()
    out = drop(x)
    dropped = out == 0
    # values: exactly {0, x / (1 - p)}
    torch.testing.assert_close(out[~dropped], x[~dropped] / (1 - p), rtol=1e-15, atol=0)
    # drop rate: p, within 5 binomial standard errors
    n = x.numel()
    assert abs(dropped.double().mean().item() - p) < 5 * math.sqrt(p * (1 - p) / n)
    # and the page's formula gives the same rate and values
    gen = torch.Generator().manual_seed(1)
    ours = inverted_dropout(x, p, gen)
    ours_dropped = ours == 0
    assert abs(ours_dropped.double().mean().item() - p) < 5 * math.sqrt(p * (1 - p) / n)
    torch.testing.assert_close(ours[~ours_dropped], x[~ours_dropped] / (1 - p), rtol=1e-15, atol=0)


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_nn_dropout_mean_is_the_input(p):
    torch.manual_seed(2)
    h = torch.tensor([2.0, -1.0, 0.3, 4.0], dtype=DTYPE)
    n = 200_000
    out = torch.nn.Dropout(p).train()(h.expand(n, 4))
    se = torch.sqrt(p / (1 - p) * h**2 / n)
    assert ((out.mean(0) - h).abs() / se).max() < 5.0
    assert (((1 - p) * h - h).abs() / se).min() > 5.0  # the unscaled expectation would be detected


@pytest.mark.parametrize("p", [0.0, 0.3, 0.9])
def test_dropout_eval_mode_is_identity(p):
    x = torch.randn(6, 5, dtype=DTYPE)
    drop = torch.nn.Dropout(p)
    drop.eval()
    assert torch.equal(drop(x), x)
    assert torch.equal(F.dropout(x, p=p, training=False), x)
    net = torch.nn.Sequential(torch.nn.Linear(5, 5, dtype=DTYPE), torch.nn.Dropout(p)).eval()
    torch.testing.assert_close(net(x), net[0](x), rtol=0, atol=0)


# ---------------------------------------------------------------------------
# original scheme (train m*h, test (1-p) h) vs inverted (train m*h/(1-p), test h): exact expectations
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("p,d,out,seed", [(0.5, 4, 3, 0), (0.2, 5, 2, 1), (0.7, 3, 4, 2)])
def test_original_test_scaling_equals_expectation(p, d, out, seed):
    gen = torch.Generator().manual_seed(seed)
    h = torch.randn(d, dtype=DTYPE, generator=gen)
    W = torch.randn(out, d, dtype=DTYPE, generator=gen)
    b = torch.randn(out, dtype=DTYPE, generator=gen)
    masks, q = all_masks(d), 1 - p
    probs = mask_probs(masks, p)
    assert probs.sum().item() == pytest.approx(1.0, abs=1e-15)
    # original scheme: E_m[W (m * h) + b] = W ((1 - p) h) + b  (test time: multiply by the keep probability)
    e_orig = (probs[:, None] * ((masks * h) @ W.T + b)).sum(0)
    torch.testing.assert_close(e_orig, W @ (q * h) + b, rtol=1e-13, atol=1e-13)
    # inverted dropout: E_m[W (m * h / (1 - p)) + b] = W h + b  (test time: identity)
    e_inv = (probs[:, None] * ((masks * h / q) @ W.T + b)).sum(0)
    torch.testing.assert_close(e_inv, W @ h + b, rtol=1e-13, atol=1e-13)
    # the two schemes are the same network with W_inv = (1 - p) W_orig, mask by mask and at test time
    W_inv = q * W
    for m in masks:
        torch.testing.assert_close(W_inv @ (m * h / q), W @ (m * h), rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(W_inv @ h, W @ (q * h), rtol=1e-13, atol=1e-13)
    # and the inverted expectation equals torch's eval-mode output of Linear after Dropout
    lin = torch.nn.Linear(d, out, dtype=DTYPE)
    with torch.no_grad():
        lin.weight.copy_(W)
        lin.bias.copy_(b)
    net = torch.nn.Sequential(torch.nn.Dropout(p), lin).eval()
    torch.testing.assert_close(net(h), e_inv, rtol=1e-13, atol=1e-13)


def test_original_scheme_expectation_statistically_matches_torch_times_keep_prob():
    """Monte Carlo over nn.Dropout masks: (1 - p) * E[nn.Dropout(h)] = E[m * h] = (1 - p) h."""
    torch.manual_seed(3)
    p, n = 0.5, 200_000
    h = torch.tensor([1.0, -3.0, 0.7], dtype=DTYPE)
    out = torch.nn.Dropout(p).train()(h.expand(n, 3))
    orig = (1 - p) * out  # nn.Dropout's output is m * h / (1 - p)
    se = (1 - p) * torch.sqrt(p / (1 - p) * h**2 / n)
    assert (((orig.mean(0) - (1 - p) * h).abs()) / se).max() < 5.0


# ---------------------------------------------------------------------------
# dropout on the inputs of linear regression = data-dependent L2 penalty (exact, all masks)
# E_m[(1/N) sum_i (y_i - sum_j x_ij w_j m_ij / (1-p))^2] = (1/N)||y - Xw||^2 + p/(1-p) sum_j c_j w_j^2
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("n,d,p,seed", [(6, 3, 0.4, 0), (4, 4, 0.2, 1), (10, 2, 0.7, 2)])
def test_input_dropout_linear_regression_is_weighted_l2(n, d, p, seed):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, dtype=DTYPE, generator=gen) * torch.linspace(0.5, 2.0, d, dtype=DTYPE)
    y = torch.randn(n, dtype=DTYPE, generator=gen)
    w = torch.randn(d, dtype=DTYPE, generator=gen)
    q = 1 - p
    masks, probs = all_masks(d), mask_probs(all_masks(d), p)
    # exact expectation: each example has its own independent mask
    expected = 0.0
    for i in range(n):
        preds = (masks * X[i] / q) @ w
        expected += (probs * (y[i] - preds) ** 2).sum() / n
    c = (X**2).mean(0)
    rhs = ((y - X @ w) ** 2).mean() + p / q * (c * w**2).sum()
    torch.testing.assert_close(expected, rhs, rtol=1e-12, atol=1e-12)
    # the penalty is not a plain ridge term lambda ||w||^2 unless all c_j are equal
    assert c.max() / c.min() > 1.5


# ---------------------------------------------------------------------------
# dropout commutes with ReLU (same mask), not with tanh
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.2, 0.5])
def test_dropout_commutes_with_relu(p):
    x = torch.randn(50, 20, dtype=DTYPE)
    torch.manual_seed(0)
    a = F.dropout(F.relu(x), p=p)
    torch.manual_seed(0)
    b = F.relu(F.dropout(x, p=p))
    assert torch.equal(a, b)
    torch.manual_seed(0)
    c = F.dropout(torch.tanh(x), p=p)
    torch.manual_seed(0)
    d = torch.tanh(F.dropout(x, p=p))
    assert not torch.allclose(c, d)


# ---------------------------------------------------------------------------
# L2 penalty: grad of (lambda/2)||w||^2 = lambda w
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("lam", [1e-4, 0.1, 3.0])
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 2)])
def test_l2_penalty_gradient(lam, shape):
    w = torch.randn(shape, dtype=DTYPE, requires_grad=True)
    penalty = lam / 2 * (w**2).sum()
    (g,) = torch.autograd.grad(penalty, w)
    torch.testing.assert_close(g, lam * w.detach(), rtol=1e-15, atol=0)


# ---------------------------------------------------------------------------
# SGD with weight_decay=lambda:  w <- w - eta (grad L + lambda w) = (1 - eta lambda) w - eta grad L
# ---------------------------------------------------------------------------
def _ls_grad(w, b, X, y):
    """Hand-written gradient of L = (1/N) sum_i (w^T x_i + b - y_i)^2 / 2."""
    r = X @ w + b - y
    return X.T @ r / len(y), r.mean()


@pytest.mark.parametrize("lam,lr,steps,seed", [(0.1, 0.05, 5, 0), (1.0, 0.1, 12, 1), (0.01, 0.3, 20, 2)])
def test_sgd_weight_decay_matches_hand_update(lam, lr, steps, seed):
    X, y = regression_data(40, 6, seed)
    torch.manual_seed(seed)
    model = torch.nn.Linear(6, 1, dtype=DTYPE)
    # weight decay on the weights only (the bias in its own group without decay)
    opt = torch.optim.SGD([
        {"params": [model.weight], "weight_decay": lam},
        {"params": [model.bias], "weight_decay": 0.0},
    ], lr=lr)
    w = model.weight.detach().clone().reshape(6)
    b = model.bias.detach().clone().reshape(())
    w_shrink = w.clone()
    for _ in range(steps):
        loss = 0.5 * ((model(X).squeeze(-1) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        gw, gb = _ls_grad(w, b, X, y)
        gw_s, _ = _ls_grad(w_shrink, b, X, y)
        w = w - lr * (gw + lam * w)  # gradient of L + (lambda/2)||w||^2
        w_shrink = (1 - lr * lam) * w_shrink - lr * gw_s  # shrink, then step
        b = b - lr * gb
        torch.testing.assert_close(model.weight.detach().reshape(6), w, rtol=0, atol=1e-12)
        torch.testing.assert_close(w_shrink, w, rtol=0, atol=1e-12)
        torch.testing.assert_close(model.bias.detach().reshape(()), b, rtol=0, atol=1e-12)
    # weight decay did something: the plain-SGD trajectory is different
    torch.manual_seed(seed)
    plain = torch.nn.Linear(6, 1, dtype=DTYPE)
    opt = torch.optim.SGD(plain.parameters(), lr=lr)
    for _ in range(steps):
        loss = 0.5 * ((plain(X).squeeze(-1) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert not torch.allclose(plain.weight.detach().reshape(6), w, atol=1e-6)


# ---------------------------------------------------------------------------
# coupled (L2 in the gradient) vs decoupled weight decay: equal for SGD, different for Adam
# ---------------------------------------------------------------------------
def _train(make_opt, penalty=0.0, steps=30, seed=0):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(64, 8, dtype=DTYPE, generator=gen) * torch.logspace(-1, 0.5, 8, dtype=DTYPE)
    y = torch.randn(64, dtype=DTYPE, generator=gen)
    w = torch.randn(8, dtype=DTYPE, generator=gen).requires_grad_()
    opt = make_opt([w])
    for _ in range(steps):
        loss = 0.5 * ((X @ w - y) ** 2).mean() + penalty / 2 * (w**2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return w.detach()


class _DecoupledSGD(torch.optim.Optimizer):
    """Hand-written decoupled decay for SGD: w <- (1 - lr*lam) w - lr * grad L."""

    def __init__(self, params, lr, weight_decay):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                p.mul_(1 - group["lr"] * group["weight_decay"]).sub_(group["lr"] * p.grad)


@pytest.mark.parametrize("lam,lr", [(0.5, 0.01), (0.05, 0.05)])
def test_coupled_equals_decoupled_for_sgd_but_not_for_adam(lam, lr):
    sgd_penalty = _train(lambda ps: torch.optim.SGD(ps, lr=lr), penalty=lam)
    sgd_coupled = _train(lambda ps: torch.optim.SGD(ps, lr=lr, weight_decay=lam))
    sgd_decoupled = _train(lambda ps: _DecoupledSGD(ps, lr=lr, weight_decay=lam))
    assert sgd_penalty.abs().max() < 10  # converged region, not diverging
    torch.testing.assert_close(sgd_coupled, sgd_penalty, rtol=0, atol=1e-12)
    torch.testing.assert_close(sgd_decoupled, sgd_penalty, rtol=0, atol=1e-12)

    adam_penalty = _train(lambda ps: torch.optim.Adam(ps, lr=lr), penalty=lam)
    adam_coupled = _train(lambda ps: torch.optim.Adam(ps, lr=lr, weight_decay=lam))
    adamw = _train(lambda ps: torch.optim.AdamW(ps, lr=lr, weight_decay=lam))
    torch.testing.assert_close(adam_coupled, adam_penalty, rtol=0, atol=1e-10)  # Adam's weight_decay is L2
    assert (adam_coupled - adamw).abs().max() > 10 * lr * lam * 1e-2  # clearly different trajectories
    assert not torch.allclose(adam_coupled, adamw, atol=1e-4)


def test_decoupled_decay_shrinks_in_proportion_coupled_adam_does_not():
    """With a zero data loss: AdamW gives w (1 - lr*lam) exactly; Adam + L2 moves every weight by ~lr."""
    lr, lam = 0.01, 0.1
    w0 = torch.tensor([10.0, 1.0, 0.1, -5.0], dtype=DTYPE)
    results = {}
    for name, make in [("adamw", lambda ps: torch.optim.AdamW(ps, lr=lr, weight_decay=lam)),
                       ("adam_l2", lambda ps: torch.optim.Adam(ps, lr=lr, weight_decay=lam))]:
        w = w0.clone().requires_grad_()
        opt = make([w])
        (0.0 * w.sum()).backward()  # data gradient = 0
        opt.step()
        results[name] = w.detach()
    torch.testing.assert_close(results["adamw"], (1 - lr * lam) * w0, rtol=1e-15, atol=0)
    # Adam normalises lam * w by its own magnitude: the first step is about lr * sign(w) for every weight
    torch.testing.assert_close(w0 - results["adam_l2"], lr * torch.sign(w0), rtol=1e-5, atol=0)
    assert not torch.allclose(results["adamw"], results["adam_l2"])
