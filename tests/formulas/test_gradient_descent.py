"""Formula tests for docs/*/optimization/gradient-descent.md.

Every formula on the page is implemented here from scratch (plain tensor ops, hand-written
gradients) and compared with PyTorch (torch.optim.SGD, autograd, DataLoader), NumPy or an
exact brute-force computation. The gradient-descent loop the page shows (gradient_descent in
snippets/gradient_descent.py) is loaded from the snippet, and so are the experiments behind the
figures: the numbers the captions and the prose state about them are asserted here. The mutation
tests at the end run wrong gradients, variances and rates through the same comparisons.
"""

import itertools
import math

import numpy as np
import pytest
import torch

from snippet_code import snippet_function
from support import regression_data

DTYPE = torch.float64
pytestmark = pytest.mark.usefixtures("float64")  # the snippet's loop makes tensors in the default dtype

SNIPPET = snippet_function("gradient_descent", "gradient_descent", "batch_size_experiment", "batch_size_numbers",
                           "make_quadratic", "steps_to_shrink")
gradient_descent = SNIPPET["gradient_descent"]


def worst_of(*values):
    """max() that treats NaN as infinitely bad (plain max() would silently skip a NaN after a number)."""
    return max(math.inf if math.isnan(v) else v for v in values)


def least_squares_grad(w, b, X, y):
    """Page formula: r_i = w^T x_i + b - y_i, grad_w = (1/N) sum r_i x_i, grad_b = (1/N) sum r_i."""
    n = X.shape[0]
    r = X @ w + b - y
    grad_w = sum(r[i] * X[i] for i in range(n)) / n
    grad_b = r.sum() / n
    return grad_w, grad_b


# ---------------------------------------------------------------------------
# theta_{t+1} = theta_t - eta * g  (by hand)  vs  torch.optim.SGD (no momentum)
# ---------------------------------------------------------------------------
SGD_CASES = [
    (32, 3, 0.1, 32, 0),    # full batch
    (100, 7, 0.05, 100, 1),  # full batch
    (50, 4, 0.2, 8, 2),     # mini-batches, last one smaller (50 = 6*8 + 2)
    (17, 1, 0.3, 5, 3),     # mini-batches
]
SGD_ATOL = 1e-12


def hand_vs_torch_sgd_off(grad_fn, n, d, lr, batch_size, seed):
    """Run theta <- theta - eta * g_B by hand (g_B from grad_fn) next to torch.optim.SGD on the same
    mini-batches for 8 epochs; return the largest parameter difference after any step, in units of SGD_ATOL."""
    X, y = regression_data(n, d, seed)
    torch.manual_seed(seed)
    model = torch.nn.Linear(d, 1, dtype=DTYPE)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.0)
    w = model.weight.detach().clone().reshape(d)
    b = model.bias.detach().clone().reshape(())
    w0 = w.clone()
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    batches = [perm[i:i + batch_size] for i in range(0, n, batch_size)]
    worst = 0.0
    for epoch in range(8):
        for idx in batches:
            # torch
            loss = 0.5 * ((model(X[idx]).squeeze(-1) - y[idx]) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            # by hand: theta <- theta - eta * g_B
            gw, gb = grad_fn(w, b, X[idx], y[idx])
            w = w - lr * gw
            b = b - lr * gb
            worst = worst_of(worst, (model.weight.detach().reshape(d) - w).abs().max().item(),
                             (model.bias.detach().reshape(()) - b).abs().item())
    # the parameters really moved (the comparison would not catch a no-op optimiser otherwise)
    assert (model.weight.detach().reshape(d) - w0).abs().max() > 1e-3
    return worst / SGD_ATOL


@pytest.mark.parametrize("n,d,lr,batch_size,seed", SGD_CASES)
def test_hand_update_matches_torch_sgd(n, d, lr, batch_size, seed):
    assert hand_vs_torch_sgd_off(least_squares_grad, n, d, lr, batch_size, seed) <= 1.0


def test_hand_gradient_matches_autograd():
    X, y = regression_data(40, 5, 7)
    w = torch.randn(5, generator=torch.Generator().manual_seed(8), dtype=DTYPE, requires_grad=True)
    b = torch.tensor(0.3, dtype=DTYPE, requires_grad=True)
    loss = (0.5 * (X @ w + b - y) ** 2).mean()
    gw_auto, gb_auto = torch.autograd.grad(loss, (w, b))
    gw, gb = least_squares_grad(w.detach(), b.detach(), X, y)
    torch.testing.assert_close(gw, gw_auto, rtol=0, atol=1e-13)
    torch.testing.assert_close(gb, gb_auto, rtol=0, atol=1e-13)


# ---------------------------------------------------------------------------
# g_B = (1/B) sum_{i in B} grad l_i : mini-batch gradient = mean of per-example gradients
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("batch_size,seed", [(1, 0), (4, 1), (16, 2), (33, 3)])
def test_minibatch_gradient_is_mean_of_per_example_gradients(batch_size, seed):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2)).to(DTYPE)
    X = torch.randn(batch_size, 3, dtype=DTYPE)
    target = torch.randint(0, 2, (batch_size,))
    params = list(net.parameters())

    def per_example_loss(i):
        return torch.nn.functional.cross_entropy(net(X[i:i + 1]), target[i:i + 1])

    per_example = [torch.autograd.grad(per_example_loss(i), params) for i in range(batch_size)]
    mean_of_grads = [torch.stack([g[k] for g in per_example]).mean(0) for k in range(len(params))]
    batch_loss = torch.nn.functional.cross_entropy(net(X), target)  # reduction="mean"
    batch_grads = torch.autograd.grad(batch_loss, params)
    for a, b in zip(mean_of_grads, batch_grads):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-13)


def test_partition_average_equals_full_gradient():
    """Averaging g_B over an equal-size partition of the data gives grad L exactly."""
    X, y = regression_data(48, 3, 11)
    w = torch.randn(3, generator=torch.Generator().manual_seed(12), dtype=DTYPE).requires_grad_(True)
    b = torch.tensor(-0.2, dtype=DTYPE, requires_grad=True)
    full_w, full_b = torch.autograd.grad((0.5 * (X @ w + b - y) ** 2).mean(), (w, b))  # grad L by autograd
    w, b = w.detach(), b.detach()
    perm = torch.randperm(48, generator=torch.Generator().manual_seed(0))
    parts = [least_squares_grad(w, b, X[perm[i:i + 12]], y[perm[i:i + 12]]) for i in range(0, 48, 12)]
    torch.testing.assert_close(torch.stack([p[0] for p in parts]).mean(0), full_w, rtol=0, atol=1e-13)
    torch.testing.assert_close(torch.stack([p[1] for p in parts]).mean(), full_b, rtol=0, atol=1e-13)


# ---------------------------------------------------------------------------
# E[g_B] = grad L,  Cov[g_B] = (N-B)/(N-1) * Sigma/B  (without replacement),  Sigma/B (with)
# checked exactly by enumerating every possible mini-batch
# ---------------------------------------------------------------------------
def _population(n, d, seed):
    gen = torch.Generator().manual_seed(seed)
    grads = torch.randn(n, d, generator=gen, dtype=DTYPE) * torch.tensor([1.0, 3.0], dtype=DTYPE)[:d]
    mean = grads.mean(0)
    centred = grads - mean
    sigma = centred.T @ centred / n  # Sigma = (1/N) sum (g_i - mean)(g_i - mean)^T
    return grads, mean, sigma


def _cov(samples):
    """Mean and covariance (1/count normalisation: every mini-batch is equally likely) of all the batch means,
    computed by numpy.cov, independently of the page's formulas."""
    values = samples.numpy()
    return torch.from_numpy(values.mean(0)), torch.from_numpy(np.atleast_2d(np.cov(values.T, bias=True)))


def enumerated_cov_off(formula, batch_size, replacement):
    """Mean and covariance of g_B over every possible mini-batch against the page's E[g_B] = grad L and the
    covariance formula(n, B, Sigma); the larger of the two differences, in units of atol = 1e-12."""
    n = 6 if replacement else 8
    grads, mean, sigma = _population(n, 2, (10 if replacement else 0) + batch_size)
    draws = itertools.product(range(n), repeat=batch_size) if replacement else itertools.combinations(range(n), batch_size)
    e, cov = _cov(torch.stack([grads[list(s)].mean(0) for s in draws]))
    return worst_of((e - mean).abs().max().item(), (cov - formula(n, batch_size, sigma)).abs().max().item()) / 1e-12


def cov_without_replacement(n, B, sigma):  # (N - B)/(N - 1) * Sigma / B
    return (n - B) / (n - 1) * sigma / B


def cov_with_replacement(n, B, sigma):  # Sigma / B
    return sigma / B


@pytest.mark.parametrize("batch_size", [1, 2, 3, 5, 8])
def test_minibatch_variance_without_replacement(batch_size):
    assert enumerated_cov_off(cov_without_replacement, batch_size, replacement=False) <= 1.0


@pytest.mark.parametrize("batch_size", [1, 2, 3])
def test_minibatch_variance_with_replacement(batch_size):
    assert enumerated_cov_off(cov_with_replacement, batch_size, replacement=True) <= 1.0


# ---------------------------------------------------------------------------
# L = h theta^2 / 2:  theta_t = (1 - eta h)^t theta_0, converges iff 0 < eta < 2/h
# ---------------------------------------------------------------------------
def quadratic(h):
    return lambda theta: 0.5 * h * (theta**2).sum()  # L = h theta^2 / 2, gradient h theta


@pytest.mark.parametrize("h", [0.5, 1.0, 4.0, 37.2])
def test_quadratic_threshold_2_over_h(h):
    """The page's loop (snippet gradient_descent, gradient from autograd) converges below 2/h, diverges above."""
    steps = 2000
    for factor, converges in [(0.99, True), (1.01, False)]:
        thetas, _ = gradient_descent(quadratic(h), torch.tensor([1.0]), factor * 2.0 / h, steps)
        if converges:
            assert abs(thetas[-1].item()) < 1e-6
        else:
            assert abs(thetas[-1].item()) > 1e6
    # exactly at eta = 2/h the iterate flips sign forever: theta_t = (-1)^t theta_0
    thetas, _ = gradient_descent(quadratic(h), torch.tensor([1.0]), 2.0 / h, 51)
    torch.testing.assert_close(thetas[:, 0], (-1.0) ** torch.arange(51.0), rtol=0, atol=1e-9)


def closed_form_off(closed_form, h, lr):
    """theta_t of torch.optim.SGD on L = h theta^2 / 2 against closed_form(t) = the page's theta_t, t = 1..30,
    in units of the relative tolerance 1e-12."""
    theta = torch.tensor([1.5], dtype=DTYPE, requires_grad=True)
    opt = torch.optim.SGD([theta], lr=lr)
    worst = 0.0
    for t in range(1, 31):
        opt.zero_grad()
        (0.5 * h * theta**2).sum().backward()
        opt.step()
        expected = closed_form(t, h, lr, 1.5)
        worst = worst_of(worst, abs(theta.item() - expected) / (1e-12 * abs(expected) + 1e-300))
    return worst


def page_closed_form(t, h, lr, theta0):  # theta_t = (1 - eta h)^t theta_0
    return (1 - lr * h) ** t * theta0


@pytest.mark.parametrize("h,lr", [(1.0, 0.05), (1.0, 0.5), (1.0, 1.95), (1.0, 2.05), (3.0, 0.6)])
def test_quadratic_closed_form_matches_torch_sgd(h, lr):
    assert closed_form_off(page_closed_form, h, lr) <= 1.0
    # and the page's own loop (the snippet) follows it too
    thetas, losses = gradient_descent(quadratic(h), torch.tensor([1.5]), lr, 31)
    torch.testing.assert_close(thetas[:, 0], torch.tensor([page_closed_form(t, h, lr, 1.5) for t in range(31)]),
                               rtol=1e-12, atol=1e-300)
    torch.testing.assert_close(torch.from_numpy(losses), 0.5 * h * thetas[:, 0] ** 2, rtol=1e-12, atol=0)


def _random_spd(d, kappa, seed):
    gen = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=gen, dtype=DTYPE))
    eig = torch.logspace(0, math.log10(kappa), d, dtype=DTYPE)  # lambda_min = 1, lambda_max = kappa
    return q @ torch.diag(eig) @ q.T


@pytest.mark.parametrize("d,kappa,seed", [(2, 10.0, 0), (5, 30.0, 1), (8, 4.0, 2)])
def test_general_quadratic_threshold_and_rate(d, kappa, seed):
    H = _random_spd(d, kappa, seed)
    theta_star = torch.randn(d, generator=torch.Generator().manual_seed(seed + 100), dtype=DTYPE)
    theta0 = theta_star + torch.randn(d, generator=torch.Generator().manual_seed(seed + 200), dtype=DTYPE)
    lam = torch.linalg.eigvalsh(H)
    lam_min, lam_max = lam[0].item(), lam[-1].item()

    def run(lr, steps):
        theta = theta0.clone()
        errs = [(theta - theta_star).norm().item()]
        for _ in range(steps):
            theta = theta - lr * (H @ (theta - theta_star))  # grad of (theta-theta*)^T H (theta-theta*) / 2
            errs.append((theta - theta_star).norm().item())
        return errs

    assert run(0.99 * 2 / lam_max, 3000)[-1] < 1e-8  # just below 2 / lambda_max: converges
    assert run(1.01 * 2 / lam_max, 3000)[-1] > 1e6  # just above: diverges
    # best fixed step eta* = 2/(lam_max + lam_min): error contracts by rho = (kappa-1)/(kappa+1) per step,
    # kappa = the condition number as numpy.linalg.cond computes it
    rho = optimal_rate(np.linalg.cond(H.numpy()))
    errs = run(2 / (lam_max + lam_min), 200)
    for e0, e1 in zip(errs, errs[1:]):
        assert e1 <= rho * e0 * (1 + 1e-9) + 1e-14  # 1e-14: round-off in theta - theta*
    # the bound is attained: started along the lambda_min eigenvector the error is exactly rho^t
    assert attained_rate_off(H, theta_star, optimal_rate) <= 1.0


def optimal_rate(kappa):  # rho(eta*) = (kappa - 1) / (kappa + 1)
    return (kappa - 1) / (kappa + 1)


def attained_rate_off(H, theta_star, rate):
    """Start GD with eta* = 2/(lam_max + lam_min) one unit along the lambda_min eigenvector (numpy.linalg.eigh)
    and compare ||theta_t - theta*|| with rate(kappa)^t, t = 1..20, in units of the relative tolerance 1e-8."""
    lam, V = np.linalg.eigh(H.numpy())
    rho = rate(lam[-1] / lam[0])
    theta = theta_star + torch.from_numpy(V[:, 0])
    worst = 0.0
    for t in range(1, 21):
        theta = theta - 2 / (lam[-1] + lam[0]) * (H @ (theta - theta_star))
        worst = worst_of(worst, abs((theta - theta_star).norm().item() - rho**t) / (1e-8 * rho**t))
    return worst


# ---------------------------------------------------------------------------
# steepest descent: grad L^T u >= -||grad L|| for every unit u, equality at u = -g/||g||
# ---------------------------------------------------------------------------
def test_negative_gradient_is_steepest_descent_direction():
    torch.manual_seed(0)
    A = torch.randn(6, 4, dtype=DTYPE)

    def L(theta):
        return torch.logsumexp(A @ theta, 0) + 0.5 * (theta**2).sum()

    theta = torch.randn(4, dtype=DTYPE)
    g = torch.autograd.functional.jacobian(L, theta)
    # directional derivatives computed by autograd's JVP, independently of g
    u = torch.nn.functional.normalize(torch.randn(200, 4, dtype=DTYPE), dim=1)
    slopes = torch.stack([torch.autograd.functional.jvp(L, theta, ui)[1] for ui in u])
    assert slopes.min() >= -g.norm() - 1e-12
    u_star = -g / g.norm()
    slope_star = torch.autograd.functional.jvp(L, theta, u_star)[1]
    torch.testing.assert_close(slope_star, -g.norm(), rtol=1e-12, atol=1e-12)
    # and a small step along -g decreases L (first-order Taylor)
    eps = 1e-4
    assert L(theta + eps * u_star) < L(theta)
    assert ((L(theta + eps * u_star) - L(theta)) / eps).item() == pytest.approx(-g.norm().item(), rel=1e-3)


# ---------------------------------------------------------------------------
# iterations per epoch = ceil(N / B)  (floor(N / B) with drop_last=True)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("n,batch_size", [(10, 3), (50000, 128), (64, 64), (7, 10), (1000, 1)])
def test_iterations_per_epoch(n, batch_size):
    ds = torch.utils.data.TensorDataset(torch.zeros(n, 1))
    assert len(torch.utils.data.DataLoader(ds, batch_size=batch_size)) == math.ceil(n / batch_size)
    assert len(torch.utils.data.DataLoader(ds, batch_size=batch_size, drop_last=True)) == n // batch_size
    # the number of examples seen in one epoch is still N
    assert sum(len(xb[0]) for xb in torch.utils.data.DataLoader(ds, batch_size=batch_size)) == n


# ---------------------------------------------------------------------------
# What the page says about its figures, from the snippet's own experiments
# ---------------------------------------------------------------------------
def test_figure_1_too_small_and_too_large_rates_have_identical_losses():
    """Caption: the eta h = 0.05 (solid) and 1.95 (dashed) loss curves coincide, |1 - eta h| = 0.95 for both."""
    _, small = gradient_descent(quadratic(1.0), torch.tensor([1.0]), 0.05, 30)
    _, large = gradient_descent(quadratic(1.0), torch.tensor([1.0]), 1.95, 30)
    np.testing.assert_allclose(large, small, rtol=1e-10, atol=0)
    np.testing.assert_allclose(small, 0.5 * 0.95 ** (2 * np.arange(30)), rtol=1e-10, atol=0)


@pytest.fixture(scope="module")
def batch_size_numbers():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # as the snippet computes
    try:
        excess, n_samples = SNIPPET["batch_size_experiment"]()
    finally:
        torch.set_default_dtype(previous)
    return n_samples, SNIPPET["batch_size_numbers"](excess, n_samples), excess


def test_figure_2_numbers_in_the_caption(batch_size_numbers):
    n_samples, numbers, excess = batch_size_numbers
    assert n_samples == 1024  # "N = 1024 examples"
    assert len(excess[n_samples]) - 1 == 12  # the full batch makes 12 updates in 12 epochs
    # left: the excess loss starts at 2.0; after one epoch it is 0.004 (B = 8) against 1.8 (full batch)
    assert excess[n_samples][0] == pytest.approx(2.0, abs=0.05)
    assert numbers[8]["after_one_epoch"] == pytest.approx(0.004, abs=0.0007)
    assert numbers[n_samples]["after_one_epoch"] == pytest.approx(1.8, abs=0.05)
    # left: mean over the last epoch 3e-3 (B = 8) and 1e-4 (B = 64): higher for smaller batches
    assert numbers[8]["last_epoch_mean"] == pytest.approx(3e-3, rel=0.2)
    assert numbers[64]["last_epoch_mean"] == pytest.approx(1e-4, rel=0.25)
    assert numbers[8]["last_epoch_mean"] > 10 * numbers[64]["last_epoch_mean"]
    # right: update for update, within 18 % (B = 8) and 5 % (B = 64) of the full batch. The old caption
    # ("step for step the full batch is best") was wrong: some mini-batch runs are ahead of it.
    assert 0.15 < numbers[8]["max_gap_to_full"] <= 0.185
    assert numbers[64]["max_gap_to_full"] <= 0.05
    updates = np.arange(1, 13)
    assert (excess[64][updates] < excess[n_samples][updates]).any()


def test_steps_to_shrink_the_error_a_millionfold():
    """Page: 13 steps when kappa = 2 and 691 when kappa = 100 (was "about 690"), at the best fixed rate,
    and gradient descent started along the flat direction takes exactly that many."""
    steps_to_shrink = SNIPPET["steps_to_shrink"]
    assert steps_to_shrink(2.0, 1e-6) == 13
    assert steps_to_shrink(100.0, 1e-6) == 691
    for kappa in (2.0, 100.0):
        path, _ = gradient_descent(SNIPPET["make_quadratic"](1.0, kappa), torch.tensor([1.0, 0.0]),
                                   2.0 / (kappa + 1.0), 800)
        first = int(np.argmax(path.norm(dim=1).numpy() <= 1e-6 * (1 + 1e-9)))
        assert first == steps_to_shrink(kappa, 1e-6)
    assert abs(100.0 / 2 * math.log(1e6) - 691) < 1  # the large-kappa approximation (kappa/2) ln(1/eps)


# ---------------------------------------------------------------------------
# Mutation tests: wrong formulas through the same comparisons
# ---------------------------------------------------------------------------
def grad_sum_not_mean(w, b, X, y):  # forgot the 1/N
    gw, gb = least_squares_grad(w, b, X, y)
    return gw * X.shape[0], gb * X.shape[0]


def grad_without_the_half(w, b, X, y):  # d/dw of r^2 without the 1/2 in the loss: 2 r x
    gw, gb = least_squares_grad(w, b, X, y)
    return 2 * gw, 2 * gb


def grad_residual_sign_flipped(w, b, X, y):  # r_i = y_i - w^T x_i - b
    gw, gb = least_squares_grad(w, b, X, y)
    return -gw, -gb


def grad_bias_forgotten(w, b, X, y):  # the bias never updated
    gw, _ = least_squares_grad(w, b, X, y)
    return gw, torch.zeros(())


@pytest.mark.parametrize("wrong", [grad_sum_not_mean, grad_without_the_half, grad_residual_sign_flipped,
                                   grad_bias_forgotten], ids=lambda f: f.__name__)
def test_wrong_gradients_are_caught(wrong):
    case = (50, 4, 0.05, 8, 2)  # mini-batches; a small rate, so that even the sum does not overflow
    assert hand_vs_torch_sgd_off(least_squares_grad, *case) <= 1.0
    assert hand_vs_torch_sgd_off(wrong, *case) > 1e6


COV_MUTANTS = {
    "(N - B)/N instead of (N - B)/(N - 1)": (lambda n, B, s: (n - B) / n * s / B, False),
    "no finite-population factor": (cov_with_replacement, False),
    "finite-population factor with replacement": (cov_without_replacement, True),
    "Sigma / B^2": (lambda n, B, s: s / B**2, True),
    "Sigma with 1/(N - 1)": (lambda n, B, s: s * n / (n - 1) / B, True),
}


@pytest.mark.parametrize("name", list(COV_MUTANTS))
def test_wrong_minibatch_covariances_are_caught(name):
    formula, replacement = COV_MUTANTS[name]
    right = cov_with_replacement if replacement else cov_without_replacement
    assert enumerated_cov_off(right, 2, replacement) <= 1.0
    assert enumerated_cov_off(formula, 2, replacement) > 1e6


@pytest.mark.parametrize("name,wrong", [
    ("theta_t = (1 - eta h)^(t+1) theta_0", lambda t, h, lr, th: (1 - lr * h) ** (t + 1) * th),
    ("theta_t = (1 - eta)^t h theta_0", lambda t, h, lr, th: (1 - lr) ** t * h * th),
    ("theta_t = (1 + eta h)^-t theta_0", lambda t, h, lr, th: (1 + lr * h) ** -t * th),
])
def test_wrong_closed_forms_are_caught(name, wrong):
    assert closed_form_off(page_closed_form, 3.0, 0.6) <= 1.0
    assert closed_form_off(wrong, 3.0, 0.6) > 1e6


@pytest.mark.parametrize("name,wrong", [
    ("(sqrt(kappa) - 1)/(sqrt(kappa) + 1), momentum's rate", lambda k: (math.sqrt(k) - 1) / (math.sqrt(k) + 1)),
    ("(kappa - 1)/kappa", lambda k: (k - 1) / k),
    ("1 - 1/kappa^2", lambda k: 1 - 1 / k**2),
])
def test_wrong_convergence_rates_are_caught(name, wrong):
    H = _random_spd(5, 30.0, 1)
    theta_star = torch.randn(5, generator=torch.Generator().manual_seed(101), dtype=DTYPE)
    assert attained_rate_off(H, theta_star, optimal_rate) <= 1.0
    assert attained_rate_off(H, theta_star, wrong) > 1e6
