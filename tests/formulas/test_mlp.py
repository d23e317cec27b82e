"""Formula tests for docs/*/neural-networks/mlp.md.

The forward pass is written from scratch with plain tensor ops, exactly as printed on the page
(per example, per entry, and in batch form), and compared with nn.Sequential(nn.Linear, ...)
holding the same weights. The parameter-count formulas are compared with sum(p.numel()), and
the pixel-permutation identity is checked for the forward pass, the gradients and training.
The mutation tests at the end run wrong forward passes and wrong counting formulas through the
same comparisons (forward_off, count_off) that accept the page's formulas. The numbers the page
states about its figures are read from a run of the whole snippet (test_figure_numbers_on_the_page).
"""

import math

import numpy as np
import pytest
import torch
from torch import nn

from snippet_code import run_snippet, SNIPPETS

TOL = dict(rtol=1e-12, atol=1e-12)


pytestmark = pytest.mark.usefixtures("float64")

ACTIVATIONS = {"relu": (nn.ReLU, torch.relu), "tanh": (nn.Tanh, torch.tanh), "sigmoid": (nn.Sigmoid, torch.sigmoid)}
ARCHITECTURES = [[2, 1], [3, 5, 2], [784, 256, 128, 10], [7, 16, 16, 16, 4]]


def make_mlp(sizes, act_module):
    """nn.Sequential(Linear, act, Linear, act, ..., Linear): no activation after the last layer."""
    layers = []
    for d_in, d_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(d_in, d_out), act_module()]
    return nn.Sequential(*layers[:-1])


def weights_of(net):
    linears = [m for m in net if isinstance(m, nn.Linear)]
    return [(m.weight.detach(), m.bias.detach()) for m in linears]


# ---------------------------------------------------------------- page formulas
def forward_single(params, f, x):
    """h^(l) = f(W^(l) h^(l-1) + b^(l)), h^(0) = x, identity after the last layer (one example)."""
    h = x
    for l, (W, b) in enumerate(params, start=1):
        z = W @ h + b  # (d_l, d_{l-1}) @ (d_{l-1},) + (d_l,)
        h = f(z) if l < len(params) else z
    return h


def forward_entrywise(params, f, x):
    """h_j^(l) = f(sum_i W_ji h_i^(l-1) + b_j), with explicit loops over j and i."""
    h = [float(v) for v in x]
    for l, (W, b) in enumerate(params, start=1):
        out = []
        for j in range(W.shape[0]):
            z = sum(float(W[j, i]) * h[i] for i in range(W.shape[1])) + float(b[j])
            out.append(float(f(torch.tensor(z))) if l < len(params) else z)
        h = out
    return torch.tensor(h)


def forward_batch(params, f, X):
    """H^(l) = f(H^(l-1) W^(l)T + 1_B b^(l)T), H^(0) = X of shape (B, d_0)."""
    H = X
    ones = torch.ones(X.shape[0], 1)
    for l, (W, b) in enumerate(params, start=1):
        Z = H @ W.T + ones @ b[None, :]  # (B, d_{l-1}) @ (d_{l-1}, d_l) + (B, 1) @ (1, d_l)
        assert Z.shape == (X.shape[0], W.shape[0])
        H = f(Z) if l < len(params) else Z
    return H


def parameter_count(sizes):
    """n = sum_{l=1}^{D} (d_{l-1} d_l + d_l)."""
    return sum(d_prev * d + d for d_prev, d in zip(sizes[:-1], sizes[1:]))


def dense_count(h, w, c, d_out):  # (H W C) d_out + d_out
    return h * w * c * d_out + d_out


def conv_count(k, c, c_out):  # k^2 C C_out + C_out
    return k * k * c * c_out + c_out


# ---------------------------------------------------------------- the comparisons
def tolerances_off(actual, expected):
    """How many tolerances (TOL) the worst entry is off: <= 1 is what assert_close(**TOL) accepts."""
    if actual.shape != expected.shape:
        return math.inf
    off = (actual - expected).abs() / (TOL["atol"] + TOL["rtol"] * expected.abs())
    return off.nan_to_num(nan=math.inf).max().item()  # a NaN where the reference has a number is a mismatch


def forward_off(forward, sizes, act, batch, seed):
    """Run a batch-form forward pass on the weights of nn.Sequential(Linear, act, ...) and compare."""
    torch.manual_seed(seed)
    module, f = ACTIVATIONS[act]
    net = make_mlp(sizes, module)
    X = torch.randn(batch, sizes[0])
    return tolerances_off(forward(weights_of(net), f, X), net(X).detach())


def count_off(count, sizes):
    """Formula's parameter count minus sum(p.numel()) of the nn.Sequential MLP (0 = right)."""
    return count(sizes) - sum(p.numel() for p in make_mlp(sizes, nn.ReLU).parameters())


# ---------------------------------------------------------------- forward pass
@pytest.mark.parametrize("sizes", ARCHITECTURES, ids=str)
@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("batch", [1, 5, 64])
def test_batch_forward_matches_nn_sequential(sizes, act, batch):
    assert forward_off(forward_batch, sizes, act, batch, seed=sum(sizes) + batch) <= 1.0


@pytest.mark.parametrize("sizes", ARCHITECTURES[:2] + ARCHITECTURES[3:], ids=str)
def test_single_example_and_entrywise_forms_match_nn_sequential(sizes):
    torch.manual_seed(len(sizes))
    net = make_mlp(sizes, nn.Tanh)
    params = weights_of(net)
    X = torch.randn(4, sizes[0])
    reference = net(X).detach()
    for i in range(4):  # each row of H^(D) is the single-example output, transposed
        assert tolerances_off(forward_single(params, torch.tanh, X[i]), reference[i]) <= 1.0
        assert tolerances_off(forward_entrywise(params, torch.tanh, X[i]), reference[i]) <= 1.0


def test_nn_linear_weight_has_shape_d_out_by_d_in():
    torch.manual_seed(0)
    layer = nn.Linear(7, 3)
    assert layer.weight.shape == (3, 7) and layer.bias.shape == (3,)
    x = torch.randn(7)
    torch.testing.assert_close(layer(x).detach(), layer.weight.detach() @ x + layer.bias.detach(), **TOL)


def test_without_activations_the_network_is_one_affine_map_but_not_with_them():
    torch.manual_seed(1)
    sizes = [3, 8, 8, 2]
    linear = nn.Sequential(*[nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])])  # no activations
    X = torch.randn(50, 3)
    W, b = torch.eye(3), torch.zeros(3)
    for W_l, b_l in weights_of(linear):  # compose the affine maps: W = W3 W2 W1, b = W3 (W2 b1 + b2) + b3
        W, b = W_l @ W, W_l @ b + b_l
    one_layer = nn.functional.linear(X, W, b)
    assert tolerances_off(one_layer, linear(X).detach()) <= 1.0
    with_relu = nn.Sequential(linear[0], nn.ReLU(), linear[1], nn.ReLU(), linear[2])  # the same layers
    assert tolerances_off(one_layer, with_relu(X).detach()) > 1e6


# ---------------------------------------------------------------- parameter counts
@pytest.mark.parametrize("sizes", ARCHITECTURES, ids=str)
def test_parameter_count_formula(sizes):
    assert count_off(parameter_count, sizes) == 0
    # the second form on the page, sum_l (d_{l-1} + 1) d_l
    assert count_off(lambda d: sum((a + 1) * b for a, b in zip(d[:-1], d[1:])), sizes) == 0


def numel(module):
    return sum(p.numel() for p in module.parameters())


def test_worked_examples_on_the_page():
    net = make_mlp([784, 256, 128, 10], nn.ReLU)
    assert [numel(m) for m in net if isinstance(m, nn.Linear)] == [200_960, 32_896, 1_290]  # the page's terms
    assert numel(net) == 235_146
    dense = nn.Linear(224 * 224 * 3, 1000, device="meta", dtype=torch.float32)
    assert dense_count(224, 224, 3, 1000) == numel(dense) == 150_529_000
    assert f"{numel(dense) / 1e6:.1f}" == "150.5"
    assert round(sum(p.numel() * p.element_size() for p in dense.parameters()) / 1e6) == 602  # MB in float32
    assert numel(nn.Conv2d(3, 64, kernel_size=3, device="meta")) == conv_count(3, 3, 64) == 1_792


def dense_numel(side, c, d_out):
    return numel(nn.Linear(side * side * c, d_out, device="meta"))


@pytest.mark.parametrize("k, c, c_out", [(3, 3, 64), (5, 16, 32), (1, 8, 8)])
@pytest.mark.parametrize("side", [8, 32, 224])
def test_dense_and_conv_counts(k, c, c_out, side):
    conv = nn.Conv2d(c, c_out, kernel_size=k, device="meta")
    assert conv_count(k, c, c_out) == numel(conv)  # independent of side
    assert dense_count(side, side, c, c_out) == dense_numel(side, c, c_out)
    # growth in the side length s, counted on nn.Linear: s^2 to a fixed width, s^4 to a feature map
    # as large as the input (C_out channels of size s x s)
    assert dense_numel(2 * side, c, 1000) - 1000 == 4 * (dense_numel(side, c, 1000) - 1000)
    same = lambda s: dense_numel(s, c, s * s * c_out) - s * s * c_out  # noqa: E731  weights only
    assert same(2 * side) == 16 * same(side)


def test_depth_adds_parameters_linearly():
    """Each extra 64-unit hidden layer adds (d_{l-1} + 1) d_l = 64 * 64 + 64 parameters to nn.Sequential."""
    counts = [numel(make_mlp([100] + [64] * n + [10], nn.ReLU)) for n in range(1, 8)]
    steps = [b - a for a, b in zip(counts[:-1], counts[1:])]
    assert steps == [(64 + 1) * 64] * len(steps)


# ---------------------------------------------------------------- pixel permutation
def permutation_matrix(perm):
    """P with (P x)_k = x_perm[k], so that x[:, perm] == x @ P.T."""
    n = len(perm)
    P = torch.zeros(n, n)
    P[torch.arange(n), perm] = 1.0
    return P


def test_permutation_matrix_conventions():
    torch.manual_seed(2)
    perm = torch.randperm(10)
    P = permutation_matrix(perm)
    x, W = torch.randn(4, 10), torch.randn(6, 10)
    torch.testing.assert_close(P.T @ P, torch.eye(10), **TOL)
    torch.testing.assert_close(x[:, perm], x @ P.T, **TOL)  # rows P x
    torch.testing.assert_close(W[:, perm], W @ P.T, **TOL)  # W P^T
    # W x = (W P^T)(P x), with the page's code for P x and W P^T
    torch.testing.assert_close(nn.functional.linear(x[:, perm], W[:, perm]), nn.functional.linear(x, W), **TOL)


@pytest.mark.parametrize("sizes", [[16, 8, 3], [64, 32, 32, 2]], ids=str)
def test_shuffled_inputs_with_shuffled_first_layer_give_identical_outputs_and_gradients(sizes):
    torch.manual_seed(3)
    net = make_mlp(sizes, nn.ReLU)
    params = weights_of(net)
    perm = torch.randperm(sizes[0])
    P = permutation_matrix(perm)
    X = torch.randn(20, sizes[0])
    shuffled = [(params[0][0] @ P.T, params[0][1])] + params[1:]  # W P^T, the rest unchanged
    # the page's formula on (W P^T, P x) gives what nn.Sequential gives on (W, x)
    assert tolerances_off(forward_batch(shuffled, torch.relu, X @ P.T), net(X).detach()) <= 1.0
    # the gradient with respect to W P^T is the gradient with respect to W, times P^T (autograd on both nets)
    net_s = make_mlp(sizes, nn.ReLU)
    net_s.load_state_dict(net.state_dict())
    with torch.no_grad():
        net_s[0].weight.copy_(net[0].weight @ P.T)
    target = torch.randn(20, sizes[-1])
    (g,) = torch.autograd.grad((net(X) - target).pow(2).mean(), net[0].weight)
    (g_s,) = torch.autograd.grad((net_s(X @ P.T) - target).pow(2).mean(), net_s[0].weight)
    assert tolerances_off(g_s, g @ P.T) <= 1.0
    # and shuffling the input alone does change the output: the identity is not trivial
    assert tolerances_off(net(X @ P.T).detach(), net(X).detach()) > 1e6


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_training_on_shuffled_pixels_is_identical(optimizer):
    """Train an MLP on images and a copy on shuffled images (first layer shuffled alike)."""
    torch.manual_seed(4)
    side = 6
    X = torch.randn(128, side * side)
    y = (X.view(-1, side, side)[:, :3, :].sum(dim=(1, 2)) > 0).long()  # a spatial rule
    perm = torch.randperm(side * side)
    net = make_mlp([side * side, 32, 2], nn.ReLU)
    net_s = make_mlp([side * side, 32, 2], nn.ReLU)
    net_s.load_state_dict(net.state_dict())
    with torch.no_grad():
        net_s[0].weight.copy_(net[0].weight[:, perm])
    opt_cls = {"sgd": lambda p: torch.optim.SGD(p, lr=0.1), "adam": lambda p: torch.optim.Adam(p, lr=0.01)}[optimizer]
    for model, inputs in [(net, X), (net_s, X[:, perm])]:
        opt = opt_cls(model.parameters())
        for _ in range(40):
            opt.zero_grad()
            nn.functional.cross_entropy(model(inputs), y).backward()
            opt.step()
    X_test = torch.randn(50, side * side)
    torch.testing.assert_close(net_s(X_test[:, perm]), net(X_test), rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(net_s[0].weight, net[0].weight[:, perm], rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------- mutation tests
def forward_transposed(params, f, X):
    """Slip: H W instead of H W^T (only runs for square layers)."""
    return forward_batch([(W.T, b) for W, b in params], f, X)


def forward_activation_on_output(params, f, X):
    """Slip: the activation is applied after the last layer too."""
    return f(forward_batch(params, f, X))


def forward_activation_before_affine(params, f, X):
    """Slip: h = W f(h) + b instead of f(W h + b)."""
    H = X
    for W, b in params:
        H = f(H) @ W.T + b
    return H


def forward_bias_per_example(params, f, X):
    """Slip: b 1_B^T (bias indexed by the example) instead of 1_B b^T (only runs when B = d_l)."""
    H = X
    for l, (W, b) in enumerate(params, start=1):
        Z = H @ W.T + b[:, None]
        H = f(Z) if l < len(params) else Z
    return H


FORWARD_MUTANTS = [forward_transposed, forward_activation_on_output, forward_activation_before_affine,
                   forward_bias_per_example]


@pytest.mark.parametrize("wrong", FORWARD_MUTANTS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("act", ACTIVATIONS)
def test_wrong_forward_passes_are_caught(wrong, act):
    sizes, batch = [6, 6, 6, 6], 6  # square everything, so that the shape slips run
    assert forward_off(forward_batch, sizes, act, batch, seed=5) <= 1.0  # the page's formula passes ...
    off = forward_off(wrong, sizes, act, batch, seed=5)
    assert off > 1e6, f"{wrong.__name__}: only {off:.3g} tolerances off"  # ... the slip does not


COUNT_MUTANTS = {
    "biases forgotten": lambda d: sum(a * b for a, b in zip(d[:-1], d[1:])),
    "bias counted per input": lambda d: sum(a * b + a for a, b in zip(d[:-1], d[1:])),
    "(d_l + 1) d_{l-1}": lambda d: sum((b + 1) * a for a, b in zip(d[:-1], d[1:])),
    "one bias per layer": lambda d: sum(a * b + 1 for a, b in zip(d[:-1], d[1:])),
}


@pytest.mark.parametrize("name", list(COUNT_MUTANTS))
@pytest.mark.parametrize("sizes", ARCHITECTURES[1:], ids=str)  # [2, 1] has one bias: "one bias per layer" is right there
def test_wrong_parameter_counts_are_caught(name, sizes):
    assert count_off(parameter_count, sizes) == 0
    assert count_off(COUNT_MUTANTS[name], sizes) != 0, name


@pytest.mark.parametrize("k, c, c_out", [(3, 3, 64), (5, 16, 32)])
def test_wrong_conv_and_dense_counts_are_caught(k, c, c_out):
    conv = numel(nn.Conv2d(c, c_out, kernel_size=k, device="meta"))
    assert conv_count(k, c, c_out) == conv
    assert k * c * c_out + c_out != conv  # k instead of k^2
    assert k * k * c * c_out + c != conv  # one bias per input channel
    side = 32
    assert dense_count(side, side, c, c_out) == dense_numel(side, c, c_out)
    assert side * side * c + c_out != dense_numel(side, c, c_out)  # inputs added, not multiplied
    assert side * c * c_out + c_out != dense_numel(side, c, c_out)  # s instead of s^2 inputs


# ---------------------------------------------------------------- the numbers the figures back
@pytest.fixture(scope="module")
def snippet_run():
    """The snippet's top-level values after a full run, as a reader runs it (figures off-screen)."""
    return run_snippet("mlp")


def test_figure_numbers_on_the_page(snippet_run):
    run = snippet_run
    # the diagram, the two moons, the parameter counts, the shuffled pixels
    assert run["figures"] == 4, f"the snippet left {run['figures']} figures open, the page shows 4"
    # Figure 1: a 3-4-4-2 MLP, depth D = 3, with 16 + 20 + 10 = 46 parameters
    assert run["SIZES"] == [3, 4, 4, 2] and run["diagram_params"] == 46 == parameter_count(run["SIZES"])
    assert run["diagram_params"] == sum(p.numel() for p in make_mlp(run["SIZES"], nn.ReLU).parameters())
    # Figure 2: width 1 gives a straight boundary, width 3 bends once, widths 8 and 32 have 7 and 30 corners
    assert run["boundary_bends"] == {1: 0, 3: 1, 8: 7, 32: 30}
    # Figure 3: 150.5 million parameters at s = 224; the convolution has 1,792 at every s
    assert f"{run['dense_224'] / 1e6:.1f}" == "150.5" and np.all(run["conv"] == 1_792)
    # Figure 4: test accuracy above 96%, and the two curves coincide exactly
    assert 0.96 < run["acc"][-1] < 0.97
    assert np.array_equal(run["acc"], run["acc_perm"])
