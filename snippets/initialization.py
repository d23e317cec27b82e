"""Weight initialization: how the scale of the random weights decides what reaches layer 50.

A batch of random inputs goes through a 50-layer fully connected network (width 128, no
biases), once with tanh and once with ReLU, with the weights filled by `torch.nn.init`:
too small N(0, 0.01^2), too large N(0, 1), Xavier (Glorot) normal and He (Kaiming) normal.
Every setup uses the same underlying random draws, so only the scale differs.
Figure 1 plots the standard deviation of the activations per layer.
Figure 2 shows histograms of the tanh activations at layers 1, 10 and 50.
Figure 3 plots the standard deviation of the back-propagated gradient dL/dz per layer.
The numbers the page states about the three figures are printed at the end.
"""

# %% Imports and set-up
import matplotlib.pyplot as plt
import torch
from torch import nn

plt.style.use("tableau-colorblind10")  # a palette safe for color-vision deficiencies
torch.manual_seed(0)
DEPTH, WIDTH, BATCH = 50, 128, 128
DTYPE = torch.float64  # the too-large setups reach 1e50, beyond float32
LAYERS = torch.arange(1, DEPTH + 1)

# name -> function that fills a weight of shape (out, in) in place
INITS = {
    "too small, N(0, 0.01²)": lambda W, g: nn.init.normal_(W, std=0.01, generator=g),
    "too large, N(0, 1)": lambda W, g: nn.init.normal_(W, std=1.0, generator=g),
    "Xavier normal": lambda W, g: nn.init.xavier_normal_(W, generator=g),
    "He normal": lambda W, g: nn.init.kaiming_normal_(W, nonlinearity="relu", generator=g),
}
# one more for tanh: Xavier with PyTorch's recommended gain for tanh
TANH_GAIN = 5 / 3  # nn.init.calculate_gain("tanh")
EXTRA = {"Xavier normal, gain 5/3": lambda W, g: nn.init.xavier_normal_(W, gain=TANH_GAIN, generator=g)}
NETWORKS = {"tanh": (torch.tanh, {**INITS, **EXTRA}), "ReLU": (torch.relu, INITS)}

# %% Run every network forwards and backwards
def run(f, inits, seed=0):
    """Activations and gradients dL/dz of every layer, for all initializations at once.

    The inputs come from `seed`, the weights from `seed + 1` (the same draws for every initialization).
    Returns two lists over layers of tensors shaped (number of inits, batch, width).
    """
    data = torch.Generator().manual_seed(seed)
    inputs = torch.randn(BATCH, WIDTH, dtype=DTYPE, generator=data)
    readout = torch.randn(WIDTH, dtype=DTYPE, generator=data) / WIDTH**0.5
    weights = torch.empty(len(inits), DEPTH, WIDTH, WIDTH, dtype=DTYPE)
    for k, fill in enumerate(inits.values()):
        gen = torch.Generator().manual_seed(seed + 1)  # same draws for every initialization
        for layer in range(DEPTH):
            fill(weights[k, layer], gen)  # a (out, in) = (WIDTH, WIDTH) matrix
    h = inputs.expand(len(inits), BATCH, WIDTH).clone().requires_grad_(True)
    pre, acts = [], []
    for layer in range(DEPTH):
        z = h @ weights[:, layer].transpose(1, 2)  # z = h W^T for each initialization
        pre.append(z)
        h = f(z)
        acts.append(h.detach())
    # L = sum over the batch of a random linear read-out of the last layer
    grads = torch.autograd.grad((h @ readout).sum(), pre)
    return acts, grads


def experiment(seed=0):
    """{(network, initialization): (activations per layer, gradients dL/dz per layer)}."""
    results = {}
    for net, (f, inits) in NETWORKS.items():
        acts, grads = run(f, inits, seed)
        for k, name in enumerate(inits):
            results[net, name] = ([a[k] for a in acts], [g[k] for g in grads])
    return results


results = experiment()

# a line style (and, for two of them, a marker) per initialization: no curve is told apart by color alone
STYLE = {
    "too small, N(0, 0.01²)": dict(color="C0", ls=":", lw=2),
    "too large, N(0, 1)": dict(color="C1", ls="-.", lw=1.8),
    "Xavier normal": dict(color="C3", ls="-", marker="o", markevery=5, ms=4, lw=1.5),
    "He normal": dict(color="C5", ls="-", marker="s", markevery=5, ms=4, lw=1.5),
    "Xavier normal, gain 5/3": dict(color="C4", ls="--", lw=1.5),
}


def per_layer_std(tensors):
    return torch.stack([t.std() for t in tensors])


def plot_std_per_layer(which, title, ylabel):
    """One panel per network: the std of activations (which=0) or gradients (which=1) per layer."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, (net, (_, inits)) in zip(axes, NETWORKS.items()):
        for name in inits:
            ax.semilogy(LAYERS, per_layer_std(results[net, name][which]), label=name, **STYLE[name])
        ax.set_title(f"{net} network, {title}")
        ax.set_xlabel("layer (1 = next to the input)")
        ax.set_ylim(1e-8, 1e8)
        ax.grid(alpha=0.3, which="major")
    axes[0].set_ylabel(ylabel)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=5, fontsize=8)
    fig.tight_layout(rect=(0, 0.07, 1, 1))

# %% Figure 1: activation std per layer
plot_std_per_layer(0, "activations", "std of activations $h^{(l)}$")

# %% Figure 2: histograms of tanh activations at a few layers
SHOW = [1, 10, 50]
bins = torch.linspace(-1, 1, 51)
fig, axes = plt.subplots(1, 4, figsize=(10, 2.9), sharey=True)
for ax, name in zip(axes, INITS):
    acts, _ = results["tanh", name]
    for i, layer in enumerate(SHOW):
        values = acts[layer - 1].flatten().clamp(-1, 1)
        fraction = torch.histc(values, bins=50, min=-1, max=1) / values.numel()
        ax.stairs(fraction, bins, label=f"layer {layer}", color=f"C{(0, 1, 3)[i]}", ls=("-", "--", ":")[i], lw=1.5)
    ax.set_title(name, fontsize=9)
    ax.set_xlabel("tanh activation")
    ax.set_yscale("log")
    ax.set_ylim(1e-4, 1.5)
axes[0].set_ylabel("fraction of units")
axes[-1].legend(fontsize=8, loc="lower center")
fig.tight_layout()

# %% Figure 3: back-propagated gradient std per layer
plot_std_per_layer(1, "gradients", "std of $\\partial L / \\partial z^{(l)}$")

# %% The numbers the page states about Figures 1-3
def stated_numbers(results):
    """The numbers the page states, from experiment()'s results (layer l is index l - 1)."""
    def std(net, name, layer, which=0):
        return results[net, name][which][layer - 1].std().item()

    def second_moment(net, name, layer):
        return results[net, name][0][layer - 1].pow(2).mean().item()

    def grad_growth(net, name):  # std of dL/dz at layer 1 over that at layer 50
        return std(net, name, 1, which=1) / std(net, name, DEPTH, which=1)

    tanh_large_50 = results["tanh", "too large, N(0, 1)"][0][DEPTH - 1]
    tanh_small_10 = results["tanh", "too small, N(0, 0.01²)"][0][10 - 1]
    he_relu = per_layer_std(results["ReLU", "He normal"][0])
    return {
        "tanh, too small: std at layer 1": std("tanh", "too small, N(0, 0.01²)", 1),
        "tanh, too small: std at layer 10": std("tanh", "too small, N(0, 0.01²)", 10),
        "ReLU, too small: std at layer 10": std("ReLU", "too small, N(0, 0.01²)", 10),
        "tanh, too small: std at layer 50": std("tanh", "too small, N(0, 0.01²)", DEPTH),
        "tanh, too small: largest |h| at layer 10": tanh_small_10.abs().max().item(),
        "tanh, too large: fraction of |h| > 0.99 at layer 50": (tanh_large_50.abs() > 0.99).double().mean().item(),
        "tanh, too large: gradient growth from layer 50 to layer 1": grad_growth("tanh", "too large, N(0, 1)"),
        "tanh, Xavier: std at layer 1": std("tanh", "Xavier normal", 1),
        "tanh, Xavier: std at layer 10": std("tanh", "Xavier normal", 10),
        "tanh, Xavier: std at layer 50": std("tanh", "Xavier normal", DEPTH),
        "tanh, He: std at layer 50": std("tanh", "He normal", DEPTH),
        "tanh, Xavier gain 5/3: std at layer 50": std("tanh", "Xavier normal, gain 5/3", DEPTH),
        "tanh, He: gradient growth from layer 50 to layer 1": grad_growth("tanh", "He normal"),
        "tanh, Xavier gain 5/3: gradient growth from layer 50 to layer 1": grad_growth("tanh", "Xavier normal, gain 5/3"),
        "ReLU, He: smallest and largest std over the layers": (he_relu.min().item(), he_relu.max().item()),
        "ReLU, He: gradient growth from layer 50 to layer 1": grad_growth("ReLU", "He normal"),
        "ReLU, Xavier over He: second moment at layer 50":
            second_moment("ReLU", "Xavier normal", DEPTH) / second_moment("ReLU", "He normal", DEPTH),
        "ReLU, Xavier over He: gradient std at layer 1":
            std("ReLU", "Xavier normal", 1, which=1) / std("ReLU", "He normal", 1, which=1),
    }


for key, value in stated_numbers(results).items():
    shown = " to ".join(f"{v:.3g}" for v in value) if isinstance(value, tuple) else f"{value:.3g}"
    print(f"{key}: {shown}")

plt.show()
