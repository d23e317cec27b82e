"""Support vector machines: the soft margin, the dual and kernels.

The dual of the soft-margin SVM is solved from scratch with NumPy by sequential minimal
optimization (SMO: two multipliers at a time, the pair that most violates the optimality
conditions), for any Gram matrix. Three experiments:

1. A linear SVM on two overlapping classes for C = 0.01, 1 and 100: the boundary, the two
   margin lines and the support vectors, with the margin width 2 / ||w|| and their number.
2. The dual solution for C = 1: each multiplier alpha_i against the example's margin
   y_i f(x_i), which shows the three cases of the optimality conditions.
3. Two classes that no line separates (a disk inside a ring): a linear kernel, a polynomial
   kernel of degree 2 and an RBF kernel, with their training and test accuracy.

The numbers the page states about the figures are computed here and printed.
"""

# %% Imports, seeds and style
import matplotlib.pyplot as plt
import numpy as np

plt.style.use("tableau-colorblind10")  # safe for color-vision deficiency; classes also differ by marker
COLORS = plt.rcParams["axes.prop_cycle"].by_key()["color"]


# %% Kernels: linear, polynomial and RBF Gram matrices
def linear_kernel(A, B):
    """K[i, j] = a_i^T b_j."""
    return A @ B.T


def polynomial_kernel(A, B, degree=2, gamma=1.0, coef0=1.0):
    """K[i, j] = (gamma a_i^T b_j + coef0)^degree."""
    return (gamma * A @ B.T + coef0) ** degree


def rbf_gram(A, B, gamma=1.0):
    """K[i, j] = exp(-gamma ||a_i - b_j||^2), with ||a - b||^2 = ||a||^2 + ||b||^2 - 2 a^T b."""
    sq = (A**2).sum(1)[:, None] + (B**2).sum(1)[None, :] - 2 * A @ B.T
    return np.exp(-gamma * np.maximum(sq, 0.0))


# %% The dual by sequential minimal optimization (SMO)
def smo(K, y, C, tol=1e-8, max_iter=200_000):
    """Minimize (1/2) a^T Q a - 1^T a with Q[i, j] = y_i y_j K[i, j], subject to 0 <= a_i <= C and
    y^T a = 0 (the negated dual). Each step moves the pair (i, j) that most violates the optimality
    conditions, a_i += y_i t and a_j -= y_j t, which keeps y^T a = 0. Returns (alpha, b)."""
    n = len(y)
    alpha = np.zeros(n)
    grad = -np.ones(n)  # gradient Q alpha - 1 at alpha = 0
    for _ in range(max_iter):
        v = -y * grad  # at the optimum, v_i = b for every multiplier strictly between 0 and C
        up = ((y > 0) & (alpha < C)) | ((y < 0) & (alpha > 0))  # a_i may move up along y_i
        low = ((y > 0) & (alpha > 0)) | ((y < 0) & (alpha < C))
        i = np.flatnonzero(up)[np.argmax(v[up])]
        j = np.flatnonzero(low)[np.argmin(v[low])]
        if v[i] - v[j] < tol:
            break
        curvature = max(K[i, i] + K[j, j] - 2 * K[i, j], 1e-12)
        t = (v[i] - v[j]) / curvature  # the unconstrained best step along the pair
        t = min(t, C - alpha[i] if y[i] > 0 else alpha[i], alpha[j] if y[j] > 0 else C - alpha[j])
        alpha[i] += y[i] * t
        alpha[j] -= y[j] * t
        grad += y * (K[:, i] - K[:, j]) * t
    v = -y * grad
    free = (alpha > 1e-8 * C) & (alpha < C * (1 - 1e-8))
    b = v[free].mean() if free.any() else (v[i] + v[j]) / 2
    return alpha, b


def fit_svm(X, y, C, kernel=linear_kernel, **kernel_args):
    """Soft-margin SVM: solve the dual on the Gram matrix of X. Returns a dict with alpha, b and
    the support vectors (alpha_i > 0); for the linear kernel also w = sum_i alpha_i y_i x_i."""
    alpha, b = smo(kernel(X, X, **kernel_args), y, C)
    support = np.flatnonzero(alpha > 1e-8 * C)
    model = {"alpha": alpha, "b": b, "support": support, "X": X, "y": y,
             "kernel": kernel, "kernel_args": kernel_args, "C": C}
    if kernel is linear_kernel:
        model["w"] = X.T @ (alpha * y)
        model["width"] = 2 / np.linalg.norm(model["w"])  # the slab between the two margin lines
    return model


def decision_function(model, X_new):
    """f(x) = sum_i alpha_i y_i K(x_i, x) + b, over the support vectors only."""
    s = model["support"]
    K = model["kernel"](X_new, model["X"][s], **model["kernel_args"])
    return K @ (model["alpha"][s] * model["y"][s]) + model["b"]


def primal_objective(w, b, X, y, C):
    """(1/2)||w||^2 + C sum_i max(0, 1 - y_i (w^T x_i + b)): the hinge-loss form of the soft margin."""
    return 0.5 * w @ w + C * np.maximum(0, 1 - y * (X @ w + b)).sum()


def dual_objective(alpha, K, y):
    """sum_i alpha_i - (1/2) sum_ij alpha_i alpha_j y_i y_j K_ij."""
    return alpha.sum() - 0.5 * (alpha * y) @ K @ (alpha * y)


# %% Data: two overlapping classes, and a disk inside a ring
def make_blobs(rng, n=60):
    """n examples of two Gaussian classes (labels -1 and +1) whose clouds overlap a little."""
    y = np.where(np.arange(n) < n // 2, -1.0, 1.0)
    X = rng.normal(size=(n, 2)) + 1.3 * y[:, None]
    return X, y


def make_rings(rng, n=200):
    """Class -1 inside radius about 1, class +1 on a ring of radius about 2: no line separates them."""
    y = np.where(np.arange(n) < n // 2, -1.0, 1.0)
    radius = np.where(y < 0, rng.uniform(0, 1.2, n), rng.uniform(1.5, 2.6, n))
    angle = rng.uniform(0, 2 * np.pi, n)
    X = radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)]) + 0.25 * rng.normal(size=(n, 2))
    return X, y


C_VALUES = (0.01, 1.0, 100.0)


def margin_experiment(seed=0):
    """Figure 1: the linear SVM of each C in C_VALUES on the same 60 examples."""
    X, y = make_blobs(np.random.default_rng(seed))
    return X, y, {C: fit_svm(X, y, C) for C in C_VALUES}


KERNELS = {"linear": (linear_kernel, {}), "polynomial, degree 2": (polynomial_kernel, {"degree": 2}),
           "RBF, gamma = 1": (rbf_gram, {"gamma": 1.0})}


def kernel_experiment(seed=1, C=1.0):
    """Figure 3: one SVM per kernel on 200 training examples; accuracy on them and on 1000 new ones."""
    rng = np.random.default_rng(seed)
    X, y = make_rings(rng)
    X_test, y_test = make_rings(rng, 1000)
    results = {}
    for name, (kernel, args) in KERNELS.items():
        model = fit_svm(X, y, C, kernel, **args)
        results[name] = {"model": model,
                         "train": np.mean(np.sign(decision_function(model, X)) == y),
                         "test": np.mean(np.sign(decision_function(model, X_test)) == y_test)}
    return X, y, results


def draw_classes(ax, X, y, model=None):
    """The two classes (circles and triangles), and the support vectors circled."""
    ax.scatter(*X[y < 0].T, marker="o", s=18, color=COLORS[0], label="class -1")
    ax.scatter(*X[y > 0].T, marker="^", s=22, color=COLORS[1], label="class +1")
    if model is not None:
        s = model["support"]
        ax.scatter(*X[s].T, s=90, facecolors="none", edgecolors="black", linewidths=0.8, label="support vector")


def grid_of(X, steps=200):
    lo, hi = X.min(0) - 0.5, X.max(0) + 0.5
    g0, g1 = np.meshgrid(np.linspace(lo[0], hi[0], steps), np.linspace(lo[1], hi[1], steps))
    return g0, g1, np.column_stack([g0.ravel(), g1.ravel()])


# %% Figure 1: the margin and the support vectors for three values of C
X, y, models = margin_experiment()
g0, g1, grid = grid_of(X)
fig, axes = plt.subplots(1, 3, figsize=(11, 3.8), sharex=True, sharey=True)
for ax, (C, model) in zip(axes, models.items()):
    f = decision_function(model, grid).reshape(g0.shape)
    ax.contour(g0, g1, f, levels=[-1, 0, 1], colors="black", linestyles=["dashed", "solid", "dashed"],
               linewidths=1)
    draw_classes(ax, X, y, model)
    ax.set_title(f"C = {C:g}: width {model['width']:.2f}, {len(model['support'])} support vectors", fontsize=9)
    ax.set_xlabel("$x_1$")
axes[0].set_ylabel("$x_2$")
axes[0].legend(loc="lower right", fontsize=7)
fig.tight_layout()
for C, model in models.items():
    print(f"C = {C:g}: margin width {model['width']:.3f}, {len(model['support'])} support vectors")

# %% Figure 2: the dual solution, alpha_i against the margin y_i f(x_i)
model = models[1.0]
m = y * decision_function(model, X)
alpha = model["alpha"]
fig, ax = plt.subplots(figsize=(6, 3.6))
zero, free, bound = alpha < 1e-6, (alpha >= 1e-6) & (alpha <= 1 - 1e-6), alpha > 1 - 1e-6
ax.scatter(m[zero], alpha[zero], marker="o", s=22, color=COLORS[0], label="alpha = 0 (margin > 1)")
ax.scatter(m[free], alpha[free], marker="s", s=30, color=COLORS[1], label="0 < alpha < C (margin = 1)")
ax.scatter(m[bound], alpha[bound], marker="^", s=30, color=COLORS[2], label="alpha = C (margin < 1)")
ax.axvline(1, color="gray", linestyle="dashed", linewidth=1)
ax.set_xlabel("margin $y_i f(\\mathbf{x}_i)$")
ax.set_ylabel("$\\alpha_i$ (C = 1)")
ax.legend(fontsize=8)
fig.tight_layout()
print(f"C = 1: {zero.sum()} with alpha = 0, {free.sum()} between 0 and C, {bound.sum()} at C")

# %% Figure 3: a disk inside a ring, with a linear, a polynomial and an RBF kernel
X, y, results = kernel_experiment()
g0, g1, grid = grid_of(X, 150)
fig, axes = plt.subplots(1, 3, figsize=(11, 3.8), sharex=True, sharey=True)
for ax, (name, r) in zip(axes, results.items()):
    f = decision_function(r["model"], grid).reshape(g0.shape)
    ax.contourf(g0, g1, f > 0, levels=[-0.5, 0.5, 1.5], colors=[COLORS[0], COLORS[1]], alpha=0.15)
    ax.contour(g0, g1, f, levels=[0], colors="black", linewidths=1)
    draw_classes(ax, X, y)
    ax.set_title(f"{name}: train {r['train']:.0%}, test {r['test']:.0%}", fontsize=9)
    ax.set_xlabel("$x_1$")
    print(f"{name}: {len(r['model']['support'])} support vectors, training accuracy {r['train']:.3f}, "
          f"test accuracy {r['test']:.3f}")
axes[0].set_ylabel("$x_2$")
axes[0].legend(loc="lower right", fontsize=7)
fig.tight_layout()
plt.show()
