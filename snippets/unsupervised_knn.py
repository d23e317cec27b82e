"""Unsupervised learning and k-nearest neighbors.

Four experiments, every algorithm written from scratch in NumPy:

1. k-means by Lloyd's algorithm on synthetic 2-D data with four groups: the centers after each
   step, and the elbow curve (within-cluster sum of squares against k, k-means++ seeding).
2. PCA of scikit-learn's bundled 8x8 digits by the singular value decomposition: the first two
   principal component scores, and the proportion of variance explained.
3. k-nearest-neighbor classification of a noisy two-class problem: decision boundaries for
   k = 1 and k = 15, with training and test error.
4. The curse of dimensionality, measured: for uniform points in [0, 1]^p, the ratio of the
   nearest to the farthest distance from a query point, and the test error of 5-NN when noise
   dimensions are added to a 2-D problem.

The numbers the page states about the figures are computed here and printed.
"""

# %% Imports and colors
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

plt.style.use("tableau-colorblind10")
COLORS = plt.rcParams["axes.prop_cycle"].by_key()["color"]
MARKERS = ["o", "s", "^", "D", "v", "P"]

# %% k-means: Lloyd's algorithm and k-means++ seeding
def squared_distances(A, B):
    """Matrix of squared Euclidean distances ||a_i - b_j||^2 between the rows of A and of B."""
    d2 = (A**2).sum(1)[:, None] - 2 * A @ B.T + (B**2).sum(1)[None, :]
    return np.maximum(d2, 0.0)


def within_cluster_ss(X, labels, centers):
    """W = sum_i ||x_i - mu_{c(i)}||^2, the k-means objective."""
    return float(((X - centers[labels]) ** 2).sum())


def lloyd(X, centers, max_iter=300):
    """Lloyd's algorithm from the given initial centers. Alternates the assignment step (each point
    to its nearest center) and the update step (each center to the mean of its points) until the
    assignment stops changing. Returns the final centers and labels, the list of centers after
    every update step (the first entry is the initial centers) and the objective after each
    assignment step."""
    centers = np.array(centers, dtype=float)
    history, objective, labels = [centers.copy()], [], None
    for _ in range(max_iter):
        new_labels = squared_distances(X, centers).argmin(1)  # assignment step
        objective.append(within_cluster_ss(X, new_labels, centers))
        if labels is not None and np.array_equal(new_labels, labels):
            break
        labels = new_labels
        for j in range(len(centers)):  # update step; an empty cluster keeps its center
            if np.any(labels == j):
                centers[j] = X[labels == j].mean(0)
        history.append(centers.copy())
    return centers, labels, history, objective


def kmeans_pp_init(X, k, rng):
    """k-means++ seeding: the first center uniformly from the data, each next one a data point drawn
    with probability proportional to D(x)^2, its squared distance to the nearest center so far."""
    centers = [X[rng.integers(len(X))]]
    for _ in range(k - 1):
        d2 = squared_distances(X, np.array(centers)).min(1)
        centers.append(X[rng.choice(len(X), p=d2 / d2.sum())])
    return np.array(centers)


def kmeans(X, k, n_init=10, seed=0):
    """Best of n_init runs of Lloyd's algorithm from k-means++ seeds (lowest W)."""
    rng = np.random.default_rng(seed)
    best = None
    for _ in range(n_init):
        centers, labels, _, objective = lloyd(X, kmeans_pp_init(X, k, rng))
        if best is None or objective[-1] < best[2]:
            best = (centers, labels, objective[-1])
    return best


def blob_data(n_per=60, seed=0):
    """Four Gaussian groups in the plane, standard deviation 0.6, 240 points."""
    rng = np.random.default_rng(seed)
    means = np.array([[0.0, 0.0], [4.0, 0.5], [1.0, 4.0], [5.0, 4.5]])
    return np.concatenate([m + 0.6 * rng.standard_normal((n_per, 2)) for m in means])


BAD_START = ((0.0, 0.0), (0.5, 0.5), (1.0, 0.0), (0.5, -0.5))  # four centers in one corner


def elbow_curve(X, ks=range(1, 11)):
    """W(k) of the best of 4 k-means++ runs, for each k."""
    return np.array(list(ks)), np.array([kmeans(X, k, n_init=4)[2] for k in ks])

# %% Figure 1: Lloyd's iterations from a poor start, and the elbow curve
X_blobs = blob_data()
final, labels_final, steps, objective = lloyd(X_blobs, BAD_START)
ks, W = elbow_curve(X_blobs)
print(f"Lloyd from the poor start: {len(steps) - 1} update steps, W falls from {objective[0]:.0f} to {objective[-1]:.0f}")
print("W(k) for k = 1..10:", np.round(W).astype(int))
print(f"W(3)/W(4) = {W[2] / W[3]:.2f}, W(4)/W(5) = {W[3] / W[4]:.2f}")
fig, axes = plt.subplots(1, 4, figsize=(14, 3.5))
for ax, step, title in [(axes[0], 0, "initial centers"), (axes[1], 1, "after one step"),
                        (axes[2], len(steps) - 1, f"converged ({len(steps) - 1} steps)")]:
    centers = steps[step]
    labels = squared_distances(X_blobs, centers).argmin(1)
    for j in range(4):
        ax.scatter(*X_blobs[labels == j].T, s=10, marker=MARKERS[j], color=COLORS[j], alpha=0.6)
    path = np.array(steps[: step + 1])
    for j in range(4):
        ax.plot(path[:, j, 0], path[:, j, 1], "k:", lw=1)
    ax.plot(centers[:, 0], centers[:, 1], "kX", ms=10, mec="white")
    ax.set_title(title)
    ax.set_aspect("equal")
ax = axes[3]
ax.plot(ks, W, "o-", color=COLORS[0])
ax.axvline(4, color="black", ls="--", lw=1)
ax.set_xlabel("number of clusters k")
ax.set_ylabel("within-cluster sum of squares W")
ax.set_title("elbow curve")
fig.tight_layout()

# %% PCA by the singular value decomposition, and classical MDS
def pca_svd(X, q):
    """PCA of the rows of X: center, X_c = U D V^T; the first q principal component directions are
    the first q columns of V, the scores are X_c V_q = U_q D_q, and the variance explained by
    component j is d_j^2 / (N - 1). Returns scores, directions (q x p), variances and the
    proportion of variance explained by every component."""
    Xc = X - X.mean(0)
    U, d, Vt = np.linalg.svd(Xc, full_matrices=False)
    variances = d**2 / (len(X) - 1)
    return U[:, :q] * d[:q], Vt[:q], variances[:q], variances / variances.sum()


def classical_mds(D, q):
    """Classical (Torgerson) MDS: double-center the squared distances, B = -1/2 J D^2 J with
    J = I - 11^T / N, and embed with the top q eigenvectors of B scaled by the root eigenvalues."""
    n = len(D)
    J = np.eye(n) - np.ones((n, n)) / n
    B = -0.5 * J @ (D**2) @ J
    eigval, eigvec = np.linalg.eigh(B)
    top = np.argsort(eigval)[::-1][:q]
    return eigvec[:, top] * np.sqrt(np.maximum(eigval[top], 0.0))


def digits_pca():
    """PCA of the 1797 digits (64 pixel intensities each, not standardized)."""
    X, y = load_digits(return_X_y=True)
    scores, _, _, pve = pca_svd(X, 2)
    return scores, y, pve

# %% Figure 2: the digits in the plane of the first two principal components
scores, digit, pve = digits_pca()
cumulative = np.cumsum(pve)
n90 = int(np.searchsorted(cumulative, 0.90) + 1)
print(f"PC1 explains {100 * pve[0]:.1f} %, PC2 {100 * pve[1]:.1f} %, together {100 * cumulative[1]:.1f} %; "
      f"{n90} components reach 90 %")
fig, axes = plt.subplots(1, 2, figsize=(11, 4.4))
ax = axes[0]
for j, c in enumerate([0, 1, 4, 6]):  # four digits, so that the markers stay readable
    ax.scatter(*scores[digit == c].T, s=9, marker=MARKERS[j], color=COLORS[j], alpha=0.7, label=f"digit {c}")
ax.set_xlabel("first principal component score")
ax.set_ylabel("second principal component score")
ax.legend(fontsize=8, markerscale=2)
ax.set_title("load_digits, 64 pixels projected to 2-D")
ax = axes[1]
comp = np.arange(1, len(pve) + 1)
ax.plot(comp, pve, "o-", ms=3, color=COLORS[0], label="proportion of variance explained")
ax.plot(comp, cumulative, "s--", ms=3, color=COLORS[1], label="cumulative")
ax.axhline(0.9, color="black", lw=0.8, ls=":")
ax.axvline(n90, color="black", lw=0.8, ls=":")
ax.set_xlabel("principal component")
ax.set_ylim(0, 1.02)
ax.legend(fontsize=8, loc="center right")
ax.set_title("explained variance")
fig.tight_layout()

# %% k-nearest neighbors
def knn_predict(X_train, y_train, X_query, k):
    """Majority vote of the k training points nearest (Euclidean) to each query point; ties between
    classes go to the smallest class label, ties in distance to the earlier training point."""
    d2 = squared_distances(X_query, X_train)
    nearest = np.argsort(d2, axis=1, kind="stable")[:, :k]
    votes = np.zeros((len(X_query), y_train.max() + 1))
    np.add.at(votes, (np.arange(len(X_query))[:, None], y_train[nearest]), 1)
    return votes.argmax(1)


def two_class_data(n, seed, noise_dims=0):
    """Two classes in the plane: each a mixture of three Gaussians (sd 0.45) around fixed means,
    a problem whose Bayes boundary is curved. noise_dims extra coordinates, uniform on [-2, 2],
    carry no information about the class."""
    rng = np.random.default_rng(seed)
    means = np.array([[[-1.0, 1.0], [0.5, 0.0], [1.5, 1.5]], [[0.0, -1.0], [-1.0, 0.0], [1.5, -0.5]]])
    y = rng.integers(0, 2, n)
    X = means[y, rng.integers(0, 3, n)] + 0.45 * rng.standard_normal((n, 2))
    return np.hstack([X, rng.uniform(-2, 2, (n, noise_dims))]), y


def knn_errors(k, n_train=200, n_test=2000, noise_dims=0):
    """Training and test error rates of k-NN on two_class_data."""
    X, y = two_class_data(n_train, 1, noise_dims)
    Xt, yt = two_class_data(n_test, 2, noise_dims)
    return np.mean(knn_predict(X, y, X, k) != y), np.mean(knn_predict(X, y, Xt, k) != yt)

# %% Figure 3: k-NN decision boundaries for k = 1 and k = 15
X_knn, y_knn = two_class_data(200, 1)
g1, g2 = np.meshgrid(np.linspace(-2.5, 3, 150), np.linspace(-2.5, 3, 150))
grid = np.c_[g1.ravel(), g2.ravel()]
fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
for ax, k in zip(axes, [1, 15]):
    train_err, test_err = knn_errors(k)
    print(f"k = {k}: training error {train_err:.3f}, test error {test_err:.3f}")
    region = knn_predict(X_knn, y_knn, grid, k).reshape(g1.shape)
    ax.contourf(g1, g2, region, levels=[-0.5, 0.5, 1.5], colors=[COLORS[0], COLORS[1]], alpha=0.2)
    ax.contour(g1, g2, region, levels=[0.5], colors="black", linewidths=1.2)
    for c in (0, 1):
        ax.scatter(*X_knn[y_knn == c].T, s=14, marker=MARKERS[c], color=COLORS[c], edgecolor="black",
                   linewidth=0.3, label=f"class {c}")
    ax.set_title(f"k = {k}: training error {train_err:.2f}, test error {test_err:.2f}")
    ax.set_aspect("equal")
    ax.legend(fontsize=8, loc="lower right")
fig.tight_layout()

# %% The curse of dimensionality, measured
def distance_contrast(dims, n=1000, n_queries=50, seed=0):
    """For uniform points in [0, 1]^p: mean over query points of (nearest distance) / (farthest
    distance) among n data points, for each p in dims."""
    rng = np.random.default_rng(seed)
    ratios = []
    for p in dims:
        X, Q = rng.uniform(size=(n, p)), rng.uniform(size=(n_queries, p))
        d = np.sqrt(squared_distances(Q, X))
        ratios.append(np.mean(d.min(1) / d.max(1)))
    return np.array(ratios)


DIMS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
NOISE_DIMS = (0, 2, 5, 10, 20, 50, 100)


def knn_noise_curve(noise_dims=NOISE_DIMS, k=15):
    """Test error of 15-NN on the 2-D problem with extra uninformative coordinates."""
    return np.array([knn_errors(k, noise_dims=m)[1] for m in noise_dims])

# %% Figure 4: distances concentrate; k-NN degrades as useless dimensions are added
contrast = distance_contrast(DIMS)
noise_err = knn_noise_curve()
print("nearest / farthest distance:", dict(zip(DIMS, np.round(contrast, 3).tolist())))
print("15-NN test error with added noise dimensions:", dict(zip(NOISE_DIMS, np.round(noise_err, 3).tolist())))
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
ax = axes[0]
ax.semilogx(np.array(DIMS), contrast, "o-", color=COLORS[0])
ax.set_xlabel("dimension p (log scale)")
ax.set_ylabel("nearest / farthest distance")
ax.set_ylim(0, 1)
ax.set_title("1000 uniform points in [0, 1]^p")
ax = axes[1]
ax.plot(2 + np.array(NOISE_DIMS), noise_err, "s-", color=COLORS[1], label="15-NN test error")
ax.axhline(0.5, color="black", ls=":", lw=1, label="guessing")
ax.set_xscale("log")
ax.set_xlabel("dimension (2 informative + noise, log scale)")
ax.set_ylabel("test error")
ax.set_ylim(0, 0.55)
ax.legend(fontsize=8)
ax.set_title("k-NN with uninformative coordinates added")
fig.tight_layout()
plt.show()
