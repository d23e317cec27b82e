"""Activation functions, their derivatives and what they do to gradients.

Figure 1 plots the common activations (step, sigmoid, tanh, ReLU family, ELU, SELU, GELU).
Figure 2 plots their derivatives, computed by PyTorch autograd, and marks the value
autograd returns exactly at x = 0, where several of them have a kink.
Figure 3 pushes a batch through a 30-layer MLP with each activation (each with its usual
initialization) and shows the gradient norm per layer and the distribution of the local
derivatives f'(z) in a middle layer: sigmoid's are all below 1/4, so the gradient vanishes.
"""

# %% Imports and the list of activations
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

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

x = torch.linspace(-4, 4, 401)


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
        ax.plot(x, step(x), label="step", color="0.6", lw=1.5)
    for name in names:
        ax.plot(x, ACTIVATIONS[name](x), label=name, lw=1.8)
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
    for name in names:
        slope = autograd_derivative(ACTIVATIONS[name], x)
        (line,) = ax.plot(break_at_zero(x), break_at_zero(slope), label=name, lw=1.8)
        # the value autograd uses exactly at the kink x = 0
        ax.plot(0, autograd_derivative(ACTIVATIONS[name], zero), "o", color=line.get_color(), ms=5)
    finish_panel(ax, title)
axes[0].axhline(0.25, color="C0", ls=":", lw=1)
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

inputs = torch.randn(BATCH, WIDTH)
readout = torch.randn(WIDTH, 1) / WIDTH**0.5
fig, (ax_norm, ax_hist) = plt.subplots(1, 2, figsize=(10, 3.5))
for name, (f, std) in SETUPS.items():
    gen = torch.Generator().manual_seed(1)  # same weights (up to scale) for every activation
    weights = [(torch.randn(WIDTH, WIDTH, generator=gen) * std(WIDTH)).requires_grad_(True) for _ in range(DEPTH)]
    h = inputs
    pre = []
    for W in weights:
        z = h @ W
        pre.append(z)
        h = f(z)
    loss = (h @ readout).pow(2).mean()
    grads = torch.autograd.grad(loss, weights)
    norms = torch.stack([g.norm() for g in grads])
    ax_norm.semilogy(range(1, DEPTH + 1), norms, marker=".", label=name)
    # local derivatives f'(z) in the probe layer, again from autograd
    z_probe = pre[PROBE - 1].detach()
    local = autograd_derivative(f, z_probe).flatten()
    ax_hist.hist(local, bins=60, range=(0, 1.8), histtype="step", lw=1.5, density=True, label=name)

ax_norm.set_xlabel("layer (1 = next to the input)")
ax_norm.set_ylabel(r"$\|\partial L / \partial W_\ell\|$")
ax_norm.set_title(f"Gradient norm per layer ({DEPTH} layers)")
ax_norm.grid(alpha=0.3, which="both")
ax_norm.legend(fontsize=8)
ax_hist.axvline(0.25, color="C0", ls=":", lw=1)
ax_hist.set_yscale("log")
ax_hist.set_xlabel(f"local derivative $f'(z)$ in layer {PROBE}")
ax_hist.set_ylabel("density")
ax_hist.set_title("Local derivatives")
ax_hist.legend(fontsize=8)
fig.tight_layout()

plt.show()
