"""Multilayer perceptrons: what a hidden layer buys, and what fully connected layers cost on images.

Figure 1 is a diagram of a 3-4-4-2 MLP: the input layer, two hidden layers and the output layer,
every unit connected to every unit of the next layer.
Figure 2 trains one-hidden-layer ReLU MLPs of growing width on the two-moons problem and shows
their decision regions; dashed lines are where each hidden unit switches on (W x + b = 0), so
the boundary is piecewise linear with more pieces as the width grows.
Figure 3 counts the parameters of a fully connected layer on an s x s RGB image and of a 3 x 3
convolution, as the side length s grows (computed, no training).
Figure 4 shuffles the pixels of small images with one fixed permutation: the images look like
noise to us, but an MLP whose first-layer weights are shuffled the same way learns exactly as
well, because a fully connected layer has no notion of which pixels are neighbors.
"""

# %% Imports
import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

plt.style.use("tableau-colorblind10")  # a palette safe for color-vision deficiency
rng = np.random.default_rng(0)
torch.manual_seed(0)

# %% Figure 1: an MLP as a diagram (layers, units, connections)
SIZES = [3, 4, 4, 2]  # d_0 (inputs), d_1, d_2 (hidden), d_3 (outputs): depth D = 3
diagram_params = sum((d_in + 1) * d_out for d_in, d_out in zip(SIZES[:-1], SIZES[1:]))
print(f"the {'-'.join(map(str, SIZES))} MLP of Figure 1 has {diagram_params} parameters")

fig, ax = plt.subplots(figsize=(7.5, 5.0))
gap, radius = 2.6, 0.38
units = [[(gap * l, (d - 1) / 2 - k) for k in range(d)] for l, d in enumerate(SIZES)]
for l in range(1, len(SIZES)):  # every unit of layer l-1 feeds every unit of layer l
    for x0, y0 in units[l - 1]:
        for x1, y1 in units[l]:
            ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops=dict(
                arrowstyle="-|>", color="0.55", lw=0.8, shrinkA=20, shrinkB=20, mutation_scale=8))
(xi, yi), (xj, yj) = units[0][0], units[1][1]  # one connection: input unit i = 1 to hidden unit j = 2
ax.annotate("", xy=(xj, yj), xytext=(xi, yi), arrowprops=dict(
    arrowstyle="-|>", color="k", lw=2.2, shrinkA=20, shrinkB=20, mutation_scale=12))
ax.text((xi + xj) / 2, (yi + yj) / 2 + 0.3, "$W^{(1)}_{21}$", ha="center", fontsize=11)
names = ["$x_{%d}$", "$h^{(1)}_{%d}$", "$h^{(2)}_{%d}$", "$\\hat{y}_{%d}$"]
for l, layer in enumerate(units):
    for k, xy in enumerate(layer, start=1):
        ax.add_patch(plt.Circle(xy, radius, fill=True, facecolor="white", edgecolor="k",
                                lw=1.3, ls="--" if l == 0 else "-", zorder=3))
        ax.text(*xy, names[l] % k, ha="center", va="center", fontsize=10, zorder=4)
titles = [f"input layer\n$\\mathbf{{x}} = \\mathbf{{h}}^{{(0)}}$, $d_0 = {SIZES[0]}$",
          f"hidden layer 1\n$\\mathbf{{h}}^{{(1)}}$, $d_1 = {SIZES[1]}$",
          f"hidden layer 2\n$\\mathbf{{h}}^{{(2)}}$, $d_2 = {SIZES[2]}$",
          f"output layer\n$\\hat{{\\mathbf{{y}}}} = \\mathbf{{h}}^{{(3)}}$, $d_3 = {SIZES[3]}$"]
top = max(SIZES) / 2
for l, title in enumerate(titles):
    ax.text(gap * l, top + 0.1, title, ha="center", va="bottom", fontsize=10)
for l in range(1, len(SIZES)):
    ax.text(gap * (l - 0.5), -top - 0.15, f"$\\mathbf{{W}}^{{({l})}}, \\mathbf{{b}}^{{({l})}}$\n"
            f"{(SIZES[l - 1] + 1) * SIZES[l]} parameters", ha="center", va="top", fontsize=10)
ax.annotate("", xy=(gap * (len(SIZES) - 1) + 0.6, -top - 1.35), xytext=(-0.6, -top - 1.35),
            arrowprops=dict(arrowstyle="-|>", lw=1.2))
ax.text(gap * (len(SIZES) - 1) / 2, -top - 1.45, "forward propagation", ha="center", va="top", fontsize=10)
ax.set(xlim=(-1.1, gap * (len(SIZES) - 1) + 1.1), ylim=(-top - 2.0, top + 1.2), aspect="equal")
ax.axis("off")
fig.tight_layout()

# %% The two-moons data
def two_moons(n=150, noise=0.15):
    """Two interleaved half circles (class 0 on top, class 1 below) with Gaussian noise."""
    t = rng.uniform(0, np.pi, n)
    y = rng.integers(0, 2, n)
    x = np.where(y[:, None] == 0,
                 np.column_stack([np.cos(t), np.sin(t)]),
                 np.column_stack([1 - np.cos(t), 0.5 - np.sin(t)]))
    return x + noise * rng.standard_normal((n, 2)), y


x_np, y_np = two_moons()
x = torch.tensor(x_np, dtype=torch.float32)
y = torch.tensor(y_np, dtype=torch.float32).unsqueeze(1)

# %% Train one-hidden-layer MLPs of growing width
def train(model, inputs, targets, steps=250, lr=0.05):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(model(inputs), targets)
        loss.backward()
        opt.step()
    return model


WIDTHS = [1, 3, 8, 32]
models = {}
for width in WIDTHS:
    torch.manual_seed(width)
    models[width] = train(nn.Sequential(nn.Linear(2, width), nn.ReLU(), nn.Linear(width, 1)), x, y)

lo, hi = np.array([-1.6, -1.1]), np.array([2.6, 1.6])  # the plotted window


def bends(model, n=4001):
    """Corners of the decision boundary inside the window: the boundary can only bend where it crosses
    a hidden unit's line w_j . x + b_j = 0, so count sign changes of the logit along each such line."""
    count = 0
    for (w1, w2), bj in zip(model[0].weight.detach().numpy(), model[0].bias.detach().numpy()):
        if abs(w2) > abs(w1):  # walk along x1 and solve for x2, or the other way round
            t = np.linspace(lo[0], hi[0], n)
            line = np.column_stack([t, -(w1 * t + bj) / w2])
        else:
            t = np.linspace(lo[1], hi[1], n)
            line = np.column_stack([-(w2 * t + bj) / w1, t])
        inside = np.all((line >= lo) & (line <= hi), axis=1)
        with torch.no_grad():
            logit = model(torch.tensor(line[inside], dtype=torch.float32)).squeeze(1).numpy()
        count += int(np.count_nonzero(np.diff(np.sign(logit)) != 0))
    return count


boundary_bends = {width: bends(models[width]) for width in WIDTHS}
print("corners of the decision boundary in the window:", boundary_bends)

# %% Figure 2: decision regions as the hidden layer gets wider
g1, g2 = np.meshgrid(np.linspace(lo[0], hi[0], 141), np.linspace(lo[1], hi[1], 91))
grid = torch.tensor(np.column_stack([g1.ravel(), g2.ravel()]), dtype=torch.float32)

fig, axes = plt.subplots(1, len(WIDTHS), figsize=(11, 2.9), sharey=True)
for ax, width in zip(axes, WIDTHS):
    model = models[width]
    with torch.no_grad():
        p = torch.sigmoid(model(grid)).reshape(g1.shape).numpy()
        acc = ((model(x) > 0).float() == y).float().mean().item()
    ax.imshow(p > 0.5, origin="lower", extent=(lo[0], hi[0], lo[1], hi[1]), cmap="RdBu_r",
              vmin=-0.9, vmax=1.9, interpolation="nearest", aspect="auto")
    ax.contour(g1, g2, p, levels=[0.5], colors="k", linewidths=1.5)
    if width <= 8:  # where each hidden unit switches on: w_j . x + b_j = 0
        W, b = model[0].weight.detach().numpy(), model[0].bias.detach().numpy()
        t = np.linspace(lo[0], hi[0], 2)
        for (w1, w2), bj in zip(W, b):
            ax.plot(t, -(w1 * t + bj) / w2, "k--", lw=0.8)
    ax.scatter(*x_np[y_np == 0].T, s=10, c="C0", edgecolors="k", linewidths=0.3)
    ax.scatter(*x_np[y_np == 1].T, s=10, c="C1", marker="s", edgecolors="k", linewidths=0.3)
    ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]), xlabel="$x_1$")
    ax.set_title(f"width {width}: {100 * acc:.0f}% correct", fontsize=10)
axes[0].set_ylabel("$x_2$")
fig.tight_layout()

# %% Figure 3: parameters of a dense layer vs a 3x3 convolution on an s x s x 3 image
side = np.logspace(np.log10(8), np.log10(1024), 50)
d_in = 3 * side**2  # the flattened image
dense_1000 = d_in * 1000 + 1000  # d_in d_out + d_out, 1000 output units
dense_same = d_in * (64 * side**2) + 64 * side**2  # output as big as 64 feature maps of size s x s
conv = np.full_like(side, 3 * 3 * 3 * 64 + 64)  # 64 filters of size 3 x 3 x 3, plus biases

fig, ax = plt.subplots(figsize=(6.5, 3.6))
ax.loglog(side, dense_same, "-", lw=2, label="dense: $s^2 \\cdot 3 \\to s^2 \\cdot 64$")
ax.loglog(side, dense_1000, "--", lw=2, label="dense: $s^2 \\cdot 3 \\to 1000$")
ax.loglog(side, conv, "-.", lw=2, label="conv $3 \\times 3$: $3 \\to 64$ channels")
for s in (32, 224):
    ax.axvline(s, color="0.7", lw=0.8, ls=":")
dense_224 = 224 * 224 * 3 * 1000 + 1000  # the 1000-unit dense layer at s = 224
ax.plot(224, dense_224, "ko", ms=4)
ax.annotate(f"{dense_224 / 1e6:.1f} M", (224, dense_224), xytext=(6, -12), textcoords="offset points")
ax.set(xlabel="image side length $s$ (pixels)", ylabel="number of parameters")
ax.set_title("Parameters of one layer on an $s \\times s$ RGB image", fontsize=10)
ax.grid(alpha=0.3, which="major")
ax.legend(fontsize=8)
fig.tight_layout()

# %% Images of bars, and the same images with their pixels shuffled
SIDE = 8


def bars(n, length=4, noise=0.25):
    """Class 0: a horizontal bar, class 1: a vertical bar, at a random place, plus noise."""
    images, labels = np.zeros((n, SIDE, SIDE)), rng.integers(0, 2, n)
    for img, label in zip(images, labels):
        r, c = rng.integers(0, SIDE), rng.integers(0, SIDE - length + 1)
        if label == 0:
            img[r, c:c + length] = 1
        else:
            img[c:c + length, r] = 1
    images += noise * rng.standard_normal(images.shape)
    return torch.tensor(images.reshape(n, -1), dtype=torch.float32), torch.tensor(labels)


x_train, y_train = bars(600)
x_test, y_test = bars(600)
perm = torch.tensor(rng.permutation(SIDE * SIDE))  # one fixed shuffle of the 64 pixels


def train_and_test(model, inputs, test_inputs, steps=150):
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    accuracy = []
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.cross_entropy(model(inputs), y_train).backward()
        opt.step()
        with torch.no_grad():
            accuracy.append((model(test_inputs).argmax(1) == y_test).float().mean().item())
    return np.array(accuracy)


torch.manual_seed(1)
mlp = nn.Sequential(nn.Linear(SIDE * SIDE, 64), nn.ReLU(), nn.Linear(64, 2))
mlp_perm = nn.Sequential(nn.Linear(SIDE * SIDE, 64), nn.ReLU(), nn.Linear(64, 2))
mlp_perm.load_state_dict(mlp.state_dict())
with torch.no_grad():
    mlp_perm[0].weight.copy_(mlp[0].weight[:, perm])  # shuffle the columns of W(1) the same way
acc = train_and_test(mlp, x_train, x_test)
acc_perm = train_and_test(mlp_perm, x_train[:, perm], x_test[:, perm])
print(f"test accuracy: original {acc[-1]:.3f}, shuffled {acc_perm[-1]:.3f}, "
      f"largest difference during training {np.abs(acc - acc_perm).max():.1e}")

# %% Figure 4: shuffled pixels look like noise to us, not to an MLP
fig, axd = plt.subplot_mosaic([["a", "b", "acc"], ["c", "d", "acc"]], figsize=(8.5, 3.6),
                              width_ratios=[1, 1, 2.6])
examples = [int(np.flatnonzero(y_train == k)[0]) for k in (0, 1)]
for (key, index), shuffled in zip([("a", examples[0]), ("b", examples[1]),
                                   ("c", examples[0]), ("d", examples[1])], [False, False, True, True]):
    pixels = x_train[index, perm] if shuffled else x_train[index]
    axd[key].imshow(pixels.reshape(SIDE, SIDE).numpy(), cmap="gray_r", vmin=-0.5, vmax=1.2)
    axd[key].set_xticks([])
    axd[key].set_yticks([])
    axd[key].set_title(("shuffled" if shuffled else "original") + f", class {y_train[index].item()}",
                       fontsize=9)
steps = np.arange(1, len(acc) + 1)
axd["acc"].plot(steps, acc, lw=3, color="C0", alpha=0.5, label="MLP, original pixels")
axd["acc"].plot(steps, acc_perm, lw=1.2, color="k", ls="--", label="MLP, shuffled pixels")
axd["acc"].set(xlabel="training step", ylabel="test accuracy", ylim=(0.4, 1.0))
axd["acc"].set_title("The two curves coincide", fontsize=10)
axd["acc"].grid(alpha=0.3)
axd["acc"].legend(fontsize=8, loc="lower right")
fig.tight_layout()

plt.show()
