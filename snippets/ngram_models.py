"""n-gram language models: counting, smoothing and perplexity.

The corpus is synthetic: English sentences drawn from a small probabilistic grammar written
here (subject-verb agreement, verbs that suit their subject, optional prepositional phrases),
so that the text needs no download or license, and so that the true probability of every
sentence is known.

Figure 1: the share of held-out n-grams never seen in training, against the order n = 1..5.
Figure 2: held-out and training perplexity against n, for add-k smoothing with three values
of k, interpolated Kneser-Ney, and (training only) maximum likelihood.
A table of sentences sampled from the maximum-likelihood n-gram models is printed.
The numbers the page states are computed and printed here.
"""

# %% Imports, seeds and the grammar
import bisect
import math
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np

BOS, EOS = "<s>", "</s>"
NOUNS = {"animal": [("dog", "dogs"), ("cat", "cats"), ("bird", "birds")],  # (singular, plural)
         "person": [("child", "children"), ("teacher", "teachers"), ("farmer", "farmers")]}
VERBS = {  # what each kind of subject does: (intransitive verbs, transitive verbs)
    "animal": ([("sleeps", "sleep"), ("runs", "run")], [("chases", "chase"), ("sees", "see")]),
    "person": ([("sleeps", "sleep"), ("sings", "sing")],
               [("feeds", "feed"), ("likes", "like"), ("sees", "see")]),
}
OBJECT_KIND = {"chases": "animal", "feeds": "animal", "likes": "any", "sees": "any"}
PREPOSITIONS = ["near", "behind", "with"]
ADVERBS = ["quietly", "today"]
P_PP, P_TRANSITIVE, P_ADVERB = 0.3, 0.6, 0.4
VOCAB = [  # every word the grammar can produce, and </s>: |V| = 35
    "a", "behind", "bird", "birds", "cat", "cats", "chase", "chases", "child", "children", "dog",
    "dogs", "farmer", "farmers", "feed", "feeds", "like", "likes", "near", "quietly", "run",
    "runs", "see", "sees", "sing", "sings", "sleep", "sleeps", "some", "teacher", "teachers",
    "the", "today", "with", EOS,
]

# %% A synthetic corpus from the grammar
def choose(rng, options, probs):
    """One of the options, drawn with the given probabilities, and the log of its probability."""
    u, cumulative = rng.random(), 0.0
    for option, p in zip(options, probs):
        cumulative += p
        if u < cumulative:
            return option, math.log(p)
    return options[-1], math.log(probs[-1])


def uniform(rng, options):
    return choose(rng, options, [1 / len(options)] * len(options))


def noun_phrase(rng, kind, allow_pp):
    """Det Noun (Prep NP) with a noun of the given kind ("any": either, with probability 1/2).
    Returns the words, the log-probability of the choices made, and the noun's kind and number."""
    logp = 0.0
    if kind == "any":
        kind, lp = uniform(rng, ["animal", "person"])
        logp += lp
    plural, lp = uniform(rng, [0, 1])
    det, lp_det = choose(rng, ["the", "some" if plural else "a"], [0.6, 0.4])
    words, logp = [det], logp + lp + lp_det
    noun, lp = uniform(rng, NOUNS[kind])
    words, logp = words + [noun[plural]], logp + lp
    if allow_pp:
        has_pp, lp = choose(rng, [True, False], [P_PP, 1 - P_PP])
        logp += lp
        if has_pp:  # "near the cats": a second noun phrase, with its own kind and number
            preposition, lp = uniform(rng, PREPOSITIONS)
            inner, inner_logp, _, _ = noun_phrase(rng, "any", allow_pp=False)
            words, logp = words + [preposition] + inner, logp + lp + inner_logp
    return words, logp, kind, plural


def sample_sentence(rng):
    """Subject, verb (agreeing with the subject's head noun, chosen by its kind), then an object
    (of the kind the verb takes) or an optional adverb. Returns (words, log p); every sentence has
    exactly one derivation, so log p is its true log-probability."""
    words, logp, kind, plural = noun_phrase(rng, "any", allow_pp=True)
    intransitive, transitive = VERBS[kind]
    is_transitive, lp = choose(rng, [True, False], [P_TRANSITIVE, 1 - P_TRANSITIVE])
    logp += lp
    if is_transitive:
        verb, lp = uniform(rng, transitive)
        obj, obj_logp, _, _ = noun_phrase(rng, OBJECT_KIND[verb[0]], allow_pp=True)
        return words + [verb[plural]] + obj, logp + lp + obj_logp
    verb, lp = uniform(rng, intransitive)
    words, logp = words + [verb[plural]], logp + lp
    has_adverb, lp = choose(rng, [True, False], [P_ADVERB, 1 - P_ADVERB])
    logp += lp
    if has_adverb:
        adverb, lp = uniform(rng, ADVERBS)
        words, logp = words + [adverb], logp + lp
    return words, logp


def make_corpus(n_sentences, seed):
    """n_sentences sentences and their true log-probabilities, from a seeded generator."""
    gen = np.random.default_rng(seed)
    pairs = [sample_sentence(gen) for _ in range(n_sentences)]
    return [words for words, _ in pairs], [logp for _, logp in pairs]


# %% Counting n-grams: maximum likelihood and add-k smoothing
# --8<-- [start:counting]
def ngrams(sentence, n):
    """The (history, word) pairs of one sentence: n - 1 <s> in front, one </s> at the end."""
    padded = [BOS] * (n - 1) + list(sentence) + [EOS]
    return [(tuple(padded[i - n + 1:i]), padded[i]) for i in range(n - 1, len(padded))]


def count_ngrams(sentences, n):
    """c(h, w) for every n-gram, and c(h) = sum over w of c(h, w), the count of h as a history."""
    counts, history_counts = Counter(), Counter()
    for sentence in sentences:
        for history, word in ngrams(sentence, n):
            counts[history, word] += 1
            history_counts[history] += 1
    return counts, history_counts


def mle_prob(counts, history_counts, history, word):
    """P(w | h) = c(h, w) / c(h); an unseen history gets 0 for every word."""
    c_h = history_counts[history]
    return counts[history, word] / c_h if c_h else 0.0


def add_k_prob(counts, history_counts, history, word, k, vocab_size):
    """P(w | h) = (c(h, w) + k) / (c(h) + k |V|); k = 1 is add-one (Laplace) smoothing."""
    return (counts[history, word] + k) / (history_counts[history] + k * vocab_size)
# --8<-- [end:counting]


# %% Perplexity: exp of the mean negative log-probability per predicted token
# --8<-- [start:perplexity]
def perplexity(sentences, n, prob):
    """exp(-(1/M) sum log P(w | h)) over the M predicted tokens, every </s> included.
    prob(history, word) is the model; a zero probability makes the perplexity infinite."""
    total_log, n_tokens = 0.0, 0
    for sentence in sentences:
        for history, word in ngrams(sentence, n):
            p = prob(history, word)
            if p == 0.0:
                return math.inf
            total_log += math.log(p)  # natural log, so the base of exp matches
            n_tokens += 1
    return math.exp(-total_log / n_tokens)
# --8<-- [end:perplexity]


# %% Interpolated Kneser-Ney smoothing (Chen and Goodman 1999)
def kneser_ney(sentences, n, vocab_size, discount=0.75):
    """Return prob(history, word) for interpolated Kneser-Ney of order n.

    Order n uses the counts c(h, w); each lower order m uses continuation counts, the number of
    distinct words v seen before (h, w), except for m-grams that start with <s>, which have no
    left context and keep their counts. Every order subtracts the discount from each nonzero
    count and gives the mass it frees to the next lower order; order 0 is uniform over V.
    """
    tokens = [g for s in sentences for g in ngrams(s, n)]
    tables = {n: Counter(tokens)}
    for m in range(1, n):  # (history of length m - 1, word)
        raw = Counter((h[n - m:], w) for h, w in tokens)
        longer = {(h[n - m - 1:], w) for h, w in tokens}  # distinct (m + 1)-grams
        continuation = Counter((h[1:], w) for h, w in longer)
        tables[m] = Counter({g: raw[g] if g[0][:1] == (BOS,) else continuation[g] for g in raw})
    totals, types = {}, {}
    for m, table in tables.items():
        totals[m], types[m] = Counter(), Counter()
        for (h, _), c in table.items():
            totals[m][h] += c
            types[m][h] += 1  # N1+(h .): how many words follow h

    def prob(history, word, m=n):
        if m == 0:
            return 1.0 / vocab_size
        h = tuple(history[len(history) - m + 1:]) if m > 1 else ()
        lower = prob(history, word, m - 1)
        total = totals[m][h]
        if total == 0:  # unseen history: all the mass goes to the lower order
            return lower
        c = tables[m][h, word]
        return (max(c - discount, 0.0) + discount * types[m][h] * lower) / total

    return prob


# %% Sampling sentences from a maximum-likelihood n-gram model (Shannon's experiment)
def next_word_table(counts):
    """For every history: the words seen after it and their cumulative counts."""
    table = {}
    for (history, word), c in sorted(counts.items()):
        words, cumulative = table.setdefault(history, ([], []))
        words.append(word)
        cumulative.append(c + (cumulative[-1] if cumulative else 0))
    return table


def sample_from_model(table, n, rng, max_len=25):
    """Draw words one at a time from P(w | last n - 1 words) = c(h, w) / c(h) until </s>."""
    history, words = (BOS,) * (n - 1), []
    while len(words) < max_len:
        options, cumulative = table[history]
        word = options[bisect.bisect_right(cumulative, rng.random() * cumulative[-1])]
        if word == EOS:
            break
        words.append(word)
        history = (history + (word,))[1:]
    return words


# %% The experiment: perplexity against n for every smoothing setting
ORDERS = [1, 2, 3, 4, 5]
K_VALUES = [1.0, 0.1, 0.01]
N_TRAIN, N_TEST = 1000, 1000


def run_experiment():
    """Training and held-out perplexities per setting and order, and the share of held-out
    n-gram tokens unseen in training."""
    train, _ = make_corpus(N_TRAIN, seed=1)
    test, test_logp = make_corpus(N_TEST, seed=2)
    n_test_tokens = sum(len(s) + 1 for s in test)  # </s> counted
    source = math.exp(-sum(test_logp) / n_test_tokens)  # the grammar's own perplexity
    results = {"test": {}, "train": {}, "unseen": [], "source": source, "test_tokens": n_test_tokens,
               "train_tokens": sum(len(s) + 1 for s in train)}
    for n in ORDERS:
        counts, history_counts = count_ngrams(train, n)
        settings = {f"add-k, k = {k:g}": (lambda h, w, k=k: add_k_prob(counts, history_counts, h, w,
                                                                          k, len(VOCAB)))
                    for k in K_VALUES}
        settings["Kneser-Ney"] = kneser_ney(train, n, len(VOCAB))
        settings["MLE"] = lambda h, w: mle_prob(counts, history_counts, h, w)
        for name, prob in settings.items():
            results["test"].setdefault(name, []).append(perplexity(test, n, prob))
            results["train"].setdefault(name, []).append(perplexity(train, n, prob))
        test_grams = [g for s in test for g in ngrams(s, n)]
        results["unseen"].append(sum(counts[g] == 0 for g in test_grams) / len(test_grams))
    return results


results = run_experiment()
print(f"|V| = {len(VOCAB)} (with </s>); tokens (with </s>): {results['train_tokens']} training, "
      f"{results['test_tokens']} held-out; the grammar's own perplexity {results['source']:.3f}")
for split in ("test", "train"):
    for name, values in results[split].items():
        print(f"{split:5s} {name:16s}", " ".join(f"{v:8.3f}" for v in values))
print("unseen held-out n-grams:", [round(u, 3) for u in results["unseen"]])

# %% Figure 1: held-out n-grams that never occur in training
plt.style.use("tableau-colorblind10")
fig, ax = plt.subplots(figsize=(4.5, 3.2))
ax.plot(ORDERS, 100 * np.array(results["unseen"]), ls="-", marker="o", label="held-out n-gram tokens")
ax.set(xlabel="order $n$", ylabel="unseen in training (%)", xticks=ORDERS, ylim=(0, 100),
       title="Held-out n-grams with zero count")
fig.tight_layout()

# %% Figure 2: held-out and training perplexity against n
styles = {"add-k, k = 1": dict(ls="-", marker="o"), "add-k, k = 0.1": dict(ls="--", marker="s"),
          "add-k, k = 0.01": dict(ls="-.", marker="^"), "Kneser-Ney": dict(ls=":", marker="D"),
          "MLE": dict(ls=(0, (1, 1)), marker="x")}
fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True)
for ax, split in zip(axes, ("test", "train")):
    for name, values in results[split].items():
        if np.isfinite(values).all():
            ax.plot(ORDERS, values, label=name, **styles[name])
    ax.axhline(results["source"], color="gray", lw=1, ls=(0, (6, 3)), label="the grammar itself")
    ax.set(xlabel="order $n$", xticks=ORDERS, yscale="log")
    ax.set_yticks([3, 4, 5, 6, 8, 10, 15, 20], labels=["3", "4", "5", "6", "8", "10", "15", "20"])
    ax.minorticks_off()
axes[0].set(ylabel="perplexity (log scale)", title="Held-out text")
axes[1].set_title("Training text")
axes[1].legend(fontsize=8)
fig.tight_layout()

# %% Sentences sampled from the maximum-likelihood models
def sample_table(train, n_samples=200):
    """For each n: one sampled sentence, and the share of n_samples sampled sentences that are
    copies of a training sentence."""
    seen = {tuple(s) for s in train}
    rows = []
    for n in ORDERS:
        table = next_word_table(count_ngrams(train, n)[0])
        gen = np.random.default_rng(n)
        samples = [sample_from_model(table, n, gen) for _ in range(n_samples)]
        rows.append((n, " ".join(samples[0]), np.mean([tuple(s) in seen for s in samples])))
    return rows


for n, sentence, copies in sample_table(make_corpus(N_TRAIN, seed=1)[0]):
    print(f"n = {n}: {sentence!r:70s} copies of training sentences: {copies:.0%}")

plt.show()
