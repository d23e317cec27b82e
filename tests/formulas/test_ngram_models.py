"""Formula tests for docs/*/sequences/ngram-models.md.

The page's counting estimates, add-k smoothing, interpolated Kneser-Ney and perplexity are the
functions of snippets/ngram_models.py, loaded without running the snippet. They are checked
against exact fractions worked out by hand on the three-sentence corpus of Jurafsky and Martin
(ch. 3), against torch.nn.functional.cross_entropy (perplexity = exp of the per-token
cross-entropy), and for normalization over the vocabulary for every history. Mutation tests
run wrong formulas (log base mixing, </s> left out, add-k normalized by c(h) + k) through the
same comparisons. The numbers the page states about its figures and its table of sampled
sentences are recomputed from the snippet and asserted.
"""

import math
from fractions import Fraction

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from snippet_code import snippet_function

SNIPPET = snippet_function(
    "ngram_models", "ngrams", "count_ngrams", "mle_prob", "add_k_prob", "perplexity", "kneser_ney",
    "make_corpus", "run_experiment", "sample_table", "VOCAB", "EOS", "BOS", "N_TRAIN")
ngrams, count_ngrams, mle_prob = SNIPPET["ngrams"], SNIPPET["count_ngrams"], SNIPPET["mle_prob"]
add_k_prob, perplexity, kneser_ney = SNIPPET["add_k_prob"], SNIPPET["perplexity"], SNIPPET["kneser_ney"]
VOCAB, EOS, BOS = SNIPPET["VOCAB"], SNIPPET["EOS"], SNIPPET["BOS"]

# Jurafsky and Martin's mini-corpus (ch. 3)
JM = [s.split() for s in ["I am Sam", "Sam I am", "I do not like green eggs and ham"]]
JM_VOCAB = sorted({w for s in JM for w in s}) + [EOS]  # 10 words and </s>: |V| = 11


def bigram(corpus=JM):
    return count_ngrams(corpus, 2)


# ---------------------------------------------------------------------------
# Maximum-likelihood estimates and perplexity, by hand with exact fractions
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("history,word,expected", [
    (BOS, "I", Fraction(2, 3)), (BOS, "Sam", Fraction(1, 3)), ("I", "am", Fraction(2, 3)),
    ("I", "do", Fraction(1, 3)), ("Sam", EOS, Fraction(1, 2)), ("am", "Sam", Fraction(1, 2)),
    ("am", EOS, Fraction(1, 2)), ("I", "Sam", Fraction(0)), ("ham", EOS, Fraction(1)),
])
def test_bigram_mle_by_hand(history, word, expected):
    counts, history_counts = bigram()
    assert mle_prob(counts, history_counts, (history,), word) == float(expected)  # int / int is exact


def test_padding_and_history_counts():
    assert ngrams(["I", "am"], 3) == [((BOS, BOS), "I"), ((BOS, "I"), "am"), (("I", "am"), EOS)]
    counts, history_counts = bigram()
    assert history_counts[("I",)] == 3 and history_counts[(BOS,)] == 3
    assert (EOS,) not in history_counts  # </s> is predicted, never a history
    assert sum(counts.values()) == sum(len(s) + 1 for s in JM)  # one prediction per word and per </s>


def test_perplexity_by_hand():
    """P(<s> I am Sam </s>) = 2/3 * 2/3 * 1/2 * 1/2 = 1/9 over M = 4 predictions: PP = 9^(1/4) = sqrt 3."""
    counts, history_counts = bigram()
    prob = Fraction(2, 3) * Fraction(2, 3) * Fraction(1, 2) * Fraction(1, 2)
    assert prob == Fraction(1, 9)
    pp = perplexity([["I", "am", "Sam"]], 2, lambda h, w: mle_prob(counts, history_counts, h, w))
    assert pp == pytest.approx(math.sqrt(3), rel=1e-14)
    # a sentence with an unseen bigram ("Sam am") has probability 0: infinite perplexity
    assert perplexity([["Sam", "am"]], 2, lambda h, w: mle_prob(counts, history_counts, h, w)) == math.inf


@pytest.mark.parametrize("history,word,k,expected", [
    ("I", "am", 1, Fraction(2 + 1, 3 + 11)), ("I", "Sam", 1, Fraction(1, 14)),
    ("I", "am", Fraction(1, 10), Fraction(21, 41)),  # (2 + 1/10) / (3 + 11/10)
    ("ham", EOS, 1, Fraction(2, 12)), ("nobody", "I", 1, Fraction(1, 11)),
])
def test_add_k_by_hand(history, word, k, expected):
    counts, history_counts = bigram()
    # (c(h, w) + k) / (c(h) + k |V|), |V| = 11
    got = add_k_prob(counts, history_counts, (history,), word, float(k), len(JM_VOCAB))
    assert got == pytest.approx(float(expected), rel=1e-15)


def test_kneser_ney_by_hand():
    """Bigram interpolated Kneser-Ney, d = 3/4, on the mini-corpus. 15 bigram types; "am" follows
    one distinct word, so P_cont(am) = (1 - 3/4 + 3/4 * 11 * 1/11) / 15 = 1/15, and
    P(am | I) = (2 - 3/4 + 3/4 * N1+(I .) * 1/15) / c(I) = (5/4 + 3/4 * 2 / 15) / 3 = 9/20."""
    prob = kneser_ney(JM, 2, len(JM_VOCAB), discount=0.75)
    assert prob(("I",), "am") == pytest.approx(9 / 20, rel=1e-14)
    assert prob(("nobody",), "am") == pytest.approx(1 / 15, rel=1e-14)  # unseen history: P_cont
    # </s> follows three distinct words (Sam, am, ham): P_cont(</s>) = 3/15
    assert prob(("nobody",), EOS) == pytest.approx(3 / 15, rel=1e-14)
    # "I" is seen 3 times but follows 2 distinct words (<s>, Sam): continuation, not frequency
    assert prob(("nobody",), "I") == pytest.approx(2 / 15, rel=1e-14)


# ---------------------------------------------------------------------------
# Every smoothed distribution sums to 1 over V, for every history
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def corpus():
    train, _ = SNIPPET["make_corpus"](300, seed=5)
    return train


def mass_off(prob, histories):
    """Largest |sum_w P(w | h) - 1| over the histories, in units of 1e-12."""
    return max(abs(math.fsum(prob(h, w) for w in VOCAB) - 1.0) for h in histories) / 1e-12


def histories_of(corpus, n):
    _, history_counts = count_ngrams(corpus, n)
    unseen = ("nobody",) * (n - 1)  # never a history (for n = 1, the empty history is seen)
    return list(history_counts) + [unseen]


def add_k_count_plus_k(counts, history_counts, history, word, k, vocab_size):  # wrong: c(h) + k
    return (counts[history, word] + k) / (history_counts[history] + k)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
@pytest.mark.parametrize("k", [1.0, 0.1, 0.01])
def test_add_k_sums_to_one(corpus, n, k):
    counts, history_counts = count_ngrams(corpus, n)
    hs = histories_of(corpus, n)
    assert mass_off(lambda h, w: add_k_prob(counts, history_counts, h, w, k, len(VOCAB)), hs) <= 1.0
    # mutation: normalizing by c(h) + k instead of c(h) + k |V| is not a distribution
    assert mass_off(lambda h, w: add_k_count_plus_k(counts, history_counts, h, w, k, len(VOCAB)), hs) > 1e6


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_kneser_ney_sums_to_one(corpus, n):
    prob = kneser_ney(corpus, n, len(VOCAB))
    assert mass_off(prob, histories_of(corpus, n)) <= 1.0
    # mutation: the discounted mass not handed down to the lower order
    tables = count_ngrams(corpus, n)

    def discounted_only(h, w):
        c_h = tables[1][h]
        return max(tables[0][h, w] - 0.75, 0.0) / c_h if c_h else 1 / len(VOCAB)

    assert mass_off(discounted_only, histories_of(corpus, n)) > 1e6


@pytest.mark.parametrize("n", [1, 2, 3])
def test_mle_sums_to_one_on_seen_histories(corpus, n):
    counts, history_counts = count_ngrams(corpus, n)
    assert mass_off(lambda h, w: mle_prob(counts, history_counts, h, w), list(history_counts)) <= 1.0


@pytest.mark.parametrize("n", [1, 2, 3])
def test_add_k_tends_to_mle(corpus, n):
    """k -> 0 gives the maximum-likelihood estimate on every seen history; an unseen history gets
    1/|V| for every k."""
    counts, history_counts = count_ngrams(corpus, n)
    for h in history_counts:
        for w in VOCAB:
            mle = mle_prob(counts, history_counts, h, w)
            assert add_k_prob(counts, history_counts, h, w, 1e-12, len(VOCAB)) == pytest.approx(mle, abs=1e-9)
    if n > 1:
        unseen = ("nobody",) * (n - 1)
        assert history_counts[unseen] == 0
        assert add_k_prob(counts, history_counts, unseen, "the", 1e-12, len(VOCAB)) == pytest.approx(1 / len(VOCAB))


# ---------------------------------------------------------------------------
# Perplexity = exp(cross-entropy per token) vs torch.nn.functional.cross_entropy
# ---------------------------------------------------------------------------
def perplexity_log2_exp(sentences, n, prob):  # wrong: log base 2 inside, natural exp outside
    logs = [math.log2(prob(h, w)) for s in sentences for h, w in ngrams(s, n)]
    return math.exp(-sum(logs) / len(logs))


def perplexity_without_eos(sentences, n, prob):  # wrong: </s> neither scored nor counted
    logs = [math.log(prob(h, w)) for s in sentences for h, w in ngrams(s, n) if w != EOS]
    return math.exp(-sum(logs) / len(logs))


def perplexity_per_sentence(sentences, n, prob):  # wrong: divides by the number of sentences
    logs = [math.log(prob(h, w)) for s in sentences for h, w in ngrams(s, n)]
    return math.exp(-sum(logs) / len(sentences))


def torch_off(ppl_fn, n=2, k=0.1):
    """Relative difference between ppl_fn on held-out text and exp(F.cross_entropy) of the same
    add-k model written as a (tokens, |V|) matrix of log-probabilities, in units of 1e-12."""
    train, _ = SNIPPET["make_corpus"](200, seed=7)
    test, _ = SNIPPET["make_corpus"](100, seed=8)
    counts, history_counts = count_ngrams(train, n)

    def prob(h, w):
        return add_k_prob(counts, history_counts, h, w, k, len(VOCAB))

    pairs = [g for s in test for g in ngrams(s, n)]
    logits = torch.tensor([[math.log(prob(h, v)) for v in VOCAB] for h, _ in pairs], dtype=torch.float64)
    targets = torch.tensor([VOCAB.index(w) for _, w in pairs])
    reference = torch.exp(F.cross_entropy(logits, targets)).item()  # mean NLL in nats, </s> included
    return abs(ppl_fn(test, n, prob) - reference) / reference / 1e-12


@pytest.mark.parametrize("n", [1, 2, 3])
def test_perplexity_is_exp_cross_entropy(n):
    assert torch_off(perplexity, n) <= 1.0


@pytest.mark.parametrize("wrong", [perplexity_log2_exp, perplexity_without_eos, perplexity_per_sentence],
                         ids=lambda f: f.__name__)
def test_wrong_perplexities_are_caught(wrong):
    assert torch_off(perplexity) <= 1.0
    assert torch_off(wrong) > 1e6


def test_perplexity_bases_agree_and_uniform_model_gives_vocab_size():
    """2^(cross-entropy in bits) = e^(cross-entropy in nats); a uniform model has perplexity |V|."""
    test, _ = SNIPPET["make_corpus"](50, seed=9)
    counts, history_counts = count_ngrams(test, 2)

    def prob(h, w):
        return add_k_prob(counts, history_counts, h, w, 0.5, len(VOCAB))

    pairs = [g for s in test for g in ngrams(s, 2)]
    bits = -np.mean([np.log2(prob(h, w)) for h, w in pairs])
    assert 2**bits == pytest.approx(perplexity(test, 2, prob), rel=1e-12)
    assert perplexity(test, 2, lambda h, w: 1 / len(VOCAB)) == pytest.approx(len(VOCAB), rel=1e-12)


# ---------------------------------------------------------------------------
# The grammar: one derivation per sentence, so its log p is the sentence's probability
# ---------------------------------------------------------------------------
def test_grammar_probability_by_hand():
    """the dog sees some cats: animal subject 1/2, singular 1/2, "the" 0.6, dog 1/3, no PP 0.7;
    transitive 0.6, sees 1/2; object: animal 1/2, plural 1/2, "some" 0.4, cats 1/3, no PP 0.7."""
    sentences, logps = SNIPPET["make_corpus"](20000, seed=3)
    hits = [lp for s, lp in zip(sentences, logps) if s == "the dog sees some cats".split()]
    expected = math.log(0.5 * 0.5 * 0.6 / 3 * 0.7 * 0.6 * 0.5 * 0.5 * 0.5 * 0.4 / 3 * 0.7)
    assert hits and all(lp == pytest.approx(expected, rel=1e-12) for lp in hits)
    assert {w for s in sentences for w in s} | {EOS} == set(VOCAB)  # VOCAB is exactly the grammar's words
    by_sentence = {}
    for s, lp in zip(sentences, logps):
        assert by_sentence.setdefault(tuple(s), lp) == pytest.approx(lp, rel=1e-12)


# ---------------------------------------------------------------------------
# What the page states about Figures 1 and 2 and the table of sampled sentences
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def results():
    return SNIPPET["run_experiment"]()


def test_corpus_sizes(results):
    assert len(VOCAB) == 35
    assert results["train_tokens"] == 6745 and results["test_tokens"] == 6840
    assert results["source"] == pytest.approx(4.20, abs=0.005)


def test_figure_2_held_out(results):
    test = results["test"]
    assert test["MLE"][0] == pytest.approx(21.9, abs=0.05)  # unigram
    assert all(v == math.inf for v in test["MLE"][1:])  # MLE: infinite for n >= 2
    for k in ("1", "0.1", "0.01"):  # add-k: best at n = 2, then worse with every order
        values = test[f"add-k, k = {k}"]
        assert int(np.argmin(values)) == 1
        assert all(a < b for a, b in zip(values[1:], values[2:]))
    assert test["add-k, k = 1"][1] == pytest.approx(6.43, abs=0.005)
    assert test["add-k, k = 0.1"][1] == pytest.approx(5.86, abs=0.005)
    assert test["add-k, k = 1"][4] == pytest.approx(13.8, abs=0.05)
    assert test["add-k, k = 0.1"][4] == pytest.approx(10.5, abs=0.05)
    kn = test["Kneser-Ney"]  # best at n = 4, 3-gram worse than 2-gram, all within 6.0
    assert int(np.argmin(kn)) == 3 and kn[2] > kn[1]
    assert kn[1] == pytest.approx(5.83, abs=0.005) and kn[2] == pytest.approx(6.00, abs=0.005)
    assert kn[3] == pytest.approx(5.65, abs=0.005) and kn[4] == pytest.approx(5.79, abs=0.005)
    assert min(min(v) for v in test.values()) > results["source"]  # no model beats the grammar


def test_figure_2_training(results):
    train = results["train"]
    for name in ("MLE", "add-k, k = 0.01", "Kneser-Ney"):  # falls with every order
        assert all(a > b for a, b in zip(train[name], train[name][1:]))
    assert train["MLE"][4] == pytest.approx(2.87, abs=0.005)
    assert train["MLE"][4] < results["source"]  # below the grammar's own perplexity: memorized
    add_one = train["add-k, k = 1"]  # add-one is so heavy that even training perplexity rises
    assert all(a < b for a, b in zip(add_one[1:], add_one[2:]))


def test_figure_1_unseen_shares(results):
    shares = [round(100 * u, 1) for u in results["unseen"]]
    assert shares == [0.0, 0.6, 3.3, 18.5, 33.0]


def test_sampled_sentences_table():
    rows = SNIPPET["sample_table"](SNIPPET["make_corpus"](SNIPPET["N_TRAIN"], seed=1)[0])
    assert [r[1] for r in rows] == [
        "farmers the",
        "some cats sleep",
        "a cat sees the cat behind the birds sees some children like the dogs see the cats see the cats",
        "the dog with some dogs chase the bird near the teacher",
        "the farmers see the birds",
    ]
    assert [round(100 * r[2]) for r in rows] == [0, 17, 18, 46, 74]
