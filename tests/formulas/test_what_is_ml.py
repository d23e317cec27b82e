"""Formula tests for docs/*/ml-foundations/what-is-ml.md.

The page's formulas, implemented from scratch, against scikit-learn and NumPy: the empirical risk
(1/N) sum_i loss(y_i, y_hat_i) with the squared loss and the 0-1 loss against
sklearn.metrics.mean_squared_error, accuracy_score and zero_one_loss; least squares by
numpy.linalg.lstsq against sklearn.linear_model.LinearRegression; the k-means objective (within-cluster
sum of squared distances) against KMeans.inertia_; the train/test split sizes against
train_test_split. The functions are the snippet's own (snippets/what_is_ml.py), and the numbers the
page states about its figures are asserted here. Mutation tests run wrong formulas (a sum instead of
a mean, N - 1 instead of N, a square root, unsquared distances, the accuracy in place of the error
rate) through the same comparisons.
"""

import math

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression
from sklearn.metrics import accuracy_score, mean_squared_error, zero_one_loss
from sklearn.model_selection import train_test_split

from snippet_code import snippet_function

SNIPPET = snippet_function("what_is_ml", "squared_loss", "zero_one_loss", "empirical_risk", "iris_petals",
                           "kmeans_clusters", "cluster_agreement", "regression_experiment",
                           "classification_experiment", "NESTED_SETS")
squared_loss, zero_one, empirical_risk = SNIPPET["squared_loss"], SNIPPET["zero_one_loss"], SNIPPET["empirical_risk"]
RTOL = 1e-12


def relative_off(mine, reference):
    """|mine - reference| in units of the relative tolerance RTOL (<= 1 passes)."""
    return abs(mine - reference) / (RTOL * abs(reference) + 1e-300)


# ---------------------------------------------------------------------------
# Empirical risk: (1/N) sum_i loss(y_i, y_hat_i)
# ---------------------------------------------------------------------------
def regression_cases():
    rng = np.random.default_rng(0)
    for n in (5, 37, 400):
        y = rng.normal(size=n) * 3 + 1
        yield y, y + rng.normal(size=n)


def classification_cases():
    rng = np.random.default_rng(1)
    for n, classes in ((7, 2), (50, 3), (300, 10)):
        y = rng.integers(classes, size=n)
        y_hat = np.where(rng.random(n) < 0.3, rng.integers(classes, size=n), y)
        yield y, y_hat


def mse_off(risk):
    return max(relative_off(risk(squared_loss, y, y_hat), mean_squared_error(y, y_hat))
               for y, y_hat in regression_cases())


def error_rate_off(risk):
    return max(max(relative_off(risk(zero_one, y, y_hat), zero_one_loss(y, y_hat)),
                   relative_off(1 - risk(zero_one, y, y_hat), accuracy_score(y, y_hat)))
               for y, y_hat in classification_cases())


def test_empirical_squared_risk_is_sklearn_mse():
    assert mse_off(empirical_risk) <= 1.0


def test_empirical_zero_one_risk_is_the_error_rate():
    assert error_rate_off(empirical_risk) <= 1.0


def test_four_steps_on_diabetes_as_the_page_shows():
    """The page's open code block: steps 1-4 with LinearRegression on load_diabetes."""
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    assert (len(y_train), len(y_test)) == (331, 111)  # 442 examples, 25 % held out (rounded up)
    model = LinearRegression().fit(X_train, y_train)
    train_risk = empirical_risk(squared_loss, y_train, model.predict(X_train))
    test_risk = empirical_risk(squared_loss, y_test, model.predict(X_test))
    assert relative_off(test_risk, mean_squared_error(y_test, model.predict(X_test))) <= 1.0
    assert train_risk < test_risk  # the page: the training risk is optimistic
    assert round(train_risk) == 2780 and round(test_risk) == 3180
    # a model that ignores x and predicts the training mean scores 4965 on the test set
    assert round(empirical_risk(squared_loss, y_test, np.full(len(y_test), y_train.mean()))) == 4965


# ---------------------------------------------------------------------------
# Step 3 for a line: least squares from scratch (lstsq) equals LinearRegression
# ---------------------------------------------------------------------------
def test_least_squares_from_scratch_is_sklearn_linear_regression():
    model, (X_train, _, y_train, _), _ = SNIPPET["regression_experiment"]()
    A = np.column_stack([np.ones(len(y_train)), X_train])  # columns: 1, x
    beta, *_ = np.linalg.lstsq(A, y_train, rcond=None)
    np.testing.assert_allclose(beta, [model.intercept_, model.coef_[0]], rtol=1e-10)
    # and it minimizes the empirical squared risk: any other line does worse on the training set
    best = empirical_risk(squared_loss, y_train, A @ beta)
    rng = np.random.default_rng(0)
    for _ in range(100):
        other = beta + rng.normal(scale=0.05, size=2)
        assert empirical_risk(squared_loss, y_train, A @ other) > best


# ---------------------------------------------------------------------------
# Unsupervised: the k-means objective sum_i ||x_i - mu_{c(i)}||^2 is KMeans.inertia_
# ---------------------------------------------------------------------------
def kmeans_objective(X, clusters, centers):
    return float(sum(np.sum((X[i] - centers[c]) ** 2) for i, c in enumerate(clusters)))


def kmeans_objective_unsquared(X, clusters, centers):  # mutation: distances, not squared distances
    return float(sum(np.sqrt(np.sum((X[i] - centers[c]) ** 2)) for i, c in enumerate(clusters)))


def kmeans_off(objective):
    X, _, _ = SNIPPET["iris_petals"]()
    clusters, centers = SNIPPET["kmeans_clusters"](X)
    reference = KMeans(n_clusters=3, n_init=10, random_state=0).fit(X).inertia_
    # the snippet's centers are the means of their clusters (the k-means fixed point)
    for c in range(3):
        np.testing.assert_allclose(centers[c], X[clusters == c].mean(axis=0), rtol=1e-12)
    return relative_off(objective(X, clusters, centers), reference) / 1e3  # sklearn sums in float32 chunks


def test_kmeans_objective_is_sklearn_inertia():
    assert kmeans_off(kmeans_objective) <= 1.0


# ---------------------------------------------------------------------------
# What the page says about its figures
# ---------------------------------------------------------------------------
def test_figure_1_nested_sets():
    names = [name for name, *_ in SNIPPET["NESTED_SETS"]]
    assert names == ["Artificial intelligence", "Machine learning", "Representation learning", "Deep learning"]
    # each ellipse lies inside the previous one: AI > ML > representation learning > DL
    for (_, _, w0, h0, y0), (_, _, w1, h1, y1) in zip(SNIPPET["NESTED_SETS"], SNIPPET["NESTED_SETS"][1:]):
        assert w1 < w0 and y1 - h1 / 2 >= y0 - h0 / 2 and y1 + h1 / 2 <= y0 + h0 / 2


def test_figure_2_clusters_agree_with_the_species_for_96_percent():
    X, species, names = SNIPPET["iris_petals"]()
    assert X.shape == (150, 2) and names == ["setosa", "versicolor", "virginica"]
    clusters, centers = SNIPPET["kmeans_clusters"](X)
    agreement = SNIPPET["cluster_agreement"](species, clusters)
    assert agreement == pytest.approx(0.96, abs=1e-12)  # "96 %", 144 of 150
    assert round(agreement * 150) == 144
    # "every setosa flower forms a cluster of its own": cluster 1 (the leftmost) is exactly the setosas
    assert set(np.flatnonzero(clusters == 0)) == set(np.flatnonzero(species == 0))
    assert list(np.argsort(centers[:, 0])) == [0, 1, 2]  # numbered from left to right


def test_figure_3_test_mse_and_accuracy():
    model, (X_train, X_test, y_train, y_test), test_mse = SNIPPET["regression_experiment"]()
    assert (len(y_train), len(y_test)) == (60, 20)  # 80 points, 25 % held out
    assert relative_off(test_mse, mean_squared_error(y_test, model.predict(X_test))) <= 1.0
    assert round(test_mse, 2) == 1.02  # "test MSE 1.02", close to the noise variance 1
    assert model.intercept_ == pytest.approx(1.87, abs=0.005) and model.coef_[0] == pytest.approx(0.82, abs=0.005)
    clf, (Xc_train, Xc_test, yc_train, yc_test), test_error = SNIPPET["classification_experiment"]()
    assert (len(yc_train), len(yc_test)) == (75, 25)
    assert relative_off(1 - test_error, accuracy_score(yc_test, clf.predict(Xc_test))) <= 1.0
    assert round(test_error * 25) == 2 and math.isclose(test_error, 0.08)  # "2 of 25", "accuracy 92 %"
    assert round((clf.predict(Xc_train) != yc_train).sum()) == 4  # "4 of the 75 training flowers"


# ---------------------------------------------------------------------------
# Mutation tests: wrong formulas through the same comparisons
# ---------------------------------------------------------------------------
RISK_MUTANTS = {
    "sum instead of mean": lambda loss, y, y_hat: float(np.sum(loss(y, y_hat))),
    "divides by N - 1": lambda loss, y, y_hat: float(np.sum(loss(y, y_hat)) / (len(y) - 1)),
    "square root (RMSE)": lambda loss, y, y_hat: float(np.sqrt(np.mean(loss(y, y_hat)))),
    "accuracy for error rate": lambda loss, y, y_hat: float(1 - np.mean(loss(y, y_hat))),
}


@pytest.mark.parametrize("name", list(RISK_MUTANTS))
def test_wrong_empirical_risks_are_caught(name):
    assert mse_off(empirical_risk) <= 1.0 and error_rate_off(empirical_risk) <= 1.0
    wrong = RISK_MUTANTS[name]
    assert mse_off(wrong) > 1e6 or error_rate_off(wrong) > 1e6


def test_wrong_kmeans_objective_is_caught():
    assert kmeans_off(kmeans_objective) <= 1.0
    assert kmeans_off(kmeans_objective_unsquared) > 1e6
