"""Formula tests for docs/*/neural-networks/perceptron.md.

The perceptron, its learning rule and the XOR argument are written from scratch, exactly as
printed on the page, and checked against hand computations, against Novikoff's bound, and
against exhaustive searches over weights. The training loop is the one the page shows
(train_perceptron in snippets/perceptron.py), loaded from the snippet; the mutation tests run
wrong learning rules through the same hand-trace comparison. The numbers the page states about
its figures are read from a run of the whole snippet (test_figure_numbers_on_the_page).
"""

import itertools
import types

import numpy as np
import pytest
import torch

from snippet_code import run_snippet, SNIPPETS, snippet_function

SNIPPET = snippet_function("perceptron", "train_perceptron", "step")
train_perceptron = SNIPPET["train_perceptron"]  # (x, y, epochs, lr) -> w, b, mistakes per epoch, history

X_BOOL = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
XOR = torch.tensor([0.0, 1.0, 1.0, 0.0], dtype=torch.float64)


pytestmark = pytest.mark.usefixtures("float64")


# ---------------------------------------------------------------- page formulas
def step(z):  # H(z) = 1 if z > 0, 0 if z <= 0
    return (z > 0).to(torch.get_default_dtype())


def weighted_sum(w, b, x):  # z = sum_i w_i x_i + b (written as a sum, not a matmul)
    return (w * x).sum(dim=-1) + b


def predict(w, b, x):  # y_hat = H(w^T x + b)
    return step(weighted_sum(w, b, x))


def update(w, b, x, y, lr):  # w <- w + lr (y - y_hat) x,  b <- b + lr (y - y_hat)
    delta = y - predict(w, b, x)
    return w + lr * delta * x, b + lr * delta


def train(x, y, lr=1.0, epochs=30, trainer=None):
    """The snippet's train_perceptron on torch data: final (w, b), (w, b) after every update, mistakes per epoch."""
    w, b, mistakes, history = (trainer or train_perceptron)(np.asarray(x), np.asarray(y), epochs=epochs, lr=lr)
    as_torch = lambda v: torch.as_tensor(v, dtype=torch.float64)  # noqa: E731
    return as_torch(w), as_torch(b), [(as_torch(hw), as_torch(hb)) for hw, hb in history[1:]], mistakes


def separable(n, d, gap, seed):
    """Points of a random hyperplane's two sides, at least `gap` from it; returns x, y, unit u."""
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(d + 1, generator=g)
    u = u / u.norm()  # unit normal in the augmented space (w, b)
    x = torch.rand(8 * n, d, generator=g) * 4 - 2
    margin = torch.cat([x, torch.ones(len(x), 1)], dim=1) @ u
    keep = margin.abs() >= gap
    x, margin = x[keep][:n], margin[keep][:n]
    assert len(x) == n
    return x, (margin > 0).to(x.dtype), u


# ---------------------------------------------------------------- neuron and boundary
def test_weighted_sum_matches_matmul_and_augmented_form():
    torch.manual_seed(0)
    w, b, x = torch.randn(5), torch.randn(()), torch.randn(20, 5)
    torch.testing.assert_close(weighted_sum(w, b, x), x @ w + b)
    x_aug = torch.cat([x, torch.ones(20, 1)], dim=1)
    w_aug = torch.cat([w, b.view(1)])
    torch.testing.assert_close(weighted_sum(w, b, x), x_aug @ w_aug)


def test_step_function_matches_heaviside_with_h0_equal_0():
    z = torch.tensor([-2.0, -1e-12, 0.0, 1e-12, 3.0])
    torch.testing.assert_close(step(z), torch.heaviside(z, torch.tensor(0.0)))


def test_boundary_geometry():
    torch.manual_seed(1)
    w, b = torch.randn(3), torch.randn(())
    x = torch.randn(50, 3)
    dist = (x @ w + b) / w.norm()  # signed distance from the page
    foot = x - dist[:, None] * w / w.norm()  # projection onto the boundary
    torch.testing.assert_close(foot @ w + b, torch.zeros(50), atol=1e-12, rtol=0)
    # w points to the class-1 side; origin is |b| / |w| from the boundary
    assert torch.all(predict(w, b, x)[dist > 0] == 1) and torch.all(predict(w, b, x)[dist < 0] == 0)
    # the point of the boundary closest to the origin is the minimum-norm solution of w^T x = -b (pseudo-inverse)
    origin_foot = torch.linalg.pinv(w[None, :]) @ (-b).reshape(1)
    torch.testing.assert_close(origin_foot.norm(), b.abs() / w.norm())
    # positive rescaling changes nothing
    for c in (1e-3, 0.5, 7.0):
        torch.testing.assert_close(predict(c * w, c * b, x), predict(w, b, x))


def test_without_bias_nand_is_impossible():
    """Without a bias, H(w^T 0) = H(0) = 0 for every w but NAND(0, 0) = 1: an exhaustive search over
    bias-free weights (torch.heaviside with H(0) = 0 as the step) finds OR, but never NAND."""
    g = torch.linspace(-3, 3, 61)
    W = torch.cartesian_prod(g, g)  # (w1, w2), no bias
    tables = torch.heaviside(X_BOOL @ W.T, torch.tensor(0.0)).T  # (61^2, 4): the truth table of every w
    reached = {tuple(t) for t in tables.tolist()}
    assert (0.0, 1.0, 1.0, 1.0) in reached  # OR needs no bias (w1 = w2 = 1) ...
    assert (1.0, 1.0, 1.0, 0.0) not in reached  # NAND
    assert all(t[0] == 0.0 for t in reached)  # the output at (0, 0) is always 0
    # the snippet's step has the same convention, which is what makes the argument work
    assert np.array_equal(SNIPPET["step"](np.array([-1.0, 0.0, 1e-12])), np.array([0.0, 0.0, 1.0]))


# ---------------------------------------------------------------- logic gates
@pytest.mark.parametrize(
    "w, b, table",
    [
        ([1.0, 1.0], -1.5, [0, 0, 0, 1]),  # AND
        ([1.0, 1.0], -0.5, [0, 1, 1, 1]),  # OR
        ([-1.0, -1.0], 1.5, [1, 1, 1, 0]),  # NAND
    ],
)
def test_gate_weights_from_the_table(w, b, table):
    assert predict(torch.tensor(w), torch.tensor(b), X_BOOL).tolist() == table


# ---------------------------------------------------------------- learning rule
AND_TRACE = [  # AND, lr = 1, w = 0, b = 0, order (0,0), (0,1), (1,0), (1,1): (w1, w2, b) after each update, by hand
    (1, 1, 1), (1, 1, 0), (1, 0, -1), (2, 1, 0),  # epochs 1 and 2
    (2, 0, -1), (1, 0, -2), (2, 1, -1),  # epoch 3
    (1, 1, -2), (2, 2, -1),  # epoch 4
    (2, 1, -2),  # epoch 5
]
AND_MISTAKES = [1, 3, 3, 2, 1, 0, 0, 0]  # per epoch; none after epoch 5


def and_trace_off(trainer):
    """How far a training loop is from the hand-worked AND trace: the number of (w1, w2, b) entries after
    the updates, plus the number of per-epoch mistake counts, that differ (0 = the hand computation)."""
    _, _, history, mistakes = train(X_BOOL, torch.tensor([0.0, 0.0, 0.0, 1.0]), epochs=len(AND_MISTAKES),
                                    trainer=trainer)
    got = [(*h_w.tolist(), h_b.item()) for h_w, h_b in history]
    padded = got + [None] * (len(AND_TRACE) - len(got))
    entries = sum(a != b for g, e in zip(padded, AND_TRACE) for a, b in zip(g or (None,) * 3, e))
    return entries + abs(len(got) - len(AND_TRACE)) + sum(a != b for a, b in zip(mistakes, AND_MISTAKES))


def test_and_trace_matches_hand_computation():
    assert and_trace_off(train_perceptron) == 0
    w, b, _, _ = train(X_BOOL, torch.tensor([0.0, 0.0, 0.0, 1.0]))
    assert w.tolist() == [2.0, 1.0] and b.item() == -2.0
    assert predict(w, b, X_BOOL).tolist() == [0, 0, 0, 1]  # the page's formula agrees: it computes AND


@pytest.mark.parametrize("lr", [0.25, 0.1, 3.0])
def test_learning_rate_only_rescales_from_zero_init(lr):
    x, y, _ = separable(60, 2, 0.05, seed=3)
    w1, b1, h1, m1 = train(x, y, lr=1.0)
    w2, b2, h2, m2 = train(x, y, lr=lr)
    assert m1 == m2 and len(h1) == len(h2)
    torch.testing.assert_close(w2, lr * w1)
    torch.testing.assert_close(b2, lr * b1)


@pytest.mark.parametrize("seed, n, d, gap", [(0, 50, 2, 0.1), (1, 200, 2, 0.02), (2, 100, 5, 0.05), (3, 300, 10, 0.05)])
def test_convergence_within_novikoff_bound(seed, n, d, gap):
    x, y, u = separable(n, d, gap, seed)
    w, b, history, mistakes = train(x, y)
    assert mistakes[-1] == 0 and mistakes[-2] == 0  # converged (the snippet keeps running its epochs)
    assert torch.equal(predict(w, b, x), y)  # separates the training set
    x_aug = torch.cat([x, torch.ones(n, 1)], dim=1)
    s = 2 * y - 1
    gamma = (s * (x_aug @ u)).min()
    radius = x_aug.norm(dim=1).max()
    assert gamma >= gap - 1e-12
    assert len(history) <= (radius / gamma) ** 2
    # the two inequalities of the proof, after every update t: u^T w_t >= t gamma, |w_t|^2 <= t R^2 (lr = 1)
    for t, (w_t, b_t) in enumerate(history, start=1):
        w_aug = torch.cat([w_t, b_t.view(1)])
        assert u @ w_aug >= t * gamma - 1e-9
        assert w_aug @ w_aug <= t * radius**2 + 1e-9


def test_sgd_on_perceptron_criterion_is_the_same_update():
    # one step of gradient descent on -(2y - 1) z for a misclassified example equals the rule
    torch.manual_seed(4)
    for _ in range(20):
        w, b, x = torch.randn(3, requires_grad=True), torch.randn((), requires_grad=True), torch.randn(3)
        y = 1.0 - predict(w.detach(), b.detach(), x)  # make the example misclassified
        loss = -(2 * y - 1) * weighted_sum(w, b, x)
        gw, gb = torch.autograd.grad(loss, [w, b])
        w_rule, b_rule = update(w.detach(), b.detach(), x, y, lr=0.3)
        torch.testing.assert_close(w.detach() - 0.3 * gw, w_rule)
        torch.testing.assert_close(b.detach() - 0.3 * gb, b_rule)


def test_updates_never_stop_on_xor():
    _, _, _, mistakes = train(X_BOOL, XOR, epochs=200)
    assert len(mistakes) == 200 and min(mistakes) >= 1


# ---------------------------------------------------------------- XOR is not linearly separable
def test_no_line_gets_xor_right_but_every_other_gate_is_found():
    g = torch.linspace(-2, 2, 41)  # steps of 0.1
    W = torch.cartesian_prod(g, g, g)  # rows (w1, w2, b): every line on the grid
    pred = step(X_BOOL @ W[:, :2].T + W[:, 2])  # (4, 41^3)
    tables = torch.tensor(list(itertools.product([0.0, 1.0], repeat=4)))  # all 16 functions
    best = (pred[None] == tables[:, :, None]).to(pred.dtype).mean(dim=1).max(dim=1).values
    assert best[tables.tolist().index(XOR.tolist())].item() == 0.75
    # the search is strong enough: all 14 other Boolean functions of two inputs are realised
    for table, acc in zip(tables.tolist(), best.tolist()):
        if table in ([0, 1, 1, 0], [1, 0, 0, 1]):  # XOR and XNOR
            assert acc == 0.75
        else:
            assert acc == 1.0, table


def test_xor_inequalities_contradict():
    # the four inequalities of the page: b <= 0, w2 + b > 0, w1 + b > 0, w1 + w2 + b <= 0
    torch.manual_seed(5)
    w1, w2, b = (torch.randn(200000) * 3 for _ in range(3))
    ok = (b <= 0) & (w2 + b > 0) & (w1 + b > 0) & (w1 + w2 + b <= 0)
    assert not ok.any()
    # while dropping any one of them leaves a satisfiable system
    conds = [b <= 0, w2 + b > 0, w1 + b > 0, w1 + w2 + b <= 0]
    for i in range(4):
        rest = torch.stack([c for j, c in enumerate(conds) if j != i]).all(dim=0)
        assert rest.any()


# ---------------------------------------------------------------- two layers solve XOR
def test_hand_set_two_layer_network():
    W1 = torch.tensor([[1.0, 1.0], [-1.0, -1.0]])
    b1 = torch.tensor([-0.5, 1.5])
    w2, b2 = torch.tensor([1.0, 1.0]), -1.5
    h = step(X_BOOL @ W1.T + b1)
    assert h.tolist() == [[0, 1], [1, 1], [1, 1], [1, 0]]  # the hidden table on the page
    assert step(h @ w2 + b2).tolist() == XOR.tolist()
    # the same network is AND(OR, NAND) of the gate perceptrons
    OR = predict(torch.tensor([1.0, 1.0]), torch.tensor(-0.5), X_BOOL)
    NAND = predict(torch.tensor([-1.0, -1.0]), torch.tensor(1.5), X_BOOL)
    AND = predict(torch.tensor([1.0, 1.0]), torch.tensor(-1.5), torch.stack([OR, NAND], dim=1))
    assert AND.tolist() == XOR.tolist()
    # and it is robust: the same network on noisy corners (noise below 0.2) is still XOR
    g = torch.Generator().manual_seed(8)
    noisy = X_BOOL.repeat(50, 1) + (torch.rand(200, 2, generator=g) - 0.5) * 0.4
    assert torch.equal(step(step(noisy @ W1.T + b1) @ w2 + b2), XOR.repeat(50))


def test_relu_solution_and_product_feature():
    W, c = torch.tensor([[1.0, 1.0], [1.0, 1.0]]), torch.tensor([0.0, -1.0])
    w, b = torch.tensor([1.0, -2.0]), 0.0
    assert (torch.relu(X_BOOL @ W + c) @ w + b).tolist() == XOR.tolist()
    phi = torch.stack([X_BOOL[:, 0], X_BOOL[:, 1], X_BOOL[:, 0] * X_BOOL[:, 1]], dim=1)
    assert step(phi @ torch.tensor([1.0, 1.0, -2.0]) - 0.5).tolist() == XOR.tolist()
    # with the product feature the perceptron rule itself now converges on XOR
    w_f, b_f, _, mistakes = train(phi, XOR)
    assert mistakes[-1] == 0 and predict(w_f, b_f, phi).tolist() == XOR.tolist()


# ---------------------------------------------------------------- mutation tests
def with_step(step_fn):
    """The snippet's train_perceptron, unchanged, but calling a different step function."""
    f = train_perceptron
    return types.FunctionType(f.__code__, {**f.__globals__, "step": step_fn}, f.__name__, f.__defaults__)


WRONG_TRAINERS = {
    # w <- w - lr (y - y_hat) x: the sign of the rule flipped (the snippet's loop with lr = -1)
    "update sign flipped": lambda x, y, epochs, lr: train_perceptron(x, y, epochs=epochs, lr=-lr),
    "step with H(0) = 1": with_step(lambda z: (z >= 0).astype(float)),
    "sign(z) as the output with 0/1 labels": with_step(np.sign),
}


@pytest.mark.parametrize("name", list(WRONG_TRAINERS))
def test_wrong_learning_rules_are_caught(name):
    assert and_trace_off(train_perceptron) == 0  # the snippet's loop reproduces the hand trace ...
    off = and_trace_off(WRONG_TRAINERS[name])
    assert off > 0, f"{name}: reproduces the hand-worked trace"  # ... a wrong rule does not


@pytest.mark.parametrize("name,wrong", [
    ("OR weights", ([1.0, 1.0], -0.5)),  # the classic mistake: the OR row used for AND
    ("weights' sign flipped too (NAND's row)", ([-1.0, -1.0], 1.5)),
    ("threshold 1.5 read as the bias (theta = -b)", ([1.0, 1.0], 1.5)),
])
def test_wrong_gate_weights_are_caught(name, wrong):
    w, b = wrong
    assert predict(torch.tensor([1.0, 1.0]), torch.tensor(-1.5), X_BOOL).tolist() == [0, 0, 0, 1]
    assert predict(torch.tensor(w), torch.tensor(b), X_BOOL).tolist() != [0, 0, 0, 1], name


# ---------------------------------------------------------------- the numbers the figures back
@pytest.fixture(scope="module")
def snippet_run():
    """The snippet's top-level values after a full run, as a reader runs it (figures off-screen)."""
    return run_snippet("perceptron")


def test_figure_numbers_on_the_page(snippet_run):
    run = snippet_run
    # Figure 2: "reach 0 after 17 updates in three epochs (Novikoff's bound for these data is about 1200)"
    assert run["updates_sep"] == 17 == sum(run["mistakes_sep"])
    assert run["epochs_with_mistakes"] == 3 and all(m > 0 for m in run["mistakes_sep"][:3])
    assert all(m == 0 for m in run["mistakes_sep"][3:])
    assert abs(run["novikoff_bound"] - 1200) < 25  # about 1200 (1195): far above the 17 updates made
    # "on noisy XOR data they never do"
    assert min(run["mistakes_xor"]) > 0
    # Figure 3: the best line gets three of the four clusters (75%), both two-layer networks all of them
    assert max(run["acc_history"]) == 75.0
    assert run["acc_hand"] == 100.0 and run["acc_mlp"] == 100.0
    # the page shows three figures: the diagram, the training run, the decision regions
    assert run["figures"] == 3, f"the snippet left {run['figures']} figures open, the page shows 3"
