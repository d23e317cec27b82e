"""Token aggregation and pre-trained Transformers: BERT's masking, a character-level GPT, ViT's patches.

The text is synthetic: short English sentences drawn from a small grammar written here, so
that nothing is downloaded and every word the model may produce is known.

Figure 1: BERT's input representation, the sum of token, segment and position embeddings.
Figure 2: the training and held-out loss of a character-level GPT (a decoder-only Transformer
with a causal mask) trained for 100 steps, against two baselines.
Figure 3: the trained model's next-character distribution at three temperatures, and its
entropy against the temperature.
Figure 4: text sampled from the trained model at four temperatures.
Figure 5: ViT's patchification of an 8x8 `load_digits` image into 16 patches of 2x2 pixels.
The numbers the page states are computed and printed here.
"""

# %% Imports and seeds
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits

torch.manual_seed(0)
plt.style.use("tableau-colorblind10")


# %% Token aggregation: the [CLS] output, or the mean over the real (non-padding) tokens
def cls_pool(h):
    """h: (B, T, d) encoder outputs whose position 0 holds the [CLS] token."""
    return h[:, 0]


def mean_pool(h, pad_mask):
    """Mean of h (B, T, d) over the positions where pad_mask (B, T) is False."""
    keep = (~pad_mask).unsqueeze(-1).to(h.dtype)
    return (h * keep).sum(dim=1) / keep.sum(dim=1)


# %% BERT's masked language model: select 15 % of the tokens, then the 80/10/10 rule
# --8<-- [start:bert_mask]
P_SELECT, P_MASK, P_RANDOM = 0.15, 0.8, 0.1


def bert_mask(tokens, vocab_size, mask_id, generator):
    """Inputs and targets for masked language modeling (Devlin et al. 2019, section 3.1).

    Each token is selected with probability 0.15. A selected token is replaced by [MASK] with
    probability 0.8, by a token drawn uniformly from the vocabulary with probability 0.1, and
    kept with probability 0.1. Targets are the original tokens at the selected positions and
    -100 (ignored by F.cross_entropy) everywhere else.
    """
    selected = torch.rand(tokens.shape, generator=generator) < P_SELECT
    u = torch.rand(tokens.shape, generator=generator)
    random_tokens = torch.randint(vocab_size, tokens.shape, generator=generator)
    inputs = tokens.clone()
    inputs[selected & (u < P_MASK)] = mask_id
    replace = selected & (u >= P_MASK) & (u < P_MASK + P_RANDOM)
    inputs[replace] = random_tokens[replace]
    targets = torch.where(selected, tokens, torch.full_like(tokens, -100))
    return inputs, targets
# --8<-- [end:bert_mask]


# %% Sampling: temperature, top-k and top-p (nucleus)
def softmax_with_temperature(logits, temperature):
    return torch.softmax(logits / temperature, dim=-1)


def top_k_probs(logits, k, temperature=1.0):
    """Keep the k largest logits, renormalize over them, zero elsewhere (Fan et al. 2018)."""
    values, indices = torch.topk(logits, k, dim=-1)
    probs = torch.zeros_like(logits)
    return probs.scatter(-1, indices, torch.softmax(values / temperature, dim=-1))


def top_p_probs(logits, p, temperature=1.0):
    """Keep the smallest set of most likely tokens whose probability reaches p (Holtzman et al. 2020)."""
    probs = softmax_with_temperature(logits, temperature)
    sorted_probs, order = torch.sort(probs, dim=-1, descending=True)
    before = torch.cumsum(sorted_probs, dim=-1) - sorted_probs  # mass of the tokens ranked above
    kept = torch.where(before < p, sorted_probs, torch.zeros_like(sorted_probs))
    kept = kept / kept.sum(dim=-1, keepdim=True)
    return torch.zeros_like(probs).scatter(-1, order, kept)


def entropy(probs):
    return -(probs * torch.log(probs.clamp_min(1e-300))).sum(dim=-1)


# %% A character-level GPT: token and learned position embeddings, pre-LN blocks with a causal mask
# --8<-- [start:gpt]
CONTEXT, D_MODEL, N_HEADS, N_LAYERS = 32, 48, 4, 1


class Block(nn.Module):
    """One pre-LN decoder block (as in GPT-2): x + attention(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, d_model, n_heads):
        super().__init__()
        self.n_heads = n_heads
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.qkv, self.out = nn.Linear(d_model, 3 * d_model), nn.Linear(d_model, d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x):
        B, T, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(B, T, 3, self.n_heads, d // self.n_heads).permute(2, 0, 3, 1, 4)
        heads = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # position t attends to 0..t only
        x = x + self.out(heads.transpose(1, 2).reshape(B, T, d))
        return x + self.mlp(self.norm2(x))


class TinyGPT(nn.Module):
    def __init__(self, vocab_size, context=CONTEXT, d_model=D_MODEL, n_heads=N_HEADS, n_layers=N_LAYERS):
        super().__init__()
        self.tok = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Embedding(context, d_model)
        self.blocks = nn.Sequential(*[Block(d_model, n_heads) for _ in range(n_layers)])
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)

    def forward(self, idx):
        """idx: (B, T) token ids, T <= context. Returns logits (B, T, vocab); row t depends on tokens 0..t only."""
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1]))
        return self.head(self.norm(self.blocks(x)))


def causal_lm_loss(model, tokens):
    """Next-token loss on windows tokens (B, T + 1): the output at position t is scored against token t + 1."""
    logits = model(tokens[:, :-1])
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1))
# --8<-- [end:gpt]


# %% The corpus: sentences from a small grammar
NOUNS = ["cat", "dog", "bird", "fish", "girl", "boy"]
ADJECTIVES = ["small", "big", "red", "old"]
VERBS = ["sees", "likes", "chases", "finds", "eats"]
WORDS = NOUNS + ADJECTIVES + VERBS + ["the", "a", "and"]


def make_text(n_sentences, seed):
    rng = np.random.default_rng(seed)

    def noun_phrase():
        words = [rng.choice(["the", "a"])]
        if rng.random() < 0.4:
            words.append(rng.choice(ADJECTIVES))
        return words + [rng.choice(NOUNS)]

    sentences = []
    for _ in range(n_sentences):
        words = noun_phrase() + [rng.choice(VERBS)] + noun_phrase()
        if rng.random() < 0.2:
            words += ["and"] + noun_phrase()
        sentences.append(" ".join(words) + ".")
    return " ".join(sentences) + " "


CHARS = " .abcdefghiklmnorsty"  # the 20 characters of the grammar's words, space and full stop


def encode(text):
    return torch.tensor([CHARS.index(c) for c in text])


def decode(ids):
    return "".join(CHARS[i] for i in ids)


def unigram_entropy(ids):
    counts = torch.bincount(ids, minlength=len(CHARS)).double()
    p = counts[counts > 0] / counts.sum()
    return float(-(p * p.log()).sum())


def adam_step(params, grads, moments, lr, t, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam update (the optimizers page), written out: torch.optim would import torch._dynamo (~1 s)."""
    with torch.no_grad():
        for p, g, (m, v) in zip(params, grads, moments):
            m.mul_(beta1).add_(g, alpha=1 - beta1)
            v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
            p.sub_(lr * (m / (1 - beta1**t)) / ((v / (1 - beta2**t)).sqrt() + eps))


def train_gpt(steps=100, batch_size=32, lr=1e-2, seed=0):
    """Train TinyGPT on windows of CONTEXT + 1 characters; return the model and its loss curves."""
    torch.manual_seed(seed)
    train_ids, test_ids = encode(make_text(600, seed=1)), encode(make_text(100, seed=2))
    gen = torch.Generator().manual_seed(seed)
    test_starts = torch.randint(len(test_ids) - CONTEXT, (128,), generator=gen)
    test_batch = torch.stack([test_ids[s:s + CONTEXT + 1] for s in test_starts])
    model = TinyGPT(len(CHARS))
    params = list(model.parameters())
    moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]
    train_loss, test_steps, test_loss = [], [], []
    for step in range(steps + 1):
        if step % 20 == 0:
            with torch.no_grad():
                test_steps.append(step)
                test_loss.append(causal_lm_loss(model, test_batch).item())
        if step == steps:
            break
        starts = torch.randint(len(train_ids) - CONTEXT, (batch_size,), generator=gen)
        batch = torch.stack([train_ids[s:s + CONTEXT + 1] for s in starts])
        loss = causal_lm_loss(model, batch)
        grads = torch.autograd.grad(loss, params)
        adam_step(params, grads, moments, lr, step + 1)
        train_loss.append(loss.item())
    return model, dict(train=train_loss, test_steps=test_steps, test=test_loss,
                       unigram=unigram_entropy(train_ids), uniform=math.log(len(CHARS)))


@torch.no_grad()
def generate(model, prompt, n_new, temperature, seed, n_samples=1):
    """Autoregressive sampling of n_samples texts at once: feed the text so far, draw the next
    character from softmax(logits / temperature), append it, repeat."""
    gen = torch.Generator().manual_seed(seed)
    idx = encode(prompt).repeat(n_samples, 1)
    for _ in range(n_new):
        probs = softmax_with_temperature(model(idx[:, -CONTEXT:])[:, -1], temperature)
        idx = torch.cat([idx, torch.multinomial(probs, 1, generator=gen)], dim=1)
    return [decode(row) for row in idx.tolist()]


def valid_word_share(texts):
    """Share of the space-separated words of texts (full stops removed) that are words of the grammar."""
    words = " ".join(texts).replace(".", " ").split()
    return sum(w in WORDS for w in words) / len(words)


# %% ViT: cut an image into P x P patches, flatten them, project them linearly
def patchify(images, P):
    """(B, C, H, W) -> (B, N, C * P * P) with N = (H / P) (W / P), patches in row-major order."""
    B, C, H, W = images.shape
    x = images.reshape(B, C, H // P, P, W // P, P).permute(0, 2, 4, 1, 3, 5)
    return x.reshape(B, (H // P) * (W // P), C * P * P)


# %% Figure 1: BERT's input representation (the example of Devlin et al. 2019, figure 2)
tokens = ["[CLS]", "my", "dog", "is", "cute", "[SEP]", "he", "likes", "play", "##ing", "[SEP]"]
segments = ["A"] * 6 + ["B"] * 5
fig, ax = plt.subplots(figsize=(9, 2.9), layout="constrained")
rows = [("input", tokens), ("token", [f"$E_{{\\mathrm{{{t.replace('#', '').strip('[]')}}}}}$" for t in tokens]),
        ("segment", [f"$E_{s}$" for s in segments]), ("position", [f"$E_{{{i}}}$" for i in range(len(tokens))])]
for r, (name, cells) in enumerate(rows):
    y = -r * (1.25 if r == 0 else 1.0) - (0.4 if r else 0)
    ax.text(-0.7, y, name + (" embeddings" if r else ""), ha="right", va="center", fontsize=9)
    for c, label in enumerate(cells):
        ax.add_patch(plt.Rectangle((c - 0.45, y - 0.32), 0.9, 0.64, fill=r > 0, alpha=0.25 if r else 1,
                                   ec="gray", fc=f"C{r}", ls="-" if r != 2 else "--", lw=1))
        ax.text(c, y, label, ha="center", va="center", fontsize=8 if r else 9)
        if r >= 2:
            ax.text(c, y + 0.5, "+", ha="center", va="center", fontsize=10)
ax.set(xlim=(-3.6, len(tokens) - 0.4), ylim=(-4.0, 0.6), title="BERT input = token + segment + position embeddings")
ax.axis("off")

# %% Train the GPT
model, curves = train_gpt()
N_PARAMS = sum(p.numel() for p in model.parameters())
print(f"{len(CHARS)} characters, {N_PARAMS} parameters")
print(f"held-out loss: start {curves['test'][0]:.3f}, end {curves['test'][-1]:.3f} nats/char; "
      f"uniform {curves['uniform']:.3f}, unigram {curves['unigram']:.3f}")

# %% Figure 2: the loss curves
fig, ax = plt.subplots(figsize=(5.5, 3.4), layout="constrained")
ax.plot(range(1, len(curves["train"]) + 1), curves["train"], ls="-", lw=1, label="training batch")
ax.plot(curves["test_steps"], curves["test"], ls="--", marker="o", label="held-out text")
ax.axhline(curves["uniform"], color="gray", ls=":", lw=1, label="uniform over 20 characters")
ax.axhline(curves["unigram"], color="gray", ls="-.", lw=1, label="character frequencies")
ax.set(xlabel="step", ylabel="loss (nats per character)", ylim=(0, 3.4), title="Next-character loss of a tiny GPT")
ax.legend(fontsize=8)

# %% Figure 3: temperature reshapes the next-character distribution
PROMPT_T = "the cat sees the "
with torch.no_grad():
    next_logits = model(encode(PROMPT_T).unsqueeze(0))[0, -1]
SHOWN_T = [0.5, 1.0, 2.0]
shown_entropy = {T: float(entropy(softmax_with_temperature(next_logits, T))) for T in SHOWN_T}
grid = torch.logspace(-2, 2, 81, dtype=torch.float64)
fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), layout="constrained")
x = np.arange(len(CHARS))
for T, (ls, marker) in zip(SHOWN_T, [("-", "o"), ("--", "s"), (":", "^")]):
    axes[0].plot(x, softmax_with_temperature(next_logits, T).numpy(), ls=ls, marker=marker, ms=4,
                 label=f"τ = {T}")
axes[0].set_xticks(x, [repr(c)[1:-1] if c != " " else "␣" for c in CHARS])
axes[0].set(ylabel="probability", title=f"next character after {PROMPT_T!r}")
axes[0].legend(fontsize=8)
axes[1].plot(grid.numpy(), [float(entropy(softmax_with_temperature(next_logits, T))) for T in grid], ls="-",
             label="entropy of softmax(z / τ)")
axes[1].axhline(math.log(len(CHARS)), color="gray", ls=":", lw=1, label="log 20 (uniform)")
axes[1].set(xscale="log", xlabel="temperature τ", ylabel="entropy (nats)", title="τ → 0: argmax; τ → ∞: uniform")
axes[1].legend(fontsize=8)
print("entropy at tau = 0.5, 1, 2:", {T: round(h, 3) for T, h in shown_entropy.items()})

# %% Figure 4: text sampled at four temperatures
PROMPT = "the cat "
TEMPERATURES = [0.2, 0.5, 1.0, 2.0]
samples = {T: generate(model, PROMPT, 72, T, seed=0, n_samples=16) for T in TEMPERATURES}
valid = {T: valid_word_share([text[len(PROMPT):] for text in texts]) for T, texts in samples.items()}
fig, ax = plt.subplots(figsize=(9, 2.6), layout="constrained")
for r, T in enumerate(TEMPERATURES):
    ax.text(0, -r, f"τ = {T}  ({valid[T]:.0%} grammar words)", fontsize=9, va="center")
    ax.text(0, -r - 0.4, samples[T][0], family="monospace", fontsize=8, va="center")
ax.set(xlim=(0, 1), ylim=(-len(TEMPERATURES) + 0.3, 0.5), title=f"Samples after the prompt {PROMPT!r}")
ax.axis("off")
for T, texts in samples.items():
    print(f"tau = {T}: {valid[T]:.1%} grammar words  {texts[0]!r}")

# %% Figure 5: a load_digits image as a sequence of 2 x 2 patches
digit = torch.tensor(load_digits().images[0], dtype=torch.float64)  # 8 x 8, a zero
P = 2
patches = patchify(digit.reshape(1, 1, 8, 8), P)[0]  # (16, 4)
fig, axes = plt.subplots(1, 2, figsize=(8, 3.6), layout="constrained", gridspec_kw=dict(width_ratios=[1, 1.1]))
axes[0].imshow(digit.numpy(), cmap="gray_r")
for k in range(1, 8 // P):
    axes[0].axhline(k * P - 0.5, color="C1", lw=2)
    axes[0].axvline(k * P - 0.5, color="C1", lw=2)
for n in range(patches.shape[0]):
    axes[0].text((n % 4) * P, (n // 4) * P - 0.15, str(n + 1), color="C1", fontsize=8)
axes[0].set(xticks=[], yticks=[], title="8 × 8 image, P = 2: N = 16 patches")
axes[1].imshow(patches.numpy(), cmap="gray_r", aspect="auto")
axes[1].set(xticks=range(P * P), yticks=range(16), yticklabels=range(1, 17), xlabel="pixel within the patch",
            ylabel="patch (token) index", title="flattened patches: 16 × 4 matrix")

plt.show()
