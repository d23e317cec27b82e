"""Model selection: subset selection, validation sets and cross-validation.

Three experiments, written from scratch with NumPy (scikit-learn only loads the data):

1. Best-subset selection against forward stepwise selection on the diabetes data of
   scikit-learn (10 predictors, all 1023 non-empty subsets): the smallest RSS per size.
2. Training, validation and test error of the models that forward stepwise selection
   finds on synthetic data (15 predictors, 5 of them useful), and the 5-fold, 10-fold and
   leave-one-out cross-validation estimates of the same error, with the selection redone
   inside every fold.
3. The splits of 5-fold cross-validation drawn for N = 20 examples.

The numbers the page states about the figures are computed here and printed.
"""

# %% Imports, seeds and style
import itertools

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle
from sklearn.datasets import load_diabetes

rng = np.random.default_rng(0)
plt.style.use("tableau-colorblind10")  # safe for color-vision deficiency; curves also differ by style
COLORS = plt.rcParams["axes.prop_cycle"].by_key()["color"]

# %% Least squares, RSS, k-fold indices and cross-validation
def fit_ols(X, y):
    """Least-squares coefficients with an intercept: returns (beta0, beta)."""
    A = np.column_stack([np.ones(len(y)), X])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    return coef[0], coef[1:]


def rss(X, y, subset):
    """Residual sum of squares of the least-squares fit on the predictors in subset."""
    beta0, beta = fit_ols(X[:, list(subset)], y)
    return float(np.sum((y - beta0 - X[:, list(subset)] @ beta) ** 2))


def mse_on(X_train, y_train, X_eval, y_eval, subset):
    """Fit on (X_train, y_train) with the predictors in subset; mean squared error on (X_eval, y_eval)."""
    cols = list(subset)
    beta0, beta = fit_ols(X_train[:, cols], y_train)
    return float(np.mean((y_eval - beta0 - X_eval[:, cols] @ beta) ** 2))


def kfold_indices(n, k, order=None):
    """Split range(n) (or the permutation order) into k consecutive folds, the first n % k of
    them one example larger; yield (train indices, validation indices) for each fold."""
    order = np.arange(n) if order is None else np.asarray(order)
    sizes = np.full(k, n // k) + (np.arange(k) < n % k)
    start = 0
    for size in sizes:
        val = order[start:start + size]
        train = np.concatenate([order[:start], order[start + size:]])
        yield train, val
        start += size


def cv_error(X, y, k, subset=None):
    """k-fold cross-validation estimate CV_(k) = (1/k) sum_j MSE_j of least squares on subset."""
    subset = range(X.shape[1]) if subset is None else subset
    errors = [mse_on(X[tr], y[tr], X[va], y[va], subset) for tr, va in kfold_indices(len(y), k)]
    return float(np.mean(errors))


def loocv_shortcut(X, y):
    """Leave-one-out CV of least squares from one fit: (1/N) sum ((y_i - yhat_i) / (1 - h_i))^2."""
    A = np.column_stack([np.ones(len(y)), X])
    H = A @ np.linalg.pinv(A)  # hat matrix: yhat = H y
    residuals = y - H @ y
    return float(np.mean((residuals / (1 - np.diag(H))) ** 2))

# %% Best subset, forward and backward stepwise, forward stagewise
def best_subset(X, y):
    """For each size s = 1..p, the subset of s predictors with the smallest RSS (all C(p, s) fits)."""
    p = X.shape[1]
    return {s: min(itertools.combinations(range(p), s), key=lambda c: rss(X, y, c)) for s in range(1, p + 1)}


def forward_stepwise(X, y, n_select, score=rss):
    """Start from no predictor; add, one at a time, the predictor whose addition gives the smallest
    score(X, y, subset) (training RSS by default). Returns the predictors in the order they entered."""
    chosen, remaining = [], list(range(X.shape[1]))
    for _ in range(n_select):
        best = min(remaining, key=lambda j: score(X, y, chosen + [j]))
        chosen.append(best)
        remaining.remove(best)
    return chosen


def backward_stepwise(X, y, n_select, score=rss):
    """Start from all p predictors; remove, one at a time, the predictor whose removal gives the
    smallest score(X, y, subset). Returns the predictors that remain, sorted."""
    chosen = list(range(X.shape[1]))
    while len(chosen) > n_select:
        worst = min(chosen, key=lambda j: score(X, y, [c for c in chosen if c != j]))
        chosen.remove(worst)
    return sorted(chosen)


def forward_stagewise(X, y, steps, eps=None):
    """Forward stagewise regression on centered data. Each step picks the predictor most correlated
    with the current residual and adds to its coefficient only: the simple-regression coefficient of
    the residual on it (eps=None), or eps times its sign (incremental version). The other
    coefficients are never refitted. Returns (beta0, beta)."""
    x_mean, y_mean = X.mean(0), y.mean()
    Xc = X - x_mean
    beta, r = np.zeros(X.shape[1]), y - y_mean
    for _ in range(steps):
        corr = Xc.T @ r / np.linalg.norm(Xc, axis=0)
        j = int(np.argmax(np.abs(corr)))
        delta = Xc[:, j] @ r / (Xc[:, j] @ Xc[:, j]) if eps is None else eps * np.sign(corr[j])
        beta[j] += delta
        r = r - delta * Xc[:, j]
    return y_mean - x_mean @ beta, beta

# %% Figure 1: best subset against forward stepwise on the diabetes data
def subset_rss_table(X, y):
    """RSS of every non-empty subset, the best per size, and forward stepwise's per size."""
    p = X.shape[1]
    every = [(len(c), rss(X, y, c)) for s in range(1, p + 1) for c in itertools.combinations(range(p), s)]
    best = {s: rss(X, y, c) for s, c in best_subset(X, y).items()}
    order = forward_stepwise(X, y, p)
    forward = {s: rss(X, y, order[:s]) for s in range(1, p + 1)}
    return every, best, forward


diabetes = load_diabetes()
X_d, y_d = diabetes.data, diabetes.target
every, best, forward = subset_rss_table(X_d, y_d)
differ = [s for s in best if forward[s] > best[s] * (1 + 1e-12)]
print("diabetes: forward stepwise misses the best subset at sizes", differ)
fig, ax = plt.subplots(figsize=(6, 3.8))
ax.scatter([s + rng.uniform(-0.15, 0.15) for s, _ in every], [r / 1e6 for _, r in every], s=4, color="0.7",
           label="every subset")
ax.plot(list(best), [r / 1e6 for r in best.values()], ls="-", marker="o", ms=5, label="best subset")
ax.plot(list(forward), [r / 1e6 for r in forward.values()], ls="--", marker="x", ms=7, label="forward stepwise")
ax.set(xlabel="number of predictors s", ylabel=r"RSS ($\times 10^6$)", title="diabetes data (N = 442, p = 10)")
ax.legend()
fig.tight_layout()

# %% Synthetic data: 15 predictors, 5 of them useful; training, validation and test sets
def make_data(rng, n, p=15, noise=1.0):
    """x ~ N(0, Sigma) with correlation 0.5 between neighbors; y = x_1 + ... (5 useful) + noise."""
    cov = 0.5 ** np.abs(np.subtract.outer(np.arange(p), np.arange(p)))
    X = rng.multivariate_normal(np.zeros(p), cov, size=n)
    beta = np.zeros(p)
    beta[[0, 3, 6, 9, 12]] = [1.5, -1.0, 0.8, 0.6, -0.5]
    return X, X @ beta + noise * rng.standard_normal(n)


def selection_curves(seed=2, n_train=40, n_val=40, n_test=5000):
    """Forward stepwise on the training set; errors of its models of size 0..p on the three sets."""
    gen = np.random.default_rng(seed)
    X_tr, y_tr = make_data(gen, n_train)
    X_va, y_va = make_data(gen, n_val)
    X_te, y_te = make_data(gen, n_test)
    p = X_tr.shape[1]
    order = forward_stepwise(X_tr, y_tr, p)
    curves = {"train": [], "validation": [], "test": []}
    for s in range(p + 1):
        subset = order[:s]
        for name, (Xe, ye) in {"train": (X_tr, y_tr), "validation": (X_va, y_va), "test": (X_te, y_te)}.items():
            curves[name].append(mse_on(X_tr, y_tr, Xe, ye, subset))
    curves = {name: np.array(v) for name, v in curves.items()}
    size = int(np.argmin(curves["validation"]))  # chosen on the validation set only
    return dict(order=order, curves=curves, size=size, test_error=float(curves["test"][size]),
                data=(X_tr, y_tr, X_va, y_va))


def cv_curve(X, y, k):
    """CV_(k) of forward stepwise for every size s = 0..p, the selection redone inside each fold."""
    p = X.shape[1]
    errors = np.zeros((k, p + 1))
    for f, (tr, va) in enumerate(kfold_indices(len(y), k)):
        order = forward_stepwise(X[tr], y[tr], p)
        errors[f] = [mse_on(X[tr], y[tr], X[va], y[va], order[:s]) for s in range(p + 1)]
    return errors.mean(0)


result = selection_curves()
X_tr, y_tr, X_va, y_va = result["data"]
X_all, y_all = np.vstack([X_tr, X_va]), np.concatenate([y_tr, y_va])  # training + validation: 80 examples
cv = {k: cv_curve(X_all, y_all, k) for k in (5, 10, len(y_all))}
print("forward stepwise order:", result["order"][:6], "...")
print(f"validation chooses {result['size']} predictors; its test MSE {result['test_error']:.2f} "
      f"(smallest test MSE {result['curves']['test'].min():.2f} at {np.argmin(result['curves']['test'])})")
print("CV chooses:", {k: int(np.argmin(c)) for k, c in cv.items()})

# %% Figure 2: training, validation and test error against the number of predictors
sizes = np.arange(len(result["curves"]["train"]))
fig, (ax_left, ax_right) = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
styles = {"train": dict(ls="-", marker="o"), "validation": dict(ls="--", marker="s"),
          "test": dict(ls=":", marker="^")}
for name, style in styles.items():
    ax_left.plot(sizes, result["curves"][name], ms=4, label=f"{name} MSE", **style)
ax_left.axvline(result["size"], color="gray", lw=1, ls="-.")
ax_left.set(xlabel="number of predictors (forward stepwise)", ylabel="mean squared error",
            title="one split: train 40, validation 40", ylim=(0, 4.5))
ax_left.legend()
ax_right.plot(sizes, result["curves"]["test"], ls=":", marker="^", ms=4, label="test MSE")
for (k, curve), style in zip(cv.items(), [dict(ls="-", marker="o"), dict(ls="--", marker="s"),
                                          dict(ls="-.", marker="D")]):
    label = "LOOCV" if k == len(y_all) else f"{k}-fold CV"
    ax_right.plot(sizes, curve, ms=4, label=label, **style)
ax_right.set(xlabel="number of predictors (forward stepwise)", title="cross-validation on all 80")
ax_right.legend()
fig.tight_layout()

# %% Figure 3: the splits of 5-fold cross-validation
n_show, k_show = 20, 5
fig, ax = plt.subplots(figsize=(8, 2.6))
for f, (tr, va) in enumerate(kfold_indices(n_show, k_show)):
    for i in range(n_show):
        is_val = i in va
        ax.add_patch(Rectangle((i, k_show - 1 - f), 0.9, 0.8, facecolor=COLORS[1] if is_val else COLORS[0],
                               hatch="///" if is_val else None, edgecolor="black", lw=0.5))
    ax.text(n_show + 0.3, k_show - 1 - f + 0.4, f"MSE$_{f + 1}$", va="center")
ax.set(xlim=(0, n_show + 2), ylim=(0, k_show), xlabel="example index i",
       yticks=np.arange(k_show) + 0.4, yticklabels=[f"fold {k_show - f}" for f in range(k_show)],
       xticks=np.arange(n_show) + 0.45, xticklabels=range(n_show))
ax.legend(handles=[Rectangle((0, 0), 1, 1, facecolor=COLORS[0], edgecolor="black", label="training"),
                   Rectangle((0, 0), 1, 1, facecolor=COLORS[1], hatch="///", edgecolor="black",
                             label="validation")], loc="upper center", bbox_to_anchor=(0.45, 1.3), ncol=2)
fig.tight_layout()
plt.show()

