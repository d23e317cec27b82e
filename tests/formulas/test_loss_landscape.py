"""Formula tests for docs/*/optimization/loss-landscape.md.

The page's formulas are implemented from scratch (hand-written Hessians, the convexity
inequalities, the permutation of hidden units) and checked against an independent reference:
torch.autograd.functional.hessian, brute-force sampling of the loss around a critical point, or
the outputs of a torch.nn network. The code the page shows is loaded from
snippets/loss_landscape.py: the eigenvalue-sign classifier (classify_critical_point), the
functions it plots (double_well, f_1d) and the filter normalisation (filter_normalised_direction,
whose scale invariance the page says this test checks), and the experiment behind Figure 2, whose
numbers the caption states. The mutation tests at the end run wrong Hessians, classifiers and
normalisations through the same comparisons.
"""

import math

import numpy as np
import pytest
import torch

from snippet_code import snippet_function

DTYPE = torch.float64
pytestmark = pytest.mark.usefixtures("float64")

SNIPPET = snippet_function("loss_landscape", "classify_critical_point", "double_well", "f_1d",
                           "filter_normalised_direction", "unflatten", "shapes")
double_well = SNIPPET["double_well"]  # L(x, y) = (x^2 - 1)^2 + 2 (y - x/2)^2


# ---------------------------------------------------------------------------
# Hessians from the page's formulas vs torch.autograd.functional.hessian
# ---------------------------------------------------------------------------
def double_well_grad(theta):
    """Page: grad L = (4x(x^2 - 1) - 2(y - x/2), 4(y - x/2))."""
    x, y = theta[0], theta[1]
    return torch.stack([4 * x * (x**2 - 1) - 2 * (y - x / 2), 4 * (y - x / 2)])


def double_well_hessian(theta):
    """Page: Hessian = [[12 x^2 - 3, -2], [-2, 4]]."""
    x = theta[0]
    return torch.stack([torch.stack([12 * x**2 - 3, torch.tensor(-2.0, dtype=DTYPE)]),
                        torch.tensor([-2.0, 4.0], dtype=DTYPE)])


def tolerances_off(actual, expected, rtol, atol):
    """How many tolerances the worst entry is off (<= 1 passes assert_close(rtol, atol)); NaN counts as inf."""
    actual, expected = torch.as_tensor(actual), torch.as_tensor(expected)
    if actual.shape != expected.shape:
        return math.inf
    return ((actual - expected).abs() / (atol + rtol * expected.abs())).nan_to_num(nan=math.inf).max().item()


POINTS = [(0.0, 0.0), (1.0, 0.5), (-1.0, -0.5), (0.3, -1.7), (2.5, 0.1), (-0.8, 0.9)]


def double_well_off(grad_formula, hessian_formula):
    """The page's gradient and Hessian of the double well against autograd at POINTS, in tolerances (1e-13)."""
    worst = 0.0
    for point in POINTS:
        theta = torch.tensor(point, dtype=DTYPE)
        worst = max(worst,
                    tolerances_off(grad_formula(theta), torch.autograd.functional.jacobian(double_well, theta),
                                   1e-13, 1e-13),
                    tolerances_off(hessian_formula(theta), torch.autograd.functional.hessian(double_well, theta),
                                   1e-13, 1e-13))
    return worst


def test_double_well_gradient_and_hessian_match_autograd():
    assert double_well_off(double_well_grad, double_well_hessian) <= 1.0


def test_double_well_critical_points_and_eigenvalues():
    """Critical points (+-1, +-1/2) and 0; eigenvalues (13 +- sqrt(41))/2 and (1 +- sqrt(65))/2."""
    for point in [(1.0, 0.5), (-1.0, -0.5), (0.0, 0.0)]:
        theta = torch.tensor(point, dtype=DTYPE)
        assert torch.autograd.functional.jacobian(double_well, theta).abs().max() == 0.0
    lam_min = torch.linalg.eigvalsh(double_well_hessian(torch.tensor([1.0, 0.5], dtype=DTYPE)))
    torch.testing.assert_close(lam_min, torch.tensor([(13 - math.sqrt(41)) / 2, (13 + math.sqrt(41)) / 2],
                                                     dtype=DTYPE), rtol=1e-13, atol=1e-13)
    lam_saddle = torch.linalg.eigvalsh(double_well_hessian(torch.zeros(2, dtype=DTYPE)))
    torch.testing.assert_close(lam_saddle, torch.tensor([(1 - math.sqrt(65)) / 2, (1 + math.sqrt(65)) / 2],
                                                        dtype=DTYPE), rtol=1e-13, atol=1e-13)


def make_classification(n, d, seed, separable=False):
    gen = torch.Generator().manual_seed(seed)
    X = torch.cat([torch.randn(n, d - 1, generator=gen, dtype=DTYPE), torch.ones(n, 1, dtype=DTYPE)], dim=1)
    w_true = torch.randn(d, generator=gen, dtype=DTYPE)
    if separable:
        y = (X @ w_true > 0).to(DTYPE)
    else:
        y = (torch.rand(n, generator=gen, dtype=DTYPE) < torch.sigmoid(X @ w_true)).to(DTYPE)
    return X, y


def logistic_loss(w, X, y):
    """Page: L(w) = (1/N) sum_i [log(1 + exp(x_i^T w)) - y_i x_i^T w]."""
    z = X @ w
    return (torch.nn.functional.softplus(z) - y * z).mean()  # softplus(z) = log(1 + e^z), overflow-safe


def logistic_grad_and_hessian(w, X, y):
    """Page: grad = (1/N) sum (p_i - y_i) x_i,  H = (1/N) sum p_i (1 - p_i) x_i x_i^T,  p_i = sigma(x_i^T w)."""
    n = X.shape[0]
    p = 1.0 / (1.0 + torch.exp(-(X @ w)))
    grad = ((p - y)[:, None] * X).sum(0) / n
    hess = torch.einsum("i,ij,ik->jk", p * (1 - p), X, X) / n
    return grad, hess


def logistic_off(grad_and_hessian, n, d, seed):
    """The page's gradient and Hessian of the logistic loss against autograd of torch's binary cross-entropy
    (binary_cross_entropy_with_logits, which the page's loss also matches), in tolerances."""
    X, y = make_classification(n, d, seed)
    w = torch.randn(d, generator=torch.Generator().manual_seed(seed + 10), dtype=DTYPE)
    bce = lambda v: torch.nn.functional.binary_cross_entropy_with_logits(X @ v, y)  # noqa: E731
    grad, hess = grad_and_hessian(w, X, y)
    return max(tolerances_off(logistic_loss(w, X, y), bce(w), 1e-13, 1e-14),
               tolerances_off(grad, torch.autograd.functional.jacobian(bce, w), 1e-12, 1e-14),
               tolerances_off(hess, torch.autograd.functional.hessian(bce, w), 1e-12, 1e-14))


@pytest.mark.parametrize("n,d,seed", [(30, 3, 0), (64, 5, 1), (10, 8, 2)])
def test_logistic_regression_loss_gradient_hessian(n, d, seed):
    assert logistic_off(logistic_grad_and_hessian, n, d, seed) <= 1.0
    X, y = make_classification(n, d, seed)
    w = torch.randn(d, generator=torch.Generator().manual_seed(seed + 10), dtype=DTYPE)
    assert torch.linalg.eigvalsh(logistic_grad_and_hessian(w, X, y)[1]).min() >= -1e-14  # H is positive semidefinite


def test_linear_regression_hessian_is_gram_matrix():
    """Page: L = ||Xw - y||^2 / (2N) has Hessian X^T X / N, positive semidefinite."""
    gen = torch.Generator().manual_seed(3)
    X, y = torch.randn(20, 4, generator=gen, dtype=DTYPE), torch.randn(20, generator=gen, dtype=DTYPE)
    w = torch.randn(4, generator=gen, dtype=DTYPE)
    H = torch.autograd.functional.hessian(lambda v: ((X @ v - y) ** 2).sum() / (2 * 20), w)
    torch.testing.assert_close(H, X.T @ X / 20, rtol=1e-13, atol=1e-14)
    assert torch.linalg.eigvalsh(H).min() >= 0


# ---------------------------------------------------------------------------
# The second-derivative test (eigenvalue signs) vs brute force around the point
# ---------------------------------------------------------------------------
VERDICTS = {"local minimum": "minimum", "local maximum": "maximum", "saddle point": "saddle",
            "degenerate: test inconclusive": "inconclusive"}


def classify_by_eigenvalues(fn, point, classify=SNIPPET["classify_critical_point"]):
    """The page's table, as the snippet's classify_critical_point applies it: all > 0 min, all < 0 max,
    mixed signs saddle, otherwise inconclusive."""
    kind, _, _ = classify(fn, torch.tensor(point, dtype=DTYPE))
    return VERDICTS[kind]


def classify_by_sampling(fn, point, radius=1e-2, n=4000):
    """Ground truth from the definitions: compare L at many points of a small ball with L(point)."""
    gen = torch.Generator().manual_seed(0)
    p = torch.tensor(point, dtype=DTYPE)
    u = torch.randn(n, p.numel(), generator=gen, dtype=DTYPE)
    u = u / u.norm(dim=1, keepdim=True) * radius * torch.rand(n, 1, generator=gen, dtype=DTYPE)
    diff = fn(p[:, None] + u.T) - fn(p)  # the functions below are elementwise in t[0], t[1], ...
    above, below = (diff > 0).any().item(), (diff < 0).any().item()
    if above and below:
        return "saddle"
    return "minimum" if above else "maximum"


def monkey_saddle(t):
    return t[0] ** 3 - 3 * t[0] * t[1] ** 2


CASES = [  # (name, function, critical point, eigenvalue verdict, true nature)
    ("bowl", lambda t: t[0] ** 2 + 3 * t[1] ** 2, (0.0, 0.0), "minimum", "minimum"),
    ("cap", lambda t: -(t[0] ** 2) - t[0] * t[1] - t[1] ** 2, (0.0, 0.0), "maximum", "maximum"),
    ("x2-y2", lambda t: t[0] ** 2 - t[1] ** 2, (0.0, 0.0), "saddle", "saddle"),
    ("xy", lambda t: t[0] * t[1], (0.0, 0.0), "saddle", "saddle"),
    ("double well min", double_well, (1.0, 0.5), "minimum", "minimum"),
    ("double well saddle", double_well, (0.0, 0.0), "saddle", "saddle"),
    ("3d saddle", lambda t: t[0] ** 2 + t[1] ** 2 - t[2] ** 2 + t[0] * t[2], (0.0, 0.0, 0.0), "saddle", "saddle"),
    # degenerate: H singular, the test cannot decide; the truth differs case by case
    ("x2+y4", lambda t: t[0] ** 2 + t[1] ** 4, (0.0, 0.0), "inconclusive", "minimum"),
    ("x2-y4", lambda t: t[0] ** 2 - t[1] ** 4, (0.0, 0.0), "inconclusive", "saddle"),
    ("x2+y3", lambda t: t[0] ** 2 + t[1] ** 3, (0.0, 0.0), "inconclusive", "saddle"),
    ("x4+y4", lambda t: t[0] ** 4 + t[1] ** 4, (0.0, 0.0), "inconclusive", "minimum"),
    ("-x4-y4", lambda t: -t[0] ** 4 - t[1] ** 4, (0.0, 0.0), "inconclusive", "maximum"),
    ("monkey saddle", monkey_saddle, (0.0, 0.0), "inconclusive", "saddle"),
]


def wrong_decisive_verdicts(classify):
    """How many CASES a classifier gets wrong: a decisive verdict (not "inconclusive") that contradicts the
    nature found by sampling the loss around the point."""
    wrong = 0
    for _, fn, point, _, truth in CASES:
        verdict = classify_by_eigenvalues(fn, point, classify)
        wrong += verdict != "inconclusive" and verdict != truth
    return wrong


def test_a_decisive_eigenvalue_verdict_is_never_wrong():
    assert wrong_decisive_verdicts(SNIPPET["classify_critical_point"]) == 0


@pytest.mark.parametrize("name,fn,point,verdict,truth", CASES, ids=[c[0] for c in CASES])
def test_second_derivative_test(name, fn, point, verdict, truth):
    grad = torch.autograd.functional.jacobian(fn, torch.tensor(point, dtype=DTYPE))
    assert grad.abs().max() < 1e-12, "the test applies at critical points only"
    assert classify_by_eigenvalues(fn, point) == verdict
    assert classify_by_sampling(fn, point) == truth
    if verdict != "inconclusive":
        assert verdict == truth  # a decisive eigenvalue test is always right


def test_gradient_zero_is_neither_sufficient_nor_the_definition():
    # L = theta^3: the gradient vanishes at 0, which is not a minimum (L(-e) < 0 = L(0))
    assert classify_by_sampling(lambda t: t[0] ** 3, (0.0,)) == "saddle"
    # L = |theta|: a (global) minimum at 0 where L is not differentiable
    assert classify_by_sampling(lambda t: t[0].abs(), (0.0,)) == "minimum"


def test_local_minimum_that_is_not_global():
    """L = theta^4/4 - theta^2 + 0.3 theta: local minimum near 1.33, global minimum near -1.48."""
    roots = torch.tensor(sorted(np.roots([1.0, 0.0, -2.0, 0.3]).real), dtype=DTYPE)  # L'(theta) = 0

    def f(t):  # the snippet's f_1d (Figure 1), on one-element tensors
        return SNIPPET["f_1d"](t[0])

    kinds = [classify_by_eigenvalues(f, (r.item(),)) for r in roots]
    assert kinds == ["minimum", "maximum", "minimum"]
    values = [f(r.reshape(1)).item() for r in roots]
    grid = torch.linspace(-4, 4, 80001, dtype=DTYPE)
    assert values[0] == pytest.approx(f(grid[None]).min().item(), abs=1e-8)  # the global minimum
    assert values[2] > values[0] + 0.5  # a local minimum that is clearly worse


def test_minimum_need_not_exist():
    """theta^3 - 3 theta has a local minimum at 1 but no global one; separable logistic loss has no minimiser."""
    def f(t):
        return t[0] ** 3 - 3 * t[0]

    assert classify_by_eigenvalues(f, (1.0,)) == "minimum"
    assert f(torch.tensor([-3.0])) < f(torch.tensor([1.0])) - 10
    X, y = make_classification(40, 3, 5, separable=True)
    # find a separating w by running the perceptron rule, then scale it up: the loss keeps falling to 0
    w = torch.zeros(3, dtype=DTYPE)
    for _ in range(1000):
        wrong = ((X @ w > 0).to(DTYPE) != y)
        if not wrong.any():
            break
        i = int(wrong.nonzero()[0])
        w = w + (2 * y[i] - 1) * X[i]
    assert not ((X @ w > 0).to(DTYPE) != y).any()
    losses = [logistic_loss(c * w, X, y).item() for c in (1, 10, 100)]
    assert losses[0] > losses[1] > losses[2] > 0


# ---------------------------------------------------------------------------
# Convexity: the defining inequality, the first-order condition, local = global
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_logistic_loss_satisfies_convexity_inequalities(seed):
    X, y = make_classification(50, 4, seed)
    gen = torch.Generator().manual_seed(100 + seed)
    L = lambda w: logistic_loss(w, X, y)  # noqa: E731
    for _ in range(200):
        w1, w2 = 3 * torch.randn(4, generator=gen, dtype=DTYPE), 3 * torch.randn(4, generator=gen, dtype=DTYPE)
        t = torch.rand((), generator=gen, dtype=DTYPE)
        # L(t w1 + (1-t) w2) <= t L(w1) + (1-t) L(w2)
        assert L(t * w1 + (1 - t) * w2) <= t * L(w1) + (1 - t) * L(w2) + 1e-12
        # L(w2) >= L(w1) + grad L(w1)^T (w2 - w1)
        g1, _ = logistic_grad_and_hessian(w1, X, y)
        assert L(w2) >= L(w1) + g1 @ (w2 - w1) - 1e-12


def test_convex_local_minimum_is_global():
    """L2-regularised logistic regression: from every start, the critical point reached is the same."""
    X, y = make_classification(60, 4, 7)
    L = lambda w: logistic_loss(w, X, y) + 0.05 * (w**2).sum()  # noqa: E731
    solutions = []
    for seed in range(3):
        w = (5 * torch.randn(4, generator=torch.Generator().manual_seed(seed), dtype=DTYPE)).requires_grad_()
        opt = torch.optim.LBFGS([w], max_iter=200, tolerance_grad=1e-12, tolerance_change=1e-15,
                                line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = L(w)
            loss.backward()
            return loss

        opt.step(closure)
        solutions.append(w.detach())
    for s in solutions[1:]:
        torch.testing.assert_close(s, solutions[0], rtol=0, atol=1e-6)
    for s in solutions:  # and it is a critical point
        assert torch.autograd.functional.jacobian(L, s).abs().max() < 1e-6


# ---------------------------------------------------------------------------
# Neural networks: permutation symmetry, and a violated convexity inequality
# ---------------------------------------------------------------------------
def permuted_copy(net, perm):
    """Page: W1 -> P W1, b1 -> P b1, W2 -> W2 P^T (rows/entries/columns reordered by perm)."""
    P = torch.eye(len(perm), dtype=DTYPE)[perm]
    new = torch.nn.Sequential(torch.nn.Linear(net[0].in_features, len(perm)), type(net[1])(),
                              torch.nn.Linear(len(perm), net[2].out_features)).to(DTYPE)
    with torch.no_grad():
        new[0].weight.copy_(P @ net[0].weight)
        new[0].bias.copy_(P @ net[0].bias)
        new[2].weight.copy_(net[2].weight @ P.T)
        new[2].bias.copy_(net[2].bias)
    return new


@pytest.mark.parametrize("act,hidden,seed", [(torch.nn.Tanh, 5, 0), (torch.nn.ReLU, 7, 1), (torch.nn.Sigmoid, 3, 2)])
def test_permuting_hidden_units_leaves_the_function_unchanged(act, hidden, seed):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(4, hidden), act(), torch.nn.Linear(hidden, 2)).to(DTYPE)
    x, target = torch.randn(32, 4, dtype=DTYPE), torch.randint(0, 2, (32,))
    perm = torch.randperm(hidden)
    assert not torch.equal(perm, torch.arange(hidden))
    other = permuted_copy(net, perm)
    flat = lambda m: torch.cat([p.flatten() for p in m.parameters()])  # noqa: E731
    assert (flat(net) - flat(other)).norm() > 0.1  # a different point in parameter space ...
    torch.testing.assert_close(other(x), net(x), rtol=1e-13, atol=1e-14)  # ... with the same outputs
    ce = torch.nn.functional.cross_entropy
    torch.testing.assert_close(ce(other(x), target), ce(net(x), target), rtol=1e-13, atol=1e-14)


def test_tanh_sign_flip_and_relu_rescaling_symmetries():
    torch.manual_seed(3)
    x = torch.randn(16, 3, dtype=DTYPE)
    W1, b1, W2 = torch.randn(4, 3, dtype=DTYPE), torch.randn(4, dtype=DTYPE), torch.randn(2, 4, dtype=DTYPE)
    s = torch.tensor([1.0, -1.0, -1.0, 1.0], dtype=DTYPE)  # flip units 1 and 2: tanh(-z) = -tanh(z)
    torch.testing.assert_close((W2 * s) @ torch.tanh((s[:, None] * W1) @ x.T + (s * b1)[:, None]),
                               W2 @ torch.tanh(W1 @ x.T + b1[:, None]), rtol=1e-13, atol=1e-14)
    a = torch.tensor([0.1, 2.0, 5.0, 0.7], dtype=DTYPE)  # relu(a z) = a relu(z) for a > 0
    torch.testing.assert_close((W2 / a) @ torch.relu((a[:, None] * W1) @ x.T + (a * b1)[:, None]),
                               W2 @ torch.relu(W1 @ x.T + b1[:, None]), rtol=1e-13, atol=1e-14)


def test_figure_2_the_straight_path_between_permuted_minima():
    """Figure 2: theta* is a minimum (zero gradient, positive definite Hessian); P theta* has exactly
    the same loss (about 0.13); on the straight line between them the loss climbs to about 2.0,
    some fifteen times as high, far above the chord."""
    S = snippet_function("loss_landscape", "make_moons", "train_mlp", "mlp_loss", "permuted")
    X, label = S["make_moons"]()
    theta = S["train_mlp"](X, label)
    L = lambda th: S["mlp_loss"](th, X, label)  # noqa: E731
    assert torch.autograd.functional.jacobian(L, theta).norm() < 1e-5
    assert torch.linalg.eigvalsh(torch.autograd.functional.hessian(L, theta)).min() > 0
    other = S["permuted"](theta)
    assert (other - theta).norm() > 1.0  # a different point ...
    torch.testing.assert_close(L(other), L(theta), rtol=1e-12, atol=0)  # ... with the same loss
    assert L(theta).item() == pytest.approx(0.13, abs=0.005)
    t = torch.linspace(0, 1, 101, dtype=DTYPE)[:, None]
    peak = L((1 - t) * theta + t * other).max().item()
    assert peak == pytest.approx(2.0, abs=0.05)
    assert 14 < peak / L(theta).item() < 17


def test_index_and_index_divided_by_n():
    """Page: the index is the number of negative Hessian eigenvalues; divided by n it is the fraction
    Dauphin et al. (2014) use. Double well: 0 at the minima; 1, i.e. 1/2 of n = 2, at the saddle."""
    for point, index in [((1.0, 0.5), 0), ((-1.0, -0.5), 0), ((0.0, 0.0), 1)]:
        lam = torch.linalg.eigvalsh(torch.autograd.functional.hessian(double_well, torch.tensor(point, dtype=DTYPE)))
        assert int((lam < 0).sum()) == index
        assert (lam < 0).to(DTYPE).mean().item() == index / 2


def two_unit_loss(theta, x):
    """f(x) = v1 tanh(w1 x) + v2 tanh(w2 x), squared error to the target tanh(x); theta = (w1, w2, v1, v2)."""
    w, v = theta[:2], theta[2:]
    return ((torch.tanh(x[:, None] * w) @ v - torch.tanh(x)) ** 2).mean()


def test_mlp_violates_convexity_between_permuted_minima():
    x = torch.linspace(-3, 3, 61, dtype=DTYPE)
    theta = torch.tensor([1.0, 2.0, 1.0, 0.0], dtype=DTYPE)  # unit 1 fits the target exactly
    swapped = theta[[1, 0, 3, 2]]  # unit 2 does
    assert two_unit_loss(theta, x) == 0 and two_unit_loss(swapped, x) == 0  # two global minima
    mid = 0.5 * (theta + swapped)
    assert two_unit_loss(mid, x) > 1e-3  # > (L(theta) + L(swapped)) / 2 = 0: not convex
    # second-order certificate as well: the Hessian at the midpoint has a negative eigenvalue
    lam = torch.linalg.eigvalsh(torch.autograd.functional.hessian(lambda t: two_unit_loss(t, x), mid))
    assert lam.min() < -1e-6


def test_random_search_finds_convexity_violations_for_a_trained_mlp():
    """Around a trained tanh MLP, random pairs violate the chord inequality; logistic regression never does."""
    torch.manual_seed(0)
    X, y = make_classification(80, 3, 4)
    net = torch.nn.Sequential(torch.nn.Linear(3, 6), torch.nn.Tanh(), torch.nn.Linear(6, 1)).to(DTYPE)
    params = list(net.parameters())
    opt = torch.optim.Adam(params, lr=0.05)
    for _ in range(200):
        opt.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(net(X).squeeze(-1), y).backward()
        opt.step()
    theta0 = torch.nn.utils.parameters_to_vector(params).detach()

    def L(theta):
        torch.nn.utils.vector_to_parameters(theta, params)
        with torch.no_grad():
            return torch.nn.functional.binary_cross_entropy_with_logits(net(X).squeeze(-1), y)

    gen = torch.Generator().manual_seed(1)
    violations = 0
    for _ in range(200):
        t1 = theta0 + 2 * torch.randn(theta0.shape, generator=gen, dtype=DTYPE)
        t2 = theta0 + 2 * torch.randn(theta0.shape, generator=gen, dtype=DTYPE)
        violations += bool(L(0.5 * (t1 + t2)) > 0.5 * (L(t1) + L(t2)) + 1e-9)
    assert violations > 0


# ---------------------------------------------------------------------------
# Filter normalisation (the snippet's filter_normalised_direction):
# d_i <- d_i / ||d_i|| * ||theta_i|| per neuron makes slices invariant to ReLU rescaling
# ---------------------------------------------------------------------------
unflatten = SNIPPET["unflatten"]  # flat theta -> (W1 (8, 2), b1 (8,), w2 (8,), b2 ()), the snippet's layout


def relu_mlp_loss(theta, X, y):
    """BCE of the snippet's 2-8-1 architecture, with ReLU (positively homogeneous) instead of tanh."""
    W1, b1, w2, b2 = unflatten(theta)
    return torch.nn.functional.binary_cross_entropy_with_logits(torch.relu(X @ W1.T + b1) @ w2 + b2, y)


def rescaled(theta, c):
    """Layer 1 times c, layer 2 times 1/c: relu(c z) = c relu(z), so the same function."""
    W1, b1, w2, b2 = unflatten(theta)
    return torch.cat([c * W1.flatten(), c * b1, w2 / c, b2.reshape(1)])


def filter_normalisation_off(direction_fn, c=4.0):
    """Slices L(theta + alpha d) of two equivalent ReLU networks (theta and its rescaling), each with the
    same Gaussian draw normalised by direction_fn, must agree (rtol 1e-12, atol 1e-13); the direction must
    give every neuron's incoming weights the norm they have in theta (torch.linalg.vector_norm) and leave
    the biases at 0. Returns the worst of these, in tolerances."""
    X, y = make_classification(60, 3, 8)
    X = X[:, :2]  # the snippet's network has 2 inputs
    gen = torch.Generator().manual_seed(0)
    n_params = sum(math.prod(shape) for shape in SNIPPET["shapes"])
    theta = torch.randn(n_params, generator=gen, dtype=DTYPE)
    theta_s = rescaled(theta, c)
    torch.testing.assert_close(relu_mlp_loss(theta_s, X, y), relu_mlp_loss(theta, X, y), rtol=1e-12, atol=1e-13)
    worst = 0.0
    for draw, alpha in enumerate((-0.7, 0.3, 1.0)):
        torch.manual_seed(draw)
        d = direction_fn(theta)
        torch.manual_seed(draw)  # the same Gaussian draw for the rescaled network
        d_s = direction_fn(theta_s)
        worst = max(worst, tolerances_off(relu_mlp_loss(theta_s + alpha * d_s, X, y),
                                          relu_mlp_loss(theta + alpha * d, X, y), 1e-12, 1e-13))
        (W1_d, b1_d, w2_d, b2_d), (W1, _, w2, _) = unflatten(d), unflatten(theta)
        norm = torch.linalg.vector_norm
        worst = max(worst, tolerances_off(norm(W1_d, dim=1), norm(W1, dim=1), 1e-12, 0.0),
                    tolerances_off(norm(w2_d), norm(w2), 1e-12, 0.0),
                    0.0 if not torch.cat([b1_d, b2_d.reshape(1)]).any() else math.inf)  # biases exactly 0
    return worst


def test_filter_normalised_slices_ignore_relu_rescaling():
    assert filter_normalisation_off(SNIPPET["filter_normalised_direction"]) <= 1.0


def _direction(theta, rows, output):
    """A Gaussian direction with biases zeroed, its weight parts rescaled by rows(W1_d, W1), output(w2_d, w2)."""
    d = torch.randn_like(theta)
    W1_d, b1_d, w2_d, b2_d = unflatten(d)
    W1, _, w2, _ = unflatten(theta)
    W1_d.copy_(rows(W1_d, W1))
    w2_d.copy_(output(w2_d, w2))
    b1_d.zero_()
    b2_d.zero_()
    return d


FILTER_MUTANTS = {
    "raw direction": lambda t: _direction(t, lambda d, w: d, lambda d, w: d),
    "unit rows (no times ||theta_i||)": lambda t: _direction(
        t, lambda d, w: d / d.norm(dim=1, keepdim=True), lambda d, w: d / d.norm()),
    "ratio inverted": lambda t: _direction(
        t, lambda d, w: d * d.norm(dim=1, keepdim=True) / w.norm(dim=1, keepdim=True), lambda d, w: d * d.norm() / w.norm()),
    "per column instead of per neuron": lambda t: _direction(
        t, lambda d, w: d * w.norm(dim=0, keepdim=True) / d.norm(dim=0, keepdim=True), lambda d, w: d * w.norm() / d.norm()),
    "whole layer instead of per neuron": lambda t: _direction(
        t, lambda d, w: d * w.norm() / d.norm(), lambda d, w: d * w.norm() / d.norm()),
    "biases perturbed too": lambda t: SNIPPET["filter_normalised_direction"](t) + 0.1 * torch.randn_like(t),
}


@pytest.mark.parametrize("name", list(FILTER_MUTANTS))
def test_wrong_filter_normalisations_are_caught(name):
    assert filter_normalisation_off(SNIPPET["filter_normalised_direction"]) <= 1.0
    assert filter_normalisation_off(FILTER_MUTANTS[name]) > 1e6


# ---------------------------------------------------------------------------
# High dimensions: a random symmetric matrix is rarely positive definite
# ---------------------------------------------------------------------------
def test_random_symmetric_matrices_are_rarely_positive_definite():
    gen = torch.Generator().manual_seed(0)
    fractions = []
    for n in range(1, 6):
        A = torch.randn(20000, n, n, generator=gen, dtype=DTYPE)
        lam_min = torch.linalg.eigvalsh((A + A.transpose(1, 2)) / 2)[:, 0]
        fractions.append((lam_min > 0).to(DTYPE).mean().item())
    assert fractions[0] == pytest.approx(0.5, abs=0.02)
    assert all(a > b for a, b in zip(fractions, fractions[1:]))
    assert all(f < 2.0**-n for n, f in enumerate(fractions[1:], start=2))  # rarer than coin flips


# ---------------------------------------------------------------------------
# Mutation tests for the Hessians and the second-derivative test
# ---------------------------------------------------------------------------
def _hessian(top_left, off_diagonal, bottom_right):
    def hessian(theta):
        x = theta[0]
        return torch.stack([torch.stack([top_left(x), torch.tensor(off_diagonal, dtype=DTYPE)]),
                            torch.tensor([off_diagonal, bottom_right], dtype=DTYPE)])
    return hessian


@pytest.mark.parametrize("name,wrong", [
    ("12 x^2 - 4: the coupling term's 1 forgotten", _hessian(lambda x: 12 * x**2 - 4, -2.0, 4.0)),
    ("off-diagonal +2", _hessian(lambda x: 12 * x**2 - 3, 2.0, 4.0)),
    ("off-diagonal -1", _hessian(lambda x: 12 * x**2 - 3, -1.0, 4.0)),
    ("4 x^2 - 3", _hessian(lambda x: 4 * x**2 - 3, -2.0, 4.0)),
    ("bottom-right 2", _hessian(lambda x: 12 * x**2 - 3, -2.0, 2.0)),
])
def test_wrong_double_well_hessians_are_caught(name, wrong):
    assert double_well_off(double_well_grad, double_well_hessian) <= 1.0
    assert double_well_off(double_well_grad, wrong) > 1e6


def _logistic(weight, scale, sign=1.0):
    def grad_and_hessian(w, X, y):
        p = torch.sigmoid(X @ w)
        grad = sign * ((p - y)[:, None] * X).sum(0) / scale(X)
        hess = torch.einsum("i,ij,ik->jk", weight(p), X, X) / scale(X)
        return grad, hess
    return grad_and_hessian


@pytest.mark.parametrize("name,wrong", [
    ("H without p (1 - p)", _logistic(lambda p: torch.ones_like(p), lambda X: X.shape[0])),
    ("H with p instead of p (1 - p)", _logistic(lambda p: p, lambda X: X.shape[0])),
    ("sums instead of means", _logistic(lambda p: p * (1 - p), lambda X: 1.0)),
    ("gradient (y - p) x", _logistic(lambda p: p * (1 - p), lambda X: X.shape[0], sign=-1.0)),
])
def test_wrong_logistic_derivatives_are_caught(name, wrong):
    assert logistic_off(logistic_grad_and_hessian, 30, 3, 0) <= 1.0
    assert logistic_off(wrong, 30, 3, 0) > 1e6


def _classifier(rule):
    def classify(loss_fn, theta):
        lam = torch.linalg.eigvalsh(torch.autograd.functional.hessian(loss_fn, theta))
        return rule(lam), lam, None
    return classify


@pytest.mark.parametrize("name,rule", [
    ("eigenvalues >= 0 is a minimum", lambda lam: "local minimum" if (lam >= -1e-8).all() else
     "local maximum" if (lam <= 1e-8).all() else "saddle point"),
    ("det H > 0 is a minimum", lambda lam: "local minimum" if lam.prod() > 1e-8 else
     "saddle point" if lam.prod() < -1e-8 else "degenerate: test inconclusive"),
    ("trace H > 0 is a minimum", lambda lam: "local minimum" if lam.sum() > 1e-8 else
     "local maximum" if lam.sum() < -1e-8 else "degenerate: test inconclusive"),
])
def test_wrong_second_derivative_rules_are_caught(name, rule):
    assert wrong_decisive_verdicts(SNIPPET["classify_critical_point"]) == 0
    assert wrong_decisive_verdicts(_classifier(rule)) > 0
