"""Decision trees, bagging, random forests and AdaBoost.

Written from scratch with NumPy (scikit-learn supplies the trees of the ensembles in Figure 2):

1. A classification tree grown by recursive binary splitting with the Gini index, its partition
   of the plane drawn next to the tree itself.
2. Bagging and a random forest on the bundled breast-cancer data: test error and out-of-bag
   error against the number of trees.
3. AdaBoost with stumps: the sample weights of the misclassified points grow round after round.

The numbers the page states about the figures are computed here and printed.
"""

# %% Imports, seeds and style
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle
from sklearn.datasets import load_breast_cancer
from sklearn.tree import DecisionTreeClassifier

plt.style.use("tableau-colorblind10")  # safe for color-vision deficiency; curves also differ by style
COLORS = plt.rcParams["axes.prop_cycle"].by_key()["color"]

# %% Impurity and the best split
def gini(p):
    """Gini index of class proportions p (last axis): sum_k p_k (1 - p_k)."""
    return np.sum(p * (1 - p), axis=-1)


def entropy(p):
    """Entropy in bits of class proportions p (last axis): -sum_k p_k log2 p_k, with 0 log 0 = 0."""
    return -np.sum(np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0)), 0.0), axis=-1)


def best_split(X, y, w=None, criterion="gini", n_classes=2):
    """Best split x_j <= s of one node by the weighted impurity of the two children.

    y holds class indices 0..K-1 (or real numbers for criterion="mse"); w are sample weights.
    Thresholds are midpoints between consecutive distinct values. Returns (j, s, child impurity
    (N_L I_L + N_R I_R) / N), or None if no split is possible. The first feature wins a tie.
    """
    w = np.ones(len(y)) if w is None else np.asarray(w, dtype=float)
    best = None
    for j in range(X.shape[1]):
        order = np.argsort(X[:, j], kind="stable")
        x, ys, ws = X[order, j], y[order], w[order]
        cut = np.flatnonzero(x[1:] > x[:-1])  # split after position cut: left = [0..cut]
        if len(cut) == 0:
            continue
        if criterion == "mse":
            wl, wy, wyy = np.cumsum(ws), np.cumsum(ws * ys), np.cumsum(ws * ys**2)
            n_l, n_r = wl[cut], wl[-1] - wl[cut]
            sse_l = wyy[cut] - wy[cut] ** 2 / n_l  # sum of squares around the child's mean
            sse_r = (wyy[-1] - wyy[cut]) - (wy[-1] - wy[cut]) ** 2 / n_r
            score = (sse_l + sse_r) / wl[-1]
        else:
            counts = np.cumsum(ws[:, None] * (ys[:, None] == np.arange(n_classes)), axis=0)
            left, right = counts[cut], counts[-1] - counts[cut]
            n_l, n_r = left.sum(1), right.sum(1)
            impurity = gini if criterion == "gini" else entropy
            score = (n_l * impurity(left / n_l[:, None]) + n_r * impurity(right / n_r[:, None])) / (n_l + n_r)
        i = int(np.argmin(score))
        if best is None or score[i] < best[2] - 1e-12:
            best = (j, (x[cut[i]] + x[cut[i] + 1]) / 2, float(score[i]))
    return best

# %% Recursive binary splitting and weakest-link pruning
def grow_tree(X, y, max_depth=None, n_classes=2, criterion="gini"):
    """Grow a classification tree top-down, greedily; nodes are numbered in preorder.

    Returns a dict of arrays: feature, threshold, left, right (-1 at a leaf), n (examples in the
    node), impurity and counts (examples of each class).
    """
    tree = {k: [] for k in ("feature", "threshold", "left", "right", "n", "impurity", "counts")}

    def node(idx, depth):
        i = len(tree["n"])
        counts = np.bincount(y[idx], minlength=n_classes)
        p = counts / len(idx)
        for k, v in zip(tree, (-1, np.nan, -1, -1, len(idx), float((gini if criterion == "gini" else entropy)(p)), counts)):
            tree[k].append(v)
        split = None
        if tree["impurity"][i] > 0 and (max_depth is None or depth < max_depth):
            split = best_split(X[idx], y[idx], criterion=criterion, n_classes=n_classes)
        if split is not None:
            j, s, _ = split
            tree["feature"][i], tree["threshold"][i] = j, s
            go_left = X[idx, j] <= s
            tree["left"][i] = node(idx[go_left], depth + 1)
            tree["right"][i] = node(idx[~go_left], depth + 1)
        return i

    node(np.arange(len(y)), 0)
    return {k: np.array(v) for k, v in tree.items()}


def apply_tree(tree, X):
    """Index of the leaf each row of X falls into."""
    out = np.zeros(len(X), dtype=int)
    for r, x in enumerate(X):
        i = 0
        while tree["left"][i] != -1:
            i = tree["left"][i] if x[tree["feature"][i]] <= tree["threshold"][i] else tree["right"][i]
        out[r] = i
    return out


def pruning_path(left, right, n, impurity):
    """Cost-complexity (weakest-link) pruning of a tree given by its child arrays.

    R(t) = (n_t / N) I(t) is the cost of node t as a leaf, R(T_t) the cost of the leaves of its
    branch. Prune, one at a time, the internal node with the smallest
    g(t) = (R(t) - R(T_t)) / (|T_t| - 1) (the first in node order on a tie) until only the root is left.
    Returns the effective alphas (starting at 0) and the total leaf cost R(T) after each step.
    """
    left, right = np.asarray(left), np.asarray(right)
    R = np.asarray(n, dtype=float) * np.asarray(impurity) / n[0]
    is_leaf = left == -1

    def branch(t):  # (cost of the leaves under t, number of leaves under t)
        if is_leaf[t]:
            return R[t], 1
        (rl, ll), (rr, lr) = branch(left[t]), branch(right[t])
        return rl + rr, ll + lr

    in_tree = np.ones(len(R), dtype=bool)
    alphas, costs = [0.0], [branch(0)[0]]
    while not is_leaf[0]:
        g = np.full(len(R), np.inf)
        for t in np.flatnonzero(in_tree & ~is_leaf):
            cost, leaves = branch(t)
            g[t] = (R[t] - cost) / (leaves - 1)
        t = int(np.argmin(g))
        stack = [left[t], right[t]]  # drop the branch below t
        while stack:
            i = stack.pop()
            in_tree[i] = False
            if not is_leaf[i]:
                stack += [left[i], right[i]]
        is_leaf[t] = True
        alphas.append(g[t])
        costs.append(branch(0)[0])
    return np.array(alphas), np.array(costs)

# %% Figure 1: a tree and its partition of the plane
def make_plane_data(rng, n=100):
    """Two classes in the unit square: class 1 in an L-shaped region, 10 % of labels flipped."""
    X = rng.uniform(0, 1, (n, 2)).round(3)
    y = (((X[:, 0] > 0.55) & (X[:, 1] > 0.3)) | (X[:, 1] > 0.75)).astype(int)
    flip = rng.uniform(size=n) < 0.1
    return X, np.where(flip, 1 - y, y)


X1, y1 = make_plane_data(np.random.default_rng(0))
tree1 = grow_tree(X1, y1, max_depth=3)
leaves1 = np.flatnonzero(tree1["left"] == -1)
train_error1 = np.mean(tree1["counts"][apply_tree(tree1, X1)].argmax(1) != y1)
print(f"Figure 1: {len(leaves1)} leaves, training error {train_error1:.2f}")

fig1, (ax_p, ax_t) = plt.subplots(1, 2, figsize=(10, 4.4), gridspec_kw={"width_ratios": [1, 1.35]})
leaf_names = {leaf: f"R{r + 1}" for r, leaf in enumerate(leaves1)}


def draw_regions(i, box):
    """Shade the region of node i (box = x0, x1, y0, y1) by its majority class; recurse."""
    x0, x1, y0, y1_ = box
    if tree1["left"][i] == -1:
        cls = tree1["counts"][i].argmax()
        ax_p.add_patch(Rectangle((x0, y0), x1 - x0, y1_ - y0, color=COLORS[cls], alpha=0.15, lw=0))
        ax_p.text((x0 + x1) / 2, (y0 + y1_) / 2, leaf_names[i], ha="center", va="center", fontsize=11, weight="bold")
        return
    j, s = tree1["feature"][i], tree1["threshold"][i]
    if j == 0:
        ax_p.plot([s, s], [y0, y1_], "k-", lw=1.2)
        draw_regions(tree1["left"][i], (x0, s, y0, y1_))
        draw_regions(tree1["right"][i], (s, x1, y0, y1_))
    else:
        ax_p.plot([x0, x1], [s, s], "k-", lw=1.2)
        draw_regions(tree1["left"][i], (x0, x1, y0, s))
        draw_regions(tree1["right"][i], (x0, x1, s, y1_))


draw_regions(0, (0, 1, 0, 1))
for cls, marker in ((0, "o"), (1, "^")):
    ax_p.scatter(*X1[y1 == cls].T, marker=marker, s=22, color=COLORS[cls], edgecolor="k", lw=0.4, label=f"class {cls}")
ax_p.set(xlim=(0, 1), ylim=(0, 1), xlabel="$x_1$", ylabel="$x_2$", title="Partition of the plane")
ax_p.legend(loc="lower left", fontsize=8, framealpha=0.9)

# tree diagram: leaves evenly spaced left to right, each internal node above the middle of its leaves
xpos, ypos = {}, {}
for r, leaf in enumerate(leaves1):
    xpos[leaf] = r
for i in reversed(range(len(tree1["n"]))):
    if tree1["left"][i] != -1:
        xpos[i] = (xpos[tree1["left"][i]] + xpos[tree1["right"][i]]) / 2


def set_depth(i, d):
    ypos[i] = -d
    if tree1["left"][i] != -1:
        set_depth(tree1["left"][i], d + 1)
        set_depth(tree1["right"][i], d + 1)


set_depth(0, 0)
for i in range(len(tree1["n"])):
    if tree1["left"][i] != -1:
        for child, word in ((tree1["left"][i], "yes"), (tree1["right"][i], "no")):
            ax_t.plot([xpos[i], xpos[child]], [ypos[i], ypos[child]], "k-", lw=0.8)
            ax_t.text((xpos[i] + xpos[child]) / 2, (ypos[i] + ypos[child]) / 2, word, fontsize=7,
                      ha="center", va="center", backgroundcolor="white")
        label = f"$x_{tree1['feature'][i] + 1} \\leq {tree1['threshold'][i]:.3f}$"
        ax_t.text(xpos[i], ypos[i], label, ha="center", va="center", fontsize=9,
                  bbox=dict(boxstyle="round", fc="white", ec="k"))
    else:
        c = tree1["counts"][i]
        ax_t.text(xpos[i], ypos[i], f"{leaf_names[i]}\nclass {c.argmax()}\n{c[0]} : {c[1]}", ha="center", va="center",
                  fontsize=8, bbox=dict(boxstyle="square", fc=COLORS[c.argmax()], alpha=0.25, ec="k"))
ax_t.set(xlim=(-0.6, len(leaves1) - 0.4), ylim=(min(ypos.values()) - 0.6, 0.5), title="The tree")
ax_t.axis("off")
fig1.tight_layout()

# %% Figure 2: bagging and random forests, test error and out-of-bag error
def ensemble_errors(X_train, y_train, X_test, y_test, n_trees, max_features, rng):
    """Grow n_trees trees on bootstrap samples; test and out-of-bag error after each tree.

    Predictions are majority votes (ties go to class 0). An example's OOB prediction uses only the
    trees whose bootstrap sample left it out; examples no tree has left out yet are skipped.
    """
    n = len(y_train)
    votes_test = np.zeros(len(y_test))
    votes_oob, count_oob = np.zeros(n), np.zeros(n)
    test_err, oob_err = [], []
    for b in range(n_trees):
        idx = rng.integers(0, n, n)  # bootstrap sample: n draws with replacement
        tree = DecisionTreeClassifier(max_features=max_features, random_state=int(rng.integers(2**31)))
        tree.fit(X_train[idx], y_train[idx])
        votes_test += tree.predict(X_test)
        out = np.setdiff1d(np.arange(n), idx)
        votes_oob[out] += tree.predict(X_train[out])
        count_oob[out] += 1
        test_err.append(np.mean((votes_test > (b + 1) / 2) != y_test))
        seen = count_oob > 0
        oob_err.append(np.mean((votes_oob[seen] > count_oob[seen] / 2) != y_train[seen]))
    return np.array(test_err), np.array(oob_err)


def bagging_experiment(n_trees=150, seed=0):
    """Bagging (all p features at each split) and a random forest (sqrt(p) of them) on the
    breast-cancer data, split 300 / 269; returns the test and OOB error curves of both."""
    rng = np.random.default_rng(seed)
    X, y = load_breast_cancer(return_X_y=True)
    perm = rng.permutation(len(y))
    tr, te = perm[:300], perm[300:]
    single = DecisionTreeClassifier(random_state=0).fit(X[tr], y[tr])
    out = {"single": float(np.mean(single.predict(X[te]) != y[te]))}
    for name, m in (("bagging", None), ("forest", "sqrt")):
        out[name] = ensemble_errors(X[tr], y[tr], X[te], y[te], n_trees, m, np.random.default_rng(seed + 1))
    return out


bag = bagging_experiment()
B = np.arange(1, len(bag["bagging"][0]) + 1)
print(f"Figure 2: single tree {bag['single']:.3f}; at B = {B[-1]}: bagging test {bag['bagging'][0][-1]:.3f} "
      f"OOB {bag['bagging'][1][-1]:.3f}, forest test {bag['forest'][0][-1]:.3f} OOB {bag['forest'][1][-1]:.3f}")

fig2, ax = plt.subplots(figsize=(7, 4.2))
ax.plot(B, bag["bagging"][0], "-", color=COLORS[0], label="bagging: test")
ax.plot(B, bag["bagging"][1], "--", color=COLORS[0], label="bagging: OOB")
ax.plot(B, bag["forest"][0], "-.", color=COLORS[1], label="random forest: test")
ax.plot(B, bag["forest"][1], ":", color=COLORS[1], lw=2, label="random forest: OOB")
ax.axhline(bag["single"], color="gray", lw=1, marker="", ls=(0, (5, 2, 1, 2, 1, 2)), label="single tree: test")
ax.set(xlabel="number of trees B", ylabel="error rate", title="Breast-cancer data, 300 training / 269 test examples")
ax.set_ylim(0, max(0.15, bag["single"] + 0.02))
ax.legend()
fig2.tight_layout()

# %% AdaBoost with stumps
def stump_fit(X, y01, w):
    """The weighted-Gini stump (what scikit-learn's DecisionTreeClassifier(max_depth=1) fits)."""
    j, s, _ = best_split(X, y01, w)
    left = X[:, j] <= s
    wl = np.bincount(y01[left], weights=w[left], minlength=2)
    wr = np.bincount(y01[~left], weights=w[~left], minlength=2)
    return j, s, 2 * wl.argmax() - 1, 2 * wr.argmax() - 1  # feature, threshold, output left, right


def stump_predict(stump, X):
    j, s, out_left, out_right = stump
    return np.where(X[:, j] <= s, out_left, out_right)


def adaboost(X, y, n_rounds):
    """AdaBoost.M1 (= SAMME for two classes) with labels y in {-1, +1}.

    Round m fits a stump G_m with weights w, err_m = sum w 1[y != G_m] / sum w,
    alpha_m = log((1 - err_m) / err_m), then w_i <- w_i exp(alpha_m 1[y_i != G_m(x_i)]), normalized.
    Returns the stumps, the alphas, the errors and the weights each stump was fitted with.
    """
    w = np.full(len(y), 1 / len(y))
    stumps, alphas, errors, weights = [], [], [], []
    for _ in range(n_rounds):
        weights.append(w.copy())
        stump = stump_fit(X, (y > 0).astype(int), w)
        miss = stump_predict(stump, X) != y
        err = np.sum(w[miss]) / np.sum(w)
        alpha = np.log((1 - err) / err)
        w = w * np.exp(alpha * miss)
        w = w / w.sum()
        stumps.append(stump)
        alphas.append(alpha)
        errors.append(err)
    return stumps, np.array(alphas), np.array(errors), weights


def adaboost_predict(stumps, alphas, X):
    """sign(sum_m alpha_m G_m(x)), the boosted classifier."""
    return np.sign(sum(a * stump_predict(s, X) for s, a in zip(stumps, alphas)))


def make_boost_data(rng, n=40):
    """Two classes in the plane: +1 in the upper right quadrant x1 > -0.2, x2 > -0.3, else -1,
    with 2 labels flipped; no single stump separates them."""
    X = rng.uniform(-1, 1, (n, 2)).round(3)
    y = np.where((X[:, 0] > -0.2) & (X[:, 1] > -0.3), 1, -1)
    y[:2] *= -1
    return X, y


X3, y3 = make_boost_data(np.random.default_rng(3))
stumps3, alphas3, errors3, weights3 = adaboost(X3, y3, 20)
boost_train_error = np.mean(adaboost_predict(stumps3, alphas3, X3) != y3)
print(f"Figure 3: err_1 = {errors3[0]:.3f}, alpha_1 = {alphas3[0]:.3f}, largest weight in round 4 = "
      f"{weights3[3].max() * len(y3):.1f}/N; training error after 20 rounds {boost_train_error:.3f}")

# %% Figure 3: the sample weights of AdaBoost, round by round
fig3, axes = plt.subplots(1, 4, figsize=(12, 3.4), sharey=True)
for ax, m in zip(axes, (0, 1, 2, 3)):
    w = weights3[m] * len(y3)  # in units of the starting weight 1/N
    miss = stump_predict(stumps3[m], X3) != y3
    for cls, marker, c in ((-1, "o", COLORS[0]), (1, "^", COLORS[1])):
        sel = y3 == cls
        ax.scatter(*X3[sel].T, s=25 * w[sel], marker=marker, color=c, edgecolor="k", lw=0.4,
                   label=f"class {cls:+d}")
    ax.scatter(*X3[miss].T, s=25 * w[miss] + 60, facecolor="none", edgecolor="k", lw=1.0,
               label="misclassified by $G_m$")
    j, s = stumps3[m][:2]
    (ax.axvline if j == 0 else ax.axhline)(s, color="k", ls="--", lw=1.2)
    ax.set(title=f"round m = {m + 1}: err = {errors3[m]:.2f}", xlabel="$x_1$", xlim=(-1.05, 1.05), ylim=(-1.05, 1.05))
    ax.set_aspect("equal")
axes[0].set_ylabel("$x_2$")
axes[0].legend(loc="lower left", fontsize=7, framealpha=0.9)
fig3.tight_layout()

plt.show()
