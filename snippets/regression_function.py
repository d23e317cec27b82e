"""The regression function f(x) = E[Y | X = x], estimated in two ways.

Synthetic data Y = f(X) + noise with a known f, so that every error can be measured:

1. One training set with the true regression function, a parametric estimate (a straight
   line fitted by least squares) and a non-parametric one (k-nearest-neighbor averaging).
2. Many training sets: the expected test MSE of k-NN regression against its flexibility 1/k,
   split into the reducible and the irreducible error, all measured by simulation.

The numbers the page states about the figures are computed here and printed.
"""

# %% Imports, the true regression function and the data
import matplotlib.pyplot as plt
import numpy as np

plt.style.use("tableau-colorblind10")  # colorblind-safe colors; every curve also has its own line style or marker
SIGMA = 0.5  # standard deviation of the noise: the irreducible error is SIGMA**2 = 0.25
N_TRAIN = 100  # training examples per training set


def true_f(x):
    """The regression function f(x) = E[Y | X = x] of the simulation."""
    return np.sin(2.0 * x) + 0.5 * x


def make_data(n, rng):
    """n examples: X uniform on [0, 3], Y = f(X) + eps with eps ~ N(0, SIGMA^2) independent of X."""
    x = rng.uniform(0.0, 3.0, size=n)
    return x, true_f(x) + SIGMA * rng.standard_normal(n)


# %% Two estimates of f: a straight line (parametric) and k-NN averaging (non-parametric)
def fit_line(x, y):
    """Least-squares line: the two parameters (intercept, slope) that minimize the squared error."""
    design = np.column_stack([np.ones_like(x), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return coef


def predict_line(coef, x):
    return coef[0] + coef[1] * x


def knn_regress(x_train, y_train, x_query, k):
    """k-NN regression: the mean of y over the k training points nearest to each query point."""
    x_train = np.asarray(x_train, dtype=float).reshape(len(y_train), -1)
    x_query = np.asarray(x_query, dtype=float).reshape(-1, x_train.shape[1])
    dist = np.linalg.norm(x_query[:, None, :] - x_train[None, :, :], axis=2)  # Euclidean distances
    nearest = np.argsort(dist, axis=1, kind="stable")[:, :k]  # indices of the k nearest training points
    return np.asarray(y_train)[nearest].mean(axis=1)


# %% Figure 1: the data, f(x) = E[Y | X = x], a parametric and a non-parametric estimate
def figure1_numbers(seed=0, k=10, n_test=200_000):
    """Fit both estimates to one training set; their test MSE on a large fresh sample, and the noise variance."""
    rng = np.random.default_rng(seed)
    x, y = make_data(N_TRAIN, rng)
    x_test, y_test = make_data(n_test, rng)
    coef = fit_line(x, y)
    return dict(x=x, y=y, coef=coef, k=k,
                mse_line=np.mean((y_test - predict_line(coef, x_test)) ** 2),
                mse_knn=np.mean((y_test - knn_regress(x, y, x_test, k)) ** 2),
                mse_true_f=np.mean((y_test - true_f(x_test)) ** 2))


fig1 = figure1_numbers()
grid = np.linspace(0.0, 3.0, 601)
fig, ax = plt.subplots(figsize=(6.5, 4))
ax.scatter(fig1["x"], fig1["y"], s=14, marker="o", facecolors="none", edgecolors="gray", label="training data")
ax.plot(grid, true_f(grid), color="black", ls="-", lw=2, label=r"true $f(x) = \mathbb{E}[Y \mid X = x]$")
ax.plot(grid, predict_line(fig1["coef"], grid), ls="--", lw=2, label="linear regression (parametric)")
ax.plot(grid, knn_regress(fig1["x"], fig1["y"], grid, fig1["k"]), ls="-.", lw=2,
        label=f"{fig1['k']}-NN average (non-parametric)")
ax.set(xlabel="$x$", ylabel="$y$", title=f"One training set, N = {N_TRAIN}")
ax.legend(fontsize=8, loc="lower left")
fig.tight_layout()
print("Figure 1: test MSE of the line %.3f, of 10-NN %.3f, of the true f %.3f (SIGMA^2 = %.2f)"
      % (fig1["mse_line"], fig1["mse_knn"], fig1["mse_true_f"], SIGMA**2))


# %% Figure 2: expected test MSE = reducible + irreducible error, against flexibility 1/k
def flexibility_experiment(ks=(100, 50, 30, 20, 15, 10, 7, 5, 3, 2, 1), n_sets=200, n_test=200, seed=1):
    """Average over n_sets training sets and n_test fresh test points per set of
    (y0 - fhat(x0))^2 (test MSE), (f(x0) - fhat(x0))^2 (reducible) and (y0 - f(x0))^2 (irreducible),
    and the training MSE, for k-NN regression with every k and for the least-squares line."""
    rng = np.random.default_rng(seed)
    ks = np.asarray(ks)
    sums = {name: np.zeros(len(ks)) for name in ("test", "reducible", "train")}
    irreducible = line_test = 0.0
    for _ in range(n_sets):
        x, y = make_data(N_TRAIN, rng)
        x0, y0 = make_data(n_test, rng)
        # every k at once: sort the neighbors once, then the k-NN mean is a running mean
        for query, store in ((x0, "test"), (x, "train")):
            order = np.argsort(np.abs(query[:, None] - x[None, :]), axis=1, kind="stable")
            means = np.cumsum(y[order], axis=1)[:, ks - 1] / ks  # column j: k = ks[j]
            if store == "test":
                sums["test"] += np.mean((y0[:, None] - means) ** 2, axis=0)
                sums["reducible"] += np.mean((true_f(x0)[:, None] - means) ** 2, axis=0)
            else:
                sums["train"] += np.mean((y[:, None] - means) ** 2, axis=0)
        irreducible += np.mean((y0 - true_f(x0)) ** 2)
        line_test += np.mean((y0 - predict_line(fit_line(x, y), x0)) ** 2)
    out = {name: s / n_sets for name, s in sums.items()}
    return dict(ks=ks, irreducible=irreducible / n_sets, line_test=line_test / n_sets, **out)


exp = flexibility_experiment()
flex = 1.0 / exp["ks"]
best = int(np.argmin(exp["test"]))
fig, ax = plt.subplots(figsize=(6.5, 4))
ax.plot(flex, exp["test"], ls="-", marker="o", label="expected test MSE")
ax.plot(flex, exp["reducible"], ls="--", marker="s", label="reducible error")
ax.plot(flex, np.full_like(flex, exp["irreducible"]), ls=":", lw=2, label=r"irreducible error $\mathrm{Var}(\varepsilon)$")
ax.plot(flex, exp["train"], ls="-", marker="^", lw=1, label="training MSE")
ax.plot(flex, np.full_like(flex, exp["line_test"]), ls="-.", label="test MSE of linear regression")
ax.set_xscale("log")
ax.set(xlabel="flexibility $1/k$ of $k$-NN regression (log scale)", ylabel="mean squared error",
       title=f"Averaged over 200 training sets of N = {N_TRAIN}", ylim=(0, 0.8))
ax.legend(fontsize=8, loc="upper center")
fig.tight_layout()
print("Figure 2: best k = %d with test MSE %.3f; k = 1: %.3f; k = 100: %.3f; line: %.3f; irreducible %.3f"
      % (exp["ks"][best], exp["test"][best], exp["test"][-1], exp["test"][0], exp["line_test"], exp["irreducible"]))
print("largest |test - (reducible + irreducible)|: %.4f"
      % np.max(np.abs(exp["test"] - exp["reducible"] - exp["irreducible"])))

plt.show()
