"""Linear regression (docs/*/ml-foundations/linear-regression.md): the page's formulas, from scratch,
against scikit-learn, statsmodels and NumPy.

- beta_hat from the normal equations, from QR and from the simple-regression closed form
  against numpy.linalg.lstsq and sklearn.linear_model.LinearRegression;
- RSS, RSE, R^2, the standard errors, the t statistics, the 95 % confidence intervals and the
  Gaussian log-likelihood at the MLE against statsmodels OLS, on load_diabetes and on the snippet's data;
- the minimum-norm solution of a rank-deficient problem (dummy-variable trap, p > N) against
  numpy.linalg.pinv, and the facts the page states about it;
- the numbers the page states about its figures;
- mutations: wrong formulas (N instead of N - p - 1, an uncentered TSS, the MLE variance in the
  standard errors, a z instead of a t quantile, a non-minimal solution) fail the same comparisons.
"""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression

from snippet_code import snippet_function

S = snippet_function("linear_regression", "make_data", "design_matrix", "fit_normal_equations", "fit_qr", "fit_simple",
                     "rss", "tss", "rse", "r_squared", "standard_errors", "confidence_intervals", "min_norm_solution",
                     "dummy_columns", "estimate_correlation", "T_975_DF28", "REGIONS")
RTOL = 1e-9  # far below any formula mistake; far above round-off on these well-conditioned problems


def diabetes():
    data = load_diabetes()
    return data.data, data.target


def snippet_data():
    x, y = S["make_data"]()
    return x[:, None], y


DATASETS = {"diabetes": diabetes, "snippet": snippet_data}


def relative_off(mine, reference, rtol=RTOL):
    """max |mine - reference| / (rtol * |reference|): <= 1 means they agree."""
    mine, reference = np.atleast_1d(np.asarray(mine, float)), np.atleast_1d(np.asarray(reference, float))
    return float(np.max(np.abs(mine - reference) / (rtol * np.abs(reference) + 1e-300)))


@pytest.fixture(scope="module", params=list(DATASETS))
def case(request):
    Z, y = DATASETS[request.param]()
    X = S["design_matrix"](Z)
    return X, y, sm.OLS(y, X).fit()


# ---------------------------------------------------------------------------
# beta_hat: normal equations, QR, closed form vs lstsq and sklearn
# ---------------------------------------------------------------------------
def test_normal_equations_and_qr_match_lstsq_and_sklearn(case):
    X, y, _ = case
    reference = np.linalg.lstsq(X, y, rcond=None)[0]
    model = LinearRegression().fit(X[:, 1:], y)
    sk = np.concatenate([[model.intercept_], model.coef_])
    for fit in (S["fit_normal_equations"], S["fit_qr"]):
        beta = fit(X, y)
        assert relative_off(beta, reference) <= 1
        assert relative_off(beta, sk) <= 1
        # the residual is orthogonal to every column of X: X^T (y - X beta) = 0
        assert np.abs(X.T @ (y - X @ beta)).max() <= 1e-9 * np.abs(X.T @ y).max()


def test_simple_regression_closed_form():
    x, y = S["make_data"]()
    X = S["design_matrix"](x)
    assert relative_off(S["fit_simple"](x, y), np.linalg.lstsq(X, y, rcond=None)[0]) <= 1


# ---------------------------------------------------------------------------
# RSS, RSE, R^2, SE, t, CI, log-likelihood vs statsmodels OLS
# ---------------------------------------------------------------------------
def test_fit_statistics_match_statsmodels(case):
    X, y, ols = case
    beta = S["fit_normal_equations"](X, y)
    N, p = X.shape[0], X.shape[1] - 1
    assert relative_off(beta, ols.params) <= 1
    assert relative_off(S["rss"](X, y, beta), ols.ssr) <= 1
    assert relative_off(S["tss"](y), ols.centered_tss) <= 1
    assert relative_off(S["rse"](X, y, beta), np.sqrt(ols.scale)) <= 1
    assert relative_off(S["r_squared"](X, y, beta), ols.rsquared) <= 1
    se = S["standard_errors"](X, y, beta)
    assert relative_off(se, ols.bse) <= 1
    assert relative_off(beta / se, ols.tvalues) <= 1
    t = stats.t.ppf(0.975, N - p - 1)
    assert relative_off(S["confidence_intervals"](beta, se, t), ols.conf_int(0.05)) <= 1
    # ESS + RSS = TSS when the model has an intercept
    assert relative_off(ols.ess + S["rss"](X, y, beta), S["tss"](y)) <= 1


def gaussian_log_likelihood(X, y, beta, sigma2):
    """log prod_i N(y_i; x_i^T beta, sigma2), the page's formula."""
    N = len(y)
    return -N / 2 * np.log(2 * np.pi * sigma2) - S["rss"](X, y, beta) / (2 * sigma2)


def test_least_squares_is_the_gaussian_mle(case):
    X, y, ols = case
    beta = S["fit_normal_equations"](X, y)
    sigma2_mle = S["rss"](X, y, beta) / len(y)
    assert relative_off(gaussian_log_likelihood(X, y, beta, sigma2_mle), ols.llf) <= 1
    # any other beta, or any other sigma^2, has a smaller likelihood
    rng = np.random.default_rng(0)
    for _ in range(20):
        other = beta + 0.01 * np.abs(beta).max() * rng.normal(size=beta.shape)
        assert gaussian_log_likelihood(X, y, other, sigma2_mle) < ols.llf
    for factor in (0.9, 1.1):
        assert gaussian_log_likelihood(X, y, beta, factor * sigma2_mle) < ols.llf


def test_t_quantile_in_the_snippet():
    assert S["T_975_DF28"] == pytest.approx(stats.t.ppf(0.975, 28), abs=1e-6)


def test_standard_errors_match_simulation():
    """SE is the standard deviation of beta_hat over repeated samples with X fixed."""
    x, _ = S["make_data"]()
    X = S["design_matrix"](x)
    rng = np.random.default_rng(3)
    Y = 3.0 + 0.5 * x + rng.normal(size=(20000, len(x)))
    betas = np.linalg.lstsq(X, Y.T, rcond=None)[0].T
    exact = np.sqrt(np.diag(np.linalg.inv(X.T @ X)))  # sigma = 1
    np.testing.assert_allclose(betas.std(0), exact, rtol=0.02)
    # and the 95 % t interval covers the true beta about 95 % of the time
    resid = Y - betas @ X.T
    se = np.sqrt((resid**2).sum(1) / (len(x) - 2))[:, None] * exact
    cover = (np.abs(betas - [3.0, 0.5]) <= S["T_975_DF28"] * se).mean(0)
    assert np.all(np.abs(cover - 0.95) < 0.006)


# ---------------------------------------------------------------------------
# Singular X^T X: minimum-norm solution vs numpy.linalg.pinv
# ---------------------------------------------------------------------------
def singular_cases():
    rng = np.random.default_rng(7)
    regions = np.array(S["REGIONS"])[rng.integers(0, 3, 40)]
    dummies = S["dummy_columns"](regions, S["REGIONS"])
    trap = np.column_stack([np.ones(40), dummies, (regions == "East").astype(float)])
    wide = rng.normal(size=(15, 40))  # p > N
    duplicated = rng.normal(size=(50, 4))
    duplicated = np.column_stack([duplicated, duplicated[:, 1] - 2 * duplicated[:, 2]])
    return {"dummy trap": trap, "p > N": wide, "collinear column": duplicated}


@pytest.mark.parametrize("name", list(singular_cases()))
def test_min_norm_solution_matches_pinv(name):
    X = singular_cases()[name]
    y = np.random.default_rng(11).normal(size=X.shape[0])
    assert np.linalg.matrix_rank(X) < X.shape[1]  # X^T X is singular
    beta = S["min_norm_solution"](X, y)
    assert relative_off(beta, np.linalg.pinv(X) @ y, rtol=1e-8) <= 1
    assert relative_off(beta, np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-8) <= 1
    # it solves the normal equations ...
    assert np.abs(X.T @ (y - X @ beta)).max() <= 1e-9 * max(1.0, np.abs(X.T @ y).max())
    # ... and so does beta + v for v in the null space, with the same fit and a larger norm
    v = np.linalg.svd(X)[2][-1]
    assert np.abs(X @ v).max() < 1e-10
    other = beta + 0.5 * v
    np.testing.assert_allclose(X @ other, X @ beta, atol=1e-10)
    assert np.linalg.norm(other) > np.linalg.norm(beta)
    assert abs(beta @ v) < 1e-10  # the minimum-norm solution is orthogonal to the null space
    # and that wrong answer fails the pinv comparison
    assert relative_off(other, np.linalg.pinv(X) @ y, rtol=1e-8) > 1e6


def test_p_greater_than_n_fits_exactly():
    X = singular_cases()["p > N"]
    y = np.random.default_rng(11).normal(size=X.shape[0])
    beta = S["min_norm_solution"](X, y)
    assert S["rss"](X, y, beta) < 1e-20  # RSS = 0 and R^2 = 1 on the training data


def test_dummy_trap_fitted_values_are_group_means():
    rng = np.random.default_rng(5)
    regions = np.array(S["REGIONS"])[rng.integers(0, 3, 60)]
    y = rng.normal(size=60)
    X2 = np.column_stack([np.ones(60), S["dummy_columns"](regions, S["REGIONS"])])
    beta2 = S["fit_normal_equations"](X2, y)
    means = {r: y[regions == r].mean() for r in S["REGIONS"]}
    # beta0 = mean of the baseline, beta_k = mean of level k minus mean of the baseline
    np.testing.assert_allclose(beta2, [means["East"], means["South"] - means["East"], means["West"] - means["East"]],
                               rtol=1e-12)
    X3 = np.column_stack([X2, (regions == "East").astype(float)])
    np.testing.assert_allclose(X3 @ S["min_norm_solution"](X3, y), X2 @ beta2, rtol=1e-10)


# ---------------------------------------------------------------------------
# The numbers the page states about its figures
# ---------------------------------------------------------------------------
def test_figure_numbers():
    x, y = S["make_data"]()
    X = S["design_matrix"](x)
    assert len(y) == 30
    beta = S["fit_normal_equations"](X, y)
    assert np.round(beta, 2).tolist() == [3.20, 0.51]
    assert round(S["rss"](X, y, beta), 1) == 26.2
    assert round(S["tss"](y), 1) == 106.1
    assert round(S["rse"](X, y, beta), 2) == 0.97
    assert round(S["r_squared"](X, y, beta), 2) == 0.75
    se = S["standard_errors"](X, y, beta)
    assert np.round(se, 3).tolist() == [0.347, 0.056]
    ci = S["confidence_intervals"](beta, se, S["T_975_DF28"])
    assert np.round(ci, 2).tolist() == [[2.49, 3.91], [0.40, 0.63]]
    assert round(S["estimate_correlation"](X), 2) == -0.86
    assert S["estimate_correlation"](X) == pytest.approx(-x.mean() / np.sqrt(np.mean(x**2)), rel=1e-12)
    # the true slope 0.5 is inside its interval, and so is the true intercept 3
    assert ci[0, 0] < 3.0 < ci[0, 1] and ci[1, 0] < 0.5 < ci[1, 1]


def test_figure_3_design_matrix():
    region = np.array(["East", "West", "South", "East", "South", "West"])
    D = S["dummy_columns"](region, S["REGIONS"])
    assert D.shape == (6, 2)
    np.testing.assert_array_equal(D, [[0, 0], [0, 1], [1, 0], [0, 0], [1, 0], [0, 1]])


# ---------------------------------------------------------------------------
# Mutations: wrong formulas fail the same comparisons
# ---------------------------------------------------------------------------
def rse_over_n(X, y, beta):  # divides by N instead of N - p - 1
    return np.sqrt(S["rss"](X, y, beta) / len(y))


def rse_over_n_minus_2(X, y, beta):  # simple-regression formula used for p predictors
    return np.sqrt(S["rss"](X, y, beta) / (len(y) - 2))


def r2_uncentered(X, y, beta):  # TSS = sum y_i^2, not centered
    return 1.0 - S["rss"](X, y, beta) / np.sum(y**2)


def r2_rss_over_n_variance(X, y, beta):  # RSS divided by the variance of y instead of the TSS
    return 1.0 - S["rss"](X, y, beta) / np.var(y, ddof=1)


def se_with_mle_variance(X, y, beta):  # sigma^2 = RSS / N
    return rse_over_n(X, y, beta) * np.sqrt(np.diag(np.linalg.inv(X.T @ X)))


def se_without_inverse(X, y, beta):  # sqrt(diag(X^T X)) in place of its inverse
    return S["rse"](X, y, beta) / np.sqrt(np.diag(X.T @ X))


@pytest.mark.parametrize("wrong,reference", [
    (rse_over_n, lambda r: np.sqrt(r.scale)),
    (r2_uncentered, lambda r: r.rsquared),
    (r2_rss_over_n_variance, lambda r: r.rsquared),
    (se_with_mle_variance, lambda r: r.bse),
    (se_without_inverse, lambda r: r.bse),
], ids=lambda f: getattr(f, "__name__", ""))
def test_wrong_statistics_are_caught(case, wrong, reference):
    X, y, ols = case
    beta = S["fit_normal_equations"](X, y)
    assert relative_off(wrong(X, y, beta), reference(ols)) > 1e3


def test_rse_with_n_minus_2_is_caught_for_multiple_regression():
    Z, y = diabetes()
    X = S["design_matrix"](Z)
    ols = sm.OLS(y, X).fit()
    beta = S["fit_normal_equations"](X, y)
    assert relative_off(rse_over_n_minus_2(X, y, beta), np.sqrt(ols.scale)) > 1e3
    # ... though it is right for simple regression (p = 1)
    x, ys = S["make_data"]()
    Xs = S["design_matrix"](x)
    assert relative_off(rse_over_n_minus_2(Xs, ys, S["fit_simple"](x, ys)), np.sqrt(sm.OLS(ys, Xs).fit().scale)) <= 1


def test_z_instead_of_t_is_caught(case):
    X, y, ols = case
    beta = S["fit_normal_equations"](X, y)
    se = S["standard_errors"](X, y, beta)
    wrong = S["confidence_intervals"](beta, se, stats.norm.ppf(0.975))
    assert relative_off(wrong, ols.conf_int(0.05)) > 1e3


def test_mle_variance_is_not_rse_squared(case):
    X, y, ols = case
    beta = S["fit_normal_equations"](X, y)
    wrong = gaussian_log_likelihood(X, y, beta, S["rse"](X, y, beta) ** 2)
    assert relative_off(wrong, ols.llf) > 1e3


def test_sign_error_in_normal_equations_is_caught(case):
    X, y, ols = case
    wrong = np.linalg.solve(X.T @ X, -X.T @ y)
    assert relative_off(wrong, ols.params) > 1e6
