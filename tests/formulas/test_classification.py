"""Classification (docs/*/ml-foundations/classification.md): the page's formulas, from scratch,
against scikit-learn and PyTorch.

- logistic regression by Newton's method / IRLS (and by gradient descent) against
  sklearn.linear_model.LogisticRegression(penalty=None) coefficients, on the snippet's data and
  on two classes of load_iris;
- softmax and cross-entropy (class-index and probability targets) against torch's F.softmax and
  F.cross_entropy;
- the KL divergence against torch.distributions.kl_divergence, and CE = H(q) + KL(q || p);
- the numbers the page states about its figures;
- mutations: wrong IRLS weights, a flipped gradient sign, softmax over the wrong axis, a
  cross-entropy without the log-sum-exp, the KL divergence with its arguments swapped, and a
  log base 2 fail the same comparisons.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from snippet_code import snippet_function

S = snippet_function("classification", "make_data", "design_matrix", "sigmoid", "neg_log_likelihood", "gradient",
                     "hessian", "fit_logistic_newton", "irls_step", "fit_logistic_gd", "softmax", "log_softmax",
                     "cross_entropy", "entropy", "kl_divergence", "fit_softmax_regression", "digits_split",
                     "MARGIN_LOSSES", "PULL")


def snippet_data():
    Z, y = S["make_data"]()
    return Z, y


def iris_data():
    """versicolor (1) against virginica (2): four predictors, overlapping, so the MLE exists."""
    data = load_iris()
    keep = data.target > 0
    Z = data.data[keep]
    return (Z - Z.mean(axis=0)) / Z.std(axis=0), (data.target[keep] == 2).astype(float)


DATASETS = {"snippet": snippet_data, "iris": iris_data}


def sklearn_coefficients(Z, y):
    # no penalty: LogisticRegression(penalty=None), spelled C=np.inf since scikit-learn 1.8
    model = LogisticRegression(C=np.inf, solver="newton-cg", tol=1e-12, max_iter=1000).fit(Z, y)
    return np.concatenate([model.intercept_, model.coef_.ravel()])


@pytest.fixture(scope="module", params=list(DATASETS))
def case(request):
    Z, y = DATASETS[request.param]()
    return S["design_matrix"](Z), y, sklearn_coefficients(Z, y)


# ---------------------------------------------------------------------------
# logistic regression: Newton / IRLS vs sklearn
# ---------------------------------------------------------------------------
def test_newton_matches_sklearn(case):
    X, y, reference = case
    beta, history = S["fit_logistic_newton"](X, y)
    np.testing.assert_allclose(beta, reference, rtol=1e-6, atol=1e-8)
    assert np.all(np.diff(history) <= 1e-12)  # the likelihood rises at every Newton step here
    assert np.max(np.abs(S["gradient"](X, y, beta))) < 1e-9  # score equations X^T (y - pi) = 0


def test_irls_step_is_newton_step(case):
    X, y, _ = case
    beta = np.full(X.shape[1], 0.1)
    newton = beta + np.linalg.solve(S["hessian"](X, beta), -S["gradient"](X, y, beta))
    np.testing.assert_allclose(S["irls_step"](X, y, beta), newton, rtol=1e-10)


def test_gradient_and_hessian_match_autograd(case):
    X, y, _ = case
    beta = torch.tensor(np.linspace(-0.5, 0.5, X.shape[1]), dtype=torch.float64, requires_grad=True)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    nll = F.binary_cross_entropy_with_logits(Xt @ beta, yt, reduction="sum")
    (g,) = torch.autograd.grad(nll, beta)
    H = torch.autograd.functional.hessian(
        lambda b: F.binary_cross_entropy_with_logits(Xt @ b, yt, reduction="sum"), beta.detach())
    b = beta.detach().numpy()
    assert np.isclose(S["neg_log_likelihood"](X, y, b), nll.item(), rtol=1e-12)
    np.testing.assert_allclose(S["gradient"](X, y, b), g.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(S["hessian"](X, b), H.numpy(), rtol=1e-10, atol=1e-12)


def test_gradient_descent_reaches_the_same_coefficients():
    Z, y = snippet_data()
    X, reference = S["design_matrix"](Z), sklearn_coefficients(Z, y)
    beta, _ = S["fit_logistic_gd"](X, y)
    np.testing.assert_allclose(beta, reference, rtol=1e-5)


def test_mutation_wrong_irls_weights_fails(case):
    """W = diag(pi) instead of diag(pi (1 - pi)): a different iteration with a different limit."""
    X, y, reference = case
    beta = np.zeros(X.shape[1])
    for _ in range(50):
        pi = S["sigmoid"](X @ beta)
        beta = beta + np.linalg.solve(X.T @ (X * pi[:, None]), X.T @ (y - pi))
    assert not np.allclose(beta, reference, rtol=1e-6, atol=1e-8)


def test_mutation_flipped_gradient_sign_fails(case):
    """X^T (y - pi) used as the gradient of the negative log-likelihood: descent then climbs it."""
    X, y, reference = case
    beta = np.zeros(X.shape[1])
    for _ in range(200):
        beta = beta + 0.5 * S["gradient"](X, y, beta) / len(y)
    assert not np.allclose(beta, reference, rtol=1e-6, atol=1e-8)


def test_separable_data_has_no_mle():
    """Perfectly separated classes: the likelihood keeps rising, the coefficients keep growing."""
    X = S["design_matrix"](np.array([[-2.0], [-1.0], [1.0], [2.0]]))
    y = np.array([0.0, 0, 1, 1])
    norms = [np.linalg.norm(S["fit_logistic_newton"](X, y, n_iter=k, tol=0.0)[0]) for k in (5, 10, 20)]
    assert norms[0] < norms[1] < norms[2]


# ---------------------------------------------------------------------------
# softmax and cross-entropy vs torch
# ---------------------------------------------------------------------------
def logits_and_targets(seed=0, n=64, c=7, scale=8.0):
    rng = np.random.default_rng(seed)
    Z = scale * rng.normal(size=(n, c))
    idx = rng.integers(0, c, size=n)
    Q = rng.dirichlet(np.ones(c), size=n)
    return Z, idx, Q


def test_softmax_matches_torch():
    Z, _, _ = logits_and_targets()
    np.testing.assert_allclose(S["softmax"](Z), F.softmax(torch.tensor(Z), dim=-1).numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(S["log_softmax"](Z), F.log_softmax(torch.tensor(Z), dim=-1).numpy(), rtol=1e-12)
    big = np.array([[1000.0, 999.0, 0.0]])  # no overflow
    np.testing.assert_allclose(S["softmax"](big), F.softmax(torch.tensor(big), dim=-1).numpy(), rtol=1e-12)


def test_cross_entropy_matches_torch():
    Z, idx, Q = logits_and_targets()
    zt = torch.tensor(Z)
    assert np.isclose(S["cross_entropy"](Z, idx), F.cross_entropy(zt, torch.tensor(idx)).item(), rtol=1e-12)
    assert np.isclose(S["cross_entropy"](Z, Q), F.cross_entropy(zt, torch.tensor(Q)).item(), rtol=1e-12)


def test_two_class_softmax_is_sigmoid():
    z = np.linspace(-30, 30, 61)
    np.testing.assert_allclose(S["softmax"](np.column_stack([z, np.zeros_like(z)]))[:, 0], S["sigmoid"](z),
                               rtol=1e-12)


def test_mutation_softmax_wrong_axis_fails():
    Z, _, _ = logits_and_targets()
    wrong = np.exp(Z - Z.max(axis=0)) / np.exp(Z - Z.max(axis=0)).sum(axis=0)  # normalized over examples
    assert not np.allclose(wrong, F.softmax(torch.tensor(Z), dim=-1).numpy(), rtol=1e-6)


def test_mutation_cross_entropy_without_logsumexp_fails():
    """-mean z_y (the logit itself, no normalization) is not the cross-entropy."""
    Z, idx, _ = logits_and_targets()
    wrong = -np.mean(Z[np.arange(len(Z)), idx])
    assert not np.isclose(wrong, F.cross_entropy(torch.tensor(Z), torch.tensor(idx)).item(), rtol=1e-6)


def test_mutation_log2_fails():
    Z, idx, _ = logits_and_targets()
    wrong = S["cross_entropy"](Z, idx) / np.log(2.0)  # bits instead of nats
    assert not np.isclose(wrong, F.cross_entropy(torch.tensor(Z), torch.tensor(idx)).item(), rtol=1e-6)


# ---------------------------------------------------------------------------
# KL divergence vs torch.distributions, and CE = H(q) + KL(q || p)
# ---------------------------------------------------------------------------
def torch_kl(q, p):
    Cat = torch.distributions.Categorical
    return torch.distributions.kl_divergence(Cat(probs=torch.tensor(q)), Cat(probs=torch.tensor(p))).numpy()


def test_kl_matches_torch():
    _, _, Q = logits_and_targets(seed=1)
    _, _, P = logits_and_targets(seed=2)
    np.testing.assert_allclose(S["kl_divergence"](Q, P), torch_kl(Q, P), rtol=1e-10)
    np.testing.assert_allclose(S["entropy"](Q), torch.distributions.Categorical(probs=torch.tensor(Q)).entropy().numpy(),
                               rtol=1e-10)
    q, p = np.array([0.5, 0.5, 0.0]), np.array([0.5, 0.25, 0.25])  # zeros in q: 0 log 0 = 0
    assert np.isclose(S["kl_divergence"](q, p), torch_kl(q, p), rtol=1e-10)
    assert np.isinf(S["kl_divergence"](p, q))  # p puts mass where q has none


def test_cross_entropy_is_entropy_plus_kl():
    Z, _, Q = logits_and_targets(seed=3)
    P = S["softmax"](Z)
    per_example = S["entropy"](Q) + S["kl_divergence"](Q, P)
    assert np.isclose(per_example.mean(), F.cross_entropy(torch.tensor(Z), torch.tensor(Q)).item(), rtol=1e-10)
    assert np.all(S["kl_divergence"](Q, P) >= 0)


def test_kl_is_not_a_metric():
    q, p, r = np.array([0.7, 0.2, 0.1]), np.array([0.4, 0.4, 0.2]), np.array([0.1, 0.45, 0.45])
    kl = S["kl_divergence"]
    assert not np.isclose(kl(q, p), kl(p, q))  # not symmetric
    assert kl(q, r) > kl(q, p) + kl(p, r)  # the triangle inequality fails
    assert np.isclose(kl(q, p), 0.1838, atol=5e-5) and np.isclose(kl(p, q), 0.1920, atol=5e-5)  # page numbers


def test_mutation_swapped_kl_fails():
    _, _, Q = logits_and_targets(seed=1)
    _, _, P = logits_and_targets(seed=2)
    assert not np.allclose(S["kl_divergence"](P, Q), torch_kl(Q, P), rtol=1e-6)


# ---------------------------------------------------------------------------
# softmax regression on digits and the figures' numbers
# ---------------------------------------------------------------------------
def test_softmax_regression_gradient_matches_autograd():
    Xtr, _, ytr, _ = S["digits_split"]()
    Xtr, ytr = Xtr[:200], ytr[:200]
    rng = np.random.default_rng(0)
    W, b = 0.1 * rng.normal(size=(10, 64)), 0.1 * rng.normal(size=10)
    Wt, bt = torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)
    F.cross_entropy(torch.tensor(Xtr) @ Wt.T + bt, torch.tensor(ytr)).backward()
    G = (S["softmax"](Xtr @ W.T + b) - np.eye(10)[ytr]) / len(ytr)  # (P - Y) / N, the snippet's rule
    np.testing.assert_allclose(G.T @ Xtr, Wt.grad.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(G.sum(axis=0), bt.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_figure_numbers():
    Z, y = snippet_data()
    X = S["design_matrix"](Z)
    beta, nll_newton = S["fit_logistic_newton"](X, y)
    _, nll_gd = S["fit_logistic_gd"](X, y)
    nll_min = nll_newton[-1]
    assert np.allclose(beta, [0.082, 1.94, 1.716], atol=5e-4)
    assert round(nll_min, 2) == 45.23
    assert int(np.argmax(nll_newton - nll_min < 1e-8)) == 6
    assert int(np.argmax(nll_gd - nll_min < 1e-8)) == 560
    assert round(float(np.mean((X @ beta > 0) == y)), 3) == 0.895
    assert round(float(nll_newton[0]), 2) == round(200 * np.log(2), 2)  # beta = 0: N log 2 = 138.63

    Xtr, Xte, ytr, yte = S["digits_split"]()
    W, b = S["fit_softmax_regression"](Xtr, ytr, 10)
    assert len(ytr) == 1347 and len(yte) == 450 and len(y) == 200
    assert round(float(np.mean(np.argmax(Xte @ W.T + b, axis=1) == yte)), 3) == 0.951

    pull = {k: float(f(np.array(-3.0))) for k, f in S["PULL"].items()}
    assert pull["hinge"] == 1.0
    assert round(pull["logistic / log 2"], 2) == 1.37
    assert round(pull["exponential"], 2) == 20.09
    assert round(float(S["PULL"]["logistic / log 2"](np.array(-50.0))), 2) == round(1 / np.log(2), 2) == 1.44  # the cap
    m = np.linspace(-2, 3, 501)
    losses = S["MARGIN_LOSSES"]
    for name in ("hinge", "logistic / log 2", "exponential"):  # upper bounds on the 0-1 loss
        assert np.all(losses[name](m) >= losses["0-1"](m) - 1e-12)
        assert np.isclose(losses[name](np.array(0.0)), 1.0)
