"""The convolution layer: cross-correlation, padding, stride, dilation and im2col.

1. A 2-D convolution layer written from its formula (multiple channels, bias, padding,
   stride, dilation, groups), and the same layer as one matrix multiplication (im2col),
   both checked against torch.nn.functional.conv2d.
2. The output-size formula floor((n + 2p - d(k - 1) - 1) / s) + 1, checked against the
   shapes torch.nn.Conv2d produces.
3. Figure 1: a 3x3 kernel on a 7x7 input with no padding, same padding, stride 2 and
   dilation 2: the input cells two neighboring output cells read.
4. Figure 2: output size against input size for several settings.
5. The parameter and multiply-add counts of a layer, checked against numel().

No data are needed: the inputs are small random tensors.
"""

# %% Imports and seeds
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.colors import to_rgba
from matplotlib.patches import Rectangle
from torch import nn

torch.manual_seed(0)
rng = np.random.default_rng(0)  # unused here (all randomness is torch), seeded by convention
torch.set_num_threads(1)  # the tensors are tiny: extra threads only add overhead

# %% The output-size formula
# --8<-- [start:output_size]
def conv_output_size(n, k, p=0, s=1, d=1):
    """Output length along one axis: floor((n + 2p - d(k - 1) - 1) / s) + 1."""
    return (n + 2 * p - d * (k - 1) - 1) // s + 1
# --8<-- [end:output_size]


# %% A convolution layer from its formula
def zero_pad(x, p):
    """Surround the last two axes of x with p zeros on every side."""
    batch, channels, height, width = x.shape
    padded = x.new_zeros(batch, channels, height + 2 * p, width + 2 * p)
    padded[:, :, p:p + height, p:p + width] = x
    return padded


# --8<-- [start:conv2d]
def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Cross-correlation, as deep-learning libraries compute "convolution".
    x: (B, C_in, H, W); weight: (C_out, C_in / groups, k_h, k_w); bias: (C_out,) or None.
    Y[o, i, j] = b[o] + sum_{c, a, b} K[o, c, a, b] * X_padded[c, s*i + d*a, s*j + d*b]"""
    c_out, c_in_per_group, k_h, k_w = weight.shape
    xp = zero_pad(x, padding)
    h_out = conv_output_size(x.shape[2], k_h, padding, stride, dilation)
    w_out = conv_output_size(x.shape[3], k_w, padding, stride, dilation)
    out = x.new_zeros(x.shape[0], c_out, h_out, w_out)
    c_out_per_group = c_out // groups
    for g in range(groups):  # each group of filters sees only its own group of input channels
        x_g = xp[:, g * c_in_per_group:(g + 1) * c_in_per_group]
        w_g = weight[g * c_out_per_group:(g + 1) * c_out_per_group]
        for a in range(k_h):  # one kernel tap (a, b) at a time, for all output positions at once
            for b in range(k_w):
                rows = slice(a * dilation, a * dilation + stride * (h_out - 1) + 1, stride)
                cols = slice(b * dilation, b * dilation + stride * (w_out - 1) + 1, stride)
                tap = x_g[:, :, rows, cols]  # (B, C_in / groups, H_out, W_out)
                out[:, g * c_out_per_group:(g + 1) * c_out_per_group] += torch.einsum(
                    "bchw,oc->bohw", tap, w_g[:, :, a, b])  # sum over the input channels
    if bias is not None:
        out += bias[None, :, None, None]  # one bias per output channel
    return out
# --8<-- [end:conv2d]


# %% The same layer as a matrix multiplication (im2col)
# --8<-- [start:im2col]
def im2col(x, k_h, k_w, stride=1, padding=0, dilation=1):
    """(B, C, H, W) -> (B, C * k_h * k_w, H_out * W_out): column j holds the input values that
    output position j reads (what torch.nn.functional.unfold returns)."""
    xp = zero_pad(x, padding)
    h_out = conv_output_size(x.shape[2], k_h, padding, stride, dilation)
    w_out = conv_output_size(x.shape[3], k_w, padding, stride, dilation)
    taps = [xp[:, :, a * dilation:a * dilation + stride * (h_out - 1) + 1:stride,
               b * dilation:b * dilation + stride * (w_out - 1) + 1:stride]
            for a in range(k_h) for b in range(k_w)]
    cols = torch.stack(taps, dim=2)  # (B, C, k_h * k_w, H_out, W_out)
    return cols.reshape(x.shape[0], -1, h_out * w_out)


def conv2d_im2col(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """The convolution layer as one matrix product: (C_out, C_in k^2) @ (C_in k^2, H_out W_out)."""
    c_out, c_in, k_h, k_w = weight.shape
    cols = im2col(x, k_h, k_w, stride, padding, dilation)
    out = weight.reshape(c_out, c_in * k_h * k_w) @ cols  # (B, C_out, H_out * W_out)
    if bias is not None:
        out = out + bias[:, None]
    h_out = conv_output_size(x.shape[2], k_h, padding, stride, dilation)
    return out.reshape(x.shape[0], c_out, h_out, -1)
# --8<-- [end:im2col]


# %% Parameters and multiply-adds of a layer
# --8<-- [start:counts]
def conv_params_and_macs(c_in, c_out, k, h_out, w_out, groups=1, bias=True):
    """Parameters C_out (C_in / g) k^2 + C_out and multiply-adds C_out (C_in / g) k^2 H_out W_out."""
    weights = c_out * (c_in // groups) * k * k
    params = weights + (c_out if bias else 0)
    macs = weights * h_out * w_out  # every weight is used once per output position
    return params, macs
# --8<-- [end:counts]


# %% Check the layer against PyTorch
x = torch.randn(2, 4, 9, 8, dtype=torch.float64)
w = torch.randn(6, 2, 3, 3, dtype=torch.float64)
b = torch.randn(6, dtype=torch.float64)
for s, p, d in [(1, 0, 1), (1, 1, 1), (2, 1, 1), (1, 2, 2)]:
    ours = conv2d(x, w, b, stride=s, padding=p, dilation=d, groups=2)
    ref = F.conv2d(x, w, b, stride=s, padding=p, dilation=d, groups=2)
    print(f"stride {s}, padding {p}, dilation {d}: output {tuple(ours.shape)}, "
          f"largest difference from F.conv2d {(ours - ref).abs().max().item():.1e}")
w1 = torch.randn(6, 4, 3, 3, dtype=torch.float64)
print("im2col vs F.conv2d:", (conv2d_im2col(x, w1, b, 2, 1) - F.conv2d(x, w1, b, 2, 1)).abs().max().item())

# %% Figure 1: a 3x3 kernel on a 7x7 input, four settings
N_FIG, K_FIG = 7, 3  # input size and kernel size of every panel
PANELS = [  # (title, padding, stride, dilation)
    ("no padding (valid)", 0, 1, 1),
    ("same padding, p = 1", 1, 1, 1),
    ("stride 2, p = 1", 1, 2, 1),
    ("dilation 2, no padding", 0, 1, 2),
]


def taps_of(i, j, p, s, d, k=K_FIG):
    """Cells of the padded input that output cell (i, j) reads."""
    return {(s * i + d * a, s * j + d * b) for a in range(k) for b in range(k)}


def draw_panel(ax, title, p, s, d, n=N_FIG):
    size = n + 2 * p
    out = conv_output_size(n, K_FIG, p, s, d)
    first, second = taps_of(0, 0, p, s, d), taps_of(0, 1, p, s, d)
    for r in range(size):
        for c in range(size):
            is_pad = not (p <= r < p + n and p <= c < p + n)
            hatch = ("xx" if (r, c) in first and (r, c) in second else "///" if (r, c) in first
                     else "\\\\\\" if (r, c) in second else ".." if is_pad else None)
            color = to_rgba("C0", 0.35) if (r, c) in first else to_rgba("C1", 0.35) if (r, c) in second else "none"
            ax.add_patch(Rectangle((c, size - 1 - r), 1, 1, facecolor=color, hatch=hatch, edgecolor="0.4", lw=0.6,
                                   ls="--" if is_pad else "-"))
    x0 = size + 1.5  # the output grid, right of the input
    y0 = size - out
    for r in range(out):
        for c in range(out):
            cell = (r, c)
            hatch = "///" if cell == (0, 0) else "\\\\\\" if cell == (0, 1) else None
            color = to_rgba("C0", 0.35) if cell == (0, 0) else to_rgba("C1", 0.35) if cell == (0, 1) else "none"
            ax.add_patch(Rectangle((x0 + c, y0 + out - 1 - r), 1, 1, facecolor=color, hatch=hatch,
                                   edgecolor="0.3", lw=0.8))
    ax.annotate("", xy=(x0 - 0.2, size / 2), xytext=(size + 0.2, size / 2),
                arrowprops=dict(arrowstyle="->", lw=1.2, color="0.4"))
    largest = N_FIG + 2  # the same scale in every panel: the largest padded input, then the largest output
    ax.set(xlim=(-0.3, largest + 1.5 + largest + 0.3), ylim=(-0.3, largest + 0.3), aspect="equal",
           title=f"{title}: {n}×{n} → {out}×{out}")
    ax.axis("off")
    return out


plt.style.use("tableau-colorblind10")
fig, axes = plt.subplots(2, 2, figsize=(9, 6.4))
figure1_sizes = [draw_panel(ax, *panel) for ax, panel in zip(axes.flat, PANELS)]
fig.tight_layout()
print("Figure 1: output sizes", figure1_sizes)

# %% Figure 2: output size against input size
SETTINGS = [  # (label, k, p, s, d, style)
    ("k = 3, p = 2 (full)", 3, 2, 1, 1, {"ls": "-", "marker": "^"}),
    ("k = 3, p = 1 (same)", 3, 1, 1, 1, {"ls": "-", "marker": "o"}),
    ("k = 3, p = 0 (valid)", 3, 0, 1, 1, {"ls": "--", "marker": "s"}),
    ("k = 3, p = 0, d = 2", 3, 0, 1, 2, {"ls": ":", "marker": "D"}),
    ("k = 3, p = 1, s = 2", 3, 1, 2, 1, {"ls": "-.", "marker": "v"}),
    ("k = 2, p = 0, s = 2 (2×2 pooling)", 2, 0, 2, 1, {"ls": (0, (5, 1, 1, 1, 1, 1)), "marker": "x"}),
]
INPUT_SIZES = [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
fig, ax = plt.subplots(figsize=(6.4, 4.2))
for label, k, p, s, d, style in SETTINGS:
    ax.plot(INPUT_SIZES, [conv_output_size(n, k, p, s, d) for n in INPUT_SIZES], label=label, ms=5, **style)
ax.set(xlabel="input size $n$", ylabel="output size", title="Output size against input size")
ax.set_xticks(INPUT_SIZES[::2])
ax.yaxis.get_major_locator().set_params(integer=True)
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
fig.tight_layout()
print("Figure 2: output sizes at n = 7 and n = 8:",
      {label: (conv_output_size(7, k, p, s, d), conv_output_size(8, k, p, s, d)) for label, k, p, s, d, _ in SETTINGS})

# %% Parameters and multiply-adds of one layer, against numel()
layer = nn.Conv2d(64, 128, kernel_size=3, padding=1)
h_out = conv_output_size(56, 3, 1)
params, macs = conv_params_and_macs(64, 128, 3, h_out, h_out)
assert params == sum(q.numel() for q in layer.parameters())
print(f"Conv2d(64, 128, 3) on 56x56: {params:,} parameters, {macs:,} multiply-adds")

plt.show()
