"""Activation functions, their derivatives and what they do to gradients.

Figure 1 plots the common activations (step, sigmoid, tanh, ReLU family, ELU, SELU, GELU).
Figure 2 plots their derivatives, computed by PyTorch autograd, and marks the value
autograd returns exactly at x = 0, where several of them have a kink.
Figure 3 pushes a batch through a 30-layer MLP with each activation (each with its usual
initialization) and shows the gradient norm per layer and the distribution of the local
derivatives f'(z) in a middle layer: sigmoid's are all below 1/4, so the gradient vanishes.
It also computes SERLU's constants from the two fixed-point conditions that define SELU's.
Every curve in a panel has its own line style (or marker), so no curve is told apart by color alone.
"""

# %% Imports, the palette and the list of activations
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

# Okabe-Ito colors, distinguishable with any common color-vision deficiency
plt.rcParams["axes.prop_cycle"] = plt.cycler(color=["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"])
torch.manual_seed(0)

# name -> function; Leaky ReLU uses slope 0.1 (not the default 0.01) so that it is visible
ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "ReLU": F.relu,
    "Leaky ReLU (a=0.1)": lambda x: F.leaky_relu(x, negative_slope=0.1),
    "PReLU (a=0.25)": lambda x: F.prelu(x, torch.tensor([0.25])),
    "ELU (alpha=1)": F.elu,
    "SELU": F.selu,
    "GELU": F.gelu,
}
PANELS = [
    ("Sigmoidal", ["sigmoid", "tanh"]),
    ("ReLU family", ["ReLU", "Leaky ReLU (a=0.1)", "PReLU (a=0.25)"]),
    ("Exponential / smooth", ["ELU (alpha=1)", "SELU", "GELU"]),
]
LINESTYLES = ["-", "--", "-.", ":"]  # the k-th curve of a panel; the step function is drawn in gray dots

x = torch.linspace(-4, 4, 401)

# %% SERLU's own constants, from the fixed-point conditions that also give SELU's
def serlu_constants():
    """(lambda, alpha) of SERLU, lambda x for x >= 0 and lambda alpha x e^x for x < 0 (Zhang & Li, 2018):
    the values for which E[f(z)] = 0 and E[f(z)^2] = 1 when z ~ N(0, 1), by numerical integration."""
    z = torch.linspace(-40.0, 40.0, 400001, dtype=torch.float64)
    density = torch.exp(-(z**2) / 2) / math.sqrt(2 * math.pi)
    positive = torch.where(z > 0, z, 0.0)
    negative = torch.where(z < 0, z * torch.exp(z), 0.0)  # the shape of the negative side, without lambda alpha
    # mean 0 fixes alpha: E[z; z > 0] + alpha E[z e^z; z < 0] = 0
    alpha = -torch.trapezoid(positive * density, z) / torch.trapezoid(negative * density, z)
    # second moment 1 fixes lambda
    second = torch.trapezoid((positive + alpha * negative) ** 2 * density, z)
    return (1 / second.sqrt()).item(), alpha.item()


lam, alpha = serlu_constants()
print(f"SERLU: lambda = {lam:.4f}, alpha = {alpha:.4f}")

# %% Figure 1: the activations
def step(t):
    return (t > 0).to(t.dtype)


def finish_panel(ax, title):
    """Axes through the origin, title, x label, grid and legend, the same on every panel."""
    ax.axhline(0, color="k", lw=0.5)
    ax.axvline(0, color="k", lw=0.5)
    ax.set_title(title)
    ax.set_xlabel("$x$")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")


fig, axes = plt.subplots(1, 3, figsize=(10, 3.3), sharex=True)
for ax, (title, names) in zip(axes, PANELS):
    if title == "Sigmoidal":
        ax.plot(x, step(x), ":", label="step", color="0.45", lw=2)
    for name, ls in zip(names, LINESTYLES):
        ax.plot(x, ACTIVATIONS[name](x), ls, label=name, lw=1.8)
    finish_panel(ax, title)
axes[0].set_ylabel("$f(x)$")
fig.tight_layout()

# %% Figure 2: the derivatives, computed by autograd
def autograd_derivative(f, points):
    """df/dx at each point, as PyTorch's backward pass computes it."""
    points = points.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(f(points).sum(), points)
    return grad


def break_at_zero(values):
    """Insert NaN between x < 0 and x > 0 so that a jump at 0 is not drawn as a vertical line."""
    nan = torch.tensor([float("nan")])
    return torch.cat([values[x < 0], nan, values[x > 0]])


zero = torch.zeros(1)
fig, axes = plt.subplots(1, 3, figsize=(10, 3.3), sharex=True)
for ax, (title, names) in zip(axes, PANELS):
    for name, ls in zip(names, LINESTYLES):
        slope = autograd_derivative(ACTIVATIONS[name], x)
        (line,) = ax.plot(break_at_zero(x), break_at_zero(slope), ls, label=name, lw=1.8)
        # the value autograd uses exactly at the kink x = 0
        ax.plot(0, autograd_derivative(ACTIVATIONS[name], zero), "o", color=line.get_color(), ms=5)
    finish_panel(ax, title)
axes[0].axhline(0.25, color="k", ls=":", lw=1)
axes[0].set_ylabel("$f'(x)$ (autograd; dot = value at $x=0$)")
fig.tight_layout()

# %% Figure 3: gradients through a deep stack of layers
DEPTH, WIDTH, BATCH, PROBE = 30, 128, 256, 15
# activation -> (function, weight std as a function of fan-in n); no biases.
# For square layers Xavier and LeCun both give std sqrt(1/n); He gives sqrt(2/n).
SETUPS = {
    "sigmoid (Xavier)": (torch.sigmoid, lambda n: (1 / n) ** 0.5),
    "tanh (Xavier)": (torch.tanh, lambda n: (1 / n) ** 0.5),
    "ReLU (He)": (F.relu, lambda n: (2 / n) ** 0.5),
    "SELU (LeCun)": (F.selu, lambda n: (1 / n) ** 0.5),
}
STYLES = [("-", "o"), ("--", "s"), ("-.", "^"), (":", "D")]  # (line style, marker) per setup


def deep_stack_gradients(f, std, depth=DEPTH, width=WIDTH, batch=BATCH, probe=PROBE):
    """One batch through `depth` square layers with activation f: the norm of each layer's weight
    gradient (layer 1 next to the input) and the local derivatives f'(z) in layer `probe`."""
    data = torch.Generator().manual_seed(0)  # the same batch and readout for every activation
    inputs = torch.randn(batch, width, generator=data)
    readout = torch.randn(width, 1, generator=data) / width**0.5
    gen = torch.Generator().manual_seed(1)  # the same weights (up to scale) for every activation
    weights = [(torch.randn(width, width, generator=gen) * std(width)).requires_grad_(True) for _ in range(depth)]
    h, pre = inputs, []
    for W in weights:
        z = h @ W
        pre.append(z)
        h = f(z)
    loss = (h @ readout).pow(2).mean()
    grads = torch.autograd.grad(loss, weights)
    norms = torch.stack([g.norm() for g in grads])
    local = autograd_derivative(f, pre[probe - 1].detach()).flatten()  # f'(z), again from autograd
    return norms, local


def shrink_per_layer(norms):
    """The median factor by which the gradient norm shrinks from one layer to the layer below it."""
    return (norms[1:] / norms[:-1]).median().item()


fig, (ax_norm, ax_hist) = plt.subplots(1, 2, figsize=(10, 3.5))
for (name, (f, std)), (ls, marker) in zip(SETUPS.items(), STYLES):
    norms, local = deep_stack_gradients(f, std)
    ax_norm.semilogy(range(1, DEPTH + 1), norms, ls=ls, marker=marker, ms=3.5, label=name)
    ax_hist.hist(local, bins=60, range=(0, 1.8), histtype="step", ls=ls, lw=1.5, density=True, label=name)
    if name.startswith("sigmoid"):
        print(f"sigmoid: every f'(z) in layer {PROBE} below 1/4: {bool((local < 0.25).all())}; "
              f"the gradient shrinks by a factor of {shrink_per_layer(norms):.1f} per layer")

ax_norm.set_xlabel("layer (1 = next to the input)")
ax_norm.set_ylabel(r"$\|\partial L / \partial \mathbf{W}^{(l)}\|$")
ax_norm.set_title(f"Gradient norm per layer ({DEPTH} layers)")
ax_norm.grid(alpha=0.3, which="both")
ax_norm.legend(fontsize=8)
ax_hist.axvline(0.25, color="k", ls=":", lw=1)
ax_hist.set_yscale("log")
ax_hist.set_xlabel(f"local derivative $f'(z)$ in layer {PROBE}")
ax_hist.set_ylabel("density")
ax_hist.set_title("Local derivatives")
ax_hist.legend(fontsize=8)
fig.tight_layout()

plt.show()
