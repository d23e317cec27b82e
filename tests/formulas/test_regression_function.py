"""Formula tests for docs/*/ml-foundations/regression-function.md.

The page's results are implemented here from scratch and compared with a reference: the
decomposition E[(Y - fhat(x))^2 | X = x] = (f(x) - fhat(x))^2 + Var(eps) by Monte Carlo; the
conditional mean as the minimizer of the squared error (and the median of the absolute error)
against numpy.mean / numpy.median and an exact search; k-NN regression (knn_regress, loaded from
snippets/regression_function.py) against sklearn.neighbors.KNeighborsRegressor; the least-squares
line against sklearn.linear_model.LinearRegression. The numbers the page states about its figures
are asserted from the snippet's own experiments. Mutation tests run wrong formulas through the
same comparisons.
"""

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.neighbors import KNeighborsRegressor

from snippet_code import snippet_function

SNIPPET = snippet_function("regression_function", "true_f", "make_data", "fit_line", "predict_line",
                           "knn_regress", "figure1_numbers", "flexibility_experiment", "SIGMA", "N_TRAIN")
true_f, knn_regress = SNIPPET["true_f"], SNIPPET["knn_regress"]
SIGMA = SNIPPET["SIGMA"]


# ---------------------------------------------------------------------------
# E[(Y - fhat(x))^2 | X = x] = (f(x) - fhat(x))^2 + Var(eps), by Monte Carlo
# ---------------------------------------------------------------------------
def page_decomposition(f_x, fhat_x, var_eps):  # reducible + irreducible
    return (f_x - fhat_x) ** 2 + var_eps


def decomposition_off(formula, n=1_000_000, seed=0):
    """At several points x, draw Y = f(x) + eps with skewed, heteroscedastic noise (a shifted exponential,
    mean 0, variance s(x)^2), take a fixed fhat, and compare the Monte Carlo mean of (Y - fhat(x))^2 with
    formula(f(x), fhat(x), Var(eps)); the largest difference in units of 5 Monte Carlo standard errors."""
    rng = np.random.default_rng(seed)
    worst = 0.0
    for x in (0.3, 1.1, 2.0, 2.7):
        f_x = true_f(x)
        fhat_x = 0.4 + 0.2 * x  # any fixed estimate (here a poor line)
        s = 0.3 + 0.4 * x  # noise standard deviation depends on x
        eps = s * (rng.exponential(1.0, n) - 1.0)  # mean 0, variance s^2, not Gaussian
        sq = (f_x + eps - fhat_x) ** 2
        se = sq.std() / np.sqrt(n)
        worst = max(worst, abs(sq.mean() - formula(f_x, fhat_x, s**2)) / (5 * se))
    return worst


def test_reducible_plus_irreducible_by_monte_carlo():
    assert decomposition_off(page_decomposition) <= 1.0


def test_decomposition_averaged_over_x():
    """E[(Y - fhat(X))^2] = E[(f(X) - fhat(X))^2] + Var(eps), with X random, as in Figure 2."""
    rng = np.random.default_rng(1)
    x, y = SNIPPET["make_data"](2_000_000, rng)
    fhat = 0.9 - 0.1 * x
    sq = (y - fhat) ** 2
    rhs = np.mean((true_f(x) - fhat) ** 2) + SIGMA**2
    assert abs(sq.mean() - rhs) <= 5 * sq.std() / np.sqrt(len(x))


# ---------------------------------------------------------------------------
# The conditional mean minimizes the expected squared error; the median the absolute error
# ---------------------------------------------------------------------------
def skewed_sample(seed, n=101):
    return np.random.default_rng(seed).lognormal(0.0, 1.0, n)  # skewed: mean and median far apart


def grid_argmin(loss, y, half_width=1e-3, points=20_001):
    """Exact search on a fine grid around the closed-form candidates (mean and median) and the data."""
    centers = np.concatenate([[y.mean(), np.median(y)], y])
    grid = np.unique(np.concatenate([c + np.linspace(-half_width, half_width, 201) for c in centers]
                                    + [np.linspace(y.min(), y.max(), points)]))
    values = np.array([loss(y, c) for c in grid])
    return grid[np.argmin(values)], values.min()


def squared(y, c):
    return np.sum((y - c) ** 2)


def absolute(y, c):
    return np.sum(np.abs(y - c))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mean_minimizes_squared_error_median_absolute_error(seed):
    y = skewed_sample(seed)
    c_sq, best_sq = grid_argmin(squared, y)
    c_abs, best_abs = grid_argmin(absolute, y)
    assert abs(c_sq - np.mean(y)) < 1e-5  # grid spacing 1e-5 near the candidates
    assert c_abs == np.median(y)  # odd N: the median is a data point and the unique minimizer
    # the identity behind the proof: sum (y - c)^2 = sum (y - ybar)^2 + N (ybar - c)^2
    for c in (0.0, np.median(y), 3.0):
        assert squared(y, c) == pytest.approx(squared(y, y.mean()) + len(y) * (y.mean() - c) ** 2, rel=1e-12)
    # and the two minimizers are different numbers here
    assert squared(y, np.median(y)) > best_sq * (1 + 1e-3)
    assert absolute(y, np.mean(y)) > best_abs * (1 + 1e-3)


def test_conditional_mean_minimizes_expected_squared_error_on_a_discrete_distribution():
    """Exact expectations on a discrete joint distribution: g(x) = E[Y | X = x] beats every other g."""
    xs, ys = np.array([0, 1, 2]), np.array([-1.0, 0.0, 2.0, 5.0])
    p = np.array([[0.10, 0.05, 0.10, 0.05],  # p[i, j] = P(X = xs[i], Y = ys[j])
                  [0.05, 0.20, 0.05, 0.00],
                  [0.00, 0.10, 0.10, 0.20]])
    cond_mean = (p @ ys) / p.sum(1)

    def epe(g):  # E[(Y - g(X))^2] = sum_ij p_ij (y_j - g(x_i))^2
        return np.sum(p * (ys[None, :] - g[:, None]) ** 2)

    cond_var = (p @ ys**2) / p.sum(1) - cond_mean**2
    assert epe(cond_mean) == pytest.approx(np.sum(p.sum(1) * cond_var), rel=1e-12)  # the minimum: E[Var(Y|X)]
    rng = np.random.default_rng(0)
    for _ in range(200):
        delta = rng.normal(0, 0.5, 3)
        # EPE(g) = EPE(f) + E[(f(X) - g(X))^2]: the cross term vanishes
        assert epe(cond_mean + delta) == pytest.approx(epe(cond_mean) + np.sum(p.sum(1) * delta**2), rel=1e-12)


# ---------------------------------------------------------------------------
# k-NN regression from scratch vs sklearn.neighbors.KNeighborsRegressor;
# the least-squares line vs sklearn.linear_model.LinearRegression
# ---------------------------------------------------------------------------
def knn_off(regress, d, k, seed):
    rng = np.random.default_rng(seed)
    X, Xq = rng.normal(size=(60, d)), rng.normal(size=(40, d))
    y = rng.normal(size=60)
    ref = KNeighborsRegressor(n_neighbors=k, algorithm="brute").fit(X, y).predict(Xq)
    return np.max(np.abs(regress(X if d > 1 else X[:, 0], y, Xq if d > 1 else Xq[:, 0], k) - ref)) / 1e-12


@pytest.mark.parametrize("d,k,seed", [(1, 1, 0), (1, 5, 1), (1, 60, 2), (3, 7, 3), (5, 10, 4)])
def test_knn_matches_sklearn(d, k, seed):
    assert knn_off(knn_regress, d, k, seed) <= 1.0


def test_knn_extremes():
    rng = np.random.default_rng(5)
    x, y = rng.uniform(size=30), rng.normal(size=30)
    np.testing.assert_allclose(knn_regress(x, y, x, 1), y, rtol=0, atol=0)  # k = 1 interpolates
    np.testing.assert_allclose(knn_regress(x, y, rng.uniform(size=7), 30), np.full(7, y.mean()), rtol=1e-14)


def test_least_squares_line_matches_sklearn():
    x, y = SNIPPET["make_data"](100, np.random.default_rng(0))
    coef = SNIPPET["fit_line"](x, y)
    ref = LinearRegression().fit(x[:, None], y)
    np.testing.assert_allclose(coef, [ref.intercept_, ref.coef_[0]], rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------
# What the page says about its figures
# ---------------------------------------------------------------------------
def test_figure_1_numbers():
    """Caption: test MSE 0.43 (line), 0.28 (10-NN), and 0.25 for the true f itself (sigma^2 = 0.25)."""
    nums = SNIPPET["figure1_numbers"]()
    assert SIGMA**2 == 0.25 and SNIPPET["N_TRAIN"] == 100 and nums["k"] == 10
    assert nums["mse_line"] == pytest.approx(0.43, abs=0.005)
    assert nums["mse_knn"] == pytest.approx(0.28, abs=0.005)
    assert nums["mse_true_f"] == pytest.approx(0.25, abs=0.005)
    assert nums["mse_true_f"] < nums["mse_knn"] < nums["mse_line"]


@pytest.fixture(scope="module")
def experiment():
    return SNIPPET["flexibility_experiment"]()


def test_figure_2_numbers(experiment):
    e = experiment
    ks = list(e["ks"])
    best = int(np.argmin(e["test"]))
    # page: the test MSE is lowest, 0.28, at k = 10; 0.45 at k = 100, 0.50 at k = 1 (about 2 sigma^2)
    assert e["ks"][best] == 10
    assert e["test"][best] == pytest.approx(0.28, abs=0.005)
    assert e["test"][ks.index(100)] == pytest.approx(0.45, abs=0.005)
    assert e["test"][ks.index(1)] == pytest.approx(0.50, abs=0.005)
    assert e["line_test"] == pytest.approx(0.43, abs=0.005)
    assert e["irreducible"] == pytest.approx(0.25, abs=0.005)
    # the U shape: falls to the minimum, then rises
    assert np.all(np.diff(e["test"][: best + 1]) < 0) and np.all(np.diff(e["test"][best:]) > 0)
    # never below the irreducible error; the training MSE is, and reaches 0 at k = 1
    assert np.all(e["test"] > e["irreducible"])
    assert e["train"][ks.index(1)] == 0.0 and e["train"][ks.index(2)] < e["irreducible"]
    # measured test MSE = measured reducible + irreducible, up to Monte Carlo noise (page: within 0.002)
    gap = np.abs(e["test"] - (e["reducible"] + e["irreducible"]))
    assert gap.max() < 0.002
    # the sum fits far better than a wrong decomposition would (e.g. reducible + sigma, or 2x irreducible)
    assert np.min(np.abs(e["test"] - (e["reducible"] + SIGMA))) > 0.2
    assert np.min(np.abs(e["test"] - (e["reducible"] + 2 * e["irreducible"]))) > 0.2


# ---------------------------------------------------------------------------
# Mutation tests: wrong formulas through the same comparisons
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name,wrong", [
    ("standard deviation for variance", lambda f, fh, v: (f - fh) ** 2 + np.sqrt(v)),
    ("no square on the reducible part", lambda f, fh, v: abs(f - fh) + v),
    ("irreducible error forgotten", lambda f, fh, v: (f - fh) ** 2),
    ("cross term kept, 2 |f - fhat| sigma", lambda f, fh, v: (f - fh) ** 2 + v + 2 * abs(f - fh) * np.sqrt(v)),
    ("variance counted twice", lambda f, fh, v: (f - fh) ** 2 + 2 * v),
])
def test_wrong_decompositions_are_caught(name, wrong):
    assert decomposition_off(page_decomposition) <= 1.0
    assert decomposition_off(wrong) > 5.0


def knn_k_minus_one(x_train, y_train, x_query, k):  # off by one: k - 1 neighbors (k >= 2)
    return knn_regress(x_train, y_train, x_query, max(k - 1, 1))


def knn_median(x_train, y_train, x_query, k):  # the median of the neighbors, not the mean
    x_train = np.asarray(x_train).reshape(len(y_train), -1)
    x_query = np.asarray(x_query).reshape(-1, x_train.shape[1])
    d = np.linalg.norm(x_query[:, None] - x_train[None], axis=2)
    return np.median(np.asarray(y_train)[np.argsort(d, axis=1)[:, :k]], axis=1)


def knn_sum_over_k_minus_one(x_train, y_train, x_query, k):  # "sample-variance" normalization 1/(k - 1)
    return knn_regress(x_train, y_train, x_query, k) * k / (k - 1)


def knn_farthest(x_train, y_train, x_query, k):  # sorted the wrong way
    x_train = np.asarray(x_train).reshape(len(y_train), -1)
    x_query = np.asarray(x_query).reshape(-1, x_train.shape[1])
    d = np.linalg.norm(x_query[:, None] - x_train[None], axis=2)
    return np.asarray(y_train)[np.argsort(-d, axis=1)[:, :k]].mean(axis=1)


@pytest.mark.parametrize("wrong", [knn_k_minus_one, knn_median, knn_sum_over_k_minus_one, knn_farthest],
                         ids=lambda f: f.__name__)
def test_wrong_knn_is_caught(wrong):
    assert knn_off(knn_regress, 3, 7, 3) <= 1.0
    assert knn_off(wrong, 3, 7, 3) > 1e6


def test_swapped_minimizers_are_caught():
    """'The median minimizes the squared error' and 'the mean minimizes the absolute error' fail the search."""
    y = skewed_sample(0)
    c_sq, _ = grid_argmin(squared, y)
    c_abs, _ = grid_argmin(absolute, y)
    assert abs(c_sq - np.median(y)) > 0.1
    assert abs(c_abs - np.mean(y)) > 0.1
