"""Gradient descent and the learning rate.

Three experiments, all on synthetic problems:

1. Plain gradient descent on the 1-D quadratic L(theta) = h * theta**2 / 2 with a
   learning rate that is too small, good, too large (oscillating) and past the
   divergence threshold 2 / h.
2. Full-batch gradient descent versus mini-batch SGD (torch.optim.SGD) on a small
   linear-regression problem: progress per epoch and per update.
3. Gradient descent on an ill-conditioned 2-D quadratic: the zig-zag across the
   ravine, and how the condition number sets the speed of convergence.

The numbers the page states about the figures are computed here and printed.
"""

# %% Imports, seeds and colors
import math

import matplotlib.pyplot as plt
import numpy as np
import torch

torch.manual_seed(0)
rng = np.random.default_rng(0)  # unused here (all randomness is torch), seeded by convention
torch.set_default_dtype(torch.float64)
# Okabe-Ito colors, safe for color-vision deficiency; every curve also has its own line style or marker
BLUE, ORANGE, GREEN, VERMILLION = "#0072B2", "#E69F00", "#009E73", "#D55E00"

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
settings = [  # (lr, label, style): each curve has its own line style, and a marker where curves overlap
    (0.05, r"too small: $\eta h = 0.05$", dict(color=BLUE, ls="-")),
    (0.5, r"good: $\eta h = 0.5$", dict(color=GREEN, ls="-.")),
    (1.95, r"too large: $\eta h = 1.95$", dict(color=ORANGE, ls="--", marker="o", ms=3)),
    (2.05, r"diverges: $\eta h = 2.05$", dict(color=VERMILLION, ls=":", marker="^", ms=3)),
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
print("Figure 1: |1 - eta h| for the too-small and too-large rates:",
      [round(abs(1 - lr * h), 2) for lr, _, _ in settings[::2]])

# %% Figure 2: full-batch GD vs mini-batch SGD on linear regression (torch.optim.SGD)
def make_regression(n_samples=1024, n_features=10, noise=0.5, seed=0):
    """Synthetic data y = X w_true + 1 + noise, and the smallest possible loss L* (least squares)."""
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n_samples, n_features, generator=gen)
    w_true = torch.randn(n_features, generator=gen)
    y = X @ w_true + 1.0 + noise * torch.randn(n_samples, generator=gen)
    X1 = torch.cat([X, torch.ones(n_samples, 1)], dim=1)  # a column of ones for the bias
    best_loss = 0.5 * ((X1 @ torch.linalg.lstsq(X1, y).solution - y) ** 2).mean().item()
    return X, y, best_loss


# --8<-- [start:minibatch_sgd]
def train(X, y, batch_size, lr=0.05, epochs=12, seed=0):
    """Mini-batch SGD with torch.optim.SGD; batch_size = len(X) is full-batch GD.
    Returns the loss on all the data before the first update and after every update."""
    n_samples, n_features = X.shape
    gen = torch.Generator().manual_seed(seed)
    w = torch.zeros(n_features, requires_grad=True)
    b = torch.zeros((), requires_grad=True)
    opt = torch.optim.SGD([w, b], lr=lr)  # no momentum: plain theta - lr * g

    def full_loss():
        with torch.no_grad():
            return 0.5 * ((X @ w + b - y) ** 2).mean().item()

    history = [full_loss()]
    for _ in range(epochs):
        perm = torch.randperm(n_samples, generator=gen)  # reshuffle every epoch
        for i0 in range(0, n_samples, batch_size):  # ceil(N / B) iterations
            idx = perm[i0:i0 + batch_size]
            loss = 0.5 * ((X[idx] @ w + b - y[idx]) ** 2).mean()  # mini-batch loss
            opt.zero_grad()
            loss.backward()  # g = mean of per-example gradients in the batch
            opt.step()  # theta <- theta - lr * g
            history.append(full_loss())
    return np.array(history)
# --8<-- [end:minibatch_sgd]


def batch_size_experiment(batch_sizes=(8, 64, 1024), lr=0.05, epochs=12):
    """Excess loss L(theta) - L* after every update, for each batch size, on the same data."""
    X, y, best_loss = make_regression()
    return {B: train(X, y, B, lr, epochs) - best_loss for B in batch_sizes}, len(X)


def batch_size_numbers(excess, n_samples):
    """What Figure 2's caption states: the excess loss after one epoch, its mean over the last
    epoch, and how far (relatively) each mini-batch run is from the full batch, update for update,
    over the updates the full batch makes."""
    full = excess[n_samples]
    numbers = {}
    for B, e in excess.items():
        per_epoch = math.ceil(n_samples / B)
        updates = np.arange(1, len(full))
        numbers[B] = dict(after_one_epoch=e[per_epoch], last_epoch_mean=e[-per_epoch:].mean(),
                          max_gap_to_full=np.abs(e[updates] / full[updates] - 1).max())
    return numbers


excess, n_samples = batch_size_experiment()
fig, (ax_epoch, ax_iter) = plt.subplots(1, 2, figsize=(9, 3.4))
styles = {8: dict(color=VERMILLION, ls="-", lw=1.0, zorder=1),
          64: dict(color=BLUE, ls="--", lw=1.2, zorder=2),
          n_samples: dict(color="k", ls="-", marker="o", ms=3, lw=1.2, zorder=3)}  # one circle per update
for B, e in excess.items():
    label = f"full batch B = N = {B}" if B == n_samples else f"mini-batch B = {B}"
    updates = np.arange(len(e))
    ax_epoch.semilogy(updates / math.ceil(n_samples / B), e, label=label, **styles[B])
    ax_iter.loglog(updates[1:], e[1:], label=label, **styles[B])
ax_epoch.set(xlabel="epochs (passes over the data)", ylabel=r"$L(\theta) - L^\star$",
             title=r"Per epoch (same $\eta = 0.05$)")
ax_iter.set(xlabel="iterations (parameter updates)", ylabel=r"$L(\theta) - L^\star$",
            title="Per update")
ax_epoch.legend(fontsize=8)
fig.tight_layout()
for B, v in batch_size_numbers(excess, n_samples).items():
    print(f"Figure 2, B = {B}: after one epoch {v['after_one_epoch']:.3g}, "
          f"mean over the last epoch {v['last_epoch_mean']:.2g}, "
          f"largest gap to the full batch over its {len(excess[n_samples]) - 1} updates {v['max_gap_to_full']:.0%}")

# %% Figure 3: zig-zag on an ill-conditioned quadratic, and the effect of the condition number
def make_quadratic(lam_flat, lam_steep):
    """L(x, y) = (lam_flat * x^2 + lam_steep * y^2) / 2, minimum at the origin."""
    lam = torch.tensor([lam_flat, lam_steep])
    return lambda theta: 0.5 * (lam * theta**2).sum()


def steps_to_shrink(kappa, factor):
    """Steps of GD at the best fixed rate until the error is `factor` times its start, in the worst
    case: ln(1/factor) / ln((kappa + 1)/(kappa - 1)), rounded up."""
    return math.ceil(math.log(1 / factor) / math.log((kappa + 1) / (kappa - 1)))


lam_min, lam_max = 1.0, 10.0  # condition number kappa = 10
ravine = make_quadratic(lam_min, lam_max)
start = torch.tensor([-9.0, 2.0])
fig, (ax_path, ax_rate) = plt.subplots(1, 2, figsize=(9, 3.6))
xs, ys = np.meshgrid(np.linspace(-10, 2, 200), np.linspace(-3, 3, 120))
ax_path.contour(xs, ys, 0.5 * (lam_min * xs**2 + lam_max * ys**2),
                levels=np.geomspace(0.05, 80, 12), colors="lightgray", linewidths=0.8)
for lr, style in [(0.19, dict(color=VERMILLION, ls="-", marker="o")),
                  (0.05, dict(color=BLUE, ls="--", marker="s"))]:
    path, _ = gradient_descent(ravine, start, lr, 25)
    ax_path.plot(path[:, 0], path[:, 1], ms=3, lw=1, **style,
                 label=rf"$\eta = {lr}$  ($\eta\lambda_{{\max}} = {lr * lam_max:.1f}$)")
ax_path.plot(0, 0, "k*", ms=10)
ax_path.set(xlabel=r"$\theta_1$ (flat, $\lambda_{\min}=1$)", ylabel=r"$\theta_2$ (steep, $\lambda_{\max}=10$)",
            title="25 GD steps in a ravine", aspect="equal")
ax_path.legend(fontsize=8, loc="lower right")

for kappa, style in [(2.0, dict(color=GREEN, ls="-")), (10.0, dict(color=ORANGE, ls="--")),
                     (100.0, dict(color=VERMILLION, ls="-."))]:
    lr_best = 2.0 / (kappa + 1.0)  # 2 / (lam_max + lam_min) with lam_min = 1
    path, _ = gradient_descent(make_quadratic(1.0, kappa), torch.tensor([1.0, 1.0]), lr_best, 60)
    t = np.arange(len(path))
    ax_rate.semilogy(t, path.norm(dim=1), label=rf"$\kappa = {kappa:.0f}$", **style)
    ax_rate.semilogy(t, math.sqrt(2) * ((kappa - 1) / (kappa + 1)) ** t, ":", color="k", lw=1)
ax_rate.set(xlabel="iteration $t$", ylabel=r"$\|\theta_t - \theta^\star\|$", ylim=(1e-12, 3),
            title=r"Best fixed $\eta = 2/(\lambda_{\max}+\lambda_{\min})$")
ax_rate.legend(fontsize=8, title=r"dotted: $((\kappa-1)/(\kappa+1))^t$", title_fontsize=8)
fig.tight_layout()
print("Figure 3: steps to shrink the error by 1e-6 at the best fixed rate:",
      {kappa: steps_to_shrink(kappa, 1e-6) for kappa in (2, 10, 100)})

plt.show()
