"""Gradient descent and the learning rate.

Three experiments, all on synthetic problems:

1. Plain gradient descent on the 1-D quadratic L(theta) = h * theta**2 / 2 with a
   learning rate that is too small, good, too large (oscillating) and past the
   divergence threshold 2 / h.
2. Full-batch gradient descent versus mini-batch SGD (torch.optim.SGD) on a small
   linear-regression problem: progress per epoch and per update.
3. Gradient descent on an ill-conditioned 2-D quadratic: the zig-zag across the
   ravine, and how the condition number sets the speed of convergence.
"""

# %% Imports and seeds
import math

import matplotlib.pyplot as plt
import numpy as np
import torch

torch.manual_seed(0)
rng = np.random.default_rng(0)  # unused here (all randomness is torch), seeded by convention
torch.set_default_dtype(torch.float64)


# %% Gradient descent by hand, with the gradient from autograd
# --8<-- [start:gd_loop]
def gradient_descent(loss_fn, theta0, lr, steps):
    """Run theta <- theta - lr * grad L(theta); return all iterates and losses."""
    theta = theta0.clone().requires_grad_(True)
    thetas, losses = [], []
    for _ in range(steps):
        loss = loss_fn(theta)
        thetas.append(theta.detach().clone())
        losses.append(loss.item())
        (grad,) = torch.autograd.grad(loss, theta)  # g = grad L(theta_t)
        with torch.no_grad():
            theta -= lr * grad  # theta_{t+1} = theta_t - lr * g
    return torch.stack(thetas), np.array(losses)
# --8<-- [end:gd_loop]


# %% Figure 1: learning rate too small / good / too large / diverging on L = h theta^2 / 2
h = 1.0  # curvature; GD converges iff 0 < lr < 2 / h = 2


def quadratic_1d(theta):
    return 0.5 * h * (theta**2).sum()


steps = 30
settings = [  # (lr, label, style)
    (0.05, r"too small: $\eta h = 0.05$", dict(color="tab:blue")),
    (0.5, r"good: $\eta h = 0.5$", dict(color="tab:green")),
    (1.95, r"too large: $\eta h = 1.95$", dict(color="tab:orange", ls="--", marker="o", ms=3)),
    (2.05, r"diverges: $\eta h = 2.05$", dict(color="tab:red")),
]
fig, (ax_loss, ax_theta) = plt.subplots(1, 2, figsize=(9, 3.4))
for lr, label, style in settings:
    thetas, losses = gradient_descent(quadratic_1d, torch.tensor([1.0]), lr, steps)
    ax_loss.semilogy(losses, label=label, **style)
    ax_theta.plot(thetas[:, 0].numpy(), label=label, **style)
ax_loss.set(xlabel="iteration $t$", ylabel=r"loss $L(\theta_t)$", title="Loss (log scale)")
ax_theta.set(xlabel="iteration $t$", ylabel=r"$\theta_t$", ylim=(-2.5, 2.5),
             title=r"Iterates $\theta_t = (1-\eta h)^t\,\theta_0$")
ax_theta.axhline(0.0, color="gray", lw=0.8)
ax_loss.legend(fontsize=8, loc="lower left")
fig.tight_layout()


# %% Figure 2: full-batch GD vs mini-batch SGD on linear regression (torch.optim.SGD)
n_samples, n_features, noise = 1024, 10, 0.5
X = torch.randn(n_samples, n_features)
w_true = torch.randn(n_features)
y = X @ w_true + 1.0 + noise * torch.randn(n_samples)
X1 = torch.cat([X, torch.ones(n_samples, 1)], dim=1)
best_loss = 0.5 * ((X1 @ torch.linalg.lstsq(X1, y).solution - y) ** 2).mean().item()


def full_loss(w, b):
    return 0.5 * ((X @ w + b - y) ** 2).mean()


# --8<-- [start:minibatch_sgd]
def train(batch_size, lr=0.05, epochs=12, seed=0):
    """Mini-batch SGD with torch.optim.SGD; batch_size = n_samples is full-batch GD."""
    gen = torch.Generator().manual_seed(seed)
    w = torch.zeros(n_features, requires_grad=True)
    b = torch.zeros((), requires_grad=True)
    opt = torch.optim.SGD([w, b], lr=lr)  # no momentum: plain theta - lr * g
    history = [full_loss(w, b).item()]
    for _ in range(epochs):
        perm = torch.randperm(n_samples, generator=gen)  # reshuffle every epoch
        for i0 in range(0, n_samples, batch_size):  # ceil(N / B) iterations
            idx = perm[i0:i0 + batch_size]
            loss = 0.5 * ((X[idx] @ w + b - y[idx]) ** 2).mean()  # mini-batch loss
            opt.zero_grad()
            loss.backward()  # g = mean of per-example gradients in the batch
            opt.step()  # theta <- theta - lr * g
            with torch.no_grad():
                history.append(full_loss(w, b).item())
    return np.array(history)
# --8<-- [end:minibatch_sgd]


fig, (ax_epoch, ax_iter) = plt.subplots(1, 2, figsize=(9, 3.4))
for batch_size, color, label, z in [(8, "tab:red", "mini-batch B = 8", 1),
                                    (64, "tab:blue", "mini-batch B = 64", 2),
                                    (n_samples, "k", f"full batch B = N = {n_samples}", 3)]:
    excess = train(batch_size) - best_loss  # excess[t] = after t updates
    iters_per_epoch = math.ceil(n_samples / batch_size)
    updates = np.arange(len(excess))
    ax_epoch.semilogy(updates / iters_per_epoch, excess, color=color, lw=1.2, label=label, zorder=z)
    ax_iter.loglog(updates[1:], excess[1:], color=color, lw=1.2, label=label, zorder=z)
ax_epoch.set(xlabel="epochs (passes over the data)", ylabel=r"$L(\theta) - L^\star$",
             title=r"Per epoch (same $\eta = 0.05$)")
ax_iter.set(xlabel="iterations (parameter updates)", ylabel=r"$L(\theta) - L^\star$",
            title="Per update")
ax_epoch.legend(fontsize=8)
fig.tight_layout()


# %% Figure 3: zig-zag on an ill-conditioned quadratic, and the effect of the condition number
def make_quadratic(lam_flat, lam_steep):
    """L(x, y) = (lam_flat * x^2 + lam_steep * y^2) / 2, minimum at the origin."""
    lam = torch.tensor([lam_flat, lam_steep])
    return lambda theta: 0.5 * (lam * theta**2).sum()


lam_min, lam_max = 1.0, 10.0  # condition number kappa = 10
ravine = make_quadratic(lam_min, lam_max)
start = torch.tensor([-9.0, 2.0])
fig, (ax_path, ax_rate) = plt.subplots(1, 2, figsize=(9, 3.6))
xs, ys = np.meshgrid(np.linspace(-10, 2, 200), np.linspace(-3, 3, 120))
ax_path.contour(xs, ys, 0.5 * (lam_min * xs**2 + lam_max * ys**2),
                levels=np.geomspace(0.05, 80, 12), colors="lightgray", linewidths=0.8)
for lr, color in [(0.19, "tab:red"), (0.05, "tab:blue")]:
    path, _ = gradient_descent(ravine, start, lr, 25)
    ax_path.plot(path[:, 0], path[:, 1], "o-", color=color, ms=3, lw=1,
                 label=rf"$\eta = {lr}$  ($\eta\lambda_{{\max}} = {lr * lam_max:.1f}$)")
ax_path.plot(0, 0, "k*", ms=10)
ax_path.set(xlabel=r"$\theta_1$ (flat, $\lambda_{\min}=1$)", ylabel=r"$\theta_2$ (steep, $\lambda_{\max}=10$)",
            title="25 GD steps in a ravine", aspect="equal")
ax_path.legend(fontsize=8, loc="lower right")

for kappa, color in [(2.0, "tab:green"), (10.0, "tab:orange"), (100.0, "tab:red")]:
    lr_best = 2.0 / (kappa + 1.0)  # 2 / (lam_max + lam_min) with lam_min = 1
    path, _ = gradient_descent(make_quadratic(1.0, kappa), torch.tensor([1.0, 1.0]), lr_best, 60)
    t = np.arange(len(path))
    ax_rate.semilogy(t, path.norm(dim=1), color=color, label=rf"$\kappa = {kappa:.0f}$")
    ax_rate.semilogy(t, math.sqrt(2) * ((kappa - 1) / (kappa + 1)) ** t, ":", color="k", lw=1)
ax_rate.set(xlabel="iteration $t$", ylabel=r"$\|\theta_t - \theta^\star\|$", ylim=(1e-12, 3),
            title=r"Best fixed $\eta = 2/(\lambda_{\max}+\lambda_{\min})$")
ax_rate.legend(fontsize=8, title=r"dotted: $((\kappa-1)/(\kappa+1))^t$", title_fontsize=8)
fig.tight_layout()

plt.show()
