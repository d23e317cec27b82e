"""Attention: scaled dot-product attention written from its formula, masking, and
why the scores are divided by sqrt(d_k).

Figure 1: self-attention weights on a 7-token toy sentence, without a mask, with a
padding mask, and with a causal (+ padding) mask. Masked cells are gray.
Figure 2: as d_k grows, unscaled dot-product scores get variance d_k and the softmax
saturates (max weight -> 1, Jacobian -> 0); scaling by 1/sqrt(d_k) prevents it.
"""

# %% Imports and seeds
import math

import matplotlib.pyplot as plt
import numpy as np
import torch

torch.manual_seed(0)
rng = np.random.default_rng(0)


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


# %% A toy sentence: self-attention with Q = X W_Q, K = X W_K, V = X W_V
tokens = ["the", "cat", "sat", "on", "the", "mat", "<pad>"]
vocab = {word: i for i, word in enumerate(dict.fromkeys(tokens))}
d_model = 16
embedding = torch.randn(len(vocab), d_model)  # random word vectors
X = embedding[torch.tensor([vocab[t] for t in tokens])]  # (n, d_model)
n = len(tokens)

# Toy projections: W_Q = W_K = I makes the score the similarity of two embeddings,
# so every token attends mostly to itself and the two "the" tokens to each other.
W_Q = torch.eye(d_model)
W_K = torch.eye(d_model)
W_V = torch.randn(d_model, d_model) / math.sqrt(d_model)
Q, K, V = X @ W_Q, X @ W_K, X @ W_V

is_real = torch.tensor([t != "<pad>" for t in tokens])
padding_mask = is_real.expand(n, n)  # key j must be a real token
causal_mask = torch.ones(n, n, dtype=torch.bool).tril()  # key j <= query i
masks = {
    "no mask": None,
    "padding mask": padding_mask,
    "causal + padding mask": causal_mask & padding_mask,
}

# %% Figure 1: attention-weight heatmaps
fig, axes = plt.subplots(1, 3, figsize=(10, 3.6), layout="constrained")
cmap = plt.get_cmap("Blues").copy()
cmap.set_bad("0.85")  # masked cells in gray
for ax, (name, mask) in zip(axes, masks.items()):
    out, w = attention(Q, K, V, mask)
    assert torch.allclose(w.sum(-1), torch.ones(n))
    shown = np.ma.masked_array(w.numpy(), mask=None if mask is None else ~mask.numpy())
    im = ax.imshow(shown, cmap=cmap, vmin=0, vmax=1)
    for i in range(n):
        for j in range(n):
            if mask is None or mask[i, j]:
                ax.text(j, i, f"{w[i, j]:.2f}", ha="center", va="center", fontsize=6.5,
                        color="white" if w[i, j] > 0.55 else "black")
    ax.set_xticks(range(n), tokens, rotation=45, fontsize=8)
    ax.set_yticks(range(n), tokens, fontsize=8)
    ax.set_xlabel("key $j$")
    ax.set_title(name, fontsize=10)
axes[0].set_ylabel("query $i$")
fig.colorbar(im, ax=axes, shrink=0.8, label=r"weight $\alpha_{ij}$")

# %% Softmax saturation: unscaled vs scaled scores as d_k grows
d_ks = [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
n_queries, n_keys = 400, 16
stats = {"unscaled": {"var": [], "max_w": [], "jac": []},
         "scaled": {"var": [], "max_w": [], "jac": []}}
for d_k in d_ks:
    q = torch.randn(n_queries, 1, d_k, dtype=torch.float64)  # unit-variance components
    k = torch.randn(n_queries, n_keys, d_k, dtype=torch.float64)
    dots = (q * k).sum(-1)  # (n_queries, n_keys): q . k_j
    for name, s in [("unscaled", dots), ("scaled", dots / math.sqrt(d_k))]:
        p = torch.softmax(s, dim=-1)
        jac = torch.diag_embed(p) - p.unsqueeze(-1) * p.unsqueeze(-2)  # d softmax / d s
        stats[name]["var"].append(s.var().item())
        stats[name]["max_w"].append(p.max(-1).values.mean().item())
        stats[name]["jac"].append(jac.flatten(1).norm(dim=-1).median().item())

# %% Figure 2: variance, largest weight and softmax Jacobian vs d_k
fig, axes = plt.subplots(1, 3, figsize=(10, 3.2), layout="constrained")
style = {"unscaled": dict(color="C3", marker="o", label=r"$q\cdot k$"),
         "scaled": dict(color="C0", marker="s", label=r"$q\cdot k/\sqrt{d_k}$")}
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
axes[0].set_ylabel(r"$\mathrm{Var}(s_j)$")
axes[1].set_ylabel(r"$\alpha_{\max}$")
axes[2].set_ylabel(r"$\|\partial\alpha / \partial s\|_F$")
for ax in axes:
    ax.set_xlabel("$d_k$")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")

plt.show()
