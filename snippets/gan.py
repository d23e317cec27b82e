"""Generative adversarial networks (GANs) on a 2-D toy problem.

1. The saturating and the non-saturating generator loss as functions of D(G(z)), and the size
   of their derivatives with respect to the discriminator's logit.
2. A GAN with two small MLPs learns a mixture of 8 Gaussians on a ring: real and generated
   points at a few training steps, over the discriminator's output D(x) drawn as contours.
3. The same GAN with a generator whose learning rate is 10 times the discriminator's: the
   generator collapses onto a few modes and hops between them; the number of modes covered
   over training for both runs.
4. The Jensen-Shannon divergence and the Earth-mover (Wasserstein-1) distance between two
   narrow Gaussians as one of them is shifted.

The numbers the page states about the figures are computed here and printed.
"""

# %% Imports, seeds and colors
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

torch.manual_seed(0)
rng = np.random.default_rng(0)  # unused here (all randomness is torch), seeded by convention
torch.set_num_threads(1)
plt.style.use("tableau-colorblind10")
# Okabe-Ito colors, safe for color-vision deficiency; every curve also has its own line style or marker
BLUE, ORANGE, GREEN, VERMILLION, GRAY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#888888"

N_MODES, RADIUS, STD = 8, 2.0, 0.1  # the data: 8 Gaussians with standard deviation STD on a ring
Z_DIM, HIDDEN, BATCH, STEPS, LR = 2, 32, 256, 600, 5e-3


# %% The data, the two networks and the losses
def ring_centers(n_modes=N_MODES, radius=RADIUS):
    angles = 2 * math.pi * torch.arange(n_modes) / n_modes
    return radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)


def sample_data(n, gen):
    """n points of the mixture: a random mode, plus Gaussian noise of standard deviation STD."""
    modes = torch.randint(0, N_MODES, (n,), generator=gen)
    return ring_centers()[modes] + STD * torch.randn(n, 2, generator=gen)


def mlp(d_in, d_out, hidden=HIDDEN):
    return torch.nn.Sequential(torch.nn.Linear(d_in, hidden), torch.nn.LeakyReLU(0.2),
                               torch.nn.Linear(hidden, hidden), torch.nn.LeakyReLU(0.2),
                               torch.nn.Linear(hidden, d_out))


# --8<-- [start:losses]
def d_loss(logit_real, logit_fake):
    """-[log D(x) + log(1 - D(G(z)))], averaged: BCE with target 1 for real, 0 for fake."""
    return (F.binary_cross_entropy_with_logits(logit_real, torch.ones_like(logit_real))
            + F.binary_cross_entropy_with_logits(logit_fake, torch.zeros_like(logit_fake)))


def g_loss_saturating(logit_fake):
    """log(1 - D(G(z))), averaged: the minimax game's generator loss (G minimizes it)."""
    return -F.binary_cross_entropy_with_logits(logit_fake, torch.zeros_like(logit_fake))


def g_loss_nonsaturating(logit_fake):
    """-log D(G(z)), averaged: the generator pretends its samples are real (target 1)."""
    return F.binary_cross_entropy_with_logits(logit_fake, torch.ones_like(logit_fake))
# --8<-- [end:losses]


class Adam:
    """Adam's update written out (as on the optimizers page), beta1 = 0.5 as in DCGAN.

    Same result as torch.optim.Adam (the formula test checks it); written by hand only because
    creating a torch.optim optimizer loads PyTorch's compiler on first use, which costs this
    short script about a second."""

    def __init__(self, params, lr, betas=(0.5, 0.999), eps=1e-8):
        self.params, self.lr, (self.beta1, self.beta2), self.eps, self.t = list(params), lr, betas, eps, 0
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]

    @torch.no_grad()
    def step(self):
        self.t += 1
        for p, m, v in zip(self.params, self.m, self.v):
            m.mul_(self.beta1).add_(p.grad, alpha=1 - self.beta1)  # first moment
            v.mul_(self.beta2).addcmul_(p.grad, p.grad, value=1 - self.beta2)  # second moment
            denom = (v / (1 - self.beta2**self.t)).sqrt_().add_(self.eps)
            p.addcdiv_(m, denom, value=-self.lr / (1 - self.beta1**self.t))

    def zero_grad(self):
        for p in self.params:
            p.grad = None


def grid(n=81, limit=3.0):
    """An n x n grid on [-limit, limit]^2, and its points as rows: where Figure 2 draws D(x)."""
    gx, gy = torch.meshgrid(torch.linspace(-limit, limit, n), torch.linspace(-limit, limit, n), indexing="xy")
    return gx, gy, torch.stack([gx.ravel(), gy.ravel()], dim=1)


def modes_covered(x, min_fraction=0.01):
    """Number of modes that receive at least min_fraction of the points x within 3 STD of their center."""
    dist = torch.cdist(x, ring_centers())
    near = dist.min(dim=1).values < 3 * STD
    counts = torch.bincount(dist.argmin(dim=1)[near], minlength=N_MODES)
    return int((counts >= min_fraction * len(x)).sum())


# %% Training in alternation: one discriminator step, then one generator step
# --8<-- [start:train]
def train_gan(lr_d=LR, lr_g=LR, k=1, g_loss=g_loss_nonsaturating, steps=STEPS, seed=0,
              record_every=50, snapshots=()):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    G, D = mlp(Z_DIM, 2), mlp(2, 1)
    opt_g, opt_d = Adam(G.parameters(), lr_g), Adam(D.parameters(), lr_d)
    z_eval = torch.randn(2000, Z_DIM, generator=gen)  # fixed noise to watch G's samples
    history, frames = [], {}
    grid_x, _, grid_points = grid()
    for step in range(steps + 1):
        if step % record_every == 0 or step in snapshots:
            with torch.no_grad():
                x_gen = G(z_eval)
                history.append((step, modes_covered(x_gen)))
                if step in snapshots:  # G's samples and D(x) on the figure's grid
                    frames[step] = (x_gen, torch.sigmoid(D(grid_points)).reshape(grid_x.shape))
        if step == steps:
            break
        for _ in range(k):  # k discriminator steps: maximize V, i.e. minimize d_loss
            x_real = sample_data(BATCH, gen)
            with torch.no_grad():
                x_fake = G(torch.randn(BATCH, Z_DIM, generator=gen))
            opt_d.zero_grad()
            logits = D(torch.cat([x_real, x_fake]))  # one pass over both halves
            d_loss(logits[:BATCH], logits[BATCH:]).backward()
            opt_d.step()
        opt_g.zero_grad()  # one generator step, through D (whose gradients are discarded)
        g_loss(D(G(torch.randn(BATCH, Z_DIM, generator=gen)))).backward()
        opt_g.step()
    return history, frames
# --8<-- [end:train]


# %% Densities for Figure 4: the JSD by numerical integration, and W1 of a shifted Gaussian
def gaussian_pdf(x, mean, std):
    return np.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


def jsd(p, q, dx):
    """Jensen-Shannon divergence (nats) of two densities on a uniform grid of spacing dx."""
    m = 0.5 * (p + q)

    def kl(a, b):  # integral of a log(a / b), with 0 log 0 = 0
        mask = a > 0
        return np.sum(a[mask] * np.log(a[mask] / b[mask])) * dx

    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


# %% Figure 1: saturating vs non-saturating generator loss, and their gradients
d_fake = torch.linspace(1e-3, 1 - 1e-3, 999, requires_grad=False)
logit = torch.logit(d_fake).requires_grad_(True)
saturating = torch.log1p(-torch.sigmoid(logit))  # log(1 - D(G(z)))
nonsaturating = -torch.log(torch.sigmoid(logit))  # -log D(G(z))
(grad_sat,) = torch.autograd.grad(saturating.sum(), logit)
(grad_ns,) = torch.autograd.grad(nonsaturating.sum(), logit)
fig, (ax_loss, ax_grad) = plt.subplots(1, 2, figsize=(9, 3.4))
ax_loss.plot(d_fake, saturating.detach(), color=BLUE, ls="-", label=r"saturating: $\log(1 - D(G(z)))$")
ax_loss.plot(d_fake, nonsaturating.detach(), color=VERMILLION, ls="--", label=r"non-saturating: $-\log D(G(z))$")
ax_loss.set_ylim(-5, 5), ax_loss.set_xlabel("D(G(z))"), ax_loss.set_ylabel("generator loss (minimized)")
ax_loss.legend(fontsize=8)
ax_grad.plot(d_fake, grad_sat.abs(), color=BLUE, ls="-", label="saturating")
ax_grad.plot(d_fake, grad_ns.abs(), color=VERMILLION, ls="--", label="non-saturating")
ax_grad.set_xlabel("D(G(z))"), ax_grad.set_ylabel("|derivative w.r.t. the logit of D|")
ax_grad.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% Train a healthy GAN and one whose generator is 10x faster
SNAPSHOTS = (0, 100, 300, 600)
healthy, healthy_frames = train_gan(snapshots=SNAPSHOTS)
collapsed, collapsed_frames = train_gan(lr_g=10 * LR, snapshots=(400, 500, 600))
print("modes covered at the end: healthy", healthy[-1][1], "| generator 10x faster", collapsed[-1][1])
print("most modes covered after step 300 by the collapsing run:", max(m for s, m in collapsed if s >= 300))

# %% Figure 2: real and generated points over training, with D(x) as contours
x_real = sample_data(1000, torch.Generator().manual_seed(1))
GRID_X, GRID_Y, _ = grid()
fig, axes = plt.subplots(1, len(SNAPSHOTS), figsize=(13, 3.4), sharey=True, dpi=72)  # dpi: the rasterized fills and points only
for ax, step in zip(axes, SNAPSHOTS):
    x_gen, d_of_x = healthy_frames[step]
    filled = ax.contourf(GRID_X, GRID_Y, d_of_x, levels=np.linspace(0, 1, 11), cmap="PuOr_r", alpha=0.45, rasterized=True)
    ax.contour(GRID_X, GRID_Y, d_of_x, levels=[0.5], colors=GRAY, linestyles="--", linewidths=1)
    ax.scatter(*x_real.T, s=4, marker="o", color=BLUE, label="real data", rasterized=True)
    ax.scatter(*x_gen[:500].T, s=10, marker="x", color=VERMILLION, linewidths=0.8, label="generated G(z)", rasterized=True)
    ax.set_title(f"step {step}: {modes_covered(x_gen)} modes", fontsize=10)
    ax.set_xlim(-3, 3), ax.set_ylim(-3, 3), ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
axes[0].set_ylabel("$x_2$")
axes[0].legend(loc="lower left", fontsize=7)
fig.colorbar(filled, ax=axes, shrink=0.8, label="discriminator output D(x)")
plt.show()

# %% Figure 3: mode collapse next to a healthy run
fig, (ax_ok, ax_bad, ax_modes) = plt.subplots(1, 3, figsize=(12, 3.8), dpi=72)
ax_ok.scatter(*x_real.T, s=4, marker="o", color=BLUE, label="real data", rasterized=True)
ax_ok.scatter(*healthy_frames[600][0][:500].T, s=10, marker="x", color=VERMILLION, linewidths=0.8,
              label="generated, step 600", rasterized=True)
ax_ok.set_title(f"healthy: {healthy[-1][1]} of 8 modes")
ax_bad.scatter(*x_real.T, s=4, marker="o", color=BLUE, label="real data", rasterized=True)
for step, marker, color in [(400, "^", GREEN), (500, "s", ORANGE), (600, "x", VERMILLION)]:
    x_gen = collapsed_frames[step][0][:500]
    ax_bad.scatter(*x_gen.T, s=10, marker=marker, color=color, linewidths=0.8, alpha=0.7,
                   label=f"generated, step {step}", rasterized=True)
ax_bad.set_title(f"generator 10x faster: {collapsed[-1][1]} of 8 modes")
for ax in (ax_ok, ax_bad):
    ax.set_xlim(-3, 3), ax.set_ylim(-3, 3), ax.set_aspect("equal")
    ax.set_xlabel("$x_1$"), ax.set_ylabel("$x_2$")
ax_ok.legend(loc="lower left", fontsize=7)
ax_bad.legend(loc="upper right", fontsize=6)
steps_h, modes_h = zip(*healthy)
steps_c, modes_c = zip(*collapsed)
ax_modes.plot(steps_h, modes_h, color=BLUE, ls="-", marker="o", ms=3, label="healthy (equal rates)")
ax_modes.plot(steps_c, modes_c, color=VERMILLION, ls="--", marker="^", ms=3, label="generator 10x faster")
ax_modes.set_xlabel("training step"), ax_modes.set_ylabel("modes covered (of 8)")
ax_modes.set_ylim(-0.3, 8.5), ax_modes.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% Figure 4: JSD vs Earth-mover distance between N(0, s^2) and N(theta, s^2)
s = 0.1
x = np.linspace(-3, 4, 14001)
thetas = np.linspace(-1, 1, 201)
jsds = np.array([jsd(gaussian_pdf(x, 0, s), gaussian_pdf(x, t, s), x[1] - x[0]) for t in thetas])
w1 = np.abs(thetas)  # moving all the mass by theta costs |theta|
print(f"JSD at theta = 1: {jsds[-1]:.4f} nats; at |theta| = 0.5: {jsds[np.isclose(thetas, 0.5)][0]:.4f} nats (log 2 = {math.log(2):.4f})")
fig, ax = plt.subplots(figsize=(5.5, 3.4))
ax.plot(thetas, jsds, color=BLUE, ls="-", label="Jensen-Shannon divergence (nats)")
ax.plot(thetas, w1, color=VERMILLION, ls="--", label="Earth-mover distance $W_1$")
ax.axhline(math.log(2), color=GRAY, ls=":", lw=1, label=r"$\log 2$")
ax.set_xlabel(r"shift $\theta$ of the generated distribution"), ax.set_ylabel("distance")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
