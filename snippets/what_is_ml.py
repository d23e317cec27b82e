"""What machine learning and deep learning are.

Three figures, on bundled or synthetic data:

1. The nested sets AI > machine learning > representation learning > deep learning
   (after Goodfellow et al., 2016, Figure 1.4), drawn as a diagram.
2. Supervised versus unsupervised learning on the same points: the iris flowers' petal
   length and width with their species labels, and the three clusters k-means finds
   without the labels.
3. Regression versus classification: a line fitted to a numeric target, and a logistic
   regression boundary between two iris species, both scored on a held-out test set by
   the empirical risk (mean squared error, error rate).

The numbers the page states about the figures are computed here and printed.
"""

# %% Imports and style
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Ellipse
from sklearn.cluster import KMeans
from sklearn.datasets import load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split

plt.style.use("tableau-colorblind10")  # a palette safe for color-vision deficiency
COLORS = plt.rcParams["axes.prop_cycle"].by_key()["color"]
MARKERS = ["o", "s", "^"]  # every group also has its own marker

# %% Figure 1: AI contains machine learning, which contains deep learning
NESTED_SETS = [  # (label, example, width, height, center y): outermost first
    ("Artificial intelligence", "e.g. rule-based expert systems", 9.6, 6.4, 3.2),
    ("Machine learning", "e.g. linear and logistic regression", 7.6, 4.9, 2.6),
    ("Representation learning", "e.g. autoencoders", 5.6, 3.4, 2.0),
    ("Deep learning", "e.g. multilayer perceptrons, CNNs", 3.7, 1.9, 1.3),
]


def draw_nested_sets(ax):
    """Draw the four sets as nested ellipses, each labeled with its name and an example."""
    for k, (name, example, width, height, y) in enumerate(NESTED_SETS):
        ax.add_patch(Ellipse((5.0, y), width, height, facecolor=COLORS[k], alpha=0.25,
                             edgecolor="black", linestyle=["-", "--", "-.", ":"][k], lw=1.5))
        top = y + height / 2
        label_y = y if k == len(NESTED_SETS) - 1 else top - 0.45
        ax.text(5.0, label_y + 0.12, name, ha="center", va="center", fontsize=11, weight="bold")
        ax.text(5.0, label_y - 0.2, example, ha="center", va="center", fontsize=8.5, style="italic")
    ax.set(xlim=(0, 10), ylim=(-0.1, 6.5), aspect="equal")
    ax.axis("off")


fig, ax = plt.subplots(figsize=(6.4, 4.4))
draw_nested_sets(ax)
fig.tight_layout()

# %% The supervised framework: empirical risk, the mean loss over a data set
def squared_loss(y, y_hat):
    return (np.asarray(y, float) - np.asarray(y_hat, float)) ** 2


def zero_one_loss(y, y_hat):
    return (np.asarray(y) != np.asarray(y_hat)).astype(float)


def empirical_risk(loss, y, y_hat):
    """(1/N) sum_i loss(y_i, y_hat_i): the objective of step 2, and the test score of step 4."""
    return float(np.mean(loss(y, y_hat)))

# %% Figure 2: supervised (labels given) versus unsupervised (clusters found) on the same points
def iris_petals():
    """Petal length and width (cm) of the 150 iris flowers, and their species (0, 1, 2)."""
    iris = load_iris()
    return iris.data[:, 2:4], iris.target, list(iris.target_names)


def kmeans_clusters(X, k=3, seed=0):
    """k-means without the labels: cluster index of each point, and the k centers,
    numbered from left to right (k-means itself numbers the clusters arbitrarily)."""
    model = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(X)
    order = np.argsort(model.cluster_centers_[:, 0])  # sort by the center's first coordinate
    rank = np.empty(k, dtype=int)
    rank[order] = np.arange(k)
    return rank[model.labels_], model.cluster_centers_[order]


def cluster_agreement(species, clusters):
    """Share of points whose cluster's most common species is their own species."""
    majority = {c: np.bincount(species[clusters == c]).argmax() for c in np.unique(clusters)}
    return float(np.mean([majority[c] == s for c, s in zip(clusters, species)]))


X_iris, species, names = iris_petals()
clusters, centers = kmeans_clusters(X_iris)
agreement = cluster_agreement(species, clusters)
fig, (ax_sup, ax_uns) = plt.subplots(1, 2, figsize=(9, 3.8), sharey=True)
for k in range(3):
    ax_sup.scatter(*X_iris[species == k].T, color=COLORS[k], marker=MARKERS[k], s=22, label=names[k])
    ax_uns.scatter(*X_iris[clusters == k].T, color="0.35", marker=MARKERS[k], s=22, facecolors="none",
                   label=f"cluster {k + 1}")
ax_uns.scatter(*centers.T, color="black", marker="X", s=90, label="cluster centers")
ax_sup.set(title="Supervised: each point has a label", xlabel="petal length (cm)", ylabel="petal width (cm)")
ax_uns.set(title="Unsupervised: k-means finds 3 clusters", xlabel="petal length (cm)")
ax_sup.legend(fontsize=8, loc="upper left")
ax_uns.legend(fontsize=8, loc="upper left")
fig.tight_layout()
print(f"Figure 2: the clusters agree with the species for {agreement:.1%} of the 150 flowers")

# %% Figure 3: regression (numeric target) versus classification (class target)
def regression_data(n=80, seed=0):
    """Synthetic: y = 2 + 0.8 x + noise, x in [0, 10], noise standard deviation 1."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 10, n)
    return x[:, None], 2.0 + 0.8 * x + rng.normal(0.0, 1.0, n)


def regression_experiment(seed=2):
    """Steps 1-4: a line, squared loss, least squares on 75 % of the data, test MSE on the rest."""
    X, y = regression_data(seed=seed)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=seed)
    model = LinearRegression().fit(X_train, y_train)
    test_mse = empirical_risk(squared_loss, y_test, model.predict(X_test))
    return model, (X_train, X_test, y_train, y_test), test_mse


def classification_experiment(seed=2):
    """Steps 1-4: versicolor (0) against virginica (1) from the petals, logistic regression, test error rate."""
    X, y, _ = iris_petals()
    X, y = X[y > 0], (y[y > 0] == 2).astype(int)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=seed, stratify=y)
    model = LogisticRegression().fit(X_train, y_train)
    test_error = empirical_risk(zero_one_loss, y_test, model.predict(X_test))
    return model, (X_train, X_test, y_train, y_test), test_error


reg, (xr_train, xr_test, yr_train, yr_test), test_mse = regression_experiment()
clf, (xc_train, xc_test, yc_train, yc_test), test_error = classification_experiment()
fig, (ax_reg, ax_clf) = plt.subplots(1, 2, figsize=(9, 3.8))
ax_reg.scatter(xr_train[:, 0], yr_train, color=COLORS[0], marker="o", s=18, label="training")
ax_reg.scatter(xr_test[:, 0], yr_test, color=COLORS[1], marker="^", s=26, label="test")
grid = np.linspace(0, 10, 2)
ax_reg.plot(grid, reg.predict(grid[:, None]), color="black", ls="-", label="fitted line")
ax_reg.set(title=f"Regression: a number (test MSE {test_mse:.2f})", xlabel="$x$", ylabel="$y$")
for k, name in enumerate(["versicolor", "virginica"]):
    ax_clf.scatter(*xc_train[yc_train == k].T, color=COLORS[k + 1], marker=MARKERS[k + 1], s=22,
                   label=f"{name} (training)")
    ax_clf.scatter(*xc_test[yc_test == k].T, color="black", marker=MARKERS[k + 1], s=30, facecolors="none",
                   label=f"{name} (test)")
w, b = clf.coef_[0], clf.intercept_[0]
lengths = np.array([3.0, 7.0])
ax_clf.plot(lengths, -(b + w[0] * lengths) / w[1], color="black", ls="--", label="decision boundary")
ax_clf.set(title=f"Classification: a class (test accuracy {1 - test_error:.0%})",
           xlabel="petal length (cm)", ylabel="petal width (cm)", ylim=(0.9, 2.6))
ax_reg.legend(fontsize=8, loc="upper left")
ax_clf.legend(fontsize=7, loc="upper left")
fig.tight_layout()
print(f"Figure 3: test MSE {test_mse:.3f} on {len(yr_test)} test points; "
      f"test error rate {test_error:.3f} ({round(test_error * len(yc_test))} of {len(yc_test)} misclassified)")

plt.show()
