"""The perceptron: its learning rule, its linear decision boundary, and why it cannot learn XOR.

Figure 1 is a diagram of the perceptron: inputs, weights, the weighted sum (bias included) and
the step function.
Figure 2 trains a perceptron (Rosenblatt's rule, written out in NumPy) on linearly separable
2-D data: the decision boundary w·x + b = 0 moves until every point is on the right side, and
the number of mistakes per epoch drops to zero within Novikoff's bound. On XOR-like data the
mistakes never stop.
Figure 3 compares three models on noisy XOR data: the perceptron (one straight line, at most
3 of the 4 clusters right), the hand-set two-layer network XOR = AND(OR, NAND), and a small
MLP trained with PyTorch, whose output has a curved 0.5 contour.
"""

# %% Imports
import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

plt.style.use("tableau-colorblind10")  # a palette safe for color-vision deficiency
rng = np.random.default_rng(0)
torch.manual_seed(0)

# %% Figure 1: the perceptron as a diagram
def node(ax, xy, text, r=0.32, **kw):
    """A unit drawn as a labeled circle."""
    ax.add_patch(plt.Circle(xy, r, fill=False, lw=1.3, **kw))
    ax.text(*xy, text, ha="center", va="center", fontsize=12)


def arrow(ax, start, end, text="", shift=(0.0, 0.16), **kw):
    """An arrow from start to end, with a label near its middle."""
    ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle="-|>", lw=1.1, shrinkA=0, shrinkB=0, **kw))
    if text:
        mid = (np.asarray(start) + np.asarray(end)) / 2 + np.asarray(shift)
        ax.text(*mid, text, ha="center", va="center", fontsize=11)


fig, ax = plt.subplots(figsize=(7.2, 4.3))
inputs = {"$x_1$": 2.4, "$x_2$": 1.4, "$x_d$": -0.2, "$1$": -1.4}  # the constant 1 carries the bias
weights = {"$x_1$": "$w_1$", "$x_2$": "$w_2$", "$x_d$": "$w_d$", "$1$": "$b$"}
sum_xy, step_xy, out_xy = np.array([3.3, 0.6]), np.array([5.6, 0.6]), np.array([7.7, 0.6])
for name, height in inputs.items():
    node(ax, (0, height), name, ls="--" if name == "$1$" else "-")
    start = np.array([0.32, height])
    direction = (sum_xy - start) / np.linalg.norm(sum_xy - start)
    arrow(ax, start, sum_xy - 0.45 * direction, weights[name], shift=(0.0, 0.22))
ax.text(0, 0.6, "$\\vdots$", ha="center", va="center", fontsize=14)
ax.add_patch(plt.Circle(sum_xy, 0.45, fill=False, lw=1.6))
ax.text(*sum_xy, "$\\Sigma$", ha="center", va="center", fontsize=18)
ax.text(sum_xy[0], sum_xy[1] - 0.8, "weighted sum\n$z = \\mathbf{w}^\\top \\mathbf{x} + b$", ha="center", va="top", fontsize=10)
box = plt.Rectangle(step_xy - 0.55, 1.1, 1.1, fill=False, lw=1.6)
ax.add_patch(box)
t = np.array([-0.4, 0.0, 0.0, 0.4])
ax.plot(step_xy[0] + t, step_xy[1] + np.array([-0.3, -0.3, 0.3, 0.3]), color="k", lw=1.8)  # the step H
ax.text(step_xy[0], step_xy[1] - 0.8, "step function\n$\\hat{y} = H(z)$", ha="center", va="top", fontsize=10)
arrow(ax, sum_xy + [0.45, 0], step_xy - [0.55, 0], "$z$")
arrow(ax, step_xy + [0.55, 0], out_xy - [0.05, 0], "$\\hat{y} \\in \\{0, 1\\}$", shift=(0.0, 0.25))
ax.text(0, 3.15, "inputs", ha="center", fontsize=10)
ax.text(1.6, 3.15, "weights (bias $b$ on the constant input 1)", ha="left", fontsize=10)
ax.set(xlim=(-0.6, 8.3), ylim=(-2.0, 3.4), aspect="equal")
ax.axis("off")
fig.tight_layout()

# %% Data: a linearly separable problem and noisy XOR
def separable_data(n=80, gap=0.15):
    """Two classes on either side of the line x1 + 2 x2 = 1, with a gap (margin) around it."""
    x = rng.uniform(-2, 2, size=(4 * n, 2))
    s = x @ np.array([1.0, 2.0]) - 1.0
    keep = np.abs(s) > gap
    return x[keep][:n], (s[keep][:n] > 0).astype(float)


def xor_data(n_per_corner=30, noise=0.12):
    """Noisy copies of the four XOR inputs; label = x1 XOR x2 of the corner."""
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    labels = np.array([0, 1, 1, 0], dtype=float)
    x = np.repeat(corners, n_per_corner, axis=0) + noise * rng.standard_normal((4 * n_per_corner, 2))
    order = rng.permutation(4 * n_per_corner)  # shuffled, as the rule visits examples in order
    return x[order], np.repeat(labels, n_per_corner)[order]


x_sep, y_sep = separable_data()
x_xor, y_xor = xor_data()

# %% The perceptron learning rule
def step(z):
    """Heaviside step with H(0) = 0."""
    return (z > 0).astype(float)


def train_perceptron(x, y, epochs=30, lr=1.0):
    """w <- w + lr (y - y_hat) x,  b <- b + lr (y - y_hat), one example at a time."""
    w, b = np.zeros(x.shape[1]), 0.0
    mistakes, history = [], [(w.copy(), b)]
    for _ in range(epochs):
        errors = 0
        for xi, yi in zip(x, y):
            delta = yi - step(xi @ w + b)  # 0 if right, +1 or -1 if wrong
            if delta != 0:
                w, b = w + lr * delta * xi, b + lr * delta
                errors += 1
                history.append((w.copy(), b))
        mistakes.append(errors)
    return w, b, mistakes, history


w_sep, b_sep, mistakes_sep, history_sep = train_perceptron(x_sep, y_sep)
w_xor, b_xor, mistakes_xor, history_xor = train_perceptron(x_xor, y_xor)


def accuracy(pred, y):
    return 100 * np.mean(pred == y)


# the best line the perceptron ever held on XOR: still at most 3 of the 4 clusters
acc_history = [accuracy(step(x_xor @ w + b), y_xor) for w, b in history_xor]
w_best, b_best = history_xor[int(np.argmax(acc_history))]

# Novikoff's bound (R / gamma)^2 on the number of updates, with the bias folded into the
# input as a constant 1 and gamma measured for the generating separator u = (1, 2, -1) / |u|.
x_aug = np.hstack([x_sep, np.ones((len(x_sep), 1))])
u = np.array([1.0, 2.0, -1.0]) / np.linalg.norm([1.0, 2.0, -1.0])
gamma = np.min((2 * y_sep - 1) * (x_aug @ u))
radius = np.max(np.linalg.norm(x_aug, axis=1))
novikoff_bound = (radius / gamma) ** 2
updates_sep = len(history_sep) - 1
epochs_with_mistakes = int(np.count_nonzero(mistakes_sep))  # the mistakes stop after these epochs
print(f"separable data: {updates_sep} updates in {epochs_with_mistakes} epochs, "
      f"Novikoff bound {novikoff_bound:.0f}")
print(f"XOR data: at least {min(mistakes_xor)} mistakes in every epoch, best line {max(acc_history):.0f}%")

# %% Figure 2: a separable problem is learned, XOR is not
def draw_line(ax, w, b, **kw):
    """Draw {x : w·x + b = 0} across the current axes."""
    t = np.linspace(-2.5, 2.5, 2)
    if abs(w[1]) > abs(w[0]):
        ax.plot(t, -(w[0] * t + b) / w[1], **kw)
    else:
        ax.plot(-(w[1] * t + b) / w[0], t, **kw)


fig, (ax, ax_err) = plt.subplots(1, 2, figsize=(9, 3.8))
for w, b in history_sep[1:-1]:
    draw_line(ax, w, b, color="0.5", lw=0.7, alpha=0.5)
ax.plot([], [], color="0.5", lw=0.7, label="after each update")
draw_line(ax, w_sep, b_sep, color="k", lw=2, label="final: $\\mathbf{w}^\\top \\mathbf{x} + b = 0$")
ax.scatter(*x_sep[y_sep == 0].T, s=12, c="C0", label="$y = 0$")
ax.scatter(*x_sep[y_sep == 1].T, s=12, c="C1", marker="s", label="$y = 1$")
x0 = -b_sep * w_sep / (w_sep @ w_sep)  # the point of the boundary closest to the origin
ax.annotate("", xy=x0 + 0.8 * w_sep / np.linalg.norm(w_sep), xytext=x0,
            arrowprops=dict(arrowstyle="->", lw=1.5))
ax.text(*(x0 + 0.9 * w_sep / np.linalg.norm(w_sep)), "$\\mathbf{w}$")
ax.set(xlim=(-2.1, 2.1), ylim=(-2.1, 2.1), xlabel="$x_1$", ylabel="$x_2$", aspect="equal")
ax.set_title(f"Separable data: {updates_sep} updates")
ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))

epochs = np.arange(1, len(mistakes_sep) + 1)
ax_err.plot(epochs, mistakes_sep, "o-", ms=3, label="separable data")
ax_err.plot(epochs, mistakes_xor, "s-", ms=3, label="noisy XOR data")
ax_err.set(xlabel="epoch", ylabel="mistakes (= updates)", title="Mistakes per epoch")
ax_err.grid(alpha=0.3)
ax_err.legend(fontsize=8)
fig.tight_layout()

# %% A small MLP for XOR, trained with PyTorch
xt = torch.tensor(x_xor, dtype=torch.float32)
yt = torch.tensor(y_xor, dtype=torch.float32).unsqueeze(1)
mlp = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
opt = torch.optim.Adam(mlp.parameters(), lr=0.05)
for _ in range(300):
    opt.zero_grad()
    loss = nn.functional.binary_cross_entropy_with_logits(mlp(xt), yt)
    loss.backward()
    opt.step()

# %% Figure 3: one line is not enough; two layers are
def hand_set_xor(x):
    """XOR = AND(OR, NAND): two step units in the hidden layer, one in the output."""
    h_or = step(x @ np.array([1.0, 1.0]) - 0.5)
    h_nand = step(x @ np.array([-1.0, -1.0]) + 1.5)
    return step(h_or + h_nand - 1.5)


grid = np.linspace(-0.5, 1.5, 121)
g1, g2 = np.meshgrid(grid, grid)
points = np.column_stack([g1.ravel(), g2.ravel()])
with torch.no_grad():
    p_mlp = torch.sigmoid(mlp(torch.tensor(points, dtype=torch.float32))).numpy().reshape(g1.shape)
    acc_mlp = accuracy((mlp(xt) > 0).float().squeeze(1).numpy(), y_xor)
acc_hand = accuracy(hand_set_xor(x_xor), y_xor)

panels = [
    (f"Perceptron: best line {max(acc_history):.0f}%", step(points @ w_best + b_best)),
    (f"Hand-set AND(OR, NAND): {acc_hand:.0f}%", hand_set_xor(points)),
    (f"Trained MLP 2-8-1 (tanh): {acc_mlp:.0f}%", p_mlp.ravel()),
]
fig, axes = plt.subplots(1, 3, figsize=(10, 3.5), sharey=True)
for ax, (title, region) in zip(axes, panels):
    ax.imshow(region.reshape(g1.shape), origin="lower", extent=(-0.5, 1.5, -0.5, 1.5),
              cmap="RdBu_r", vmin=-0.9, vmax=1.9, interpolation="nearest")
    ax.scatter(*x_xor[y_xor == 0].T, s=9, c="C0", edgecolors="k", linewidths=0.4)
    ax.scatter(*x_xor[y_xor == 1].T, s=9, c="C1", marker="s", edgecolors="k", linewidths=0.4)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("$x_1$")
draw_line(axes[0], w_best, b_best, color="k", lw=1.5)
draw_line(axes[1], np.array([1.0, 1.0]), -0.5, color="k", lw=1.5)  # OR unit
draw_line(axes[1], np.array([-1.0, -1.0]), 1.5, color="k", lw=1.5)  # NAND unit
axes[2].contour(g1, g2, p_mlp, levels=[0.5], colors="k", linewidths=1.5)
for ax in axes:
    ax.set(xlim=(-0.5, 1.5), ylim=(-0.5, 1.5), aspect="equal")
axes[0].set_ylabel("$x_2$")
fig.tight_layout()

plt.show()
