"""Gradient flow through time in a recurrent neural network.

1. Backpropagation through time (BPTT) written out by hand for the tanh RNN
   h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h) with a linear readout, as the page derives it.
2. The gradient norm ||dL/dh_k|| against the time step k, measured with autograd
   (retain_grad on every hidden state): a vanilla RNN whose W_hh has spectral radius 0.9
   or 1.8, and an LSTM of the same size on the same inputs, at PyTorch's default
   initialization and with a forget-gate bias of 3.
3. Clipping by norm and by value on one 2-D gradient: which one keeps the direction.
4. A vanilla RNN trained with plain SGD to remember the sign of its first input for 30
   steps, with and without torch.nn.utils.clip_grad_norm_.

Everything runs in float64 on synthetic data; the numbers the page states are printed.
"""

# %% Imports and seeds
import math

import matplotlib.pyplot as plt
import numpy as np
import torch

torch.manual_seed(0)
rng = np.random.default_rng(0)  # unused here (all randomness is torch), seeded by convention
torch.set_default_dtype(torch.float64)  # the training run in Figure 3 is chaotic: keep it reproducible
torch.set_num_threads(1)  # the tensors are tiny: extra threads only add overhead
plt.style.use("tableau-colorblind10")  # a palette safe for color-vision deficiency

# %% Backpropagation through time by hand
# --8<-- [start:bptt]
def rnn_forward(p, x, h0):
    """h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h), y_hat_t = W_hy h_t + b_y for t = 1..T.
    x: (T, B, d), h0: (B, n); rows are examples, so W x becomes x @ W.T. Returns h_0..h_T, y_hat_1..y_hat_T."""
    hs, ys = [h0], []
    for x_t in x:
        hs.append(torch.tanh(x_t @ p["W_xh"].T + hs[-1] @ p["W_hh"].T + p["b_h"]))
        ys.append(hs[-1] @ p["W_hy"].T + p["b_y"])
    return hs, ys


def bptt(p, x, h0, y, mask):
    """Gradients of L = sum_t mask_t * sum_b ||y_hat_t - y_t||^2 / 2 by backpropagation through time."""
    hs, ys = rnn_forward(p, x, h0)
    grads = {k: torch.zeros_like(v) for k, v in p.items()}
    delta_next = torch.zeros_like(h0)  # dL/da_{t+1}; zero after the last step
    for t in range(len(x), 0, -1):  # t = T, ..., 1
        e = mask[t - 1] * (ys[t - 1] - y[t - 1])  # dL/dy_hat_t
        grads["W_hy"] += e.T @ hs[t]
        grads["b_y"] += e.sum(0)
        g = e @ p["W_hy"] + delta_next @ p["W_hh"]  # dL/dh_t: from the output and from step t+1
        delta = g * (1 - hs[t] ** 2)  # dL/da_t = tanh'(a_t) * dL/dh_t, tanh' = 1 - tanh^2
        grads["W_hh"] += delta.T @ hs[t - 1]  # the same W_hh at every step: the terms add up
        grads["W_xh"] += delta.T @ x[t - 1]
        grads["b_h"] += delta.sum(0)
        delta_next = delta
    return grads, delta_next @ p["W_hh"]  # and dL/dh_0
# --8<-- [end:bptt]


def random_rnn(n, d, seed=0, scale=1.0):
    """Parameters of a small tanh RNN with a linear readout to one output."""
    gen = torch.Generator().manual_seed(seed)
    return {"W_xh": torch.randn(n, d, generator=gen) / math.sqrt(d),
            "W_hh": scale * torch.randn(n, n, generator=gen) / math.sqrt(n),
            "b_h": 0.1 * torch.randn(n, generator=gen),
            "W_hy": torch.randn(1, n, generator=gen) / math.sqrt(n),
            "b_y": torch.zeros(1)}


# %% Figure 1: ||dL/dh_k|| against the time step k, vanilla RNN vs LSTM
N_HIDDEN, N_INPUT, T_STEPS, N_SEQ = 32, 4, 50, 16


def spectral_radius(W):
    return torch.linalg.eigvals(W).abs().max().item()


def make_cell(kind, rho=None, forget_bias=None, seed=0):
    """An nn.RNNCell with W_hh rescaled to spectral radius rho, or an nn.LSTMCell (same seed and sizes)."""
    torch.manual_seed(seed)
    if kind == "rnn":
        cell = torch.nn.RNNCell(N_INPUT, N_HIDDEN)  # tanh
        with torch.no_grad():
            cell.weight_hh.mul_(rho / spectral_radius(cell.weight_hh))
        return cell
    cell = torch.nn.LSTMCell(N_INPUT, N_HIDDEN)
    if forget_bias is not None:
        with torch.no_grad():  # PyTorch's gate order is i, f, g, o: rows N..2N are the forget gate
            cell.bias_ih[N_HIDDEN:2 * N_HIDDEN] = forget_bias
            cell.bias_hh[N_HIDDEN:2 * N_HIDDEN] = 0.0
    return cell


def hidden_state_gradients(cell, seed=0):
    """Mean over the sequences of ||dL/dh_k||, k = 0..T, for a loss on the last step only."""
    gen = torch.Generator().manual_seed(seed)
    x = 0.1 * torch.randn(T_STEPS, N_SEQ, N_INPUT, generator=gen)  # small random inputs
    y = torch.randn(N_SEQ, 1, generator=gen)
    torch.manual_seed(seed + 1)
    readout = torch.nn.Linear(N_HIDDEN, 1)
    h = torch.zeros(N_SEQ, N_HIDDEN, requires_grad=True)
    c = torch.zeros(N_SEQ, N_HIDDEN)
    hs = [h]
    for x_t in x:
        if isinstance(cell, torch.nn.LSTMCell):
            h, c = cell(x_t, (h, c))
        else:
            h = cell(x_t, h)
        h.retain_grad()  # keep dL/dh_k of this non-leaf tensor after backward()
        hs.append(h)
    loss = 0.5 * ((readout(h) - y) ** 2).sum()  # summed over sequences: each gets its own gradient
    loss.backward()
    return np.array([h_k.grad.norm(dim=1).mean().item() for h_k in hs])


FIG1_MODELS = {  # label: (cell kind, spectral radius of W_hh, forget-gate bias)
    r"RNN, $\rho(\mathbf{W}_{hh}) = 0.9$": ("rnn", 0.9, None),
    r"RNN, $\rho(\mathbf{W}_{hh}) = 1.8$": ("rnn", 1.8, None),
    "LSTM, PyTorch's initialization": ("lstm", None, None),
    "LSTM, forget-gate bias 3": ("lstm", None, 3.0),
}


def gradient_norm_experiment():
    """||dL/dh_k|| for every model of Figure 1, and the largest singular value of each RNN's W_hh."""
    norms, sigma = {}, {}
    for label, (kind, rho, forget_bias) in FIG1_MODELS.items():
        cell = make_cell(kind, rho, forget_bias)
        norms[label] = hidden_state_gradients(cell)
        if kind == "rnn":
            sigma[label] = torch.linalg.matrix_norm(cell.weight_hh.detach(), 2).item()
    return norms, sigma


norms, sigma = gradient_norm_experiment()
styles = [dict(ls="-"), dict(ls="--"), dict(ls=":", lw=2), dict(ls="-.", marker="o", ms=3, markevery=5)]
fig, ax = plt.subplots(figsize=(6.4, 3.8))
for (label, g), style in zip(norms.items(), styles):
    ax.semilogy(np.arange(T_STEPS + 1), g, label=label, **style)
ax.set(xlabel="time step $k$ (the loss is at $T = 50$)", ylabel=r"$\|\partial L / \partial \mathbf{h}_k\|$",
       title="Gradient reaching each hidden state")
ax.legend(fontsize=8, loc="lower right")
fig.tight_layout()
for label, g in norms.items():
    print(f"Figure 1: {label}: ||dL/dh_0|| / ||dL/dh_T|| = {g[0] / g[-1]:.3g}")
for label, s in sigma.items():
    print(f"Figure 1: {label}: largest singular value of W_hh = {s:.2f}")

# %% Figure 2: clipping by norm keeps the direction, clipping by value does not
def clip_by_norm(grads, max_norm):
    """Rescale all the gradients together so that their total L2 norm is at most max_norm."""
    total = torch.sqrt(sum((g**2).sum() for g in grads))
    scale = min(1.0, max_norm / (total.item() + 1e-6))  # + 1e-6 as in torch.nn.utils.clip_grad_norm_
    return [g * scale for g in grads], total


def clip_by_value(grads, clip_value):
    """Clamp every entry to [-clip_value, clip_value]."""
    return [g.clamp(-clip_value, clip_value) for g in grads]


def angle_deg(u, v):
    return math.degrees(math.acos((u @ v / (u.norm() * v.norm())).clamp(-1, 1).item()))


G_2D = torch.tensor([4.0, 1.0])  # one gradient, larger than the threshold 1 in norm and in its first entry

(by_norm,), _ = clip_by_norm([G_2D], 1.0)
(by_value,) = clip_by_value([G_2D], 1.0)
fig, ax = plt.subplots(figsize=(6.4, 3.2))
circle = torch.linspace(0, 2 * math.pi, 200)
ax.plot(torch.cos(circle), torch.sin(circle), color="gray", lw=0.8, ls="-")
ax.plot([-1, 1, 1, -1, -1], [-1, -1, 1, 1, -1], color="gray", lw=0.8, ls=":")
for vec, label, style in [(G_2D, r"gradient $g$", dict(ls="-", marker="o")),
                          (by_norm, "clipped by norm (max_norm = 1)", dict(ls="--", marker="s")),
                          (by_value, "clipped by value (clip_value = 1)", dict(ls=":", marker="^", lw=2))]:
    ax.plot([0, vec[0]], [0, vec[1]], label=label, markevery=[1], **style)
ax.set(xlim=(-1.3, 4.5), ylim=(-1.3, 1.4), aspect="equal", xlabel="$g_1$", ylabel="$g_2$",
       title="The unit circle (solid gray) and the box $|g_i| \\leq 1$ (dotted gray)")
ax.title.set_fontsize(9)
ax.legend(fontsize=8, loc="lower right")
fig.tight_layout()
print(f"Figure 2: angle to g: by norm {angle_deg(by_norm, G_2D):.1f} deg, "
      f"by value {angle_deg(by_value, G_2D):.1f} deg")

# %% Figure 3: training a vanilla RNN with and without clip_grad_norm_
def memory_task(T=30):
    """Two sequences: +1 or -1 at the first step, zeros after; the target is that first input at step T."""
    x = torch.zeros(T, 2, 1)
    x[0, :, 0] = torch.tensor([1.0, -1.0])
    return x, torch.tensor([1.0, -1.0])


# --8<-- [start:train_clip]
def train_memory_task(max_norm, steps=30, lr=0.3, n=8, rho=1.1, seed=3):
    """Plain SGD on the memory task; the gradient is clipped to max_norm (math.inf: no clipping).
    Returns the loss, the total gradient norm before clipping and rho(W_hh) at every step."""
    x, y = memory_task()
    p = random_rnn(n, 1, seed)
    p["W_hh"] *= rho / spectral_radius(p["W_hh"])
    params = [v.requires_grad_() for v in p.values()]
    losses, norms, radii = [], [], []
    for _ in range(steps):
        hs, ys = rnn_forward(p, x, torch.zeros(2, n))
        loss = 0.5 * ((ys[-1].squeeze(-1) - y) ** 2).mean()  # the loss is on the last step only
        grads = torch.autograd.grad(loss, params)
        for q, g in zip(params, grads):
            q.grad = g
        total = torch.nn.utils.clip_grad_norm_(params, max_norm)  # clips q.grad in place, returns the norm before
        with torch.no_grad():
            for q in params:
                q -= lr * q.grad  # plain SGD step, as torch.optim.SGD(params, lr) would take
        losses.append(loss.item())
        norms.append(total.item())
        radii.append(spectral_radius(p["W_hh"].detach()))
    return np.array(losses), np.array(norms), np.array(radii)
# --8<-- [end:train_clip]


def clipping_experiment():
    return {"no clipping": train_memory_task(math.inf), "clip_grad_norm_(max_norm=1)": train_memory_task(1.0)}


runs = clipping_experiment()
fig, (ax_loss, ax_norm) = plt.subplots(1, 2, figsize=(9, 3.4))
for (label, (losses, norms, _)), style in zip(runs.items(), [dict(ls="-"), dict(ls="--", marker="o", ms=3)]):
    ax_loss.semilogy(losses, label=label, **style)
    ax_norm.semilogy(norms, label=label, **style)
ax_norm.axhline(1.0, color="gray", lw=0.8, ls=":")
ax_loss.set(xlabel="SGD step", ylabel="loss", title="Loss (log scale)")
ax_norm.set(xlabel="SGD step", ylabel=r"$\|g\|$ before clipping", title="Total gradient norm (log scale)")
ax_loss.legend(fontsize=8)
fig.tight_layout()
for label, (losses, norms, radii) in runs.items():
    k = int(np.argmax(norms))
    print(f"Figure 3: {label}: largest ||g|| = {norms[k]:.3g} at step {k}, rho(W_hh) after it = {radii[k]:.3g}, "
          f"final loss = {losses[-1]:.3g}")

plt.show()
