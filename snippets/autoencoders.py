"""Autoencoders: linear autoencoders and PCA, a 2-D latent space, denoising, and why a plain
autoencoder is not a sampler.

1. A linear autoencoder trained with squared error on synthetic 2-D and 3-D data: its decoder
   columns span the same line or plane as the top principal components (principal angle near 0),
   but they are not the principal directions themselves.
2. A small MLP autoencoder with a 2-D code on scikit-learn's load_digits (8x8 images), next to the
   first two principal component scores.
3. Reconstructions of an autoencoder with an 8-D code, and a denoising autoencoder on noisy digits.
4. Decoding random codes: draws from N(0, I) and from a Gaussian fitted to the codes fall in the
   holes of the latent space, and decode to images unlike any digit.

All models train full-batch with Adam, written out below. The numbers the page states about the
figures are computed here and printed.
"""

# %% Imports, seeds and style
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits

torch.manual_seed(0)
rng = np.random.default_rng(0)
torch.set_num_threads(1)  # the tensors are small: extra threads only add overhead
torch.set_default_dtype(torch.float64)  # training is sensitive to rounding; float64 keeps the runs reproducible
plt.style.use("tableau-colorblind10")  # colors safe for color-vision deficiency
MARKERS = ["o", "s", "^", "v", "D", "P", "X", "*", "<", ">"]  # one marker per digit

# %% Adam, full batch, written out (the update of torch.optim.Adam with its defaults)
def adam(params, loss_fn, steps, lr, betas=(0.9, 0.999), eps=1e-8, monitor=None):
    """Minimize loss_fn() over the tensors params; return the losses (and monitor() after each step)."""
    m = [torch.zeros_like(p) for p in params]  # first-moment estimates
    v = [torch.zeros_like(p) for p in params]  # second-moment estimates
    losses, monitored = [], []
    for t in range(1, steps + 1):
        loss = loss_fn()
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g, m_p, v_p in zip(params, grads, m, v):
                m_p.mul_(betas[0]).add_(g, alpha=1 - betas[0])
                v_p.mul_(betas[1]).addcmul_(g, g, value=1 - betas[1])
                m_hat = m_p / (1 - betas[0] ** t)
                v_hat = v_p / (1 - betas[1] ** t)
                p -= lr * m_hat / (v_hat.sqrt() + eps)
        losses.append(loss.item())
        if monitor is not None:
            monitored.append(monitor())
    return losses, monitored

# %% The reconstruction loss, and the principal subspace
def reconstruction_loss(X, X_hat):
    """L = (1/N) sum_i ||x_i - x_hat_i||^2: summed over the d features, averaged over the N examples."""
    return ((X - X_hat) ** 2).sum(dim=1).mean()


def pca_basis(X, q):
    """The top-q principal directions V_q (d x q) and all singular values of the centered data."""
    Xc = X - X.mean(axis=0)
    _, d, Vt = np.linalg.svd(Xc, full_matrices=False)
    return Vt[:q].T, d


def principal_angles(A, B):
    """Principal angles (radians, ascending) between the column spaces of A and B (both d x q).

    Computed from sines, the singular values of (I - Q_A Q_A^T) Q_B, which stay accurate for tiny angles.
    """
    Qa, _ = np.linalg.qr(A)
    Qb, _ = np.linalg.qr(B)
    sines = np.linalg.svd(Qb - Qa @ (Qa.T @ Qb), compute_uv=False)
    return np.sort(np.arcsin(np.clip(sines, 0.0, 1.0)))

# %% A linear autoencoder: f(x) = W_enc x + b_enc, g(z) = W_dec z + b_dec
def gaussian_data(stds, angle_seed, n=200, seed=0):
    """n points of an anisotropic Gaussian with the given standard deviations, randomly rotated and shifted."""
    gen = np.random.default_rng(seed)
    d = len(stds)
    rotation, _ = np.linalg.qr(np.random.default_rng(angle_seed).normal(size=(d, d)))
    return (gen.normal(size=(n, d)) * np.asarray(stds)) @ rotation.T + np.linspace(1.0, -1.0, d)


def train_linear_autoencoder(X, q, steps=300, lr=0.1, seed=0):
    """Fit a linear autoencoder with squared error; return (W_enc, b_enc, W_dec, b_dec), losses and angles."""
    gen = torch.Generator().manual_seed(seed)
    d = X.shape[1]
    Xt = torch.as_tensor(X)
    W_enc = (torch.randn(q, d, generator=gen, dtype=torch.float64) / math.sqrt(d)).requires_grad_()
    W_dec = (torch.randn(d, q, generator=gen, dtype=torch.float64) / math.sqrt(q)).requires_grad_()
    b_enc = torch.zeros(q, dtype=torch.float64, requires_grad=True)
    b_dec = torch.zeros(d, dtype=torch.float64, requires_grad=True)
    params = [W_enc, b_enc, W_dec, b_dec]
    V_q, _ = pca_basis(X, q)

    def loss_fn():
        Z = Xt @ W_enc.T + b_enc  # codes z = f(x)
        return reconstruction_loss(Xt, Z @ W_dec.T + b_dec)  # x_hat = g(z)

    def largest_angle():
        return principal_angles(W_dec.detach().numpy(), V_q).max()

    losses, angles = adam(params, loss_fn, steps, lr, monitor=largest_angle)
    return [p.detach() for p in params], np.array(losses), np.array(angles)


def linear_ae_experiment():
    """The two synthetic data sets, their linear autoencoders, and the numbers about them."""
    runs = {}
    for name, stds, q in (("line", (2.0, 0.5), 1), ("plane", (3.0, 1.5, 0.3), 2)):
        X = gaussian_data(stds, angle_seed=len(stds))
        params, losses, angles = train_linear_autoencoder(X, q)
        V_q, d = pca_basis(X, q)
        W_dec = params[2].numpy()
        n = len(X)
        runs[name] = dict(
            X=X, q=q, params=params, losses=losses, angles=angles, V_q=V_q,
            final_angle_deg=math.degrees(angles[-1]),
            discarded=np.sum(d[q:] ** 2) / n,  # (1/N) sum_{j > q} d_j^2: PCA's error
            # each decoder column against its closest principal direction, and the columns against each other
            column_vs_pc_deg=[math.degrees(math.acos(min(1.0, np.abs(V_q.T @ w).max() / np.linalg.norm(w))))
                              for w in W_dec.T],
        )
        if q == 2:
            w1, w2 = W_dec.T
            runs[name]["columns_deg"] = math.degrees(math.acos(abs(w1 @ w2) / np.linalg.norm(w1) / np.linalg.norm(w2)))
    return runs

# %% Figure 1: the linear autoencoder's line and plane against PCA's
LINEAR = linear_ae_experiment()
for name, run in LINEAR.items():
    print(f"{name}: largest principal angle {run['final_angle_deg']:.1e} deg, loss {run['losses'][-1]:.6f}"
          f" vs discarded variance {run['discarded']:.6f}; decoder columns vs nearest PC"
          f" {np.round(run['column_vs_pc_deg'], 1)} deg")
print(f"plane: angle between the two decoder columns {LINEAR['plane']['columns_deg']:.1f} deg")

fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
run = LINEAR["line"]
X, V_q = run["X"], run["V_q"]
center = X.mean(axis=0)
ax = axes[0]
ax.scatter(X[:, 0], X[:, 1], s=8, marker="o", alpha=0.4, label="data")
t = np.linspace(-6, 6, 2)
w = run["params"][2].numpy()[:, 0]
ax.plot(center[0] + t * V_q[0, 0], center[1] + t * V_q[1, 0], "-", lw=3, label="PCA line")
ax.plot(center[0] + t * w[0] / np.linalg.norm(w), center[1] + t * w[1] / np.linalg.norm(w), "--", lw=1.5,
        label="linear AE decoder column")
ax.set(xlabel="$x_1$", ylabel="$x_2$", title="2-D data, code size q = 1")
ax.set_aspect("equal", adjustable="datalim")
ax.legend(fontsize=8, loc="upper right")

run = LINEAR["plane"]
X, V_q = run["X"], run["V_q"]
W_dec = run["params"][2].numpy()
scores = (X - X.mean(axis=0)) @ V_q  # coordinates in the PCA plane
ax = axes[1]
ax.scatter(scores[:, 0], scores[:, 1], s=8, marker="o", alpha=0.3, label="data (PC scores)")
for j, (style, marker) in enumerate((("-", "s"), ("--", "^"))):
    w = V_q.T @ W_dec[:, j]  # the decoder column in PCA coordinates
    w = 4 * w / np.linalg.norm(W_dec[:, j])
    ax.plot([0, w[0]], [0, w[1]], style, marker=marker, markevery=[1], lw=2,
            label=f"decoder column {j + 1}")
ax.axhline(0, color="0.5", lw=0.8, ls=":")
ax.axvline(0, color="0.5", lw=0.8, ls=":")
ax.set(xlabel="PC 1 score", ylabel="PC 2 score", title="3-D data, q = 2: the PC plane")
ax.set_aspect("equal", adjustable="datalim")
ax.legend(fontsize=8, loc="lower right")

ax = axes[2]
for (name, run), style in zip(LINEAR.items(), ("-", "--")):
    ax.semilogy(np.degrees(run["angles"]), style, label=f"{name} (q = {run['q']})")
ax.set(xlabel="Adam step", ylabel="largest principal angle (degrees)", title="Angle to the PCA subspace")
ax.legend(fontsize=8)
fig.tight_layout()

# %% An MLP autoencoder for the digits
def mlp_autoencoder(q, hidden=32, seed=0):
    """Encoder 64 -> hidden -> q and decoder q -> hidden -> 64, ReLU inside, sigmoid output (pixels in [0, 1])."""
    torch.manual_seed(seed)
    encoder = torch.nn.Sequential(torch.nn.Linear(64, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, q))
    decoder = torch.nn.Sequential(torch.nn.Linear(q, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 64),
                                  torch.nn.Sigmoid())
    return encoder, decoder


def gaussian_corruption(X, sigma, gen):
    """x_tilde = x + sigma * eps, eps ~ N(0, I), fresh for every example and every call."""
    return X + sigma * torch.randn(X.shape, generator=gen, dtype=X.dtype)


def masking_corruption(X, nu, gen):
    """Vincent et al. (2008): in every example, a fixed number round(nu * d) of entries, chosen at random, set to 0."""
    n, d = X.shape
    k = round(nu * d)
    chosen = torch.rand(n, d, generator=gen).argsort(dim=1)[:, :k]  # k distinct random positions per row
    return X.scatter(1, chosen, 0.0)


def train_autoencoder(X, q, steps=200, lr=0.02, sigma=0.0, seed=0):
    """Train an MLP autoencoder (a denoising one if sigma > 0) with the reconstruction loss; full batch."""
    encoder, decoder = mlp_autoencoder(q, seed=seed)
    gen = torch.Generator().manual_seed(seed + 1)

    def loss_fn():
        X_in = gaussian_corruption(X, sigma, gen) if sigma > 0 else X
        return reconstruction_loss(X, decoder(encoder(X_in)))  # the target is always the clean x

    params = [*encoder.parameters(), *decoder.parameters()]
    losses, _ = adam(params, loss_fn, steps, lr)
    return encoder, decoder, losses


def load_digit_images(n=1000):
    """The first n of the 1797 images of load_digits, pixels scaled to [0, 1], and their labels."""
    digits = load_digits()
    return torch.tensor(digits.data[:n] / 16.0), digits.target[:n]

# %% Figure 2: a 2-D code for the digits, next to the first two principal component scores
X_digits, labels = load_digit_images()
enc2, dec2, losses2 = train_autoencoder(X_digits, q=2, steps=150, lr=0.03)
with torch.no_grad():
    codes2 = enc2(X_digits)
    ae2_error = reconstruction_loss(X_digits, dec2(codes2)).item()
V2, d_digits = pca_basis(X_digits.numpy().astype(np.float64), 2)
pca2_scores = (X_digits.numpy() - X_digits.numpy().mean(axis=0)) @ V2
pca2_error = np.sum(d_digits[2:] ** 2) / len(X_digits)
print(f"digits, 2 numbers per image: AE error {ae2_error:.2f}, PCA error {pca2_error:.2f},"
      f" total variance {np.sum(d_digits ** 2) / len(X_digits):.2f}")

fig, axes = plt.subplots(1, 2, figsize=(11, 5))
for ax, Z, title in ((axes[0], codes2.numpy(), f"AE code (q = 2), error {ae2_error:.2f}"),
                     (axes[1], pca2_scores, f"PCA scores (q = 2), error {pca2_error:.2f}")):
    for digit in range(10):
        pts = Z[labels == digit]
        ax.scatter(pts[:, 0], pts[:, 1], s=10, marker=MARKERS[digit], alpha=0.6, label=str(digit))
    ax.set(xlabel="$z_1$", ylabel="$z_2$", title=title)
axes[1].legend(title="digit", fontsize=8, markerscale=1.5, loc="center left", bbox_to_anchor=(1.0, 0.5))
fig.tight_layout()

# %% Figure 3: reconstructions, and a denoising autoencoder on noisy digits
def mosaic(images, n_cols, gap_value=0.3):
    """Tile 8x8 images (rows of a tensor) into one array, n_cols per row, with 1-pixel gray gaps."""
    images = images.reshape(-1, 8, 8).numpy()
    n_rows = math.ceil(len(images) / n_cols)
    out = np.full((9 * n_rows - 1, 9 * n_cols - 1), gap_value)
    for k, image in enumerate(images):
        r, c = divmod(k, n_cols)
        out[9 * r:9 * r + 8, 9 * c:9 * c + 8] = image
    return out


SIGMA = 0.3  # noise standard deviation, on pixels in [0, 1]
enc8, dec8, _ = train_autoencoder(X_digits, q=8, steps=120, lr=0.03, seed=1)
enc_dae, dec_dae, _ = train_autoencoder(X_digits, q=8, steps=120, lr=0.03, sigma=SIGMA, seed=1)
X_noisy = gaussian_corruption(X_digits, SIGMA, torch.Generator().manual_seed(123))  # one fixed draw for testing
with torch.no_grad():
    denoise = {
        "noisy input": reconstruction_loss(X_digits, X_noisy).item(),
        "AE on noisy input": reconstruction_loss(X_digits, dec8(enc8(X_noisy))).item(),
        "DAE on noisy input": reconstruction_loss(X_digits, dec_dae(enc_dae(X_noisy))).item(),
        "AE on clean input": reconstruction_loss(X_digits, dec8(enc8(X_digits))).item(),
        "DAE on clean input": reconstruction_loss(X_digits, dec_dae(enc_dae(X_digits))).item(),
    }
print("squared error to the clean digits (per image):", {k: round(v, 2) for k, v in denoise.items()})

examples = [int(np.flatnonzero(labels == digit)[0]) for digit in range(10)]  # the first image of each digit
with torch.no_grad():
    rows = {
        "original": X_digits[examples],
        "AE (q = 8)": dec8(enc8(X_digits[examples])),
        f"noisy (sigma = {SIGMA})": X_noisy[examples].clamp(0, 1),
        "AE on noisy": dec8(enc8(X_noisy[examples])),
        "DAE on noisy": dec_dae(enc_dae(X_noisy[examples])),
    }
fig, ax = plt.subplots(figsize=(7, 4))
ax.imshow(mosaic(torch.cat(list(rows.values())), 10), cmap="gray_r", vmin=0, vmax=1)
ax.set_yticks([9 * r + 3.5 for r in range(len(rows))], list(rows))
ax.set_xticks([9 * c + 3.5 for c in range(10)], [str(c) for c in range(10)])
ax.tick_params(length=0)
ax.set_title("Reconstructions (rows 1-2) and denoising (rows 3-5)")
fig.tight_layout()


# %% Figure 4: decoding random codes, from N(0, I) and from a Gaussian fitted to the codes
def random_codes(Z, n, gen):
    """n draws from N(0, I) and n from N(mean, covariance) of the training codes Z."""
    q = Z.shape[1]
    standard = torch.randn(n, q, generator=gen)
    chol = torch.linalg.cholesky(torch.cov(Z.T))
    fitted = Z.mean(dim=0) + torch.randn(n, q, generator=gen) @ chol.T
    return standard, fitted


def distance_to_nearest(A, B, exclude_self=False):
    """For each row of A, the Euclidean distance to the nearest row of B (another row, if A is B)."""
    D = torch.cdist(A, B)
    if exclude_self:
        D.fill_diagonal_(math.inf)
    return D.min(dim=1).values


N_SAMPLES = 500
with torch.no_grad():
    codes8 = enc8(X_digits)
    standard8, fitted8 = random_codes(codes8, N_SAMPLES, torch.Generator().manual_seed(7))
    code_distances = {  # code space: from each code to the nearest training code
        "training codes": distance_to_nearest(codes8, codes8, exclude_self=True),
        "N(0, I) draws": distance_to_nearest(standard8, codes8),
        "fitted-Gaussian draws": distance_to_nearest(fitted8, codes8),
    }
    image_distances = {  # pixel space: from each decoded image to the nearest training image
        "training images": distance_to_nearest(X_digits, X_digits, exclude_self=True),
        "reconstructions": distance_to_nearest(dec8(codes8), X_digits),
        "N(0, I) draws": distance_to_nearest(dec8(standard8), X_digits),
        "fitted-Gaussian draws": distance_to_nearest(dec8(fitted8), X_digits),
    }
sampler = {f"{space}: {k}": v.median().item()
           for space, dist in (("code", code_distances), ("image", image_distances)) for k, v in dist.items()}
print("median distances to the nearest training point:", {k: round(v, 2) for k, v in sampler.items()})

fig, (ax, ax_img) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1, 1.1]})
bins = np.linspace(0, 8, 41)
for (name, dist), style in zip(code_distances.items(), ("-", "--", ":")):
    ax.hist(dist.numpy(), bins=bins, density=True, histtype="step", ls=style, lw=2, label=name)
ax.set(xlabel="distance to the nearest training code", ylabel="density",
       title="Codes of an AE with q = 8")
ax.legend(fontsize=8)
with torch.no_grad():
    tiles = torch.cat([dec8(codes8[examples[:8]]), dec8(standard8[:16]), dec8(fitted8[:16])])
ax_img.imshow(mosaic(tiles, 8), cmap="gray_r", vmin=0, vmax=1)
ax_img.set_yticks([3.5, 17.5, 35.5], ["reconstructed", "decoded N(0, I)", "decoded fitted"])
ax_img.set_xticks([])
ax_img.tick_params(length=0)
ax_img.set_title("Decoded codes")
fig.tight_layout()

plt.show()
