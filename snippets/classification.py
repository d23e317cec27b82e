"""Classification with linear models: logistic regression, softmax regression and margin losses.

The snippet

1. fits logistic regression to two overlapping Gaussian classes by Newton's method (IRLS) and by
   gradient descent, and draws the decision boundary, the probability contours and the
   convergence of both methods (Figure 1);
2. fits softmax regression to scikit-learn's bundled load_digits images, flattened to 64 pixels,
   and shows each class's weight vector as an 8 x 8 image (Figure 2);
3. computes softmax, cross-entropy, entropy and the KL divergence from scratch;
4. draws the 0-1, hinge, logistic and exponential losses against the margin, with the size of
   their derivatives (Figure 3).

The numbers the page states about the figures are computed here and printed.
"""

# %% Imports and data
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

plt.style.use("tableau-colorblind10")  # colors safe for color-vision deficiency; styles differ too


def make_data(n_per_class=100, seed=0):
    """Two Gaussian classes in 2-D (identity covariance, means (-1, -1) and (1, 1)), labels 0 and 1."""
    rng = np.random.default_rng(seed)
    X0 = rng.normal(size=(n_per_class, 2)) + np.array([-1.0, -1.0])
    X1 = rng.normal(size=(n_per_class, 2)) + np.array([1.0, 1.0])
    Z = np.vstack([X0, X1])
    y = np.concatenate([np.zeros(n_per_class), np.ones(n_per_class)])
    return Z, y


def design_matrix(Z):
    """X = [1, Z]: a column of ones for the intercept."""
    return np.column_stack([np.ones(len(Z)), Z])


Z, y = make_data()
X = design_matrix(Z)


# %% Logistic regression: the likelihood, its gradient and Hessian
def sigmoid(z):
    """sigma(z) = 1 / (1 + exp(-z)), computed without overflow for large |z|."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def neg_log_likelihood(X, y, beta):
    """-log L(beta) = sum_i [log(1 + exp(x_i^T beta)) - y_i x_i^T beta], from the logit (stable)."""
    eta = X @ beta
    return np.sum(np.logaddexp(0.0, eta) - y * eta)


def gradient(X, y, beta):
    """Gradient of the negative log-likelihood: -X^T (y - pi), with pi = sigmoid(X beta)."""
    return -X.T @ (y - sigmoid(X @ beta))


def hessian(X, beta):
    """Hessian of the negative log-likelihood: X^T W X with W = diag(pi_i (1 - pi_i))."""
    pi = sigmoid(X @ beta)
    return X.T @ (X * (pi * (1 - pi))[:, None])


def fit_logistic_newton(X, y, n_iter=50, tol=1e-10):
    """Newton's method, i.e. IRLS: beta <- beta + (X^T W X)^{-1} X^T (y - pi).

    Returns the coefficients and the negative log-likelihood after each iteration (index 0: start)."""
    beta = np.zeros(X.shape[1])
    history = [neg_log_likelihood(X, y, beta)]
    for _ in range(n_iter):
        step = np.linalg.solve(hessian(X, beta), -gradient(X, y, beta))
        beta = beta + step
        history.append(neg_log_likelihood(X, y, beta))
        if np.max(np.abs(step)) < tol:
            break
    return beta, np.array(history)


def irls_step(X, y, beta):
    """One IRLS step written as weighted least squares: regress the working response
    z = X beta + W^{-1} (y - pi) on X with weights w_i = pi_i (1 - pi_i)."""
    pi = sigmoid(X @ beta)
    w = pi * (1 - pi)
    z = X @ beta + (y - pi) / w
    return np.linalg.solve(X.T @ (X * w[:, None]), X.T @ (w * z))


def fit_logistic_gd(X, y, lr=0.5, n_steps=2000):
    """Gradient descent on the mean negative log-likelihood, from beta = 0.

    Returns the coefficients and the negative log-likelihood (summed) after each step."""
    beta = np.zeros(X.shape[1])
    history = [neg_log_likelihood(X, y, beta)]
    for _ in range(n_steps):
        beta = beta - lr * gradient(X, y, beta) / len(y)
        history.append(neg_log_likelihood(X, y, beta))
    return beta, np.array(history)


beta_newton, nll_newton = fit_logistic_newton(X, y)
beta_gd, nll_gd = fit_logistic_gd(X, y)
assert np.allclose(irls_step(X, y, np.zeros(3)), np.linalg.solve(hessian(X, np.zeros(3)), -gradient(X, y, np.zeros(3))))
nll_min = nll_newton[-1]
newton_iters = int(np.argmax(nll_newton - nll_min < 1e-8))  # first iteration within 1e-8 of the minimum
gd_steps = int(np.argmax(nll_gd - nll_min < 1e-8))
train_acc = np.mean((X @ beta_newton > 0) == y)
print("beta (Newton):", beta_newton.round(3), " beta (GD):", beta_gd.round(3))
print(f"Figure 1: -log L = {nll_min:.2f}; within 1e-8 after {newton_iters} Newton iterations, "
      f"{gd_steps} gradient-descent steps; training accuracy {train_acc:.3f}")


# %% Figure 1: decision boundary, probability contours and convergence
def plot_logistic(Z, y, beta, nll_newton, nll_gd, nll_min):
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax.scatter(*Z[y == 0].T, marker="o", facecolors="none", edgecolors="C0", label="class 0")
    ax.scatter(*Z[y == 1].T, marker="^", color="C1", label="class 1")
    g0, g1 = np.meshgrid(np.linspace(-4, 4, 200), np.linspace(-4, 4, 200))
    prob = sigmoid(beta[0] + beta[1] * g0 + beta[2] * g1)
    cs = ax.contour(g0, g1, prob, levels=[0.1, 0.5, 0.9], colors="k", linestyles=["dotted", "solid", "dashed"])
    ax.clabel(cs, fmt={0.1: "π = 0.1", 0.5: "π = 0.5", 0.9: "π = 0.9"}, fontsize=8)
    ax.set(xlabel="$x_1$", ylabel="$x_2$", title="Logistic regression: P(y = 1 | x) contours", aspect="equal")
    ax.legend(loc="upper left", fontsize=8)
    ax2.semilogy(nll_newton - nll_min + 1e-16, "o-", label="Newton / IRLS")
    ax2.semilogy(nll_gd - nll_min + 1e-16, "--", label="gradient descent, lr = 0.5")
    ax2.set(xlabel="iteration", ylabel="$-\\log L - \\min(-\\log L)$", xlim=(-2, 200), ylim=(1e-12, 1e3),
            title="Distance from the minimum")
    ax2.legend()
    fig.tight_layout()
    return fig


plot_logistic(Z, y, beta_newton, nll_newton, nll_gd, nll_min)


# %% Softmax, cross-entropy, entropy and KL divergence
def softmax(logits):
    """softmax(z)_k = exp(z_k) / sum_j exp(z_j) along the last axis, shifted by max(z) for stability."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(logits):
    """log softmax(z)_k = z_k - logsumexp(z)."""
    m = logits.max(axis=-1, keepdims=True)
    return logits - m - np.log(np.exp(logits - m).sum(axis=-1, keepdims=True))


def cross_entropy(logits, targets):
    """Mean cross-entropy -1/N sum_i sum_k q_ik log p_ik. targets: class indices or rows of probabilities q."""
    logp = log_softmax(logits)
    targets = np.asarray(targets)
    if targets.ndim == 1:
        return -np.mean(logp[np.arange(len(logp)), targets])
    return -np.mean(np.sum(targets * logp, axis=-1))


def entropy(q):
    """H(q) = -sum_k q_k log q_k (natural log, nats), with 0 log 0 = 0."""
    q = np.asarray(q, dtype=float)
    return -np.sum(np.where(q > 0, q * np.log(np.where(q > 0, q, 1.0)), 0.0), axis=-1)


def kl_divergence(q, p):
    """D_KL(q || p) = sum_k q_k log(q_k / p_k); infinite if some p_k = 0 where q_k > 0."""
    q, p = np.asarray(q, dtype=float), np.asarray(p, dtype=float)
    safe_q = np.where(q > 0, q, 1.0)
    with np.errstate(divide="ignore"):
        terms = np.where(q > 0, q * (np.log(safe_q) - np.log(p)), 0.0)
    return np.sum(terms, axis=-1)


q = np.array([0.7, 0.2, 0.1])
p = np.array([0.4, 0.4, 0.2])
print(f"KL(q||p) = {kl_divergence(q, p):.4f}, KL(p||q) = {kl_divergence(p, q):.4f}, "
      f"H(q) + KL(q||p) = {entropy(q) + kl_divergence(q, p):.4f} = -sum q log p = {-np.sum(q * np.log(p)):.4f}")


# %% Softmax regression on flattened digit images
def fit_softmax_regression(X, y, n_classes, lr=0.5, n_steps=300, weight_decay=1e-3):
    """Full-batch gradient descent on mean cross-entropy + (weight_decay / 2) ||W||^2.

    X: (N, d) inputs, y: (N,) class indices. Logits are X W^T + b with W of shape (C, d).
    The gradient of the mean cross-entropy with respect to the logits is (P - Y) / N."""
    N, d = X.shape
    W, b = np.zeros((n_classes, d)), np.zeros(n_classes)
    Y = np.eye(n_classes)[y]
    for _ in range(n_steps):
        G = (softmax(X @ W.T + b) - Y) / N
        W -= lr * (G.T @ X + weight_decay * W)
        b -= lr * G.sum(axis=0)
    return W, b


def digits_split(seed=0):
    """load_digits: 8 x 8 images with pixel values 0..16, flattened to 64 values and scaled to [0, 1]."""
    digits = load_digits()
    X_img = digits.images.reshape(len(digits.images), -1) / 16.0  # flatten: 8 x 8 -> 64
    return train_test_split(X_img, digits.target, test_size=0.25, random_state=seed, stratify=digits.target)


Xd_train, Xd_test, yd_train, yd_test = digits_split()
W_digits, b_digits = fit_softmax_regression(Xd_train, yd_train, 10)
digits_test_acc = np.mean(np.argmax(Xd_test @ W_digits.T + b_digits, axis=1) == yd_test)
print(f"Figure 2: softmax regression on {Xd_train.shape[0]} flattened digits; test accuracy {digits_test_acc:.3f}")


# %% Figure 2: the weights of a linear classifier as images
def plot_digit_weights(W):
    fig, axes = plt.subplots(2, 5, figsize=(9, 4))
    vmax = np.abs(W).max()
    for k, ax in enumerate(axes.flat):
        im = ax.imshow(W[k].reshape(8, 8), cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        ax.set_title(f"class {k}")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(im, ax=axes, shrink=0.8, label="weight")
    fig.suptitle("Softmax-regression weights on load_digits, one 8 x 8 image per class")
    return fig


plot_digit_weights(W_digits)


# %% Figure 3: margin-based losses against the margin m = t f(x)
def zero_one_loss(m):
    return (m <= 0).astype(float)


def hinge_loss(m):
    return np.maximum(0.0, 1.0 - m)


def logistic_loss(m):
    """log(1 + exp(-m)), divided by log 2 so that it passes through (0, 1) like the others."""
    return np.logaddexp(0.0, -m) / np.log(2.0)


def exponential_loss(m):
    return np.exp(-m)


MARGIN_LOSSES = {"0-1": zero_one_loss, "hinge": hinge_loss, "logistic / log 2": logistic_loss,
                 "exponential": exponential_loss}
# |d loss / d m| at a margin m: how hard an example pulls on the fit
PULL = {"hinge": lambda m: (m < 1).astype(float), "logistic / log 2": lambda m: sigmoid(-m) / np.log(2.0),
        "exponential": lambda m: np.exp(-m)}


def plot_margin_losses():
    m = np.linspace(-2, 3, 501)
    styles = {"0-1": "-", "hinge": "--", "logistic / log 2": "-.", "exponential": ":"}
    colors = {"0-1": "C0", "hinge": "C1", "logistic / log 2": "C2", "exponential": "C3"}
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    for name, loss in MARGIN_LOSSES.items():
        ax.plot(m, loss(m), styles[name], color=colors[name], lw=2, label=name)
    ax.set(xlabel="margin m = t f(x)", ylabel="loss", ylim=(0, 4), title="Losses of the margin")
    ax.axvline(0, color="gray", lw=0.5)
    ax.legend()
    for name, pull in PULL.items():
        ax2.plot(m, pull(m), styles[name], color=colors[name], lw=2, label=name)
    ax2.set(xlabel="margin m = t f(x)", ylabel="|d loss / d m|", ylim=(0, 4), title="Pull of one example")
    ax2.legend()
    fig.tight_layout()
    return fig


plot_margin_losses()
pull_at_minus3 = {name: float(pull(np.array(-3.0))) for name, pull in PULL.items()}
print("Figure 3: |d loss / d m| at m = -3:", {k: round(v, 2) for k, v in pull_at_minus3.items()})

plt.show()
