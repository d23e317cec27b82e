"""Overfitting and regularization: dropout, weight decay, data augmentation.

Three experiments, all on synthetic data:

1. Underfitting, a good fit and overfitting: least-squares polynomial fits of degree
   1, 3 and 15 to 20 noisy points, and training vs validation error as the degree grows.
2. Training vs validation loss of a small MLP on a noisy two-moons task, trained with
   Adam without regularization, with dropout (nn.Dropout) and with decoupled weight
   decay (torch.optim.AdamW).
3. Data augmentation written with plain tensor ops (random horizontal flip, random
   shift by pad-and-crop, Gaussian noise, color jitter) applied to a synthetic image.
"""

# %% Imports and seeds
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

torch.manual_seed(0)
rng = np.random.default_rng(0)
torch.set_num_threads(1)  # the tensors here are tiny: one thread avoids threading overhead
# Okabe-Ito colors (safe for color-vision deficiency); curves also differ by line style or marker
BLUE, VERMILLION, GREEN, ORANGE = "#0072B2", "#D55E00", "#009E73", "#E69F00"

# %% Figure 1: underfitting, good fit, overfitting (polynomial least squares)
def true_fn(x):
    return np.sin(np.pi * x)


def noisy_sine(rng, n_train=20, n_val=500, noise_std=0.25):
    """Training and validation samples of y = sin(pi x) + Gaussian noise, x uniform in [-1, 1]."""
    x_train = np.sort(rng.uniform(-1, 1, n_train))
    y_train = true_fn(x_train) + noise_std * rng.standard_normal(n_train)
    x_val = rng.uniform(-1, 1, n_val)
    y_val = true_fn(x_val) + noise_std * rng.standard_normal(n_val)
    return x_train, y_train, x_val, y_val


def design(x, degree):
    """Columns P_0(x), ..., P_degree(x) (Legendre polynomials: a well-conditioned basis)."""
    return np.polynomial.legendre.legvander(x, degree)


def fit_polynomial(x, y, degree):
    coef, *_ = np.linalg.lstsq(design(x, degree), y, rcond=None)
    return coef


def mse(coef, x, y):
    return np.mean((design(x, len(coef) - 1) @ coef - y) ** 2)


def polynomial_errors(data, degrees):
    """(training MSE, validation MSE) of the least-squares polynomial of each degree."""
    x_train, y_train, x_val, y_val = data
    coefs = [fit_polynomial(x_train, y_train, d) for d in degrees]
    return np.array([[mse(c, x_train, y_train), mse(c, x_val, y_val)] for c in coefs])


noise_std = 0.25
x_train, y_train, x_val, y_val = sine_data = noisy_sine(rng, noise_std=noise_std)
degrees = np.arange(0, 16)
errors = polynomial_errors(sine_data, degrees)  # row d: degree d
print("training / validation MSE: "
      + ", ".join(f"degree {d}: {errors[d, 0]:.4f} / {errors[d, 1]:.4f}" for d in (1, 3, 15))
      + f"; noise variance {noise_std**2}")


fig, axes = plt.subplots(1, 4, figsize=(12, 3.2))
x_plot = np.linspace(-1, 1, 300)
for ax, degree, name in zip(axes, [1, 3, 15], ["under-fit", "good fit", "over-fit"]):
    coef = fit_polynomial(x_train, y_train, degree)
    ax.plot(x_plot, true_fn(x_plot), color="gray", ls="--", lw=1, label="true function")
    ax.plot(x_plot, design(x_plot, degree) @ coef, color=VERMILLION, lw=1.5, label="fit")
    ax.plot(x_train, y_train, "o", color="k", ms=3.5, label="training data")
    ax.set(ylim=(-2, 2), xlabel="$x$",
           title=f"degree {degree}: {name}\ntrain {mse(coef, x_train, y_train):.3f}, "
                 f"val {mse(coef, x_val, y_val):.3f}")
    ax.title.set_fontsize(9)
axes[0].legend(fontsize=7, loc="lower right")

axes[3].semilogy(degrees, errors[:, 0], "o-", ms=3, color=BLUE, label="training")
axes[3].semilogy(degrees, errors[:, 1], "s--", ms=3, color=ORANGE, label="validation")
axes[3].axhline(noise_std**2, color="gray", lw=0.8, ls=":", label=r"noise variance $\sigma^2$")
axes[3].set(xlabel="polynomial degree (capacity)", ylabel="mean squared error", title="Error vs capacity")
axes[3].title.set_fontsize(9)
axes[3].legend(fontsize=7)
fig.tight_layout()

# %% Figure 2: a small MLP on noisy two moons, without and with regularization
def two_moons(n, gen, noise=0.25):
    """Two interleaved half circles with Gaussian noise; labels 0 and 1."""
    t = torch.rand(n, generator=gen) * math.pi
    label = torch.randint(0, 2, (n,), generator=gen)
    upper = torch.stack([torch.cos(t), torch.sin(t)], dim=1)
    lower = torch.stack([1 - torch.cos(t), 0.5 - torch.sin(t)], dim=1)
    x = torch.where(label[:, None] == 1, lower, upper)
    return x + noise * torch.randn(n, 2, generator=gen), label


def moons_data(seed=0):
    """40 noisy training examples (easy to memorize) and 1000 validation examples from the same distribution."""
    gen = torch.Generator().manual_seed(seed)
    x_tr, y_tr = two_moons(40, gen)
    x_va, y_va = two_moons(1000, gen)
    return x_tr, y_tr, x_va, y_va


loss_fn = nn.functional.cross_entropy


# --8<-- [start:train_loop]
def make_mlp(p_drop):
    """2 -> 64 -> 64 -> 2 ReLU network with dropout (drop probability p_drop) after each hidden layer."""
    return nn.Sequential(
        nn.Linear(2, 64), nn.ReLU(), nn.Dropout(p_drop),
        nn.Linear(64, 64), nn.ReLU(), nn.Dropout(p_drop),
        nn.Linear(64, 2),
    )


def train(data, p_drop=0.0, weight_decay=0.0, steps=300, lr=0.01):
    x_tr, y_tr, x_va, y_va = data
    torch.manual_seed(1)  # the same initial weights for every run
    net = make_mlp(p_drop)
    # AdamW: decoupled weight decay (its default is 0.01, so pass 0.0 to switch it off)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    history = []  # (step, training loss, validation loss), both measured in eval mode
    for step in range(steps + 1):
        if step % 5 == 0:
            net.eval()  # dropout off: nn.Dropout is the identity
            with torch.no_grad():
                history.append((step, loss_fn(net(x_tr), y_tr).item(), loss_fn(net(x_va), y_va).item()))
            net.train()  # dropout on: a new random mask at every forward pass
        loss = loss_fn(net(x_tr), y_tr)  # full batch of 40 examples
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net, np.array(history)
# --8<-- [end:train_loop]


data = x_tr, y_tr, x_va, y_va = moons_data()
runs = [  # (label, color, marker, keyword arguments of train)
    ("no regularization", VERMILLION, "o", dict()),
    ("dropout $p = 0.5$", BLUE, "^", dict(p_drop=0.5)),
    (r"weight decay $\lambda = 1$", GREEN, "s", dict(weight_decay=1.0)),
]
fig, axes = plt.subplots(1, 4, figsize=(12, 3.4), gridspec_kw=dict(width_ratios=[1.6, 1, 1, 1]))
grid = np.linspace(-2, 3, 100), np.linspace(-1.5, 2, 70)
grid_x = torch.tensor(np.stack(np.meshgrid(*grid), axis=-1).reshape(-1, 2), dtype=torch.float32)
for ax, (label, color, marker, kwargs) in zip(axes[1:], runs):
    net, hist = train(data, **kwargs)
    style = dict(color=color, marker=marker, ms=4, markevery=6)
    axes[0].plot(hist[:, 0], hist[:, 2], lw=1.6, label=label, **style)
    axes[0].plot(hist[:, 0], hist[:, 1], lw=1.0, ls="--", mfc="none", **style)
    print(f"{label}: final training loss {hist[-1, 1]:.3f}, final validation loss {hist[-1, 2]:.3f}, "
          f"lowest validation loss {hist[:, 2].min():.3f} at step {hist[np.argmin(hist[:, 2]), 0]:.0f}")
    if not kwargs:  # early stopping would keep the weights from the validation minimum
        best = hist[np.argmin(hist[:, 2])]
        axes[0].plot(best[0], best[2], "k*", ms=11, label="validation minimum")
    with torch.no_grad():
        prob = net.eval()(grid_x).softmax(dim=1)[:, 1].reshape(len(grid[1]), len(grid[0]))
    ax.imshow(prob.numpy(), origin="lower", extent=(-2, 3, -1.5, 2), cmap="coolwarm", vmin=0, vmax=1,
              aspect="auto", alpha=0.6, interpolation="none")
    ax.contour(*grid, prob.numpy(), levels=[0.5], colors="k", linewidths=1.0)
    for cls, marker in [(0, "o"), (1, "s")]:
        pts = x_tr[y_tr == cls]
        ax.plot(pts[:, 0], pts[:, 1], marker, ms=3.5, mfc="w", mec="k", mew=0.8)
    ax.set(xticks=[], yticks=[], title=label)
    ax.title.set(fontsize=9)
axes[0].set(xlabel="training step (full batch)", ylabel="cross-entropy loss", ylim=(0, 1.25),
            title="Validation (solid) and training (dashed) loss")
axes[0].title.set_fontsize(9)
axes[0].legend(fontsize=7, loc="upper left")
fig.tight_layout()

# %% Figure 3: data augmentation with plain tensor ops
# --8<-- [start:augment]
def random_hflip(images, gen):
    """Mirror each image left-right with probability 1/2. images: (B, C, H, W)."""
    flip = torch.rand(images.shape[0], 1, 1, 1, generator=gen) < 0.5
    return torch.where(flip, images.flip(-1), images)


def random_shift(images, max_shift, gen):
    """Pad by max_shift pixels (zeros) and crop a random H x W window: a random translation."""
    _, _, h, w = images.shape
    padded = nn.functional.pad(images, [max_shift] * 4)
    out = torch.empty_like(images)
    for i, (dy, dx) in enumerate(torch.randint(0, 2 * max_shift + 1, (len(images), 2), generator=gen)):
        out[i] = padded[i, :, dy:dy + h, dx:dx + w]
    return out


def add_noise(images, std, gen):
    """Add Gaussian pixel noise and clip back to [0, 1]."""
    return (images + std * torch.randn(images.shape, generator=gen)).clamp(0, 1)


def color_jitter(images, strength, gen):
    """Random brightness, contrast and saturation factors in [1 - strength, 1 + strength]."""
    b, c, s = 1 + strength * (2 * torch.rand(3, images.shape[0], 1, 1, 1, generator=gen) - 1)
    images = images * b  # brightness
    mean = images.mean(dim=(1, 2, 3), keepdim=True)
    images = (images - mean) * c + mean  # contrast
    gray = (images * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
    images = (images - gray) * s + gray  # saturation
    return images.clamp(0, 1)


def augment(images, gen):
    """A fresh random, label-preserving version of every image, e.g. at every epoch."""
    images = random_hflip(images, gen)
    images = random_shift(images, 4, gen)
    images = color_jitter(images, 0.4, gen)
    return add_noise(images, 0.05, gen)
# --8<-- [end:augment]


def arrow_image(size=32):
    """A synthetic RGB image of class 'arrow pointing up', off-center, on a colored gradient."""
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    img = torch.stack([0.15 + 0.5 * xx / size, 0.35 + 0.3 * yy / size, 0.75 - 0.3 * xx / size])
    cx = 12  # left of center, so that a left-right flip is visible
    head = (yy >= 5) & (yy < 15) & ((xx - cx).abs() <= (yy - 5))  # triangle pointing up
    shaft = (yy >= 15) & (yy < 27) & ((xx - cx).abs() <= 2)
    arrow = head | shaft
    color = torch.tensor([1.0, 0.55, 0.1]).view(3, 1, 1)
    return torch.where(arrow, color, img)


image = arrow_image()[None]  # a batch of one image, (1, 3, 32, 32)
g = torch.Generator().manual_seed(3)
single = [
    ("original: up", image),
    ("horizontal flip: up", image.flip(-1)),
    ("random shift: up", random_shift(image, 4, g)),
    ("color jitter: up", color_jitter(image, 0.4, g)),
    ("noise: up", add_noise(image, 0.1, g)),
    ("vertical flip: DOWN!", image.flip(-2)),
]
batch = augment(image.expand(6, -1, -1, -1), torch.Generator().manual_seed(4))
fig, axes = plt.subplots(2, 6, figsize=(10, 3.9))
for ax, (title, img) in zip(axes[0], single):
    ax.imshow(img[0].permute(1, 2, 0).numpy(), interpolation="nearest")
    ax.set_title(title, fontsize=8, color=VERMILLION if "DOWN" in title else "k")
for i, ax in enumerate(axes[1]):
    ax.imshow(batch[i].permute(1, 2, 0).numpy(), interpolation="nearest")
    ax.set_title(f"augment(), sample {i + 1}", fontsize=8)
for ax in axes.flat:
    ax.set(xticks=[], yticks=[])
fig.tight_layout()

plt.show()
