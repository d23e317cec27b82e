"""Backpropagation: a computational graph by hand, the rule of one gate, and gradients through many layers.

Figure 1 draws the computational graph of f = (x + y) * max(y, z) at x = 3, y = 2, z = -1,
with the forward value above every edge and the gradient df/d(.) below it, in a box. All the
numbers come from PyTorch autograd; y feeds two gates, so its gradient is the sum of two edges.
Figure 2 is a schematic of one gate: forward values flow to the right (solid arrows), gradients
flow back to the left (dashed arrows), and the gate multiplies the upstream gradient by its
local gradient to get the downstream gradient.
Figure 3 backpropagates through 30-layer MLPs and plots the gradient norm per layer:
sigmoid with Xavier initialization (vanishes), ReLU with He initialization (stable), and
ReLU with weights 0.8x or 1.25x the He scale (vanishes or explodes geometrically).
The numbers the page states about Figure 3 are printed at the end.
"""

# %% Imports
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from matplotlib.patches import Circle, FancyBboxPatch

plt.style.use("tableau-colorblind10")  # a palette safe for color-vision deficiencies
torch.manual_seed(0)

# %% Forward and backward pass of f = (x + y) * max(y, z) with autograd
x = torch.tensor(3.0, requires_grad=True)
y = torch.tensor(2.0, requires_grad=True)
z = torch.tensor(-1.0, requires_grad=True)
q = x + y  # add gate
m = torch.maximum(y, z)  # max gate
f = q * m  # multiply gate
for node in (q, m, f):
    node.retain_grad()  # keep the gradients of intermediate nodes for the figure
f.backward()
print(f"f = {f.item():g}; df/dx = {x.grad.item():g}, df/dy = {y.grad.item():g}, df/dz = {z.grad.item():g}")

# %% Figure 1: the annotated computational graph
POS = {"x": (0, 2.8), "y": (0, 1.4), "z": (0, 0), "+": (2.6, 2.3), "max": (2.6, 0.5), "*": (4.8, 1.4), "f": (6.5, 1.4)}
LABEL = {"x": "$x$", "y": "$y$", "z": "$z$", "+": "$+$", "max": "max", "*": r"$\times$", "f": "$f$"}
# the gradient each gate sends back along each input edge (upstream x local gradient)
local_max_y, local_max_z = float(y >= z), float(z > y)  # max routes the gradient to the larger input
EDGES = [  # (from, to, forward value, gradient of f with respect to that value)
    ("x", "+", x.item(), q.grad.item() * 1.0),
    ("y", "+", y.item(), q.grad.item() * 1.0),
    ("y", "max", y.item(), m.grad.item() * local_max_y),
    ("z", "max", z.item(), m.grad.item() * local_max_z),
    ("+", "*", q.item(), q.grad.item()),
    ("max", "*", m.item(), m.grad.item()),
    ("*", "f", f.item(), f.grad.item()),
]
# fan-out: the two edges leaving y add up to autograd's df/dy
assert EDGES[1][3] + EDGES[2][3] == y.grad.item()
RADIUS = 0.32
GRAD_COLOR = "C5"  # dark orange; the gradients are also boxed and bold
GRAD_BOX = dict(boxstyle="round,pad=0.15", fc="white", ec=GRAD_COLOR, lw=0.8)

fig, ax = plt.subplots(figsize=(8, 4.2))
for name, (px, py) in POS.items():
    ax.add_patch(Circle((px, py), RADIUS, fc="0.92" if name in "xyz" else "white", ec="k", lw=1.2))
    ax.text(px, py, LABEL[name], ha="center", va="center", fontsize=12)
for a, b, value, grad in EDGES:
    (ax0, ay0), (bx0, by0) = POS[a], POS[b]
    dx, dy = bx0 - ax0, by0 - ay0
    length = (dx**2 + dy**2) ** 0.5
    ux, uy = dx / length, dy / length
    start = (ax0 + RADIUS * ux, ay0 + RADIUS * uy)
    end = (bx0 - RADIUS * ux, by0 - RADIUS * uy)
    ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle="-|>", color="0.3", lw=1.2))
    mx, my = ax0 + 0.45 * dx, ay0 + 0.45 * dy  # labels a little before the middle, where the edges are apart
    ax.text(mx, my + 0.1, f"{value:g}", ha="center", va="bottom", fontsize=11)
    ax.text(mx, my - 0.14, f"{grad:g}", ha="center", va="top", fontsize=10, color=GRAD_COLOR, weight="bold", bbox=GRAD_BOX)
ax.text(-0.45, POS["y"][1], f"{EDGES[1][3]:g} + {EDGES[2][3]:g} = {y.grad.item():g}", ha="right", va="center",
        fontsize=10, color=GRAD_COLOR, weight="bold")
ax.text(3.25, -0.65, r"above an edge: forward value      below, boxed: gradient $\partial f / \partial(\cdot)$",
        ha="center", fontsize=9)
ax.set_xlim(-1.9, 7)
ax.set_ylim(-0.85, 3.25)
ax.set_aspect("equal")
ax.axis("off")
fig.tight_layout()

# %% Figure 2: one gate in the forward and the backward pass (a schematic)
FORWARD, BACKWARD = dict(color="C0", lw=1.6), dict(color="C5", lw=1.6, ls="--")
fig, ax = plt.subplots(figsize=(8.5, 3.4))
ax.add_patch(Circle((0.6, 2), 0.38, fc="0.92", ec="k", lw=1.2))
ax.text(0.6, 2, "$x$", ha="center", va="center", fontsize=14)
ax.add_patch(FancyBboxPatch((3.2, 1.25), 2.2, 1.5, boxstyle="round,pad=0.08", fc="white", ec="k", lw=1.4))
ax.text(4.3, 2.35, "gate", ha="center", va="center", fontsize=11)
ax.text(4.3, 1.75, "$y = g(x)$", ha="center", va="center", fontsize=12)
ax.add_patch(FancyBboxPatch((7.3, 1.25), 2.0, 1.5, boxstyle="round,pad=0.08", fc="0.96", ec="k", lw=1.2, ls=":"))
ax.text(8.3, 2.25, "rest of\nthe graph", ha="center", va="center", fontsize=10)
ax.text(8.3, 1.55, r"$\to L$", ha="center", va="center", fontsize=12)
# forward pass: values to the right, above the center line
for (x0, x1), text in [((1.0, 3.1), "$x$"), ((5.5, 7.2), "$y$")]:
    ax.annotate("", xy=(x1, 2.45), xytext=(x0, 2.45), arrowprops=dict(arrowstyle="-|>", **FORWARD))
    ax.text((x0 + x1) / 2, 2.55, text, ha="center", va="bottom", fontsize=12, color="C0")
# backward pass: gradients to the left, below the center line
for (x0, x1), text, role in [((7.2, 5.5), r"$\partial L / \partial y$", "upstream"),
                             ((3.1, 1.0), r"$\partial L / \partial x$", "downstream")]:
    ax.annotate("", xy=(x1, 1.55), xytext=(x0, 1.55), arrowprops=dict(arrowstyle="-|>", **BACKWARD))
    ax.text((x0 + x1) / 2, 1.45, f"{role}\n{text}", ha="center", va="top", fontsize=11, color="C5")
ax.text(4.3, 0.95, r"local: $\partial y / \partial x$", ha="center", va="top", fontsize=11)
ax.text(4.3, 0.25, r"downstream = upstream $\times$ local:   "
        r"$\dfrac{\partial L}{\partial x} = \dfrac{\partial L}{\partial y} \cdot \dfrac{\partial y}{\partial x}$",
        ha="center", va="center", fontsize=12)
ax.text(0.1, 3.2, "forward pass (solid): values, stored for the backward pass", fontsize=9, color="C0")
ax.text(9.4, 3.2, r"backward pass (dashed): gradients, starting from $\partial L / \partial L = 1$", fontsize=9,
        color="C5", ha="right")
ax.set_xlim(0, 9.5)
ax.set_ylim(-0.2, 3.5)
ax.set_aspect("equal")
ax.axis("off")
fig.tight_layout()

# %% Figure 3: gradient norm per layer in deep networks
# name -> (activation, weight std as a function of the fan-in n); square layers, no biases
SETUPS = {
    "sigmoid, Xavier": (torch.sigmoid, lambda n: (1 / n) ** 0.5),
    "ReLU, He": (F.relu, lambda n: (2 / n) ** 0.5),
    "ReLU, 0.8 x He": (F.relu, lambda n: 0.8 * (2 / n) ** 0.5),
    "ReLU, 1.25 x He": (F.relu, lambda n: 1.25 * (2 / n) ** 0.5),
}
STYLES = {  # a line style and a marker for each setup, so that no curve is told apart by color alone
    "sigmoid, Xavier": dict(color="C0", ls="-", marker="o"),
    "ReLU, He": dict(color="C1", ls="-", marker="s"),
    "ReLU, 0.8 x He": dict(color="C3", ls="--", marker="v"),
    "ReLU, 1.25 x He": dict(color="C5", ls="-.", marker="^"),
}


def gradient_norms(act, std, depth=30, width=128, batch=64, seed=0):
    """||dL/dz^(l)|| and ||dL/dW^(l)|| for l = 1..depth in a bias-free MLP with a softmax read-out.

    The inputs and targets come from `seed`, the weights from `seed + 1`: the same draws, up to
    scale, for every activation and weight scale.
    """
    data = torch.Generator().manual_seed(seed)
    inputs = torch.randn(batch, width, generator=data)
    targets = torch.randint(0, 10, (batch,), generator=data)
    gen = torch.Generator().manual_seed(seed + 1)
    weights = [(torch.randn(width, width, generator=gen) * std(width)).requires_grad_(True) for _ in range(depth)]
    readout = torch.randn(width, 10, generator=gen) / width**0.5
    h, pre = inputs, []
    for W in weights:
        zl = h @ W
        pre.append(zl)
        h = act(zl)
    loss = F.cross_entropy(h @ readout, targets)
    grads = torch.autograd.grad(loss, weights + pre)
    w_norms = torch.stack([g.norm() for g in grads[:depth]])
    delta_norms = torch.stack([g.norm() for g in grads[depth:]])  # ||dL/dz|| per layer
    return delta_norms, w_norms


def per_layer_factor(norms):
    """The factor by which a norm changes per layer on its way down from the top layer to layer 1 (geometric mean)."""
    return ((norms[0] / norms[-1]) ** (1 / (len(norms) - 1))).item()


def stated_numbers(results):
    """The numbers the page states about Figure 3, from {setup: (delta norms, weight-gradient norms)}."""
    he_w = results["ReLU, He"][1]
    out = {f"factor, {name}": per_layer_factor(delta) for name, (delta, _) in results.items()}
    out["||delta^(1)||, sigmoid"] = results["sigmoid, Xavier"][0][0].item()
    for name, (_, w) in results.items():
        if name.startswith("ReLU"):
            out[f"weight-gradient spread over layers, {name}"] = (w.max() / w.min()).item()
    ratio = results["ReLU, 0.8 x He"][1] / he_w
    out["0.8 x He: weight gradients smaller than He's by"] = ((1 / ratio).min().item(), (1 / ratio).max().item())
    ratio = results["ReLU, 1.25 x He"][1] / he_w
    out["1.25 x He: weight gradients larger than He's by"] = (ratio.min().item(), ratio.max().item())
    return out


results = {name: gradient_norms(act, std) for name, (act, std) in SETUPS.items()}
fig, (ax_delta, ax_w) = plt.subplots(1, 2, figsize=(9, 3.4))
layers = range(1, len(results["ReLU, He"][0]) + 1)
for name, (delta_norms, w_norms) in results.items():
    ax_delta.semilogy(layers, delta_norms, label=name, ms=4, **STYLES[name])
    ax_w.semilogy(layers, w_norms, label=name, ms=4, **STYLES[name])

ax_delta.set_ylabel(r"$\|\delta^{(l)}\| = \|\partial L / \partial \mathbf{z}^{(l)}\|$")
ax_delta.set_title("Backpropagated gradient")
ax_w.set_ylabel(r"$\|\partial L / \partial \mathbf{W}^{(l)}\|$")
ax_w.set_title("Weight gradient")
for ax in (ax_delta, ax_w):
    ax.set_xlabel(r"layer $l$ (1 = next to the input)")
    ax.grid(alpha=0.3, which="both")
ax_delta.legend(fontsize=8)
fig.tight_layout()

for key, value in stated_numbers(results).items():
    shown = " to ".join(f"{v:.3g}" for v in value) if isinstance(value, tuple) else f"{value:.3g}"
    print(f"{key}: {shown}")

plt.show()
