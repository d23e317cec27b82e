"""Formula tests for docs/*/optimization/second-order.md.

Each update rule on the page (Newton, damped Newton, BFGS, Gauss-Newton, Hessian-vector
products) is checked against a reference that does not use it: closed-form minimisers,
torch.autograd.functional.hessian, torch.autograd.functional.hvp, torch.optim.LBFGS, or the
behaviour the page claims. The Newton step is the one the page shows (newton_step in
snippets/second_order.py), loaded from the snippet; BFGS and the Gauss-Newton decomposition are
written from the page's formulas. The mutation tests at the end run wrong Newton steps, BFGS
updates and Gauss-Newton Hessians through the same comparisons.
"""

import math

import pytest
import torch

from snippet_code import snippet_function

DTYPE = torch.float64
pytestmark = pytest.mark.usefixtures("float64")  # the snippet's step builds its identity in the default dtype

# theta - (H + damping I)^{-1} grad L(theta), gradient and Hessian from autograd
newton_step = snippet_function("second_order", "newton_step")["newton_step"]


def random_spd(n, kappa, seed):
    gen = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=DTYPE))
    return q @ torch.diag(torch.logspace(0, math.log10(kappa), n, dtype=DTYPE)) @ q.T


# ---------------------------------------------------------------------------
# Newton: one step to the exact minimiser of a quadratic
# ---------------------------------------------------------------------------
def one_step_off(step, n, kappa, seed):
    """One step of `step` on L = theta^T A theta / 2 - b^T theta from three starts, against the closed-form
    minimiser A^{-1} b (Cholesky); the worst error in units of the tolerance 1e-12 kappa (1 + |theta*|)."""
    A = random_spd(n, kappa, seed)
    b = torch.randn(n, generator=torch.Generator().manual_seed(seed + 50), dtype=DTYPE)

    def L(theta):
        return 0.5 * theta @ A @ theta - b @ theta

    theta_star = torch.cholesky_solve(b[:, None], torch.linalg.cholesky(A))[:, 0]  # closed form
    worst = 0.0
    for start_seed in range(3):
        theta0 = 10 * torch.randn(n, generator=torch.Generator().manual_seed(start_seed), dtype=DTYPE)
        err = (step(L, theta0) - theta_star).norm().item() / (1e-12 * kappa * (1 + theta_star.norm().item()))
        worst = math.inf if math.isnan(err) else max(worst, err)
    return worst


@pytest.mark.parametrize("n,kappa,seed", [(2, 25.0, 0), (5, 1e3, 1), (10, 1e6, 2), (30, 10.0, 3)])
def test_newton_one_step_on_spd_quadratic(n, kappa, seed):
    assert one_step_off(newton_step, n, kappa, seed) <= 1.0
    A = random_spd(n, kappa, seed)
    b = torch.randn(n, generator=torch.Generator().manual_seed(seed + 50), dtype=DTYPE)
    theta_star = torch.linalg.solve(A, b)
    theta0 = 10 * torch.randn(n, generator=torch.Generator().manual_seed(2), dtype=DTYPE)
    # gradient descent with the best fixed step is nowhere near after one step
    if kappa > 10:
        lam = torch.linalg.eigvalsh(A)
        gd = theta0 - 2 / (lam[0] + lam[-1]) * (A @ theta0 - b)
        assert (gd - theta_star).norm() > 0.1 * (theta0 - theta_star).norm()


def test_gd_is_the_minimiser_of_the_linear_model_plus_proximity_term():
    """Page: argmin_delta g^T delta + ||delta||^2 / (2 eta) = -eta g."""
    gen = torch.Generator().manual_seed(0)
    g, eta = torch.randn(6, generator=gen, dtype=DTYPE), 0.3

    def model(delta):
        return g @ delta + delta @ delta / (2 * eta)

    best = -eta * g
    assert torch.autograd.functional.jacobian(model, best).abs().max() < 1e-15  # stationary
    for _ in range(100):  # and no other step does better
        other = best + 0.1 * torch.randn(6, generator=gen, dtype=DTYPE)
        assert model(other) > model(best)
    # and it is the Newton step of the model, whose Hessian is I / eta
    torch.testing.assert_close(newton_step(model, torch.zeros(6)), best, rtol=1e-13, atol=1e-15)


# ---------------------------------------------------------------------------
# Newton: affine invariance; quadratic convergence
# ---------------------------------------------------------------------------
def smooth_convex(theta):
    return torch.logsumexp(torch.stack([theta[0] + 2 * theta[1], -theta[0], theta[1] - 1, 0.3 * theta[0]]), 0) \
        + 0.1 * (theta**2).sum()


def test_newton_is_affine_invariant_and_gd_is_not():
    A = torch.tensor([[3.0, 1.0], [0.5, 0.2]], dtype=DTYPE)  # invertible, badly scaled
    c = torch.tensor([0.4, -1.0], dtype=DTYPE)

    def L_phi(phi):  # the same function in new coordinates theta = A phi + c
        return smooth_convex(A @ phi + c)

    phi = torch.tensor([0.3, -0.7], dtype=DTYPE)
    theta = A @ phi + c
    for _ in range(4):
        phi, theta = newton_step(L_phi, phi), newton_step(smooth_convex, theta)
        torch.testing.assert_close(A @ phi + c, theta, rtol=1e-11, atol=1e-12)
    # one gradient step in phi maps to theta - eta A A^T g, not theta - eta g
    phi0 = torch.tensor([0.3, -0.7], dtype=DTYPE)
    theta0, eta = A @ phi0 + c, 0.01
    g_phi = torch.autograd.functional.jacobian(L_phi, phi0)
    g_theta = torch.autograd.functional.jacobian(smooth_convex, theta0)
    torch.testing.assert_close(g_phi, A.T @ g_theta, rtol=1e-12, atol=1e-14)  # chain rule on the page
    torch.testing.assert_close(torch.autograd.functional.hessian(L_phi, phi0),
                               A.T @ torch.autograd.functional.hessian(smooth_convex, theta0) @ A,
                               rtol=1e-12, atol=1e-14)
    mapped = A @ (phi0 - eta * g_phi) + c
    torch.testing.assert_close(mapped, theta0 - eta * A @ A.T @ g_theta, rtol=1e-12, atol=1e-14)
    assert (mapped - (theta0 - eta * g_theta)).norm() > 1e-3


def test_newton_error_squares_on_x_minus_log_x():
    """Page: L = x - ln x, Newton gives x <- 2x - x^2, so 1 - x_{t+1} = (1 - x_t)^2."""
    x = torch.tensor([0.5], dtype=DTYPE)
    for _ in range(5):
        new = newton_step(lambda t: (t - torch.log(t)).sum(), x)
        torch.testing.assert_close(new, 2 * x - x**2, rtol=1e-14, atol=1e-15)
        torch.testing.assert_close(1 - new, (1 - x) ** 2, rtol=1e-12, atol=1e-16)
        x = new
    assert abs(1 - x.item()) < 1e-9  # 0.5 -> 2^-32 in five steps


def test_newton_converges_quadratically_on_rosenbrock():
    def rosenbrock(t):
        return (1 - t[0]) ** 2 + 100 * (t[1] - t[0] ** 2) ** 2

    theta = torch.tensor([-1.2, 1.0], dtype=DTYPE)
    errors, losses = [], []
    for _ in range(7):
        theta = newton_step(rosenbrock, theta)
        errors.append((theta - 1).norm().item())
        losses.append(rosenbrock(theta).item())
    assert losses[1] > 1000  # pure Newton is not a descent method far from the minimum
    assert errors[-1] < 1e-12
    # once close, ||e_{t+1}|| <= C ||e_t||^2
    for e0, e1 in zip(errors[3:], errors[4:]):
        if e0 > 1e-7:
            assert e1 <= 10 * e0**2


# ---------------------------------------------------------------------------
# Newton goes to any critical point: a saddle attracts it, gradient descent leaves
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_newton_jumps_to_a_quadratic_saddle(seed):
    gen = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(4, 4, generator=gen, dtype=DTYPE))
    H = q @ torch.diag(torch.tensor([2.0, 1.0, -0.5, -3.0], dtype=DTYPE)) @ q.T  # indefinite
    saddle = torch.randn(4, generator=gen, dtype=DTYPE)

    def L(theta):
        e = theta - saddle
        return 0.5 * e @ H @ e

    theta0 = saddle + torch.randn(4, generator=gen, dtype=DTYPE)
    torch.testing.assert_close(newton_step(L, theta0), saddle, rtol=1e-12, atol=1e-12)  # Newton: lands on it
    # Page: Newton step = -sum_i (v_i^T g / lambda_i) v_i ; GD step = -eta sum_i (v_i^T g) v_i
    lam, V = torch.linalg.eigh(H)
    g = H @ (theta0 - saddle)
    newton_delta = -sum((V[:, i] @ g) / lam[i] * V[:, i] for i in range(4))
    torch.testing.assert_close(theta0 + newton_delta, saddle, rtol=1e-12, atol=1e-12)
    theta = theta0.clone()
    for _ in range(100):
        theta = theta - 0.1 * (H @ (theta - saddle))
    assert (theta - saddle).norm() > 100 * (theta0 - saddle).norm()  # GD: escapes along negative curvature
    assert L(theta) < L(theta0) - 100


def test_newton_converges_to_the_saddle_of_the_quartic():
    """L = x^2/2 + y^4/4 - y^2/2: inside |y| < 1/sqrt(3) (H indefinite) Newton heads for (0, 0)."""
    def L(t):
        return t[0] ** 2 / 2 + t[1] ** 4 / 4 - t[1] ** 2 / 2

    for start in [(1.5, 0.3), (-1.2, -0.25), (0.4, 0.1)]:
        theta = newton_step(L, torch.tensor(start, dtype=DTYPE))
        assert theta[0].abs() < 1e-15  # x is solved exactly in one step
        for _ in range(5):
            theta = newton_step(L, theta)
        assert theta.abs().max() < 1e-12 and abs(L(theta).item()) < 1e-20  # the saddle, L = 0
        # gradient descent from the same start finds a minimum, L = -1/4
        t = torch.tensor(start, dtype=DTYPE)
        for _ in range(300):
            t = t - 0.3 * torch.stack([t[0], t[1] ** 3 - t[1]])
        assert L(t).item() == pytest.approx(-0.25, abs=1e-12)
        # damped Newton with lambda > |lambda_min| = 1 also goes downhill to a minimum
        t = torch.tensor(start, dtype=DTYPE)
        for _ in range(60):
            t = newton_step(L, t, damping=1.5)
        assert L(t).item() == pytest.approx(-0.25, abs=1e-12)


# ---------------------------------------------------------------------------
# Damped Newton: lambda -> 0 is Newton, lambda -> infinity is a GD step with eta = 1/lambda
# ---------------------------------------------------------------------------
def test_damped_newton_interpolates_between_newton_and_gd():
    theta = torch.tensor([0.7, -0.4], dtype=DTYPE)
    g = torch.autograd.functional.jacobian(smooth_convex, theta)
    gaps = []
    for lam in [1e2, 1e3, 1e4, 1e5]:
        damped = newton_step(smooth_convex, theta, damping=lam)
        gd = theta - g / lam
        gaps.append((damped - gd).norm().item())
        # the difference is O(1/lambda^2): (H + lam I)^{-1} g = g/lam - H g / lam^2 + ...
        assert (damped - gd).norm() < 1.0 / lam**2 * 10 * g.norm()
    assert all(b < a / 50 for a, b in zip(gaps, gaps[1:]))
    torch.testing.assert_close(newton_step(smooth_convex, theta, damping=1e-12), newton_step(smooth_convex, theta),
                               rtol=1e-9, atol=1e-12)


def test_damping_makes_the_step_a_descent_direction():
    H = torch.diag(torch.tensor([2.0, -1.0], dtype=DTYPE))
    g = torch.tensor([0.2, 1.0], dtype=DTYPE)
    newton = -torch.linalg.solve(H, g)
    assert g @ newton > 0  # pure Newton points uphill here
    for lam in [1.01, 2.0, 10.0]:  # lam > -lambda_min = 1: H + lam I is positive definite
        delta = -torch.linalg.solve(H + lam * torch.eye(2, dtype=DTYPE), g)
        assert g @ delta < 0


# ---------------------------------------------------------------------------
# Hessian-vector products by double backward (Pearlmutter's trick)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hessian_vector_product_double_backward(seed):
    torch.manual_seed(seed)
    X, y = torch.randn(20, 3, dtype=DTYPE), torch.randint(0, 3, (20,))
    sizes = [(5, 3), (5,), (3, 5), (3,)]
    n = sum(math.prod(s) for s in sizes)

    def L(theta):
        parts, i = [], 0
        for s in sizes:
            parts.append(theta[i:i + math.prod(s)].reshape(s))
            i += math.prod(s)
        W1, b1, W2, b2 = parts
        return torch.nn.functional.cross_entropy(torch.tanh(X @ W1.T + b1) @ W2.T + b2, y)

    theta = torch.randn(n, dtype=DTYPE, requires_grad=True)
    v = torch.randn(n, dtype=DTYPE)
    (g,) = torch.autograd.grad(L(theta), theta, create_graph=True)
    (Hv,) = torch.autograd.grad(g @ v, theta)  # Hv = grad of (grad L . v)
    H = torch.autograd.functional.hessian(L, theta.detach())
    torch.testing.assert_close(Hv, H @ v, rtol=1e-10, atol=1e-12)
    _, Hv_ref = torch.autograd.functional.hvp(L, theta.detach(), v)
    torch.testing.assert_close(Hv, Hv_ref, rtol=1e-10, atol=1e-12)


def test_conjugate_gradient_with_hvps_gives_the_newton_step():
    """Newton-CG: solve H delta = -g using only Hessian-vector products."""
    A = random_spd(8, 50.0, 4)
    b = torch.randn(8, generator=torch.Generator().manual_seed(9), dtype=DTYPE)

    def L(theta):
        return 0.5 * theta @ A @ theta - b @ theta + 0.1 * torch.cosh(theta).sum()

    theta = torch.zeros(8, dtype=DTYPE, requires_grad=True)
    (g,) = torch.autograd.grad(L(theta), theta, create_graph=True)

    def hvp(v):
        return torch.autograd.grad(g @ v, theta, retain_graph=True)[0]

    delta, r = torch.zeros(8, dtype=DTYPE), -g.detach()
    p = r.clone()
    for _ in range(8):  # exact in n steps in exact arithmetic
        Hp = hvp(p)
        a = (r @ r) / (p @ Hp)
        delta, r_new = delta + a * p, r - a * Hp
        p, r = r_new + (r_new @ r_new) / (r @ r) * p, r_new
    torch.testing.assert_close(theta.detach() + delta, newton_step(L, theta.detach()), rtol=1e-9, atol=1e-10)


# ---------------------------------------------------------------------------
# Quasi-Newton: the BFGS update, and torch.optim.LBFGS on a quadratic
# ---------------------------------------------------------------------------
def bfgs_update(B, s, y):
    """Page: B+ = (I - rho s y^T) B (I - rho y s^T) + rho s s^T, rho = 1 / (y^T s)."""
    rho = 1.0 / (y @ s)
    eye = torch.eye(len(s), dtype=DTYPE)
    return (eye - rho * torch.outer(s, y)) @ B @ (eye - rho * torch.outer(y, s)) + rho * torch.outer(s, s)


def tolerances_off(actual, expected, rtol, atol):
    """How many tolerances the worst entry is off (<= 1 passes assert_close(rtol, atol)); NaN counts as inf."""
    if actual.shape != expected.shape:
        return math.inf
    return ((actual - expected).abs() / (atol + rtol * expected.abs())).nan_to_num(nan=math.inf).max().item()


def bfgs_off(update, n, kappa, seed):
    """BFGS with exact line searches on a quadratic, the inverse-Hessian approximation B updated by `update`:
    the worst of the secant condition B+ y = s after every step, theta_n = A^{-1} b (torch.linalg.solve)
    and B_n = A^{-1} (torch.linalg.inv), each in units of its tolerance. Also returns the smallest eigenvalue
    of B met along the way."""
    A = random_spd(n, kappa, seed)
    b = torch.randn(n, generator=torch.Generator().manual_seed(seed + 7), dtype=DTYPE)
    theta, B = torch.zeros(n, dtype=DTYPE), torch.eye(n, dtype=DTYPE)
    worst, min_eig = 0.0, math.inf
    for _ in range(n):
        g = A @ theta - b
        p = -B @ g
        alpha = -(g @ p) / (p @ A @ p)  # exact line search on a quadratic
        s = alpha * p
        y = A @ (theta + s) - b - g
        B = update(B, s, y)
        worst = max(worst, tolerances_off(B @ y, s, 1e-9, 1e-12))  # secant condition
        min_eig = min(min_eig, torch.linalg.eigvalsh(B).min().item())
        theta = theta + s
    # on a quadratic with exact line searches: the minimiser after n steps, and B = A^{-1}
    worst = max(worst, tolerances_off(theta, torch.linalg.solve(A, b), 1e-7, 1e-9),
                tolerances_off(B, torch.linalg.inv(A), 1e-6, 1e-8))
    return worst, min_eig


@pytest.mark.parametrize("n,kappa,seed", [(3, 10.0, 0), (6, 100.0, 1), (12, 1e3, 2)])
def test_bfgs_secant_condition_and_n_step_termination(n, kappa, seed):
    off, min_eig = bfgs_off(bfgs_update, n, kappa, seed)
    assert off <= 1.0
    assert min_eig > 0  # B stays positive definite (y^T s > 0)


@pytest.mark.parametrize("n,kappa,seed", [(5, 10.0, 0), (20, 1e3, 1), (50, 1e2, 2)])
def test_torch_lbfgs_reaches_the_closed_form_minimiser(n, kappa, seed):
    A = random_spd(n, kappa, seed)
    b = torch.randn(n, generator=torch.Generator().manual_seed(seed + 3), dtype=DTYPE)
    theta = torch.zeros(n, dtype=DTYPE, requires_grad=True)
    opt = torch.optim.LBFGS([theta], max_iter=500, history_size=10, tolerance_grad=1e-12,
                            tolerance_change=1e-16, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = 0.5 * theta @ A @ theta - b @ theta
        loss.backward()
        return loss

    opt.step(closure)
    theta_star = torch.linalg.solve(A, b)  # closed form
    assert opt.state[theta]["n_iter"] < 500  # stopped by its tolerances, not by max_iter
    assert (theta.detach() - theta_star).norm() < 1e-5 * theta_star.norm()


# ---------------------------------------------------------------------------
# Gauss-Newton: H = J^T J + sum_i r_i Hess(r_i)
# ---------------------------------------------------------------------------
def gauss_newton_hessian(J, r, hess_r):  # Page: H = J^T J + sum_i r_i Hess(r_i)
    return J.T @ J + sum(ri * Hi for ri, Hi in zip(r, hess_r))


def gauss_newton_off(hessian_formula):
    """The Hessian of L = |r(theta)|^2 / 2 for r_i = a exp(-k x_i) - y_i, from hessian_formula(J, r, Hess(r_i))
    with J and Hess(r_i) from autograd, against torch.autograd.functional.hessian(L), in tolerances."""
    gen = torch.Generator().manual_seed(0)
    x = torch.linspace(0, 2, 15, dtype=DTYPE)
    y = 1.5 * torch.exp(-0.8 * x) + 0.05 * torch.randn(15, generator=gen, dtype=DTYPE)

    def residuals(theta):
        return theta[0] * torch.exp(-theta[1] * x) - y

    theta = torch.tensor([1.0, 0.5], dtype=DTYPE)
    J = torch.autograd.functional.jacobian(residuals, theta)  # (15, 2)
    hess_r = [torch.autograd.functional.hessian(lambda t, i=i: residuals(t)[i], theta) for i in range(15)]
    H = torch.autograd.functional.hessian(lambda t: 0.5 * (residuals(t) ** 2).sum(), theta)
    return tolerances_off(hessian_formula(J, residuals(theta), hess_r), H, 1e-12, 1e-13)


def test_gauss_newton_decomposition():
    gen = torch.Generator().manual_seed(0)
    x = torch.linspace(0, 2, 15, dtype=DTYPE)
    y = 1.5 * torch.exp(-0.8 * x) + 0.05 * torch.randn(15, generator=gen, dtype=DTYPE)

    def residuals(theta):  # r_i = a exp(-k x_i) - y_i
        return theta[0] * torch.exp(-theta[1] * x) - y

    def L(theta):
        return 0.5 * (residuals(theta) ** 2).sum()

    theta = torch.tensor([1.0, 0.5], dtype=DTYPE)
    J = torch.autograd.functional.jacobian(residuals, theta)  # (15, 2)
    r = residuals(theta)
    torch.testing.assert_close(torch.autograd.functional.jacobian(L, theta), J.T @ r, rtol=1e-12, atol=1e-13)
    assert gauss_newton_off(gauss_newton_hessian) <= 1.0
    assert torch.linalg.eigvalsh(J.T @ J).min() >= 0
    # linear residuals: Gauss-Newton is exact
    Xd = torch.randn(15, 3, generator=gen, dtype=DTYPE)
    w = torch.randn(3, generator=gen, dtype=DTYPE)
    H_lin = torch.autograd.functional.hessian(lambda t: 0.5 * ((Xd @ t - y) ** 2).sum(), w)
    torch.testing.assert_close(H_lin, Xd.T @ Xd, rtol=1e-12, atol=1e-13)


# ---------------------------------------------------------------------------
# The numbers the page states about its figures, from the snippet's own runs
# ---------------------------------------------------------------------------
figure_code = snippet_function("second_order", "ill_conditioned_quadratic", "gradient_descent", "newton",
                               "rosenbrock", "rosenbrock_paths", "saddle", "saddle_paths")


def test_figure_1_numbers():
    """Caption: eigenvalues 1 and 25; with eta = 2/(lmin + lmax) the loss of gradient descent is multiplied by
    ((kappa - 1)/(kappa + 1))^2 = 0.85 at every step; one Newton step reaches the minimum up to round-off."""
    A, theta_min = figure_code["ill_conditioned_quadratic"]()
    torch.testing.assert_close(torch.linalg.eigvalsh(A), torch.tensor([1.0, 25.0], dtype=DTYPE))
    A_np, m_np = A.numpy(), theta_min.numpy()
    start = torch.tensor([-2.3, -0.8], dtype=DTYPE)
    path = figure_code["gradient_descent"](lambda th: A_np @ (th - m_np), start, 2 / 26, 80)
    losses = [0.5 * (p - m_np) @ A_np @ (p - m_np) for p in path]
    ratios = [b / a for a, b in zip(losses, losses[1:])]
    assert max(abs(r - (24 / 26) ** 2) for r in ratios) < 1e-9  # the same factor at every step
    assert (24 / 26) ** 2 == pytest.approx(0.85, abs=0.005)  # the caption's 0.85
    newton_path = figure_code["newton"](lambda th: 0.5 * (th - theta_min) @ A @ (th - theta_min), start, 1)
    e = newton_path[1] - theta_min
    assert 0.5 * e @ A @ e < 1e-28  # "about 10^-29": round-off


def test_figure_2_numbers():
    """Page: pure Newton's second step raises the loss from about 4.7 to about 1400 and it is exact after 7
    steps; gradient descent is at about 1e-6 after 10,000 steps; L-BFGS reaches 1e-10 in about 35 iterations."""
    paths = figure_code["rosenbrock_paths"]()
    loss = {name: figure_code["rosenbrock"](path.T) for name, path in paths.items()}
    newton_losses = loss["Newton"]
    assert newton_losses[1] == pytest.approx(4.7, abs=0.05)
    assert newton_losses[2] == pytest.approx(1400, abs=50)
    assert newton_losses[6] > 0 and newton_losses[7] == 0.0  # exact after 7 steps, not before
    assert len(loss["gradient descent"]) == 10_001
    assert 0.7e-6 < loss["gradient descent"][-1] < 1.5e-6
    below = loss["L-BFGS"] < 1e-10
    assert below.any() and 32 <= below.argmax() <= 38


def test_figure_3_numbers():
    """Caption: started inside |y| < 1/sqrt(3), pure Newton converges to the saddle (L = 0), outside it to a
    minimum; gradient descent and damped Newton with lambda = 1.5 reach a minimum, L = -1/4, from every start."""
    for start in [(1.5, 0.3), (-1.2, -0.25), (-1.0, 0.8)]:
        runs = figure_code["saddle_paths"](torch.tensor(start, dtype=DTYPE))
        final = [figure_code["saddle"](path[-1]).item() for path in runs.values()]
        gd, newton, damped = final
        inside = abs(start[1]) < 1 / math.sqrt(3)
        assert newton == pytest.approx(0.0 if inside else -0.25, abs=1e-12)
        assert gd == pytest.approx(-0.25, abs=1e-9)
        assert damped == pytest.approx(-0.25, abs=1e-4)


# ---------------------------------------------------------------------------
# Mutation tests: wrong update rules through the same comparisons
# ---------------------------------------------------------------------------
def _grad_hess(loss_fn, theta):
    return torch.autograd.functional.jacobian(loss_fn, theta), torch.autograd.functional.hessian(loss_fn, theta)


def newton_sign_flipped(loss_fn, theta):  # theta + H^-1 g
    g, H = _grad_hess(loss_fn, theta)
    return theta + torch.linalg.solve(H, g)


def newton_times_hessian(loss_fn, theta):  # theta - H g instead of theta - H^-1 g
    g, H = _grad_hess(loss_fn, theta)
    return theta - H @ g


def newton_diagonal_hessian(loss_fn, theta):  # theta - g / diag(H)
    g, H = _grad_hess(loss_fn, theta)
    return theta - g / torch.diagonal(H)


def newton_half_step(loss_fn, theta):  # a stray 1/2 from L = theta^T A theta / 2
    g, H = _grad_hess(loss_fn, theta)
    return theta - 0.5 * torch.linalg.solve(H, g)


def newton_damped_by_default(loss_fn, theta):  # lambda = 1 left in
    return newton_step(loss_fn, theta, damping=1.0)


@pytest.mark.parametrize("wrong", [newton_sign_flipped, newton_times_hessian, newton_diagonal_hessian,
                                   newton_half_step, newton_damped_by_default], ids=lambda f: f.__name__)
def test_wrong_newton_steps_are_caught(wrong):
    assert one_step_off(newton_step, 5, 1e3, 1) <= 1.0
    assert one_step_off(wrong, 5, 1e3, 1) > 1e6


def _bfgs_outer(B, s, y, rho):
    eye = torch.eye(len(s), dtype=DTYPE)
    return (eye - rho * torch.outer(s, y)) @ B @ (eye - rho * torch.outer(y, s)) + rho * torch.outer(s, s)


BFGS_MUTANTS = {
    "rho = 1 / s^T s": lambda B, s, y: _bfgs_outer(B, s, y, 1.0 / (s @ s)),
    "rho s s^T term dropped": lambda B, s, y: _bfgs_outer(B, s, y, 1.0 / (y @ s)) - torch.outer(s, s) / (y @ s),
    "s and y swapped (the update of the Hessian itself)": lambda B, s, y: bfgs_update(B, y, s),
    "outer products not transposed": lambda B, s, y: (
        (torch.eye(len(s), dtype=DTYPE) - torch.outer(s, y) / (y @ s)) @ B
        @ (torch.eye(len(s), dtype=DTYPE) - torch.outer(s, y) / (y @ s)) + torch.outer(s, s) / (y @ s)),
}


@pytest.mark.parametrize("name", list(BFGS_MUTANTS))
def test_wrong_bfgs_updates_are_caught(name):
    assert bfgs_off(bfgs_update, 6, 100.0, 1)[0] <= 1.0
    assert bfgs_off(BFGS_MUTANTS[name], 6, 100.0, 1)[0] > 1e6


@pytest.mark.parametrize("name,wrong", [
    ("J^T J only (the Gauss-Newton approximation is not the Hessian)", lambda J, r, Hr: J.T @ J),
    ("J J^T", lambda J, r, Hr: J @ J.T),
    ("residual term subtracted", lambda J, r, Hr: J.T @ J - sum(ri * Hi for ri, Hi in zip(r, Hr))),
])
def test_wrong_gauss_newton_hessians_are_caught(name, wrong):
    assert gauss_newton_off(gauss_newton_hessian) <= 1.0
    assert gauss_newton_off(wrong) > 1e6
