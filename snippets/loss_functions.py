"""Loss functions for classification: why cross-entropy and not mean squared error.

Figure 1 compares the margin-based classification losses with the 0-1 loss they stand in for.
Figure 2 plots, for a sigmoid output and a positive example (y = 1), the cross-entropy
-log p and the squared error (1 - p)^2 / 2 as functions of the predicted probability p of
the true class, and their gradients with respect to the logit z (computed by autograd):
cross-entropy gives p - y, squared error gives (p - y) p (1 - p), which vanishes when the
output is confidently wrong (p -> 0).
Figure 3 trains the same logistic-regression model from a confidently wrong initialization
with each loss (plain gradient descent, gradients from the formulas on the page).
"""

# %% Imports
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

torch.manual_seed(0)

# %% Figure 1: margin-based losses as surrogates for the 0-1 loss
m = torch.linspace(-2.5, 2.5, 501, dtype=torch.float64)  # margin t * z with t = +1 or -1
fig, ax = plt.subplots(figsize=(6, 3.6))
ax.plot(m, (m <= 0).double(), color="k", lw=2, label="0-1 loss")
ax.plot(m, F.relu(1 - m), lw=1.8, label=r"hinge $\max(0, 1 - m)$")
ax.plot(m, F.softplus(-m), lw=1.8, label=r"logistic $\log(1 + e^{-m})$")
ax.plot(m, torch.exp(-m), lw=1.8, label=r"exponential $e^{-m}$")
ax.plot(m, (1 - m) ** 2, lw=1.8, ls="--", label=r"squared $(1 - m)^2$")
ax.set_ylim(0, 4)
ax.set_xlabel(r"margin $m = t z$")
ax.set_ylabel("loss")
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
fig.tight_layout()

# %% Figure 2: loss and gradient with respect to the logit, as functions of p
p = torch.linspace(0.001, 0.999, 400, dtype=torch.float64)
z = torch.log(p / (1 - p)).requires_grad_(True)  # logit, so that sigmoid(z) = p
y = torch.ones_like(p)  # a positive example: p is the probability of the true class

ce = F.binary_cross_entropy_with_logits(z, y, reduction="none")
mse = 0.5 * (torch.sigmoid(z) - y) ** 2
(ce_grad,) = torch.autograd.grad(ce.sum(), z)
(mse_grad,) = torch.autograd.grad(mse.sum(), z)

fig, (ax_loss, ax_grad) = plt.subplots(1, 2, figsize=(9, 3.4))
ax_loss.plot(p, ce.detach(), label=r"cross-entropy $-\log p$", lw=2)
ax_loss.plot(p, mse.detach(), label=r"squared error $\frac{1}{2}(1-p)^2$", lw=2)
ax_loss.set_ylim(0, 4)
ax_loss.set_xlabel("predicted probability of the true class $p$")
ax_loss.set_ylabel("loss")
ax_loss.set_title("Loss")
ax_loss.legend(fontsize=8)

ax_grad.plot(p, ce_grad.abs(), label=r"cross-entropy: $|p - y| = 1 - p$", lw=2)
ax_grad.plot(p, mse_grad.abs(), label=r"squared error: $|p - y|\,p(1-p)$", lw=2)
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
N = 200
labels = (torch.arange(N) % 2).to(torch.float64)  # 0, 1, 0, 1, ...
points = torch.randn(N, 2, dtype=torch.float64) * 0.8 + (2 * labels - 1)[:, None]
X = torch.cat([points, torch.ones(N, 1, dtype=torch.float64)], dim=1)  # last column: bias


def train(loss, lr, steps=300):
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
        w = w - lr * X.T @ delta / N
    return torch.stack(acc), torch.stack(xent)


RUNS = [
    ("cross-entropy, lr = 0.5", "ce", 0.5, "-"),
    ("squared error, lr = 0.5", "mse", 0.5, "-"),
    ("squared error, lr = 2", "mse", 2.0, "--"),
]
fig, (ax_acc, ax_ce) = plt.subplots(1, 2, figsize=(9, 3.4))
for (name, loss, lr, ls), color in zip(RUNS, ["C0", "C1", "C1"]):
    acc, xent = train(loss, lr)
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
