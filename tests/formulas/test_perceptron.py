"""Formula tests for docs/*/neural-networks/perceptron.md.

The perceptron, its learning rule and the XOR argument are written from scratch, exactly as
printed on the page, and checked against hand computations, against Novikoff's bound, and
against exhaustive searches over weights.
"""

import itertools

import pytest
import torch

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


def train(x, y, lr=1.0, max_epochs=1000):
    """Visit the examples in order; stop after an epoch without mistakes.

    Returns the final (w, b), the (w, b) after every update, and the mistakes per epoch.
    """
    w, b = torch.zeros(x.shape[1]), torch.tensor(0.0)
    history, mistakes = [], []
    for _ in range(max_epochs):
        errors = 0
        for xi, yi in zip(x, y):
            if predict(w, b, xi) != yi:
                errors += 1
                w, b = update(w, b, xi, yi, lr)
                history.append((w.clone(), b.clone()))
            else:  # a correct prediction must leave the weights unchanged
                w2, b2 = update(w, b, xi, yi, lr)
                assert torch.equal(w2, w) and torch.equal(b2, b)
        mistakes.append(errors)
        if errors == 0:
            break
    return w, b, history, mistakes


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
    origin_foot = -b * w / (w @ w)
    torch.testing.assert_close(origin_foot.norm(), b.abs() / w.norm())
    # positive rescaling changes nothing
    for c in (1e-3, 0.5, 7.0):
        torch.testing.assert_close(predict(c * w, c * b, x), predict(w, b, x))


def test_without_bias_nand_is_impossible():
    # H(w^T 0) = H(0) = 0 for every w, but NAND(0, 0) = 1
    g = torch.linspace(-3, 3, 61)
    W = torch.cartesian_prod(g, g)
    assert torch.all(step(torch.zeros(2) @ W.T) == 0)


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
def test_and_trace_matches_hand_computation():
    """AND, lr = 1, w = 0, b = 0, order (0,0), (0,1), (1,0), (1,1): worked out by hand."""
    expected = [  # (w1, w2, b) after each of the 10 updates
        (1, 1, 1), (1, 1, 0), (1, 0, -1), (2, 1, 0),  # epochs 1 and 2
        (2, 0, -1), (1, 0, -2), (2, 1, -1),  # epoch 3
        (1, 1, -2), (2, 2, -1),  # epoch 4
        (2, 1, -2),  # epoch 5
    ]
    w, b, history, mistakes = train(X_BOOL, torch.tensor([0.0, 0.0, 0.0, 1.0]))
    assert [(*h_w.tolist(), h_b.item()) for h_w, h_b in history] == expected
    assert mistakes == [1, 3, 3, 2, 1, 0]
    assert w.tolist() == [2.0, 1.0] and b.item() == -2.0


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
    assert mistakes[-1] == 0
    assert torch.equal(predict(w, b, x), y)  # separates the training set
    x_aug = torch.cat([x, torch.ones(n, 1)], dim=1)
    s = 2 * y - 1
    gamma = (s * (x_aug @ u)).min()
    radius = x_aug.norm(dim=1).max()
    assert gamma >= gap - 1e-12
    assert len(history) <= (radius / gamma) ** 2
    # the two inequalities of the proof, after every update k
    for k, (w_k, b_k) in enumerate(history, start=1):
        w_aug = torch.cat([w_k, b_k.view(1)])
        assert u @ w_aug >= k * gamma - 1e-9
        assert w_aug @ w_aug <= k * radius**2 + 1e-9


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
    _, _, _, mistakes = train(X_BOOL, XOR, max_epochs=200)
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


def test_midpoint_identity_for_affine_functions():
    torch.manual_seed(6)
    w, b = torch.randn(1000, 2), torch.randn(1000)
    f = X_BOOL @ w.T + b  # (4, 1000)
    mid = torch.tensor([0.5, 0.5]) @ w.T + b
    torch.testing.assert_close(mid, (f[1] + f[2]) / 2)
    torch.testing.assert_close(mid, (f[0] + f[3]) / 2)


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
