"""Pooling and stacking convolutional layers.

The snippet

1. writes max, average and global average pooling from scratch (with unfold) and checks them
   against torch.nn.functional;
2. applies 2 x 2 max and average pooling to the same feature map, a digit filtered by a
   vertical-edge kernel, and to the map of the same digit shifted by one pixel (Figure 1);
3. trains a small CNN (conv-ReLU-pool twice, then a linear layer) on scikit-learn's bundled
   load_digits images, shows its feature maps for one digit and its learned first-layer filters
   (Figure 2), and compares its test accuracy with an MLP of about the same number of
   parameters, also on shifted test images (Figure 3);
4. computes the theoretical receptive field of a stack of layers with the recurrence
   r_l = r_(l-1) + (k_l - 1) * (product of the earlier strides), and measures the effective
   receptive field of stacks of 1, 3 and 6 random 3 x 3 convolutions by back-propagating the
   gradient of one output unit to the input (Figure 4).

The numbers the page states about the figures are computed here and printed.
"""

# %% Imports and seeds
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.patches import Rectangle
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

plt.style.use("tableau-colorblind10")  # colors safe for color-vision deficiency; styles differ too
torch.manual_seed(0)
rng = np.random.default_rng(0)  # unused here (all randomness is torch), seeded by convention
torch.set_num_threads(1)  # the tensors are tiny: extra threads only add overhead


# %% Pooling from scratch
# --8<-- [start:pooling]
def pool_windows(x, kernel_size, stride, padding, fill):
    """All pooling windows of x (B, C, H, W) as (B, C, H_out, W_out, k*k); padding adds `fill`."""
    k, s, p = kernel_size, stride, padding
    x = F.pad(x, (p, p, p, p), value=fill)
    windows = x.unfold(2, k, s).unfold(3, k, s)  # (B, C, H_out, W_out, k, k)
    return windows.reshape(*windows.shape[:4], k * k)


def max_pool(x, kernel_size, stride=None, padding=0):
    """Max pooling: the largest value in each k x k window (padding never wins: it is -inf)."""
    stride = stride or kernel_size
    return pool_windows(x, kernel_size, stride, padding, -math.inf).amax(dim=-1)


def avg_pool(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    """Average pooling: the window's sum divided by k*k, or, with count_include_pad=False,
    by the number of window cells that lie inside the unpadded input."""
    stride = stride or kernel_size
    total = pool_windows(x, kernel_size, stride, padding, 0.0).sum(dim=-1)
    if count_include_pad:
        return total / kernel_size**2
    inside = pool_windows(torch.ones_like(x[:1, :1]), kernel_size, stride, padding, 0.0).sum(dim=-1)
    return total / inside


def global_avg_pool(x):
    """Global average pooling: one number per channel, the mean over all positions, (B, C)."""
    return x.mean(dim=(2, 3))
# --8<-- [end:pooling]


# %% Receptive fields: the recurrence and the measured gradient footprint
# --8<-- [start:receptive_field]
def receptive_field(layers):
    """Theoretical receptive field of a stack of layers given as (kernel, stride, dilation) tuples.

    r_0 = 1 and j_0 = 1; layer l adds (k'_l - 1) * j_(l-1) input pixels, where k'_l = d_l (k_l - 1) + 1
    is the dilated kernel size and j_(l-1) = s_1 * ... * s_(l-1) the jump (the distance in input
    pixels between neighboring units of layer l - 1). Returns the lists of r_l and j_l, l = 0..L.
    """
    r, j = [1], [1]
    for k, s, d in layers:
        r.append(r[-1] + d * (k - 1) * j[-1])
        j.append(j[-1] * s)
    return r, j
# --8<-- [end:receptive_field]


def conv_stack(layers, channels=1, relu=False, seed=0):
    """A stack of Conv2d layers (no padding) with the given (kernel, stride, dilation) tuples."""
    torch.manual_seed(seed)
    modules, c_in = [], 1
    for k, s, d in layers:
        modules.append(nn.Conv2d(c_in, channels, k, stride=s, dilation=d))
        if relu:
            modules.append(nn.ReLU())
        c_in = channels
    return nn.Sequential(*modules)


def input_gradient(net, x, channel_sum=True):
    """d(center output unit)/d(input) for each example of x (B, 1, H, W), the gradient that
    back-propagation sends to the input when the center unit's gradient is 1 and all others 0."""
    x = x.clone().requires_grad_(True)
    out = net(x)
    h, w = out.shape[-2] // 2, out.shape[-1] // 2
    unit = out[:, :, h, w].sum(dim=1) if channel_sum else out[:, 0, h, w]
    (grad,) = torch.autograd.grad(unit.sum(), x)
    return grad[:, 0]


def footprint(grad):
    """Height and width of the smallest box holding every nonzero entry of a 2-D gradient."""
    rows = torch.nonzero(grad.abs().sum(dim=1)).flatten()
    cols = torch.nonzero(grad.abs().sum(dim=0)).flatten()
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def effective_rf(n_layers, size=21, channels=8, n_nets=4, batch=8):
    """Mean |gradient| of the center unit of n_layers random 3 x 3 conv + ReLU layers ('same'
    padding, PyTorch's default initialization) with respect to a random input, over n_nets
    networks and batch inputs each, normalized to sum to 1. Shape (size, size)."""
    total = torch.zeros(size, size, dtype=torch.float64)
    for seed in range(n_nets):
        torch.manual_seed(seed)
        layers, c_in = [], 1
        for _ in range(n_layers):
            layers += [nn.Conv2d(c_in, channels, 3, padding=1, dtype=torch.float64), nn.ReLU()]
            c_in = channels
        net = nn.Sequential(*layers)
        x = torch.randn(batch, 1, size, size, dtype=torch.float64)
        total += input_gradient(net, x).abs().sum(dim=0)
    return total / total.sum()


def square_mass(erf, side):
    """Fraction of the ERF's mass inside the centered side x side square."""
    c, h = erf.shape[0] // 2, side // 2
    return float(erf[c - h:c + h + 1, c - h:c + h + 1].sum())


def erf_std(erf):
    """Standard deviation, in pixels, of the ERF's mass along one axis (rows and columns averaged)."""
    c = erf.shape[0] // 2
    offsets = torch.arange(erf.shape[0], dtype=erf.dtype) - c
    rows, cols = erf.sum(dim=1), erf.sum(dim=0)
    return float(((rows * offsets**2).sum().sqrt() + (cols * offsets**2).sum().sqrt()) / 2)


# %% Data and models
def shift_images(X, dx, dy):
    """Move images (N, 1, 8, 8) by dx columns and dy rows; pixels moved in from outside are 0."""
    out, n = torch.zeros_like(X), X.shape[-1]
    out[..., max(dy, 0):n + min(dy, 0), max(dx, 0):n + min(dx, 0)] = \
        X[..., max(-dy, 0):n + min(-dy, 0), max(-dx, 0):n + min(-dx, 0)]
    return out


def load_data(seed=0):
    """load_digits as (N, 1, 8, 8) tensors scaled to [0, 1], split 75 % / 25 % (stratified)."""
    digits = load_digits()
    X = torch.tensor(digits.images / 16.0, dtype=torch.float32).unsqueeze(1)
    y = torch.tensor(digits.target)
    idx_train, idx_test = train_test_split(np.arange(len(y)), test_size=0.25, random_state=seed,
                                           stratify=digits.target)
    return X[idx_train], y[idx_train], X[idx_test], y[idx_test]


# --8<-- [start:models]
def small_cnn():
    """conv 3x3 (1 -> 8) - ReLU - maxpool 2 - conv 3x3 (8 -> 16) - ReLU - maxpool 2 - flatten - linear."""
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 8 x 8 -> 8 x 8 -> 4 x 4
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 4 x 4 -> 4 x 4 -> 2 x 2
        nn.Flatten(), nn.Linear(16 * 2 * 2, 10),
    )


def small_mlp(hidden=25):
    """64 pixels - 25 ReLU units - 10 classes: about as many parameters as small_cnn."""
    return nn.Sequential(nn.Flatten(), nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))
# --8<-- [end:models]


def n_params(net):
    return sum(p.numel() for p in net.parameters())


def accuracy(net, X, y):
    with torch.no_grad():
        return float((net(X).argmax(dim=1) == y).float().mean())


def shifted_accuracy(net, X, y, pixels):
    """Mean test accuracy over the four shifts by `pixels` (left, right, up, down); 0 = no shift."""
    moves = [(pixels, 0), (-pixels, 0), (0, pixels), (0, -pixels)]
    return sum(accuracy(net, shift_images(X, dx, dy), y) for dx, dy in moves) / 4


def train(net, data, epochs=8, batch_size=128, lr=0.02, seed=0):
    """Adam on cross-entropy, written out (torch.optim does the same but takes longer to import);
    returns the test accuracy after every epoch."""
    X, y, X_test, y_test = data
    torch.manual_seed(seed)
    params = list(net.parameters())
    m = [torch.zeros_like(p) for p in params]  # first-moment estimates
    v = [torch.zeros_like(p) for p in params]  # second-moment estimates
    beta1, beta2, eps, t, history = 0.9, 0.999, 1e-8, 0, []
    for _ in range(epochs):
        perm = torch.randperm(len(y))
        for i in range(0, len(y), batch_size):
            idx = perm[i:i + batch_size]
            grads = torch.autograd.grad(F.cross_entropy(net(X[idx]), y[idx]), params)
            t += 1
            with torch.no_grad():
                for p, g, m_p, v_p in zip(params, grads, m, v):
                    m_p.mul_(beta1).add_(g, alpha=1 - beta1)
                    v_p.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                    step = lr / (1 - beta1**t)
                    p.sub_(step * m_p / ((v_p / (1 - beta2**t)).sqrt() + eps))
        history.append(accuracy(net, X_test, y_test))
    return history


def cnn_vs_mlp(epochs=8, seed=0, shifts=(0, 1, 2)):
    """Train small_cnn and small_mlp on the same split. Returns the data, both nets, their test
    accuracy after every epoch and their accuracy on test images shifted by each of `shifts` pixels."""
    data = load_data()
    torch.manual_seed(seed)
    cnn, mlp = small_cnn(), small_mlp()
    history = {"CNN": train(cnn, data, epochs, seed=seed), "MLP": train(mlp, data, epochs, seed=seed)}
    shifted = {name: [shifted_accuracy(net, data[2], data[3], p) for p in shifts]
               for name, net in (("CNN", cnn), ("MLP", mlp))}
    return data, cnn, mlp, history, shifted


# %% Check the pooling functions against PyTorch
x = torch.randn(2, 3, 9, 9)
assert torch.allclose(max_pool(x, 3, 2, 1), F.max_pool2d(x, 3, 2, 1))
assert torch.allclose(avg_pool(x, 3, 2, 1), F.avg_pool2d(x, 3, 2, 1), atol=1e-6)
assert torch.allclose(avg_pool(x, 3, 2, 1, count_include_pad=False),
                      F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), atol=1e-6)
assert torch.allclose(global_avg_pool(x), F.adaptive_avg_pool2d(x, 1).flatten(1), atol=1e-6)
print("receptive field of conv3-conv3-pool2-conv3-conv3-pool2:",
      receptive_field([(3, 1, 1), (3, 1, 1), (2, 2, 1), (3, 1, 1), (3, 1, 1), (2, 2, 1)])[0])

# %% Figure 1: max vs average pooling on the same feature map, and after a one-pixel shift
EDGE = [[-1.0, 0.0, 1.0]] * 3  # a vertical-edge kernel: responds where the image gets brighter to the right


def edge_map(img):
    """ReLU of the image (1, 1, 8, 8) filtered by EDGE with padding 1: an 8 x 8 feature map."""
    return F.relu(F.conv2d(img, torch.tensor([[EDGE]]), padding=1))


def shift_change(img, dx):
    """Relative change ||after - before|| / ||before|| of the edge map, of its 2 x 2 max pooling and
    of its 2 x 2 average pooling when the image moves dx pixels to the right."""
    before, after = edge_map(img), edge_map(torch.roll(img, dx, dims=3))  # the rolled-in column is blank
    rel = lambda f: float((f(after) - f(before)).norm() / f(before).norm())
    return rel(lambda m: m), rel(lambda m: max_pool(m, 2)), rel(lambda m: avg_pool(m, 2))


data = load_data()
digit = data[0][0:1]  # the first training image, (1, 1, 8, 8)
maps = [edge_map(digit), edge_map(torch.roll(digit, 1, dims=3))]
pooled = [(max_pool(m, 2), avg_pool(m, 2)) for m in maps]
right, left = shift_change(digit, 1), shift_change(digit, -1)
fig, axes = plt.subplots(2, 3, figsize=(8.4, 5.8), gridspec_kw={"width_ratios": [2, 1, 1]})
vmax = maps[0].max().item()
for row, (m, (mx, av)) in enumerate(zip(maps, pooled)):
    for ax, grid in zip(axes[row], (m, mx, av)):
        g = grid[0, 0].numpy()
        ax.imshow(g, cmap="gray_r", vmin=0, vmax=vmax)
        for (i, j), v in np.ndenumerate(g):
            ax.text(j, i, f"{v:.1f}" if v else "0", ha="center", va="center", fontsize=6 if len(g) > 4 else 8,
                    color="white" if v > 0.55 * vmax else "black", in_layout=False)
        ax.set(xticks=[], yticks=[])
for ax, name in zip(axes[0], ("edge map 8 x 8", "max pool 2 x 2", "average pool 2 x 2")):
    ax.set_title(name)
axes[0, 0].set_ylabel(f"digit {int(data[1][0])}")
axes[1, 0].set_ylabel("shifted 1 pixel right")
fig.suptitle(f"Relative change after the shift: map {right[0]:.0%}, max pool {right[1]:.0%}, "
             f"average pool {right[2]:.0%}", fontsize=10)
fig.tight_layout()
print(f"Figure 1: relative change, shift right: map {right[0]:.2f}, max {right[1]:.2f}, avg {right[2]:.2f}; "
      f"shift left: map {left[0]:.2f}, max {left[1]:.2f}, avg {left[2]:.2f}")

# %% Figure 2: a small CNN on load_digits, its feature maps for one digit and its first-layer filters
data, cnn, mlp, history, shifted = cnn_vs_mlp()
x0 = data[2][0:1]  # the first test image
stages, h = [], x0
with torch.no_grad():
    for module in cnn[:6]:
        h = module(h)
        if not isinstance(module, nn.Conv2d):  # show after ReLU and after pooling
            stages.append(h[0])
names = ["conv1 + ReLU\n(8 x 8)", "pool1\n(4 x 4)", "conv2 + ReLU\n(4 x 4)", "pool2\n(2 x 2)"]


def mosaic(maps, cell):
    """Maps (C, n, n) side by side, each enlarged to cell x cell pixels, with blank 1-pixel gaps."""
    gap = np.full((cell, 1), np.nan)
    tiles = [np.kron(m, np.ones((cell // m.shape[0],) * 2)) for m in maps]
    return np.hstack([t for tile in tiles for t in (tile, gap)][:-1])


fig, axes = plt.subplot_mosaic([["input", "filters"]] + [[name, name] for name in names], figsize=(8.4, 4.6),
                               gridspec_kw={"width_ratios": [1, 8]})
for ax in axes.values():
    ax.set(xticks=[], yticks=[])
axes["input"].imshow(x0[0, 0].numpy(), cmap="gray_r")
axes["input"].set_title(f"input (digit {int(data[3][0])})", fontsize=8)
w1 = cnn[0].weight.detach()[:, 0].numpy()
axes["filters"].imshow(mosaic(w1, 3), cmap="RdBu_r", vmin=-abs(w1).max(), vmax=abs(w1).max())
axes["filters"].set_title("the 8 learned 3 x 3 filters of layer 1 (red positive, blue negative)", fontsize=8)
for stage, name in zip(stages, names):
    axes[name].imshow(mosaic(stage[:8].numpy(), 8), cmap="gray_r", vmin=0)
    axes[name].set_ylabel(name, fontsize=8, rotation=0, ha="right", va="center")
axes[names[0]].set_title("channels 1-8 of each stage for this digit (darker = larger)", fontsize=8)
fig.tight_layout()

# %% Figure 3: test accuracy of the CNN and of an MLP with about the same number of parameters
fig, (ax, ax_shift) = plt.subplots(1, 2, figsize=(9, 3.3))
epochs = np.arange(1, len(history["CNN"]) + 1)
styles = {"CNN": dict(ls="-", marker="o"), "MLP": dict(ls="--", marker="s")}
for name, net in (("CNN", cnn), ("MLP", mlp)):
    ax.plot(epochs, 100 * np.array(history[name]), **styles[name], label=f"{name}, {n_params(net)} parameters")
    ax_shift.plot([0, 1, 2], 100 * np.array(shifted[name]), **styles[name], label=name)
ax.set(xlabel="epoch", ylabel="test accuracy (%)", ylim=(50, 100), title="450 test images")
ax.legend(loc="lower right")
ax_shift.set(xlabel="shift of the test images (pixels)", ylabel="test accuracy (%)", xticks=[0, 1, 2],
             ylim=(0, 100), title="test images shifted (mean of 4 directions)")
ax_shift.legend()
fig.tight_layout()
print(f"Figure 3: CNN {n_params(cnn)} parameters, MLP {n_params(mlp)}; test accuracy after "
      f"{len(epochs)} epochs, shifted by 0/1/2 px: CNN {np.round(100 * np.array(shifted['CNN']), 1)}, "
      f"MLP {np.round(100 * np.array(shifted['MLP']), 1)}")

# %% Figure 4: effective receptive field of stacked 3 x 3 convolutions
depths = (1, 3, 6)
erfs = {n: effective_rf(n) for n in depths}
rfs = {n: receptive_field([(3, 1, 1)] * n)[0][-1] for n in depths}
fig, axes = plt.subplots(1, 4, figsize=(11, 3.1), gridspec_kw={"width_ratios": [1, 1, 1, 1.3]})
c = erfs[1].shape[0] // 2
for ax, n in zip(axes, depths):
    r = rfs[n]
    ax.imshow(erfs[n].numpy(), cmap="magma")
    ax.add_patch(Rectangle((c - r / 2, c - r / 2), r, r, fill=False, ls="--", lw=1.2, ec="C1"))
    ax.set(xticks=[], yticks=[], title=f"{n} layer{'s' if n > 1 else ''}: receptive field {r} x {r}")
offsets = np.arange(erfs[1].shape[0]) - c
for n, (ls, marker) in zip(depths, [("-", "o"), ("--", "s"), (":", "^")]):
    profile = erfs[n].sum(dim=0).numpy()
    axes[3].plot(offsets, profile / profile.max(), ls=ls, marker=marker, ms=3,
                 label=f"{n} layer{'s' if n > 1 else ''}, std {erf_std(erfs[n]):.2f} px")
axes[3].set(xlim=(-8, 8), xlabel="input column - center column", title="column sums (peak = 1)")
axes[3].legend(fontsize=7)
fig.tight_layout()
for n in depths:
    r = rfs[n]
    print(f"Figure 4, {n} layers: receptive field {r} x {r}; std {erf_std(erfs[n]):.2f} px "
          f"(std / r = {erf_std(erfs[n]) / r:.3f}); outer ring {1 - square_mass(erfs[n], r - 2):.3f} of the mass")
print(f"  6 layers: the central 7 x 7 holds {square_mass(erfs[6], 7):.3f} of the mass")

plt.show()
