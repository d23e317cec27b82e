"""LSTM and GRU: the gated recurrent cells written from their equations, and what the gates buy.

1. An LSTM cell and a GRU cell written with tensor ops in PyTorch's layout (gate order i, f, g, o
   and r, z, n), run over time and layers and checked against torch.nn.LSTM and torch.nn.GRU with
   the same weights. The GRU is also written with the reset gate where Cho et al. (2014) put it,
   which gives different numbers for the same weights.
2. Parameter counts of one RNN, LSTM and GRU layer.
3. A recall task: the value that arrives at t = 1 must be reported at every later step, while new
   values of the same kind keep arriving. Two vanilla RNNs (8 and 32 units), an LSTM and a GRU
   (8 units each) are trained on it with the same budget.
4. Figure 1: the gates and the cell state of one unit of the trained LSTM over a test sequence.
5. Figure 2: test error against the delay for the four networks.

All data are synthetic. The numbers the page states about the figures are printed.
"""

# %% Imports and seeds
import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

torch.manual_seed(0)
rng = np.random.default_rng(0)  # unused here (all randomness is torch), seeded by convention
torch.set_default_dtype(torch.float64)  # training is chaotic: float64 keeps every run identical
torch.set_num_threads(1)  # the tensors are tiny: extra threads only add overhead
plt.style.use("tableau-colorblind10")


# %% The LSTM cell from its equations
# --8<-- [start:lstm_cell]
def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step in PyTorch's layout: the rows of W_ih, W_hh, b_ih, b_hh are four blocks
    in the gate order i, f, g, o. x: (B, d); h, c: (B, d_h). Returns h_t, c_t and the gates."""
    a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh  # (B, 4 d_h): all four pre-activations at once
    a_i, a_f, a_g, a_o = a.chunk(4, dim=1)
    i, f, o = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.sigmoid(a_o)  # gates, in (0, 1)
    g = torch.tanh(a_g)  # candidate, in (-1, 1)
    c = f * c + i * g  # keep part of the old cell state, add part of the candidate
    h = o * torch.tanh(c)  # show part of the squashed cell state
    return h, c, (i, f, g, o)
# --8<-- [end:lstm_cell]


def lstm_forward(x, layers, batch_first=False):
    """A stacked LSTM with PyTorch's conventions; layers[l] = (W_ih, W_hh, b_ih, b_hh).

    x: (T, B, d), or (B, T, d) if batch_first. Returns output (the last layer's h_t at every t),
    (h_n, c_n), each (num_layers, B, d_h), and the last layer's gates and cell states over time.
    """
    if batch_first:
        x = x.transpose(0, 1)
    h_n, c_n = [], []
    for W_ih, W_hh, b_ih, b_hh in layers:
        h = c = torch.zeros(x.shape[1], W_hh.shape[1])  # h_0 = c_0 = 0
        states, history = [], []
        for t in range(x.shape[0]):
            h, c, gates = lstm_cell(x[t], h, c, W_ih, W_hh, b_ih, b_hh)
            states.append(h)
            history.append((*gates, c))
        x = torch.stack(states)  # this layer's hidden states are the next layer's inputs
        h_n.append(h)
        c_n.append(c)
    trace = dict(zip("ifgoc", (torch.stack(v) for v in zip(*history))))  # each (T, B, d_h)
    output = x.transpose(0, 1) if batch_first else x
    return output, (torch.stack(h_n), torch.stack(c_n)), trace


# %% The GRU cell, with the reset gate in either place
# --8<-- [start:gru_cell]
def gru_cell(x, h, W_ih, W_hh, b_ih, b_hh, reset_after=True):
    """One GRU step in PyTorch's layout: three blocks of rows in the gate order r, z, n.

    reset_after=True is PyTorch's (and cuDNN's) form, n = tanh(W_in x + b_in + r * (W_hn h + b_hn));
    reset_after=False is the form of Cho et al. (2014), n = tanh(W_in x + b_in + W_hn (r * h) + b_hn).
    """
    x_r, x_z, x_n = (x @ W_ih.T + b_ih).chunk(3, dim=1)
    W_hr, W_hz, W_hn = W_hh.chunk(3, dim=0)
    b_hr, b_hz, b_hn = b_hh.chunk(3)
    r = torch.sigmoid(x_r + h @ W_hr.T + b_hr)  # reset gate
    z = torch.sigmoid(x_z + h @ W_hz.T + b_hz)  # update gate
    if reset_after:
        n = torch.tanh(x_n + r * (h @ W_hn.T + b_hn))  # reset applied after the product
    else:
        n = torch.tanh(x_n + (r * h) @ W_hn.T + b_hn)  # reset applied before the product
    return (1 - z) * n + z * h, (r, z, n)  # z near 1 copies the old state
# --8<-- [end:gru_cell]


def gru_forward(x, layers, batch_first=False, reset_after=True):
    """A stacked GRU; layers[l] = (W_ih, W_hh, b_ih, b_hh). Returns output and h_n as nn.GRU does."""
    if batch_first:
        x = x.transpose(0, 1)
    h_n = []
    for W_ih, W_hh, b_ih, b_hh in layers:
        h = torch.zeros(x.shape[1], W_hh.shape[1])
        states = []
        for t in range(x.shape[0]):
            h, _ = gru_cell(x[t], h, W_ih, W_hh, b_ih, b_hh, reset_after)
            states.append(h)
        x = torch.stack(states)
        h_n.append(h)
    return (x.transpose(0, 1) if batch_first else x), torch.stack(h_n)


def weights_of(module):
    """The weights of a torch.nn.LSTM or torch.nn.GRU as a list of (W_ih, W_hh, b_ih, b_hh) per layer."""
    return [tuple(getattr(module, f"{name}_l{k}").detach() for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
            for k in range(module.num_layers)]


# %% Checked against PyTorch, and the parameter counts
def param_count(blocks, d, d_h, biases=2):
    """One layer: `blocks` weight blocks of size d_h x (d + d_h), each with `biases` bias vectors
    (blocks = 1 for the RNN, 4 for the LSTM, 3 for the GRU; PyTorch keeps 2 bias vectors)."""
    return blocks * (d_h * (d + d_h) + biases * d_h)


x_check = torch.randn(7, 3, 5)  # (T, B, d)
for module, forward in ((nn.LSTM(5, 4, num_layers=2), lstm_forward), (nn.GRU(5, 4, num_layers=2), gru_forward)):
    ours, theirs = forward(x_check, weights_of(module))[0], module(x_check)[0]
    print(f"{type(module).__name__}: largest difference to PyTorch {(ours - theirs).abs().max():.1e}")
gru = nn.GRU(5, 4)
cho, _ = gru_forward(x_check, weights_of(gru), reset_after=False)
print(f"GRU with the reset gate before the product: largest difference {(cho - gru(x_check)[0]).abs().max():.2f}")
for name, module, blocks in (("RNN", nn.RNN(2, 8), 1), ("LSTM", nn.LSTM(2, 8), 4), ("GRU", nn.GRU(2, 8), 3)):
    print(f"{name}(2, 8): {sum(p.numel() for p in module.parameters())} parameters = {param_count(blocks, 2, 8)}")


# %% The recall task and the training loop
LENGTH, BATCH, STEPS, LR = 20, 32, 100, 0.05
NETWORKS = (("RNN", 8), ("RNN", 32), ("LSTM", 8), ("GRU", 8))  # (kind, hidden units)


# --8<-- [start:recall_task]
def recall_batch(gen, batch, length):
    """Inputs (B, T, 2): channel 0 holds a value u ~ U(-1, 1) at t = 1 and a new value from the same
    distribution at every later step; channel 1 is a marker, 1 at t = 1 only. The target is u."""
    values = 2 * torch.rand(batch, length, generator=gen) - 1
    marker = torch.zeros(batch, length)
    marker[:, 0] = 1.0
    return torch.stack([values, marker], dim=-1), values[:, 0]


class Recall(nn.Module):
    """A recurrent layer (nn.RNN, nn.LSTM or nn.GRU) and a linear read-out at every step."""

    def __init__(self, kind, hidden):
        super().__init__()
        self.rnn = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}[kind](2, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)
        if kind == "LSTM":  # forget-gate bias 1: rows hidden..2*hidden (gate order i, f, g, o)
            with torch.no_grad():
                self.rnn.bias_ih_l0[hidden:2 * hidden] = 1.0
                self.rnn.bias_hh_l0[hidden:2 * hidden] = 0.0  # only the sum b_ih + b_hh matters

    def forward(self, x):
        states, _ = self.rnn(x)  # (B, T, hidden)
        return self.head(states).squeeze(-1)  # (B, T): the estimate of u at every step
# --8<-- [end:recall_task]


def adam_step(params, grads, state, lr, betas=(0.9, 0.999), eps=1e-8):
    """One Adam update (the same arithmetic as torch.optim.Adam with its defaults)."""
    state["t"] = t = state.get("t", 0) + 1
    with torch.no_grad():
        for k, (p, g) in enumerate(zip(params, grads)):
            m, v = state.setdefault(k, (torch.zeros_like(p), torch.zeros_like(p)))
            m.mul_(betas[0]).add_(g, alpha=1 - betas[0])
            v.mul_(betas[1]).addcmul_(g, g, value=1 - betas[1])
            p -= lr * (m / (1 - betas[0] ** t)) / ((v / (1 - betas[1] ** t)).sqrt() + eps)


def train_recall(kind, hidden, seed=0):
    """STEPS Adam steps on batches of BATCH sequences of length LENGTH, mean squared error over all steps."""
    torch.manual_seed(seed)
    model, state = Recall(kind, hidden), {}
    gen = torch.Generator().manual_seed(seed + 1)
    params = list(model.parameters())
    for _ in range(STEPS):
        x, u = recall_batch(gen, BATCH, LENGTH)
        loss = ((model(x) - u[:, None]) ** 2).mean()
        adam_step(params, torch.autograd.grad(loss, params), state, LR)
    return model


def recall_experiment():
    """Train the four networks; test on 1000 sequences twice as long as in training.
    Returns the models, the test batch and each network's squared error by delay (index k = delay k)."""
    models = {(kind, hidden): train_recall(kind, hidden) for kind, hidden in NETWORKS}
    x, u = recall_batch(torch.Generator().manual_seed(99), 1000, 2 * LENGTH)
    with torch.no_grad():
        errors = {key: ((model(x) - u[:, None]) ** 2).mean(0).numpy() for key, model in models.items()}
    return models, x, u, errors


def memory_unit(trace):
    """The LSTM unit that holds its value best: the largest spread of c_1 across sequences
    relative to how far c_t moves away from c_1 afterwards."""
    c = trace["c"]  # (T, B, d_h)
    return int(torch.argmax(c[0].std(0) / (c[1:] - c[0]).abs().mean((0, 1))))


def gate_numbers(trace, unit):
    """What Figure 1 shows about one unit, over all test sequences: the input gate at t = 1 (mean) and
    afterwards (largest), the smallest forget gate after t = 1, and how far c_t moves from c_1."""
    i, f, c = (trace[k][:, :, unit] for k in "ifc")
    return {"unit": unit, "i_first": i[0].mean().item(), "i_later_max": i[1:].max().item(),
            "f_later_min": f[1:].min().item(), "drift": (c[1:] - c[0]).abs().max().item()}


def error_numbers(errors):
    """What Figure 2 shows: each network's error at delay 0 and its range over delays 1, 2, ..."""
    return {key: {"first": float(e[0]), "later_min": float(e[1:].min()), "later_max": float(e[1:].max())}
            for key, e in errors.items()}


models, x_test, u_test, errors = recall_experiment()

# %% Figure 1: the gates and the cell state of one LSTM unit
lstm_weights = weights_of(models[("LSTM", 8)].rnn)
_, _, trace = lstm_forward(x_test, lstm_weights, batch_first=True)
unit = memory_unit(trace)
i_t, f_t, o_t = (trace[k][:, :, unit] for k in "ifo")  # (T, B)
steps = np.arange(1, 2 * LENGTH + 1)
seq = 0  # the test sequence shown on the left
x_five = x_test[:5].clone()
x_five[:, 0, 0] = torch.tensor([-0.8, -0.4, 0.0, 0.4, 0.8])  # five values of u, the same later inputs
_, _, trace_five = lstm_forward(x_five, lstm_weights, batch_first=True)

fig, (ax_in, ax_gate, ax_cell) = plt.subplots(1, 3, figsize=(11, 3.3), layout="constrained")
ax_in.plot(steps, x_test[seq, :, 0], ls="-", lw=0.8, marker=".", ms=5, color="0.45", label="input value")
ax_in.plot(1, x_test[seq, 0, 0], ls="", marker="*", ms=12, label="$u$ (marker on)")
ax_in.set(xlabel="time step $t$", ylabel="channel 0 of $\\mathbf{x}_t$", title="A test sequence", ylim=(-1.1, 1.35))
ax_in.legend(fontsize=8, loc="upper right", ncol=2)
for values, style, label in ((i_t, dict(ls="-", marker="o", ms=3), "input gate $i_t$"),
                             (f_t, dict(ls="--"), "forget gate $f_t$"),
                             (o_t, dict(ls=":", lw=2), "output gate $o_t$")):
    ax_gate.plot(steps, values[:, seq], label=label, **style)
ax_gate.set(xlabel="time step $t$", ylabel="gate value", ylim=(-0.05, 1.05), title=f"Gates of unit {unit}")
ax_gate.legend(fontsize=8, loc="center right")
cell_styles = (dict(ls="-"), dict(ls="--"), dict(ls="-."), dict(ls=":", lw=2), dict(ls="-", marker="o", ms=3, markevery=3))
for b, style in enumerate(cell_styles):
    ax_cell.plot(steps, trace_five["c"][:, b, unit], label=f"$u = {x_five[b, 0, 0].item():+.1f}$", **style)
ax_cell.axvline(LENGTH + 0.5, ls=":", color="0.4")
ax_cell.set(xlabel="time step $t$", ylabel="cell state $c_t$", ylim=(-0.85, 0.85),
           title=f"Cell state of unit {unit}, five values of $u$")
ax_cell.legend(fontsize=7, loc="upper right", ncol=3)
print("Figure 1: unit {unit}; mean i_1 = {i_first:.2f}; largest i_t after t = 1: {i_later_max:.3f}; "
      "smallest f_t after t = 1: {f_later_min:.3f}; largest |c_t - c_1|: {drift:.3f}".format(**gate_numbers(trace, unit)))

# %% Figure 2: error against delay for the vanilla RNNs, the LSTM and the GRU
delays = np.arange(2 * LENGTH)
fig, ax = plt.subplots(figsize=(6.4, 3.6), layout="constrained")
markers = {("RNN", 8): "o", ("RNN", 32): "s", ("LSTM", 8): "^", ("GRU", 8): "D"}
lines = {("RNN", 8): "-", ("RNN", 32): "--", ("LSTM", 8): "-.", ("GRU", 8): ":"}
for key, error in errors.items():
    n_params = sum(p.numel() for p in models[key].parameters())
    ax.semilogy(delays, error, ls=lines[key], marker=markers[key], ms=4, markevery=3,
                label=f"{key[0]}, {key[1]} units ({n_params} parameters)")
ax.axhline(1 / 3, ls="-", lw=0.8, color="0.4")
ax.text(2 * LENGTH - 1, 1 / 3 * 1.15, "always answering 0", fontsize=8, ha="right", va="bottom")
ax.axvline(LENGTH - 0.5, ls=":", color="0.4")
ax.text(LENGTH + 0.3, 2e-4, "longer than any\ntraining sequence", fontsize=8, va="bottom")
ax.set(xlabel="delay: steps since $u$ arrived", ylabel="test mean squared error", ylim=(1e-4, 1),
       title="Recalling the first value while new values arrive")
ax.legend(fontsize=8, loc="center right")
for key, numbers in error_numbers(errors).items():
    print(f"Figure 2: {key[0]} ({key[1]} units): delay 0 {numbers['first']:.4f}, delays 1-{2 * LENGTH - 1} "
          f"between {numbers['later_min']:.4f} and {numbers['later_max']:.4f}")

plt.show()
