"""Recurrent neural networks: the recurrence written from its formula, and what it can learn.

1. An RNN written with tensor ops, h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h), stacked and
   bidirectional, checked against torch.nn.RNN with the same weights.
2. Figure 1: the folded RNN and the same network unrolled over four time steps.
3. Figure 2: the input/output patterns one-to-one, one-to-many, many-to-one and
   many-to-many (aligned and not aligned).
4. Figure 3: a small RNN trained to predict the next value of a noisy sine wave: training
   loss, predictions on a sequence four times longer than the training sequences, and the
   path of its hidden state.
5. Figure 4: one RNN asked to repeat its input 1, 2, 4, 8 and 16 steps later: accuracy
   against the distance between the input and the output that needs it.

All data are synthetic. The numbers the page states about the figures are printed.
"""

# %% Imports and seeds
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from torch import nn

torch.manual_seed(0)
rng = np.random.default_rng(0)  # unused here (all randomness is torch), seeded by convention
torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)  # the tensors are tiny: extra threads only add overhead
plt.style.use("tableau-colorblind10")
# Okabe-Ito colors for the diagrams' boxes; every curve also has its own line style or marker
BLUE, ORANGE, GREEN, VERMILLION, SKY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9"

# %% An RNN from tensor ops
# --8<-- [start:rnn_layer]
def rnn_layer(x, W_xh, W_hh, b_h, h0=None, reverse=False):
    """One recurrent layer, one direction. x: (T, B, d) -> hidden states (T, B, d_h)."""
    T, B, _ = x.shape
    h = torch.zeros(B, W_hh.shape[0]) if h0 is None else h0  # h_0
    states = [None] * T
    for t in (reversed(range(T)) if reverse else range(T)):
        h = torch.tanh(x[t] @ W_xh.T + h @ W_hh.T + b_h)  # the same weights at every t
        states[t] = h
    return torch.stack(states)
# --8<-- [end:rnn_layer]


# --8<-- [start:rnn_forward]
def rnn_forward(x, layers, batch_first=False):
    """A stacked, optionally bidirectional RNN with PyTorch's conventions.

    layers[l] is a list of (W_xh, W_hh, b_h), one per direction (forward first).
    Returns output (T, B, D*d_h), the last layer's states, and h_n (D*num_layers, B, d_h).
    """
    if batch_first:
        x = x.transpose(0, 1)  # (B, T, d) -> (T, B, d)
    h_n = []
    for directions in layers:
        outs = []
        for k, (W_xh, W_hh, b_h) in enumerate(directions):
            states = rnn_layer(x, W_xh, W_hh, b_h, reverse=(k == 1))
            outs.append(states)
            h_n.append(states[0] if k == 1 else states[-1])  # backward ends at t = 1
        x = torch.cat(outs, dim=-1)  # [forward; backward] is the next layer's input
    output = x.transpose(0, 1) if batch_first else x
    return output, torch.stack(h_n)  # h_n is (D*num_layers, B, d_h) even if batch_first
# --8<-- [end:rnn_forward]


def layers_from(module):
    """The weights of a torch.nn.RNN as rnn_forward's layers, with b_h = b_ih + b_hh."""
    layers = []
    for layer in range(module.num_layers):
        directions = []
        for suffix in ("", "_reverse")[: 2 if module.bidirectional else 1]:
            p = {name: getattr(module, f"{name}_l{layer}{suffix}").detach()
                 for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
            directions.append((p["weight_ih"], p["weight_hh"], p["bias_ih"] + p["bias_hh"]))
        layers.append(directions)
    return layers


def rnn_param_count(d, d_h, num_layers=1, bidirectional=False):
    """Parameters of torch.nn.RNN: per layer and direction d_in*d_h + d_h*d_h + 2*d_h."""
    D = 2 if bidirectional else 1
    first = d * d_h + d_h * d_h + 2 * d_h
    later = D * d_h * d_h + d_h * d_h + 2 * d_h  # input: both directions of the layer below
    return D * (first + (num_layers - 1) * later)


# %% Check the RNN from tensor ops against torch.nn.RNN (2 layers, bidirectional, batch-first)
reference = nn.RNN(3, 5, num_layers=2, bidirectional=True, batch_first=True)
x_check = torch.randn(4, 7, 3)  # (B, T, d)
out_torch, h_n_torch = reference(x_check)
out_ours, h_n_ours = rnn_forward(x_check, layers_from(reference), batch_first=True)
print("largest difference to nn.RNN: output", (out_ours - out_torch).abs().max().item(),
      "h_n", (h_n_ours - h_n_torch).abs().max().item())
print("parameters:", rnn_param_count(3, 5, 2, True), "=",
      sum(p.numel() for p in reference.parameters()))

# %% Figure 1: the RNN folded and unrolled
def box(ax, x, y, text, color, w=0.62, h=0.46):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.04",
                                fc=color, ec="black", lw=1, zorder=3))
    ax.text(x, y, text, ha="center", va="center", fontsize=11, zorder=4)


def arrow(ax, start, end, label=None, offset=(0.0, 0.0), **kw):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, lw=1.1,
                                 color="black", zorder=2, **kw))
    if label:
        mx, my = (start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1]
        ax.text(mx, my, label, ha="center", va="center", fontsize=9, zorder=4)


X_ROW, H_ROW, Y_ROW = 0.0, 1.5, 3.0
fig, ax = plt.subplots(figsize=(9.5, 3.6), layout="constrained")
ax.set(xlim=(-0.9, 10.6), ylim=(-0.6, 3.7), aspect="equal")
ax.axis("off")
# folded: one cell with a loop through a one-step delay
box(ax, 0.4, X_ROW, r"$\mathbf{x}_t$", SKY)
box(ax, 0.4, H_ROW, r"$\mathbf{h}_t$", ORANGE)
box(ax, 0.4, Y_ROW, r"$\hat{\mathbf{y}}_t$", GREEN)
arrow(ax, (0.4, X_ROW + 0.27), (0.4, H_ROW - 0.27), r"$\mathbf{W}_{xh}$", (-0.5, 0))
arrow(ax, (0.4, H_ROW + 0.27), (0.4, Y_ROW - 0.27), r"$\mathbf{W}_{hy}$", (-0.5, 0))
arrow(ax, (0.74, H_ROW + 0.12), (0.74, H_ROW - 0.12),  # the loop: h_{t-1} feeds h_t
      connectionstyle="arc,angleA=0,angleB=0,armA=30,armB=30,rad=6")
ax.text(1.35, H_ROW, r"$\mathbf{W}_{hh}$", ha="left", va="center", fontsize=9)
ax.text(0.4, -0.55, "folded", ha="center", va="center", fontsize=9)
ax.text(2.55, H_ROW, "unroll\n" + r"$\Longrightarrow$", ha="center", va="center", fontsize=10)
# unrolled: h_0, then t = 1..4 with the same three weight matrices everywhere
cols = [4.6 + 1.55 * i for i in range(4)]
box(ax, 3.35, H_ROW, r"$\mathbf{h}_0$", "white")
for t, cx in enumerate(cols, start=1):
    box(ax, cx, X_ROW, rf"$\mathbf{{x}}_{t}$", SKY)
    box(ax, cx, H_ROW, rf"$\mathbf{{h}}_{t}$", ORANGE)
    box(ax, cx, Y_ROW, rf"$\hat{{\mathbf{{y}}}}_{t}$", GREEN)
    arrow(ax, (cx, X_ROW + 0.27), (cx, H_ROW - 0.27), r"$\mathbf{W}_{xh}$", (-0.33, 0))
    arrow(ax, (cx, H_ROW + 0.27), (cx, Y_ROW - 0.27), r"$\mathbf{W}_{hy}$", (-0.33, 0))
for a, b in zip([3.35] + cols[:-1], cols):
    arrow(ax, (a + 0.35, H_ROW), (b - 0.35, H_ROW), r"$\mathbf{W}_{hh}$", (0, 0.25))
arrow(ax, (cols[-1] + 0.35, H_ROW), (cols[-1] + 0.95, H_ROW), r"$\cdots$", (0.25, 0.25))
ax.text((cols[0] + cols[-1]) / 2, -0.55, "unrolled: the same weights at every time step",
        ha="center", va="center", fontsize=9)

# %% Figure 2: input/output patterns
PATTERNS = [  # (title, example, columns with an input, columns with an output, number of columns)
    ("one-to-one", "image classification", [0], [0], 1),
    ("one-to-many", "image captioning", [0], [0, 1, 2, 3], 4),
    ("many-to-one", "sentiment of a review", [0, 1, 2, 3], [3], 4),
    ("many-to-many, aligned", "tagging, next-token", [0, 1, 2, 3], [0, 1, 2, 3], 4),
    ("many-to-many, not aligned", "translation (seq2seq)", [0, 1, 2], [3, 4, 5], 6),
]
fig, axes = plt.subplots(1, 5, figsize=(11, 2.9), layout="constrained",
                         gridspec_kw={"width_ratios": [1.3, 3, 3, 3, 4.4]})
for ax, (title, example, ins, outs, n) in zip(axes, PATTERNS):
    ax.set(xlim=(-0.6, n - 0.4), ylim=(-0.55, 2.55), aspect="equal")
    ax.axis("off")
    ax.set_title(title, fontsize=9)
    ax.text((n - 1) / 2, -0.55, example, ha="center", va="top", fontsize=8)
    for c in range(n):
        box(ax, c, 1, "", ORANGE if c < 3 or n < 6 else VERMILLION, w=0.5, h=0.36)
        if c > 0:
            arrow(ax, (c - 0.7, 1), (c - 0.3, 1))
        if c in ins:
            box(ax, c, 0, "", SKY, w=0.5, h=0.36)
            arrow(ax, (c, 0.2), (c, 0.8))
        if c in outs:
            box(ax, c, 2, "", GREEN, w=0.5, h=0.36)
            arrow(ax, (c, 1.2), (c, 1.8))
fig.supxlabel("boxes: input (bottom), hidden state (middle; right panel: encoder, then decoder), "
              "output (top)", fontsize=8)

# %% Training by hand: Adam, as torch.optim.Adam computes it
def adam_step(params, grads, state, lr, betas=(0.9, 0.999), eps=1e-8):
    """One Adam update (the same arithmetic as torch.optim.Adam with its defaults)."""
    state["t"] = t = state.get("t", 0) + 1
    with torch.no_grad():
        for i, (p, g) in enumerate(zip(params, grads)):
            m, v = state.setdefault(i, (torch.zeros_like(p), torch.zeros_like(p)))
            m.mul_(betas[0]).add_(g, alpha=1 - betas[0])
            v.mul_(betas[1]).addcmul_(g, g, value=1 - betas[1])
            p -= lr * (m / (1 - betas[0] ** t)) / ((v / (1 - betas[1] ** t)).sqrt() + eps)


# %% The next-value task: a noisy sine wave
OMEGA, NOISE = 0.3, 0.1  # about 21 time steps per period; noise standard deviation


def sine_batch(gen, batch, length):
    """Inputs s_1..s_T and targets s_2..s_{T+1} of s_t = sin(omega t + phase) + noise, (B, T, 1)."""
    phase = 2 * math.pi * torch.rand(batch, 1, generator=gen)
    t = torch.arange(length + 1)
    s = torch.sin(OMEGA * t + phase) + NOISE * torch.randn(batch, length + 1, generator=gen)
    return s[:, :-1, None], s[:, 1:, None]


# --8<-- [start:sine_training]
class NextValueRNN(nn.Module):
    """nn.RNN for the hidden states, nn.Linear for y_t = W_hy h_t + b_y (many-to-many)."""

    def __init__(self, hidden=16):
        super().__init__()
        self.rnn = nn.RNN(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        states, _ = self.rnn(x)  # (B, T, d_h): h_1..h_T
        return self.head(states), states


def train_sine(steps=80, batch=16, length=30, lr=0.03, seed=0):
    """Train NextValueRNN with the mean squared error; return the model and the loss per step."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model, state, losses = NextValueRNN(), {}, []
    params = list(model.parameters())
    for _ in range(steps):
        x, y = sine_batch(gen, batch, length)
        loss = ((model(x)[0] - y) ** 2).mean()
        adam_step(params, torch.autograd.grad(loss, params), state, lr)
        losses.append(loss.item())
    return model, np.array(losses)
# --8<-- [end:sine_training]


def sine_numbers(model, length=120, warmup=10, seed=1):
    """Test MSE on sequences 4x longer than in training (first `warmup` steps left out),
    next to predicting the last value again and to the noise floor NOISE**2."""
    x, y = sine_batch(torch.Generator().manual_seed(seed), 500, length)
    with torch.no_grad():
        pred = model(x)[0]
    keep = slice(warmup, None)
    return {"rnn": ((pred - y)[:, keep] ** 2).mean().item(),
            "repeat_last": ((x - y)[:, keep] ** 2).mean().item(),
            "noise_floor": NOISE**2,
            "parameters": sum(p.numel() for p in model.parameters())}


# %% Figure 3: the trained RNN on the sine task
model, sine_losses = train_sine()
numbers = sine_numbers(model)
x_test, y_test = sine_batch(torch.Generator().manual_seed(2), 1, 120)
with torch.no_grad():
    pred_test, states_test = model(x_test)
states_2d = states_test[0] - states_test[0].mean(0)
_, _, V = torch.linalg.svd(states_2d, full_matrices=False)
path = (states_2d @ V[:2].T).numpy()  # the first two principal components of h_t

fig, (ax_loss, ax_pred, ax_state) = plt.subplots(1, 3, figsize=(11, 3.3), layout="constrained",
                                                 gridspec_kw={"width_ratios": [1, 1.6, 1]})
ax_loss.semilogy(sine_losses, label="training loss (MSE)")
ax_loss.axhline(NOISE**2, ls="--", color="0.4", label=r"noise floor $\sigma^2$")
ax_loss.set(xlabel="training step", ylabel="loss", title="Training")
ax_loss.legend(fontsize=8)
steps_axis = np.arange(1, 121)
ax_pred.plot(steps_axis, y_test[0, :, 0], ls="", marker=".", ms=4, color="0.45", label="target $s_{t+1}$")
ax_pred.plot(steps_axis, pred_test[0, :, 0], ls="-", label=r"prediction $\hat{y}_t$")
ax_pred.axvline(30.5, ls=":", color="0.4")
ax_pred.text(31.5, -1.35, "longer than any\ntraining sequence", fontsize=8, va="bottom")
ax_pred.set(xlabel="time step $t$", ylim=(-1.5, 1.9), title="Next-value prediction on a test sequence")
ax_pred.legend(fontsize=8, loc="upper right", ncol=2)
ax_state.plot(path[:, 0], path[:, 1], ls="-", lw=0.8, marker=".", ms=3)
ax_state.plot(path[0, 0], path[0, 1], ls="", marker="s", ms=7, label="$t = 1$")
ax_state.set(xlabel="component 1", ylabel="component 2", title=r"Hidden state $\mathbf{h}_t$ (PCA)")
ax_state.legend(fontsize=8)
print("Figure 3: test MSE {rnn:.4f} (RNN), {repeat_last:.4f} (repeat the last value), "
      "noise floor {noise_floor:.2f}; {parameters} parameters".format(**numbers))

# %% Figure 4: how far back can it remember? Delayed recall of random bits
DELAYS = (1, 2, 4, 8, 16)


def recall_batch(gen, batch, length):
    """Random bits as +-1 inputs; target k is the input k steps earlier (masked where t <= k)."""
    bits = torch.randint(0, 2, (batch, length), generator=gen).double()
    targets = torch.stack([torch.roll(bits, k, dims=1) for k in DELAYS], dim=-1)
    mask = torch.stack([torch.arange(length) >= k for k in DELAYS], dim=-1).double().expand_as(targets)
    return 2 * bits[..., None] - 1, targets, mask


def delayed_recall(steps=80, batch=32, length=24, hidden=32, lr=0.02, seed=0):
    """Train one RNN to output, at every step, the bits seen 1, 2, 4, 8 and 16 steps ago;
    return the test accuracy for each delay."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    rnn, head, state = nn.RNN(1, hidden, batch_first=True), nn.Linear(hidden, len(DELAYS)), {}
    params = [*rnn.parameters(), *head.parameters()]
    for _ in range(steps):
        x, y, mask = recall_batch(gen, batch, length)
        logits = head(rnn(x)[0])
        loss = (nn.functional.binary_cross_entropy_with_logits(logits, y, reduction="none") * mask).sum() / mask.sum()
        adam_step(params, torch.autograd.grad(loss, params), state, lr)
    x, y, mask = recall_batch(gen, 1000, length)
    with torch.no_grad():
        correct = ((head(rnn(x)[0]) > 0).double() == y).double()
    return ((correct * mask).sum((0, 1)) / mask.sum((0, 1))).numpy()


recall_accuracy = delayed_recall()
fig, ax = plt.subplots(figsize=(5.2, 3.2), layout="constrained")
ax.plot(DELAYS, recall_accuracy, ls="-", marker="o", label="RNN, 80 training steps")
ax.axhline(0.5, ls="--", color="0.4", label="chance (guessing)")
ax.set(xscale="log", xticks=DELAYS, xticklabels=[str(k) for k in DELAYS], ylim=(0.4, 1.05),
       xlabel="delay $k$: output needs the input from $k$ steps earlier", ylabel="test accuracy",
       title="Recalling a bit $k$ steps later")
ax.legend(fontsize=8, loc="lower left")
print("Figure 4: accuracy by delay", dict(zip(DELAYS, recall_accuracy.round(3))))

plt.show()
