"""Formula tests for docs/*/ml-foundations/model-selection.md.

The page's k-fold split, k-fold and leave-one-out cross-validation error, best-subset selection and
forward / backward stepwise selection are written from scratch in snippets/model_selection.py (loaded
here without running the snippet) and compared with scikit-learn: KFold, cross_val_score,
LeaveOneOut, LinearRegression and SequentialFeatureSelector. The numbers the page states about its
figures are asserted at the end, and mutation tests run wrong splits and formulas through the same
comparisons.
"""

import itertools
import math

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.feature_selection import SequentialFeatureSelector
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold, LeaveOneOut, cross_val_score

from snippet_code import snippet_function

S = snippet_function("model_selection", "kfold_indices", "cv_error", "loocv_shortcut", "rss", "mse_on",
                     "best_subset", "forward_stepwise", "backward_stepwise", "forward_stagewise",
                     "make_data", "selection_curves", "cv_curve", "subset_rss_table")
kfold_indices, cv_error, loocv_shortcut = S["kfold_indices"], S["cv_error"], S["loocv_shortcut"]
forward_stepwise, backward_stepwise, rss = S["forward_stepwise"], S["backward_stepwise"], S["rss"]

DIABETES = load_diabetes()
X_D, Y_D = DIABETES.data, DIABETES.target


def synthetic(n=60, seed=0):
    return S["make_data"](np.random.default_rng(seed), n)


# ---------------------------------------------------------------------------
# k-fold indices from scratch vs sklearn.model_selection.KFold
# ---------------------------------------------------------------------------
def split_problems(splits, n, k):
    """What is wrong with a list of (train, validation) index arrays as a k-fold split of range(n)."""
    problems = []
    if len(splits) != k:
        problems.append(f"{len(splits)} folds, not {k}")
    for f, (tr, va) in enumerate(splits):
        if set(tr) & set(va):
            problems.append(f"fold {f}: an example is in both training and validation (leak)")
        if sorted(np.concatenate([tr, va]).tolist()) != list(range(n)):
            problems.append(f"fold {f}: training + validation is not every example exactly once")
    held_out = np.concatenate([va for _, va in splits]) if splits else np.array([])
    if sorted(held_out.tolist()) != list(range(n)):
        problems.append("the validation folds do not hold out every example exactly once")
    if splits and max(len(va) for _, va in splits) - min(len(va) for _, va in splits) > 1:
        problems.append("fold sizes differ by more than one")
    return problems


def kfold_off(split_fn, n, k, shuffle_seed=None):
    """Problems of split_fn(n, k, order) as a split, plus every fold that differs from KFold's (which
    returns each fold's indices sorted)."""
    if shuffle_seed is None:
        reference, order = KFold(k).split(np.zeros(n)), None
    else:  # KFold(shuffle=True) shuffles arange(n) with a RandomState seeded by random_state
        reference = KFold(k, shuffle=True, random_state=shuffle_seed).split(np.zeros(n))
        order = np.arange(n)
        np.random.RandomState(shuffle_seed).shuffle(order)
    ours = [(np.asarray(tr), np.asarray(va)) for tr, va in split_fn(n, k, order)]
    problems = split_problems(ours, n, k)
    for f, ((tr, va), (tr_ref, va_ref)) in enumerate(itertools.zip_longest(ours, reference, fillvalue=(None, None))):
        if tr is None or tr_ref is None or not (np.array_equal(np.sort(tr), tr_ref) and np.array_equal(np.sort(va), va_ref)):
            problems.append(f"fold {f} differs from KFold")
    return problems


CASES = [(20, 5), (10, 3), (442, 10), (7, 7), (23, 4), (5, 2)]


@pytest.mark.parametrize("n,k", CASES)
@pytest.mark.parametrize("shuffle_seed", [None, 0, 42])
def test_kfold_indices_match_sklearn(n, k, shuffle_seed):
    assert kfold_off(kfold_indices, n, k, shuffle_seed) == []


def leaky_split(n, k, order=None):  # validation examples also left in the training part
    for tr, va in kfold_indices(n, k, order):
        yield np.concatenate([tr, va[:1]]), va


def dropping_split(n, k, order=None):  # every fold n // k long: the n % k last examples never held out
    order = np.arange(n) if order is None else order
    size = n // k
    for f in range(k):
        va = order[f * size:(f + 1) * size]
        yield np.setdiff1d(order, va), va


def remainder_last_split(n, k, order=None):  # a valid partition, but the last n % k folds are the larger ones
    order = np.arange(n) if order is None else order
    bounds = np.concatenate([[0], np.cumsum(n // k + (np.arange(k) >= k - n % k))])
    for f in range(k):
        va = order[bounds[f]:bounds[f + 1]]
        yield np.setdiff1d(order, va), va


def test_wrong_splits_are_caught():
    assert any("leak" in p for p in kfold_off(leaky_split, 20, 5))
    assert any("every example" in p for p in kfold_off(dropping_split, 23, 4))
    assert kfold_off(remainder_last_split, 23, 4) and not split_problems(list(remainder_last_split(23, 4)), 23, 4)
    for wrong in (leaky_split, dropping_split, remainder_last_split):
        assert kfold_off(wrong, 23, 4)


# ---------------------------------------------------------------------------
# CV_(k) = (1/k) sum_j MSE_j  vs  cross_val_score;  LOOCV shortcut vs LeaveOneOut
# ---------------------------------------------------------------------------
def cv_off(cv_fn, X, y, k):
    """|cv_fn(X, y, k) - mean of cross_val_score(LinearRegression, KFold(k), -MSE)|, in units of 1e-10 relative."""
    reference = -cross_val_score(LinearRegression(), X, y, cv=KFold(k), scoring="neg_mean_squared_error").mean()
    return abs(cv_fn(X, y, k) - reference) / (1e-10 * reference)


SMALL_X, SMALL_Y = synthetic(23, 1)
DATA = {"diabetes": (X_D, Y_D), "synthetic": synthetic(), "synthetic small": (SMALL_X[:, :6], SMALL_Y)}


@pytest.mark.parametrize("name", list(DATA))
@pytest.mark.parametrize("k", [2, 5, 10])
def test_cv_error_matches_cross_val_score(name, k):
    X, y = DATA[name]
    assert cv_off(cv_error, X, y, k) <= 1.0


def cv_training_error(X, y, k):  # each fold scored on its own training part
    return float(np.mean([S["mse_on"](X[tr], y[tr], X[tr], y[tr], range(X.shape[1])) for tr, _ in kfold_indices(len(y), k)]))


def cv_pooled(X, y, k):  # (1/N) sum over all held-out examples: another estimator, not cross_val_score's mean
    sq = np.concatenate([(y[va] - LinearRegression().fit(X[tr], y[tr]).predict(X[va])) ** 2
                         for tr, va in kfold_indices(len(y), k)])
    return float(sq.mean())


def cv_rmse_squared(X, y, k):  # averages root-MSEs, then squares
    rmses = [math.sqrt(S["mse_on"](X[tr], y[tr], X[va], y[va], range(X.shape[1]))) for tr, va in kfold_indices(len(y), k)]
    return float(np.mean(rmses) ** 2)


@pytest.mark.parametrize("wrong", [cv_training_error, cv_pooled, cv_rmse_squared], ids=lambda f: f.__name__)
def test_wrong_cv_errors_are_caught(wrong):
    X, y = DATA["synthetic small"]  # 23 = 6 + 6 + 6 + 5: the pooled mean differs from the mean of the folds
    assert cv_off(cv_error, X, y, 4) <= 1.0
    assert cv_off(wrong, X, y, 4) > 1e3


def loocv_off(formula, X, y):
    reference = -cross_val_score(LinearRegression(), X, y, cv=LeaveOneOut(), scoring="neg_mean_squared_error").mean()
    return abs(formula(X, y) - reference) / (1e-9 * reference)


@pytest.mark.parametrize("name", ["synthetic", "synthetic small"])
def test_loocv_shortcut_matches_leave_one_out(name):
    X, y = DATA[name]
    assert loocv_off(loocv_shortcut, X, y) <= 1.0
    assert abs(cv_error(X, y, len(y)) - loocv_shortcut(X, y)) <= 1e-9 * loocv_shortcut(X, y)  # k = N is LOOCV


def _hat(X):
    A = np.column_stack([np.ones(len(X)), X])
    return A @ np.linalg.pinv(A)


@pytest.mark.parametrize("name,wrong", [
    ("no 1 - h_i: the training MSE", lambda X, y: float(np.mean((y - _hat(X) @ y) ** 2))),
    ("1 - h_i not squared", lambda X, y: float(np.mean((y - _hat(X) @ y) ** 2 / (1 - np.diag(_hat(X)))))),
    ("1 + h_i", lambda X, y: float(np.mean(((y - _hat(X) @ y) / (1 + np.diag(_hat(X)))) ** 2))),
])
def test_wrong_loocv_formulas_are_caught(name, wrong):
    X, y = DATA["synthetic"]
    assert loocv_off(loocv_shortcut, X, y) <= 1.0
    assert loocv_off(wrong, X, y) > 1e3


# ---------------------------------------------------------------------------
# forward / backward stepwise vs SequentialFeatureSelector; best subset vs every LinearRegression fit
# ---------------------------------------------------------------------------
def cv5_score(X, y, subset):
    return cv_error(X[:, list(subset)], y, 5)


def rss_score(X, y, subset):
    return rss(X, y, subset)


def sfs_subset(X, y, s, direction, criterion):
    """Features SequentialFeatureSelector selects: with 5-fold CV, or scored on the training data itself
    (one 'split' whose validation part is the training set: the training MSE, i.e. RSS / N)."""
    cv = KFold(5) if criterion == "cv" else [(np.arange(len(y)), np.arange(len(y)))]
    sfs = SequentialFeatureSelector(LinearRegression(), n_features_to_select=s, direction=direction,
                                    scoring="neg_mean_squared_error", cv=cv).fit(X, y)
    return sorted(np.flatnonzero(sfs.get_support()).tolist())


def selection_off(select, X, y, direction, criterion):
    """Sizes s at which select(X, y, s, score) chooses other features than SequentialFeatureSelector."""
    score = cv5_score if criterion == "cv" else rss_score
    return [s for s in range(1, X.shape[1]) if sorted(select(X, y, s, score)) != sfs_subset(X, y, s, direction, criterion)]


@pytest.mark.parametrize("criterion", ["rss", "cv"])
@pytest.mark.parametrize("name", ["diabetes", "synthetic"])
def test_forward_stepwise_matches_sequential_feature_selector(name, criterion):
    X, y = DATA[name]
    X = X[:, :10]
    assert selection_off(forward_stepwise, X, y, "forward", criterion) == []


@pytest.mark.parametrize("criterion", ["rss", "cv"])
def test_backward_stepwise_matches_sequential_feature_selector(criterion):
    assert selection_off(backward_stepwise, X_D, Y_D, "backward", criterion) == []


def marginal_correlation(X, y, s, score=None):  # the s predictors most correlated with y, one at a time
    corr = [abs(np.corrcoef(X[:, j], y)[0, 1]) for j in range(X.shape[1])]
    return list(np.argsort(corr)[::-1][:s])


def forward_worst(X, y, s, score=rss_score):  # adds the predictor that helps least
    chosen = []
    for _ in range(s):
        chosen.append(max((j for j in range(X.shape[1]) if j not in chosen), key=lambda j: score(X, y, chosen + [j])))
    return chosen


@pytest.mark.parametrize("wrong", [marginal_correlation, forward_worst], ids=lambda f: f.__name__)
def test_wrong_selections_are_caught(wrong):
    assert selection_off(forward_stepwise, X_D, Y_D, "forward", "rss") == []
    assert selection_off(wrong, X_D, Y_D, "forward", "rss") != []


def test_best_subset_is_the_smallest_rss_over_every_linear_regression():
    X, y = X_D[:, :8], Y_D
    best = S["best_subset"](X, y)
    for s in range(1, 9):
        fits = {c: np.sum((y - LinearRegression().fit(X[:, c], y).predict(X[:, c])) ** 2)
                for c in itertools.combinations(range(8), s)}
        assert best[s] == min(fits, key=fits.get)
        assert rss(X, y, best[s]) == pytest.approx(fits[best[s]], rel=1e-10)
        # forward stepwise can do no better than best subset, and ties it at s = 1 and s = p
        assert rss(X, y, forward_stepwise(X, y, s)) >= fits[best[s]] * (1 - 1e-12)
    assert sorted(forward_stepwise(X, y, 1)) == list(best[1])


def test_number_of_models_fitted():
    """Best subset fits 2^p models; forward stepwise 1 + p(p + 1)/2 (counted by instrumenting the score)."""
    X, y = X_D, Y_D
    calls = []
    forward_stepwise(X, y, 10, score=lambda X_, y_, c: calls.append(tuple(c)) or rss(X_, y_, c))
    assert 1 + len(calls) == 1 + 10 * 11 // 2 == 56  # + 1: the null model
    assert sum(math.comb(10, s) for s in range(11)) == 2**10 == 1024


# ---------------------------------------------------------------------------
# forward stagewise: run to the end, it reaches the least-squares fit (LinearRegression)
# ---------------------------------------------------------------------------
def test_forward_stagewise_reaches_least_squares():
    X, y = DATA["synthetic"]
    X = X[:, :6]
    beta0, beta = S["forward_stagewise"](X, y, 3000)
    ref = LinearRegression().fit(X, y)
    np.testing.assert_allclose(beta, ref.coef_, rtol=0, atol=1e-8)
    assert beta0 == pytest.approx(ref.intercept_, abs=1e-8)
    # after a few steps it is far from it: the coefficients are not refitted when a predictor enters
    _, beta_early = S["forward_stagewise"](X, y, 3)
    assert np.abs(beta_early - ref.coef_).max() > 0.05
    # the incremental version (eps = 0.01) changes one coefficient by exactly eps per step
    _, b1 = S["forward_stagewise"](X, y, 1, eps=0.01)
    assert np.count_nonzero(b1) == 1 and abs(np.abs(b1).sum() - 0.01) < 1e-15


# ---------------------------------------------------------------------------
# What the page says about its figures
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def figure_2():
    result = S["selection_curves"]()
    X_tr, y_tr, X_va, y_va = result["data"]
    X_all, y_all = np.vstack([X_tr, X_va]), np.concatenate([y_tr, y_va])
    return result, {k: S["cv_curve"](X_all, y_all, k) for k in (5, 10, 80)}


def test_figure_2_numbers(figure_2):
    result, cv = figure_2
    curves = result["curves"]
    assert len(result["data"][1]) == 40 and len(result["data"][3]) == 40
    assert sorted(result["order"][:5]) == [0, 3, 6, 9, 12]  # the five useful predictors enter first
    assert np.all(np.diff(curves["train"]) <= 1e-12)  # training error never rises
    assert result["size"] == 5 and int(np.argmin(curves["test"])) == 5  # validation picks 5, the test minimum
    assert result["test_error"] == pytest.approx(1.05, abs=0.005)
    assert curves["test"][15] == pytest.approx(1.70, abs=0.005)  # all 15 predictors
    assert curves["train"][15] == pytest.approx(0.94, abs=0.005)
    assert {k: int(np.argmin(c)) for k, c in cv.items()} == {5: 5, 10: 5, 80: 7}
    assert abs(cv[80][5] - cv[80][7]) < 0.05  # LOOCV's curve is flat between 5 and 7


def test_figure_1_numbers():
    every, best, forward = S["subset_rss_table"](X_D, Y_D)
    assert len(every) == 1023
    assert [s for s in best if forward[s] > best[s] * (1 + 1e-12)] == [5]
    assert tuple(S["best_subset"](X_D, Y_D)[5]) == (1, 2, 3, 6, 8)  # sex, bmi, bp, s3, s5
    assert sorted(forward_stepwise(X_D, Y_D, 5)) == [1, 2, 3, 4, 8]  # sex, bmi, bp, s1, s5
    assert forward_stepwise(X_D, Y_D, 4) == [2, 8, 3, 4]  # bmi, s5, bp, s1
    assert best[5] / 1e6 == pytest.approx(1.288, abs=5e-4) and forward[5] / 1e6 == pytest.approx(1.311, abs=5e-4)
    assert sorted(backward_stepwise(X_D, Y_D, 5)) == [1, 2, 3, 4, 8]
