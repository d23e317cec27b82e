"""Formula tests for docs/*/neural-networks/activation-functions.md.

Every activation and derivative is written from scratch, exactly as printed on the page,
and compared with PyTorch's implementation (forward) and with autograd (derivatives).
"""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

pytestmark = pytest.mark.usefixtures("float64")



# SELU constants as printed on the page (Klambauer et al., 2017)
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_LAMBDA = 1.0507009873554804934193349852946

SHAPES = [(7,), (4, 5), (2, 3, 6)]
TOL = dict(rtol=1e-12, atol=1e-12)


def sample(shape, seed, scale=4.0):
    """Random points plus exact zeros and the kink neighbours, so x = 0 is always tested."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=g) * scale
    flat = x.view(-1)
    flat[0] = 0.0
    if flat.numel() > 2:
        flat[1], flat[2] = 1e-9, -1e-9
    return x


def autograd_derivative(f, x):
    x = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(f(x).sum(), x)
    return g


# ---------------------------------------------------------------- page formulas
def step(x):  # H(x) = 1 if x > 0, 0 if x <= 0
    return torch.where(x > 0, torch.ones_like(x), torch.zeros_like(x))


def sigmoid(x):  # 1 / (1 + e^{-x})
    return 1 / (1 + torch.exp(-x))


def sigmoid_prime(x):  # sigma(x) (1 - sigma(x))
    s = sigmoid(x)
    return s * (1 - s)


def tanh(x):  # (e^x - e^{-x}) / (e^x + e^{-x})
    return (torch.exp(x) - torch.exp(-x)) / (torch.exp(x) + torch.exp(-x))


def tanh_prime(x):  # 1 - tanh^2(x)
    return 1 - tanh(x) ** 2


def relu(x):  # max(0, x)
    return torch.maximum(torch.zeros_like(x), x)


def relu_prime(x):  # 1 if x > 0, 0 if x <= 0 (PyTorch's choice at 0)
    return torch.where(x > 0, 1.0, 0.0)


def leaky(x, a):  # x if x > 0, a x if x <= 0
    return torch.where(x > 0, x, a * x)


def leaky_prime(x, a):  # 1 if x > 0, a if x <= 0
    return torch.where(x > 0, 1.0, a)


def elu(x, alpha):  # x if x > 0, alpha (e^x - 1) if x <= 0
    return torch.where(x > 0, x, alpha * (torch.exp(x) - 1))


def elu_prime(x, alpha):  # 1 if x > 0, alpha e^x = f(x) + alpha if x <= 0
    return torch.where(x > 0, 1.0, alpha * torch.exp(x))


def selu(x):  # lambda * ELU_alpha(x)
    return SELU_LAMBDA * torch.where(x > 0, x, SELU_ALPHA * (torch.exp(x) - 1))


def selu_prime(x):  # lambda if x > 0, lambda alpha e^x if x <= 0
    return torch.where(x > 0, SELU_LAMBDA, SELU_LAMBDA * SELU_ALPHA * torch.exp(x))


def Phi(x):  # standard normal CDF: (1 + erf(x / sqrt 2)) / 2
    return 0.5 * (1 + torch.erf(x / math.sqrt(2)))


def phi(x):  # standard normal density
    return torch.exp(-(x**2) / 2) / math.sqrt(2 * math.pi)


def gelu(x):  # x Phi(x)
    return x * Phi(x)


def gelu_prime(x):  # Phi(x) + x phi(x)
    return Phi(x) + x * phi(x)


def gelu_tanh(x):  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


# ---------------------------------------------------------------- linear layers collapse
def test_two_linear_layers_are_one_linear_layer():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 7), nn.Linear(7, 3))
    W1, b1, W2, b2 = net[0].weight, net[0].bias, net[1].weight, net[1].bias
    x = torch.randn(10, 5)
    collapsed = x @ (W2 @ W1).T + (W2 @ b1 + b2)
    torch.testing.assert_close(net(x), collapsed, **TOL)
    # with a ReLU in between, no single affine map fits: check on points where it bends
    bent = nn.Sequential(net[0], nn.ReLU(), net[1])
    xs = torch.randn(200, 5)
    ones = torch.ones(200, 1)
    A = torch.cat([xs, ones], dim=1)
    coef = torch.linalg.lstsq(A, bent(xs).detach()).solution
    assert (A @ coef - bent(xs)).abs().max() > 1e-3


# ---------------------------------------------------------------- step, sigmoid, tanh
@pytest.mark.parametrize("shape", SHAPES)
def test_step(shape):
    x = sample(shape, 1)
    torch.testing.assert_close(step(x), torch.heaviside(x, torch.tensor(0.0)), **TOL)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("scale", [1.0, 10.0])
def test_sigmoid_and_derivative(shape, scale):
    x = sample(shape, 2, scale)
    torch.testing.assert_close(sigmoid(x), torch.sigmoid(x), **TOL)
    torch.testing.assert_close(sigmoid_prime(x), autograd_derivative(torch.sigmoid, x), **TOL)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("scale", [1.0, 10.0])
def test_tanh_and_derivative(shape, scale):
    x = sample(shape, 3, scale)
    torch.testing.assert_close(tanh(x), torch.tanh(x), **TOL)
    torch.testing.assert_close(tanh_prime(x), autograd_derivative(torch.tanh, x), **TOL)


@pytest.mark.parametrize("shape", SHAPES)
def test_tanh_sigmoid_identity(shape):
    x = sample(shape, 4)
    torch.testing.assert_close(2 * sigmoid(2 * x) - 1, torch.tanh(x), **TOL)
    # the common slip 2 sigma(x) - 1 is tanh(x / 2), not tanh(x)
    torch.testing.assert_close(2 * sigmoid(x) - 1, torch.tanh(x / 2), **TOL)
    assert not torch.allclose(2 * sigmoid(x) - 1, torch.tanh(x))
    # differentiating the identity: tanh'(x) = 4 sigma'(2x)
    torch.testing.assert_close(tanh_prime(x), 4 * sigmoid_prime(2 * x), **TOL)


def test_saturation_bounds():
    x = torch.arange(-20000, 20001) / 1000  # contains 0 exactly
    ds = autograd_derivative(torch.sigmoid, x)
    dt = autograd_derivative(torch.tanh, x)
    assert ds.max().item() == pytest.approx(0.25, abs=1e-15)
    assert x[ds.argmax()].item() == 0.0
    assert dt.max().item() == pytest.approx(1.0, abs=1e-15)
    assert x[dt.argmax()].item() == 0.0
    assert ds[x.abs() >= 5].max() < 0.0067  # sigma'(5) = 0.00665
    assert 0.25**10 < 1e-6  # ten saturating factors at best


# ---------------------------------------------------------------- ReLU family
@pytest.mark.parametrize("shape", SHAPES)
def test_relu_and_derivative(shape):
    x = sample(shape, 5)
    torch.testing.assert_close(relu(x), F.relu(x), **TOL)
    torch.testing.assert_close(relu_prime(x), autograd_derivative(F.relu, x), **TOL)
    assert autograd_derivative(F.relu, torch.zeros(1)).item() == 0.0  # PyTorch's choice at 0


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("a", [0.01, 0.1, 0.3])
def test_leaky_relu_and_derivative(shape, a):
    x = sample(shape, 6)
    f = lambda t: F.leaky_relu(t, negative_slope=a)  # noqa: E731
    torch.testing.assert_close(leaky(x, a), f(x), **TOL)
    torch.testing.assert_close(leaky(x, a), torch.maximum(a * x, x), **TOL)  # max(ax, x), 0 <= a <= 1
    torch.testing.assert_close(leaky_prime(x, a), autograd_derivative(f, x), **TOL)


def test_leaky_relu_default_slope_and_max_form_needs_a_below_one():
    x = sample((50,), 7)
    torch.testing.assert_close(leaky(x, 0.01), F.leaky_relu(x), **TOL)
    a = 2.0  # for a > 1, max(ax, x) is a different function
    assert not torch.allclose(leaky(x, a), torch.maximum(a * x, x))


@pytest.mark.parametrize("channels", [1, 3])
def test_prelu_and_derivatives(channels):
    torch.manual_seed(8)
    m = nn.PReLU(num_parameters=channels)
    assert torch.all(m.weight == 0.25)  # default initial slope
    with torch.no_grad():
        m.weight.copy_(torch.rand(channels))
    x = torch.randn(2, 3, 4, 5)
    x[0, :, 0, 0] = 0.0
    a = m.weight.detach().view(1, -1, 1, 1)  # one slope per channel (dim 1)
    torch.testing.assert_close(leaky(x, a), m(x).detach(), **TOL)
    torch.testing.assert_close(leaky(x, a), F.prelu(x, m.weight.detach()), **TOL)
    # d f / d x and d f / d a = min(0, x), summed over the positions sharing a
    xr = x.clone().requires_grad_(True)
    gx, ga = torch.autograd.grad(m(xr).sum(), [xr, m.weight])
    torch.testing.assert_close(gx, leaky_prime(x, a).expand_as(x), **TOL)
    dfa = torch.minimum(torch.zeros_like(x), x)
    expected_ga = dfa.sum(dim=(0, 2, 3)) if channels > 1 else dfa.sum().view(1)
    torch.testing.assert_close(ga, expected_ga, **TOL)


# ---------------------------------------------------------------- ELU, SELU, GELU
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
def test_elu_and_derivative(shape, alpha):
    x = sample(shape, 9)
    f = lambda t: F.elu(t, alpha=alpha)  # noqa: E731
    torch.testing.assert_close(elu(x, alpha), f(x), **TOL)
    torch.testing.assert_close(elu_prime(x, alpha), autograd_derivative(f, x), **TOL)
    neg = x[x <= 0]
    torch.testing.assert_close(elu_prime(neg, alpha), elu(neg, alpha) + alpha, **TOL)


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
def test_elu_differentiable_at_zero_only_for_alpha_one(alpha):
    h = 1e-7
    zero = torch.zeros(1)
    right = (elu(zero + h, alpha) - elu(zero, alpha)) / h
    left = (elu(zero, alpha) - elu(zero - h, alpha)) / h
    assert right.item() == pytest.approx(1.0, abs=1e-6)
    assert left.item() == pytest.approx(alpha, abs=1e-6)
    assert (abs(left - right).item() < 1e-6) == (alpha == 1.0)
    # continuous for every alpha
    assert elu(zero - 1e-12, alpha).abs().item() < 1e-11
    # autograd returns the left (x <= 0) branch at 0
    assert autograd_derivative(lambda t: F.elu(t, alpha=alpha), zero).item() == pytest.approx(alpha)


@pytest.mark.parametrize("shape", SHAPES)
def test_selu_and_derivative(shape):
    x = sample(shape, 10)
    torch.testing.assert_close(selu(x), F.selu(x), **TOL)
    torch.testing.assert_close(selu_prime(x), autograd_derivative(F.selu, x), **TOL)
    zero = torch.zeros(1)
    assert autograd_derivative(F.selu, zero).item() == pytest.approx(SELU_LAMBDA * SELU_ALPHA)
    assert SELU_LAMBDA * SELU_ALPHA == pytest.approx(1.7581, abs=1e-4)


def test_selu_constants_give_fixed_point_mean0_var1():
    # z ~ N(0, 1): E[selu(z)] = 0 and E[selu(z)^2] = 1 (Klambauer et al., 2017)
    z = torch.linspace(-12, 12, 400001)
    w = phi(z)
    mean = torch.trapezoid(selu(z) * w, z)
    second = torch.trapezoid(selu(z) ** 2 * w, z)
    assert abs(mean.item()) < 1e-9
    assert second.item() == pytest.approx(1.0, abs=1e-9)
    # and the rounded constants printed on the page
    assert round(SELU_ALPHA, 4) == 1.6733 and round(SELU_LAMBDA, 4) == 1.0507


@pytest.mark.parametrize("shape", SHAPES)
def test_gelu_and_derivative(shape):
    x = sample(shape, 11)
    torch.testing.assert_close(gelu(x), F.gelu(x), **TOL)
    torch.testing.assert_close(gelu_prime(x), autograd_derivative(F.gelu, x), **TOL)
    torch.testing.assert_close(gelu_tanh(x), F.gelu(x, approximate="tanh"), **TOL)
    assert (gelu_tanh(x) - gelu(x)).abs().max() < 1e-3  # the approximation is close


# ---------------------------------------------------------------- gradient claims on the page
def test_positive_inputs_give_same_sign_weight_gradients():
    torch.manual_seed(12)
    for _ in range(20):
        h = torch.sigmoid(torch.randn(8))  # outputs of a sigmoid layer: all > 0
        w = torch.randn(8, requires_grad=True)
        z = w @ h
        loss = (z - torch.randn(())) ** 2
        gw, delta = torch.autograd.grad(loss, [w, z])  # dL/dw and dL/dz
        torch.testing.assert_close(gw, delta * h, **TOL)  # dL/dw_i = delta * h_i
        assert torch.all(torch.sign(gw) == torch.sign(delta))
    # with zero-centred inputs the signs differ
    h = torch.tanh(torch.randn(8))
    w = torch.randn(8, requires_grad=True)
    (gw,) = torch.autograd.grad((w @ h - 1) ** 2, w)
    assert (gw > 0).any() and (gw < 0).any()


def test_dead_relu_unit_gets_no_gradient():
    torch.manual_seed(13)
    layer = nn.Linear(4, 3)
    with torch.no_grad():
        layer.bias[0] = -10.0  # unit 0: pre-activation < 0 for all inputs below
    x = torch.randn(64, 4)
    assert torch.all(layer(x)[:, 0] < 0)
    loss = F.relu(layer(x)).pow(2).sum()
    gW, gb = torch.autograd.grad(loss, [layer.weight, layer.bias])
    assert torch.all(gW[0] == 0) and gb[0] == 0
    assert gW[1:].abs().sum() > 0
    loss = F.leaky_relu(layer(x)).pow(2).sum()
    gW, gb = torch.autograd.grad(loss, [layer.weight, layer.bias])
    assert gb[0] != 0
