"""The variational autoencoder (VAE) on 8x8 digits.

1. A diagram of the VAE: encoder, reparameterized sample, decoder and the two terms of the loss.
2. A VAE with a 2-D latent space trained full-batch on scikit-learn's load_digits
   (Bernoulli decoder, Gaussian encoder, standard normal prior): the latent means of the test
   set, images decoded on a grid of latent points, samples from the prior and an interpolation.
3. The two terms of the ELBO over training, and how the weight beta on the KL term trades one
   term for the other (beta = 0.5, 1, 4).
4. The pathwise (reparameterized) and the score-function gradient estimators side by side.

The numbers the page states about the figures are computed here and printed.
"""

# %% Imports, seeds and data
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.patches import FancyBboxPatch
from sklearn.datasets import load_digits
from torch import nn

torch.manual_seed(0)
rng = np.random.default_rng(0)  # unused here (all randomness is torch), seeded by convention
torch.set_num_threads(1)  # the tensors are tiny: extra threads only add overhead
plt.style.use("tableau-colorblind10")  # a palette safe for color-vision deficiencies; styles differ too

LATENT_DIM, HIDDEN, STEPS, LR = 2, 32, 200, 0.03


def load_data(n_test=450, seed=0):
    """load_digits scaled to [0, 1] (pixel intensity / 16); a random 450 images are the test set."""
    digits = load_digits()
    order = np.random.default_rng(seed).permutation(len(digits.target))
    test, train = order[:n_test], order[n_test:]
    x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
    return x[train], x[test], digits.target[train], digits.target[test]


x_train, x_test, y_train, y_test = load_data()
print("training and test images:", len(x_train), len(x_test))

# %% The model and its loss
# --8<-- [start:vae]
class VAE(nn.Module):
    """Gaussian encoder q(z|x) = N(mu, diag(sigma^2)), Bernoulli decoder p(x|z), prior N(0, I)."""

    def __init__(self, d=64, hidden=HIDDEN, latent=LATENT_DIM):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(d, hidden), nn.Tanh(), nn.Linear(hidden, 2 * latent))
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.Tanh(), nn.Linear(hidden, d))

    def encode(self, x):
        mu, logvar = self.encoder(x).chunk(2, dim=-1)  # the encoder outputs mu and log sigma^2
        return mu, logvar

    def decode(self, z):
        return self.decoder(z)  # logits of the 64 Bernoulli pixel probabilities


def gaussian_kl(mu, logvar):
    """KL( N(mu, diag(sigma^2)) || N(0, I) ) = 1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)."""
    return 0.5 * (mu**2 + logvar.exp() - 1.0 - logvar).sum(dim=-1)


def elbo_terms(model, x, generator=None):
    """Per-example reconstruction term -log p(x|z) (one sample z ~ q(z|x)) and KL term."""
    mu, logvar = model.encode(x)
    eps = torch.randn(mu.shape, generator=generator)  # eps ~ N(0, I)
    z = mu + torch.exp(0.5 * logvar) * eps  # the reparameterization trick
    logits = model.decode(z)
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=-1)
    return recon, gaussian_kl(mu, logvar)  # the negative ELBO is recon + kl
# --8<-- [end:vae]


def adam_step(params, grads, m, v, t, lr=LR, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam update (the optimizers page), written out: torch.optim.Adam computes the same."""
    with torch.no_grad():
        for p, g, m_i, v_i in zip(params, grads, m, v):
            m_i.mul_(beta1).add_((1 - beta1) * g)
            v_i.mul_(beta2).add_((1 - beta2) * g * g)
            p -= lr * (m_i / (1 - beta1**t)) / ((v_i / (1 - beta2**t)).sqrt() + eps)


def train_vae(data, beta=1.0, steps=STEPS, seed=0):
    """Full-batch Adam on the mean of recon + beta * kl; returns the model and the two terms per step."""
    torch.manual_seed(seed)
    model = VAE()
    noise = torch.Generator().manual_seed(seed + 1)
    params = list(model.parameters())
    m, v = [torch.zeros_like(p) for p in params], [torch.zeros_like(p) for p in params]
    history = np.zeros((steps, 2))
    for t in range(1, steps + 1):
        recon, kl = elbo_terms(model, data, noise)
        loss = recon.mean() + beta * kl.mean()  # the negative (beta-weighted) ELBO, averaged over images
        adam_step(params, torch.autograd.grad(loss, params), m, v, t)
        history[t - 1] = recon.mean().item(), kl.mean().item()
    return model, history


def heldout_terms(model, data, samples=20, seed=123):
    """Mean reconstruction and KL terms on held-out data, the first averaged over `samples` draws of z."""
    noise = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        recon = torch.stack([elbo_terms(model, data, noise)[0] for _ in range(samples)]).mean()
        kl = gaussian_kl(*model.encode(data)).mean()
    return recon.item(), kl.item()


def constant_decoder_recon(train, test):
    """-log p(x) of the test set under the best decoder that ignores z: pixel probabilities = training mean."""
    p = train.mean(dim=0).clamp(1e-6, 1 - 1e-6).expand_as(test)
    return F.binary_cross_entropy(p, test, reduction="none").sum(dim=-1).mean().item()


# %% Train with beta = 1 (the VAE) and with beta = 0.5 and 4 (beta-VAE)
BETAS = (0.5, 1.0, 4.0)
runs = {beta: train_vae(x_train, beta) for beta in BETAS}
model, history = runs[1.0]
terms = {beta: heldout_terms(runs[beta][0], x_test) for beta in BETAS}
for beta, (rec, kl) in terms.items():
    print(f"beta = {beta}: test reconstruction {rec:.1f} nats, KL {kl:.2f} nats, negative ELBO {rec + kl:.1f}")
ignore_z = constant_decoder_recon(x_train, x_test)
print(f"decoder that ignores z: {ignore_z:.1f} nats")

# %% Figure 1: the VAE as a diagram
fig, ax = plt.subplots(figsize=(9, 2.9))
ax.set(xlim=(0, 10), ylim=(0, 3.2))
ax.axis("off")


def box(x, y, text, w=1.5, h=0.8, style="round,pad=0.05", ls="-"):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle=style, fill=False, lw=1.4, ls=ls))
    ax.text(x, y, text, ha="center", va="center", fontsize=10)


def arrow(x0, y0, x1, y1, ls="-"):
    ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops=dict(arrowstyle="->", lw=1.3, ls=ls))


box(0.7, 1.6, "input\n$\\mathbf{x}$", w=1.0)
box(2.5, 1.6, "encoder\n$q_\\phi(\\mathbf{z}\\mid\\mathbf{x})$", w=1.7)
box(4.4, 2.2, "$\\boldsymbol{\\mu}$", w=0.8, h=0.6)
box(4.4, 1.0, "$\\log\\boldsymbol{\\sigma}^2$", w=0.8, h=0.6)
box(6.1, 1.6, "$\\mathbf{z}=\\boldsymbol{\\mu}+\\boldsymbol{\\sigma}\\odot\\boldsymbol{\\varepsilon}$", w=1.9)
box(6.1, 0.3, "$\\boldsymbol{\\varepsilon}\\sim\\mathcal{N}(\\mathbf{0},\\mathbf{I})$", w=1.9, h=0.5, ls="--")
box(8.3, 1.6, "decoder\n$p_\\theta(\\mathbf{x}\\mid\\mathbf{z})$", w=1.7)
arrow(1.2, 1.6, 1.65, 1.6)
arrow(3.35, 1.8, 4.0, 2.15)
arrow(3.35, 1.4, 4.0, 1.05)
arrow(4.8, 2.15, 5.15, 1.8)
arrow(4.8, 1.05, 5.15, 1.4)
arrow(6.1, 0.55, 6.1, 1.2, ls="--")
arrow(7.05, 1.6, 7.35, 1.6)
ax.text(4.4, 2.85, r"KL term: $D_{\mathrm{KL}}(q_\phi(\mathbf{z}\mid\mathbf{x})\,\Vert\,p(\mathbf{z}))$",
        ha="center", fontsize=9)
ax.text(8.3, 2.3, r"reconstruction: $-\log p_\theta(\mathbf{x}\mid\mathbf{z})$", ha="center", fontsize=9)
ax.text(8.2, 0.45, "gradients reach $\\phi$ along the\nsolid arrows; the noise\n(dashed) needs none", ha="center",
        va="center", fontsize=8)
fig.tight_layout()

# %% Figure 2: the latent means of the test set, one digit per point
with torch.no_grad():
    mu_test, logvar_test = model.encode(x_test)
fig, ax = plt.subplots(figsize=(5.6, 5.0))
colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
for digit in range(10):
    pts = mu_test[y_test == digit].numpy()
    for x0, y0 in pts:
        ax.text(x0, y0, str(digit), color=colors[digit % len(colors)], fontsize=7, ha="center", va="center")
lim = np.abs(mu_test.numpy()).max() * 1.05
ax.set(xlim=(-lim, lim), ylim=(-lim, lim), xlabel="$\\mu_1$", ylabel="$\\mu_2$",
       title="Latent means of the test images (each drawn as its digit)")
theta_c = np.linspace(0, 2 * np.pi, 200)
for r, ls in ((1.0, "--"), (2.0, ":")):  # circles of radius 1 and 2: the prior's 1- and 2-sigma contours
    ax.plot(r * np.cos(theta_c), r * np.sin(theta_c), color="gray", ls=ls, lw=1, label=f"prior, radius {r:.0f}")
ax.set_aspect("equal")
ax.legend(loc="lower right", fontsize=8)
fig.tight_layout()
sigma_test = torch.exp(0.5 * logvar_test)
aggregate_var = mu_test.var(dim=0) + (sigma_test**2).mean(dim=0)  # variance of z over all test images
print(f"Figure 2: mean sigma {sigma_test.mean():.2f}, std of the means {mu_test.std(dim=0).numpy().round(2)}, "
      f"variance of z over the test set {aggregate_var.numpy().round(2)} (the prior has 1)")

# %% Figure 3: images decoded on a grid of latent points at quantiles of N(0, 1)
GRID = 12
quantiles = torch.distributions.Normal(0.0, 1.0).icdf(torch.linspace(0.05, 0.95, GRID))
z1, z2 = torch.meshgrid(quantiles, quantiles.flip(0), indexing="xy")  # z2 grows upward
with torch.no_grad():
    images = torch.sigmoid(model.decode(torch.stack([z1, z2], dim=-1).reshape(-1, 2)))
tiles = F.pad(images.reshape(GRID, GRID, 8, 8), (1, 1, 1, 1))  # a blank 1-pixel border around each image
canvas = tiles.permute(0, 2, 1, 3).reshape(10 * GRID, 10 * GRID)
fig, ax = plt.subplots(figsize=(5.2, 5.2))
ax.imshow(canvas.numpy(), cmap="gray_r", extent=(0, GRID, 0, GRID))
ax.set_xticks(np.arange(GRID) + 0.5, [f"{q:.1f}" for q in quantiles.tolist()], fontsize=7)
ax.set_yticks(np.arange(GRID) + 0.5, [f"{q:.1f}" for q in quantiles.tolist()], fontsize=7)
ax.set(xlabel="$z_1$", ylabel="$z_2$", title="Decoder means on a grid of N(0, 1) quantiles")
fig.tight_layout()
print(f"Figure 3: the grid spans z = {quantiles[0]:.2f} to {quantiles[-1]:.2f}")

# %% Figure 4: samples from the prior, and a path between two test images in latent space
noise = torch.Generator().manual_seed(7)
z_prior = torch.randn(10, LATENT_DIM, generator=noise)
start, end = mu_test[np.flatnonzero(y_test == 0)[0]], mu_test[np.flatnonzero(y_test == 6)[0]]
alphas = torch.linspace(0, 1, 10).unsqueeze(1)
with torch.no_grad():
    rows = [torch.sigmoid(model.decode(z)) for z in (z_prior, (1 - alphas) * start + alphas * end)]
strip = F.pad(torch.cat(rows).reshape(20, 8, 8), (1, 1, 1, 1))  # 20 images with a blank border
strip = strip.reshape(2, 10, 10, 10).permute(0, 2, 1, 3).reshape(20, 100)  # two rows of ten
fig, ax = plt.subplots(figsize=(9, 2.3))
ax.imshow(strip.numpy(), cmap="gray_r", vmin=0, vmax=1)
ax.set_xticks([])
ax.set_yticks([4.5, 14.5], ["samples from the prior", "from a test 0 to a test 6"], fontsize=8)
fig.tight_layout()

# %% Figure 5: the two terms over training (beta = 1), and the trade-off set by beta
fig, (ax_t, ax_b) = plt.subplots(1, 2, figsize=(9, 3.5))
steps = np.arange(1, STEPS + 1)
ax_t.plot(steps, history[:, 0], ls="-", label="reconstruction $-\\log p_\\theta(\\mathbf{x}\\mid\\mathbf{z})$")
ax_t.plot(steps, history[:, 1], ls="--", label="KL term")
ax_t.plot(steps, history.sum(axis=1), ls=":", label="negative ELBO (sum)")
ax_t.set(xlabel="step (full batch)", ylabel="nats per image", ylim=(0, 50), title="Training, $\\beta = 1$")
ax_t.legend(fontsize=8)
markers = {0.5: "s", 1.0: "o", 4.0: "^"}
for beta, (rec, kl) in terms.items():
    ax_b.plot([kl], [rec], ls="none", marker=markers[beta], ms=8, label=f"$\\beta = {beta:g}$")
ax_b.axhline(ignore_z, color="gray", ls="--", lw=1, label="decoder that ignores $\\mathbf{z}$")
ax_b.set(xlabel="KL term (nats)", ylabel="reconstruction term (nats)", title="Test set: the two terms against $\\beta$")
ax_b.legend(fontsize=8)
fig.tight_layout()
print(f"Figure 5: reconstruction term at step 1 {history[0, 0]:.1f} nats (64 log 2 = {64 * np.log(2):.1f}), "
      f"at step {STEPS} {history[-1, 0]:.1f}; KL term at step {STEPS} {history[-1, 1]:.2f}")

# %% The two gradient estimators of d/dmu E[z^2], z ~ N(mu, sigma^2); the true value is 2 mu
# --8<-- [start:estimators]
def pathwise_grad(mu, sigma, eps):
    """Reparameterized: z = mu + sigma * eps, d(z^2)/dmu = 2 z."""
    return 2 * (mu + sigma * eps)


def score_function_grad(mu, sigma, eps):
    """REINFORCE: f(z) * d log q(z)/dmu = z^2 * (z - mu) / sigma^2."""
    z = mu + sigma * eps
    return z**2 * (z - mu) / sigma**2
# --8<-- [end:estimators]


eps = torch.randn(100_000, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
for name, estimator in (("pathwise", pathwise_grad), ("score function", score_function_grad)):
    g = estimator(1.0, 1.0, eps)
    print(f"{name}: mean {g.mean():.3f} (true 2), variance {g.var():.2f}")

plt.show()
