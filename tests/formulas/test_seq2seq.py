"""Formula tests for docs/*/sequences/seq2seq.md.

The page's encoder-decoder (Seq2Seq in snippets/seq2seq.py) is stepped by hand here: the GRU
equations written with tensor ops, the encoder stopped at each string's true length, the decoder
fed its own argmax, and the tokens and logits compared with the snippet's greedy_decode. The
teacher-forced loss is the sum of per-step cross-entropies, checked against
F.cross_entropy(ignore_index=<pad>). Beam search with width 1 must be greedy decoding, and with
width V^T on a tiny model it must find the same best sequence as enumerating all V^T outputs,
with and without length normalization. The snippet's hand-written Adam with clipping is checked
against torch.optim.Adam and clip_grad_norm_. The experiment behind Figures 2 and 3 and the
sample table is rerun and the numbers the page states are asserted. Mutation tests feed the
target at test time, flip the length normalization, forget to ignore padding and swap the GRU's
update gate, and require each to fail the comparison the right formula passes.
"""

import contextlib
import copy
import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from snippet_code import snippet_function

pytestmark = pytest.mark.usefixtures("float64")  # the snippet's functions make tensors in the default dtype

SNIPPET = snippet_function("seq2seq", "Seq2Seq", "make_batch", "to_text", "teacher_forced_loss",
                           "free_running_loss", "greedy_decode", "beam_search", "length_penalty",
                           "normalized_score", "sequence_correct", "token_accuracy_by_position", "held_out",
                           "adam_step", "train", "experiment", "PAD", "SOS", "EOS", "VOCAB", "MAX_STEPS")
Seq2Seq, make_batch, greedy_decode, beam_search = (SNIPPET[k] for k in ("Seq2Seq", "make_batch", "greedy_decode",
                                                                         "beam_search"))
PAD, SOS, EOS, VOCAB, MAX_STEPS = (SNIPPET[k] for k in ("PAD", "SOS", "EOS", "VOCAB", "MAX_STEPS"))


@contextlib.contextmanager
def as_the_snippet_runs():
    """float32 (torch's default, which the snippet keeps) and one thread, restored afterwards."""
    dtype, threads = torch.get_default_dtype(), torch.get_num_threads()
    torch.set_default_dtype(torch.float32)
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_default_dtype(dtype)
        torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def results():
    """The snippet's experiment, run as the snippet runs it."""
    with as_the_snippet_runs():
        return SNIPPET["experiment"]()


def trained(results, teacher_forcing=True):
    """A float64 copy of a trained model, for the comparisons at float64 tolerances."""
    return copy.deepcopy(results["runs"][teacher_forcing][0]).double()


def random_model(seed, vocab=VOCAB, emb=12, hidden=32):
    torch.manual_seed(seed)
    return Seq2Seq(vocab, emb, hidden)


def test_batch_layout():
    """<sos> y_1 ... y_{T-1} in, y_1 ... y_T = <eos> out, <pad> after; the target is the reversed source."""
    src, lengths, dec_in, tgt = make_batch(torch.Generator().manual_seed(0), 50)
    for i in range(50):
        n = lengths[i].item()
        digits = src[i, :n].tolist()
        assert (src[i, n:] == PAD).all() and all(3 <= d < 13 for d in digits)
        assert tgt[i, :n + 1].tolist() == digits[::-1] + [EOS] and (tgt[i, n + 1:] == PAD).all()
        assert dec_in[i, :n + 1].tolist() == [SOS] + digits[::-1] and (dec_in[i, n + 1:] == PAD).all()
    assert SNIPPET["to_text"](torch.tensor([7, 3, 12, EOS, PAD])) == "409"


# ---------------------------------------------------------------------------
# The GRU equations (PyTorch's gate order r, z, n) and the model stepped by hand
# ---------------------------------------------------------------------------
def gru_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    """r = sigma(W_ir x + b_ir + W_hr h + b_hr), z likewise, n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),
    h' = (1 - z) * n + z * h."""
    i_r, i_z, i_n = (x @ W_ih.T + b_ih).chunk(3, dim=-1)
    h_r, h_z, h_n = (h @ W_hh.T + b_hh).chunk(3, dim=-1)
    r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h


def gru_cell_gate_swapped(x, h, W_ih, W_hh, b_ih, b_hh):  # h' = z * n + (1 - z) * h
    i_r, i_z, i_n = (x @ W_ih.T + b_ih).chunk(3, dim=-1)
    h_r, h_z, h_n = (h @ W_hh.T + b_hh).chunk(3, dim=-1)
    r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return z * n + (1 - z) * h


def weights(gru):
    return [getattr(gru, f"{name}_l0").detach() for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]


@torch.no_grad()
def greedy_by_hand(model, src, lengths, max_steps=MAX_STEPS, cell=gru_cell, feed=None):
    """Encoder loop h_j = GRU(x_j, h_{j-1}) up to each row's length, c = h_{T_x}; decoder s_0 = c,
    s_t = GRU(emb(y_{t-1}), s_{t-1}), logits W s_t + b, y_t = argmax, fed back (or feed[:, t] if given).
    Returns the tokens (with <pad> after <eos>) and the logits."""
    E, (W_out, b_out) = model.embed.weight.detach(), (model.out.weight.detach(), model.out.bias.detach())
    enc, dec = weights(model.encoder), weights(model.decoder)
    h = torch.zeros(len(src), enc[1].shape[1])
    for j in range(src.shape[1]):
        step = cell(E[src[:, j]], h, *enc)
        h = torch.where((j < lengths)[:, None], step, h)  # past its last token a row keeps c
    s, prev = h, torch.full((len(src),), SOS)
    done = torch.zeros(len(src), dtype=torch.bool)
    tokens, all_logits = [], []
    for t in range(max_steps):
        s = cell(E[prev], s, *dec)
        logits = s @ W_out.T + b_out
        y = logits.argmax(-1)
        tokens.append(torch.where(done, PAD, y))
        all_logits.append(logits)
        done |= y == EOS
        prev = y if feed is None else feed[:, t]
    return torch.stack(tokens, 1), torch.stack(all_logits, 1)


def hand_vs_snippet_greedy(model, cell=gru_cell, feed_target=False, n=300, seed=5):
    """(number of rows whose tokens differ, largest logit difference) between greedy_by_hand and
    the snippet's greedy_decode; logits compared against the model's own decode_step."""
    src, lengths, dec_in, tgt = make_batch(torch.Generator().manual_seed(seed), n)
    ours, our_logits = greedy_by_hand(model, src, lengths, cell=cell, feed=tgt if feed_target else None)
    theirs = greedy_decode(model, src, lengths)
    with torch.no_grad():  # the model's logits along the snippet's greedy path
        s, prev, ref_logits = model.encode(src, lengths), torch.full((n,), SOS), []
        for _ in range(MAX_STEPS):
            logits, s = model.decode_step(prev, s)
            ref_logits.append(logits)
            prev = logits.argmax(-1)
    rows_differ = (ours != theirs).any(dim=1).sum().item()
    return rows_differ, (our_logits - torch.stack(ref_logits, 1)).abs().max().item()


def test_parameter_count():
    """Page: 9,417 parameters (embeddings 13 x 12, two GRUs with 3 d_h (d + d_h) + 6 d_h each, the output layer)."""
    d, d_h, V = 12, 32, VOCAB
    count = V * d + 2 * (3 * d_h * (d + d_h) + 6 * d_h) + (d_h * V + V)
    assert sum(p.numel() for p in random_model(0).parameters()) == count == 9_417


@pytest.mark.parametrize("seed,emb,hidden", [(0, 12, 32), (1, 5, 7), (2, 8, 3)])
def test_gru_cell_matches_torch(seed, emb, hidden):
    model = random_model(seed, emb=emb, hidden=hidden)
    x = torch.randn(9, emb, generator=torch.Generator().manual_seed(seed))
    h = torch.randn(9, hidden, generator=torch.Generator().manual_seed(seed + 1))
    ref = torch.nn.GRUCell(emb, hidden)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(ref, name).copy_(getattr(model.encoder, f"{name}_l0"))
        torch.testing.assert_close(gru_cell(x, h, *weights(model.encoder)), ref(x, h), rtol=0, atol=1e-13)
        assert (gru_cell_gate_swapped(x, h, *weights(model.encoder)) - ref(x, h)).abs().max() > 1e-3


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_greedy_decoding_matches_the_model_stepped_by_hand_random(seed):
    rows, logit_gap = hand_vs_snippet_greedy(random_model(seed))
    assert rows == 0 and logit_gap < 1e-12


def test_greedy_decoding_matches_the_model_stepped_by_hand_trained(results):
    model = trained(results)
    rows, logit_gap = hand_vs_snippet_greedy(model)
    assert rows == 0 and logit_gap < 1e-12
    # the context vector is the encoder state at each row's last token, unaffected by the padding after it
    src, lengths, _, _ = make_batch(torch.Generator().manual_seed(9), 40)
    with torch.no_grad():
        for i in range(40):
            n = lengths[i].item()
            alone, _ = model.encoder(model.embed(src[i:i + 1, :n]))  # no padding at all
            torch.testing.assert_close(model.encode(src[i:i + 1], lengths[i:i + 1])[0], alone[0, -1],
                                       rtol=0, atol=1e-13)


# ---------------------------------------------------------------------------
# The loss: L = -sum_t log p(y_t | y_<t, c), <pad> positions left out
# ---------------------------------------------------------------------------
def loss_by_hand(logits, tgt, ignore_pad=True):
    """Sum over rows and steps of -log softmax(z_t)[y_t], and the number of terms."""
    total, count = 0.0, 0
    for i in range(tgt.shape[0]):
        for t in range(tgt.shape[1]):
            if ignore_pad and tgt[i, t] == PAD:
                continue
            z = logits[i, t]
            total += -(z[tgt[i, t]] - torch.log(torch.exp(z - z.max()).sum()) - z.max())
            count += 1
    return total, count


def teacher_forced_logits(model, src, lengths, dec_in):
    c = model.encode(src, lengths)
    return model.out(model.decoder(model.embed(dec_in), c[None])[0])


@pytest.mark.parametrize("seed", [0, 3])
def test_teacher_forced_loss_is_the_sum_of_per_step_cross_entropies(seed):
    model = random_model(seed)
    batch = make_batch(torch.Generator().manual_seed(seed), 24)
    src, lengths, dec_in, tgt = batch
    with torch.no_grad():
        logits = teacher_forced_logits(model, src, lengths, dec_in)
        total, count = loss_by_hand(logits, tgt)
        assert count == (lengths + 1).sum().item()  # every digit and one <eos> per row
        ref_sum = F.cross_entropy(logits.reshape(-1, VOCAB), tgt.reshape(-1), ignore_index=PAD, reduction="sum")
        torch.testing.assert_close(total, ref_sum, rtol=1e-13, atol=0)
        torch.testing.assert_close(total / count, SNIPPET["teacher_forced_loss"](model, *batch), rtol=1e-13, atol=0)
        # the teacher-forced decoder run in one call equals the decoder stepped on the true prefix
        s, stepped = model.encode(src, lengths), []
        for t in range(dec_in.shape[1]):
            z, s = model.decode_step(dec_in[:, t], s)
            stepped.append(z)
        torch.testing.assert_close(torch.stack(stepped, 1), logits, rtol=0, atol=1e-13)


def test_free_running_loss_feeds_the_models_own_argmax():
    model = random_model(4)
    batch = make_batch(torch.Generator().manual_seed(4), 24)
    src, lengths, _, tgt = batch
    with torch.no_grad():
        _, logits = greedy_by_hand(model, src, lengths, max_steps=tgt.shape[1])
        total, count = loss_by_hand(logits, tgt)
        torch.testing.assert_close(total / count, SNIPPET["free_running_loss"](model, *batch), rtol=1e-12, atol=0)


def test_adam_with_clipping_matches_torch():
    """The snippet's adam_step = clip_grad_norm_ followed by torch.optim.Adam.step()."""
    ours, ref = random_model(6), random_model(6)
    p_ours, p_ref = list(ours.parameters()), list(ref.parameters())
    opt, state = torch.optim.Adam(p_ref, lr=0.03), {}
    gen, norms = torch.Generator().manual_seed(6), []
    for _ in range(8):
        batch = make_batch(gen, 32)
        SNIPPET["adam_step"](p_ours, torch.autograd.grad(SNIPPET["teacher_forced_loss"](ours, *batch), p_ours),
                             state, 0.03, max_norm=0.3)
        opt.zero_grad()
        SNIPPET["teacher_forced_loss"](ref, *batch).backward()
        norms.append(torch.nn.utils.clip_grad_norm_(p_ref, 0.3).item())
        opt.step()
    assert max(norms) > 0.3 > min(norms)  # steps with and without clipping
    for a, b in zip(p_ours, p_ref):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------
# Beam search: width 1 is greedy; width V^T is exhaustive
# ---------------------------------------------------------------------------
def test_beam_width_one_is_greedy(results):
    src, lengths, _, _ = SNIPPET["held_out"]()
    for model in (trained(results), trained(results, False), random_model(7)):
        for alpha in (0.0, 0.6):
            assert torch.equal(beam_search(model, src, lengths, 1, alpha)[0], greedy_decode(model, src, lengths))


TINY_V, TINY_T = 4, 4  # tokens <pad>, <sos>, <eos> and one digit; at most 4 output tokens


def all_outputs(model, src, lengths):
    """Every output of at most TINY_T tokens that stops at its first <eos> (or is cut at TINY_T), with
    its log-probability sum_t log p(y_t | y_<t, c), computed by running the decoder on all of them at once."""
    outs = sorted({tuple(seq[: seq.index(EOS) + 1]) if EOS in seq else seq
                   for seq in itertools.product(range(TINY_V), repeat=TINY_T)})
    tokens = torch.tensor([list(out) + [PAD] * (TINY_T - len(out)) for out in outs])
    dec_in = torch.cat([torch.full((len(outs), 1), SOS), tokens[:, :-1]], dim=1)
    with torch.no_grad():
        c = model.encode(src.expand(len(outs), -1), lengths.expand(len(outs)))
        log_p = F.log_softmax(model.out(model.decoder(model.embed(dec_in), c[None])[0]), dim=-1)
        per_step = log_p.gather(2, tokens[..., None])[..., 0]
    return {out: per_step[i, :len(out)].sum().item() for i, out in enumerate(outs)}


def best_by_enumeration(scores, alpha, score=None):
    score = score or SNIPPET["normalized_score"]
    return max(scores, key=lambda out: score(torch.tensor(scores[out]), torch.tensor(float(len(out))), alpha).item())


def padded(out):
    return list(out) + [PAD] * (TINY_T - len(out))


def tiny_case(seed):
    model = random_model(seed, vocab=TINY_V, emb=3, hidden=4)
    with torch.no_grad():  # sharper outputs, and <eos> a little less likely, so that lengths vary
        model.out.weight.mul_(3.0)
        model.out.bias[EOS] -= 1.0
    src = torch.tensor([[3, 3, 3]])
    return model, src, torch.tensor([3])


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("alpha", [0.0, 0.6, 1.0])
def test_exhaustive_beam_finds_the_most_probable_sequence(seed, alpha):
    model, src, lengths = tiny_case(seed)
    scores = all_outputs(model, src, lengths)
    assert len(scores) == sum(3 ** (k - 1) for k in range(1, 5)) + 3**4 == 121  # ends at <eos>, or 4 tokens
    width = TINY_V**TINY_T  # 256 >= the number of distinct outputs: nothing is pruned
    best, (seqs, log_p, n) = beam_search(model, src, lengths, width, alpha, max_steps=TINY_T)
    want = best_by_enumeration(scores, alpha)
    assert best[0].tolist() == padded(want)
    # and the beam's log-probabilities and lengths are those of the sequences it holds
    for k in range(width):
        if log_p[0, k] > -math.inf:
            tokens = seqs[0, k].tolist()
            out = tuple(tokens[: tokens.index(EOS) + 1]) if EOS in tokens else tuple(tokens)
            assert math.isclose(log_p[0, k].item(), scores[out], rel_tol=0, abs_tol=1e-12)
            assert n[0, k].item() == len(out)


def test_greedy_is_not_the_most_probable_sequence():
    """For some tiny models the greedy path is less probable than the best sequence, which the
    exhaustive search finds; a beam of 2 already finds it for some of them."""
    worse, beam2_fixes = 0, 0
    for seed in range(40):
        model, src, lengths = tiny_case(seed)
        scores = all_outputs(model, src, lengths)
        best = max(scores.values())
        g = greedy_decode(model, src, lengths, max_steps=TINY_T)[0].tolist()
        g_out = tuple(g[: g.index(EOS) + 1]) if EOS in g else tuple(g)
        assert scores[g_out] <= best + 1e-12
        if scores[g_out] < best - 1e-9:
            worse += 1
            b2 = beam_search(model, src, lengths, 2, 0.0, max_steps=TINY_T)[0][0].tolist()
            beam2_fixes += b2 == padded(max(scores, key=scores.get))
    assert worse >= 3 and beam2_fixes >= 1


def test_length_penalty_formula():
    lp = SNIPPET["length_penalty"]
    assert lp(torch.tensor(1.0), 0.6).item() == 1.0  # lp = 1 for a one-token output
    assert math.isclose(lp(torch.tensor(10.0), 0.6).item(), (15 / 6) ** 0.6, rel_tol=1e-15)
    assert lp(torch.tensor(10.0), 0.0).item() == 1.0  # alpha = 0: plain log-probability


# ---------------------------------------------------------------------------
# What the page says about its figures and its table
# ---------------------------------------------------------------------------
def test_figure_2_teacher_forcing_against_free_running(results):
    (_, tf_loss, tf_acc), (_, fr_loss, fr_acc) = results["runs"][True], results["runs"][False]
    assert len(tf_loss) == len(fr_loss) == 100 and len(tf_acc) == len(fr_acc) == 10
    assert tf_acc[-1] == pytest.approx(0.595, abs=1e-6)  # "59.5 %" of 200 validation strings
    assert fr_acc[-1] == pytest.approx(0.48, abs=1e-6)  # "48 %"
    assert (tf_acc > fr_acc).all()  # ahead at every checkpoint
    assert tf_loss[-10:].mean() == pytest.approx(0.30, abs=0.005)
    assert fr_loss[-10:].mean() == pytest.approx(0.62, abs=0.005)


def test_figure_3_accuracy_by_length(results):
    by_length = results["by_length"]
    assert by_length["greedy"].tolist() == pytest.approx([0.985, 0.835, 0.545, 0.22], abs=1e-6)
    assert by_length["beam"].tolist() == pytest.approx([0.985, 0.85, 0.585, 0.24], abs=1e-6)
    assert by_length["free_running"].tolist() == pytest.approx([0.92, 0.515, 0.225, 0.02], abs=1e-6)
    assert (by_length["greedy"][:-1] > by_length["greedy"][1:]).all()  # falls with every extra digit
    assert (by_length["beam"] >= by_length["greedy"]).all()
    assert results["overall"]["greedy"] == pytest.approx(0.64625, abs=1e-9)  # 517 of 800
    assert results["overall"]["beam"] == pytest.approx(0.665, abs=1e-9)  # 532 of 800
    assert results["beam_differs"] == 85
    assert results["overall"]["free_running"] == pytest.approx(0.42, abs=1e-9)


def test_figure_3_errors_compound(results):
    tf, own = results["per_position"][True], results["per_position"][False]
    assert tf[0] == own[0] == pytest.approx(0.995, abs=1e-6)  # the first step is the same either way
    assert tf[5] == pytest.approx(0.74, abs=1e-6) and own[5] == pytest.approx(0.425, abs=1e-6)
    assert (own[1:] < tf[1:]).all()


def test_exact_match_is_the_same_with_the_true_prefix(results):
    """A greedy output is entirely right iff every step is right given the true prefix: before the
    first error the two prefixes are the same. Token by token they differ."""
    model = trained(results)
    src, lengths, dec_in, tgt = SNIPPET["held_out"]()
    _, forced = SNIPPET["token_accuracy_by_position"](model, src, lengths, dec_in, tgt, True)
    forced_ok = ((forced == tgt) | (tgt == PAD)).all(1)
    assert torch.equal(forced_ok, SNIPPET["sequence_correct"](greedy_decode(model, src, lengths), tgt))


SAMPLES = [("594", "495", "495"), ("8217", "7128", "7128"), ("80256", "65208", "65208"),
           ("25415", "51452", "51452"), ("283153", "351382", "351382"), ("029653", "356920", "35692"),
           ("886657", "756688", "765688"), ("591534", "435195", "435159")]


def test_sample_table(results):
    src, lengths, _, tgt = SNIPPET["held_out"]()
    pick = torch.tensor([0, 200, 400, 401, 605, 600, 601, 602])
    with as_the_snippet_runs():
        pred = greedy_decode(results["runs"][True][0], src[pick], lengths[pick])
    to_text = SNIPPET["to_text"]
    got = [(to_text(src[p]), to_text(tgt[p]), to_text(pred[i])) for i, p in enumerate(pick)]
    assert got == SAMPLES


# ---------------------------------------------------------------------------
# Mutation tests: wrong decoding, scoring and losses through the same comparisons
# ---------------------------------------------------------------------------
def test_teacher_forcing_at_test_time_is_caught(results):
    """Feeding the target instead of the model's own prediction changes the outputs of the trained model."""
    model = trained(results)
    assert hand_vs_snippet_greedy(model)[0] == 0
    rows, _ = hand_vs_snippet_greedy(model, feed_target=True)
    assert rows > 10


def test_gate_swap_is_caught():
    assert hand_vs_snippet_greedy(random_model(0))[1] < 1e-12
    assert hand_vs_snippet_greedy(random_model(0), cell=gru_cell_gate_swapped)[1] > 1e-3


def normalized_score_sign_error(log_prob, n, alpha):  # log p * lp(Y) instead of log p / lp(Y)
    return log_prob * SNIPPET["length_penalty"](n, alpha)


def test_length_normalization_sign_error_is_caught():
    changed = 0
    for seed in range(8):
        model, src, lengths = tiny_case(seed)
        scores = all_outputs(model, src, lengths)
        want = padded(best_by_enumeration(scores, 1.0))
        right = beam_search(model, src, lengths, 256, 1.0, max_steps=TINY_T)[0][0].tolist()
        wrong = beam_search(model, src, lengths, 256, 1.0, max_steps=TINY_T, score=normalized_score_sign_error)
        assert right == want
        changed += wrong[0][0].tolist() != want
    assert changed >= 4


def test_padding_not_ignored_is_caught():
    model = random_model(0)
    src, lengths, dec_in, tgt = make_batch(torch.Generator().manual_seed(0), 24)
    with torch.no_grad():
        logits = teacher_forced_logits(model, src, lengths, dec_in)
        right, count = loss_by_hand(logits, tgt)
        wrong = F.cross_entropy(logits.reshape(-1, VOCAB), tgt.reshape(-1), reduction="sum")  # <pad> counted
        assert abs(right - F.cross_entropy(logits.reshape(-1, VOCAB), tgt.reshape(-1), ignore_index=PAD,
                                           reduction="sum")) < 1e-10
        assert abs(wrong - right) > 1.0
        all_terms, all_count = loss_by_hand(logits, tgt, ignore_pad=False)
        assert all_count > count and abs(all_terms - wrong) < 1e-10
