"""Formula tests for docs/*/neural-networks/mlp.md.

The forward pass is written from scratch with plain tensor ops, exactly as printed on the page
(per example, per entry, and in batch form), and compared with nn.Sequential(nn.Linear, ...)
holding the same weights. The parameter-count formulas are compared with sum(p.numel()), and
the pixel-permutation identity is checked for the forward pass, the gradients and training.
"""

import pytest
import torch
from torch import nn

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
    """P = sum_l (d_{l-1} d_l + d_l)."""
    return sum(d_prev * d + d for d_prev, d in zip(sizes[:-1], sizes[1:]))


def dense_count(h, w, c, d_out):  # (H W C) d_out + d_out
    return h * w * c * d_out + d_out


def conv_count(k, c, c_out):  # k^2 C C_out + C_out
    return k * k * c * c_out + c_out


# ---------------------------------------------------------------- forward pass
@pytest.mark.parametrize("sizes", ARCHITECTURES, ids=str)
@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("batch", [1, 5, 64])
def test_batch_forward_matches_nn_sequential(sizes, act, batch):
    torch.manual_seed(sum(sizes) + batch)
    module, f = ACTIVATIONS[act]
    net = make_mlp(sizes, module)
    X = torch.randn(batch, sizes[0])
    out = forward_batch(weights_of(net), f, X)
    assert out.shape == (batch, sizes[-1])
    torch.testing.assert_close(out, net(X).detach(), **TOL)


@pytest.mark.parametrize("sizes", ARCHITECTURES[:2] + ARCHITECTURES[3:], ids=str)
def test_single_example_and_entrywise_forms_agree_with_batch_form(sizes):
    torch.manual_seed(len(sizes))
    net = make_mlp(sizes, nn.Tanh)
    params = weights_of(net)
    X = torch.randn(4, sizes[0])
    batch = forward_batch(params, torch.tanh, X)
    for n in range(4):  # each row of H^(L) is the single-example output, transposed
        torch.testing.assert_close(forward_single(params, torch.tanh, X[n]), batch[n], **TOL)
        torch.testing.assert_close(forward_entrywise(params, torch.tanh, X[n]), batch[n], **TOL)


def test_nn_linear_weight_has_shape_d_out_by_d_in():
    layer = nn.Linear(7, 3)
    assert layer.weight.shape == (3, 7) and layer.bias.shape == (3,)
    x = torch.randn(7)
    torch.testing.assert_close(layer(x).detach(), layer.weight.detach() @ x + layer.bias.detach(), **TOL)


def test_without_activations_the_network_is_one_affine_map_but_not_with_them():
    torch.manual_seed(1)
    sizes = [3, 8, 8, 2]
    params = [(torch.randn(d, d_prev), torch.randn(d)) for d_prev, d in zip(sizes[:-1], sizes[1:])]
    X = torch.randn(50, 3)
    W, b = torch.eye(3), torch.zeros(3)
    for W_l, b_l in params:  # compose the affine maps
        W, b = W_l @ W, W_l @ b + b_l
    torch.testing.assert_close(forward_batch(params, lambda z: z, X), X @ W.T + b, **TOL)
    assert not torch.allclose(forward_batch(params, torch.relu, X), X @ W.T + b)


# ---------------------------------------------------------------- parameter counts
@pytest.mark.parametrize("sizes", ARCHITECTURES, ids=str)
def test_parameter_count_formula(sizes):
    net = make_mlp(sizes, nn.ReLU)
    assert parameter_count(sizes) == sum(p.numel() for p in net.parameters())
    # the second form on the page, sum_l (d_{l-1} + 1) d_l
    assert parameter_count(sizes) == sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))


def test_worked_examples_on_the_page():
    assert parameter_count([784, 256, 128, 10]) == 200_960 + 32_896 + 1_290 == 235_146
    dense = nn.Linear(224 * 224 * 3, 1000, device="meta")
    assert dense_count(224, 224, 3, 1000) == sum(p.numel() for p in dense.parameters()) == 150_529_000
    assert round(dense_count(224, 224, 3, 1000) * 4 / 1e6) == 602  # MB in float32
    assert f"{dense_count(224, 224, 3, 1000) / 1e6:.1f}" == "150.5"


@pytest.mark.parametrize("k, c, c_out", [(3, 3, 64), (5, 16, 32), (1, 8, 8)])
@pytest.mark.parametrize("side", [8, 32, 224])
def test_dense_and_conv_counts(k, c, c_out, side):
    conv = nn.Conv2d(c, c_out, kernel_size=k, device="meta")
    assert conv_count(k, c, c_out) == sum(p.numel() for p in conv.parameters())  # independent of side
    dense = nn.Linear(side * side * c, c_out, device="meta")
    assert dense_count(side, side, c, c_out) == sum(p.numel() for p in dense.parameters())
    # growth in the side length s: s^2 to a fixed width, s^4 to a same-sized feature map
    assert dense_count(2 * side, 2 * side, c, 1000) - 1000 == 4 * (dense_count(side, side, c, 1000) - 1000)
    same = lambda s: dense_count(s, s, c, s * s * c_out)  # noqa: E731
    assert same(2 * side) - (2 * side) ** 2 * c_out == 16 * (same(side) - side**2 * c_out)


def test_depth_adds_parameters_linearly():
    counts = [parameter_count([100] + [64] * n + [10]) for n in range(1, 8)]
    steps = [b - a for a, b in zip(counts[:-1], counts[1:])]
    assert steps == [64 * 64 + 64] * len(steps)


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
    # W x = (W P^T)(P x)
    torch.testing.assert_close(x @ W.T, (P @ x.T).T @ (W @ P.T).T, **TOL)


@pytest.mark.parametrize("sizes", [[16, 8, 3], [64, 32, 32, 2]], ids=str)
def test_shuffled_inputs_with_shuffled_first_layer_give_identical_outputs_and_gradients(sizes):
    torch.manual_seed(3)
    net = make_mlp(sizes, nn.ReLU)
    params = weights_of(net)
    perm = torch.randperm(sizes[0])
    P = permutation_matrix(perm)
    X = torch.randn(20, sizes[0])
    shuffled = [(params[0][0] @ P.T, params[0][1])] + params[1:]
    torch.testing.assert_close(forward_batch(shuffled, torch.relu, X @ P.T), forward_batch(params, torch.relu, X), **TOL)
    # the gradient with respect to W P^T is the gradient with respect to W, times P^T
    W = params[0][0].clone().requires_grad_(True)
    Ws = (params[0][0] @ P.T).clone().requires_grad_(True)
    target = torch.randn(20, sizes[-1])
    loss = (forward_batch([(W, params[0][1])] + params[1:], torch.relu, X) - target).pow(2).mean()
    loss_s = (forward_batch([(Ws, params[0][1])] + params[1:], torch.relu, X @ P.T) - target).pow(2).mean()
    (g,) = torch.autograd.grad(loss, W)
    (g_s,) = torch.autograd.grad(loss_s, Ws)
    torch.testing.assert_close(g_s, g @ P.T, **TOL)
    # and shuffling the input alone does change the output: the identity is not trivial
    assert not torch.allclose(net(X @ P.T), net(X))


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
