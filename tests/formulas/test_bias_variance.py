"""Formula tests for docs/*/ml-foundations/bias-variance.md.

The page's ridge closed form and its lasso coordinate descent (soft-thresholding) are loaded from
snippets/bias_variance.py and compared with scikit-learn's Ridge and Lasso (including which lasso
coefficients are exactly zero), its cross-validation with cross_val_score, and the bias-variance
decomposition with a simulation whose exact bias and variance are known. The numbers the page
states about its figures are asserted at the end. Mutation tests run wrong formulas (the 1/(2N)
scaling of scikit-learn's lasso forgotten, the threshold lambda instead of lambda/2, a penalized
intercept, the noise term left out of the decomposition, ...) through the same comparisons.
"""

import numpy as np
import pytest
from sklearn.linear_model import Lasso, Ridge, lasso_path
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from snippet_code import snippet_function

S = snippet_function("bias_variance", "ridge", "lasso", "soft_threshold", "lasso_lambda_max", "standardize",
                     "kfold_indices", "cv_error", "bias_variance_curves", "fit_polynomials",
                     "regularization_experiment", "constraint_picture", "sparse_regression_data", "true_f", "SIGMA")
ridge, lasso, soft_threshold = S["ridge"], S["lasso"], S["soft_threshold"]


def data(n, p, seed, rho=0.5):
    """Correlated predictors on different scales, a sparse-ish truth, an offset in y."""
    rng = np.random.default_rng(seed)
    corr = rho ** np.abs(np.subtract.outer(np.arange(p), np.arange(p)))
    X = rng.standard_normal((n, p)) @ np.linalg.cholesky(corr).T * rng.uniform(0.5, 3, p) + rng.normal(0, 2, p)
    beta = rng.standard_normal(p) * (rng.uniform(size=p) < 0.5)
    return X, 4.0 + X @ beta + rng.standard_normal(n)


CASES = [(50, 5, 0), (80, 12, 1), (30, 40, 2), (200, 3, 3)]  # includes p > N


# ---------------------------------------------------------------------------
# ridge: beta = (Xc^T Xc + lam I)^{-1} Xc^T yc, beta0 = ybar - xbar^T beta  vs  sklearn Ridge(alpha=lam)
# ---------------------------------------------------------------------------
def ridge_off(fit, X, y, lam):
    """Largest difference to sklearn.linear_model.Ridge(alpha=lam) (which minimizes RSS + alpha ||w||^2),
    intercept included, in units of the relative tolerance 1e-9."""
    ref = Ridge(alpha=lam, solver="svd").fit(X, y)
    b0, beta = fit(X, y, lam)
    scale = max(1.0, np.abs(ref.coef_).max(), abs(ref.intercept_))
    return max(np.abs(beta - ref.coef_).max(), abs(b0 - ref.intercept_)) / (1e-9 * scale)


@pytest.mark.parametrize("n,p,seed", CASES)
@pytest.mark.parametrize("lam", [0.01, 1.0, 30.0, 1e4])
def test_ridge_closed_form_matches_sklearn(n, p, seed, lam):
    assert ridge_off(ridge, *data(n, p, seed), lam) <= 1.0


# ---------------------------------------------------------------------------
# lasso: coordinate descent for RSS + lam ||beta||_1  vs  sklearn Lasso(alpha = lam / (2N))
# ---------------------------------------------------------------------------
def sklearn_lasso(X, y, lam):
    """scikit-learn minimizes (1/(2N)) RSS + alpha ||w||_1: the page's lam is alpha * 2N."""
    return Lasso(alpha=lam / (2 * len(y)), tol=1e-14, max_iter=1_000_000).fit(X, y)


def lasso_off(fit, X, y, lam):
    """Largest coefficient difference to sklearn's Lasso in units of 1e-6 (relative), or inf if the
    two disagree on which coefficients are exactly zero."""
    ref = sklearn_lasso(X, y, lam)
    b0, beta = fit(X, y, lam)
    if not np.array_equal(beta == 0, ref.coef_ == 0):
        return np.inf
    scale = max(1.0, np.abs(ref.coef_).max())
    return max(np.abs(beta - ref.coef_).max(), abs(b0 - ref.intercept_)) / (1e-6 * scale)


def lambdas_for(X, y):
    lam_max = S["lasso_lambda_max"](X, y)
    return [lam_max * f for f in (0.5, 0.2, 0.05)]


@pytest.mark.parametrize("n,p,seed", CASES)
def test_lasso_coordinate_descent_matches_sklearn_and_its_zeros(n, p, seed):
    X, y = data(n, p, seed)
    for lam in lambdas_for(X, y):
        assert lasso_off(lasso, X, y, lam) <= 1.0
        _, beta = lasso(X, y, lam)
        assert 0 < np.count_nonzero(beta) < p or n < p  # a sparse solution with exact zeros


@pytest.mark.parametrize("n,p,seed", CASES)
def test_lasso_optimality_conditions(n, p, seed):
    """At the minimizer x_j^T r = (lam/2) sign(beta_j) where beta_j != 0, |x_j^T r| <= lam/2 where beta_j = 0."""
    X, y = data(n, p, seed)
    for lam in lambdas_for(X, y):
        b0, beta = lasso(X, y, lam)
        g = (X - X.mean(0)).T @ (y - b0 - X @ beta)
        on = beta != 0
        np.testing.assert_allclose(g[on], lam / 2 * np.sign(beta[on]), rtol=1e-6, atol=1e-6 * lam)
        assert np.all(np.abs(g[~on]) <= lam / 2 * (1 + 1e-9))


def test_lambda_max():
    """Every coefficient is zero from lam_max = 2 max|x_j^T (y - ybar)| on, and not just below it; scikit-learn's
    lasso_path starts at alpha_max = lam_max / (2N)."""
    X, y = data(60, 8, 5)
    lam_max = S["lasso_lambda_max"](X, y)
    assert np.count_nonzero(lasso(X, y, lam_max)[1]) == 0
    assert np.count_nonzero(lasso(X, y, 0.99 * lam_max)[1]) == 1
    alphas, _, _ = lasso_path(X - X.mean(0), y - y.mean(), alphas=5)
    assert alphas[0] == pytest.approx(lam_max / (2 * len(y)), rel=1e-12)


@pytest.mark.parametrize("lam", [0.3, 1.0, 2.5])
def test_orthonormal_design(lam):
    """With Xc^T Xc = I: ridge beta_ols / (1 + lam), lasso S(beta_ols, lam / 2) (the page's Exercise 2)."""
    rng = np.random.default_rng(7)
    Q, _ = np.linalg.qr(rng.standard_normal((40, 4)) - 0)
    Q -= Q.mean(0)  # centered columns ...
    Q, _ = np.linalg.qr(Q)  # ... still orthonormal (the span stays orthogonal to the ones vector)
    y = Q @ np.array([2.0, -0.4, 0.9, 0.1]) + 0.1 * rng.standard_normal(40)
    ols = Q.T @ (y - y.mean())
    np.testing.assert_allclose(ridge(Q, y, lam)[1], ols / (1 + lam), rtol=1e-12)
    np.testing.assert_allclose(lasso(Q, y, lam)[1], soft_threshold(ols, lam / 2), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sklearn_lasso(Q, y, lam).coef_, soft_threshold(ols, lam / 2), atol=1e-9)


# ---------------------------------------------------------------------------
# cross-validation: the snippet's cv_error vs cross_val_score with the same folds
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["ridge", "lasso"])
def test_cv_error_matches_cross_val_score(method):
    X, y, _ = S["sparse_regression_data"]()
    lams = np.array([0.5, 5.0, 50.0, 200.0])
    ours, _ = S["cv_error"](method, X, y, lams, k=10)
    folds = S["kfold_indices"](len(y), 10)
    splits = [(np.setdiff1d(np.arange(len(y)), test), test) for test in folds]
    for lam, mine in zip(lams, ours):
        n_train = len(y) - len(folds[0])  # 90 in every fold
        model = Ridge(alpha=lam) if method == "ridge" else Lasso(alpha=lam / (2 * n_train), tol=1e-12, max_iter=10**6)
        ref = -cross_val_score(make_pipeline(StandardScaler(), model), X, y, cv=splits,
                               scoring="neg_mean_squared_error").mean()
        assert mine == pytest.approx(ref, rel=1e-6)


# ---------------------------------------------------------------------------
# bias-variance decomposition: E[(Y0 - f_hat(x0))^2] = sigma^2 + bias^2 + variance
# A least-squares polynomial on a FIXED design is linear in y: f_hat(x0) = h(x0)^T y, so
# E f_hat(x0) = h^T f(x) and Var f_hat(x0) = sigma^2 ||h||^2 exactly; the test error is simulated.
# ---------------------------------------------------------------------------
def exact_terms(degree, sigma=0.3, n=25):
    x = np.linspace(-1, 1, n)
    x0 = np.linspace(-0.9, 0.9, 50)
    V = np.polynomial.legendre.legvander
    H = V(x0, degree) @ np.linalg.pinv(V(x, degree))  # row i is h(x0_i)^T
    f, f0 = S["true_f"](x), S["true_f"](x0)
    bias = H @ f - f0
    variance = sigma**2 * (H**2).sum(1)
    return x, x0, H, bias, variance


def simulated_test_error(degree, sigma=0.3, reps=40_000, seed=0):
    """Mean over x0 of E[(Y0 - f_hat(x0))^2] by simulation, and its standard error."""
    x, x0, H, _, _ = exact_terms(degree, sigma)
    rng = np.random.default_rng(seed)
    y = S["true_f"](x) + sigma * rng.standard_normal((reps, len(x)))
    y0 = S["true_f"](x0) + sigma * rng.standard_normal((reps, len(x0)))
    per_rep = ((y0 - y @ H.T) ** 2).mean(1)
    return per_rep.mean(), per_rep.std(ddof=1) / np.sqrt(reps)


def decomposition(bias, variance, sigma):  # the page's formula, averaged over x0
    return sigma**2 + np.mean(bias**2) + np.mean(variance)


def decomposition_off(formula, degree, sigma=0.3):
    """|simulated test error - formula| in standard errors of the simulation."""
    _, _, _, bias, variance = exact_terms(degree, sigma)
    measured, se = simulated_test_error(degree, sigma)
    return abs(measured - formula(bias, variance, sigma)) / se


@pytest.mark.parametrize("degree", [1, 3, 8])
def test_bias_variance_decomposition(degree):
    assert decomposition_off(decomposition, degree) <= 4.0


def test_snippet_decomposition_adds_up():
    """Figure 2: measured bias^2 + variance + noise equals the measured test error within 1 % at every degree."""
    c = S["bias_variance_curves"]()
    np.testing.assert_allclose(c["bias2"] + c["variance"] + c["noise"], c["test_mse"], rtol=0.01)
    assert c["noise"] == pytest.approx(S["SIGMA"] ** 2, rel=0.02)


WRONG_DECOMPOSITIONS = {
    "noise left out": lambda b, v, s: np.mean(b**2) + np.mean(v),
    "bias not squared": lambda b, v, s: s**2 + np.mean(np.abs(b)) + np.mean(v),
    "standard deviation for variance": lambda b, v, s: s**2 + np.mean(b**2) + np.mean(np.sqrt(v)),
    "(bias + sd)^2 + noise": lambda b, v, s: s**2 + np.mean((np.abs(b) + np.sqrt(v)) ** 2),
    "noise counted twice": lambda b, v, s: 2 * s**2 + np.mean(b**2) + np.mean(v),
}


@pytest.mark.parametrize("name", list(WRONG_DECOMPOSITIONS))
def test_wrong_decompositions_are_caught(name):
    assert decomposition_off(decomposition, 1) <= 4.0
    assert decomposition_off(WRONG_DECOMPOSITIONS[name], 1) > 20.0


def test_decomposition_without_noise_fails_the_figure_check():
    c = S["bias_variance_curves"]()
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(c["bias2"] + c["variance"], c["test_mse"], rtol=0.01)


# ---------------------------------------------------------------------------
# Mutation tests: wrong ridge and lasso formulas through the same comparisons
# ---------------------------------------------------------------------------
def ridge_penalized_intercept(X, y, lam):  # intercept column inside the penalty
    A = np.c_[np.ones(len(y)), X]
    coef = np.linalg.solve(A.T @ A + lam * np.eye(A.shape[1]), A.T @ y)
    return coef[0], coef[1:]


def ridge_uncentered(X, y, lam):  # (X^T X + lam I)^{-1} X^T y without centering, no intercept
    return 0.0, np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ y)


def ridge_lambda_over_n(X, y, lam):  # sklearn's lasso scaling wrongly carried over to ridge
    return ridge(X, y, lam / len(y))


@pytest.mark.parametrize("wrong", [ridge_penalized_intercept, ridge_uncentered, ridge_lambda_over_n],
                         ids=lambda f: f.__name__)
def test_wrong_ridge_is_caught(wrong):
    X, y = data(50, 5, 0)
    assert ridge_off(ridge, X, y, 30.0) <= 1.0
    assert ridge_off(wrong, X, y, 30.0) > 1e3


def lasso_threshold_lambda(X, y, lam):  # S(., lam) instead of S(., lam / 2)
    return lasso(X, y, 2 * lam)


def lasso_alpha_without_the_2(X, y, lam):  # comparing with Lasso(alpha = lam / N)
    return lasso(X, y, lam / 2)


def lasso_hard_threshold(X, y, lam):
    """Coordinate descent with hard thresholding: keep x_j^T r_j / ||x_j||^2 unshrunk if |x_j^T r_j| > lam / 2."""
    Xc, yc = X - X.mean(0), y - y.mean()
    beta = np.zeros(X.shape[1])
    for _ in range(2000):
        for j in range(len(beta)):
            rho = Xc[:, j] @ (yc - Xc @ beta) + Xc[:, j] @ Xc[:, j] * beta[j]
            beta[j] = rho / (Xc[:, j] @ Xc[:, j]) if abs(rho) > lam / 2 else 0.0
    return y.mean() - X.mean(0) @ beta, beta


@pytest.mark.parametrize("wrong", [lasso_threshold_lambda, lasso_alpha_without_the_2, lasso_hard_threshold],
                         ids=lambda f: f.__name__)
def test_wrong_lasso_is_caught(wrong):
    X, y = data(50, 5, 0)
    lam = lambdas_for(X, y)[1]
    assert lasso_off(lasso, X, y, lam) <= 1.0
    assert lasso_off(wrong, X, y, lam) > 1e3


# ---------------------------------------------------------------------------
# What the page says about its figures
# ---------------------------------------------------------------------------
def test_figure_2_numbers():
    c = S["bias_variance_curves"]()
    assert int(np.argmin(c["test_mse"])) == 3  # "the test error is smallest at degree 3"
    assert c["test_mse"][3] == pytest.approx(0.102, abs=0.0015)  # "0.102", against sigma^2 = 0.09
    # high degrees: the measured bias^2 is mostly simulation error, variance / 500 (500 training sets)
    assert c["bias2"][10] < 2 * c["variance"][10] / 500
    assert np.all(np.diff(c["variance"][3:]) > 0)  # from degree 3 on, the variance only grows
    assert c["variance"][10] / c["variance"][3] > 100  # "more than a hundredfold"
    assert c["bias2"][1] / c["bias2"][3] > 100


def test_figure_1_degree_1_is_biased_degree_9_varies():
    _, f0, p1, _ = S["fit_polynomials"](1)
    _, _, p9, _ = S["fit_polynomials"](9)
    assert np.mean((p1.mean(0) - f0) ** 2) > 4 * np.mean(p1.var(0))  # degree 1: mostly bias
    assert np.mean(p9.var(0)) > 10 * np.mean((p9.mean(0) - f0) ** 2)


@pytest.fixture(scope="module")
def reg():
    return S["regularization_experiment"]()


def test_figure_3_numbers(reg):
    assert list(np.flatnonzero(reg["lasso_best"]) + 1) == [1, 2, 3, 5, 7, 10]  # CV lambda: six predictors
    assert list(np.flatnonzero(reg["lasso_one_se"]) + 1) == [1, 2, 5]  # one-SE rule: exactly the true three
    assert reg["best"]["lasso"] == pytest.approx(28, abs=1)
    assert reg["one_se"] == pytest.approx(85, abs=1)
    assert reg["best"]["ridge"] == pytest.approx(3.6, abs=0.05)
    assert reg["lasso_lambda_max"] == pytest.approx(451, abs=1)
    assert np.all(reg["ridge_path"] != 0)  # ridge sets no coefficient to zero
    # ridge shrinks the norm monotonically but |beta_3| grows first: 0.31 -> 0.53
    norms = np.linalg.norm(reg["ridge_path"], axis=1)
    assert np.all(np.diff(norms) < 0)
    b3 = np.abs(reg["ridge_path"][:, 2])
    assert b3[0] == pytest.approx(0.31, abs=0.005) and b3.max() == pytest.approx(0.53, abs=0.005)
    # the lasso path: more zeros as lambda grows, all zero at the top of the grid
    zeros = (reg["lasso_path"] == 0).sum(1)
    assert zeros[0] < 10 and zeros[-1] == 10


def test_figure_4_lasso_on_the_corner_ridge_not():
    geo = S["constraint_picture"]()
    assert geo["lasso"][1] == 0.0 and geo["lasso"][0] == pytest.approx(1.20, abs=0.005)
    assert np.all(geo["ridge"] != 0)
    np.testing.assert_allclose(geo["ols"], [1.96, 0.73], atol=0.005)
