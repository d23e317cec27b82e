"""Formula tests for docs/*/ml-foundations/unsupervised-and-knn.md.

The page's algorithms are loaded from snippets/unsupervised_knn.py and compared with scikit-learn:
Lloyd's algorithm with KMeans(algorithm="lloyd") from the same initial centers, PCA by the SVD with
sklearn.decomposition.PCA (up to sign), classical MDS with the PCA scores on Euclidean distances,
and k-NN with KNeighborsClassifier. The identities the page derives (the pairwise form of W, the
variance of the scores) are checked too, and the numbers the page states about its figures are
asserted at the end. Mutation tests run wrong formulas (median update, L1 assignment, variance
divided by N, no centering, no double centering, distances instead of squared distances, one
neighbor too many) through the same comparisons.
"""

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.neighbors import KNeighborsClassifier

from snippet_code import snippet_function

S = snippet_function("unsupervised_knn", "lloyd", "kmeans", "kmeans_pp_init", "within_cluster_ss",
                     "squared_distances", "blob_data", "BAD_START", "elbow_curve", "pca_svd", "classical_mds",
                     "digits_pca", "knn_predict", "two_class_data", "knn_errors", "distance_contrast",
                     "knn_noise_curve", "DIMS", "NOISE_DIMS")
lloyd, pca_svd, classical_mds, knn_predict = S["lloyd"], S["pca_svd"], S["classical_mds"], S["knn_predict"]


def random_data(n, p, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, p)) * rng.uniform(0.5, 3, p) + rng.normal(0, 3, p)


# ---------------------------------------------------------------------------
# Lloyd's algorithm vs KMeans(algorithm="lloyd") from the same initial centers
# ---------------------------------------------------------------------------
def lloyd_off(algorithm, X, init):
    centers, labels, _, objective = algorithm(X, init)
    ref = KMeans(n_clusters=len(init), init=init, n_init=1, algorithm="lloyd", tol=0, max_iter=300).fit(X)
    center_gap = np.max(np.abs(centers - ref.cluster_centers_))
    return max(center_gap, float(np.mean(labels != ref.labels_)), abs(objective[-1] - ref.inertia_) / ref.inertia_)


@pytest.mark.parametrize("seed,k", [(0, 3), (1, 5), (2, 8), (3, 2)])
def test_lloyd_matches_kmeans(seed, k):
    X = random_data(300, 4, seed)
    init = X[np.random.default_rng(seed).choice(len(X), k, replace=False)]
    assert lloyd_off(lloyd, X, init) < 1e-10


def test_lloyd_from_the_bad_start_matches_kmeans():
    X = S["blob_data"]()
    assert lloyd_off(lloyd, X, np.array(S["BAD_START"])) < 1e-10


def test_objective_never_increases():
    X = random_data(400, 3, 5)
    _, _, _, objective = lloyd(X, X[:6])
    assert np.all(np.diff(objective) <= 1e-9)


def test_pairwise_form_of_w():
    """sum_k (1/|C_k|) sum_{i,i' in C_k} ||x_i - x_i'||^2 = 2 W (ISLR eq. 12.18)."""
    X = random_data(200, 3, 7)
    centers, labels, _, _ = lloyd(X, X[:4])
    pairwise = sum(S["squared_distances"](X[labels == j], X[labels == j]).sum() / np.sum(labels == j)
                   for j in range(4))
    assert pairwise == pytest.approx(2 * S["within_cluster_ss"](X, labels, centers), rel=1e-10)


def test_kmeans_pp_reaches_the_best_known_w():
    X = S["blob_data"]()
    ref = KMeans(n_clusters=4, n_init=10, random_state=0).fit(X)
    assert S["kmeans"](X, 4)[2] == pytest.approx(ref.inertia_, rel=1e-9)


def test_kmeans_pp_samples_by_squared_distance():
    """The second center is drawn with probability D(x)^2 / sum D^2: check the frequencies."""
    X = np.array([[0.0], [1.0], [3.0]])
    counts = np.zeros(3)
    rng = np.random.default_rng(0)
    for _ in range(20_000):
        first, second = S["kmeans_pp_init"](X, 2, rng)
        if first[0] == 0.0:
            counts[int(np.flatnonzero(X[:, 0] == second[0])[0])] += 1
    freq = counts / counts.sum()
    np.testing.assert_allclose(freq, [0, 1 / 10, 9 / 10], atol=0.015)  # D^2 = 0, 1, 9


def lloyd_median_update(X, centers, max_iter=300):
    centers = np.array(centers, dtype=float)
    labels = None
    for _ in range(max_iter):
        new = S["squared_distances"](X, centers).argmin(1)
        if labels is not None and np.array_equal(new, labels):
            break
        labels = new
        centers = np.array([np.median(X[labels == j], 0) for j in range(len(centers))])
    return centers, labels, None, [S["within_cluster_ss"](X, labels, centers)]


def lloyd_l1_assignment(X, centers, max_iter=300):
    centers = np.array(centers, dtype=float)
    labels = None
    for _ in range(max_iter):
        new = np.abs(X[:, None, :] - centers[None]).sum(2).argmin(1)
        if labels is not None and np.array_equal(new, labels):
            break
        labels = new
        centers = np.array([X[labels == j].mean(0) for j in range(len(centers))])
    return centers, labels, None, [S["within_cluster_ss"](X, labels, centers)]


@pytest.mark.parametrize("wrong", [lloyd_median_update, lloyd_l1_assignment], ids=lambda f: f.__name__)
def test_wrong_lloyd_is_caught(wrong):
    X = random_data(300, 4, 1)
    init = X[np.random.default_rng(1).choice(len(X), 5, replace=False)]
    assert lloyd_off(lloyd, X, init) < 1e-10
    assert lloyd_off(wrong, X, init) > 1e-3


# ---------------------------------------------------------------------------
# PCA by the SVD vs sklearn.decomposition.PCA (up to the sign of each component)
# ---------------------------------------------------------------------------
def align(A, B):
    """Flip the sign of each column of A to match B."""
    return A * np.sign(np.sum(A * B, axis=0))


def pca_off(formula, X, q):
    scores, comps, variances, pve = formula(X, q)
    ref = PCA(n_components=q, svd_solver="full").fit(X)
    ref_scores = ref.transform(X)
    return max(np.max(np.abs(align(scores, ref_scores) - ref_scores)),
               np.max(np.abs(align(comps.T, ref.components_.T) - ref.components_.T)),
               np.max(np.abs(variances - ref.explained_variance_) / ref.explained_variance_),
               np.max(np.abs(pve[:q] - ref.explained_variance_ratio_)))


@pytest.mark.parametrize("seed,n,p,q", [(0, 100, 5, 3), (1, 50, 20, 4), (2, 30, 60, 5)])
def test_pca_matches_sklearn(seed, n, p, q):
    assert pca_off(pca_svd, random_data(n, p, seed), q) < 1e-8


def test_pca_on_digits_matches_sklearn():
    X = load_digits().data
    assert pca_off(pca_svd, X, 10) < 1e-8


def test_pca_scores_have_the_stated_variance_and_are_uncorrelated():
    """Variance maximization: Var(z_1) = d_1^2/(N-1) is the largest variance of any unit direction."""
    X = random_data(200, 6, 3)
    scores, comps, variances, _ = pca_svd(X, 6)
    cov = np.cov(scores, rowvar=False)
    np.testing.assert_allclose(np.diag(cov), variances, rtol=1e-10)
    np.testing.assert_allclose(cov - np.diag(np.diag(cov)), 0, atol=1e-8)
    dirs = np.random.default_rng(0).standard_normal((1000, 6))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    assert np.all(np.var((X - X.mean(0)) @ dirs.T, axis=0, ddof=1) <= variances[0] + 1e-9)


def pca_divide_by_n(X, q):
    s, c, v, pve = pca_svd(X, q)
    return s, c, v * (len(X) - 1) / len(X), pve


def pca_uncentered(X, q):
    U, d, Vt = np.linalg.svd(X, full_matrices=False)
    v = d**2 / (len(X) - 1)
    return U[:, :q] * d[:q], Vt[:q], v[:q], v / v.sum()


@pytest.mark.parametrize("wrong", [pca_divide_by_n, pca_uncentered], ids=lambda f: f.__name__)
def test_wrong_pca_is_caught(wrong):
    X = random_data(100, 5, 0)
    assert pca_off(pca_svd, X, 3) < 1e-8
    assert pca_off(wrong, X, 3) > 5e-3


# ---------------------------------------------------------------------------
# Classical MDS on Euclidean distances = PCA scores (up to sign)
# ---------------------------------------------------------------------------
def mds_off(formula, X, q):
    D = np.sqrt(S["squared_distances"](X, X))
    emb = formula(D, q)
    scores = pca_svd(X, q)[0]
    return np.max(np.abs(align(emb, scores) - scores))


@pytest.mark.parametrize("seed,n,p,q", [(0, 60, 5, 2), (1, 40, 10, 3), (2, 80, 3, 3)])
def test_classical_mds_equals_pca(seed, n, p, q):
    assert mds_off(classical_mds, random_data(n, p, seed), q) < 1e-6


def mds_without_double_centering(D, q):
    eigval, eigvec = np.linalg.eigh(-0.5 * D**2)
    top = np.argsort(eigval)[::-1][:q]
    return eigvec[:, top] * np.sqrt(np.maximum(eigval[top], 0))


def mds_on_distances_not_squared(D, q):
    return classical_mds(np.sqrt(D), q)


@pytest.mark.parametrize("wrong", [mds_without_double_centering, mds_on_distances_not_squared],
                         ids=lambda f: f.__name__)
def test_wrong_mds_is_caught(wrong):
    X = random_data(60, 5, 0)
    assert mds_off(classical_mds, X, 2) < 1e-6
    assert mds_off(wrong, X, 2) > 0.1


# ---------------------------------------------------------------------------
# k-NN vs KNeighborsClassifier
# ---------------------------------------------------------------------------
def knn_mismatch(predict, k, seed=0, noise_dims=0):
    X, y = S["two_class_data"](300, seed, noise_dims)
    Xq, _ = S["two_class_data"](1000, seed + 100, noise_dims)
    ref = KNeighborsClassifier(n_neighbors=k, algorithm="brute").fit(X, y).predict(Xq)
    return np.mean(predict(X, y, Xq, k) != ref)


@pytest.mark.parametrize("k", [1, 3, 15, 51])
@pytest.mark.parametrize("noise_dims", [0, 10])
def test_knn_matches_sklearn(k, noise_dims):
    assert knn_mismatch(knn_predict, k, noise_dims=noise_dims) == 0


def test_knn_multiclass_matches_sklearn():
    X, y = load_digits(return_X_y=True)
    ref = KNeighborsClassifier(n_neighbors=5, algorithm="brute").fit(X[:1000], y[:1000])
    proba = ref.predict_proba(X[1000:])
    no_tie = np.sort(proba, 1)[:, -1] > np.sort(proba, 1)[:, -2]  # sklearn breaks vote ties its own way
    assert np.all(knn_predict(X[:1000], y[:1000], X[1000:], 5)[no_tie] == ref.predict(X[1000:])[no_tie])


def knn_one_too_many(X, y, Xq, k):
    return knn_predict(X, y, Xq, k + 2)


def knn_manhattan(X, y, Xq, k):
    d = np.abs(Xq[:, None, :] - X[None]).sum(2)
    nearest = np.argsort(d, axis=1, kind="stable")[:, :k]
    return (y[nearest].mean(1) > 0.5).astype(int)


@pytest.mark.parametrize("wrong", [knn_one_too_many, knn_manhattan], ids=lambda f: f.__name__)
def test_wrong_knn_is_caught(wrong):
    assert knn_mismatch(knn_predict, 1, noise_dims=10) == 0
    assert knn_mismatch(wrong, 1, noise_dims=10) > 0.02


# ---------------------------------------------------------------------------
# What the page says about its figures
# ---------------------------------------------------------------------------
def test_figure_1_numbers():
    X = S["blob_data"]()
    _, _, steps, objective = lloyd(X, S["BAD_START"])
    assert len(steps) - 1 == 14  # "14 update steps"
    assert round(objective[0]) == 3537 and round(objective[-1]) == 173
    ks, W = S["elbow_curve"](X)
    assert round(W[3]) == 173 and round(W[0]) == 2098
    assert W[2] / W[3] == pytest.approx(3.58, abs=0.005)  # "W(3) is 3.6 times W(4)"
    assert W[3] / W[4] == pytest.approx(1.12, abs=0.005)  # "W(5) only 11 % below"
    assert np.all(np.diff(W) < 0)  # W always falls as k grows


def test_figure_2_numbers():
    _, _, pve = S["digits_pca"]()
    assert 100 * pve[0] == pytest.approx(14.9, abs=0.05) and 100 * pve[1] == pytest.approx(13.6, abs=0.05)
    assert 100 * (pve[0] + pve[1]) == pytest.approx(28.5, abs=0.05)
    assert int(np.searchsorted(np.cumsum(pve), 0.90) + 1) == 21


def test_figure_3_numbers():
    tr1, te1 = S["knn_errors"](1)
    tr15, te15 = S["knn_errors"](15)
    assert tr1 == 0.0
    assert te1 == pytest.approx(0.149, abs=0.0005) and te15 == pytest.approx(0.115, abs=0.0005)
    assert tr15 == pytest.approx(0.11, abs=0.005)


def test_figure_4_numbers():
    contrast = dict(zip(S["DIMS"], S["distance_contrast"](S["DIMS"])))
    assert contrast[2] == pytest.approx(0.017, abs=0.0005)
    assert contrast[10] == pytest.approx(0.25, abs=0.005)
    assert contrast[1000] == pytest.approx(0.89, abs=0.005)
    assert np.all(np.diff(list(contrast.values())) > 0)
    err = dict(zip(S["NOISE_DIMS"], S["knn_noise_curve"]()))
    assert err[0] == pytest.approx(0.115, abs=0.0005) and err[10] == pytest.approx(0.27, abs=0.005)
    assert err[100] == pytest.approx(0.40, abs=0.005)
