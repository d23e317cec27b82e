"""Formula tests for docs/*/sequences/pretrained-transformers.md.

The page's functions come from snippets/pretrained_transformers.py, loaded without running the
snippet, and are checked against PyTorch or against the formula written out from scratch:

- BERT's masking (15 % selected; of those 80 % [MASK], 10 % random, 10 % unchanged) by its
  statistics on 100,000 tokens, at a tolerance a 70/20/10 rule cannot meet;
- ViT's patch embedding (reshape + linear) against nn.functional.conv2d with kernel = stride = P,
  with copied weights, to 1e-12 in float64;
- softmax(z / T): its T -> 0 and T -> infinity limits; top-k against torch.topk; top-p on a
  distribution worked out by hand;
- the causal language-model loss against -log p(x_{t+1} | x_1..x_t) computed one prefix at a
  time, and the GPT block against nn.TransformerEncoderLayer (norm_first, causal mask) with copied
  weights; autograd shows that output t does not depend on inputs after t;
- [CLS] and mean pooling with a padding mask against a loop over the real tokens;
- the snippet's written-out Adam step against torch.optim.Adam.

Mutation tests run wrong versions (targets not shifted, padding counted in the mean, a 70/20/10
rule, no causal mask, no renormalization after top-k, a channel-last patch order) through the
same comparisons. The numbers the page states about its figures are read from a full run of the
snippet and asserted.
"""

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from snippet_code import run_snippet, snippet_function

NAMES = ("cls_pool", "mean_pool", "bert_mask", "softmax_with_temperature", "top_k_probs", "top_p_probs",
         "entropy", "Block", "TinyGPT", "causal_lm_loss", "patchify", "adam_step", "CHARS")
S = snippet_function("pretrained_transformers", *NAMES)
DTYPE = torch.float64


# ---------------------------------------------------------------------------
# BERT's masked language model: 15 %, then 80/10/10
# ---------------------------------------------------------------------------
V, MASK_ID = 1000, 1000  # ordinary tokens are 0..999; [MASK] is 1000


def masking_stats(bert_mask):
    gen = torch.Generator().manual_seed(0)
    tokens = torch.randint(V, (200, 512), generator=gen)
    inputs, targets = bert_mask(tokens, V, MASK_ID, gen)
    selected = targets != -100
    n = selected.sum().item()
    return dict(
        selected=n / tokens.numel(),
        masked=(inputs[selected] == MASK_ID).sum().item() / n,
        replaced=((inputs[selected] != MASK_ID) & (inputs[selected] != tokens[selected])).sum().item() / n,
        kept=(inputs[selected] == tokens[selected]).sum().item() / n,
        targets_right=bool((targets[selected] == tokens[selected]).all()),
        others_untouched=bool((inputs[~selected] == tokens[~selected]).all()),
    )


# 102,400 tokens: the selected share has standard deviation 0.0011, the three shares among the
# ~15,000 selected tokens about 0.003; the tolerances are about 4.5 standard deviations
TOL = dict(selected=0.005, masked=0.015, replaced=0.011, kept=0.011)
EXPECTED = dict(selected=0.15, masked=0.8, replaced=0.1 * (1 - 1 / V), kept=0.1 + 0.1 / V)


def masking_off(stats):
    """Largest deviation from the 15 % / 80-10-10 rule in units of its tolerance."""
    return max(abs(stats[k] - EXPECTED[k]) / TOL[k] for k in TOL)


def test_bert_masking_statistics():
    stats = masking_stats(S["bert_mask"])
    assert masking_off(stats) <= 1.0, stats
    assert stats["targets_right"] and stats["others_untouched"]


@pytest.mark.parametrize("rule", [(0.15, 0.7, 0.2), (0.15, 0.8, 0.2), (0.15, 1.0, 0.0), (0.12, 0.8, 0.1)],
                         ids=["70/20/10", "80/20/0", "all [MASK]", "12 % selected"])
def test_wrong_masking_rules_are_caught(rule):
    wrong = snippet_function("pretrained_transformers", "bert_mask")["bert_mask"]  # a fresh namespace
    wrong.__globals__["P_SELECT"], wrong.__globals__["P_MASK"], wrong.__globals__["P_RANDOM"] = rule
    assert masking_off(masking_stats(wrong)) > 2.0


# ---------------------------------------------------------------------------
# ViT: patchify + linear = Conv2d with kernel = stride = P
# ---------------------------------------------------------------------------
def patch_embedding_off(patchify, C=3, H=12, W=8, P=4, D=5):
    gen = torch.Generator().manual_seed(1)
    images = torch.randn(2, C, H, W, generator=gen, dtype=DTYPE)
    E = torch.randn(C * P * P, D, generator=gen, dtype=DTYPE)
    b = torch.randn(D, generator=gen, dtype=DTYPE)
    by_linear = patchify(images, P) @ E + b                       # (B, N, D)
    conv = F.conv2d(images, E.T.reshape(D, C, P, P), b, stride=P)  # (B, D, H/P, W/P)
    by_conv = conv.flatten(2).transpose(1, 2)                       # (B, N, D), patches row by row
    assert by_linear.shape == (2, (H // P) * (W // P), D)
    return (by_linear - by_conv).abs().max().item()


def test_patch_embedding_is_a_strided_convolution():
    assert patch_embedding_off(S["patchify"]) < 1e-12
    # the module version, as timm and torchvision write it
    conv = nn.Conv2d(3, 5, kernel_size=4, stride=4, dtype=DTYPE)
    x = torch.randn(2, 3, 12, 8, dtype=DTYPE)
    E = conv.weight.detach().reshape(5, -1).T
    assert torch.allclose(S["patchify"](x, 4) @ E + conv.bias, conv(x).flatten(2).transpose(1, 2), rtol=0, atol=1e-12)


def test_wrong_patch_order_is_caught():
    def channel_last(images, P):  # flattens each patch as (P, P, C) instead of (C, P, P)
        B, C, H, W = images.shape
        x = images.reshape(B, C, H // P, P, W // P, P).permute(0, 2, 4, 3, 5, 1)
        return x.reshape(B, (H // P) * (W // P), C * P * P)

    assert patch_embedding_off(channel_last) > 1e-3


def test_digit_patches():
    """Page: an 8 x 8 digit with P = 2 is N = 16 tokens of 4 pixels; with P = 4, 4 tokens of 16."""
    x = torch.arange(64.0).reshape(1, 1, 8, 8)
    assert S["patchify"](x, 2).shape == (1, 16, 4)
    assert S["patchify"](x, 4).shape == (1, 4, 16)
    assert S["patchify"](x, 2)[0, 1].tolist() == [2.0, 3.0, 10.0, 11.0]  # patch 2: row 0-1, column 2-3


# ---------------------------------------------------------------------------
# Temperature, top-k and top-p
# ---------------------------------------------------------------------------
Z = torch.tensor([2.0, -1.0, 0.5, 3.0, 0.0, 1.5], dtype=DTYPE)


def test_temperature_softmax_and_its_limits():
    softmax_t = S["softmax_with_temperature"]
    for T in (0.3, 1.0, 4.0):
        by_hand = torch.exp(Z / T) / torch.exp(Z / T).sum()
        assert torch.allclose(softmax_t(Z, T), by_hand, rtol=0, atol=1e-15)
    assert torch.allclose(softmax_t(Z, 1e-3), F.one_hot(Z.argmax(), len(Z)).to(DTYPE), atol=1e-12)  # T -> 0
    assert torch.allclose(softmax_t(Z, 1e6), torch.full_like(Z, 1 / len(Z)), atol=1e-6)            # T -> inf
    H = [S["entropy"](softmax_t(Z, T)).item() for T in torch.logspace(-2, 3, 60, dtype=DTYPE)]
    assert all(a < b for a, b in zip(H, H[1:]))          # entropy grows with T
    assert H[0] < 1e-12 and abs(H[-1] - math.log(len(Z))) < 1e-5


def test_multiplying_by_the_temperature_is_caught():
    wrong = lambda z, T: torch.softmax(z * T, dim=-1)  # noqa: E731
    assert not torch.allclose(wrong(Z, 1e-3), F.one_hot(Z.argmax(), len(Z)).to(DTYPE), atol=1e-2)


def top_k_off(top_k_probs, k=3, T=0.7):
    probs = torch.softmax(Z / T, dim=-1)
    values, indices = torch.topk(probs, k)
    expected = torch.zeros_like(probs).scatter(0, indices, values / values.sum())
    return (top_k_probs(Z, k, T) - expected).abs().max().item()


def test_top_k_renormalizes_the_k_largest():
    assert top_k_off(S["top_k_probs"]) < 1e-15

    def not_renormalized(z, k, T):  # zeroes all but the k largest, but the rest no longer sums to 1
        probs = torch.softmax(z / T, dim=-1)
        return probs * (probs >= torch.topk(probs, k).values[-1])

    def k_plus_one(z, k, T):  # an off-by-one in k
        return S["top_k_probs"](z, k + 1, T)

    assert top_k_off(not_renormalized) > 1e-3
    assert top_k_off(k_plus_one) > 1e-3


def test_top_p_keeps_the_smallest_set_reaching_p():
    top_p = S["top_p_probs"]
    logits = torch.log(torch.tensor([0.05, 0.5, 0.15, 0.3], dtype=DTYPE))
    assert torch.allclose(top_p(logits, 0.75), torch.tensor([0, 0.5, 0, 0.3], dtype=DTYPE) / 0.8, atol=1e-12)
    assert torch.allclose(top_p(logits, 0.85), torch.tensor([0, 0.5, 0.15, 0.3], dtype=DTYPE) / 0.95, atol=1e-12)
    assert torch.allclose(top_p(logits, 0.4), torch.tensor([0, 1.0, 0, 0], dtype=DTYPE), atol=1e-12)


# ---------------------------------------------------------------------------
# The GPT: causal LM loss, causal mask, the block against nn.TransformerEncoderLayer
# ---------------------------------------------------------------------------
def small_gpt():
    torch.manual_seed(3)
    return S["TinyGPT"](7, context=12, d_model=16, n_heads=2, n_layers=2).to(DTYPE)


def prefix_by_prefix_loss(model, tokens):
    """-log p(x_{t+1} | x_1..x_t), each prefix run on its own, averaged over all predictions."""
    terms = []
    for row in tokens:
        for t in range(len(row) - 1):
            log_p = torch.log_softmax(model(row[None, :t + 1])[0, -1], dim=-1)
            terms.append(-log_p[row[t + 1]])
    return torch.stack(terms).mean()


def test_causal_lm_loss_is_next_token_cross_entropy():
    model = small_gpt()
    tokens = torch.randint(7, (3, 11), generator=torch.Generator().manual_seed(4))
    loss = S["causal_lm_loss"](model, tokens)
    assert abs(loss.item() - prefix_by_prefix_loss(model, tokens).item()) < 1e-12
    # mutation: targets not shifted, so the output at t is scored against x_t itself; it fails the
    # same comparison (an untrained model is near log 7 either way, hence the small margin)
    unshifted = F.cross_entropy(model(tokens[:, :-1]).reshape(-1, 7), tokens[:, :-1].reshape(-1))
    assert abs(unshifted.item() - prefix_by_prefix_loss(model, tokens).item()) > 1e-4


def depends_on_future(block, T=6, d=16):
    x = torch.randn(1, T, d, dtype=DTYPE, requires_grad=True)
    out = block(x)
    leaks = []
    for t in range(T):
        (g,) = torch.autograd.grad(out[0, t].sum(), x, retain_graph=True)
        assert g[0, :t + 1].abs().sum() > 0  # output t does depend on inputs 0..t
        leaks.append(g[0, t + 1:].abs().max().item() if t + 1 < T else 0.0)
    return max(leaks)


def test_output_t_is_independent_of_later_inputs():
    torch.manual_seed(5)
    assert depends_on_future(S["Block"](16, 2).to(DTYPE)) == 0.0


def test_a_block_without_the_causal_mask_is_caught():
    Block = snippet_function("pretrained_transformers", "Block")["Block"]
    sdpa = F.scaled_dot_product_attention

    class NoMask:  # stands in for torch.nn.functional inside this copy of Block
        def __getattr__(self, name):
            return getattr(F, name)

        @staticmethod
        def scaled_dot_product_attention(q, k, v, is_causal=False):
            return sdpa(q, k, v)

    Block.forward.__globals__["F"] = NoMask()
    torch.manual_seed(5)
    assert depends_on_future(Block(16, 2).to(DTYPE)) > 1e-3


def test_block_equals_transformer_encoder_layer_with_a_causal_mask():
    torch.manual_seed(6)
    block = S["Block"](16, 2).to(DTYPE)
    ref = nn.TransformerEncoderLayer(16, 2, 64, dropout=0.0, activation="gelu", batch_first=True,
                                     norm_first=True, dtype=DTYPE)
    with torch.no_grad():
        ref.self_attn.in_proj_weight.copy_(block.qkv.weight)
        ref.self_attn.in_proj_bias.copy_(block.qkv.bias)
        ref.self_attn.out_proj.weight.copy_(block.out.weight)
        ref.self_attn.out_proj.bias.copy_(block.out.bias)
        for mine, theirs in [(block.mlp[0], ref.linear1), (block.mlp[2], ref.linear2),
                             (block.norm1, ref.norm1), (block.norm2, ref.norm2)]:
            theirs.weight.copy_(mine.weight)
            theirs.bias.copy_(mine.bias)
    x = torch.randn(3, 9, 16, dtype=DTYPE)
    mask = nn.Transformer.generate_square_subsequent_mask(9, dtype=DTYPE)
    assert torch.allclose(block(x), ref(x, src_mask=mask, is_causal=True), rtol=0, atol=1e-12)
    assert not torch.allclose(block(x), ref(x), atol=1e-3)  # without the mask they differ


def test_adam_step_matches_torch_optim_adam():
    torch.manual_seed(7)
    mine = [torch.randn(4, 3, dtype=DTYPE), torch.randn(3, dtype=DTYPE)]
    theirs = [p.clone().requires_grad_() for p in mine]
    moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in mine]
    opt = torch.optim.Adam(theirs, lr=1e-2)
    for t in range(1, 11):
        grads = [torch.randn_like(p) for p in mine]
        S["adam_step"](mine, grads, moments, 1e-2, t)
        for p, g in zip(theirs, grads):
            p.grad = g.clone()
        opt.step()
    assert all(torch.allclose(a, b, rtol=1e-12, atol=1e-14) for a, b in zip(mine, theirs))


# ---------------------------------------------------------------------------
# Token aggregation with a padding mask
# ---------------------------------------------------------------------------
def test_cls_and_mean_pooling_with_padding():
    torch.manual_seed(8)
    lengths = [5, 2, 7]
    h = torch.randn(3, 7, 4, dtype=DTYPE)
    pad = torch.arange(7)[None, :] >= torch.tensor(lengths)[:, None]  # True at padding
    by_loop = torch.stack([h[b, :n].mean(dim=0) for b, n in enumerate(lengths)])
    assert torch.allclose(S["mean_pool"](h, pad), by_loop, rtol=0, atol=1e-15)
    assert torch.equal(S["cls_pool"](h), h[:, 0])
    h2 = h.clone()
    h2[pad] = 1e3  # whatever sits at the padded positions does not matter
    assert torch.allclose(S["mean_pool"](h2, pad), by_loop, rtol=0, atol=1e-12)
    counts_padding = h.mean(dim=1)  # the mistake: divide by T and include the padding vectors
    assert (counts_padding - by_loop).abs().max() > 0.1


# ---------------------------------------------------------------------------
# The numbers the page states about its figures
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def run():
    return run_snippet("pretrained_transformers")


def test_figure_numbers(run):
    assert run["figures"] == 5
    assert len(S["CHARS"]) == 20 and run["N_PARAMS"] == 31_844
    curves = run["curves"]
    assert len(curves["train"]) == 100
    # Figure 2: held-out loss 3.14 -> 0.53 nats per character; baselines log 20 = 3.00 and 2.67
    assert curves["test"][0] == pytest.approx(3.14, abs=0.02)
    assert curves["test"][-1] == pytest.approx(0.53, abs=0.03)
    assert curves["uniform"] == pytest.approx(math.log(20)) and round(curves["uniform"], 2) == 3.00
    assert curves["unigram"] == pytest.approx(2.67, abs=0.005)
    # Figure 3: entropy 1.46, 1.98, 2.35 nats at T = 0.5, 1, 2
    for T, h in [(0.5, 1.46), (1.0, 1.98), (2.0, 2.35)]:
        assert run["shown_entropy"][T] == pytest.approx(h, abs=0.04)
    # Figure 4: 97 %, 93 %, 89 % and 50 % of the sampled words are words of the grammar
    for T, share in [(0.2, 0.97), (0.5, 0.93), (1.0, 0.89), (2.0, 0.50)]:
        assert run["valid"][T] == pytest.approx(share, abs=0.03)
    assert run["valid"][0.2] > run["valid"][1.0] > run["valid"][2.0]
    assert all(len(texts) == 16 and all(t.startswith("the cat ") for t in texts) for texts in run["samples"].values())
    # Figure 5: the first load_digits image as 16 patches of 4 pixels
    assert tuple(run["patches"].shape) == (16, 4)
