"""Word embeddings: skip-gram with negative sampling on a synthetic corpus.

The corpus is generated here from a small seeded template grammar (animals, foods,
countries, their capitals and languages, numbers), so the structure the embeddings
should find is known in advance and nothing is downloaded.

1. Build the corpus, the vocabulary, subsampling of frequent words and the
   skip-gram (center, context) pairs; the noise distribution is unigram^(3/4).
2. Train skip-gram with negative sampling (Mikolov et al., 2013b) in PyTorch.
3. Figure 1: a 2-D PCA projection of the embeddings, one marker per category.
4. Figure 2: cosine similarities between all category words, within vs between
   categories, and country-capital analogies with and without excluding the inputs.
5. Figure 3: the weighting function f(x) of GloVe (Pennington et al., 2014).

The numbers the page states about the figures are computed here and printed.
"""

# %% Imports and seeds
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from sklearn.decomposition import PCA

torch.manual_seed(0)
rng = np.random.default_rng(0)  # the corpus and subsampling take their own seeded generators
plt.style.use("tableau-colorblind10")

# %% A synthetic corpus from a template grammar
CATEGORIES = {
    "animal": ["dog", "cat", "horse", "cow", "lion", "tiger", "wolf", "bear"],
    "food": ["bread", "rice", "pasta", "cheese", "soup", "apple", "banana", "cake"],
    "country": ["france", "germany", "japan", "italy", "spain", "egypt", "russia", "greece"],
    "capital": ["paris", "berlin", "tokyo", "rome", "madrid", "cairo", "moscow", "athens"],
    "language": ["french", "german", "japanese", "italian", "spanish", "arabic", "russian", "greek"],
    "number": ["one", "two", "three", "four", "five", "six", "seven", "eight"],
}


def make_corpus(n_sentences=3000, seed=0):
    """Sentences (lists of words) from 12 templates; country i always goes with capital i and language i."""
    gen = np.random.default_rng(seed)
    animal, food, country, capital, language, number = CATEGORIES.values()

    def pick(words):
        return words[gen.integers(len(words))]

    sentences = []
    for _ in range(n_sentences):
        template, i = gen.integers(12), gen.integers(8)  # i: one country with its capital and language
        sentence = [
            f"the {pick(animal)} sleeps in the barn",
            f"a {pick(animal)} is a wild animal",
            f"the {pick(animal)} eats the {pick(food)}",
            f"we cook {pick(food)} for dinner",
            f"this {pick(food)} tastes sweet and fresh",
            f"{capital[i]} is the capital of {country[i]}",
            f"she flew from {pick(capital)} to {pick(capital)}",
            f"people in {country[i]} speak {language[i]}",
            f"people in {capital[i]} speak {language[i]}",
            f"{country[i]} is a large country",
            f"{pick(number)} plus {pick(number)} is {pick(number)}",
            f"i counted {pick(number)} {pick(['dogs', 'cats', 'apples', 'cakes'])} today",
        ][template]
        sentences.append(sentence.split())
    return sentences


def build_vocab(sentences):
    """Sorted vocabulary, word -> index, and the count of every word."""
    vocab = sorted({w for s in sentences for w in s})
    word_to_id = {w: i for i, w in enumerate(vocab)}
    counts = np.zeros(len(vocab))
    for s in sentences:
        for w in s:
            counts[word_to_id[w]] += 1
    return vocab, word_to_id, counts


def keep_probability(counts, t):
    """Subsampling (Mikolov et al., 2013b): keep a word with probability min(1, sqrt(t / f(w)))."""
    freq = counts / counts.sum()
    return np.minimum(1.0, np.sqrt(t / freq))


def skipgram_pairs(sentences, word_to_id, window=2):
    """All (center, context) index pairs with the context at most `window` words away."""
    centers, contexts = [], []
    for s in sentences:
        ids = [word_to_id[w] for w in s]
        for p, center in enumerate(ids):
            for q in range(max(0, p - window), min(len(ids), p + window + 1)):
                if q != p:
                    centers.append(center)
                    contexts.append(ids[q])
    return torch.tensor(centers), torch.tensor(contexts)


def noise_distribution(counts, power=0.75):
    """P_n(w) = U(w)^(3/4) / Z: the unigram distribution raised to 3/4 and renormalized."""
    p = torch.as_tensor(counts, dtype=torch.float64) ** power
    return p / p.sum()


# %% The skip-gram negative-sampling loss
# --8<-- [start:sgns_loss]
def sgns_loss(v, u_pos, u_neg):
    """Mean over the batch of -log s(u_o . v) - sum_k log s(-u_k . v), s = sigmoid.

    v: (B, d) center vectors; u_pos: (B, d) context vectors; u_neg: (B, k, d) noise words.
    """
    pos = F.logsigmoid((u_pos * v).sum(-1))  # log s(u_o . v), shape (B,)
    neg = F.logsigmoid(-(u_neg @ v.unsqueeze(-1)).squeeze(-1))  # log s(-u_k . v), shape (B, k)
    return -(pos + neg.sum(-1)).mean()
# --8<-- [end:sgns_loss]


# %% Training skip-gram with negative sampling
# --8<-- [start:train]
def train_sgns(centers, contexts, noise, n_words, dim=16, k=5, epochs=5, batch_size=512, lr=20.0, seed=0):
    """Two embedding tables (center vectors v, context vectors u), trained with plain SGD whose
    learning rate decays linearly to 0, as in word2vec. The loss is a batch mean, so lr = 20 with
    B = 512 moves a row by about 0.04 times its per-pair gradient (word2vec starts at 0.025)."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    center_emb = torch.nn.Embedding(n_words, dim)  # v_w: the vectors we keep
    context_emb = torch.nn.Embedding(n_words, dim)  # u_w: used only during training
    torch.nn.init.uniform_(center_emb.weight, -0.5 / dim, 0.5 / dim)  # as the word2vec code does
    torch.nn.init.zeros_(context_emb.weight)
    n_steps = epochs * -(-len(centers) // batch_size)
    losses = []
    for _ in range(epochs):
        perm = torch.randperm(len(centers), generator=gen)
        for start in range(0, len(perm), batch_size):
            idx = perm[start:start + batch_size]
            negatives = torch.multinomial(noise, len(idx) * k, replacement=True, generator=gen)
            loss = sgns_loss(center_emb(centers[idx]), context_emb(contexts[idx]),
                             context_emb(negatives.view(len(idx), k)))
            center_emb.weight.grad = context_emb.weight.grad = None
            loss.backward()
            step_lr = lr * (1 - len(losses) / n_steps)  # linear decay
            with torch.no_grad():
                center_emb.weight -= step_lr * center_emb.weight.grad
                context_emb.weight -= step_lr * context_emb.weight.grad
            losses.append(loss.item())
    return center_emb.weight.detach(), np.array(losses)
# --8<-- [end:train]


# %% Evaluating the embeddings: cosine similarity, neighbors, analogies
def cosine_matrix(E):
    """All pairwise cosine similarities between the rows of E."""
    E = F.normalize(E, dim=1)
    return E @ E.T


def category_similarity(S, groups):
    """Mean cosine similarity within each group (pairs of distinct words) and to all other groups' words."""
    within, between = {}, {}
    for name, ids in groups.items():
        others = [j for other, js in groups.items() if other != name for j in js]
        block = S[np.ix_(ids, ids)]
        within[name] = float((block.sum() - np.trace(block)) / (len(ids) * (len(ids) - 1)))
        between[name] = float(S[np.ix_(ids, others)].mean())
    return within, between


def neighbor_purity(S, groups):
    """Share of category words whose nearest other category word is in the same category."""
    ids = [i for js in groups.values() for i in js]
    label = {i: name for name, js in groups.items() for i in js}
    sub = S[np.ix_(ids, ids)] - 2 * np.eye(len(ids))  # never the word itself
    nearest = [ids[j] for j in sub.argmax(axis=1)]
    return float(np.mean([label[i] == label[n] for i, n in zip(ids, nearest)]))


def analogy(E, a, b, c, exclude_inputs=True):
    """3CosAdd: the word x maximizing cos(x, b - a + c) (a : b :: c : x), by index."""
    En = F.normalize(E, dim=1)
    scores = En @ (En[b] - En[a] + En[c])
    if exclude_inputs:  # the usual evaluation never returns a, b or c
        scores[[a, b, c]] = -torch.inf
    return int(scores.argmax())


def analogy_accuracy(E, word_to_id, exclude_inputs=True):
    """country_i : capital_i :: country_j : ?  over all 56 ordered pairs i != j."""
    country = [word_to_id[w] for w in CATEGORIES["country"]]
    capital = [word_to_id[w] for w in CATEGORIES["capital"]]
    hits = [analogy(E, country[i], capital[i], country[j], exclude_inputs) == capital[j]
            for i in range(8) for j in range(8) if i != j]
    return sum(hits), len(hits)


def run_experiment(n_sentences=3000, t=0.01, window=2, dim=16, k=5, epochs=5, seed=0):
    """The whole pipeline: corpus, subsampling, pairs, training; returns what the figures need."""
    sentences = make_corpus(n_sentences, seed)
    vocab, word_to_id, counts = build_vocab(sentences)
    keep = keep_probability(counts, t)
    gen = np.random.default_rng(seed + 1)
    kept = [[w for w in s if gen.random() < keep[word_to_id[w]]] for s in sentences]
    centers, contexts = skipgram_pairs(kept, word_to_id, window)
    noise = noise_distribution(counts)
    E, losses = train_sgns(centers, contexts, noise, len(vocab), dim, k, epochs, seed=seed)
    groups = {name: [word_to_id[w] for w in words] for name, words in CATEGORIES.items()}
    S = cosine_matrix(E).numpy()
    within, between = category_similarity(S, groups)
    return dict(vocab=vocab, word_to_id=word_to_id, counts=counts, keep=keep, E=E, losses=losses,
                groups=groups, S=S, within=within, between=between, purity=neighbor_purity(S, groups),
                n_tokens=int(counts.sum()), n_kept=sum(map(len, kept)), n_pairs=len(centers),
                analogies=analogy_accuracy(E, word_to_id), analogies_no_exclusion=analogy_accuracy(E, word_to_id, False))


# %% Train on the synthetic corpus and evaluate
result = run_experiment()
vocab, groups, S = result["vocab"], result["groups"], result["S"]
print(f"{len(vocab)} words, {result['n_tokens']} tokens, {result['n_kept']} after subsampling, "
      f"{result['n_pairs']} skip-gram pairs")
print("keep probability of 'the', 'is', 'dog':",
      [round(float(result["keep"][result["word_to_id"][w]]), 2) for w in ("the", "is", "dog")])
print("loss in the first and last 20 steps:", result["losses"][:20].mean().round(2),
      result["losses"][-20:].mean().round(2))
print("mean cosine within / between categories:",
      round(np.mean(list(result["within"].values())), 2), round(np.mean(list(result["between"].values())), 2))
print("nearest-neighbor purity:", result["purity"])
print("analogies solved (inputs excluded / not excluded):", result["analogies"], result["analogies_no_exclusion"])

# %% Figure 1: 2-D PCA projection of the embeddings, one marker per category
MARKERS = {"animal": "o", "food": "s", "country": "^", "capital": "v", "language": "D", "number": "P"}
ids = [i for js in groups.values() for i in js]
pca = PCA(n_components=2).fit(result["E"][ids].numpy())
xy = pca.transform(result["E"].numpy())
fig, ax = plt.subplots(figsize=(7.5, 5.5))
for name, js in groups.items():
    ax.scatter(xy[js, 0], xy[js, 1], marker=MARKERS[name], s=40, label=name)
    for j in js:
        ax.annotate(vocab[j], xy[j], fontsize=7, xytext=(3, 3), textcoords="offset points")
ax.set(xlabel=f"PC 1 ({pca.explained_variance_ratio_[0]:.0%} of variance)",
       ylabel=f"PC 2 ({pca.explained_variance_ratio_[1]:.0%} of variance)",
       title="Skip-gram embeddings (d = 16) projected on 2 principal components")
ax.legend(fontsize=8, loc="best")
fig.tight_layout()
print("PCA: explained variance ratio", pca.explained_variance_ratio_.round(2))

# %% Figure 2: cosine similarity within and between categories
fig, ax = plt.subplots(figsize=(6.5, 5.5))
image = ax.imshow(S[np.ix_(ids, ids)], cmap="cividis", vmin=-1, vmax=1)
edges = np.cumsum([len(js) for js in groups.values()])[:-1] - 0.5
for e in edges:
    ax.axhline(e, color="white", lw=0.8)
    ax.axvline(e, color="white", lw=0.8)
centers_ = np.arange(len(groups)) * 8 + 3.5
ax.set_xticks(centers_, list(groups), rotation=45, ha="right")
ax.set_yticks(centers_, list(groups))
ax.set_title("Cosine similarity of the 48 category words")
fig.colorbar(image, ax=ax, label="cosine similarity")
fig.tight_layout()

# %% Figure 3: GloVe's weighting function
def glove_weight(x, x_max=100.0, alpha=0.75):
    """GloVe's weighting f(x) = (x / x_max)^alpha for x < x_max, else 1 (and f(0) = 0)."""
    x = torch.as_tensor(x, dtype=torch.float64)
    return torch.where(x < x_max, (x / x_max) ** alpha, torch.ones_like(x))


x = torch.linspace(0, 150, 301)
fig, ax = plt.subplots(figsize=(6, 3.4))
ax.plot(x, glove_weight(x), ls="-", label=r"$\alpha = 3/4$ (GloVe)")
ax.plot(x, glove_weight(x, alpha=1.0), ls="--", label=r"$\alpha = 1$")
ax.plot(x, glove_weight(x, alpha=0.5), ls=":", label=r"$\alpha = 1/2$")
ax.axvline(100, color="gray", lw=0.8)
ax.set(xlabel=r"co-occurrence count $X_{ij}$", ylabel=r"weight $f(X_{ij})$",
       title=r"$f(x) = (x / x_{\mathrm{max}})^{\alpha}$ below $x_{\mathrm{max}} = 100$, else 1")
ax.legend(fontsize=8)
fig.tight_layout()

plt.show()
