"""Backpropagation: a computational graph by hand, and gradients through many layers.

Figure 1 draws the computational graph of f = (x + y) * max(y, z) at x = 3, y = 2, z = -1,
with the forward value (black) and the gradient df/d(.) (red) on every edge. All the numbers
come from PyTorch autograd; y feeds two gates, so its gradient is the sum of two edges.
Figure 2 backpropagates through 30-layer MLPs and plots the gradient norm per layer:
sigmoid with Xavier initialization (vanishes), ReLU with He initialization (stable), and
ReLU with weights 0.8x or 1.25x the He scale (vanishes or explodes geometrically).
"""

# %% Imports
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from matplotlib.patches import Circle

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
POS = {"x": (0, 2.3), "y": (0, 1.15), "z": (0, 0), "+": (2.6, 1.85), "max": (2.6, 0.45), "*": (4.8, 1.15), "f": (6.5, 1.15)}
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

fig, ax = plt.subplots(figsize=(8, 3.8))
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
    mx, my = (ax0 + bx0) / 2, (ay0 + by0) / 2
    ax.text(mx, my + 0.1, f"{value:g}", ha="center", va="bottom", fontsize=11)
    ax.text(mx, my - 0.1, f"{grad:g}", ha="center", va="top", fontsize=11, color="C3")
ax.text(-0.45, POS["y"][1], f"{EDGES[1][3]:g} + {EDGES[2][3]:g} = {y.grad.item():g}", ha="right", va="center", fontsize=10, color="C3")
ax.text(3.25, -0.55, r"black: forward value    red: gradient $\partial f / \partial(\cdot)$", ha="center", fontsize=9)
ax.set_xlim(-1.9, 7)
ax.set_ylim(-0.75, 2.75)
ax.set_aspect("equal")
ax.axis("off")
fig.tight_layout()

# %% Figure 2: gradient norm per layer in deep networks
DEPTH, WIDTH, BATCH = 30, 128, 64
# name -> (activation, weight std as a function of the fan-in n); square layers, no biases
SETUPS = {
    "sigmoid, Xavier": (torch.sigmoid, lambda n: (1 / n) ** 0.5),
    "ReLU, He": (F.relu, lambda n: (2 / n) ** 0.5),
    "ReLU, 0.8 x He": (F.relu, lambda n: 0.8 * (2 / n) ** 0.5),
    "ReLU, 1.25 x He": (F.relu, lambda n: 1.25 * (2 / n) ** 0.5),
}

inputs = torch.randn(BATCH, WIDTH)
targets = torch.randint(0, 10, (BATCH,))
fig, (ax_delta, ax_w) = plt.subplots(1, 2, figsize=(9, 3.4))
layers = range(1, DEPTH + 1)
for name, (act, std) in SETUPS.items():
    gen = torch.Generator().manual_seed(1)  # the same weights, up to scale, for every setup
    weights = [(torch.randn(WIDTH, WIDTH, generator=gen) * std(WIDTH)).requires_grad_(True) for _ in layers]
    readout = torch.randn(WIDTH, 10, generator=gen) / WIDTH**0.5
    h, pre = inputs, []
    for W in weights:
        zl = h @ W
        pre.append(zl)
        h = act(zl)
    loss = F.cross_entropy(h @ readout, targets)
    grads = torch.autograd.grad(loss, weights + pre)
    w_norms = torch.stack([g.norm() for g in grads[:DEPTH]])
    delta_norms = torch.stack([g.norm() for g in grads[DEPTH:]])  # ||dL/dz|| per layer
    ax_delta.semilogy(layers, delta_norms, marker=".", label=name)
    ax_w.semilogy(layers, w_norms, marker=".", label=name)

ax_delta.set_ylabel(r"$\|\delta^{(\ell)}\| = \|\partial L / \partial \mathbf{z}^{(\ell)}\|$")
ax_delta.set_title("Backpropagated gradient")
ax_w.set_ylabel(r"$\|\partial L / \partial W^{(\ell)}\|$")
ax_w.set_title("Weight gradient")
for ax in (ax_delta, ax_w):
    ax.set_xlabel(r"layer $\ell$ (1 = next to the input)")
    ax.grid(alpha=0.3, which="both")
ax_delta.legend(fontsize=8)
fig.tight_layout()

plt.show()
