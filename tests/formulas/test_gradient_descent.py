"""Formula tests for docs/*/optimization/gradient-descent.md.

Every formula on the page is implemented here from scratch (plain tensor ops, hand-written
gradients) and compared with PyTorch (torch.optim.SGD, autograd, DataLoader) or with an
exact brute-force computation.
"""

import itertools
import math

import pytest
import torch

from support import regression_data

DTYPE = torch.float64


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
@pytest.mark.parametrize("n,d,lr,batch_size,seed", [
    (32, 3, 0.1, 32, 0),    # full batch
    (100, 7, 0.05, 100, 1),  # full batch
    (50, 4, 0.2, 8, 2),     # mini-batches, last one smaller (50 = 6*8 + 2)
    (17, 1, 0.3, 5, 3),     # mini-batches
])
def test_hand_update_matches_torch_sgd(n, d, lr, batch_size, seed):
    X, y = regression_data(n, d, seed)
    torch.manual_seed(seed)
    model = torch.nn.Linear(d, 1, dtype=DTYPE)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.0)
    w = model.weight.detach().clone().reshape(d)
    b = model.bias.detach().clone().reshape(())
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    batches = [perm[i:i + batch_size] for i in range(0, n, batch_size)]
    steps = 0
    for epoch in range(8):
        for idx in batches:
            # torch
            loss = 0.5 * ((model(X[idx]).squeeze(-1) - y[idx]) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            # by hand: theta <- theta - eta * g_B
            gw, gb = least_squares_grad(w, b, X[idx], y[idx])
            w = w - lr * gw
            b = b - lr * gb
            steps += 1
            torch.testing.assert_close(model.weight.detach().reshape(d), w, rtol=0, atol=1e-12)
            torch.testing.assert_close(model.bias.detach().reshape(()), b, rtol=0, atol=1e-12)
    assert steps >= 8
    # the parameters really moved (the test would catch a no-op optimiser)
    assert not torch.allclose(w, torch.zeros_like(w))


def test_hand_gradient_matches_autograd():
    X, y = regression_data(40, 5, 7)
    w = torch.randn(5, dtype=DTYPE, requires_grad=True)
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
    w, b = torch.randn(3, dtype=DTYPE), torch.tensor(-0.2, dtype=DTYPE)
    full_w, full_b = least_squares_grad(w, b, X, y)
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
    m = samples.mean(0)
    c = samples - m
    return m, c.T @ c / samples.shape[0]


@pytest.mark.parametrize("batch_size", [1, 2, 3, 5, 8])
def test_minibatch_variance_without_replacement(batch_size):
    n = 8
    grads, mean, sigma = _population(n, 2, batch_size)
    batch_means = torch.stack([grads[list(s)].mean(0) for s in itertools.combinations(range(n), batch_size)])
    e, cov = _cov(batch_means)
    torch.testing.assert_close(e, mean, rtol=0, atol=1e-12)  # unbiased
    expected = (n - batch_size) / (n - 1) * sigma / batch_size
    torch.testing.assert_close(cov, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("batch_size", [1, 2, 3])
def test_minibatch_variance_with_replacement(batch_size):
    n = 6
    grads, mean, sigma = _population(n, 2, 10 + batch_size)
    batch_means = torch.stack([grads[list(s)].mean(0) for s in itertools.product(range(n), repeat=batch_size)])
    e, cov = _cov(batch_means)
    torch.testing.assert_close(e, mean, rtol=0, atol=1e-12)
    torch.testing.assert_close(cov, sigma / batch_size, rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------
# L = h theta^2 / 2:  theta_t = (1 - eta h)^t theta_0, converges iff 0 < eta < 2/h
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("h", [0.5, 1.0, 4.0, 37.2])
def test_quadratic_threshold_2_over_h(h):
    steps = 2000
    for factor, converges in [(0.99, True), (1.01, False)]:
        lr = factor * 2.0 / h
        theta = 1.0
        for _ in range(steps):
            theta = theta - lr * (h * theta)  # gradient of h theta^2 / 2 is h theta
        if converges:
            assert abs(theta) < 1e-6
        else:
            assert abs(theta) > 1e6
    # exactly at eta = 2/h the iterate flips sign forever: theta_t = (-1)^t theta_0
    lr, theta = 2.0 / h, 1.0
    for t in range(1, 51):
        theta = theta - lr * (h * theta)
        assert theta == pytest.approx((-1.0) ** t, abs=1e-9)


@pytest.mark.parametrize("h,lr", [(1.0, 0.05), (1.0, 0.5), (1.0, 1.95), (1.0, 2.05), (3.0, 0.6)])
def test_quadratic_closed_form_matches_torch_sgd(h, lr):
    theta = torch.tensor([1.5], dtype=DTYPE, requires_grad=True)
    opt = torch.optim.SGD([theta], lr=lr)
    for t in range(1, 31):
        opt.zero_grad()
        (0.5 * h * theta**2).sum().backward()
        opt.step()
        expected = (1 - lr * h) ** t * 1.5
        assert theta.item() == pytest.approx(expected, rel=1e-12, abs=1e-300)


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
    # best fixed step eta* = 2/(lam_max + lam_min): error contracts by rho = (kappa-1)/(kappa+1) per step
    rho = (lam_max / lam_min - 1) / (lam_max / lam_min + 1)
    assert rho == pytest.approx((kappa - 1) / (kappa + 1), rel=1e-10)
    errs = run(2 / (lam_max + lam_min), 200)
    for e0, e1 in zip(errs, errs[1:]):
        assert e1 <= rho * e0 * (1 + 1e-9) + 1e-14  # 1e-14: round-off in theta - theta*
    # the bound is attained: started along the lambda_min eigenvector the error is exactly rho^t
    v_min = torch.linalg.eigh(H).eigenvectors[:, 0]
    theta = theta_star + v_min
    for t in range(1, 21):
        theta = theta - 2 / (lam_max + lam_min) * (H @ (theta - theta_star))
        assert (theta - theta_star).norm().item() == pytest.approx(rho**t, rel=1e-8)


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
