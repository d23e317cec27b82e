"""Why convolution: locality, weight sharing and translation equivariance.

1. Parameter counts of a fully connected, a locally connected and a convolutional layer that
   all map an s x s image to 32 feature maps of the same size, as s grows.
2. Two hand-made edge filters (Sobel) applied to a digit from scikit-learn's load_digits: the
   two feature maps of a convolutional layer with one input and two output channels.
3. Translation equivariance, measured: shift the input, apply the layer, and compare with the
   shifted output of the unshifted input, for a convolution with zero padding, a convolution
   with circular padding, and a fully connected layer.

The numbers the page states about the figures are computed here and printed.
"""

# %% Imports and seeds
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn

torch.manual_seed(0)
rng = np.random.default_rng(0)
plt.style.use("tableau-colorblind10")  # a palette safe for color-vision deficiency

# Sobel filters, written for PyTorch's convolution (cross-correlation: the filter is not flipped)
SOBEL_X = [[-1.0, 0.0, 1.0],
           [-2.0, 0.0, 2.0],
           [-1.0, 0.0, 1.0]]  # right column minus left column: responds to vertical edges
SOBEL_Y = [[-1.0, -2.0, -1.0],
           [0.0, 0.0, 0.0],
           [1.0, 2.0, 1.0]]  # bottom row minus top row: responds to horizontal edges


# %% Parameter counts of three layers with the same input and output shapes
def param_counts(side, c_in=1, c_out=32, k=3):
    """Parameters (weights and biases) of three layers that map a (c_in, side, side) image to
    (c_out, side, side) feature maps: fully connected, locally connected (a k x k window per
    output unit, no sharing) and convolutional (one k x k x c_in filter per output channel)."""
    positions = side * side
    dense = (c_in * positions) * (c_out * positions) + c_out * positions
    local = positions * c_out * (k * k * c_in + 1)
    conv = c_out * (k * k * c_in + 1)
    return {"fully connected": dense, "locally connected": local, "convolutional": conv}


# %% Figure 1: parameter counts as the image grows
sides = (8, 28, 64, 224)
counts = {s: param_counts(s) for s in sides}
fig, ax = plt.subplots(figsize=(7, 3.6))
width = 0.26
for j, (kind, hatch) in enumerate([("fully connected", ""), ("locally connected", "//"), ("convolutional", "..")]):
    values = [counts[s][kind] for s in sides]
    ax.bar(np.arange(len(sides)) + (j - 1) * width, values, width, label=kind, hatch=hatch, edgecolor="k", lw=0.6)
ax.set_yscale("log")
ax.set_xticks(np.arange(len(sides)), [f"{s} x {s}" for s in sides])
ax.set(xlabel="image size (one channel in, 32 feature maps out, 3 x 3 windows)", ylabel="parameters (log scale)",
       title="One layer, same input and output shapes")
ax.legend(fontsize=8)
fig.tight_layout()
for s in sides:
    print(f"Figure 1, {s} x {s}: " + ", ".join(f"{kind} {n:,}" for kind, n in counts[s].items()))

# %% Figure 2: edge filters on a digit
def digit_image(index=0, scale=4):
    """Digit `index` of load_digits (8 x 8, values 0..16), scaled to [0, 1] and enlarged
    `scale` times by bilinear interpolation, as a float64 tensor."""
    image = torch.tensor(load_digits().images[index] / 16.0)
    return F.interpolate(image[None, None], scale_factor=scale, mode="bilinear")[0, 0]


# --8<-- [start:edge_maps]
def edge_maps(image):
    """The two feature maps of a convolutional layer whose filters are SOBEL_X and SOBEL_Y
    (no bias, zero padding 1, so each map has the image's size)."""
    weight = torch.tensor([SOBEL_X, SOBEL_Y], dtype=image.dtype).unsqueeze(1)  # (C_out, C_in, 3, 3) = (2, 1, 3, 3)
    return F.conv2d(image[None, None], weight, padding=1)[0]  # (2, H, W)
# --8<-- [end:edge_maps]


image = digit_image()
maps = edge_maps(image)
padded = F.pad(image, (1, 1, 1, 1))[None, None]  # the zero padding the convolution sees
window_constant = (F.max_pool2d(padded, 3, 1) == -F.max_pool2d(-padded, 3, 1))[0, 0]  # max = min in the window
zero_where_constant = maps[:, window_constant].abs().max().item()
share_constant = window_constant.double().mean().item()
fig, axes = plt.subplots(1, 5, figsize=(11, 2.6))
limit = maps.abs().max().item()
panels = [(image, "input digit", "gray_r", 0, 1), (torch.tensor(SOBEL_X), "filter 1: vertical edges", "PuOr_r", -2, 2),
          (maps[0], "feature map 1", "PuOr_r", -limit, limit),
          (torch.tensor(SOBEL_Y), "filter 2: horizontal edges", "PuOr_r", -2, 2),
          (maps[1], "feature map 2", "PuOr_r", -limit, limit)]
for ax, (data, title, cmap, lo, hi) in zip(axes, panels):
    ax.imshow(data.numpy(), cmap=cmap, vmin=lo, vmax=hi)
    ax.set(title=title, xticks=[], yticks=[])
    if data.shape == (3, 3):  # write the filter's weights into its cells
        for (i, j), w in np.ndenumerate(data.numpy()):
            ax.text(j, i, f"{w:g}", ha="center", va="center", fontsize=9, color="w" if abs(w) == 2 else "k")
fig.tight_layout()
print(f"Figure 2: image {tuple(image.shape)}, largest |response| {limit:.2f}, "
      f"largest |response| where the 3x3 window is constant {zero_where_constant}, "
      f"share of such positions {share_constant:.0%}")


# %% Figure 3: translation equivariance, shift then convolve or convolve then shift
def shift(x, dy, dx, circular=False):
    """Translate the last two axes of x by (dy, dx) pixels: circularly (what leaves one side
    comes back on the other), or filling the pixels that enter with zeros."""
    out = torch.roll(x, shifts=(dy, dx), dims=(-2, -1))
    if not circular:  # zero the rows and columns that came around from the other side
        rows = slice(0, dy) if dy >= 0 else slice(dy, None)
        cols = slice(0, dx) if dx >= 0 else slice(dx, None)
        out[..., rows, :] = 0
        out[..., :, cols] = 0
    return out


def equivariance_gap(layer, x, dy, dx, circular=False):
    """|layer(shift(x)) - shift(layer(x))| at every output position."""
    return (layer(shift(x, dy, dx, circular)) - shift(layer(x), dy, dx, circular)).abs()


def make_layers(side, k=3, seed=0):
    """A random k x k convolution (with bias) applied with zero or circular padding, and a random
    fully connected layer from side * side inputs to side * side outputs, all in float64."""
    gen = torch.Generator().manual_seed(seed)
    weight = torch.randn(1, 1, k, k, generator=gen, dtype=torch.float64)
    bias = torch.randn(1, generator=gen, dtype=torch.float64)
    dense = nn.Linear(side * side, side * side, dtype=torch.float64)
    with torch.no_grad():
        dense.weight.copy_(torch.randn(side * side, side * side, generator=gen, dtype=torch.float64) / side)
        dense.bias.copy_(torch.randn(side * side, generator=gen, dtype=torch.float64))

    def conv_zero(img):
        return F.conv2d(img[None, None], weight, bias, padding=k // 2)[0, 0]

    def conv_circular(img):
        padded = F.pad(img[None, None], (k // 2,) * 4, mode="circular")
        return F.conv2d(padded, weight, bias)[0, 0]

    def fully_connected(img):
        return dense(img.reshape(-1)).reshape(side, side)

    return conv_zero, conv_circular, fully_connected


def equivariance_experiment(dy=2, dx=3, k=3, noise=0.3, seed=0):
    """A digit on a noisy background (so that the image has content up to its borders), shifted
    by (dy, dx). Returns the image and, per layer, f(Tx), T f(x) and their absolute difference,
    with the interior margin |shift| + k // 2 outside which the zero-padded convolution may differ."""
    gen = torch.Generator().manual_seed(seed)
    x = digit_image()
    x = x + noise * torch.rand(x.shape, generator=gen, dtype=torch.float64)
    conv_zero, conv_circular, fully_connected = make_layers(x.shape[-1], k, seed)
    rows = {}
    with torch.no_grad():
        for name, layer, circular in [("convolution, zero padding", conv_zero, False),
                                      ("convolution, circular padding", conv_circular, True),
                                      ("fully connected", fully_connected, False)]:
            rows[name] = (layer(shift(x, dy, dx, circular)), shift(layer(x), dy, dx, circular),
                          equivariance_gap(layer, x, dy, dx, circular))
    return x, rows, max(abs(dy), abs(dx)) + k // 2


def equivariance_numbers(rows, margin):
    """Largest |f(Tx) - T f(x)| inside the margin and anywhere, and the largest |f(Tx)|, per layer."""
    return {name: dict(interior=gap[margin:-margin, margin:-margin].max().item(), anywhere=gap.max().item(),
                       output=f_shifted.abs().max().item())
            for name, (f_shifted, _, gap) in rows.items()}


x, rows, margin = equivariance_experiment()
numbers = equivariance_numbers(rows, margin)
fig, axes = plt.subplots(3, 4, figsize=(9.5, 7.4))
axes[0, 0].imshow(x.numpy(), cmap="gray_r")
axes[0, 0].set_title("input $x$", fontsize=9)
axes[1, 0].imshow(shift(x, 2, 3).numpy(), cmap="gray_r")
axes[1, 0].set_title("$Tx$: shifted by (2, 3)", fontsize=9)
axes[2, 0].axis("off")
for r, (name, (f_shifted, shifted_f, gap)) in enumerate(rows.items()):
    lim = f_shifted.abs().max().item()
    for c, (data, title) in enumerate([(f_shifted, "$f(Tx)$"), (shifted_f, "$T f(x)$"),
                                       (gap, r"$|f(Tx) - T f(x)|$")], start=1):
        cmap, lo, hi = ("gray_r", 0, lim) if c == 3 else ("PuOr_r", -lim, lim)
        axes[r, c].imshow(data.numpy(), cmap=cmap, vmin=lo, vmax=hi)
        axes[r, c].set_title(f"{name}\n{title}", fontsize=8)
    side = gap.shape[-1]  # the interior, where the zero-padded convolution is exactly equivariant
    axes[r, 3].add_patch(plt.Rectangle((margin - 0.5, margin - 0.5), side - 2 * margin, side - 2 * margin,
                                       fill=False, ls="--", lw=1.2, ec="k"))
for ax in axes.flat:
    ax.set(xticks=[], yticks=[])
fig.tight_layout()
for name, v in numbers.items():
    print(f"Figure 3, {name}: max |f(Tx) - T f(x)| inside the margin {v['interior']:.3g}, "
          f"anywhere {v['anywhere']:.3g}, max |f(Tx)| {v['output']:.3g}")

plt.show()
