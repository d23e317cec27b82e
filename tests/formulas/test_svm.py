"""Formula tests for docs/*/ml-foundations/svm.md.

The soft-margin SVM is solved from scratch in snippets/svm.py (loaded here without running the
snippet): its dual by sequential minimal optimization on a Gram matrix. The solution is compared
with scikit-learn's SVC (LIBSVM) with the same kernel and C: the multipliers alpha_i y_i
(dual_coef_), the support vectors (support_), w and b (coef_, intercept_), the margin width
2 / ||w|| and the decision function. The Gram matrices are compared with
sklearn.metrics.pairwise (rbf_kernel, polynomial_kernel). Strong duality, the hinge-loss form of
the primal and the optimality conditions are checked too. The numbers the page states about its
figures are asserted at the end, and mutation tests run wrong formulas through the same
comparisons.
"""

import numpy as np
import pytest
from sklearn.metrics.pairwise import polynomial_kernel as sk_polynomial_kernel
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.svm import SVC

from snippet_code import snippet_function

S = snippet_function("svm", "linear_kernel", "polynomial_kernel", "rbf_gram", "smo", "fit_svm", "decision_function",
                     "primal_objective", "dual_objective", "make_blobs", "make_rings", "margin_experiment",
                     "kernel_experiment")
fit_svm, decision_function, rbf_gram, smo = S["fit_svm"], S["decision_function"], S["rbf_gram"], S["smo"]
linear_kernel, polynomial_kernel = S["linear_kernel"], S["polynomial_kernel"]


def blobs(seed=0, n=60):
    return S["make_blobs"](np.random.default_rng(seed), n)


def sklearn_svc(X, y, C, kernel="linear", **kw):
    return SVC(kernel=kernel, C=C, tol=1e-10, **kw).fit(X, y)


# ---------------------------------------------------------------------------
# Gram matrices from scratch vs sklearn.metrics.pairwise
# ---------------------------------------------------------------------------
def gram_off(gram, reference):
    return np.abs(gram - reference).max() / 1e-12


@pytest.mark.parametrize("gamma", [0.1, 1.0, 5.0])
def test_rbf_gram_matches_rbf_kernel(gamma):
    rng = np.random.default_rng(3)
    A, B = rng.normal(size=(30, 4)), rng.normal(size=(20, 4))
    assert gram_off(rbf_gram(A, B, gamma), rbf_kernel(A, B, gamma=gamma)) <= 1.0
    K = rbf_gram(A, A, gamma)  # symmetric, ones on the diagonal, positive semidefinite
    assert np.allclose(K, K.T) and np.allclose(np.diag(K), 1.0) and np.linalg.eigvalsh(K).min() > -1e-10


@pytest.mark.parametrize("degree,gamma,coef0", [(2, 1.0, 1.0), (3, 0.5, 2.0), (1, 1.0, 0.0)])
def test_polynomial_kernel_matches_sklearn(degree, gamma, coef0):
    rng = np.random.default_rng(4)
    A, B = rng.normal(size=(15, 3)), rng.normal(size=(10, 3))
    ours = polynomial_kernel(A, B, degree=degree, gamma=gamma, coef0=coef0)
    ref = sk_polynomial_kernel(A, B, degree=degree, gamma=gamma, coef0=coef0)
    assert np.abs(ours - ref).max() <= 1e-10 * np.abs(ref).max()


def test_polynomial_kernel_is_a_dot_product_of_features():
    """(1 + x^T z)^2 = phi(x)^T phi(z) with the six features of the page (d = 2)."""
    def phi(X):
        x1, x2 = X.T
        r2 = np.sqrt(2)
        return np.column_stack([np.ones(len(X)), r2 * x1, r2 * x2, x1**2, x2**2, r2 * x1 * x2])
    rng = np.random.default_rng(5)
    A, B = rng.normal(size=(8, 2)), rng.normal(size=(6, 2))
    assert np.allclose(polynomial_kernel(A, B, degree=2), phi(A) @ phi(B).T, rtol=1e-12, atol=1e-12)


WRONG_RBF = {
    "distance not squared": lambda A, B, g: np.exp(-g * np.sqrt(-np.log(rbf_gram(A, B, 1.0)))),
    "1 / (2 gamma) instead of gamma": lambda A, B, g: rbf_gram(A, B, 1 / (2 * g)),
    "+ 2 a^T b": lambda A, B, g: np.exp(-g * ((A**2).sum(1)[:, None] + (B**2).sum(1)[None, :] + 2 * A @ B.T)),
}


@pytest.mark.parametrize("name", list(WRONG_RBF))
def test_wrong_rbf_grams_are_caught(name):
    rng = np.random.default_rng(3)
    A, B = rng.normal(size=(30, 4)), rng.normal(size=(20, 4))
    assert gram_off(rbf_gram(A, B, 1.0), rbf_kernel(A, B, gamma=1.0)) <= 1.0
    assert gram_off(WRONG_RBF[name](A, B, 1.0), rbf_kernel(A, B, gamma=1.0)) > 1e6


# ---------------------------------------------------------------------------
# The linear soft-margin SVM from scratch vs SVC(kernel="linear")
# ---------------------------------------------------------------------------
TOL = 1e-4  # LIBSVM stops at a duality gap near 1e-3 on these problems; the SMO of the snippet near 1e-7


def svc_off(model, X, y, C, kernel="linear", **kw):
    """What differs between the from-scratch model and SVC: support set, alpha_i y_i, b, decision function
    and, for the linear kernel, w and the margin width 2 / ||w||."""
    ref = sklearn_svc(X, y, C, kernel, **kw)
    problems = []
    K = {"linear": linear_kernel, "rbf": rbf_gram, "poly": polynomial_kernel}[kernel](X, X, **model["kernel_args"])
    alpha_ref = np.zeros(len(y))
    alpha_ref[ref.support_] = np.abs(ref.dual_coef_[0])
    dual, dual_ref = S["dual_objective"](model["alpha"], K, y), S["dual_objective"](alpha_ref, K, y)
    if abs(dual - dual_ref) > TOL * abs(dual_ref):
        problems.append("dual objective differs")
    if np.linalg.matrix_rank(K) < len(y):
        pass  # a rank-deficient Gram matrix (degree-2 polynomial: 6 features) has many optimal alphas
    elif not np.array_equal(model["support"], np.sort(ref.support_)):
        problems.append("support vectors differ")
    else:
        order = np.argsort(ref.support_)
        ours = model["alpha"][model["support"]] * y[model["support"]]
        if np.abs(ours - ref.dual_coef_[0][order]).max() > TOL * C:
            problems.append("alpha_i y_i differ")
    if abs(model["b"] - ref.intercept_[0]) > TOL * (1 + abs(ref.intercept_[0])):
        problems.append("b differs")
    scale = np.abs(ref.decision_function(X)).max()
    if np.abs(decision_function(model, X) - ref.decision_function(X)).max() > TOL * scale:
        problems.append("decision function differs")
    if kernel == "linear":
        if np.abs(model["w"] - ref.coef_[0]).max() > TOL * np.abs(ref.coef_).max():
            problems.append("w differs")
        if abs(model["width"] - 2 / np.linalg.norm(ref.coef_)) > TOL * model["width"]:
            problems.append("margin width differs")
    return problems


@pytest.mark.parametrize("C", [0.01, 0.1, 1.0, 10.0, 100.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_linear_svm_matches_svc(C, seed):
    X, y = blobs(seed)
    assert svc_off(fit_svm(X, y, C), X, y, C) == []


@pytest.mark.parametrize("kernel,args,sk", [
    ("rbf", {"gamma": 1.0}, {"gamma": 1.0}),
    ("rbf", {"gamma": 0.2}, {"gamma": 0.2}),
    ("poly", {"degree": 2}, {"degree": 2, "gamma": 1.0, "coef0": 1.0}),
])
def test_kernel_svm_matches_svc(kernel, args, sk):
    X, y = S["make_rings"](np.random.default_rng(1), 120)
    ours = fit_svm(X, y, 1.0, rbf_gram if kernel == "rbf" else polynomial_kernel, **args)
    assert svc_off(ours, X, y, 1.0, kernel, **sk) == []


@pytest.mark.parametrize("C", [0.1, 1.0, 10.0])
def test_strong_duality_and_hinge_form(C):
    """The primal (1/2)||w||^2 + C sum hinge at w = sum alpha_i y_i x_i equals the dual objective, and the
    constraints hold: 0 <= alpha <= C, sum alpha_i y_i = 0."""
    X, y = blobs(1)
    m = fit_svm(X, y, C)
    primal = S["primal_objective"](m["w"], m["b"], X, y, C)
    dual = S["dual_objective"](m["alpha"], X @ X.T, y)
    assert abs(primal - dual) <= 1e-6 * primal
    assert m["alpha"].min() >= 0 and m["alpha"].max() <= C and abs(m["alpha"] @ y) < 1e-10
    # no (w, b) does better: small random moves all raise the primal objective
    rng = np.random.default_rng(0)
    for _ in range(200):
        dw, db = 1e-3 * rng.normal(size=2), 1e-3 * rng.normal()
        assert S["primal_objective"](m["w"] + dw, m["b"] + db, X, y, C) >= primal - 1e-9


def test_optimality_conditions():
    """alpha_i = 0 where y_i f(x_i) > 1, alpha_i = C where y_i f(x_i) < 1, y_i f(x_i) = 1 in between."""
    X, y = blobs(0)
    C = 1.0
    m = fit_svm(X, y, C)
    margin = y * decision_function(m, X)
    a = m["alpha"]
    assert np.all(a[margin > 1 + 1e-6] < 1e-8)
    assert np.all(a[margin < 1 - 1e-6] > C - 1e-8)
    free = (a > 1e-6) & (a < C - 1e-6)
    assert free.any() and np.abs(margin[free] - 1).max() < 1e-6


# ---------------------------------------------------------------------------
# Mutations: wrong duals, wrong w, b and margin width must fail the comparison with SVC
# ---------------------------------------------------------------------------
def model_from(X, y, C, alpha, b, w=None, width=None):
    support = np.flatnonzero(alpha > 1e-8 * C)
    w = X.T @ (alpha * y) if w is None else w
    return {"alpha": alpha, "b": b, "support": support, "X": X, "y": y, "kernel": linear_kernel,
            "kernel_args": {}, "C": C, "w": w, "width": 2 / np.linalg.norm(w) if width is None else width}


def dual_without_labels(X, y, C):  # Q_ij = K_ij: the labels left out of the quadratic term
    alpha, b = smo(np.outer(y, y) * (X @ X.T), y, C)
    return model_from(X, y, C, alpha, b)


def box_ignored(X, y, C):  # the hard-margin dual: no upper bound alpha_i <= C
    alpha, b = smo(X @ X.T, y, 1e6)
    return model_from(X, y, C, alpha, b)


def w_without_labels(X, y, C):  # w = sum alpha_i x_i
    m = fit_svm(X, y, C)
    return model_from(X, y, C, m["alpha"], m["b"], w=X.T @ m["alpha"])


def width_one_over_norm(X, y, C):  # 1 / ||w|| is the margin M, half the width
    m = fit_svm(X, y, C)
    return model_from(X, y, C, m["alpha"], m["b"], width=1 / np.linalg.norm(m["w"]))


def b_from_all_support_vectors(X, y, C):  # b = y_i - w^T x_i averaged also over alpha_i = C, where it fails
    m = fit_svm(X, y, C)
    s = m["support"]
    return model_from(X, y, C, m["alpha"], float(np.mean(y[s] - X[s] @ m["w"])))


@pytest.mark.parametrize("wrong", [dual_without_labels, box_ignored, w_without_labels, width_one_over_norm,
                                   b_from_all_support_vectors], ids=lambda f: f.__name__)
def test_wrong_svm_formulas_are_caught(wrong):
    X, y = blobs(0)
    assert svc_off(fit_svm(X, y, 1.0), X, y, 1.0) == []
    assert svc_off(wrong(X, y, 1.0), X, y, 1.0) != []


# ---------------------------------------------------------------------------
# What the page says about its figures
# ---------------------------------------------------------------------------
def test_figure_1_numbers():
    X, y, models = S["margin_experiment"]()
    assert len(y) == 60
    widths = {C: round(m["width"], 2) for C, m in models.items()}
    counts = {C: len(m["support"]) for C, m in models.items()}
    assert widths == {0.01: 4.38, 1.0: 1.14, 100.0: 0.82}
    assert counts == {0.01: 38, 1.0: 10, 100.0: 6}
    for C, m in models.items():  # the same counts from SVC
        assert len(sklearn_svc(X, y, C).support_) == counts[C]
    # the classes overlap: at every C three examples are misclassified, and their multipliers sit at C
    for C, m in models.items():
        margin = y * decision_function(m, X)
        assert np.sum(margin < 0) == 3 and np.all(m["alpha"][margin < 0] > C * (1 - 1e-8))
    assert np.sum(models[100.0]["alpha"] > 100 * (1 - 1e-8)) == 3


def test_figure_2_numbers():
    X, y, models = S["margin_experiment"]()
    m = models[1.0]
    a = m["alpha"]
    assert (np.sum(a < 1e-6), np.sum((a >= 1e-6) & (a <= 1 - 1e-6)), np.sum(a > 1 - 1e-6)) == (50, 3, 7)
    margin = y * decision_function(m, X)
    assert np.sum(margin < 0) == 3  # misclassified: their alpha is C


def test_figure_3_numbers():
    X, y, results = S["kernel_experiment"]()
    assert len(y) == 200
    got = {name: (round(r["train"], 3), round(r["test"], 3), len(r["model"]["support"])) for name, r in results.items()}
    assert got == {"linear": (0.605, 0.628, 200), "polynomial, degree 2": (0.97, 0.958, 27),
                   "RBF, gamma = 1": (0.97, 0.949, 50)}
    ref = sklearn_svc(X, y, 1.0, "rbf", gamma=1.0)
    assert len(ref.support_) == 50 and np.mean(ref.predict(X) == y) == pytest.approx(0.97)
