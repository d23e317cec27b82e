"""Formula tests for docs/*/optimization/batch-normalization.md.

Every formula on the page is implemented here from scratch with plain tensor operations
(means, squares, square roots) and compared with PyTorch's batch normalisation
(torch.nn.BatchNorm1d / BatchNorm2d, torch.nn.functional.batch_norm) and with autograd.
The BatchNorm layer the page shows (snippets/batch_normalization.py) is loaded from the
snippet and run against nn.BatchNorm1d. The mutation tests at the end run wrong statistics,
wrong running averages and a wrong backward pass through the same comparisons.
"""

import pytest
import torch
from torch import nn

from snippet_code import snippet_function

DTYPE = torch.float64
TOL = dict(rtol=1e-10, atol=1e-10)

SnippetBatchNorm = snippet_function("batch_normalization", "BatchNorm")["BatchNorm"]


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


def tolerances_off(actual, expected, rtol=TOL["rtol"], atol=TOL["atol"]):
    """How many tolerances the worst entry is off (<= 1 passes assert_close(rtol, atol)); NaN counts as inf."""
    if actual.shape != expected.shape:
        return float("inf")
    off = (actual - expected).abs() / (atol + rtol * expected.abs())
    return off.nan_to_num(nan=float("inf")).max().item()


def training_forward_off(formula, shape, affine):
    """formula(x, gamma, beta, eps) against nn.BatchNorm1d/2d in training mode, in tolerances (TOL)."""
    x = random_input(shape, seed=sum(shape))
    bn, gamma, beta = make_bn(shape[1], affine, seed=len(shape), cls=nn.BatchNorm2d if len(shape) == 4 else nn.BatchNorm1d)
    bn.train()
    return tolerances_off(formula(x, gamma, beta, eps=bn.eps), bn(x))


# ---------------------------------------------------------------------------
# training-mode forward: formulas vs nn.BatchNorm1d, (N, C) and (N, C, L), affine or not
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(2, 3), (16, 5), (64, 1), (4, 3, 7), (1, 4, 9), (32, 8, 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_training_forward_matches_batchnorm1d(shape, affine):
    assert training_forward_off(bn_formula, shape, affine) <= 1.0
    x = random_input(shape, seed=sum(shape))
    bn, gamma, beta = make_bn(shape[1], affine, seed=len(shape))
    y = bn(x)
    # output statistics per channel (torch.mean / torch.var of nn.BatchNorm1d's output):
    # mean beta, standard deviation |gamma| * sigma / sqrt(sigma^2 + eps)
    mu_y, var_y = to_rows(y).mean(0), to_rows(y).var(0, correction=0)
    var_x = to_rows(x).var(0, correction=0)
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
# the snippet's BatchNorm layer (the code the page shows) against nn.BatchNorm1d
# ---------------------------------------------------------------------------
def snippet_layer_off(layer_cls, momentum, seed, steps=6):
    """Train-mode outputs and running statistics of layer_cls(C, momentum=...) over several batches, then its
    eval-mode output, against nn.BatchNorm1d with the same gamma, beta; the worst difference in tolerances."""
    c = 4
    ours = layer_cls(c, momentum=momentum).to(DTYPE)
    ref, gamma, beta = make_bn(c, affine=True, seed=seed, momentum=momentum)
    with torch.no_grad():
        ours.gamma.copy_(gamma)
        ours.beta.copy_(beta)
    worst = 0.0
    for t in range(steps):
        x = random_input((6 + t, c), seed=seed + 10 * t) * (1 + 0.3 * t)
        worst = max(worst, tolerances_off(ours(x), ref(x)),
                    tolerances_off(ours.running_mean, ref.running_mean),
                    tolerances_off(ours.running_var, ref.running_var))
    ours.eval(), ref.eval()
    x = random_input((5, c), seed=seed + 99)
    return max(worst, tolerances_off(ours(x), ref(x)))


@pytest.mark.parametrize("momentum", [0.1, 0.5, 1.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_snippet_batchnorm_layer_matches_nn_batchnorm1d(momentum, seed):
    assert snippet_layer_off(SnippetBatchNorm, momentum, seed) <= 1.0
    layer = SnippetBatchNorm(3)
    assert layer.eps == nn.BatchNorm1d(3).eps and layer.momentum == nn.BatchNorm1d(3).momentum  # same defaults


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
def page_backward(g, x_hat, gamma, var, eps, m):
    """dl/dbeta = sum g, dl/dgamma = sum g x_hat, dl/dx_i = gamma / (m sqrt(var + eps)) (m g_i - sum g - x_hat_i sum g x_hat)."""
    dx = gamma / (m * torch.sqrt(var + eps)) * (m * g - g.sum(0) - x_hat * (g * x_hat).sum(0))
    return g.sum(0), (g * x_hat).sum(0), dx


def backward_off(backward, shape, eps=1e-5):
    """backward(g, x_hat, gamma, var, eps, m) against autograd through F.batch_norm, in tolerances.
    Also returns autograd's dl/dx (rows) and x_hat, for the consequences the page draws."""
    x = random_input(shape, seed=7).requires_grad_(True)
    c = shape[1]
    gamma = (torch.randn(c, generator=gen(1), dtype=DTYPE) * 2).requires_grad_(True)
    beta = torch.randn(c, generator=gen(2), dtype=DTYPE).requires_grad_(True)
    y = nn.functional.batch_norm(x, None, None, gamma, beta, training=True, eps=eps)
    g_out = torch.randn(shape, generator=gen(3), dtype=DTYPE)  # g_i = dl/dy_i for l = sum(g_out * y)
    dx_ref, dgamma_ref, dbeta_ref = torch.autograd.grad(y, (x, gamma, beta), g_out)

    mu, var, m = batch_stats(x.detach())
    x_hat = (to_rows(x.detach()) - mu) / torch.sqrt(var + eps)
    dbeta, dgamma, dx = backward(to_rows(g_out), x_hat, gamma.detach(), var, eps, m)
    off = max(tolerances_off(dbeta, dbeta_ref), tolerances_off(dgamma, dgamma_ref),
              tolerances_off(from_rows(dx, x), dx_ref, rtol=1e-9, atol=1e-10))
    return off, to_rows(dx_ref), x_hat, gamma.detach(), to_rows(g_out), var


@pytest.mark.parametrize("shape", [(2, 3), (10, 4), (5, 2, 3)])
def test_closed_form_backward_matches_autograd(shape):
    eps = 1e-5
    off, dx, x_hat, gamma, g, var = backward_off(page_backward, shape, eps)
    assert off <= 1.0
    # consequences, on autograd's gradient: sum_i dl/dx_i = 0, and sum_i dl/dx_i x_hat_i vanishes up to a factor
    # eps / (var + eps): sum_i x_hat_i^2 = m var / (var + eps), so the bracket leaves
    # gamma * sum(g x_hat) * eps / (sqrt(var + eps) (var + eps))
    torch.testing.assert_close(dx.sum(0), torch.zeros(shape[1], dtype=DTYPE), rtol=0, atol=1e-10)
    leftover = gamma * (g * x_hat).sum(0) * eps / (torch.sqrt(var + eps) * (var + eps))
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

    # PyTorch requires eps > 0 in training; 1e-20 is negligible next to variances of order 0.01 and more.
    def bn0(z):  # torch's batch normalisation with (practically) eps = 0
        return nn.functional.batch_norm(z, None, None, training=True, eps=1e-20)

    torch.testing.assert_close(bn0(u @ W.T + b), bn_formula(u @ W.T, eps=0.0), **TOL)  # the bias cancels
    torch.testing.assert_close(bn0(u @ (a * W).T), bn_formula(u @ W.T, eps=0.0), **TOL)  # the scale cancels
    # the same through nn.BatchNorm1d and autograd: the gradient shrinks by 1/a.
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
    # the standard error sigma / sqrt(m), against torch.std of the enumerated batch means
    assert means.std(correction=0).item() == pytest.approx(pop.std(correction=0).item() / m**0.5, rel=1e-12)


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
    # batch dependence: BN's output for example 0 follows the statistics of the batch it is in (the page's
    # formula with the other batch's mu_B, sigma_B), so it changes with the other examples; LN's and GN's do not
    other = x.clone()
    other[1:] = random_input((5, 4, 3, 3), seed=12)
    bn = nn.BatchNorm2d(4, dtype=DTYPE)
    assert tolerances_off(bn_formula(other)[0], bn(other)[0]) <= 1.0
    assert tolerances_off(bn_formula(x)[0], bn(other)[0]) > 1e6  # i.e. "example 0 is normalised on its own"
    torch.testing.assert_close(ln(other)[0], ((x[0] - mu[0]) / torch.sqrt(var[0] + eps)), **TOL)
    torch.testing.assert_close(gn(other)[0], ((xg - mu_g) / torch.sqrt(var_g + eps)).reshape(x.shape)[0], **TOL)


# ---------------------------------------------------------------------------
# Mutation tests: wrong formulas through the same comparisons
# ---------------------------------------------------------------------------
def _with_stats(mean_var):
    """The page's normalisation with the statistics replaced by mean_var(rows) -> (mu, var)."""
    def formula(x, gamma=None, beta=None, eps=1e-5):
        mu, var = mean_var(to_rows(x))
        return bn_formula(x, gamma, beta, eps=eps, mu=mu, var=var)
    return formula


def _eps_outside_sqrt(x, gamma=None, beta=None, eps=1e-5):
    mu, var, _ = batch_stats(x)
    return from_rows(gamma * (to_rows(x) - mu) / (torch.sqrt(var) + eps) + beta, x)


def _variance_without_sqrt(x, gamma=None, beta=None, eps=1e-5):
    mu, var, _ = batch_stats(x)
    return from_rows(gamma * (to_rows(x) - mu) / (var + eps) + beta, x)


def _per_example(x, gamma=None, beta=None, eps=1e-5):  # statistics over each example's features
    mu, var = x.mean(dim=1, keepdim=True), x.var(dim=1, correction=0, keepdim=True)
    return from_rows(gamma * to_rows((x - mu) / torch.sqrt(var + eps)) + beta, x)


FORWARD_MUTANTS = {
    "unbiased variance (m - 1)": _with_stats(lambda r: (r.mean(0), r.var(0, correction=1))),
    "eps outside the sqrt": _eps_outside_sqrt,
    "variance instead of standard deviation": _variance_without_sqrt,
    "no eps": lambda x, gamma=None, beta=None, eps=1e-5: bn_formula(x, gamma, beta, eps=0.0),
    "gamma and beta swapped": lambda x, gamma=None, beta=None, eps=1e-5: bn_formula(x, beta, gamma, eps=eps),
    "statistics over the features": _per_example,
}


@pytest.mark.parametrize("name", list(FORWARD_MUTANTS))
@pytest.mark.parametrize("shape", [(16, 5), (4, 3, 7), (2, 3, 4, 5)])
def test_wrong_normalisations_are_caught(name, shape):
    assert training_forward_off(bn_formula, shape, affine=True) <= 1.0
    assert training_forward_off(FORWARD_MUTANTS[name], shape, affine=True) > 1e6


class _RunningMutant(nn.Module):
    """A from-the-formulas BN layer (like the page's) with one slip in the running statistics or eval mode."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, slip=""):
        super().__init__()
        self.eps, self.momentum, self.slip = eps, momentum, slip
        self.gamma = nn.Parameter(torch.ones(num_features))
        self.beta = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x):
        m, a = x.shape[0], self.momentum
        mu, var = x.mean(0), x.var(0, correction=0)
        if self.training:
            new_var = var if self.slip == "biased running variance" else var * m / (m - 1)
            keep = a if self.slip == "momentum as the decay" else 1 - a
            with torch.no_grad():
                self.running_mean.copy_(keep * self.running_mean + (1 - keep) * mu)
                self.running_var.copy_(keep * self.running_var + (1 - keep) * new_var)
        elif self.slip != "batch statistics in eval mode":
            mu, var = self.running_mean, self.running_var
        return self.gamma * (x - mu) / torch.sqrt(var + self.eps) + self.beta


@pytest.mark.parametrize("slip", ["biased running variance", "momentum as the decay", "batch statistics in eval mode"])
def test_wrong_running_statistics_are_caught(slip):
    assert snippet_layer_off(SnippetBatchNorm, 0.1, 0) <= 1.0
    assert snippet_layer_off(lambda c, momentum: _RunningMutant(c, momentum=momentum), 0.1, 0) <= 1.0  # slip-free
    assert snippet_layer_off(lambda c, momentum: _RunningMutant(c, momentum=momentum, slip=slip), 0.1, 0) > 1e6


@pytest.mark.parametrize("name,wrong", [
    ("x_hat term dropped", lambda g, xh, gamma, var, eps, m: (
        g.sum(0), (g * xh).sum(0), gamma / (m * torch.sqrt(var + eps)) * (m * g - g.sum(0)))),
    ("mean term dropped", lambda g, xh, gamma, var, eps, m: (
        g.sum(0), (g * xh).sum(0), gamma / (m * torch.sqrt(var + eps)) * (m * g - xh * (g * xh).sum(0)))),
    ("no 1/m", lambda g, xh, gamma, var, eps, m: (
        g.sum(0), (g * xh).sum(0), gamma / torch.sqrt(var + eps) * (m * g - g.sum(0) - xh * (g * xh).sum(0)))),
    ("gamma forgotten", lambda g, xh, gamma, var, eps, m: page_backward(g, xh, torch.ones_like(gamma), var, eps, m)),
    ("dl/dgamma = sum g", lambda g, xh, gamma, var, eps, m: (
        g.sum(0), g.sum(0), page_backward(g, xh, gamma, var, eps, m)[2])),
])
def test_wrong_backward_formulas_are_caught(name, wrong):
    assert backward_off(page_backward, (10, 4))[0] <= 1.0
    assert backward_off(wrong, (10, 4))[0] > 1e6


# ---------------------------------------------------------------------------
# The numbers the page states about its figures, from the snippet's own experiments
# (snippets/batch_normalization.py: make_data, sigmoid_run, relu_run; the figure cells call the same functions)
# ---------------------------------------------------------------------------
EXPERIMENT = snippet_function("batch_normalization", "make_data", "class_entropy", "sigmoid_run", "relu_run", "steps_to")


@pytest.fixture(scope="module")
def one_thread():
    """The snippet trains with one thread (torch.set_num_threads(1)); so do these tests."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def figure_data(one_thread):
    return EXPERIMENT["make_data"]()


def test_figure1_sigmoid_inputs_with_and_without_bn(figure_data):
    """Figure 1's caption: without BN the inputs of the last sigmoids hardly differ between examples
    (15th-85th percentile band narrower than 0.03), drift to a median of about -1.4, and the loss only
    falls to about 1.45, the loss of predicting the class frequencies; with BN the loss reaches about
    0.32, and after 300 steps gamma is about 1.15 and |beta| < 0.13 for the three units shown."""
    X, y = figure_data
    entropy = EXPERIMENT["class_entropy"](y)
    losses, q, gamma_beta = EXPERIMENT["sigmoid_run"](X, y, batch_norm=False)
    assert gamma_beta is None
    band = q[:, 2] - q[:, 0]  # (records, units)
    assert band.mean(axis=0).max() < 0.03
    assert abs(q[-1, 1].mean() - (-1.4)) < 0.1 and (q[-1, 1] < -1.2).all()
    final = losses[-50:].mean()
    assert abs(final - 1.45) < 0.03 and abs(final - entropy) < 0.02
    assert losses[:10].mean() > 1.9  # it does fall from the start, but only to the constant-prediction level

    losses, q, (gamma, beta) = EXPERIMENT["sigmoid_run"](X, y, batch_norm=True)
    assert abs(losses[-50:].mean() - 0.32) < 0.03
    assert (abs(gamma - 1.15) < 0.05).all(), gamma  # not "still close to 1": it has grown by about 15 %
    assert (abs(beta) < 0.13).all(), beta
    assert (q[:, 2] - q[:, 0]).mean() > 2.0  # the band of a unit-scale distribution, ~2.07 |gamma| for a normal one


def test_figure2_relu_mlp_at_two_learning_rates(figure_data):
    """Figure 2's caption: at eta = 0.5 the running-mean loss falls below 0.8 after 18 steps with BN and 62
    without; at eta = 2.0 without BN 63 of the 64 last-layer ReLUs die and the loss stays at 1.44, the entropy of
    the class frequencies (the caption used to say 1.5, when the snippet gave 1.57); with BN the same rate
    trains (below 0.45)."""
    X, y = figure_data
    entropy = EXPERIMENT["class_entropy"](y)
    steps_to = EXPERIMENT["steps_to"]
    runs = {(lr, bn): EXPERIMENT["relu_run"](X, y, lr, bn) for lr in (0.5, 2.0) for bn in (False, True)}
    assert 15 <= steps_to(runs[0.5, True][0], 0.8) <= 21  # stated: 18
    assert 57 <= steps_to(runs[0.5, False][0], 0.8) <= 67  # stated: 62
    losses, dead = runs[2.0, False]
    assert dead == 63 and steps_to(losses, 0.8) is None
    assert abs(losses[-50:].mean() - 1.44) < 0.03 and abs(losses[-50:].mean() - entropy) < 0.02
    assert abs(entropy - 1.44) < 0.01
    losses, dead = runs[2.0, True]
    assert dead == 0 and losses[-50:].mean() < 0.45


def test_last_22_batches_carry_90_percent_of_the_running_average():
    """Page: with alpha = 0.1 the last 22 batches carry about 90 % of the weight (1 - 0.9^22 = 0.90)."""
    alpha = 0.1
    weights = [alpha * (1 - alpha) ** k for k in range(22)]
    assert sum(weights) == pytest.approx(1 - 0.9**22) and abs(sum(weights) - 0.90) < 0.005
