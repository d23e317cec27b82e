"""Formula tests for docs/*/neural-networks/backpropagation.md.

The backward pass is written by hand, following the chain-rule equations printed on the
page (gate rules, linear-layer gradients, the MLP recursion for delta), and compared with
PyTorch autograd for every parameter. The mutation tests at the end run wrong gate rules and
wrong backward recursions (sign, missing transpose, f' at the wrong layer, ...) through the
same comparisons (gate_rules_off, mlp_backward_off).
The numbers the page states about Figure 3 (per-layer factors, the size of the gradient at the
input layer, the weight gradients against He initialization) are computed by the snippet's own
functions (snippets/backpropagation.py) and asserted at the precision the page states them.
"""

import functools
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from snippet_code import snippet_function

pytestmark = pytest.mark.usefixtures("float64")


TOL = dict(rtol=1e-10, atol=1e-12)


def gen(seed):
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------- the tiny expression and the gate rules
def tiny_backward(x, y, z):
    """f = (x + y) * max(y, z), backward by the gate rules on the page."""
    q = x + y  # add gate
    m = max(y, z)  # max gate
    f = q * m  # multiply gate
    df_df = 1.0
    df_dq = df_df * m  # multiply: upstream times the OTHER input
    df_dm = df_df * q
    df_dx = df_dq * 1.0  # add: upstream copied to every input
    df_dy_add = df_dq * 1.0
    df_dy_max = df_dm * (1.0 if y > z else 0.0)  # max: upstream routed to the larger input
    df_dz = df_dm * (1.0 if z > y else 0.0)
    df_dy = df_dy_add + df_dy_max  # fan-out: y feeds two gates, the gradients add
    return f, (df_dx, df_dy, df_dz)


def test_tiny_expression_values_on_the_page():
    """x = 3, y = 2, z = -1: f = 10 and (df/dx, df/dy, df/dz) = (2, 7, 0) on the page, by hand and by autograd."""
    f, grads = tiny_backward(3.0, 2.0, -1.0)
    assert f == 10.0 and grads == (2.0, 7.0, 0.0)
    leaves = [torch.tensor(v, requires_grad=True) for v in (3.0, 2.0, -1.0)]
    out = (leaves[0] + leaves[1]) * torch.maximum(leaves[1], leaves[2])
    assert out.item() == 10.0 and [g.item() for g in torch.autograd.grad(out, leaves)] == [2.0, 7.0, 0.0]


def gate_rules_off(backward, seeds=range(8)):
    """backward(x, y, z) -> (f, (df/dx, df/dy, df/dz)) for f = (x + y) max(y, z), against autograd at random
    points; the worst difference in units of the tolerance (rel 1e-14, abs 1e-15)."""
    worst = 0.0
    for seed in seeds:
        x, y, z = torch.randn(3, generator=gen(seed)).unbind()
        leaves = [t.clone().requires_grad_(True) for t in (x, y, z)]
        out = (leaves[0] + leaves[1]) * torch.maximum(leaves[1], leaves[2])
        auto = torch.autograd.grad(out, leaves)
        f, manual = backward(x.item(), y.item(), z.item())
        for a, b in zip((out, *auto), (f, *manual)):
            worst = max(worst, abs(a.item() - b) / (1e-15 + 1e-14 * abs(a.item())))
    return worst


def test_gate_rules_match_autograd():
    assert gate_rules_off(tiny_backward) <= 1.0


def test_fan_out_gradients_add():
    g = gen(10)
    h = torch.randn(5, generator=g, requires_grad=True)
    A, B = torch.randn(3, 5, generator=g), torch.randn(4, 5, generator=g)
    # h feeds two branches: L = sum(tanh(A h)) + ||B h||^2
    L = torch.tanh(A @ h).sum() + (B @ h).pow(2).sum()
    (auto,) = torch.autograd.grad(L, h)
    branch1 = A.T @ (1 - torch.tanh(A @ h) ** 2)  # W^T (f'(z) * upstream), upstream = 1
    branch2 = B.T @ (2 * (B @ h))
    torch.testing.assert_close(auto, branch1 + branch2, **TOL)
    # the same variable used twice in one expression: d(x * x)/dx = x + x
    x = torch.tensor(1.7, requires_grad=True)
    (gx,) = torch.autograd.grad(x * x, x)
    assert gx.item() == pytest.approx(2 * 1.7)


def test_backward_accumulates_into_grad():
    # PyTorch adds each backward's gradients into .grad (hence optimizer.zero_grad())
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    x1, x2 = torch.tensor([3.0, 4.0]), torch.tensor([-1.0, 0.5])
    (w @ x1).backward()
    (w @ x2).backward()
    torch.testing.assert_close(w.grad, x1 + x2, **TOL)


def test_sigmoid_neuron_local_gradient():
    g = gen(11)
    w, x = torch.randn(4, generator=g, requires_grad=True), torch.randn(4, generator=g)
    s = torch.sigmoid(w @ x)
    (gw,) = torch.autograd.grad(s, w)
    sv = s.detach()
    torch.testing.assert_close(gw, sv * (1 - sv) * x, **TOL)  # sigma'(z) = sigma(z)(1 - sigma(z)), dz/dw = x


# ---------------------------------------------------------------- linear layer: Jacobians and VJPs
@pytest.mark.parametrize("m, n", [(1, 1), (3, 5), (7, 2)])
def test_linear_layer_single_example(m, n):
    g = gen(20 + m + n)
    W = torch.randn(m, n, generator=g, requires_grad=True)
    b = torch.randn(m, generator=g, requires_grad=True)
    h = torch.randn(n, generator=g, requires_grad=True)
    delta = torch.randn(m, generator=g)  # upstream gradient dL/dz
    z = W @ h + b
    L = (delta * z).sum()  # any L with dL/dz = delta
    gW, gb, gh = torch.autograd.grad(L, [W, b, h])
    torch.testing.assert_close(gW, torch.outer(delta, h.detach()), **TOL)  # delta h^T
    torch.testing.assert_close(gb, delta, **TOL)
    torch.testing.assert_close(gh, W.detach().T @ delta, **TOL)  # W^T delta


def test_vector_jacobian_product():
    g = gen(21)
    x = torch.randn(4, generator=g, requires_grad=True)
    A = torch.randn(3, 4, generator=g)
    fn = lambda t: torch.tanh(A @ t) * t[:3]  # noqa: E731  an arbitrary R^4 -> R^3 map
    v = torch.randn(3, generator=g)  # dL/dy
    (vjp,) = torch.autograd.grad(fn(x), x, grad_outputs=v)
    J = torch.autograd.functional.jacobian(fn, x.detach())  # dy/dx, shape (3, 4)
    torch.testing.assert_close(vjp, J.T @ v, **TOL)  # grad_x L = J^T grad_y L


@pytest.mark.parametrize("B, n, m", [(1, 3, 2), (16, 5, 4)])
def test_linear_layer_batch_form(B, n, m):
    g = gen(22 + B)
    torch.manual_seed(22 + B)  # nn.Linear's initial weights
    layer = nn.Linear(n, m)
    H = torch.randn(B, n, generator=g, requires_grad=True)
    G = torch.randn(B, m, generator=g)  # upstream gradient, one row per example
    Z = layer(H)  # rows: Z = H W^T + 1 b^T
    gW, gb, gH = torch.autograd.grad((G * Z).sum(), [layer.weight, layer.bias, H])
    torch.testing.assert_close(gW, G.T @ H.detach(), **TOL)  # sum over examples of delta_i h_i^T
    torch.testing.assert_close(gb, G.sum(0), **TOL)
    torch.testing.assert_close(gH, G @ layer.weight.detach(), **TOL)
    # the weight is shared by (fans out to) every example: the batch gradient is the sum
    per_example = sum(torch.outer(G[i], H[i].detach()) for i in range(B))
    torch.testing.assert_close(gW, per_example, **TOL)


# ---------------------------------------------------------------- the full MLP with softmax cross-entropy
ACTS = {
    "tanh": (torch.tanh, lambda z: 1 - torch.tanh(z) ** 2),
    "sigmoid": (torch.sigmoid, lambda z: torch.sigmoid(z) * (1 - torch.sigmoid(z))),
    "relu": (F.relu, lambda z: (z > 0).double()),
}


class PageRules:
    """The page's backward equations, one per method, so that a mutant can replace exactly one."""

    @staticmethod
    def output_delta(p, e_y):  # delta^(D) = p - e_y
        return p - e_y

    @staticmethod
    def weight_grad(delta, h_in):  # dW^(l) = delta^(l) h^(l-1)^T
        return torch.outer(delta, h_in)

    @staticmethod
    def propagate(W, delta, f_prime, z_below, z_here):  # delta^(l-1) = f'(z^(l-1)) * (W^(l)^T delta^(l))
        return f_prime(z_below) * (W.T @ delta)

    @staticmethod
    def average(total, B):  # the loss is the mean over the B examples
        return total / B


def mlp_backward(params, X, y, f, f_prime, rules=PageRules):
    """Forward and backward pass of an MLP, one example at a time, column-vector equations.

    z^(l) = W^(l) h^(l-1) + b^(l), h^(l) = f(z^(l)), logits z^(D), loss -log softmax(z^(D))_y,
    averaged over the B examples.
    delta^(D) = p - e_y; dW^(l) = delta^(l) h^(l-1)^T; db^(l) = delta^(l);
    delta^(l-1) = f'(z^(l-1)) * (W^(l)^T delta^(l)).
    """
    B, C = X.shape[0], params[-1][0].shape[0]
    grads = [(torch.zeros_like(W), torch.zeros_like(b)) for W, b in params]
    total = 0.0
    for i in range(B):
        h, zs, hs = X[i], [], [X[i]]
        for idx, (W, b) in enumerate(params):  # forward pass: store z and h
            z = W @ h + b
            zs.append(z)
            h = z if idx == len(params) - 1 else f(z)
            hs.append(h)
        logits = zs[-1]
        lse = logits.max() + torch.log(torch.exp(logits - logits.max()).sum())
        total += lse - logits[y[i]]
        p = torch.exp(logits - lse)
        delta = rules.output_delta(p, F.one_hot(y[i], C).double())  # dL/dz^(D)
        for idx in range(len(params) - 1, -1, -1):  # backward pass
            W, _ = params[idx]
            gW, gb = grads[idx]
            gW += rules.weight_grad(delta, hs[idx])  # delta h^T (hs[idx] is the layer's input)
            gb += delta
            if idx > 0:
                delta = rules.propagate(W, delta, f_prime, zs[idx - 1], zs[idx])
    return total / B, [(rules.average(gW, B), rules.average(gb, B)) for gW, gb in grads]


def tolerances_off(actual, expected):
    """How many tolerances (TOL) the worst entry is off (<= 1 passes assert_close(**TOL)); NaN counts as inf."""
    if actual.shape != expected.shape:
        return math.inf
    off = (actual - expected).abs() / (TOL["atol"] + TOL["rtol"] * expected.abs())
    return off.nan_to_num(nan=math.inf).max().item()


def mlp_backward_off(act, sizes, B, rules=PageRules):
    """mlp_backward's loss and gradients against F.cross_entropy and autograd on an nn.Linear stack, in tolerances."""
    g = gen(30 + B + len(sizes))
    f, f_prime = ACTS[act]
    net = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        net.append(nn.Linear(n_in, n_out))
    with torch.no_grad():
        for layer in net:
            layer.weight.copy_(torch.randn(layer.weight.shape, generator=g))
            layer.bias.copy_(torch.randn(layer.bias.shape, generator=g) * 0.5)
    X = torch.randn(B, sizes[0], generator=g)
    y = torch.randint(0, sizes[-1], (B,), generator=g)

    h = X
    for k, layer in enumerate(net):
        h = layer(h) if k == len(net) - 1 else f(layer(h))
    loss = F.cross_entropy(h, y)
    params = [p for layer in net for p in (layer.weight, layer.bias)]
    auto = torch.autograd.grad(loss, params)

    manual_loss, manual = mlp_backward([(l.weight.detach(), l.bias.detach()) for l in net], X, y, f, f_prime, rules)
    flat = [t for pair in manual for t in pair]
    return max(tolerances_off(manual_loss, loss.detach()), *(tolerances_off(m, a) for a, m in zip(auto, flat)))


@pytest.mark.parametrize("act", list(ACTS))
@pytest.mark.parametrize("sizes", [(4, 6, 3), (5, 8, 7, 4)])
@pytest.mark.parametrize("B", [1, 12])
def test_mlp_hand_written_backward_matches_autograd(act, sizes, B):
    assert mlp_backward_off(act, sizes, B) <= 1.0


def test_batch_matrix_form_of_the_mlp_backward():
    # Delta^(D) = (P - Y) / B, dW = Delta^T H, db = Delta^T 1, Delta^(l-1) = f'(Z^(l-1)) * (Delta^(l) W^(l))
    g = gen(40)
    B, sizes = 16, (6, 10, 10, 5)
    Ws = [torch.randn(o, i, generator=g) / math.sqrt(i) for i, o in zip(sizes[:-1], sizes[1:])]
    bs = [torch.randn(o, generator=g) * 0.1 for o in sizes[1:]]
    X = torch.randn(B, sizes[0], generator=g)
    y = torch.randint(0, sizes[-1], (B,), generator=g)
    leaves = [t.clone().requires_grad_(True) for t in Ws + bs]
    Wl, bl = leaves[:3], leaves[3:]

    H, Hs, Zs = X, [X], []
    for k in range(3):
        Z = H @ Wl[k].T + bl[k]
        Zs.append(Z)
        H = Z if k == 2 else torch.tanh(Z)
        Hs.append(H)
    loss = F.cross_entropy(Zs[-1], y)
    auto = torch.autograd.grad(loss, leaves)

    Delta = (torch.softmax(Zs[-1].detach(), 1) - F.one_hot(y, sizes[-1]).double()) / B
    dW, db = [None] * 3, [None] * 3
    for k in (2, 1, 0):
        dW[k] = Delta.T @ Hs[k].detach()
        db[k] = Delta.sum(0)
        if k > 0:
            Delta = (1 - torch.tanh(Zs[k - 1].detach()) ** 2) * (Delta @ Ws[k])
    for a, m in zip(auto, dW + db):
        torch.testing.assert_close(m, a, **TOL)


def test_backprop_agrees_with_finite_differences():
    g = gen(41)
    W1, W2 = torch.randn(5, 3, generator=g), torch.randn(2, 5, generator=g)
    x, y = torch.randn(3, generator=g), torch.tensor([1])

    def loss_of(w1):
        return F.cross_entropy((W2 @ torch.tanh(w1 @ x)).unsqueeze(0), y)

    w = W1.clone().requires_grad_(True)
    (auto,) = torch.autograd.grad(loss_of(w), w)
    eps, numeric = 1e-6, torch.zeros_like(W1)
    for idx in range(W1.numel()):  # 2 forward passes per parameter
        e = torch.zeros(W1.numel())
        e[idx] = eps
        e = e.view_as(W1)
        numeric.view(-1)[idx] = (loss_of(W1 + e) - loss_of(W1 - e)) / (2 * eps)
    torch.testing.assert_close(numeric, auto, rtol=1e-7, atol=1e-9)


# ---------------------------------------------------------------- vanishing and exploding gradients
def test_delta_is_a_product_of_per_layer_factors_and_obeys_the_bound():
    g = gen(50)
    depth, width = 12, 16
    Ws = [torch.randn(width, width, generator=g) / math.sqrt(width) for _ in range(depth)]
    x = torch.randn(width, generator=g)
    zs, h = [], x
    for W in Ws:
        z = W @ h
        zs.append(z)
        h = torch.sigmoid(z)
    delta_D = torch.randn(width, generator=g)  # dL/dz at the top layer
    # delta^(l) = S^(l) W^(l+1)^T S^(l+1) ... W^(D)^T delta^(D), S = diag(sigma'(z))
    deltas = [delta_D]
    for k in range(depth - 2, -1, -1):
        S = torch.diag(torch.sigmoid(zs[k]) * (1 - torch.sigmoid(zs[k])))
        deltas.insert(0, S @ Ws[k + 1].T @ deltas[0])
    # same thing through autograd with a graph
    leaves = [z.clone().requires_grad_(True) for z in zs[:1]]
    zz, auto_zs = leaves[0], [leaves[0]]
    for W in Ws[1:]:
        zz = W @ torch.sigmoid(zz)
        zz.retain_grad()
        auto_zs.append(zz)
    (zz * delta_D).sum().backward()
    for k in range(depth):
        torch.testing.assert_close(auto_zs[k].grad, deltas[k], **TOL)
    # one step down: ||delta^(l)|| <= max|f'| ||W^(l+1)||_2 ||delta^(l+1)|| <= ||W||_2 / 4 ...
    for k in range(depth - 1):
        fmax = (torch.sigmoid(zs[k]) * (1 - torch.sigmoid(zs[k]))).max()
        bound = fmax * torch.linalg.matrix_norm(Ws[k + 1], ord=2) * deltas[k + 1].norm()
        assert deltas[k].norm() <= bound + 1e-12
        assert fmax <= 0.25
    # ... so the total shrink is at most the product of the per-layer bounds
    prod = math.prod(0.25 * torch.linalg.matrix_norm(W, ord=2).item() for W in Ws[1:])
    assert deltas[0].norm() <= prod * delta_D.norm()


@pytest.mark.parametrize("c, direction", [(0.5, "vanish"), (2.0, "explode")])
def test_scaled_relu_network_scales_the_gradient_geometrically(c, direction):
    # bias-free ReLU network: scaling every weight by c scales dL/dz^(l) for a linear top
    # loss by exactly c^(D - l): ReLU'(c z) = ReLU'(z)
    g = gen(51)
    depth, width = 10, 8
    Ws = [torch.randn(width, width, generator=g) for _ in range(depth)]
    x, v = torch.randn(width, generator=g), torch.randn(width, generator=g)

    def deltas(scale):
        h, zs = x.clone().requires_grad_(True), []
        for W in Ws:
            z = (scale * W) @ h
            z.retain_grad()
            zs.append(z)
            h = F.relu(z)
        (v @ zs[-1]).backward()
        return [z.grad for z in zs]

    base, scaled = deltas(1.0), deltas(c)
    for k in range(depth):
        torch.testing.assert_close(scaled[k], c ** (depth - 1 - k) * base[k], **TOL)
    ratio = scaled[0].norm() / base[0].norm()
    assert (ratio < 1e-2) if direction == "vanish" else (ratio > 1e2)


# ---------------------------------------------------------------- the numbers the page states about Figure 3
SNIPPET = snippet_function("backpropagation", "gradient_norms", "per_layer_factor", "stated_numbers", "SETUPS")
PAGES = [Path(__file__).resolve().parents[2] / "docs" / lang / "neural-networks" / "backpropagation.md" for lang in ("en", "ko")]


@functools.cache
def figure3_numbers():
    """The snippet's stated_numbers for Figure 3, computed as the snippet computes them (float32)."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    try:
        results = {name: SNIPPET["gradient_norms"](act, std) for name, (act, std) in SNIPPET["SETUPS"].items()}
        return SNIPPET["stated_numbers"](results)
    finally:
        torch.set_default_dtype(old)


def sig(x, digits=2):
    """x rounded to `digits` significant figures, as the page writes it."""
    return float(f"{x:.{digits}g}")


def test_figure3_per_layer_factors_are_the_stated_ones():
    got = figure3_numbers()
    # sigmoid with Xavier: 0.24 per layer (0.23 was stated before; it rounds to 0.24)
    assert round(got["factor, sigmoid, Xavier"], 2) == 0.24
    assert round(got["factor, ReLU, He"], 3) == 1.005
    assert round(got["factor, ReLU, 0.8 x He"], 2) == 0.80
    assert round(got["factor, ReLU, 1.25 x He"], 2) == 1.26
    # about 2 x 10^-20 at the input layer
    assert sig(got["||delta^(1)||, sigmoid"], 1) == 2e-20


def test_figure3_weight_gradients_against_he():
    got = figure3_numbers()
    # within a factor of 6 across the 30 layers for every ReLU setup
    assert all(got[f"weight-gradient spread over layers, ReLU, {s}"] < 6 for s in ("He", "0.8 x He", "1.25 x He"))
    low, high = got["0.8 x He: weight gradients smaller than He's by"]
    assert (sig(low), sig(high)) == (720, 2200)
    low, high = got["1.25 x He: weight gradients larger than He's by"]
    assert (sig(low), sig(high)) == (950, 1800)


def test_stated_numbers_appear_on_both_pages():
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for stated in ("0.24", "1.005", "0.80", "1.26", "2 × 10⁻²⁰", "720", "2,200", "950", "1,800"):
            assert stated in text, f"{page}: {stated!r}"


def test_powers_in_the_text():
    # over 30 layers: 0.8^30 is about 10^-3, 1.25^30 about 800
    assert sig(0.8**30, 1) == 1e-3 and sig(1.25**30, 1) == 800


# ---------------------------------------------------------------- mutation tests
def backward_max_to_smaller(x, y, z):
    """Slip: the max gate routes the gradient to the smaller input."""
    f, (dx, _, _) = tiny_backward(x, y, z)
    q, m = x + y, max(y, z)
    return f, (dx, m + (q if y < z else 0.0), q if z < y else 0.0)


def backward_mul_own_input(x, y, z):
    """Slip: the multiply gate passes upstream times the SAME input (df/dq = q)."""
    f, _ = tiny_backward(x, y, z)
    q, m = x + y, max(y, z)
    return f, (q, q + (q if y > z else 0.0), q if z > y else 0.0)


def backward_fan_out_overwrites(x, y, z):
    """Slip: y feeds two gates, but only the last gradient is kept instead of the sum."""
    f, (dx, _, dz) = tiny_backward(x, y, z)
    q = x + y
    return f, (dx, q if y > z else 0.0, dz)


@pytest.mark.parametrize("wrong", [backward_max_to_smaller, backward_mul_own_input, backward_fan_out_overwrites],
                         ids=lambda f: f.__name__)
def test_wrong_gate_rules_are_caught(wrong):
    assert gate_rules_off(tiny_backward) <= 1.0
    assert gate_rules_off(wrong) > 1e6


class YMinusP(PageRules):
    output_delta = staticmethod(lambda p, e_y: e_y - p)


class NoTranspose(PageRules):  # W delta instead of W^T delta (runs for square layers)
    propagate = staticmethod(lambda W, delta, f_prime, z_below, z_here: f_prime(z_below) * (W @ delta))


class DerivativeAtTheWrongLayer(PageRules):  # f'(z^(l)) instead of f'(z^(l-1))
    propagate = staticmethod(lambda W, delta, f_prime, z_below, z_here: f_prime(z_here) * (W.T @ delta))


class ActivationInsteadOfDerivative(PageRules):  # f(z) instead of f'(z)
    propagate = staticmethod(lambda W, delta, f_prime, z_below, z_here: ACTS_BY_PRIME[f_prime](z_below) * (W.T @ delta))


class TransposedWeightGradient(PageRules):  # h delta^T (runs for square layers)
    weight_grad = staticmethod(lambda delta, h_in: torch.outer(h_in, delta))


class SummedNotAveraged(PageRules):
    average = staticmethod(lambda total, B: total)


ACTS_BY_PRIME = {f_prime: f for f, f_prime in ACTS.values()}
RULE_MUTANTS = [YMinusP, NoTranspose, DerivativeAtTheWrongLayer, ActivationInsteadOfDerivative,
                TransposedWeightGradient, SummedNotAveraged]


@pytest.mark.parametrize("rules", RULE_MUTANTS, ids=lambda r: r.__name__)
@pytest.mark.parametrize("act", list(ACTS))
def test_wrong_backward_recursions_are_caught(rules, act):
    sizes, B = (6, 6, 6, 6), 12  # square layers, so that the transpose slips run
    assert mlp_backward_off(act, sizes, B) <= 1.0
    assert mlp_backward_off(act, sizes, B, rules) > 1e6
