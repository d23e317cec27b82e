"""Fit, the bias-variance trade-off, ridge and lasso.

Four experiments:

1. Polynomials of degree 1, 3 and 9 fitted by least squares to many training sets drawn from the
   same noisy curve: under-fit, good fit and over-fit, seen as a spread of fits.
2. The bias-variance decomposition measured by simulation: for each degree, 500 training sets give
   the squared bias, the variance and the test error, and bias^2 + variance + noise matches the
   measured test error.
3. Why the lasso gives exact zeros: the L1 diamond and the L2 disc against the contours of the
   residual sum of squares, for two predictors (ridge and lasso implemented from scratch).
4. Ridge (closed form) and lasso (coordinate descent with soft-thresholding) coefficient paths on
   synthetic data with 10 correlated predictors, 3 of which matter, with the penalty chosen by
   10-fold cross-validation.

The numbers the page states about the figures are computed here and printed.
"""

# %% Imports and colors
import matplotlib.pyplot as plt
import numpy as np

plt.style.use("tableau-colorblind10")
COLORS = plt.rcParams["axes.prop_cycle"].by_key()["color"]
SIGMA = 0.3  # noise standard deviation of the simulation

# %% The simulation: many training sets, one model per set
def true_f(x):
    """The regression function f(x) = E[Y | X = x] of the simulation."""
    return np.sin(2.5 * x) + 0.5 * x


def fit_polynomials(degree, n_train=30, n_sets=500, sigma=SIGMA, n_test=200, seed=0):
    """Draw n_sets training sets (x uniform on [-1, 1], y = f(x) + noise), fit a least-squares
    polynomial of the given degree to each, and predict on a fixed grid x0 of test points.
    Returns x0, f(x0), the predictions (n_sets, n_test) and fresh noisy test targets y0, one
    independent draw per training set and test point."""
    rng = np.random.default_rng(seed)
    x0 = np.linspace(-0.9, 0.9, n_test)
    f0 = true_f(x0)
    x = rng.uniform(-1, 1, (n_sets, n_train))
    y = true_f(x) + sigma * rng.standard_normal(x.shape)
    y0 = f0 + sigma * rng.standard_normal((n_sets, n_test))
    vander = np.polynomial.legendre.legvander  # Legendre basis: the same fits, better conditioned
    coef = np.linalg.pinv(vander(x, degree)) @ y[..., None]  # least squares, one fit per set
    preds = coef[..., 0] @ vander(x0, degree).T
    return x0, f0, preds, y0


def bias_variance(degree, **kwargs):
    """Squared bias, variance and test error at one degree, each averaged over the test points,
    all measured from the simulated fits (no formula for any of them)."""
    _, f0, preds, y0 = fit_polynomials(degree, **kwargs)
    mean_pred = preds.mean(axis=0)  # estimate of E[f_hat(x0)] over training sets
    return {
        "bias2": np.mean((mean_pred - f0) ** 2),
        "variance": np.mean(preds.var(axis=0)),
        "noise": np.mean((y0 - f0) ** 2),  # measured: close to sigma^2
        "test_mse": np.mean((y0 - preds) ** 2),
    }


MAX_DEGREE = 10


def bias_variance_curves(max_degree=MAX_DEGREE, **kwargs):
    """Squared bias, variance, noise and test error for the degrees 0, 1, ..., max_degree."""
    rows = [bias_variance(d, **kwargs) for d in range(max_degree + 1)]
    return {key: np.array([row[key] for row in rows]) for key in rows[0]}

# %% Figure 1: under-fit, good fit and over-fit, twenty training sets each
fig, axes = plt.subplots(1, 3, figsize=(11, 3.4), sharey=True)
for ax, degree, name in zip(axes, [1, 3, 9], ["under-fit", "good fit", "over-fit"]):
    x0, f0, preds, _ = fit_polynomials(degree)
    for k in range(20):
        ax.plot(x0, preds[k], color=COLORS[0], lw=0.7, alpha=0.5)
    ax.plot(x0, preds.mean(axis=0), color=COLORS[1], lw=2.2, ls="-", label="average fit")
    ax.plot(x0, f0, color="black", lw=1.8, ls="--", label="true f(x)")
    ax.set_title(f"degree {degree}: {name}")
    ax.set_xlabel("x")
    ax.set_ylim(-2.2, 2.2)
axes[0].set_ylabel("prediction")
axes[0].legend(loc="upper left", fontsize=8)
fig.tight_layout()

# %% Figure 2: the decomposition, measured
curves = bias_variance_curves()
DEGREES = np.arange(MAX_DEGREE + 1)
best_degree = int(DEGREES[np.argmin(curves["test_mse"])])
decomposition_gap = np.max(np.abs(curves["bias2"] + curves["variance"] + curves["noise"] - curves["test_mse"])
                           / curves["test_mse"])
print(f"test error smallest at degree {best_degree}: {curves['test_mse'][best_degree]:.3f}")
print(f"bias^2 + variance + noise vs measured test error: within {100 * decomposition_gap:.1f} %")
fig, ax = plt.subplots(figsize=(6.4, 4))
ax.plot(DEGREES, curves["bias2"], "s--", color=COLORS[0], label="bias²")
ax.plot(DEGREES, curves["variance"], "^:", color=COLORS[1], label="variance")
ax.plot(DEGREES, curves["noise"], "-.", color=COLORS[2], label="noise σ²")
ax.plot(DEGREES, curves["test_mse"], "o-", color="black", mfc="none", ms=8, label="test error (measured)")
ax.plot(DEGREES, curves["bias2"] + curves["variance"] + curves["noise"], "x", color=COLORS[3], ms=7,
        label="bias² + variance + noise")
ax.set_yscale("log")
ax.set_xlabel("polynomial degree (flexibility)")
ax.set_ylabel("mean over test points")
ax.legend(fontsize=8)
fig.tight_layout()

# %% Ridge and lasso from scratch
def standardize(X, mean=None, std=None):
    """Center each column and scale it to unit variance (with the mean and std given, if any)."""
    mean = X.mean(axis=0) if mean is None else mean
    std = X.std(axis=0) if std is None else std
    return (X - mean) / std, mean, std


def ridge(X, y, lam):
    """Minimize RSS + lam * ||beta||_2^2 with an unpenalized intercept: center X and y, then
    beta = (Xc^T Xc + lam I)^{-1} Xc^T yc and beta0 = mean(y) - mean(X) beta."""
    x_mean, y_mean = X.mean(axis=0), y.mean()
    Xc, yc = X - x_mean, y - y_mean
    beta = np.linalg.solve(Xc.T @ Xc + lam * np.eye(X.shape[1]), Xc.T @ yc)
    return y_mean - x_mean @ beta, beta


def soft_threshold(z, gamma):
    """S(z, gamma) = sign(z) * max(|z| - gamma, 0)."""
    return np.sign(z) * np.maximum(np.abs(z) - gamma, 0.0)


def lasso(X, y, lam, beta=None, tol=1e-12, max_sweeps=100_000):
    """Minimize RSS + lam * ||beta||_1 (unpenalized intercept) by cyclic coordinate descent:
    beta_j = S(x_j^T r_j, lam / 2) / (x_j^T x_j), r_j the partial residual without predictor j.
    Works on the Gram matrix G = Xc^T Xc and c = Xc^T yc: x_j^T r_j = c_j - (G beta)_j + G_jj beta_j.
    Stops when a whole sweep moves no fitted value by more than tol * ||yc||."""
    x_mean, y_mean = X.mean(axis=0), y.mean()
    Xc, yc = X - x_mean, y - y_mean
    G, c = Xc.T @ Xc, Xc.T @ yc
    beta = np.zeros(X.shape[1]) if beta is None else beta.copy()
    G_beta = G @ beta
    for _ in range(max_sweeps):
        largest_change = 0.0
        for j in range(len(beta)):
            rho = c[j] - G_beta[j] + G[j, j] * beta[j]  # x_j^T r_j
            change = soft_threshold(rho, lam / 2) / G[j, j] - beta[j]
            if change != 0.0:
                beta[j] += change
                G_beta += G[:, j] * change
                largest_change = max(largest_change, abs(change) * np.sqrt(G[j, j]))
        if largest_change <= tol * np.sqrt(yc @ yc):
            break
    return y_mean - x_mean @ beta, beta


def lasso_lambda_max(X, y):
    """The smallest lam at which every lasso coefficient is zero: 2 max_j |x_j^T (y - mean(y))|."""
    Xc = X - X.mean(axis=0)
    return 2 * np.max(np.abs(Xc.T @ (y - y.mean())))

# %% Figure 3: the L1 diamond, the L2 disc and the RSS contours
def two_predictor_problem(n=100, seed=1):
    """Two correlated predictors; least squares gives beta = (2, 0.8) roughly."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2)) @ np.array([[1.0, 0.0], [0.5, 0.9]])
    y = X @ np.array([2.0, 0.8]) + 0.8 * rng.standard_normal(n)
    return standardize(X)[0], y - y.mean()


def constraint_picture(lam_lasso=200.0, lam_ridge=100.0):
    """Least-squares, lasso and ridge solutions of the two-predictor problem, and the budgets
    s = ||beta_lasso||_1 and t = ||beta_ridge||_2 of the equivalent constrained problems."""
    X, y = two_predictor_problem()
    ols = np.linalg.lstsq(X, y, rcond=None)[0]
    b_lasso = lasso(X, y, lam_lasso)[1]
    b_ridge = ridge(X, y, lam_ridge)[1]
    return {"X": X, "y": y, "ols": ols, "lasso": b_lasso, "ridge": b_ridge,
            "s": np.abs(b_lasso).sum(), "t": np.linalg.norm(b_ridge)}


geo = constraint_picture()
print(f"two predictors: least squares {np.round(geo['ols'], 2)}, lasso {np.round(geo['lasso'], 2)}, "
      f"ridge {np.round(geo['ridge'], 2)}")
grid = np.linspace(-1.5, 4.0, 400)
B1, B2 = np.meshgrid(grid, grid)
resid = geo["y"][:, None, None] - geo["X"][:, 0, None, None] * B1 - geo["X"][:, 1, None, None] * B2
RSS = (resid**2).sum(axis=0)


def rss(beta):
    return np.sum((geo["y"] - geo["X"] @ beta) ** 2)


fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
angle = np.linspace(0, 2 * np.pi, 400)
shapes = {"lasso": (geo["s"] * np.sign(np.cos(angle)) * np.cos(angle) ** 2,
                    geo["s"] * np.sign(np.sin(angle)) * np.sin(angle) ** 2),
          "ridge": (geo["t"] * np.cos(angle), geo["t"] * np.sin(angle))}
for ax, method, title in [(axes[0], "lasso", "lasso: |β₁| + |β₂| ≤ s"), (axes[1], "ridge", "ridge: β₁² + β₂² ≤ t²")]:
    solution = geo[method]
    # contours between the least-squares minimum and the one through the solution, which touches the region
    levels = rss(geo["ols"]) + (rss(solution) - rss(geo["ols"])) * np.array([0.1, 0.35, 0.65, 1.0])
    ax.contour(B1, B2, RSS, levels=levels, colors=[COLORS[0]], linestyles=["--", "--", "--", "-"], linewidths=1.2)
    ax.fill(*shapes[method], color=COLORS[1], alpha=0.35)
    ax.plot(*shapes[method], color=COLORS[1], lw=1.5, ls="-", label="constraint region")
    ax.plot(*geo["ols"], "k+", ms=12, mew=2, label="least squares")
    ax.plot(*solution, "o", color="black", mfc=COLORS[3], ms=8, label=f"{method} solution")
    ax.axhline(0, color="black", lw=0.5)
    ax.axvline(0, color="black", lw=0.5)
    ax.set_aspect("equal")
    ax.set_xlim(-0.5, 2.8)
    ax.set_ylim(-0.8, 1.8)
    ax.set_xlabel("β₁")
    ax.set_ylabel("β₂")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
fig.tight_layout()

# %% Coefficient paths and cross-validation
TRUE_BETA = (3.0, -2.0, 0.0, 0.0, 1.5, 0.0, 0.0, 0.0, 0.0, 0.0)


def sparse_regression_data(n=100, seed=0):
    """N = n examples of p = 10 predictors with correlation 0.6^|j - k| between x_j and x_k;
    y = X beta + noise (standard deviation 3), where only x1, x2 and x5 have nonzero coefficients."""
    rng = np.random.default_rng(seed)
    p = len(TRUE_BETA)
    corr = 0.6 ** np.abs(np.subtract.outer(np.arange(p), np.arange(p)))
    X = rng.standard_normal((n, p)) @ np.linalg.cholesky(corr).T
    y = X @ np.array(TRUE_BETA) + 3.0 * rng.standard_normal(n)
    return X, y, [f"x{j + 1}" for j in range(p)]


def lambda_grid(method):
    """The values of lam tried: 30 points, evenly spaced on a log scale."""
    return np.logspace(-1, 4, 30) if method == "ridge" else np.logspace(0, 2.8, 30)


def paths(X, y):
    """Ridge and lasso coefficients (standardized X) for each lam; the lasso path is computed from
    the largest lam down, each fit started from the previous one (a warm start)."""
    Xs, _, _ = standardize(X)
    ridge_path = np.array([ridge(Xs, y, lam)[1] for lam in lambda_grid("ridge")])
    lasso_path, beta = [], None
    for lam in lambda_grid("lasso")[::-1]:
        beta = lasso(Xs, y, lam, beta, tol=1e-7)[1]
        lasso_path.append(beta)
    return ridge_path, np.array(lasso_path[::-1])


def kfold_indices(n, k, seed=0):
    """Shuffle 0..n-1 once and cut it into k folds of nearly equal size."""
    order = np.random.default_rng(seed).permutation(n)
    return np.array_split(order, k)


def cv_error(method, X, y, lams, k=10, seed=0):
    """k-fold cross-validation error (mean squared error) of ridge or lasso for each lam; the
    standardization is fitted on each training fold only."""
    errors = np.zeros((k, len(lams)))
    for i, test in enumerate(kfold_indices(len(y), k, seed)):
        train = np.setdiff1d(np.arange(len(y)), test)
        X_train, mean, std = standardize(X[train])
        X_test, _, _ = standardize(X[test], mean, std)
        beta = None
        for m in np.argsort(lams)[::-1]:  # from the largest lam down (warm starts for the lasso)
            if method == "ridge":
                b0, beta = ridge(X_train, y[train], lams[m])
            else:
                b0, beta = lasso(X_train, y[train], lams[m], beta, tol=1e-7)
            errors[i, m] = np.mean((y[test] - b0 - X_test @ beta) ** 2)
    return errors.mean(axis=0), errors.std(axis=0, ddof=1) / np.sqrt(k)


def regularization_experiment():
    X, y, names = sparse_regression_data()
    ridge_path, lasso_path = paths(X, y)
    ridge_lams, lasso_lams = lambda_grid("ridge"), lambda_grid("lasso")
    ridge_cv, _ = cv_error("ridge", X, y, ridge_lams)
    lasso_cv, lasso_se = cv_error("lasso", X, y, lasso_lams)
    best = {"ridge": ridge_lams[np.argmin(ridge_cv)], "lasso": lasso_lams[np.argmin(lasso_cv)]}
    Xs, _, _ = standardize(X)
    lasso_best = lasso(Xs, y, best["lasso"])[1]
    # one-standard-error rule: the largest lam whose CV error is within one SE of the minimum
    m = np.argmin(lasso_cv)
    one_se = lasso_lams[np.max(np.flatnonzero(lasso_cv <= lasso_cv[m] + lasso_se[m]))]
    lasso_one_se = lasso(Xs, y, one_se)[1]
    return {"names": names, "ridge_path": ridge_path, "lasso_path": lasso_path, "ridge_cv": ridge_cv,
            "lasso_cv": lasso_cv, "best": best, "lasso_best": lasso_best, "one_se": one_se,
            "lasso_one_se": lasso_one_se, "lasso_lambda_max": lasso_lambda_max(Xs, y)}

# %% Figure 4: ridge and lasso coefficient paths
reg = regularization_experiment()
print(f"lambda chosen by 10-fold CV: ridge {reg['best']['ridge']:.1f}, lasso {reg['best']['lasso']:.0f}")
print(f"ridge: |beta_3| grows from {abs(reg['ridge_path'][0, 2]):.2f} to {np.abs(reg['ridge_path'][:, 2]).max():.2f} as lambda grows")
print(f"lasso keeps {np.flatnonzero(reg['lasso_best']) + 1} of the 10 predictors at its CV lambda, "
      f"{np.flatnonzero(reg['lasso_one_se']) + 1} with the one-standard-error rule (lambda = {reg['one_se']:.0f})")
print(f"all lasso coefficients are zero from lambda_max = {reg['lasso_lambda_max']:.0f}")
SHOWN = {"x1": "-", "x2": "--", "x5": "-.", "x3": ":"}  # the four predictors the text discusses
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for ax, method in zip(axes, ["ridge", "lasso"]):
    lams, path = lambda_grid(method), reg[f"{method}_path"]
    for j, name in enumerate(reg["names"]):
        if name in SHOWN:
            ax.plot(lams, path[:, j], ls=SHOWN[name], lw=2, color=COLORS[[0, 1, 5, 3][list(SHOWN).index(name)]], label=name)
        else:
            ax.plot(lams, path[:, j], color="0.6", lw=0.9)
    ax.axvline(reg["best"][method], color="black", lw=1, ls=(0, (1, 3)))
    ax.axhline(0, color="black", lw=0.5)
    ax.set_xscale("log")
    ax.set_xlabel("λ (log scale)")
    ax.set_title(f"{method}: coefficients of standardized predictors")
axes[0].set_ylabel("coefficient")
axes[0].legend(fontsize=8)
fig.tight_layout()

plt.show()
