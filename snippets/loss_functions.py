"""Loss functions for classification: why cross-entropy and not mean squared error.

Figure 1 compares the margin-based classification losses with the 0-1 loss they stand in for.
Figure 2 plots, for a sigmoid output and a positive example (y = 1), the cross-entropy
-log p and the squared error (1 - p)^2 / 2 as functions of the predicted probability p of
the true class, and their gradients with respect to the logit z (computed by autograd):
cross-entropy gives p - y, squared error gives (p - y) p (1 - p), which vanishes when the
output is confidently wrong (p -> 0).
Figure 3 trains the same logistic-regression model from a confidently wrong initialization
with each loss (plain gradient descent, gradients from the formulas on the page) and counts
the steps each run needs to reach 90% training accuracy.
Every curve in a panel has its own line style (or marker), so no curve is told apart by color alone.
"""

# %% Imports and the palette
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

# Okabe-Ito colors, distinguishable with any common color-vision deficiency
plt.rcParams["axes.prop_cycle"] = plt.cycler(color=["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"])
torch.manual_seed(0)

# %% Figure 1: margin-based losses as surrogates for the 0-1 loss
m = torch.linspace(-2.5, 2.5, 501, dtype=torch.float64)  # margin t * z with t = +1 or -1
fig, ax = plt.subplots(figsize=(6, 3.6))
ax.plot(m, (m <= 0).double(), "-", color="k", lw=2.5, label="0-1 loss")
ax.plot(m, F.relu(1 - m), "--", lw=1.8, label=r"hinge $\max(0, 1 - m)$")
ax.plot(m, F.softplus(-m), "-.", lw=1.8, label=r"logistic $\log(1 + e^{-m})$")
ax.plot(m, torch.exp(-m), ":", lw=2, label=r"exponential $e^{-m}$")
ax.plot(m, (1 - m) ** 2, "-", marker="o", ms=3.5, markevery=25, lw=1.2, label=r"squared $(1 - m)^2$")
ax.set_ylim(0, 4)
ax.set_xlabel(r"margin $m = t z$")
ax.set_ylabel("loss")
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
fig.tight_layout()

# %% Figure 2: loss and gradient with respect to the logit, as functions of p
def losses_and_gradients(p):
    """For y = 1 and sigmoid(z) = p: the cross-entropy and squared-error losses and their
    gradients with respect to the logit z, by autograd."""
    z = torch.log(p / (1 - p)).requires_grad_(True)  # logit, so that sigmoid(z) = p
    y = torch.ones_like(p)  # a positive example: p is the probability of the true class
    ce = F.binary_cross_entropy_with_logits(z, y, reduction="none")
    mse = 0.5 * (torch.sigmoid(z) - y) ** 2
    (ce_grad,) = torch.autograd.grad(ce.sum(), z)
    (mse_grad,) = torch.autograd.grad(mse.sum(), z)
    return ce.detach(), mse.detach(), ce_grad, mse_grad


p = torch.linspace(0.001, 0.999, 999, dtype=torch.float64)
ce, mse, ce_grad, mse_grad = losses_and_gradients(p)
peak = mse_grad.abs().argmax()
print(f"squared-error gradient: largest {mse_grad.abs()[peak]:.4f} (4/27 = {4 / 27:.4f}) at p = {p[peak]:.3f}")

fig, (ax_loss, ax_grad) = plt.subplots(1, 2, figsize=(9, 3.4))
ax_loss.plot(p, ce, "-", label=r"cross-entropy $-\log p$", lw=2)
ax_loss.plot(p, mse, "--", label=r"squared error $\frac{1}{2}(1-p)^2$", lw=2)
ax_loss.set_ylim(0, 4)
ax_loss.set_xlabel("predicted probability of the true class $p$")
ax_loss.set_ylabel("loss")
ax_loss.set_title("Loss")
ax_loss.legend(fontsize=8)

ax_grad.plot(p, ce_grad.abs(), "-", label=r"cross-entropy: $|p - y| = 1 - p$", lw=2)
ax_grad.plot(p, mse_grad.abs(), "--", label=r"squared error: $|p - y|\,p(1-p)$", lw=2)
ax_grad.axvspan(0, 0.1, color="0.85", lw=0)
ax_grad.text(0.012, 0.55, "confidently\nwrong", fontsize=8)
ax_grad.set_xlabel("predicted probability of the true class $p$")
ax_grad.set_ylabel(r"$|\partial \ell / \partial z|$ (autograd)")
ax_grad.set_title("Gradient with respect to the logit")
ax_grad.legend(fontsize=8)
for ax in (ax_loss, ax_grad):
    ax.set_xlim(0, 1)
    ax.grid(alpha=0.3)
fig.tight_layout()

# %% Figure 3: training from a confidently wrong start
def two_classes(n=200, seed=0):
    """Two 2-D Gaussian classes centered at (-1, -1) and (1, 1); inputs with a last column of ones (the bias)."""
    labels = (torch.arange(n) % 2).to(torch.float64)  # 0, 1, 0, 1, ...
    gen = torch.Generator().manual_seed(seed)
    points = torch.randn(n, 2, generator=gen, dtype=torch.float64) * 0.8 + (2 * labels - 1)[:, None]
    return torch.cat([points, torch.ones(n, 1, dtype=torch.float64)], dim=1), labels


def train(X, labels, loss, lr, steps=300):
    """Full-batch gradient descent on logistic regression; returns accuracy and cross-entropy per step."""
    w = torch.tensor([-3.0, -3.0, 0.0], dtype=torch.float64)  # points the wrong way
    acc, xent = [], []
    for _ in range(steps):
        logits = X @ w
        prob = torch.sigmoid(logits)
        acc.append(((logits > 0).double() == labels).double().mean())
        xent.append((F.softplus(logits) - labels * logits).mean())  # stable form of the BCE
        # dl/dz for each example, as derived on the page
        delta = prob - labels if loss == "ce" else (prob - labels) * prob * (1 - prob)
        w = w - lr * X.T @ delta / len(labels)
    return torch.stack(acc), torch.stack(xent)


def steps_to(acc, level=0.9):
    """The first step at which the training accuracy reaches `level`, or None if it never does."""
    reached = (acc >= level).nonzero()
    return reached[0].item() if len(reached) else None


RUNS = [  # (label, loss, learning rate, line style, color)
    ("cross-entropy, lr = 0.5", "ce", 0.5, "-", "C0"),
    ("squared error, lr = 0.5", "mse", 0.5, "--", "C1"),
    ("squared error, lr = 2", "mse", 2.0, "-.", "C1"),
]
X, labels = two_classes()
fig, (ax_acc, ax_ce) = plt.subplots(1, 2, figsize=(9, 3.4))
for name, loss, lr, ls, color in RUNS:
    acc, xent = train(X, labels, loss, lr)
    reached = steps_to(acc)
    print(f"{name}: " + (f"90% training accuracy after {reached} steps" if reached is not None
                         else f"below 90% for all {len(acc)} steps (last: {acc[-1]:.1%})"))
    ax_acc.plot(acc, ls, color=color, label=name, lw=1.8)
    ax_ce.plot(xent, ls, color=color, label=name, lw=1.8)
ax_acc.set_ylabel("training accuracy")
ax_acc.set_title("Accuracy")
ax_ce.set_yscale("log")
ax_ce.set_ylabel("cross-entropy of the predictions")
ax_ce.set_title("Cross-entropy (evaluated for every run)")
for ax in (ax_acc, ax_ce):
    ax.set_xlabel("gradient-descent step")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
fig.tight_layout()

plt.show()
