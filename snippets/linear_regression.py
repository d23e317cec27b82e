"""Linear regression by least squares.

Synthetic data: N = 30 points with y = 3 + 0.5 x + Gaussian noise (sigma = 1). The snippet

1. fits the line by the normal equations, by a QR decomposition and by numpy.linalg.lstsq,
   and draws it with its residuals (Figure 1);
2. computes RSS, RSE, TSS, R^2, the coefficients' standard errors and 95 % confidence intervals;
3. draws the contours of RSS(beta_0, beta_1) around its minimum (Figure 2);
4. codes a qualitative predictor with three levels by two dummy variables and shows the design
   matrix as a table (Figure 3);
5. adds a third dummy, which makes X^T X singular, and finds the minimum-norm solution.

The numbers the page states about the figures are computed here and printed.
"""

# %% Imports and data
import matplotlib.pyplot as plt
import numpy as np

plt.style.use("tableau-colorblind10")  # colors safe for color-vision deficiency; styles differ too


def make_data(n=30, beta0=3.0, beta1=0.5, sigma=1.0, seed=0):
    """x uniform on [0, 10], sorted; y = beta0 + beta1 * x + Gaussian noise with standard deviation sigma."""
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0.0, 10.0, n))
    y = beta0 + beta1 * x + sigma * rng.normal(size=n)
    return x, y


def design_matrix(x):
    """X = [1, x]: a column of ones for the intercept, then one column per predictor."""
    x = np.asarray(x, dtype=float).reshape(len(x), -1)
    return np.column_stack([np.ones(len(x)), x])


x, y = make_data()
X = design_matrix(x)
N, p = len(y), X.shape[1] - 1  # N examples, p predictors (X has p + 1 columns)


# %% Least squares three ways
def fit_normal_equations(X, y):
    """Solve X^T X beta = X^T y (needs X^T X invertible)."""
    return np.linalg.solve(X.T @ X, X.T @ y)


def fit_qr(X, y):
    """X = QR, then R beta = Q^T y: never forms X^T X, so it loses less precision."""
    Q, R = np.linalg.qr(X)
    return np.linalg.solve(R, Q.T @ y)


def fit_simple(x, y):
    """Simple regression in closed form: beta1 = S_xy / S_xx, beta0 = mean(y) - beta1 * mean(x)."""
    dx, dy = x - x.mean(), y - y.mean()
    beta1 = np.sum(dx * dy) / np.sum(dx**2)
    return np.array([y.mean() - beta1 * x.mean(), beta1])


beta_hat = fit_normal_equations(X, y)
for other in (fit_qr(X, y), fit_simple(x, y), np.linalg.lstsq(X, y, rcond=None)[0]):
    assert np.allclose(other, beta_hat, rtol=1e-10, atol=1e-12)
print("beta_hat (intercept, slope):", beta_hat.round(3))


# %% RSS, RSE, TSS, R^2, standard errors and confidence intervals
def rss(X, y, beta):
    """Residual sum of squares: sum_i (y_i - x_i^T beta)^2."""
    residual = y - X @ beta
    return residual @ residual


def tss(y):
    """Total sum of squares: sum_i (y_i - mean(y))^2 (a sum, not a variance)."""
    return np.sum((y - y.mean()) ** 2)


def rse(X, y, beta):
    """Residual standard error sqrt(RSS / (N - p - 1)); X has p + 1 columns."""
    n, k = X.shape
    return np.sqrt(rss(X, y, beta) / (n - k))


def r_squared(X, y, beta):
    """R^2 = 1 - RSS / TSS."""
    return 1.0 - rss(X, y, beta) / tss(y)


def standard_errors(X, y, beta):
    """SE(beta_j) = RSE * sqrt([(X^T X)^-1]_jj)."""
    return rse(X, y, beta) * np.sqrt(np.diag(np.linalg.inv(X.T @ X)))


def confidence_intervals(beta, se, t_quantile):
    """beta_j -/+ t * SE(beta_j), one row per coefficient."""
    return np.column_stack([beta - t_quantile * se, beta + t_quantile * se])


T_975_DF28 = 2.048407  # 97.5 % quantile of Student's t with N - p - 1 = 28 degrees of freedom
se = standard_errors(X, y, beta_hat)
ci = confidence_intervals(beta_hat, se, T_975_DF28)
print(f"RSS = {rss(X, y, beta_hat):.2f}, TSS = {tss(y):.2f}, RSE = {rse(X, y, beta_hat):.3f}, "
      f"R^2 = {r_squared(X, y, beta_hat):.3f}")
print("SE:", se.round(3), " 95% CI:", ci.round(2).tolist())


# %% Figure 1: the least-squares line and its residuals
def plot_fit(x, y, beta, true_beta=(3.0, 0.5)):
    fig, ax = plt.subplots(figsize=(6, 3.8))
    grid = np.linspace(0, 10, 2)
    fitted = beta[0] + beta[1] * x
    ax.vlines(x, fitted, y, colors="gray", linestyles=":", lw=1.2, label="residuals $e_i = y_i - \\hat{y}_i$")
    ax.plot(x, y, "o", ms=5, label="data $(x_i, y_i)$")
    ax.plot(grid, beta[0] + beta[1] * grid, "-", lw=2,
            label=f"least-squares line $\\hat{{y}} = {beta[0]:.2f} + {beta[1]:.2f}x$")
    ax.plot(grid, true_beta[0] + true_beta[1] * grid, "--", lw=1.5,
            label=f"true line $y = {true_beta[0]:g} + {true_beta[1]:g}x$")
    ax.set(xlabel="$x$", ylabel="$y$", title="Least squares minimizes the sum of squared residuals")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


plot_fit(x, y, beta_hat)


# %% Figure 2: contours of RSS(beta_0, beta_1)
def rss_grid(X, y, b0, b1):
    """RSS on a grid of (beta_0, beta_1) values for simple regression."""
    B0, B1 = np.meshgrid(b0, b1)
    fitted = B0[..., None] + B1[..., None] * X[:, 1]
    return B0, B1, np.sum((y - fitted) ** 2, axis=-1)


def estimate_correlation(X):
    """Correlation of (beta0_hat, beta1_hat) from (X^T X)^-1: -mean(x) / sqrt(mean(x^2)) in simple regression."""
    c = np.linalg.inv(X.T @ X)
    return c[0, 1] / np.sqrt(c[0, 0] * c[1, 1])


def plot_rss_contours(X, y, beta):
    b0 = np.linspace(beta[0] - 2.0, beta[0] + 2.0, 201)
    b1 = np.linspace(beta[1] - 0.35, beta[1] + 0.35, 201)
    B0, B1, surface = rss_grid(X, y, b0, b1)
    best = rss(X, y, beta)
    fig, ax = plt.subplots(figsize=(6, 4))
    levels = best * np.array([1.1, 1.25, 1.5, 2, 3, 4, 6])
    cs = ax.contour(B0, B1, surface, levels=levels, colors="black", linewidths=0.8)
    ax.clabel(cs, fmt="%.0f", fontsize=7)
    ax.plot(beta[0], beta[1], "*", ms=14, label=f"minimum: RSS = {best:.1f}")
    ax.plot(3.0, 0.5, "X", ms=9, label="true $(\\beta_0, \\beta_1) = (3, 0.5)$")
    ax.set(xlabel="intercept $\\beta_0$", ylabel="slope $\\beta_1$", title="RSS$(\\beta_0, \\beta_1)$")
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig


plot_rss_contours(X, y, beta_hat)
print(f"Figure 2: min RSS = {rss(X, y, beta_hat):.1f}, corr(beta0_hat, beta1_hat) = {estimate_correlation(X):.2f}")


# %% Figure 3: a qualitative predictor coded by dummy variables
def dummy_columns(levels, categories):
    """One 0/1 column per category except the first, which is the baseline."""
    levels = np.asarray(levels)
    return np.column_stack([(levels == c).astype(float) for c in categories[1:]])


REGIONS = ["East", "South", "West"]  # East is the baseline
region = np.array(["East", "West", "South", "East", "South", "West"])
X_region = np.column_stack([np.ones(len(region)), dummy_columns(region, REGIONS)])


def plot_design_table(region, X_region):
    fig, ax = plt.subplots(figsize=(6, 2.6))
    ax.axis("off")
    rows = [[str(i + 1), r] + [f"{v:.0f}" for v in row] for i, (r, row) in enumerate(zip(region, X_region))]
    table = ax.table(cellText=rows, colLabels=["$i$", "region", "intercept", "$x_{i1}$ (South)", "$x_{i2}$ (West)"],
                     loc="center", cellLoc="center")
    table.scale(1, 1.35)
    for (r, c), cell in table.get_celld().items():
        if r == 0:
            cell.set_text_props(weight="bold")
    ax.set_title("Design matrix: 3 levels, 2 dummy variables, East is the baseline", fontsize=10)
    fig.tight_layout()
    return fig


plot_design_table(region, X_region)
print("Figure 3: rank of the design matrix", np.linalg.matrix_rank(X_region), "of", X_region.shape[1], "columns")


# %% A singular X^T X: one dummy per level plus the intercept
def min_norm_solution(X, y, rcond=1e-10):
    """The least-squares solution of smallest norm, from the SVD X = U S V^T (singular values below
    rcond * s_max count as zero): beta = V S^+ U^T y, the same as numpy.linalg.pinv(X) @ y."""
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    keep = s > rcond * s[0]
    return Vt[keep].T @ ((U[:, keep].T @ y) / s[keep])


rng = np.random.default_rng(1)
balance = np.array([1.0, 1.5, 2.0, 1.0, 2.0, 1.5]) + 0.1 * rng.normal(size=6)  # a response per example
X_trap = np.column_stack([X_region, (region == "East").astype(float)])  # the East column = intercept - South - West
beta_plus = min_norm_solution(X_trap, balance)
print("rank", np.linalg.matrix_rank(X_trap), "of", X_trap.shape[1], "columns; minimum-norm solution:", beta_plus.round(3))
print("same fitted values as with two dummies:",
      np.allclose(X_trap @ beta_plus, X_region @ np.linalg.lstsq(X_region, balance, rcond=None)[0]))

plt.show()
