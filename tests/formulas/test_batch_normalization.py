"""Formula tests for docs/*/optimization/batch-normalization.md.

Every formula on the page is implemented here from scratch with plain tensor operations
(means, squares, square roots) and compared with PyTorch's batch normalisation
(torch.nn.BatchNorm1d / BatchNorm2d, torch.nn.functional.batch_norm) and with autograd.
"""

import math

import pytest
import torch
from torch import nn

DTYPE = torch.float64
TOL = dict(rtol=1e-10, atol=1e-10)


def gen(seed):
    return torch.Generator().manual_seed(seed)


def to_rows(x):
    """(N, C) -> (N, C); (N, C, L) or (N, C, H, W) -> (N*L*..., C): one row per value of a channel."""
    if x.dim() == 2:
        return x
    c = x.shape[1]
    return x.transpose(0, 1).reshape(c, -1).T


def from_rows(rows, like):
    if like.dim() == 2:
        return rows
    shape = (like.shape[1], like.shape[0], *like.shape[2:])
    return rows.T.reshape(shape).transpose(0, 1)


def batch_stats(x):
    """Page: mu_B = (1/m) sum x_i,  sigma_B^2 = (1/m) sum (x_i - mu_B)^2, per channel."""
    rows = to_rows(x)
    m = rows.shape[0]
    mu = rows.sum(dim=0) / m
    var = ((rows - mu) ** 2).sum(dim=0) / m
    return mu, var, m


def bn_formula(x, gamma=None, beta=None, eps=1e-5, mu=None, var=None):
    """Page: x_hat = (x - mu) / sqrt(var + eps),  y = gamma * x_hat + beta (per channel)."""
    if mu is None:
        mu, var, _ = batch_stats(x)
    rows = to_rows(x)
    x_hat = (rows - mu) / torch.sqrt(var + eps)
    y = x_hat if gamma is None else gamma * x_hat + beta
    return from_rows(y, x)


def make_bn(c, affine, seed, cls=nn.BatchNorm1d, **kw):
    bn = cls(c, affine=affine, dtype=DTYPE, **kw)
    gamma = beta = None
    if affine:
        gamma = torch.randn(c, generator=gen(seed), dtype=DTYPE) * 2  # non-trivial, some negative
        beta = torch.randn(c, generator=gen(seed + 1), dtype=DTYPE) * 3
        with torch.no_grad():
            bn.weight.copy_(gamma)
            bn.bias.copy_(beta)
    return bn, gamma, beta


def random_input(shape, seed):
    c = shape[1]
    scale = torch.linspace(0.1, 5.0, c, dtype=DTYPE).reshape(1, c, *([1] * (len(shape) - 2)))
    shift = torch.linspace(-4.0, 7.0, c, dtype=DTYPE).reshape(1, c, *([1] * (len(shape) - 2)))
    return torch.randn(shape, generator=gen(seed), dtype=DTYPE) * scale + shift


# ---------------------------------------------------------------------------
# training-mode forward: formulas vs nn.BatchNorm1d, (N, C) and (N, C, L), affine or not
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(2, 3), (16, 5), (64, 1), (4, 3, 7), (1, 4, 9), (32, 8, 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_training_forward_matches_batchnorm1d(shape, affine):
    x = random_input(shape, seed=sum(shape))
    bn, gamma, beta = make_bn(shape[1], affine, seed=len(shape))
    bn.train()
    y_ref = bn(x)
    y = bn_formula(x, gamma, beta, eps=bn.eps)
    torch.testing.assert_close(y, y_ref, **TOL)
    # output statistics per channel: mean beta, standard deviation |gamma| * sigma / sqrt(sigma^2 + eps)
    mu_y, var_y, _ = batch_stats(y)
    _, var_x, _ = batch_stats(x)
    g = torch.ones(shape[1], dtype=DTYPE) if gamma is None else gamma
    b = torch.zeros(shape[1], dtype=DTYPE) if beta is None else beta
    torch.testing.assert_close(mu_y, b, rtol=0, atol=1e-10)
    torch.testing.assert_close(var_y, g**2 * var_x / (var_x + bn.eps), rtol=1e-9, atol=1e-12)


def test_statistics_are_over_the_batch_not_over_features():
    """A wrong axis (normalising each example over its features) must not pass."""
    x = random_input((10, 6), seed=3)
    bn, _, _ = make_bn(6, affine=False, seed=0)
    mu_wrong = x.mean(dim=1, keepdim=True)
    var_wrong = x.var(dim=1, unbiased=False, keepdim=True)
    wrong = (x - mu_wrong) / torch.sqrt(var_wrong + 1e-5)
    assert not torch.allclose(wrong, bn(x), atol=1e-3)


def test_biased_variance_is_used_for_normalisation():
    x = random_input((5, 3), seed=4)
    bn, _, _ = make_bn(3, affine=False, seed=0)
    mu, var, m = batch_stats(x)
    unbiased = bn_formula(x, mu=mu, var=var * m / (m - 1))
    assert not torch.allclose(unbiased, bn(x), atol=1e-3)  # m = 5: the difference is visible
    torch.testing.assert_close(bn_formula(x, mu=mu, var=var), bn(x), **TOL)


# ---------------------------------------------------------------------------
# BatchNorm2d: statistics per channel over (N, H, W), m = N * H * W
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (8, 1, 3, 3), (1, 4, 6, 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm2d_per_channel(shape, affine):
    x = random_input(shape, seed=shape[0] * 10 + shape[1])
    bn, gamma, beta = make_bn(shape[1], affine, seed=7, cls=nn.BatchNorm2d)
    y = bn(x)
    torch.testing.assert_close(bn_formula(x, gamma, beta, eps=bn.eps), y, **TOL)
    n, c, h, w = shape
    mu, var, m = batch_stats(x)
    assert m == n * h * w
    # one running update from the initial (0, 1), with the unbiased variance over N*H*W values
    torch.testing.assert_close(bn.running_mean, 0.1 * mu, **TOL)
    torch.testing.assert_close(bn.running_var, 0.9 + 0.1 * var * m / (m - 1), **TOL)
    if affine:
        assert bn.weight.shape == bn.bias.shape == (c,)


# ---------------------------------------------------------------------------
# running statistics: mu_run <- (1 - a) mu_run + a mu_B,
#                     var_run <- (1 - a) var_run + a * m/(m-1) * sigma_B^2
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("momentum", [0.1, 0.3, 1.0])
@pytest.mark.parametrize("shape", [(8, 4), (3, 2, 5)])
def test_running_statistics_exponential_average(momentum, shape):
    bn, gamma, beta = make_bn(shape[1], affine=True, seed=1, momentum=momentum)
    c = shape[1]
    mu_run, var_run = torch.zeros(c, dtype=DTYPE), torch.ones(c, dtype=DTYPE)
    batch_means = []
    for t in range(1, 8):
        x = random_input(shape, seed=100 + t) * (1 + 0.2 * t)  # the statistics drift over batches
        bn(x)
        mu, var, m = batch_stats(x)
        batch_means.append(mu)
        mu_run = (1 - momentum) * mu_run + momentum * mu
        var_run = (1 - momentum) * var_run + momentum * var * m / (m - 1)
        torch.testing.assert_close(bn.running_mean, mu_run, **TOL)
        torch.testing.assert_close(bn.running_var, var_run, **TOL)
        assert bn.num_batches_tracked.item() == t
        # unrolled: mu_run = (1-a)^t mu_0 + a * sum_s (1-a)^(t-s) mu_B^(s), with mu_0 = 0
        unrolled = sum(momentum * (1 - momentum) ** (t - s) * batch_means[s - 1] for s in range(1, t + 1))
        torch.testing.assert_close(bn.running_mean, unrolled, **TOL)
    # evaluation mode: no update, no counting
    bn.eval()
    before = (bn.running_mean.clone(), bn.running_var.clone())
    bn(random_input(shape, seed=999))
    assert bn.num_batches_tracked.item() == 7
    torch.testing.assert_close(bn.running_mean, before[0], rtol=0, atol=0)
    torch.testing.assert_close(bn.running_var, before[1], rtol=0, atol=0)


def test_pytorch_momentum_is_one_minus_the_usual_decay():
    """PyTorch momentum 0.1 is the weight of the NEW batch; the usual EMA decay 0.9 is the weight of the old value."""
    bn = nn.BatchNorm1d(1, momentum=0.1, dtype=DTYPE)
    x = torch.tensor([[1.0], [3.0]], dtype=DTYPE)  # batch mean 2
    bn(x)
    assert bn.running_mean.item() == pytest.approx(0.9 * 0.0 + 0.1 * 2.0, abs=1e-12)
    assert bn.running_mean.item() != pytest.approx(0.1 * 0.0 + 0.9 * 2.0)


@pytest.mark.parametrize("shape", [(6, 3), (2, 3, 4)])
def test_momentum_none_is_cumulative_average(shape):
    bn, _, _ = make_bn(shape[1], affine=False, seed=0, momentum=None)
    means, variances = [], []
    for t in range(1, 6):
        x = random_input(shape, seed=200 + t) + t
        bn(x)
        mu, var, m = batch_stats(x)
        means.append(mu)
        variances.append(var * m / (m - 1))
        # alpha_t = 1/t: the plain average of all batch statistics so far (the initial 0 and 1 are gone)
        torch.testing.assert_close(bn.running_mean, torch.stack(means).mean(0), **TOL)
        torch.testing.assert_close(bn.running_var, torch.stack(variances).mean(0), **TOL)
        assert bn.num_batches_tracked.item() == t


# ---------------------------------------------------------------------------
# evaluation mode: y = gamma (x - mu_run) / sqrt(var_run + eps) + beta, example by example
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(16, 4), (4, 3, 6)])
def test_eval_mode_uses_running_statistics(shape):
    bn, gamma, beta = make_bn(shape[1], affine=True, seed=3)
    for t in range(5):
        bn(random_input(shape, seed=300 + t))
    bn.eval()
    x = random_input(shape, seed=400)
    y = bn(x)
    expected = bn_formula(x, gamma, beta, eps=bn.eps, mu=bn.running_mean, var=bn.running_var)
    torch.testing.assert_close(y, expected, **TOL)
    # example by example: the output of an example does not depend on the rest of the batch
    torch.testing.assert_close(bn(x[:1]), y[:1], **TOL)
    # and it is NOT the batch-statistics output
    assert not torch.allclose(y, bn_formula(x, gamma, beta, eps=bn.eps), atol=1e-3)


def test_without_running_stats_eval_uses_batch_statistics():
    bn, gamma, beta = make_bn(3, affine=True, seed=5, track_running_stats=False)
    bn.eval()
    x = random_input((10, 3), seed=5)
    torch.testing.assert_close(bn(x), bn_formula(x, gamma, beta, eps=bn.eps), **TOL)


def test_eval_mode_folds_into_the_previous_linear_layer():
    """Page: s = gamma / sqrt(var_run + eps), W' = diag(s) W, b' = s * (b - mu_run) + beta."""
    torch.manual_seed(0)
    lin = nn.Linear(5, 4, dtype=DTYPE)
    bn, gamma, beta = make_bn(4, affine=True, seed=9)
    net = nn.Sequential(lin, bn)
    for t in range(4):
        net(random_input((12, 5), seed=500 + t))
    net.eval()
    s = gamma / torch.sqrt(bn.running_var + bn.eps)
    W = s[:, None] * lin.weight.detach()
    b = s * (lin.bias.detach() - bn.running_mean) + beta
    x = random_input((7, 5), seed=600)
    torch.testing.assert_close(x @ W.T + b, net(x), **TOL)


# ---------------------------------------------------------------------------
# gamma = sqrt(sigma_B^2 + eps), beta = mu_B gives back x: nothing is "lost"
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(8, 3), (32, 6), (4, 2, 5)])
def test_gamma_beta_can_recover_the_identity(shape):
    x = random_input(shape, seed=42)
    mu, var, _ = batch_stats(x)
    bn = nn.BatchNorm1d(shape[1], dtype=DTYPE)
    with torch.no_grad():
        bn.weight.copy_(torch.sqrt(var + bn.eps))
        bn.bias.copy_(mu)
    torch.testing.assert_close(bn(x), x, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(bn_formula(x, torch.sqrt(var + 1e-5), mu), x, rtol=1e-10, atol=1e-10)
    # with the default gamma = 1, beta = 0 the output is NOT x
    assert not torch.allclose(nn.BatchNorm1d(shape[1], dtype=DTYPE)(x), x, atol=1e-2)


# ---------------------------------------------------------------------------
# a batch of one: x_i - mu_B = 0, so the formula would output beta; PyTorch refuses
# ---------------------------------------------------------------------------
def test_batch_of_one():
    bn, gamma, beta = make_bn(3, affine=True, seed=2)
    x = random_input((1, 3), seed=1)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        bn(x)
    torch.testing.assert_close(bn_formula(x, gamma, beta, eps=bn.eps), beta[None, :], **TOL)
    # (1, C, L) is allowed: m = L values per channel
    x3 = random_input((1, 3, 5), seed=1)
    torch.testing.assert_close(bn(x3), bn_formula(x3, gamma, beta, eps=bn.eps), **TOL)
    # evaluation mode handles a single example
    bn.eval()
    assert bn(x).shape == (1, 3)


# ---------------------------------------------------------------------------
# backward: dl/dbeta = sum g, dl/dgamma = sum g x_hat,
#           dl/dx_i = gamma / (m sqrt(var + eps)) (m g_i - sum g - x_hat_i sum g x_hat)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(2, 3), (10, 4), (5, 2, 3)])
def test_closed_form_backward_matches_autograd(shape):
    eps = 1e-5
    x = random_input(shape, seed=7).requires_grad_(True)
    c = shape[1]
    gamma = (torch.randn(c, generator=gen(1), dtype=DTYPE) * 2).requires_grad_(True)
    beta = torch.randn(c, generator=gen(2), dtype=DTYPE).requires_grad_(True)
    y = nn.functional.batch_norm(x, None, None, gamma, beta, training=True, eps=eps)
    g_out = torch.randn(shape, generator=gen(3), dtype=DTYPE)  # g_i = dl/dy_i for l = sum(g_out * y)
    dx_ref, dgamma_ref, dbeta_ref = torch.autograd.grad(y, (x, gamma, beta), g_out)

    mu, var, m = batch_stats(x.detach())
    rows = to_rows(x.detach())
    x_hat = (rows - mu) / torch.sqrt(var + eps)
    g = to_rows(g_out)
    dbeta = g.sum(0)
    dgamma = (g * x_hat).sum(0)
    dx = gamma.detach() / (m * torch.sqrt(var + eps)) * (m * g - g.sum(0) - x_hat * (g * x_hat).sum(0))
    torch.testing.assert_close(dbeta, dbeta_ref, **TOL)
    torch.testing.assert_close(dgamma, dgamma_ref, **TOL)
    torch.testing.assert_close(from_rows(dx, x), dx_ref, rtol=1e-9, atol=1e-10)
    # consequences: sum_i dl/dx_i = 0, and sum_i dl/dx_i x_hat_i vanishes up to a factor eps / (var + eps):
    # sum_i x_hat_i^2 = m var / (var + eps), so the bracket leaves gamma * sum(g x_hat) * eps / (sqrt(var + eps) (var + eps))
    torch.testing.assert_close(dx.sum(0), torch.zeros(c, dtype=DTYPE), rtol=0, atol=1e-10)
    leftover = gamma.detach() * (g * x_hat).sum(0) * eps / (torch.sqrt(var + eps) * (var + eps))
    torch.testing.assert_close((dx * x_hat).sum(0), leftover, rtol=1e-6, atol=1e-12)


# ---------------------------------------------------------------------------
# BN(Wu + b) = BN(Wu);  BN((aW)u) = BN(Wu) (eps -> 0);  dl/d(aW) = (1/a) dl/dW
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("a", [0.1, 3.0, 50.0])
def test_bias_cancels_and_scale_invariance(a):
    u = torch.randn(16, 5, generator=gen(0), dtype=DTYPE)
    W = torch.randn(3, 5, generator=gen(1), dtype=DTYPE)
    b = torch.randn(3, generator=gen(2), dtype=DTYPE)
    target = torch.randn(16, 3, generator=gen(3), dtype=DTYPE)

    def bn0(z):  # page formulas with eps = 0
        return bn_formula(z, eps=0.0)

    torch.testing.assert_close(bn0(u @ W.T + b), bn0(u @ W.T), **TOL)
    torch.testing.assert_close(bn0(u @ (a * W).T), bn0(u @ W.T), **TOL)
    # the same through nn.BatchNorm1d and autograd: the gradient shrinks by 1/a.
    # PyTorch requires eps > 0 in training; 1e-20 is negligible next to variances of order 0.01 and more.
    bn = nn.BatchNorm1d(3, eps=1e-20, affine=False, dtype=DTYPE)

    def grad(weight):
        weight = weight.clone().requires_grad_(True)
        loss = ((bn(u @ weight.T) - target) ** 2).mean()
        return torch.autograd.grad(loss, weight)[0]

    torch.testing.assert_close(grad(a * W), grad(W) / a, rtol=1e-8, atol=1e-12)
    # and the gradient is orthogonal to each row of W (the output cannot change along W)
    gW = grad(W)
    torch.testing.assert_close((gW * W).sum(1), torch.zeros(3, dtype=DTYPE), rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------
# mini-batch noise: Var[mu_B] = sigma^2 / m for i.i.d. examples (exact by enumeration, with replacement)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("m", [1, 2, 3])
def test_variance_of_the_batch_mean(m):
    import itertools

    pop = torch.tensor([0.5, -1.0, 2.0, 3.5, 0.0], dtype=DTYPE)
    sigma2 = ((pop - pop.mean()) ** 2).mean()
    means = torch.stack([pop[list(s)].mean() for s in itertools.product(range(5), repeat=m)])
    assert means.mean().item() == pytest.approx(pop.mean().item(), abs=1e-12)
    assert ((means - means.mean()) ** 2).mean().item() == pytest.approx(sigma2.item() / m, rel=1e-12)
    # the standard error sigma / sqrt(m)
    assert math.isclose(math.sqrt(sigma2.item() / m), sigma2.sqrt().item() / math.sqrt(m), rel_tol=1e-12)


# ---------------------------------------------------------------------------
# LayerNorm / GroupNorm: per-example statistics, independent of the rest of the batch
# ---------------------------------------------------------------------------
def test_layer_and_group_norm_axes():
    x = random_input((6, 4, 3, 3), seed=11)
    eps = 1e-5
    # LayerNorm over (C, H, W) of each example
    mu = x.mean(dim=(1, 2, 3), keepdim=True)
    var = ((x - mu) ** 2).mean(dim=(1, 2, 3), keepdim=True)
    ln = nn.LayerNorm([4, 3, 3], elementwise_affine=False, dtype=DTYPE)
    torch.testing.assert_close(ln(x), (x - mu) / torch.sqrt(var + eps), **TOL)
    # GroupNorm with G groups: over (C/G, H, W) of each example
    G = 2
    xg = x.reshape(6, G, -1)
    mu_g = xg.mean(dim=2, keepdim=True)
    var_g = ((xg - mu_g) ** 2).mean(dim=2, keepdim=True)
    gn = nn.GroupNorm(G, 4, affine=False, dtype=DTYPE)
    torch.testing.assert_close(gn(x), ((xg - mu_g) / torch.sqrt(var_g + eps)).reshape(x.shape), **TOL)
    # batch dependence: BN's output for example 0 changes with the other examples, LN's and GN's do not
    other = x.clone()
    other[1:] = random_input((5, 4, 3, 3), seed=12)
    bn = nn.BatchNorm2d(4, dtype=DTYPE)
    assert not torch.allclose(bn(x)[0], bn(other)[0], atol=1e-3)
    torch.testing.assert_close(ln(x)[0], ln(other)[0], **TOL)
    torch.testing.assert_close(gn(x)[0], gn(other)[0], **TOL)
