"""Formula tests for docs/*/optimization/regularization.md.

The page's equations are implemented here from scratch (Bernoulli masks, exact sums over
all masks, hand-written gradients and updates) and compared with PyTorch (nn.Dropout,
F.dropout, autograd, torch.optim.SGD / Adam / AdamW). Statistical checks use tolerances
derived from the standard error, tight enough that the unscaled (wrong) dropout fails them.
The mutation tests at the end run wrong dropout scalings, wrong penalties and wrong weight-decay
updates through the same comparisons (dropout_mean_z, input_dropout_penalty_off, weight_decay_off).
"""

import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from snippet_code import snippet_function
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
def dropout_mean_z(dropout, p, d, seed, n=200_000):
    """Sample mean of dropout(h) over n draws against E = h (the page's claim for inverted dropout), in standard
    errors of the page's variance p / (1 - p) h^2; also returns the sample variance and that variance."""
    gen = torch.Generator().manual_seed(seed)
    h = torch.randn(d, dtype=DTYPE, generator=gen) + 0.5 * torch.sign(torch.randn(d, dtype=DTYPE, generator=gen))
    samples = dropout(h.expand(n, d), p, gen)
    var = p / (1 - p) * h**2
    se = torch.sqrt(var / n)  # standard error of the sample mean, from the page's variance
    return ((samples.mean(0) - h).abs() / se).max().item(), samples.var(0), var


def nn_dropout(h, p, gen):
    """torch.nn.functional.dropout in training mode, seeded from gen."""
    torch.manual_seed(int(torch.randint(2**31, (), generator=gen)))
    return F.dropout(h, p=p, training=True)


@pytest.mark.parametrize("p,d,seed", [(0.1, 5, 0), (0.3, 8, 1), (0.5, 4, 2), (0.8, 6, 3)])
@pytest.mark.parametrize("dropout", [inverted_dropout, nn_dropout], ids=["page formula", "F.dropout"])
def test_inverted_dropout_expectation_and_variance(p, d, seed, dropout):
    z, sample_var, var = dropout_mean_z(dropout, p, d, seed)
    assert z < 5.0  # E = h within 5 standard errors
    torch.testing.assert_close(sample_var, var, rtol=0.03, atol=0)


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


@pytest.mark.parametrize("p", [0.0, 0.3, 0.9])
def test_dropout_eval_mode_is_identity(p):
    torch.manual_seed(4)
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
    # the two schemes are the same network with W_inv = (1 - p) W_orig, mask by mask and at test time:
    # Linear(W_inv) after nn.Dropout (which outputs m h / (1 - p)) is W (m h), with m read off its output
    W_inv = q * W
    inv = torch.nn.Sequential(torch.nn.Dropout(p), torch.nn.Linear(d, out, bias=False, dtype=DTYPE))
    with torch.no_grad():
        inv[1].weight.copy_(W_inv)
    torch.manual_seed(seed)
    H = h.expand(64, d)  # 64 masks
    dropped = inv[0](H)
    m = (dropped != 0).to(DTYPE)
    torch.testing.assert_close(inv[1](dropped), (m * h) @ W.T, rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(inv.eval()(h), W @ (q * h), rtol=1e-13, atol=1e-13)  # test time
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
def page_penalty(X, w, p):  # p/(1-p) sum_j c_j w_j^2, c_j = (1/N) sum_i x_ij^2
    return p / (1 - p) * ((X**2).mean(0) * w**2).sum()


def input_dropout_penalty_off(penalty, n, d, p, seed):
    """Exact expectation over every input mask of the dropout-regression loss, computed with F.mse_loss,
    against (1/N)||y - Xw||^2 + penalty(X, w, p); the difference in units of the tolerance (1e-12)."""
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, dtype=DTYPE, generator=gen) * torch.linspace(0.5, 2.0, d, dtype=DTYPE)
    y = torch.randn(n, dtype=DTYPE, generator=gen)
    w = torch.randn(d, dtype=DTYPE, generator=gen)
    masks, probs = all_masks(d), mask_probs(all_masks(d), p)
    # exact expectation: each example has its own independent mask
    expected = 0.0
    for i in range(n):
        preds = (masks * X[i] / (1 - p)) @ w
        expected += (probs * F.mse_loss(preds, y[i].expand(len(masks)), reduction="none")).sum() / n
    rhs = F.mse_loss(X @ w, y) + penalty(X, w, p)
    diff = (expected - rhs).abs().item() / (1e-12 + 1e-12 * rhs.abs().item())
    return math.inf if math.isnan(diff) else diff


@pytest.mark.parametrize("n,d,p,seed", [(6, 3, 0.4, 0), (4, 4, 0.2, 1), (10, 2, 0.7, 2)])
def test_input_dropout_linear_regression_is_weighted_l2(n, d, p, seed):
    assert input_dropout_penalty_off(page_penalty, n, d, p, seed) <= 1.0
    # the penalty is not a plain ridge term lambda ||w||^2: the c_j differ (see the mutation test)


# ---------------------------------------------------------------------------
# dropout commutes with ReLU (same mask), not with tanh
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.2, 0.5])
def test_dropout_commutes_with_relu(p):
    x = torch.randn(50, 20, dtype=DTYPE, generator=torch.Generator().manual_seed(5))
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
    w = torch.randn(shape, dtype=DTYPE, generator=torch.Generator().manual_seed(6), requires_grad=True)
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


def l2_step(w, gw, lr, lam):  # w - eta (grad L + lambda w): the gradient of L + (lambda/2)||w||^2
    return w - lr * (gw + lam * w)


def shrink_step(w, gw, lr, lam):  # (1 - eta lambda) w - eta grad L: shrink, then step
    return (1 - lr * lam) * w - lr * gw


def weight_decay_off(step, lam, lr, steps, seed):
    """Hand updates w <- step(w, grad, lr, lam) (bias: plain SGD) next to torch.optim.SGD with weight_decay=lam
    on the weights only; the largest difference after any step in units of atol = 1e-12."""
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
    worst = 0.0
    for _ in range(steps):
        loss = 0.5 * ((model(X).squeeze(-1) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        gw, gb = _ls_grad(w, b, X, y)
        w, b = step(w, gw, lr, lam), b - lr * gb
        diff = max((model.weight.detach().reshape(6) - w).abs().max().item(),
                   (model.bias.detach().reshape(()) - b).abs().item()) / 1e-12
        worst = math.inf if math.isnan(diff) else max(worst, diff)
    return worst


@pytest.mark.parametrize("lam,lr,steps,seed", [(0.1, 0.05, 5, 0), (1.0, 0.1, 12, 1), (0.01, 0.3, 20, 2)])
def test_sgd_weight_decay_matches_hand_update(lam, lr, steps, seed):
    assert weight_decay_off(l2_step, lam, lr, steps, seed) <= 1.0
    assert weight_decay_off(shrink_step, lam, lr, steps, seed) <= 1.0  # the same update, written as a shrink
    # weight decay did something: plain SGD (no decay) is rejected by the same comparison
    assert weight_decay_off(lambda w, gw, lr, lam: w - lr * gw, lam, lr, steps, seed) > 1e6


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
    # Adam normalizes lam * w by its own magnitude: the first step is about lr * sign(w) for every weight
    torch.testing.assert_close(w0 - results["adam_l2"], lr * torch.sign(w0), rtol=1e-5, atol=0)
    assert not torch.allclose(results["adamw"], results["adam_l2"])


# ---------------------------------------------------------------------------
# The numbers the page states about its figures, from the snippet's own experiments
# ---------------------------------------------------------------------------
figure_code = snippet_function("regularization", "noisy_sine", "polynomial_errors", "moons_data", "train", "make_mlp")


def test_figure_1_numbers():
    """Caption: degree 1 has training / validation errors 0.21 / 0.30, degree 3 0.029 / 0.063 (the noise variance
    0.0625), degree 15 0.002 / 75; the training error falls with the degree. Every fit, the good one included,
    has a training error below the noise variance; only the over-fit one is far (over ten times) below it."""
    import numpy as np

    data = figure_code["noisy_sine"](np.random.default_rng(0), noise_std=0.25)
    errors = figure_code["polynomial_errors"](data, np.arange(16))
    train, val = errors[:, 0], errors[:, 1]
    assert train[1] == pytest.approx(0.21, abs=0.01) and val[1] == pytest.approx(0.30, abs=0.01)
    assert train[3] == pytest.approx(0.029, abs=0.001) and val[3] == pytest.approx(0.063, abs=0.001)
    assert train[15] == pytest.approx(0.002, abs=0.0005) and val[15] == pytest.approx(75, rel=0.05)
    assert val[3] == pytest.approx(0.25**2, rel=0.02)  # the good fit's validation error is the noise variance
    assert np.all(np.diff(train) <= 1e-12)  # more capacity: the training error never goes up
    assert np.argmin(val) in (3, 4) and val[4] == pytest.approx(val[3], rel=0.01)  # lowest at degree 3-4
    assert train[3] < 0.25**2 / 2  # below the noise variance is normal for a least-squares fit ...
    assert train[15] < 0.25**2 / 10  # ... far below it is the sign of memorized noise


def test_figure_2_numbers():
    """Page: about 4,500 parameters; without regularization the training loss goes to about 0.006 while the
    validation loss is lowest (0.27) at about step 35 and ends at 1.12; dropout ends at 0.05 / 0.60 and weight decay
    at 0.05 / 0.40 (training / validation)."""
    import numpy as np

    assert sum(p.numel() for p in figure_code["make_mlp"](0.0).parameters()) == 4482
    data = figure_code["moons_data"]()
    final = {}
    for name, kwargs in [("none", {}), ("dropout", dict(p_drop=0.5)), ("decay", dict(weight_decay=1.0))]:
        _, hist = figure_code["train"](data, **kwargs)
        final[name] = hist[-1, 1:]
        if name == "none":
            best = np.argmin(hist[:, 2])
            assert 30 <= hist[best, 0] <= 40 and hist[best, 2] == pytest.approx(0.27, abs=0.02)
    assert final["none"][0] < 0.01 and final["none"][1] == pytest.approx(1.12, abs=0.05)
    assert final["dropout"][0] == pytest.approx(0.05, abs=0.01) and final["dropout"][1] == pytest.approx(0.60, abs=0.05)
    assert final["decay"][0] == pytest.approx(0.05, abs=0.01) and final["decay"][1] == pytest.approx(0.40, abs=0.05)


# ---------------------------------------------------------------------------
# Mutation tests: wrong formulas through the same comparisons
# ---------------------------------------------------------------------------
DROPOUT_MUTANTS = {
    "no 1/(1 - p) (the original scheme's training mode)": unscaled_dropout,
    "divided by p instead of 1 - p": lambda h, p, gen: unscaled_dropout(h, p, gen) / p,
    "keep probability p instead of 1 - p": lambda h, p, gen: inverted_dropout(h, 1 - p, gen) * p / (1 - p),
}


@pytest.mark.parametrize("name,p", [(name, p) for name in DROPOUT_MUTANTS for p in (0.2, 0.5, 0.8)
                                    if p != 0.5 or name.startswith("no ")])  # the p <-> 1 - p slips are harmless at 1/2
def test_wrong_dropout_scalings_are_caught(name, p):
    assert dropout_mean_z(inverted_dropout, p, 6, 7, n=50_000)[0] < 5.0
    assert dropout_mean_z(DROPOUT_MUTANTS[name], p, 6, 7, n=50_000)[0] > 50.0  # ten times the acceptance threshold


@pytest.mark.parametrize("name,wrong", [
    ("p instead of p/(1 - p)", lambda X, w, p: p * ((X**2).mean(0) * w**2).sum()),
    ("(1 - p)/p", lambda X, w, p: (1 - p) / p * ((X**2).mean(0) * w**2).sum()),
    ("plain ridge ||w||^2 (c_j = 1)", lambda X, w, p: p / (1 - p) * (w**2).sum()),
    ("c_j = Var(x_j) instead of mean x_j^2", lambda X, w, p: p / (1 - p) * (X.var(0, correction=0) * w**2).sum()),
    ("(sum_j c_j w_j)^2", lambda X, w, p: p / (1 - p) * ((X**2).mean(0) * w).sum() ** 2),
])
def test_wrong_dropout_penalties_are_caught(name, wrong):
    assert input_dropout_penalty_off(page_penalty, 6, 3, 0.4, 0) <= 1.0
    assert input_dropout_penalty_off(wrong, 6, 3, 0.4, 0) > 1e6


@pytest.mark.parametrize("name,wrong", [
    ("lambda/2 w in the gradient", lambda w, gw, lr, lam: w - lr * (gw + lam / 2 * w)),
    ("decay not scaled by eta: (1 - lambda) w", lambda w, gw, lr, lam: (1 - lam) * w - lr * gw),
    ("decay added: (1 + eta lambda) w", lambda w, gw, lr, lam: (1 + lr * lam) * w - lr * gw),
    ("shrink after the step, with the shrunk gradient", lambda w, gw, lr, lam: (1 - lr * lam) * (w - lr * gw)),
])
def test_wrong_weight_decay_updates_are_caught(name, wrong):
    assert weight_decay_off(l2_step, 0.1, 0.05, 5, 0) <= 1.0
    assert weight_decay_off(wrong, 0.1, 0.05, 5, 0) > 1e6
