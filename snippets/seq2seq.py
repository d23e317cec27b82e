"""Sequence-to-sequence models: an RNN encoder-decoder that learns to reverse digit strings.

1. The toy task: a string of 3 to 6 digits in, the same digits reversed and <eos> out, with
   <sos> starting the decoder and <pad> filling the batch.
2. A GRU encoder, whose last state is the context vector c, and a GRU decoder started from c
   (Sutskever et al., 2014), trained with the summed token cross-entropy (padding ignored).
3. Greedy decoding, and batched beam search with GNMT's length normalization.
4. Figure 1: the encoder-decoder unrolled, with <sos>, <eos> and the context vector.
5. Figure 2: the same model trained with teacher forcing and free running (its own
   predictions fed back): training loss and held-out sequence accuracy.
6. Figure 3: held-out sequence accuracy against input length (greedy and beam search), and
   token accuracy by output position with the true prefix and with the model's own.
7. A table of greedy outputs for held-out strings.

All data are synthetic. The numbers the page states about the figures are printed.
"""

# %% Imports and seeds
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from torch import nn

torch.manual_seed(0)
rng = np.random.default_rng(0)  # unused here (all randomness is torch), seeded by convention
torch.set_num_threads(1)  # the tensors are tiny: extra threads only add overhead
plt.style.use("tableau-colorblind10")
# Okabe-Ito colors for the diagram's boxes; every curve also has its own line style or marker
BLUE, ORANGE, GREEN, VERMILLION, SKY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9"

# %% The toy task: reverse a string of digits
PAD, SOS, EOS = 0, 1, 2  # special tokens; the digit d is token d + 3
VOCAB = 13
MIN_LEN, MAX_LEN = 3, 6
MAX_STEPS = MAX_LEN + 1  # the longest output: six digits and <eos>


def make_batch(gen, n, lengths=None):
    """n random digit strings and their reversals, as padded token tensors.

    Returns src (n, MAX_LEN), lengths (n,), dec_in (n, MAX_STEPS) = <sos> y_1 ... y_{T-1},
    tgt (n, MAX_STEPS) = y_1 ... y_T with y_T = <eos>; <pad> fills the rest of every row."""
    if lengths is None:
        lengths = torch.randint(MIN_LEN, MAX_LEN + 1, (n,), generator=gen)
    digits = torch.randint(0, 10, (n, MAX_LEN), generator=gen) + 3
    pos = torch.arange(MAX_LEN)
    inside = pos < lengths[:, None]
    src = torch.where(inside, digits, PAD)
    reversed_src = torch.gather(src, 1, (lengths[:, None] - 1 - pos).clamp(min=0))
    tgt = torch.cat([torch.where(inside, reversed_src, PAD), torch.full((n, 1), PAD)], dim=1)
    tgt[torch.arange(n), lengths] = EOS
    dec_in = torch.cat([torch.full((n, 1), SOS), tgt[:, :-1]], dim=1)  # shifted right by one
    dec_in[dec_in == EOS] = PAD  # <eos> is predicted, never fed
    return src, lengths, dec_in, tgt


def to_text(tokens):
    """Digits up to the first <eos> (or <pad>) as a string; other special tokens as names."""
    names = {SOS: "<sos>"}
    out = []
    for tok in tokens.tolist():
        if tok in (EOS, PAD):
            break
        out.append(names.get(tok, str(tok - 3)))
    return "".join(out)


# %% The model: a GRU encoder and a GRU decoder
# --8<-- [start:model]
class Seq2Seq(nn.Module):
    """Encoder h_j = GRU(x_j, h_{j-1}), context c = h_{T_x}; decoder s_0 = c,
    s_t = GRU(y_{t-1}, s_{t-1}), p(y_t | y_<t, c) = softmax(W s_t + b)."""

    def __init__(self, vocab=VOCAB, emb=12, hidden=32):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb)  # shared by source and target tokens
        self.encoder = nn.GRU(emb, hidden, batch_first=True)
        self.decoder = nn.GRU(emb, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def encode(self, src, lengths):
        states, _ = self.encoder(self.embed(src))  # (B, T_x, d_h): h_1 ... h_{T_x}
        return states[torch.arange(len(src)), lengths - 1]  # c: the state at each true last token

    def decode_step(self, tokens, s):
        """One decoder step: previous tokens (B,) and states (B, d_h) -> logits (B, V), new states."""
        out, s = self.decoder(self.embed(tokens)[:, None], s[None])
        return self.out(out[:, 0]), s[0]
# --8<-- [end:model]


# %% Training losses: teacher forcing and free running
# --8<-- [start:losses]
def teacher_forced_loss(model, src, lengths, dec_in, tgt):
    """Cross-entropy of every target token given the true prefix, <pad> ignored, mean per token."""
    c = model.encode(src, lengths)
    states, _ = model.decoder(model.embed(dec_in), c[None])  # all steps at once: inputs are known
    logits = model.out(states)  # (B, T_y, V)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), ignore_index=PAD)


def free_running_loss(model, src, lengths, dec_in, tgt):
    """The same cross-entropy, but each step is fed the model's own previous prediction."""
    s = model.encode(src, lengths)
    tokens, logits = torch.full((len(src),), SOS), []
    for _ in range(tgt.shape[1]):
        step_logits, s = model.decode_step(tokens, s)
        logits.append(step_logits)
        tokens = step_logits.argmax(-1)  # an integer: no gradient flows through the choice
    logits = torch.stack(logits, dim=1)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), ignore_index=PAD)
# --8<-- [end:losses]


# %% Decoding: greedy and beam search
# --8<-- [start:greedy]
@torch.no_grad()
def greedy_decode(model, src, lengths, max_steps=MAX_STEPS):
    """Feed back the most probable token at every step; <pad> after each row's <eos>."""
    s = model.encode(src, lengths)
    tokens = torch.full((len(src),), SOS)
    done = torch.zeros(len(src), dtype=torch.bool)
    out = []
    for _ in range(max_steps):
        logits, s = model.decode_step(tokens, s)
        tokens = logits.argmax(-1)
        out.append(torch.where(done, PAD, tokens))
        done |= tokens == EOS
    return torch.stack(out, dim=1)
# --8<-- [end:greedy]


def length_penalty(n, alpha):
    """GNMT's lp(Y) = ((5 + |Y|) / 6)^alpha (Wu et al., 2016); alpha = 0 turns it off."""
    return ((5.0 + n) / 6.0) ** alpha


def normalized_score(log_prob, n, alpha):
    """The beam's final ranking: log p(Y | X) / lp(Y)."""
    return log_prob / length_penalty(n, alpha)


# --8<-- [start:beam]
@torch.no_grad()
def beam_search(model, src, lengths, width, alpha=0.0, max_steps=MAX_STEPS, score=normalized_score):
    """Keep the `width` most probable prefixes per example; a prefix that has emitted <eos> is
    finished and kept as it is. Returns the best hypothesis under score(log p, |Y|, alpha)
    (B, max_steps), and all final hypotheses, their log-probabilities and lengths."""
    B = len(src)
    s = model.encode(src, lengths).repeat_interleave(width, dim=0)  # (B*K, d_h)
    log_p = torch.full((B, width), -torch.inf)
    log_p[:, 0] = 0.0  # one live prefix, <sos>, to start with
    seqs = torch.full((B, width, 0), PAD, dtype=torch.long)
    n = torch.zeros(B, width)  # |Y|, counting <eos>
    done = torch.zeros(B, width, dtype=torch.bool)
    tokens = torch.full((B * width,), SOS)
    for _ in range(max_steps):
        logits, s = model.decode_step(tokens, s)
        step = F.log_softmax(logits, dim=-1).view(B, width, -1)
        V = step.shape[-1]
        keep = torch.full_like(step, -torch.inf)
        keep[..., PAD] = 0.0  # a finished hypothesis continues only with <pad>, at no cost
        step = torch.where(done[..., None], keep, step)
        log_p, flat = (log_p[..., None] + step).view(B, -1).topk(width, dim=-1)
        parent, tokens = flat // V, flat % V
        rows = torch.arange(B)[:, None]
        seqs = torch.cat([seqs[rows, parent], tokens[..., None]], dim=-1)
        n = n[rows, parent] + (~done[rows, parent]).double()
        done = done[rows, parent] | (tokens == EOS)
        s = s.view(B, width, -1)[rows, parent].reshape(B * width, -1)
        tokens = tokens.reshape(-1)
    best = score(log_p, n, alpha).argmax(dim=-1)
    return seqs[torch.arange(B), best], (seqs, log_p, n)
# --8<-- [end:beam]


def sequence_correct(pred, tgt):
    """Exact match: every token up to and including <eos> right (both padded with <pad>)."""
    return (pred == tgt).all(dim=1)


@torch.no_grad()
def token_accuracy_by_position(model, src, lengths, dec_in, tgt, teacher_forcing):
    """Fraction of right tokens at each output position, fed the true prefix or the model's own."""
    if teacher_forcing:
        c = model.encode(src, lengths)
        pred = model.out(model.decoder(model.embed(dec_in), c[None])[0]).argmax(-1)
    else:
        pred = greedy_decode(model, src, lengths, max_steps=tgt.shape[1])
    mask = tgt != PAD
    return ((pred == tgt) & mask).sum(0) / mask.sum(0), pred


# %% Training
def held_out(seed=1, per_length=200):
    """A fixed held-out set (test: seed 1, validation: seed 2): per_length strings of every
    length, shortest first."""
    lengths = torch.arange(MIN_LEN, MAX_LEN + 1).repeat_interleave(per_length)
    return make_batch(torch.Generator().manual_seed(seed), len(lengths), lengths)


def adam_step(params, grads, state, lr, betas=(0.9, 0.999), eps=1e-8, max_norm=1.0):
    """Clip the gradients to total norm max_norm (as nn.utils.clip_grad_norm_), then one Adam
    update (as torch.optim.Adam with its defaults); written out because constructing
    torch.optim.Adam costs about a second of imports, more than the training itself."""
    total = torch.sqrt(sum((g**2).sum() for g in grads))
    clip = min(1.0, max_norm / (total.item() + 1e-6))
    state["t"] = t = state.get("t", 0) + 1
    with torch.no_grad():
        for i, (p, g) in enumerate(zip(params, grads)):
            m, v = state.setdefault(i, (torch.zeros_like(p), torch.zeros_like(p)))
            m.mul_(betas[0]).add_(g, alpha=(1 - betas[0]) * clip)
            v.mul_(betas[1]).addcmul_(g, g, value=(1 - betas[1]) * clip**2)
            p -= lr * (m / (1 - betas[0] ** t)) / ((v / (1 - betas[1] ** t)).sqrt() + eps)


# --8<-- [start:training]
def train(teacher_forcing, steps=100, batch=128, lr=0.03, seed=0, eval_every=10):
    """Adam on the teacher-forced or the free-running loss, gradients clipped to norm 1.
    Returns the model, the training loss per step and the greedy sequence accuracy on 200
    validation strings (50 of each length) every eval_every steps."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = Seq2Seq()
    params, state = list(model.parameters()), {}
    loss_fn = teacher_forced_loss if teacher_forcing else free_running_loss
    valid = held_out(seed=2, per_length=50)
    losses, accuracy = [], []
    for step in range(1, steps + 1):
        loss = loss_fn(model, *make_batch(gen, batch))
        adam_step(params, torch.autograd.grad(loss, params), state, lr)
        losses.append(loss.item())
        if step % eval_every == 0:
            pred = greedy_decode(model, valid[0], valid[1])
            accuracy.append(sequence_correct(pred, valid[3]).double().mean().item())
    return model, np.array(losses), np.array(accuracy)
# --8<-- [end:training]


def experiment(beam_width=4, alpha=0.6):
    """Train both models and compute every number the page states about Figures 2 and 3."""
    runs = {tf: train(tf) for tf in (True, False)}
    src, lengths, dec_in, tgt = held_out()
    model = runs[True][0]
    greedy = {tf: greedy_decode(runs[tf][0], src, lengths) for tf in (True, False)}
    beam = beam_search(model, src, lengths, beam_width, alpha)[0]
    by_length = {}
    for name, pred in [("greedy", greedy[True]), ("beam", beam), ("free_running", greedy[False])]:
        ok = sequence_correct(pred, tgt).double()
        by_length[name] = np.array([ok[lengths == L].mean().item() for L in range(MIN_LEN, MAX_LEN + 1)])
    longest = lengths == MAX_LEN
    per_position = {tf: token_accuracy_by_position(model, src[longest], lengths[longest], dec_in[longest],
                                                   tgt[longest], tf)[0].numpy() for tf in (True, False)}
    return {"runs": runs, "by_length": by_length, "per_position": per_position,
            "overall": {k: sequence_correct(v, tgt).double().mean().item()
                        for k, v in [("greedy", greedy[True]), ("beam", beam), ("free_running", greedy[False])]},
            "beam_differs": (beam != greedy[True]).any(dim=1).sum().item()}


# %% Figure 1: the encoder-decoder, unrolled
def box(ax, x, y, text, color, w=0.78, h=0.5):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.04",
                                fc=color, ec="black", lw=1, zorder=3))
    ax.text(x, y, text, ha="center", va="center", fontsize=10, zorder=4)


def arrow(ax, start, end, label=None, offset=(0.0, 0.0), lw=1.1, **kw):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, lw=lw,
                                 color="black", zorder=2, **kw))
    if label:
        mx, my = (start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1]
        ax.text(mx, my, label, ha="center", va="center", fontsize=9, zorder=4)


fig, ax = plt.subplots(figsize=(10, 3.9), layout="constrained")
ax.set(xlim=(-0.8, 11.3), ylim=(-0.75, 3.75), aspect="equal")
ax.axis("off")
enc_x = [0.3 + 1.3 * j for j in range(3)]
dec_x = [5.3 + 1.45 * t for t in range(4)]
for j, (cx, digit) in enumerate(zip(enc_x, "472"), start=1):
    box(ax, cx, 0, digit, SKY)
    box(ax, cx, 1.5, rf"$\mathbf{{h}}_{j}$", ORANGE)
    arrow(ax, (cx, 0.27), (cx, 1.23))
    if j > 1:
        arrow(ax, (cx - 0.9, 1.5), (cx - 0.42, 1.5))
ax.text(enc_x[1], -0.62, "encoder reads the source", ha="center", fontsize=9)
box(ax, 4.05, 1.5, r"$\mathbf{c} = \mathbf{h}_3$", VERMILLION, w=0.95)
arrow(ax, (enc_x[-1] + 0.42, 1.5), (4.05 - 0.52, 1.5))
arrow(ax, (4.05 + 0.52, 1.5), (dec_x[0] - 0.42, 1.5))
ax.text(4.05, 2.05, "context vector\n(fixed size)", ha="center", va="bottom", fontsize=8)
for t, (cx, fed, emitted) in enumerate(zip(dec_x, ["<sos>", "2", "7", "4"], ["2", "7", "4", "<eos>"]),
                                       start=1):
    box(ax, cx, 0, fed, "white" if t == 1 else GREEN)
    box(ax, cx, 1.5, rf"$\mathbf{{s}}_{t}$", ORANGE)
    box(ax, cx, 3.0, emitted, GREEN)
    arrow(ax, (cx, 0.27), (cx, 1.23))
    arrow(ax, (cx, 1.77), (cx, 2.73), "softmax" if t == len(dec_x) else None, (0.5, 0))
    if t > 1:
        arrow(ax, (cx - 1.03, 1.5), (cx - 0.42, 1.5))
        arrow(ax, (dec_x[t - 2] + 0.3, 2.75), (cx - 0.3, 0.25), ls="--", lw=0.9)
ax.text(np.mean(dec_x), -0.62, "decoder: each output is fed back as the next input (dashed)",
        ha="center", fontsize=9)

# %% Figure 2: teacher forcing against free running
results = experiment()
(tf_model, tf_loss, tf_acc), (fr_model, fr_loss, fr_acc) = results["runs"][True], results["runs"][False]
steps = np.arange(1, len(tf_loss) + 1)
checkpoints = np.arange(10, len(tf_loss) + 1, 10)
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9.5, 3.3), layout="constrained")
ax_loss.semilogy(steps, tf_loss, ls="-", label="teacher forcing")
ax_loss.semilogy(steps, fr_loss, ls="--", label="free running")
ax_loss.set(xlabel="training step", ylabel="cross-entropy per token", title="Training loss")
ax_loss.legend(fontsize=8)
ax_acc.plot(checkpoints, tf_acc, ls="-", marker="o", ms=4, label="teacher forcing")
ax_acc.plot(checkpoints, fr_acc, ls="--", marker="s", ms=4, label="free running")
ax_acc.set(xlabel="training step", ylabel="sequence accuracy (greedy)", ylim=(-0.02, 1.0),
           title="Validation strings, 3 to 6 digits")
ax_acc.legend(fontsize=8, loc="upper left")
print(f"Figure 2: final validation sequence accuracy {tf_acc[-1]:.3f} (teacher forcing), "
      f"{fr_acc[-1]:.3f} (free running); mean loss over the last 10 steps "
      f"{tf_loss[-10:].mean():.3f} and {fr_loss[-10:].mean():.3f}")

# %% Figure 3: accuracy against input length; errors compound along the output
lengths_axis = np.arange(MIN_LEN, MAX_LEN + 1)
fig, (ax_len, ax_pos) = plt.subplots(1, 2, figsize=(9.5, 3.3), layout="constrained")
ax_len.plot(lengths_axis, results["by_length"]["greedy"], ls="-", marker="o", label="teacher forcing, greedy")
ax_len.plot(lengths_axis, results["by_length"]["beam"], ls=":", marker="^",
            label="teacher forcing, beam (K = 4)")
ax_len.plot(lengths_axis, results["by_length"]["free_running"], ls="--", marker="s",
            label="free running, greedy")
ax_len.set(xlabel="input length (digits)", ylabel="sequence accuracy", xticks=lengths_axis,
           ylim=(-0.02, 1.05), title="Longer inputs are harder")
ax_len.legend(fontsize=8, loc="lower left")
positions = np.arange(1, MAX_STEPS + 1)
ax_pos.plot(positions, results["per_position"][True], ls="-", marker="o", label="true prefix fed")
ax_pos.plot(positions, results["per_position"][False], ls="--", marker="s", label="own predictions fed")
ax_pos.set(xlabel="output position $t$ (7 = <eos>)", ylabel="token accuracy", xticks=positions,
           ylim=(0.4, 1.02), title="6-digit inputs, teacher-forced model")
ax_pos.legend(fontsize=8, loc="lower left")
print("Figure 3: sequence accuracy by length", {k: v.round(3) for k, v in results["by_length"].items()})
print("          overall", {k: round(v, 3) for k, v in results["overall"].items()},
      "beam differs from greedy on", results["beam_differs"], "of 800")
print("          token accuracy by position", {k: v.round(3) for k, v in results["per_position"].items()})

# %% Sample outputs (greedy, teacher-forced model)
src, lengths, dec_in, tgt = held_out()
pick = torch.tensor([0, 200, 400, 401, 605, 600, 601, 602])
pred = greedy_decode(tf_model, src[pick], lengths[pick])
print(f"{'input':>8} {'target':>8} {'greedy':>8}")
for i in range(len(pick)):
    print(f"{to_text(src[pick[i]]):>8} {to_text(tgt[pick[i]]):>8} {to_text(pred[i]):>8}",
          "ok" if sequence_correct(pred[i:i + 1], tgt[pick[i]:pick[i] + 1]).item() else "wrong")

plt.show()
