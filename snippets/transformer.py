"""The Transformer, built from tensor operations.

The snippet writes the parts of a Transformer layer from scratch (multi-head attention, layer
normalization, the position-wise feed-forward network, post-LN and pre-LN encoder layers and a
decoder layer) and reads the weights of PyTorch's layers into them. It draws

1. the structure of a post-LN and a pre-LN encoder layer and of a decoder layer;
2. why scores are divided by sqrt(d_k): the variance of q . k and the largest softmax weight
   against d_k, measured on random unit-variance queries and keys;
3. the sinusoidal positional encoding and the dot products between positions;
4. the masks of an encoder-decoder Transformer: padding, causal, and cross-attention;
5. the attention weights of a one-layer Transformer encoder trained for a few seconds to
   reverse a sequence of digits.

The numbers the page states about the figures are computed here and printed.
"""

# %% Imports and seeds
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

torch.manual_seed(0)
rng = np.random.default_rng(0)  # unused (all randomness is torch), seeded by convention
plt.style.use("tableau-colorblind10")
# Okabe-Ito colors, safe for color-vision deficiency; curves also differ by marker and line style
BLUE, ORANGE, GREEN, VERMILLION, SKY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9"

# %% Multi-head attention from tensor operations
# --8<-- [start:mha]
def split_heads(x, n_heads):
    """(B, T, d_model) -> (B, h, T, d_k): head i gets columns i*d_k, ..., (i+1)*d_k - 1."""
    B, T, d_model = x.shape
    return x.view(B, T, n_heads, d_model // n_heads).transpose(1, 2)


def merge_heads(x):
    """(B, h, T, d_k) -> (B, T, h*d_k): Concat(head_1, ..., head_h) for every position."""
    B, h, T, d_k = x.shape
    return x.transpose(1, 2).reshape(B, T, h * d_k)


def attention(Q, K, V, mask=None):
    """softmax(Q K^T / sqrt(d_k) + M) V; mask is boolean, True where a query may attend."""
    scores = Q @ K.transpose(-2, -1) / math.sqrt(Q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    A = torch.softmax(scores, dim=-1)
    return A @ V, A


def multi_head_attention(x_q, x_kv, p, n_heads, mask=None):
    """MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W_O with head_i = Attention(Q_i, K_i, V_i).

    x_q: (B, L, d_model) gives the queries; x_kv: (B, S, d_model) gives the keys and values
    (x_kv is x_q in self-attention). p: W_Q, W_K, W_V, W_O of shape (d_model, d_model) and biases.
    mask: boolean (L, S) or (B, L, S), True where a query may attend. Returns (B, L, d_model) and weights (B, h, L, S).
    """
    Q = split_heads(x_q @ p["W_Q"] + p["b_Q"], n_heads)  # all h heads' queries at once
    K = split_heads(x_kv @ p["W_K"] + p["b_K"], n_heads)
    V = split_heads(x_kv @ p["W_V"] + p["b_V"], n_heads)
    heads, A = attention(Q, K, V, None if mask is None else mask.unsqueeze(-3))  # same mask per head
    return merge_heads(heads) @ p["W_O"] + p["b_O"], A
# --8<-- [end:mha]

# %% Layer normalization, the feed-forward network, encoder and decoder layers
# --8<-- [start:layer]
def layer_norm(x, gamma, beta, eps=1e-5):
    """Normalize each token vector over its d_model features (biased variance), then scale and shift."""
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)  # divide by d_model, not d_model - 1
    return gamma * (x - mu) / torch.sqrt(var + eps) + beta


def feed_forward(x, p, activation="relu"):
    """FFN(x) = act(x W_1 + b_1) W_2 + b_2, the same weights at every position."""
    z = x @ p["W_1"] + p["b_1"]  # (B, T, d_ff)
    if activation == "relu":
        a = z.clamp(min=0)
    else:  # GELU: z * Phi(z)
        a = 0.5 * z * (1 + torch.erf(z / math.sqrt(2)))
    return a @ p["W_2"] + p["b_2"]


def encoder_layer(x, p, n_heads, norm_first=False, activation="relu", mask=None):
    """Post-LN (the paper): x = LN(x + Sublayer(x)). Pre-LN: x = x + Sublayer(LN(x))."""
    def self_attention(z):
        return multi_head_attention(z, z, p["attn"], n_heads, mask)[0]

    if norm_first:
        x = x + self_attention(layer_norm(x, *p["ln1"]))
        return x + feed_forward(layer_norm(x, *p["ln2"]), p, activation)
    x = layer_norm(x + self_attention(x), *p["ln1"])
    return layer_norm(x + feed_forward(x, p, activation), *p["ln2"])


def decoder_layer(y, memory, p, n_heads, self_mask=None, cross_mask=None, norm_first=False,
                  activation="relu"):
    """Masked self-attention, then cross-attention (queries from y, keys and values from the
    encoder output `memory`), then the FFN; each sub-layer with a residual connection and LN."""
    def self_attention(z):
        return multi_head_attention(z, z, p["attn"], n_heads, self_mask)[0]

    def cross_attention(z):
        return multi_head_attention(z, memory, p["cross"], n_heads, cross_mask)[0]

    sublayers = [self_attention, cross_attention, lambda z: feed_forward(z, p, activation)]
    for sublayer, ln in zip(sublayers, ("ln1", "ln2", "ln3")):
        if norm_first:
            y = y + sublayer(layer_norm(y, *p[ln]))
        else:
            y = layer_norm(y + sublayer(y), *p[ln])
    return y
# --8<-- [end:layer]


def mha_params(mha):
    """Read an nn.MultiheadAttention into W_Q, ..., W_O (PyTorch stores W^T and computes x W^T)."""
    W_Q, W_K, W_V = mha.in_proj_weight.detach().chunk(3)
    b_Q, b_K, b_V = mha.in_proj_bias.detach().chunk(3)
    return {"W_Q": W_Q.T, "W_K": W_K.T, "W_V": W_V.T, "b_Q": b_Q, "b_K": b_K, "b_V": b_V,
            "W_O": mha.out_proj.weight.detach().T, "b_O": mha.out_proj.bias.detach()}


def layer_params(layer):
    """Read an nn.TransformerEncoderLayer or nn.TransformerDecoderLayer into a dict."""
    p = {"attn": mha_params(layer.self_attn),
         "W_1": layer.linear1.weight.detach().T, "b_1": layer.linear1.bias.detach(),
         "W_2": layer.linear2.weight.detach().T, "b_2": layer.linear2.bias.detach(),
         "ln1": (layer.norm1.weight.detach(), layer.norm1.bias.detach()),
         "ln2": (layer.norm2.weight.detach(), layer.norm2.bias.detach())}
    if hasattr(layer, "multihead_attn"):  # a decoder layer
        p["cross"] = mha_params(layer.multihead_attn)
        p["ln3"] = (layer.norm3.weight.detach(), layer.norm3.bias.detach())
    return p


def encoder_layer_param_count(d_model, d_ff):
    """4 d^2 + 4 d (attention) + 2 d d_ff + d_ff + d (FFN) + 4 d (two layer norms)."""
    return 4 * d_model**2 + 4 * d_model + 2 * d_model * d_ff + d_ff + d_model + 4 * d_model


def attention_flops(n, d_model, d_ff):
    """Multiply-adds of one encoder layer on n tokens: projections, scores, weighted sum, FFN."""
    return {"projections": 4 * n * d_model**2, "scores": n * n * d_model,
            "weighted sum": n * n * d_model, "feed-forward": 2 * n * d_model * d_ff}

# %% Figure 1: the structure of the layers
def draw_stack(ax, x0, title, blocks, residuals, inputs=()):
    """Boxes bottom to top at x0; residuals: (from, to) box indices of the skip connections."""
    ys = 0.6 + 0.95 * np.arange(len(blocks))
    ax.text(x0, ys[-1] + 1.05, title, ha="center", va="bottom", fontsize=10, weight="bold")
    ax.annotate("", (x0, ys[0] - 0.25), (x0, ys[0] - 0.85), arrowprops=dict(arrowstyle="-|>", lw=1))
    for i, ((text, color), y) in enumerate(zip(blocks, ys)):
        ax.add_patch(FancyBboxPatch((x0 - 1.2, y - 0.25), 2.4, 0.5, boxstyle="round,pad=0.03",
                                    fc=color, ec="black", lw=1, zorder=3))
        ax.text(x0, y, text, ha="center", va="center", fontsize=8.5, zorder=4)
        if i + 1 < len(blocks):
            ax.annotate("", (x0, ys[i + 1] - 0.25), (x0, y + 0.25), arrowprops=dict(arrowstyle="-|>", lw=1))
    ax.annotate("", (x0, ys[-1] + 0.85), (x0, ys[-1] + 0.25), arrowprops=dict(arrowstyle="-|>", lw=1))
    for k, (a, b) in enumerate(residuals):  # the skip path, drawn dashed to the left of the stack
        xs = x0 - 1.45 - 0.12 * (k % 2)
        y_from, y_to = ys[a] + 0.475 if a >= 0 else ys[0] - 0.55, ys[b]
        ax.plot([x0, xs, xs], [y_from, y_from, y_to], color="black", ls="--", lw=1)
        ax.add_patch(FancyArrowPatch((xs, y_to), (x0 - 1.2, y_to), arrowstyle="-|>", mutation_scale=9,
                                     ls="--", lw=1, color="black"))
    for idx, text in inputs:  # extra inputs entering from the right (the encoder output)
        ax.add_patch(FancyArrowPatch((x0 + 2.0, ys[idx]), (x0 + 1.2, ys[idx]), arrowstyle="-|>",
                                     mutation_scale=10, lw=1.2, color=VERMILLION))
        ax.text(x0 + 2.05, ys[idx], text, ha="left", va="center", fontsize=8, color="black")


MHA, ADD, FFN, NORM = (SKY, "white", ORANGE, "0.85")
fig, ax = plt.subplots(figsize=(10, 4.6))
ax.set(xlim=(-1.0, 13.4), ylim=(-0.6, 7.2))
ax.axis("off")
draw_stack(ax, 0.9, "encoder layer, post-LN\n(Vaswani et al.)",
           [("multi-head self-attention", MHA), ("add: x + Sublayer(x)", ADD), ("layer norm", NORM),
            ("feed-forward (FFN)", FFN), ("add", ADD), ("layer norm", NORM)], [(-1, 1), (2, 4)])
draw_stack(ax, 5.1, "encoder layer, pre-LN\n(Xiong et al.)",
           [("layer norm", NORM), ("multi-head self-attention", MHA), ("add: x + Sublayer(LN(x))", ADD),
            ("layer norm", NORM), ("feed-forward (FFN)", FFN), ("add", ADD)], [(-1, 2), (2, 5)])
draw_stack(ax, 9.3, "decoder layer, post-LN",
           [("masked self-attention", MHA), ("add & layer norm", NORM), ("cross-attention", MHA),
            ("add & layer norm", NORM), ("feed-forward (FFN)", FFN), ("add & layer norm", NORM)],
           [(-1, 1), (1, 3), (3, 5)], inputs=[(2, "keys, values:\nencoder output")])
ax.text(0.9, -0.45, "input: (B, T, d_model)", ha="center", fontsize=8)
ax.text(5.1, -0.45, "input: (B, T, d_model)", ha="center", fontsize=8)
ax.text(9.3, -0.45, "target shifted right", ha="center", fontsize=8)
fig.tight_layout()

# %% Figure 2: why scores are divided by sqrt(d_k)
def score_stats(d_ks, n_queries=1000, n_keys=16, seed=0):
    """Variance of q . k and of q . k / sqrt(d_k), and the mean largest softmax weight over n_keys keys,
    for queries and keys with independent standard-normal components."""
    g = torch.Generator().manual_seed(seed)
    out = {name: {"var": [], "max_weight": []} for name in ("unscaled", "scaled")}
    for d_k in d_ks:
        q = torch.randn(n_queries, 1, d_k, generator=g, dtype=torch.float64)
        k = torch.randn(n_queries, n_keys, d_k, generator=g, dtype=torch.float64)
        dots = (q * k).sum(-1)  # (n_queries, n_keys)
        for name, s in (("unscaled", dots), ("scaled", dots / math.sqrt(d_k))):
            out[name]["var"].append(s.var().item())
            out[name]["max_weight"].append(torch.softmax(s, -1).max(-1).values.mean().item())
    return out


D_KS = [4, 8, 16, 32, 64, 128, 256, 512]
stats = score_stats(D_KS)
print("Figure 2: at d_k = 64: variance {:.1f} unscaled, {:.2f} scaled; largest weight {:.2f} vs {:.2f}".format(
    stats["unscaled"]["var"][4], stats["scaled"]["var"][4],
    stats["unscaled"]["max_weight"][4], stats["scaled"]["max_weight"][4]))

fig, (ax_var, ax_max) = plt.subplots(1, 2, figsize=(9, 3.4), layout="constrained")
styles = {"unscaled": dict(marker="o", ls="-", label=r"$\mathbf{q}\cdot\mathbf{k}$"),
          "scaled": dict(marker="s", ls="--", label=r"$\mathbf{q}\cdot\mathbf{k}/\sqrt{d_k}$")}
for name, style in styles.items():
    ax_var.loglog(D_KS, stats[name]["var"], base=2, **style)
    ax_max.semilogx(D_KS, stats[name]["max_weight"], base=2, **style)
ax_var.loglog(D_KS, D_KS, "k:", base=2, lw=1, label="$d_k$")
ax_var.set(xlabel="$d_k$", ylabel="variance of the score", title="Score variance (measured)")
ax_max.axhline(1 / 16, color="gray", ls="-.", lw=1, label="uniform, 1/16")
ax_max.set(xlabel="$d_k$", ylabel="largest weight (mean)", ylim=(0, 1.02), title="Softmax over 16 keys")
for ax in (ax_var, ax_max):
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")

# %% Figure 3: sinusoidal positional encoding
# --8<-- [start:sinusoidal]
def sinusoidal_encoding(T, d_model, base=10000.0):
    """PE[pos, 2i] = sin(pos / base^(2i/d)), PE[pos, 2i+1] = cos(pos / base^(2i/d))."""
    pos = torch.arange(T, dtype=torch.float64).unsqueeze(1)  # (T, 1)
    omega = base ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)  # (d/2,)
    pe = torch.zeros(T, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(pos * omega)
    pe[:, 1::2] = torch.cos(pos * omega)
    return pe


def rotation(k, d_model, base=10000.0):
    """R_k with PE[pos + k] = R_k PE[pos]: a 2 x 2 rotation by k * omega_i for every pair (2i, 2i+1)."""
    omega = base ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    c, s = torch.cos(k * omega), torch.sin(k * omega)
    R = torch.zeros(d_model, d_model, dtype=torch.float64)
    i = torch.arange(0, d_model, 2)
    R[i, i], R[i, i + 1], R[i + 1, i], R[i + 1, i + 1] = c, s, -s, c
    return R
# --8<-- [end:sinusoidal]


PE = sinusoidal_encoding(100, 64)
G = PE @ PE.T  # dot products between positions
print("Figure 3: PE(pos) . PE(pos) = {:.1f}; PE(pos) . PE(pos + k) = {:.1f} (k = 1), {:.1f} (k = 10), "
      "{:.1f} (k = 50)".format(G[0, 0], G[0, 1], G[0, 10], G[0, 50]))

fig, axes = plt.subplots(1, 3, figsize=(11, 3.5), layout="constrained", width_ratios=[1, 1, 1.1])
im = axes[0].imshow(PE.numpy(), cmap="viridis", aspect="auto", vmin=-1, vmax=1, interpolation="none")
axes[0].set(xlabel="dimension $j$", ylabel="position pos", title="PE(pos, j)")
fig.colorbar(im, ax=axes[0], shrink=0.8)
im = axes[1].imshow(G.numpy(), cmap="cividis", interpolation="none")
axes[1].set(xlabel="position", ylabel="position", title=r"PE(pos)$\cdot$PE(pos$'$)")
fig.colorbar(im, ax=axes[1], shrink=0.8)
k = np.arange(-40, 41)
for p0, style in ((40, dict(ls="-", marker="o", ms=3)), (55, dict(ls="none", marker="x", ms=4))):
    axes[2].plot(k, [G[p0, p0 + kk].item() for kk in k], label=f"pos = {p0}", **style)
axes[2].set(xlabel="offset $k$", ylabel=r"PE(pos)$\cdot$PE(pos + $k$)", title="Depends only on $k$")
axes[2].legend(fontsize=8)
axes[2].grid(alpha=0.3)

# %% Figure 4: masks in an encoder-decoder Transformer
def padding_mask(is_real, n_queries):
    """(B, S) True for real tokens -> (B, L, S): every query may attend to the real keys only."""
    return is_real.unsqueeze(1).expand(-1, n_queries, -1)


def causal_mask(T):
    """(T, T) True where key j <= query i."""
    return torch.ones(T, T, dtype=torch.bool).tril()


src_real = torch.tensor([[True] * 6, [True] * 4 + [False] * 2])  # source lengths 6 and 4, padded to 6
tgt_real = torch.tensor([[True] * 5, [True] * 3 + [False] * 2])  # target lengths 5 and 3, padded to 5
masks = {"encoder self-attention\n(padding)": padding_mask(src_real, 6)[1],
         "decoder self-attention\n(causal + padding)": causal_mask(5) & padding_mask(tgt_real, 5)[1],
         "cross-attention\n(source padding)": padding_mask(src_real, 5)[1]}
fig, axes = plt.subplots(1, 3, figsize=(10, 3.4), layout="constrained", width_ratios=[6, 5, 6])
for ax, (name, m) in zip(axes, masks.items()):
    ax.imshow(m.numpy(), cmap="Greys", vmin=-0.6, vmax=1.6)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            ax.text(j, i, "" if m[i, j] else "×", ha="center", va="center", fontsize=11, color="black")
    ax.set_xticks(range(m.shape[1]), [f"{j + 1}" for j in range(m.shape[1])])
    ax.set_yticks(range(m.shape[0]), [f"{i + 1}" for i in range(m.shape[0])])
    ax.set(title=name, xlabel="key position $j$")
axes[0].set_ylabel("query position $i$")
print("Figure 4: allowed pairs per mask:", {n.split(chr(10))[0]: int(m.sum()) for n, m in masks.items()})

# %% Figure 5: a one-layer Transformer encoder trained to reverse a sequence
class Reverser(nn.Module):
    """Token embedding + sinusoidal positions -> one pre-LN encoder layer -> logits per position."""

    def __init__(self, vocab=10, T=8, d_model=32, n_heads=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.register_buffer("pe", sinusoidal_encoding(T, d_model).float())
        self.layer = nn.TransformerEncoderLayer(d_model, n_heads, 4 * d_model, dropout=0.0,
                                                batch_first=True, norm_first=True)
        self.out = nn.Linear(d_model, vocab)

    def forward(self, x):
        return self.out(self.layer(self.embed(x) + self.pe))


def train_reverser(steps=60, batch_size=32, lr=1e-2, seed=0):
    """Adam, written out (it saves the second that importing torch.optim costs)."""
    torch.manual_seed(seed)
    model = Reverser()
    g = torch.Generator().manual_seed(seed)
    params = list(model.parameters())
    m1 = [torch.zeros_like(p) for p in params]
    m2 = [torch.zeros_like(p) for p in params]
    losses = []
    for t in range(1, steps + 1):
        x = torch.randint(0, 10, (batch_size, 8), generator=g)
        loss = F.cross_entropy(model(x).flatten(0, 1), x.flip(1).flatten())  # target: x reversed
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, gr, a, b in zip(params, grads, m1, m2):
                a.mul_(0.9).add_(gr, alpha=0.1)
                b.mul_(0.999).addcmul_(gr, gr, value=0.001)
                p -= lr * (a / (1 - 0.9**t)) / ((b / (1 - 0.999**t)).sqrt() + 1e-8)
        losses.append(loss.item())
    x_test = torch.randint(0, 10, (1000, 8), generator=g)
    with torch.no_grad():
        accuracy = (model(x_test).argmax(-1) == x_test.flip(1)).float().mean().item()
    return model, losses, accuracy


def reverser_weights(model, x):
    """The attention weights (h, T, T) of the trained layer, from multi_head_attention."""
    layer = model.layer
    p = layer_params(layer)
    with torch.no_grad():
        h = layer_norm(model.embed(x) + model.pe, *p["ln1"], eps=layer.norm1.eps)  # pre-LN
        return multi_head_attention(h, h, p["attn"], layer.self_attn.num_heads)[1][0]


model, losses, accuracy = train_reverser()
x_show = torch.tensor([[3, 1, 4, 1, 5, 9, 2, 6]])
weights = reverser_weights(model, x_show)
anti = weights.sum(0).flip(-1).diagonal() / weights.shape[0]  # weight on key T-1-i, heads averaged
print(f"Figure 5: loss {losses[0]:.2f} -> {losses[-1]:.3f}; test accuracy {accuracy:.3f}; "
      f"weight on key T-1-i: mean {anti.mean():.2f}, min {anti.min():.2f} (heads averaged)")

fig, axes = plt.subplots(1, 2, figsize=(8.6, 3.8), layout="constrained")
labels = [str(v) for v in x_show[0].tolist()]
for hd, ax in enumerate(axes):
    im = ax.imshow(weights[hd].numpy(), cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(8), [f"{j}\n{t}" for j, t in enumerate(labels)], fontsize=8)
    ax.set_yticks(range(8), [f"{i}: {t}" for i, t in zip(range(8), labels[::-1])], fontsize=8)
    ax.set(title=f"head {hd + 1}", xlabel="key position (token)")
axes[0].set_ylabel("query position: target token")
fig.colorbar(im, ax=axes, shrink=0.8, label="attention weight")

plt.show()
