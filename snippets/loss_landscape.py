"""The loss landscape: critical points, saddle points, convexity and a small network's loss surface.

Two figures, all on synthetic problems:

1. A 1-D non-convex function with a local minimum, a global minimum and a local maximum,
   and a 2-D function with two minima and a saddle point between them. Every critical
   point is classified by the signs of the Hessian's eigenvalues (Hessian from autograd),
   and the eigenvectors are drawn at the saddle.
2. The loss of a small tanh MLP trained on a synthetic two-class problem, seen along
   random filter-normalized directions (Li et al., 2018) around the trained minimum, and
   along the straight line from the minimum to the same network with its hidden units
   permuted: two equal minima with a barrier between them, so the loss is not convex.

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
# Okabe-Ito colors, safe for color-vision deficiency; every curve and point also has its own style or marker
BLUE, ORANGE, GREEN, VERMILLION = "#0072B2", "#E69F00", "#009E73", "#D55E00"

# %% Classify a critical point by the eigenvalues of the Hessian
# --8<-- [start:classify]
def classify_critical_point(loss_fn, theta, tol=1e-8):
    """Second-derivative test at a point where the gradient is zero."""
    H = torch.autograd.functional.hessian(loss_fn, theta)
    eigenvalues, eigenvectors = torch.linalg.eigh(H)  # H is symmetric: real eigenvalues
    if (eigenvalues > tol).all():
        kind = "local minimum"  # H positive definite
    elif (eigenvalues < -tol).all():
        kind = "local maximum"  # H negative definite
    elif (eigenvalues > tol).any() and (eigenvalues < -tol).any():
        kind = "saddle point"  # H indefinite
    else:
        kind = "degenerate: test inconclusive"  # some eigenvalue is (numerically) zero
    return kind, eigenvalues, eigenvectors
# --8<-- [end:classify]

# %% Figure 1: minima, a maximum and a saddle point
def f_1d(x):
    return x**4 / 4 - x**2 + 0.3 * x


def double_well(theta):
    """L(x, y) = (x^2 - 1)^2 + 2 (y - x/2)^2: minima at (1, 1/2) and (-1, -1/2), a saddle at 0."""
    x, y = theta[0], theta[1]
    return (x**2 - 1) ** 2 + 2 * (y - x / 2) ** 2


fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
xs = torch.linspace(-2.2, 2.1, 400)
ax1.plot(xs, f_1d(xs), color="k", lw=1.5)
roots = np.roots([1.0, 0.0, -2.0, 0.3])  # f'(x) = x^3 - 2x + 0.3 = 0
style = {"global (and local) minimum": ("s", GREEN), "local minimum": ("o", BLUE), "local maximum": ("^", VERMILLION)}
for r in sorted(roots.real):
    kind, lam, _ = classify_critical_point(lambda t: f_1d(t).sum(), torch.tensor([r]))
    is_global = kind == "local minimum" and f_1d(torch.tensor(r)) <= f_1d(torch.tensor(roots.real)).min() + 1e-12
    label = "global (and local) minimum" if is_global else kind
    marker, color = style[label]  # a square, a circle or a triangle
    ax1.plot(r, f_1d(torch.tensor(r)), marker, color=color, ms=9, label=f"{label}: $f''$ = {lam.item():.2f}")
ax1.set(xlabel=r"$\theta$", ylabel=r"$L(\theta)$", ylim=(-1.8, 1.6),
        title=r"$L(\theta) = \theta^4/4 - \theta^2 + 0.3\,\theta$")
ax1.legend(fontsize=8, loc="upper center")

gx, gy = torch.meshgrid(torch.linspace(-1.8, 1.8, 181), torch.linspace(-1.3, 1.3, 131), indexing="xy")
ax2.contour(gx, gy, double_well(torch.stack([gx, gy])), levels=np.geomspace(0.02, 12, 16),
            colors="lightgray", linewidths=0.8)
ax2.plot([-1, 1], [-0.5, 0.5], ":", color="gray", lw=1)  # segment joining the two minima
for point in [(-1.0, -0.5), (0.0, 0.0), (1.0, 0.5)]:
    theta = torch.tensor(point)
    kind, lam, vec = classify_critical_point(double_well, theta)
    if kind == "saddle point":
        ax2.plot(*point, "X", color=VERMILLION, ms=10, label="saddle point")
        for value, v in zip(lam, vec.T):  # eigenvectors are the columns
            # negative curvature: dashed arrow; positive curvature: solid arrow
            color, ls = (VERMILLION, "--") if value < 0 else (BLUE, "-")
            ax2.annotate("", xy=(point[0] + 0.55 * v[0], point[1] + 0.55 * v[1]),
                         xytext=(point[0] - 0.55 * v[0], point[1] - 0.55 * v[1]),
                         arrowprops=dict(arrowstyle="<->", color=color, lw=2, ls=ls))  # an axis: +v and -v
            ax2.text(point[0] + 0.8 * v[0], point[1] + 0.8 * v[1], rf"$\lambda = {value:.2f}$",
                     color=color, fontsize=9, ha="center", va="center", backgroundcolor="white")
    else:
        ax2.plot(*point, "o", color=GREEN, ms=9, label="minimum" if point[0] > 0 else None)
ax2.set(xlabel="$x$", ylabel="$y$", aspect="equal",
        title=r"$L(x, y) = (x^2 - 1)^2 + 2\,(y - x/2)^2$")
ax2.legend(fontsize=8, loc="lower right")
fig.tight_layout()

# %% A small MLP on a synthetic two-class problem, parameters as one flat vector
n_samples, n_hidden, weight_decay = 200, 8, 1e-3
shapes = [(n_hidden, 2), (n_hidden,), (n_hidden,), ()]  # W1, b1, w2, b2


def make_moons(n=n_samples, noise=0.2, seed=0):
    """Two interleaved, noisy half-moons in 2-D; labels 0 and 1 alternate."""
    gen = torch.Generator().manual_seed(seed)
    angle = math.pi * torch.rand(n, generator=gen)
    label = (torch.arange(n) % 2).double()
    moon_0 = torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    moon_1 = torch.stack([1 - torch.cos(angle), 0.5 - torch.sin(angle)], dim=1)
    X = torch.where(label[:, None] == 1, moon_1, moon_0) + noise * torch.randn(n, 2, generator=gen)
    return X, label


def unflatten(theta):
    """Split a (..., n_params) tensor into (W1, b1, w2, b2), keeping the leading batch dims."""
    parts, i = [], 0
    for s in shapes:
        k = math.prod(s)
        parts.append(theta[..., i:i + k].reshape(tuple(theta.shape[:-1]) + s))
        i += k
    return parts


def mlp_loss(theta, X, label):
    """Mean binary cross-entropy + weight decay; theta may carry leading batch dims."""
    W1, b1, w2, b2 = unflatten(theta)
    hidden = torch.tanh(torch.einsum("nd,...hd->...nh", X, W1) + b1[..., None, :])
    logits = torch.einsum("...nh,...h->...n", hidden, w2) + b2[..., None]
    bce = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, label.expand_as(logits), reduction="none").mean(-1)
    return bce + 0.5 * weight_decay * (theta**2).sum(-1)


def train_mlp(X, label, seed=0):
    """Minimize mlp_loss with L-BFGS from a random start; return the minimizer theta*."""
    gen = torch.Generator().manual_seed(seed)
    n_params = sum(math.prod(s) for s in shapes)
    theta = (0.5 * torch.randn(n_params, generator=gen)).requires_grad_(True)
    opt = torch.optim.LBFGS([theta], max_iter=400, history_size=20, line_search_fn="strong_wolfe",
                            tolerance_grad=1e-9, tolerance_change=1e-12)

    def closure():
        opt.zero_grad()
        loss = mlp_loss(theta, X, label)
        loss.backward()
        return loss

    opt.step(closure)
    return theta.detach()


def permuted(theta):
    """The same network with its hidden units listed in reverse order: P theta."""
    perm = torch.arange(n_hidden).flip(0)
    W1, b1, w2, b2 = unflatten(theta)
    return torch.cat([W1[perm].flatten(), b1[perm], w2[perm], b2.reshape(1)])


X, label = make_moons()
theta_star = train_mlp(X, label)

# %% Random directions, filter-normalized as in Li et al. (2018)
# --8<-- [start:filter_normalise]
def filter_normalised_direction(theta):
    """Gaussian direction; each neuron's incoming weights rescaled to that neuron's norm in theta."""
    d = torch.randn_like(theta)
    W1_d, b1_d, w2_d, b2_d = unflatten(d)  # views into d
    W1, _, w2, _ = unflatten(theta)
    W1_d *= W1.norm(dim=1, keepdim=True) / W1_d.norm(dim=1, keepdim=True)  # one row per hidden unit
    w2_d *= w2.norm() / w2_d.norm()  # the output neuron's incoming weights
    b1_d.zero_()  # biases are left unperturbed
    b2_d.zero_()
    return d
# --8<-- [end:filter_normalise]

# %% Figure 2: the MLP's loss along random directions and between two equivalent minima
def loss(theta):
    return mlp_loss(theta, X, label)


fig, (ax_2d, ax_1d, ax_perm) = plt.subplots(1, 3, figsize=(12, 3.7))
delta, eta = filter_normalised_direction(theta_star), filter_normalised_direction(theta_star)
alpha = torch.linspace(-1, 1, 41)
A, B = torch.meshgrid(alpha, alpha, indexing="xy")
surface = loss(theta_star + A[..., None] * delta + B[..., None] * eta)
cs = ax_2d.contour(A, B, surface, levels=np.geomspace(surface.min().item(), surface.max().item(), 14),
                   cmap="viridis", linewidths=1)
ax_2d.plot(0, 0, "k*", ms=10)
ax_2d.set(xlabel=r"$\alpha$", ylabel=r"$\beta$", aspect="equal",
          title=r"$L(\theta^\star + \alpha\delta + \beta\eta)$")

alpha = torch.linspace(-1, 1, 201)
for k, (color, ls) in enumerate([(BLUE, "-"), (ORANGE, "--"), (GREEN, ":")]):
    d = filter_normalised_direction(theta_star)
    ax_1d.plot(alpha, loss(theta_star + alpha[:, None] * d), color=color, ls=ls, lw=1.5,
               label=f"direction {k + 1}")
ax_1d.set(xlabel=r"$\alpha$", ylabel="loss", title=r"$L(\theta^\star + \alpha d)$, random $d$")
ax_1d.legend(fontsize=8)

# the straight line from theta* to P theta*: a different point with the same loss
theta_perm = permuted(theta_star)
t = torch.linspace(-0.2, 1.2, 141)
path = loss((1 - t[:, None]) * theta_star + t[:, None] * theta_perm)
ends = torch.stack([loss(theta_star), loss(theta_perm)])
ax_perm.plot(t, path, color="k", lw=1.5, label=r"$L((1-t)\,\theta^\star + t\,P\theta^\star)$")
ax_perm.plot([0, 1], ends, "--", color=ORANGE, label="chord (a convex $L$ stays below it)")
ax_perm.plot([0, 1], ends, "o", color=GREEN, ms=8)
ax_perm.set(xlabel="$t$", ylabel="loss", title="Minimum to its hidden-unit permutation")
ax_perm.legend(fontsize=8, loc="upper left")
fig.tight_layout()
print(f"Figure 2: loss at theta* {ends[0].item():.3f} and at P theta* {ends[1].item():.3f}; "
      f"largest loss on the segment between them {path.max().item():.3f}")

plt.show()
