"""Formula tests for docs/*/ml-foundations/trees-and-ensembles.md.

The page's impurity measures, best split, recursive binary splitting, weakest-link pruning and
AdaBoost are written from scratch in snippets/trees_and_ensembles.py (loaded here without running
the snippet) and compared with scikit-learn: the root split and the whole tree of
DecisionTreeClassifier / DecisionTreeRegressor, cost_complexity_pruning_path, and
AdaBoostClassifier with stumps (the sample weights each stump was fitted with, the stump weights,
the errors and the predictions). Mutation tests run wrong formulas through the same comparisons,
and the numbers the page states about its figures are asserted at the end.
"""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.ensemble import AdaBoostClassifier
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from snippet_code import snippet_function

S = snippet_function("trees_and_ensembles", "gini", "entropy", "best_split", "grow_tree", "apply_tree",
                     "pruning_path", "stump_fit", "stump_predict", "adaboost", "adaboost_predict",
                     "make_plane_data", "make_boost_data", "bagging_experiment")
gini, entropy, best_split, grow_tree = S["gini"], S["entropy"], S["best_split"], S["grow_tree"]
pruning_path, adaboost, adaboost_predict = S["pruning_path"], S["adaboost"], S["adaboost_predict"]


def continuous_data(seed, n=120, p=4, k=2):
    """Features exactly representable in float32 (scikit-learn's trees split on float32)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)).astype(np.float32).astype(np.float64)
    score = X[:, 0] - 0.8 * X[:, 1] ** 2 + 0.5 * X[:, 2] * X[:, 3] + 0.5 * rng.standard_normal(n)
    y = np.digitize(score, np.quantile(score, np.linspace(0, 1, k + 1)[1:-1]))
    return X, y


# ---------------------------------------------------------------------------
# impurity measures
# ---------------------------------------------------------------------------
def test_impurities_by_hand():
    p = np.array([0.5, 0.5])
    assert gini(p) == pytest.approx(0.5) and entropy(p) == pytest.approx(1.0)
    assert gini(np.array([1.0, 0.0])) == 0 and entropy(np.array([1.0, 0.0])) == 0
    p3 = np.array([0.2, 0.3, 0.5])
    assert gini(p3) == pytest.approx(1 - np.sum(p3**2))
    assert entropy(p3) == pytest.approx(-np.sum(p3 * np.log(p3)) / np.log(2))


@pytest.mark.parametrize("criterion", ["gini", "entropy"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_root_split_matches_sklearn(criterion, seed):
    X, y = continuous_data(seed, k=3)
    j, s, child = best_split(X, y, criterion=criterion, n_classes=3)
    t = DecisionTreeClassifier(criterion=criterion, max_depth=1, random_state=0).fit(X, y).tree_
    assert (j, s) == (t.feature[0], pytest.approx(t.threshold[0], abs=1e-6))
    n = t.weighted_n_node_samples
    sk_child = (n[1] * t.impurity[1] + n[2] * t.impurity[2]) / n[0]
    assert child == pytest.approx(sk_child, abs=1e-12)
    p_root = np.bincount(y) / len(y)
    impurity = gini if criterion == "gini" else entropy
    assert impurity(p_root) == pytest.approx(t.impurity[0], abs=1e-12)


def test_regression_root_split_matches_sklearn():
    rng = np.random.default_rng(5)
    X = rng.uniform(0, 1, (80, 3)).astype(np.float32).astype(np.float64)
    y = np.sin(6 * X[:, 1]) + 0.3 * rng.standard_normal(80)
    j, s, child = best_split(X, y, criterion="mse")
    t = DecisionTreeRegressor(max_depth=1).fit(X, y).tree_
    n = t.weighted_n_node_samples
    assert (j, s) == (t.feature[0], pytest.approx(t.threshold[0], abs=1e-6))
    assert child == pytest.approx((n[1] * t.impurity[1] + n[2] * t.impurity[2]) / n[0], rel=1e-9)


def test_weighted_split_matches_sklearn():
    X, y = continuous_data(7)
    w = np.random.default_rng(7).uniform(0.1, 3.0, len(y))
    j, s, _ = best_split(X, y, w)
    t = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X, y, sample_weight=w).tree_
    assert (j, s) == (t.feature[0], pytest.approx(t.threshold[0], abs=1e-6))


def unweighted_children(X, y):
    """Mutation: average the two children's Gini indices without weighting them by size."""
    best = None
    for j in range(X.shape[1]):
        xs = np.unique(X[:, j])
        for s in (xs[1:] + xs[:-1]) / 2:
            left = X[:, j] <= s
            score = (gini(np.bincount(y[left], minlength=2) / left.sum())
                     + gini(np.bincount(y[~left], minlength=2) / (~left).sum())) / 2
            if best is None or score < best[2]:
                best = (j, s, score)
    return best


def test_mutation_unweighted_children_fails():
    X, y = continuous_data(0)
    t = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X, y).tree_
    j, s, _ = unweighted_children(X, y)
    assert (j, s) != (t.feature[0], pytest.approx(t.threshold[0], abs=1e-6))


# ---------------------------------------------------------------------------
# recursive binary splitting and cost-complexity pruning
# ---------------------------------------------------------------------------
def sk_arrays(t):
    return t.children_left, t.children_right, t.weighted_n_node_samples, t.impurity


@pytest.mark.parametrize("seed", [0, 1, 2, 4])
def test_grown_tree_matches_sklearn(seed):
    X, y = continuous_data(seed, n=80)
    mine = grow_tree(X, y, max_depth=4)
    t = DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, y).tree_
    assert len(mine["n"]) == t.node_count
    assert np.array_equal(mine["left"], t.children_left) and np.array_equal(mine["n"], t.n_node_samples)
    assert np.allclose(mine["impurity"], t.impurity, atol=1e-12)
    # the same split at every internal node, except where two features tie exactly (a small node
    # that either can split): scikit-learn then takes whichever its random feature order meets first
    same = 0
    for i in np.flatnonzero(mine["left"] != -1):
        l, r = mine["left"][i], mine["right"][i]
        if mine["feature"][i] == t.feature[i] and abs(mine["threshold"][i] - t.threshold[i]) < 1e-6:
            same += 1
        else:
            assert mine["n"][l] * mine["impurity"][l] + mine["n"][r] * mine["impurity"][r] == pytest.approx(
                t.n_node_samples[l] * t.impurity[l] + t.n_node_samples[r] * t.impurity[r], abs=1e-12)
    assert same >= 0.8 * np.sum(mine["left"] != -1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pruning_path_matches_sklearn(seed):
    X, y = continuous_data(seed, n=100, k=3)
    clf = DecisionTreeClassifier(random_state=0)
    ref = clf.cost_complexity_pruning_path(X, y)
    full = clf.fit(X, y).tree_
    alphas, costs = pruning_path(*sk_arrays(full))
    assert np.allclose(alphas, ref.ccp_alphas, atol=1e-12, rtol=0)
    assert np.allclose(costs, ref.impurities, atol=1e-12, rtol=0)


@pytest.mark.parametrize("seed", [1, 4])
def test_pruning_path_of_tree_grown_from_scratch(seed):
    """Grow the full tree from scratch too (seeds where no exact tie between features changes it)."""
    X, y = continuous_data(seed, n=80)
    mine = grow_tree(X, y)
    clf = DecisionTreeClassifier(random_state=0)
    assert np.array_equal(mine["n"], clf.fit(X, y).tree_.n_node_samples)
    ref = clf.cost_complexity_pruning_path(X, y)
    alphas, costs = pruning_path(mine["left"], mine["right"], mine["n"], mine["impurity"])
    assert np.allclose(alphas, ref.ccp_alphas, atol=1e-12, rtol=0)
    assert np.allclose(costs, ref.impurities, atol=1e-12, rtol=0)


def test_pruning_with_ccp_alpha_keeps_the_right_subtree():
    X, y = continuous_data(4, n=100)
    alphas, _ = pruning_path(*sk_arrays(DecisionTreeClassifier(random_state=0).fit(X, y).tree_))
    for k in range(1, len(alphas) - 1):
        pruned = DecisionTreeClassifier(random_state=0, ccp_alpha=(alphas[k] + alphas[k + 1]) / 2).fit(X, y)
        assert pruned.get_n_leaves() <= DecisionTreeClassifier(random_state=0, ccp_alpha=alphas[k - 1]).fit(X, y).get_n_leaves()


def test_mutation_pruning_without_leaf_count_fails():
    """Mutation: g(t) = R(t) - R(T_t), not divided by |T_t| - 1."""
    X, y = continuous_data(1, n=100, k=3)
    clf = DecisionTreeClassifier(random_state=0)
    ref = clf.cost_complexity_pruning_path(X, y)
    left, right, n, imp = sk_arrays(clf.fit(X, y).tree_)
    # with |T_t| forced to 2 the division is by 1, the rest of the algorithm unchanged
    R = n * imp / n[0]
    is_leaf = left == -1

    def branch(t):
        return R[t] if is_leaf[t] else branch(left[t]) + branch(right[t])

    in_tree, alphas = np.ones(len(R), bool), [0.0]
    while not is_leaf[0]:
        g = np.where(in_tree & ~is_leaf, [R[t] - branch(t) for t in range(len(R))], np.inf)
        t = int(np.argmin(g))
        stack = [left[t], right[t]]
        while stack:
            i = stack.pop()
            in_tree[i] = False
            if not is_leaf[i]:
                stack += [left[i], right[i]]
        is_leaf[t] = True
        alphas.append(g[t])
    assert len(alphas) != len(ref.ccp_alphas) or not np.allclose(alphas, ref.ccp_alphas, atol=1e-9)


# ---------------------------------------------------------------------------
# AdaBoost (SAMME with two classes = AdaBoost.M1) vs AdaBoostClassifier with stumps
# ---------------------------------------------------------------------------
class RecordingStump(DecisionTreeClassifier):
    """A stump that keeps a copy of the sample weights it was fitted with."""

    def fit(self, X, y, sample_weight=None, check_input=True):
        self.seen_weight_ = np.array(sample_weight, dtype=float)
        return super().fit(X, y, sample_weight=sample_weight, check_input=check_input)


def sklearn_adaboost(X, y, rounds):
    return AdaBoostClassifier(RecordingStump(max_depth=1), n_estimators=rounds, random_state=0).fit(X, y)


def boost_cases():
    X, y = S["make_boost_data"](np.random.default_rng(3))
    yield X, y
    Xc, yc = continuous_data(11, n=100)
    yield Xc, 2 * yc - 1


@pytest.mark.parametrize("case", [0, 1])
def test_adaboost_matches_sklearn(case):
    X, y = list(boost_cases())[case]
    rounds = 15
    stumps, alphas, errors, weights = adaboost(X, y, rounds)
    ref = sklearn_adaboost(X, y, rounds)
    assert len(ref.estimators_) == rounds
    for m in range(rounds):
        assert np.allclose(weights[m], ref.estimators_[m].seen_weight_, rtol=1e-9, atol=0)
        assert stumps[m][0] == ref.estimators_[m].tree_.feature[0]
        assert stumps[m][1] == pytest.approx(ref.estimators_[m].tree_.threshold[0], abs=1e-6)
    assert np.allclose(alphas, ref.estimator_weights_, rtol=1e-9)
    assert np.allclose(errors, ref.estimator_errors_, rtol=1e-9)
    # predictions, and the decision function: scikit-learn reports 2 F(x) / sum(alpha)
    F = sum(a * S["stump_predict"](s, X) for s, a in zip(stumps, alphas))
    assert np.allclose(2 * F / alphas.sum(), ref.decision_function(X), atol=1e-12)
    assert np.array_equal(adaboost_predict(stumps, alphas, X), ref.predict(X))


def test_adaboost_multiclass_samme_alpha():
    """With K classes SAMME adds log(K - 1) to alpha; for K = 2 it is AdaBoost.M1."""
    X, y = load_iris(return_X_y=True)
    ref = AdaBoostClassifier(DecisionTreeClassifier(max_depth=1), n_estimators=3, random_state=0).fit(X, y)
    err = ref.estimator_errors_
    assert np.allclose(ref.estimator_weights_, np.log((1 - err) / err) + np.log(3 - 1))


def test_fitted_stump_has_error_one_half_under_new_weights():
    X, y = S["make_boost_data"](np.random.default_rng(3))
    stumps, _, _, weights = adaboost(X, y, 6)
    for m in range(5):
        miss = S["stump_predict"](stumps[m], X) != y
        assert weights[m + 1][miss].sum() == pytest.approx(0.5, abs=1e-12)


def test_mutation_half_alpha_weights_fail():
    """Mutation: the forward-stagewise beta = alpha / 2 in AdaBoost.M1's update (exp(beta 1[miss]))."""
    X, y = S["make_boost_data"](np.random.default_rng(3))
    ref = sklearn_adaboost(X, y, 3)
    w = np.full(len(y), 1 / len(y))
    stump = S["stump_fit"](X, (y > 0).astype(int), w)
    miss = S["stump_predict"](stump, X) != y
    err = w[miss].sum()
    w = w * np.exp(0.5 * np.log((1 - err) / err) * miss)
    assert not np.allclose(w / w.sum(), ref.estimators_[1].seen_weight_, rtol=1e-3)


def test_exponential_loss_form_gives_the_same_weights():
    """The update w exp(-beta y G) with beta = alpha / 2 gives the same normalized weights."""
    X, y = S["make_boost_data"](np.random.default_rng(3))
    stumps, alphas, _, weights = adaboost(X, y, 4)
    w = np.full(len(y), 1 / len(y))
    for m in range(3):
        w = w * np.exp(-0.5 * alphas[m] * y * S["stump_predict"](stumps[m], X))
        assert np.allclose(w / w.sum(), weights[m + 1], rtol=1e-12)


# ---------------------------------------------------------------------------
# numbers the page states about the figures
# ---------------------------------------------------------------------------
def test_figure_1_numbers():
    X, y = S["make_plane_data"](np.random.default_rng(0))
    tree = grow_tree(X, y, max_depth=3)
    assert np.sum(tree["left"] == -1) == 8
    assert np.mean(tree["counts"][S["apply_tree"](tree, X)].argmax(1) != y) == pytest.approx(0.12)
    assert tree["feature"][0] == 1 and tree["threshold"][0] == pytest.approx(0.445, abs=1e-9)
    ref = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    assert ref.get_n_leaves() == 8 and ref.score(X, y) == pytest.approx(0.88)


def test_figure_2_numbers():
    out = S["bagging_experiment"]()
    assert out["single"] == pytest.approx(0.089, abs=5e-4)
    bag_test, bag_oob = out["bagging"]
    rf_test, rf_oob = out["forest"]
    assert len(bag_test) == 150
    assert (bag_test[-1], bag_oob[-1]) == (pytest.approx(0.052, abs=5e-4), pytest.approx(0.050, abs=5e-4))
    assert (rf_test[-1], rf_oob[-1]) == (pytest.approx(0.037, abs=5e-4), pytest.approx(0.043, abs=5e-4))
    assert rf_test[-1] < bag_test[-1] < out["single"]


def test_figure_3_numbers():
    X, y = S["make_boost_data"](np.random.default_rng(3))
    stumps, alphas, errors, weights = adaboost(X, y, 20)
    assert len(y) == 40
    assert errors[0] == pytest.approx(0.275) and alphas[0] == pytest.approx(np.log(0.725 / 0.275))
    assert round(alphas[0], 2) == 0.97 and round(np.exp(alphas[0]), 2) == 2.64
    # the two flipped labels (examples 0 and 1) are misclassified in rounds 1 and 2
    assert np.allclose(weights[1][:2] * 40, 20 / 11) and np.allclose(weights[2][:2] * 40, 3.24, atol=5e-3)
    assert int(np.argmax(weights[3])) == 0 and weights[3][0] * 40 == pytest.approx(6.5, abs=0.05)
    wrong = np.flatnonzero(adaboost_predict(stumps, alphas, X) != y)
    assert wrong.tolist() == [0, 1]  # after 20 rounds only the two mislabeled points are wrong
