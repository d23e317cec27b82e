"""Attention: the encoder-decoder picture, Bahdanau's additive and Luong's multiplicative scores,
a small encoder-decoder with attention trained to reverse digit strings, scaled dot-product
attention written from its formula, why the scores are divided by sqrt(d_k), and masking.

Figure 1: one decoder step of an RNN encoder-decoder with additive (Bahdanau) attention:
encoder states, scores against the previous decoder state, softmax weights, context vector.
Figure 2: the attention weights of a GRU encoder-decoder with Luong's global attention (general
score), trained for 60 Adam steps to reverse strings of 5 digits: they form the anti-diagonal.
Figure 3: as d_k grows, unscaled dot-product scores get variance d_k and the softmax
saturates (max weight -> 1, Jacobian -> 0); scaling by 1/sqrt(d_k) prevents it.
Figure 4: self-attention weights on a 7-token toy sentence, without a mask, with a
padding mask, and with a causal (+ padding) mask. Masked cells are marked with a cross.
The numbers the page states about Figures 2, 3 and 4 are printed by their cells.
"""

# %% Imports and seeds
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle
from torch import nn

torch.manual_seed(0)
rng = np.random.default_rng(0)
# Okabe-Ito colors, distinguishable with the common color-vision deficiencies
BLUE, ORANGE, GREEN, VERMILLION, SKY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9"

# %% Scaled dot-product attention, written from the formula
# --8<-- [start:attention]
def attention(q, k, v, mask=None):
    """softmax(q k^T / sqrt(d_k)) v, with masked scores set to -inf before the softmax.

    q: (..., L, d_k)  k: (..., S, d_k)  v: (..., S, d_v)
    mask: boolean (..., L, S) or None; True means "query i may attend to key j".
    Returns the output (..., L, d_v) and the attention weights (..., L, S).
    """
    d_k = q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)  # (..., L, S)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))  # before the softmax
    weights = torch.softmax(scores, dim=-1)  # over the keys: each row sums to 1
    return weights @ v, weights  # weighted sum of the VALUES
# --8<-- [end:attention]

# %% Figure 1: one decoder step of an encoder-decoder with additive attention
def box(ax, x, y, text, color, w=0.9, h=0.55):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.04",
                                fc=color, ec="black", lw=1, zorder=3))
    ax.text(x, y, text, ha="center", va="center", fontsize=11, zorder=4)


def arrow(ax, start, end, **kw):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, lw=1,
                                 color="black", zorder=2, **kw))


example_scores = torch.tensor([-0.5, 1.5, 0.5, -1.0])  # e_i1..e_i4, example values
alpha = torch.softmax(example_scores, dim=0)  # the weights shown as bars
xs = np.array([0.0, 1.7, 3.4, 5.1])  # source positions j = 1..4
y_score, y_softmax, y_bars, y_decoder = 1.45, 2.45, 3.05, 5.3
cx, cy = 2.55, 4.45  # the context node

fig, ax = plt.subplots(figsize=(8.6, 5.4))
ax.set(xlim=(-2.7, 9.2), ylim=(-1.4, 6.1), aspect="equal")
ax.axis("off")
for j, x in enumerate(xs, start=1):  # encoder: inputs x_j, states h_j
    box(ax, x, 0, f"$h_{j}$", SKY)
    ax.text(x, -1.15, f"$x_{j}$", ha="center", va="center", fontsize=11)
    arrow(ax, (x, -0.95), (x, -0.3))
for a, b in zip(xs[:-1], xs[1:]):  # a bidirectional RNN: information flows both ways
    ax.add_patch(FancyArrowPatch((a + 0.5, 0), (b - 0.5, 0), arrowstyle="<|-|>", mutation_scale=9, lw=1))
ax.text(xs[-1] + 0.65, 0, "encoder states\n(bidirectional RNN)", ha="left", va="center", fontsize=9)
for j, x in enumerate(xs, start=1):  # scores e_ij
    ax.add_patch(Circle((x, y_score), 0.36, fc="white", ec=GREEN, lw=1.5, zorder=3))
    ax.text(x, y_score, f"$e_{{i{j}}}$", ha="center", va="center", fontsize=10, zorder=4)
    arrow(ax, (x, 0.3), (x, y_score - 0.37))
    arrow(ax, (x, y_score + 0.37), (x, y_softmax - 0.27))
ax.text(xs[-1] + 0.65, y_score, r"scores $e_{ij} = v_a^\top \tanh(W_a s_{i-1} + U_a h_j)$",
        ha="left", va="center", fontsize=9)
box(ax, -1.9, y_decoder, "$s_{i-1}$", ORANGE)  # decoder: previous and new state
box(ax, 7.4, y_decoder, "$s_i$", ORANGE)
ax.text(-1.9, y_decoder + 0.55, "decoder", ha="center", va="bottom", fontsize=9)
arrow(ax, (-1.4, y_decoder), (6.9, y_decoder))
ax.plot([-1.9, -1.9, xs[-1]], [y_decoder - 0.3, y_score, y_score], color=GREEN, lw=1.2, zorder=1)
ax.text(-1.05, y_score - 0.3, "$s_{i-1}$ is scored\nagainst every $h_j$", ha="center", va="top", fontsize=8.5)
ax.add_patch(FancyBboxPatch((xs[0] - 0.5, y_softmax - 0.22), xs[-1] - xs[0] + 1.0, 0.44,
                            boxstyle="round,pad=0.04", fc="0.92", ec="black", lw=1, zorder=3))
ax.text(xs.mean(), y_softmax, "softmax over $j$", ha="center", va="center", fontsize=10, zorder=4)
for j, (x, a) in enumerate(zip(xs, alpha.tolist()), start=1):  # weights alpha_ij as bars
    ax.add_patch(Rectangle((x - 0.25, y_bars), 0.5, a, fc=BLUE, ec="black", lw=0.8, zorder=3))
    left = x < cx
    ax.text(x - 0.32 if left else x + 0.32, y_bars + 0.05, f"$\\alpha_{{i{j}}}$ = {a:.2f}",
            ha="right" if left else "left", va="bottom", fontsize=8.5)
    arrow(ax, (x, y_softmax + 0.27), (x, y_bars))
    arrow(ax, (x, y_bars + a + 0.03), (cx + (x - cx) * 0.08, cy - 0.3))
ax.text(xs[-1] + 1.55, y_bars + 0.3, "weights", ha="left", va="center", fontsize=9)
ax.add_patch(Circle((cx, cy), 0.3, fc="white", ec=VERMILLION, lw=1.5, zorder=3))
ax.text(cx, cy, r"$\Sigma$", ha="center", va="center", fontsize=12, zorder=4)
ax.text(cx + 0.4, cy + 0.05, r"context $c_i = \sum_j \alpha_{ij} h_j$", ha="left", va="bottom", fontsize=9)
arrow(ax, (cx + 0.3, cy), (6.95, y_decoder - 0.2), connectionstyle="arc3,rad=0.15")
ax.text(7.4, y_decoder + 0.75, "$y_{i-1}$", ha="center", va="center", fontsize=11)
arrow(ax, (7.4, y_decoder + 0.57), (7.4, y_decoder + 0.3))
arrow(ax, (7.85, y_decoder), (8.5, y_decoder))
ax.text(8.6, y_decoder, "$y_i$", ha="left", va="center", fontsize=11)
fig.tight_layout()

# %% Additive (Bahdanau) and multiplicative (Luong) scores
# --8<-- [start:additive]
class AdditiveAttention(nn.Module):
    """Bahdanau et al. (2015): e_j = v_a^T tanh(W_a s + U_a h_j), alpha = softmax_j(e), c = sum_j alpha_j h_j."""

    def __init__(self, d_s, d_h, d_a):
        super().__init__()
        self.W_a = nn.Linear(d_s, d_a, bias=False)  # projects the decoder state s_{i-1}
        self.U_a = nn.Linear(d_h, d_a, bias=False)  # projects the annotations h_j (once per sentence)
        self.v_a = nn.Linear(d_a, 1, bias=False)

    def forward(self, s, H):
        """s: (B, d_s) previous decoder state; H: (B, T_x, d_h) annotations.
        Returns the context (B, d_h) and the weights (B, T_x)."""
        e = self.v_a(torch.tanh(self.W_a(s)[:, None, :] + self.U_a(H))).squeeze(-1)  # (B, T_x)
        alpha = torch.softmax(e, dim=-1)  # over the source positions j
        return (alpha[:, None, :] @ H).squeeze(1), alpha


def luong_scores(h_t, H, kind, W_a=None, v_a=None):
    """Luong et al. (2015) scores of decoder states h_t (B, d) against encoder states H (B, S, d_h): (B, S)."""
    if kind == "dot":  # h_t . h_s (needs d = d_h)
        return (H @ h_t[:, :, None]).squeeze(-1)
    if kind == "general":  # h_t^T W_a h_s, W_a: (d, d_h)
        return (H @ (h_t @ W_a)[:, :, None]).squeeze(-1)
    if kind == "concat":  # v_a^T tanh(W_a [h_t; h_s]), W_a: (d_a, d + d_h)
        pairs = torch.cat([h_t[:, None, :].expand(-1, H.shape[1], -1), H], dim=-1)
        return torch.tanh(pairs @ W_a.T) @ v_a
    raise ValueError(kind)
# --8<-- [end:additive]

# %% A toy task: a GRU encoder-decoder with attention learns to reverse digit strings
# --8<-- [start:reverser]
class Reverser(nn.Module):
    """Bidirectional GRU encoder, GRU decoder, Luong's global attention with the general score."""

    def __init__(self, n_digits=10, d=24):
        super().__init__()
        self.embed_src = nn.Embedding(n_digits, d)
        self.embed_tgt = nn.Embedding(n_digits + 1, d)  # + a start symbol
        self.encoder = nn.GRU(d, d, batch_first=True, bidirectional=True)
        self.init = nn.Linear(d, d)  # s_0 = tanh(W (backward state at j = 1)), as Bahdanau et al.
        self.decoder = nn.GRU(d, d, batch_first=True)
        self.W_a = nn.Linear(2 * d, d, bias=False)  # general score h_t^T W_a h_s
        self.W_c = nn.Linear(3 * d, d, bias=False)  # attentional hidden state tanh(W_c [c_t; h_t])
        self.W_s = nn.Linear(d, n_digits)

    def encode(self, x):
        H, last = self.encoder(self.embed_src(x))  # H: (B, T_x, 2d) annotations [fwd; bwd]
        return H, torch.tanh(self.init(last[1]))[None]  # last[1]: backward state after reading x_1

    def attend(self, h, H):
        """h: (B, T_y, d) decoder states; all scores in one matrix product (no input feeding)."""
        weights = torch.softmax(h @ self.W_a(H).transpose(1, 2), dim=-1)  # (B, T_y, T_x)
        context = weights @ H  # (B, T_y, 2d)
        return self.W_s(torch.tanh(self.W_c(torch.cat([context, h], dim=-1)))), weights

    def forward(self, x, y_in):
        """Teacher forcing: y_in is the target shifted right, starting with the start symbol."""
        H, s0 = self.encode(x)
        h, _ = self.decoder(self.embed_tgt(y_in), s0)
        return self.attend(h, H)

    @torch.no_grad()
    def greedy(self, x):
        """Decode one digit at a time, feeding back the model's own prediction."""
        H, state = self.encode(x)
        y = torch.full((x.shape[0], 1), self.embed_tgt.num_embeddings - 1)
        outputs, weights = [], []
        for _ in range(x.shape[1]):
            h, state = self.decoder(self.embed_tgt(y), state)
            logits, w = self.attend(h, H)
            y = logits.argmax(-1)
            outputs.append(y)
            weights.append(w)
        return torch.cat(outputs, 1), torch.cat(weights, 1)
# --8<-- [end:reverser]


def reversal_batch(n, length, g):
    x = torch.randint(0, 10, (n, length), generator=g)
    y = x.flip(1)  # the target: the string reversed
    y_in = torch.cat([torch.full((n, 1), 10), y[:, :-1]], dim=1)  # start symbol, then y_1 .. y_{T-1}
    return x, y, y_in


def adam_step(params, grads, state, lr, betas=(0.9, 0.999), eps=1e-8):
    """One Adam update, the arithmetic of torch.optim.Adam with its defaults (written out: importing
    torch.optim's machinery costs about a second, more than the training below)."""
    state["t"] = t = state.get("t", 0) + 1
    with torch.no_grad():
        for i, (p, g) in enumerate(zip(params, grads)):
            m, v = state.setdefault(i, (torch.zeros_like(p), torch.zeros_like(p)))
            m.mul_(betas[0]).add_(g, alpha=1 - betas[0])
            v.mul_(betas[1]).addcmul_(g, g, value=1 - betas[1])
            p -= lr * (m / (1 - betas[0] ** t)) / ((v / (1 - betas[1] ** t)).sqrt() + eps)


def train_reverser(steps=60, length=5, batch=96, lr=0.02, seed=0, d=24):
    """Adam on fresh random strings, with teacher forcing; returns the model and the loss of every step."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model = Reverser(d=d)
    params, state, losses = list(model.parameters()), {}, []
    for _ in range(steps):
        x, y, y_in = reversal_batch(batch, length, g)
        logits, _ = model(x, y_in)
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
        adam_step(params, torch.autograd.grad(loss, params), state, lr)
        losses.append(loss.item())
    return model, losses


def evaluate_reverser(model, n=1000, length=5, seed=1):
    """Greedy decoding of n new strings: exact-match accuracy, digit accuracy, the weights, the strings."""
    x, y, _ = reversal_batch(n, length, torch.Generator().manual_seed(seed))
    pred, weights = model.greedy(x)
    return (pred == y).all(1).float().mean().item(), (pred == y).float().mean().item(), weights, x


reverser, reverser_losses = train_reverser()
exact, per_digit, rev_weights, rev_x = evaluate_reverser(reverser)
T_rev = rev_x.shape[1]
anti = torch.arange(T_rev - 1, -1, -1)  # output i reads source position T - 1 - i (from 0)
on_anti = rev_weights[:, torch.arange(T_rev), anti]  # (n, T)
print(f"Figure 2: {exact:.1%} of 1000 new strings reversed exactly ({per_digit:.1%} of the digits); "
      f"mean weight on the anti-diagonal {on_anti.mean():.2f}, "
      f"argmax on it in {(rev_weights.argmax(-1) == anti).float().mean():.1%} of the rows")

# %% Figure 2: the attention weights of the trained model
fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.8), layout="constrained")
example = rev_x[0]
digits = "".join(str(d) for d in example.tolist())
panels = [(rev_weights[0], f"one string: {digits} → {digits[::-1]}"), (rev_weights.mean(0), "mean over 1000 strings")]
for ax, (w, title) in zip(axes, panels):
    im = ax.imshow(w.numpy(), cmap="Blues", vmin=0, vmax=1)
    for i in range(w.shape[0]):
        for j in range(w.shape[1]):
            ax.text(j, i, f"{w[i, j]:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if w[i, j] > 0.55 else "black")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("source position $s$")
    ax.set_ylabel("output step $t$")
    ax.set_xticks(range(T_rev), [f"{j + 1}" for j in range(T_rev)])
    ax.set_yticks(range(T_rev), [f"{i + 1}" for i in range(T_rev)])
axes[0].set_xticks(range(T_rev), [f"{j + 1}\n{d}" for j, d in enumerate(digits)])
axes[0].set_yticks(range(T_rev), [f"{i + 1}: {d}" for i, d in enumerate(digits[::-1])])
fig.colorbar(im, ax=axes, shrink=0.8, label=r"weight $a_t(s)$")

# %% Softmax saturation: unscaled vs scaled scores as d_k grows
def saturation_stats(d_ks, n_queries=400, n_keys=16, seed=0):
    """For each d_k: variance of the scores, mean largest softmax weight and median
    Frobenius norm of the softmax Jacobian, for q . k and for q . k / sqrt(d_k)."""
    g = torch.Generator().manual_seed(seed)
    stats = {name: {"var": [], "max_w": [], "jac": []} for name in ("unscaled", "scaled")}
    for d_k in d_ks:
        q = torch.randn(n_queries, 1, d_k, generator=g, dtype=torch.float64)  # unit-variance components
        k = torch.randn(n_queries, n_keys, d_k, generator=g, dtype=torch.float64)
        dots = (k @ q.transpose(1, 2)).squeeze(-1)  # (n_queries, n_keys): q . k_j
        for name, s in [("unscaled", dots), ("scaled", dots / math.sqrt(d_k))]:
            p = torch.softmax(s, dim=-1)
            jac = torch.diag_embed(p) - p.unsqueeze(-1) * p.unsqueeze(-2)  # d softmax / d scores
            stats[name]["var"].append(s.var().item())
            stats[name]["max_w"].append(p.max(-1).values.mean().item())
            stats[name]["jac"].append(jac.flatten(1).norm(dim=-1).median().item())
    return stats


d_ks = [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
n_keys = 16
stats = saturation_stats(d_ks, n_keys=n_keys)
for name in stats:
    print(f"Figure 3, {name}: largest weight {stats[name]['max_w'][0]:.2f} (d_k = 2) -> "
          f"{stats[name]['max_w'][-1]:.2f} (d_k = 1024); Jacobian norm "
          f"{stats[name]['jac'][0]:.3f} -> {stats[name]['jac'][-1]:.2g}")

# %% Figure 3: variance, largest weight and softmax Jacobian vs d_k
fig, axes = plt.subplots(1, 3, figsize=(10, 3.2), layout="constrained")
style = {"unscaled": dict(color=VERMILLION, marker="o", ls="-", label=r"$q\cdot k$"),
         "scaled": dict(color=BLUE, marker="s", ls="--", label=r"$q\cdot k/\sqrt{d_k}$")}
for name in stats:
    axes[0].loglog(d_ks, stats[name]["var"], **style[name])
    axes[1].semilogx(d_ks, stats[name]["max_w"], **style[name])
    axes[2].loglog(d_ks, stats[name]["jac"], **style[name])
axes[0].loglog(d_ks, d_ks, "k:", lw=1, label="$d_k$")
axes[0].set_title("variance of the scores", fontsize=10)
axes[1].axhline(1 / n_keys, color="gray", ls=":", lw=1, label=f"uniform $1/S$ ($S={n_keys}$)")
axes[1].set_ylim(0, 1.05)
axes[1].set_title("largest attention weight (mean)", fontsize=10)
axes[2].set_title("softmax Jacobian norm (median)", fontsize=10)
axes[0].set_ylabel(r"$\mathrm{Var}(e_j)$")
axes[1].set_ylabel(r"$\alpha_{\max}$")
axes[2].set_ylabel(r"$\|\partial\alpha / \partial e\|_F$")
for ax in axes:
    ax.set_xlabel("$d_k$")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")

# %% A toy sentence: self-attention with Q = X W_Q, K = X W_K, V = X W_V
def toy_self_attention(seed=1, d_model=16):
    """Self-attention weights on "the cat sat on the mat <pad>" with random word vectors.

    W_Q = W_K = I makes the score the similarity of two embeddings, so every token attends
    mostly to itself and the two "the" tokens to each other. Returns the tokens and, for each
    mask, (mask, weights).
    """
    g = torch.Generator().manual_seed(seed)
    tokens = ["the", "cat", "sat", "on", "the", "mat", "<pad>"]
    vocab = {word: i for i, word in enumerate(dict.fromkeys(tokens))}
    embedding = torch.randn(len(vocab), d_model, generator=g)  # random word vectors
    X = embedding[torch.tensor([vocab[t] for t in tokens])]  # (T, d_model)
    T = len(tokens)
    W_Q, W_K = torch.eye(d_model), torch.eye(d_model)
    W_V = torch.randn(d_model, d_model, generator=g) / math.sqrt(d_model)
    Q, K, V = X @ W_Q, X @ W_K, X @ W_V
    is_real = torch.tensor([t != "<pad>" for t in tokens])
    padding_mask = is_real.expand(T, T)  # key j must be a real token
    causal_mask = torch.ones(T, T, dtype=torch.bool).tril()  # key j <= query i
    masks = {"no mask": None, "padding mask": padding_mask, "causal + padding mask": causal_mask & padding_mask}
    return tokens, {name: (mask, attention(Q, K, V, mask)[1]) for name, mask in masks.items()}


tokens, weights = toy_self_attention()
T = len(tokens)
w = weights["no mask"][1]
print(f"Figure 4, no mask: self-weights {np.round(w.diagonal().numpy(), 2)}; "
      f"'the' -> other 'the' {w[0, 4]:.2f}")

# %% Figure 4: attention-weight heatmaps
fig, axes = plt.subplots(1, 3, figsize=(10, 3.6), layout="constrained")
cmap = plt.get_cmap("Blues").copy()
cmap.set_bad("0.85")  # masked cells
for ax, (name, (mask, w)) in zip(axes, weights.items()):
    assert torch.allclose(w.sum(-1), torch.ones(T))
    shown = np.ma.masked_array(w.numpy(), mask=None if mask is None else ~mask.numpy())
    im = ax.imshow(shown, cmap=cmap, vmin=0, vmax=1)
    for i in range(T):
        for j in range(T):
            if mask is None or mask[i, j]:
                ax.text(j, i, f"{w[i, j]:.2f}", ha="center", va="center", fontsize=6.5,
                        color="white" if w[i, j] > 0.55 else "black")
            else:
                ax.text(j, i, "×", ha="center", va="center", fontsize=9, color="0.35")
    ax.set_xticks(range(T), tokens, rotation=45, fontsize=8)
    ax.set_yticks(range(T), tokens, fontsize=8)
    ax.set_xlabel("key $j$")
    ax.set_title(name, fontsize=10)
axes[0].set_ylabel("query $i$")
fig.colorbar(im, ax=axes, shrink=0.8, label=r"weight $\alpha_{ij}$")

plt.show()
