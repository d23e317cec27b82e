"""Formula tests for docs/*/neural-networks/activation-functions.md.

Every activation and derivative is written from scratch, exactly as printed on the page,
and compared with PyTorch's implementation (forward) and with autograd (derivatives).
The step function and the autograd helper are the snippet's own (snippets/activation_functions.py),
and the activations the snippet plots are checked against the page's formulas. The numbers the
page states about the snippet's computations (SERLU's constants, Figure 3's shrink factor) are
asserted with tolerances that the old, wrong statements fail. The mutation test at the end runs
plausible wrong formulas through the same comparison and tolerance.
"""

import contextlib
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from snippet_code import snippet_function

pytestmark = pytest.mark.usefixtures("float64")

SNIPPET = snippet_function(
    "activation_functions", "step", "autograd_derivative", "ACTIVATIONS",
    "serlu_constants", "deep_stack_gradients", "shrink_per_layer", "SETUPS", "PROBE",
)
step = SNIPPET["step"]  # H(x) = 1 if x > 0, 0 if x <= 0
autograd_derivative = SNIPPET["autograd_derivative"]  # df/dx at each point, by autograd

# SELU constants as printed on the page (Klambauer et al., 2017)
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_LAMBDA = 1.0507009873554804934193349852946
# SERLU's own constants as printed on the page (Zhang & Li, 2018), not SELU's
SERLU_ALPHA, SERLU_LAMBDA = 2.9043, 1.0786

PAGES = {lang: (Path(__file__).resolve().parents[2] / "docs" / lang / "neural-networks" / "activation-functions.md")
         .read_text(encoding="utf-8") for lang in ("en", "ko")}

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


def tolerances_off(actual, expected):
    """How many tolerances (TOL) the worst entry is off: <= 1 is what assert_close(**TOL) accepts.
    A shape mismatch, or a NaN where the reference has a number, counts as infinitely far."""
    actual, expected = torch.as_tensor(actual), torch.as_tensor(expected)
    if actual.shape != expected.shape:
        return math.inf
    allowed = TOL["atol"] + TOL["rtol"] * expected.abs()
    return ((actual - expected).abs() / allowed).nan_to_num(nan=math.inf).max().item()


def assert_matches(actual, expected):
    """The comparison every formula test uses; the mutation test below reuses tolerances_off."""
    off = tolerances_off(actual, expected)
    assert off <= 1.0, f"{off:.3g} tolerances off"


# ---------------------------------------------------------------- page formulas
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
    assert_matches(net(x), collapsed)
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
    assert_matches(step(x), torch.heaviside(x, torch.tensor(0.0)))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("scale", [1.0, 10.0])
def test_sigmoid_and_derivative(shape, scale):
    x = sample(shape, 2, scale)
    assert_matches(sigmoid(x), torch.sigmoid(x))
    assert_matches(sigmoid_prime(x), autograd_derivative(torch.sigmoid, x))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("scale", [1.0, 10.0])
def test_tanh_and_derivative(shape, scale):
    x = sample(shape, 3, scale)
    assert_matches(tanh(x), torch.tanh(x))
    assert_matches(tanh_prime(x), autograd_derivative(torch.tanh, x))


@pytest.mark.parametrize("shape", SHAPES)
def test_tanh_sigmoid_identity(shape):
    x = sample(shape, 4)
    assert_matches(2 * sigmoid(2 * x) - 1, torch.tanh(x))
    # the common slip 2 sigma(x) - 1 is tanh(x / 2), not tanh(x)
    assert_matches(2 * sigmoid(x) - 1, torch.tanh(x / 2))  # (tanh(x) itself: see the mutation test)
    # differentiating the identity: tanh'(x) = 4 sigma'(2x)
    assert_matches(4 * sigmoid_prime(2 * x), autograd_derivative(torch.tanh, x))


def test_saturation_bounds():
    x = torch.arange(-20000, 20001) / 1000  # contains 0 exactly
    ds = autograd_derivative(torch.sigmoid, x)
    dt = autograd_derivative(torch.tanh, x)
    assert ds.max().item() == pytest.approx(0.25, abs=1e-15)
    assert x[ds.argmax()].item() == 0.0
    assert dt.max().item() == pytest.approx(1.0, abs=1e-15)
    assert x[dt.argmax()].item() == 0.0
    assert ds[x.abs() >= 5].max() < 0.0067  # sigma'(5) = 0.00665


def test_ten_sigmoid_layers_shrink_the_gradient_below_a_millionth():
    """Page: ten sigmoid layers multiply the gradient by at most (1/4)^10 < 1e-6 (weights aside)."""
    x = torch.linspace(-6, 6, 2001)  # contains 0, where sigma' = 1/4 is largest

    def ten_layers(t):
        for _ in range(10):
            t = torch.sigmoid(t)
        return t

    chain = autograd_derivative(ten_layers, x)  # d sigma(sigma(...(x))) / dx by autograd
    # the chain rule: the product of the ten local slopes sigma'(z_l) along the way
    z, product = x, torch.ones_like(x)
    for _ in range(10):
        product = product * sigmoid_prime(z)
        z = sigmoid(z)
    assert_matches(product, chain)
    assert chain.max().item() <= 0.25**10 and chain.max().item() < 1e-6
    # with weights: |d h_L / d x| <= prod_l |w_l| / 4, so only weights above 4 could undo it
    w = torch.tensor([3.0, -2.5, 1.5, 4.0, -0.5, 2.0, 3.5, -1.0, 2.5, 3.0])
    weighted = autograd_derivative(lambda t: _weighted_chain(t, w), x)
    assert weighted.abs().max().item() <= (w.abs() / 4).prod().item()


def _weighted_chain(t, weights):
    for w in weights:
        t = torch.sigmoid(w * t)
    return t


# ---------------------------------------------------------------- ReLU family
@pytest.mark.parametrize("shape", SHAPES)
def test_relu_and_derivative(shape):
    x = sample(shape, 5)
    assert_matches(relu(x), F.relu(x))
    assert_matches(relu_prime(x), autograd_derivative(F.relu, x))
    assert autograd_derivative(F.relu, torch.zeros(1)).item() == 0.0  # PyTorch's choice at 0


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("a", [0.01, 0.1, 0.3])
def test_leaky_relu_and_derivative(shape, a):
    x = sample(shape, 6)
    f = lambda t: F.leaky_relu(t, negative_slope=a)  # noqa: E731
    assert_matches(leaky(x, a), f(x))
    assert_matches(torch.maximum(a * x, x), f(x))  # max(ax, x), 0 <= a <= 1
    assert_matches(torch.clamp(x, min=0) + a * torch.clamp(x, max=0), f(x))  # max(0, x) + a min(0, x)
    assert_matches(leaky_prime(x, a), autograd_derivative(f, x))


def test_leaky_relu_default_slope_and_max_form_needs_a_below_one():
    x = sample((50,), 7)
    assert_matches(leaky(x, 0.01), F.leaky_relu(x))
    a = 2.0  # for a > 1, max(ax, x) is a different function
    assert_matches(leaky(x, a), F.leaky_relu(x, negative_slope=a))
    assert tolerances_off(torch.maximum(a * x, x), F.leaky_relu(x, negative_slope=a)) > 1e6


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
    assert_matches(leaky(x, a), m(x).detach())
    assert_matches(leaky(x, a), F.prelu(x, m.weight.detach()))
    # d f / d x and d f / d a = min(0, x), summed over the positions sharing a
    xr = x.clone().requires_grad_(True)
    gx, ga = torch.autograd.grad(m(xr).sum(), [xr, m.weight])
    assert_matches(gx, leaky_prime(x, a).expand_as(x))
    dfa = torch.minimum(torch.zeros_like(x), x)
    expected_ga = dfa.sum(dim=(0, 2, 3)) if channels > 1 else dfa.sum().view(1)
    assert_matches(ga, expected_ga)


# ---------------------------------------------------------------- ELU, SELU, GELU
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
def test_elu_and_derivative(shape, alpha):
    x = sample(shape, 9)
    f = lambda t: F.elu(t, alpha=alpha)  # noqa: E731
    assert_matches(elu(x, alpha), f(x))
    assert_matches(elu_prime(x, alpha), autograd_derivative(f, x))
    neg = x[x <= 0]
    assert_matches(elu(neg, alpha) + alpha, autograd_derivative(f, neg))  # ELU'(x) = ELU(x) + alpha, x <= 0


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
    assert_matches(selu(x), F.selu(x))
    assert_matches(selu_prime(x), autograd_derivative(F.selu, x))
    zero = torch.zeros(1)
    assert autograd_derivative(F.selu, zero).item() == pytest.approx(SELU_LAMBDA * SELU_ALPHA, rel=1e-12)
    assert autograd_derivative(F.selu, zero).item() == pytest.approx(1.7581, abs=1e-4)  # lambda alpha on the page


def test_selu_constants_give_fixed_point_mean0_var1():
    # z ~ N(0, 1): E[selu(z)] = 0 and E[selu(z)^2] = 1 (Klambauer et al., 2017)
    z = torch.linspace(-12, 12, 400001)
    w = phi(z)
    mean = torch.trapezoid(selu(z) * w, z)
    second = torch.trapezoid(selu(z) ** 2 * w, z)
    assert abs(mean.item()) < 1e-9
    assert second.item() == pytest.approx(1.0, abs=1e-9)
    # and the rounded constants printed on the page are PyTorch's: SELU(1) = lambda, SELU(-inf) = -lambda alpha
    torch_lambda = F.selu(torch.tensor(1.0)).item()
    torch_alpha = -F.selu(torch.tensor(-800.0)).item() / torch_lambda
    assert torch_lambda == pytest.approx(1.0507, abs=5e-5) and torch_alpha == pytest.approx(1.6733, abs=5e-5)


def serlu(x, lam=SERLU_LAMBDA, alpha=SERLU_ALPHA):  # lambda x (x >= 0), lambda alpha x e^x (x < 0)
    return lam * torch.where(x >= 0, x, alpha * x * torch.exp(x))


def normal_moments(f):
    """E[f(z)] and E[f(z)^2] for z ~ N(0, 1), by the trapezoid rule."""
    z = torch.linspace(-40, 40, 400001)
    w = phi(z)
    return torch.trapezoid(f(z) * w, z).item(), torch.trapezoid(f(z) ** 2 * w, z).item()


def test_serlu_constants_are_its_own():
    """Page: SERLU's constants, from the same two conditions as SELU's, are alpha ~ 2.9043, lambda ~ 1.0786."""
    lam, alpha = SNIPPET["serlu_constants"]()  # what the snippet computes and prints
    assert lam == pytest.approx(SERLU_LAMBDA, abs=5e-5) and alpha == pytest.approx(SERLU_ALPHA, abs=5e-5)
    # the old page gave SERLU SELU's constants: they are not SERLU's
    assert abs(lam - 1.0507) > 0.01 and abs(alpha - 1.6733) > 0.1
    # with the page's rounded constants, (0, 1) is the fixed point: mean 0, second moment 1
    mean, second = normal_moments(serlu)
    assert abs(mean) < 1e-4 and second == pytest.approx(1.0, abs=1e-4)
    # with SELU's constants the moments are the page's 0.18 and 0.68
    mean, second = normal_moments(lambda t: serlu(t, SELU_LAMBDA, SELU_ALPHA))
    assert mean == pytest.approx(0.18, abs=0.005) and second == pytest.approx(0.68, abs=0.005)
    for lang, text in PAGES.items():
        assert "2.9043" in text and "1.0786" in text, f"{lang}: SERLU's constants are not on the page"


@contextlib.contextmanager
def float32():
    """The snippet runs in float32: so do the checks of the numbers it computes for its figures."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def test_figure3_sigmoid_gradient_shrinks_by_about_4_2_per_layer():
    """Figure 3 caption: every sigmoid f'(z) is below 1/4, and the gradient shrinks by a factor of
    about 4.2 per layer toward the input (the median ratio; the old caption said "roughly four")."""
    f, std = SNIPPET["SETUPS"]["sigmoid (Xavier)"]
    with float32():
        norms, local = SNIPPET["deep_stack_gradients"](f, std)
    assert (local < 0.25).all() and local.numel() == 256 * 128
    factor = SNIPPET["shrink_per_layer"](norms)
    assert factor == pytest.approx(4.2, abs=0.05)
    # the bound 1/max f' = 4 is a lower bound for the factor; 4.2 = 1 / (typical f'), not 4
    assert factor > 4.1 and 1 / local.mean().item() == pytest.approx(factor, rel=0.02)
    for lang, text in PAGES.items():
        assert "4.2" in text, f"{lang}: Figure 3's caption does not state the factor 4.2"
    # the other activations keep the gradient norm within a factor of 1.5 per layer
    for name in ("tanh (Xavier)", "ReLU (He)", "SELU (LeCun)"):
        with float32():
            norms, _ = SNIPPET["deep_stack_gradients"](*SNIPPET["SETUPS"][name])
        assert 1 / 1.5 < SNIPPET["shrink_per_layer"](norms) < 1.5, name


def test_tanh_range_is_open():
    """Page: tanh's outputs lie in (-1, 1), open; float32 rounds tanh(10) to 1, float64 does not."""
    x = torch.linspace(-15, 15, 3001)  # float64
    assert (tanh(x).abs() < 1).all() and (torch.tanh(x).abs() < 1).all()
    assert torch.tanh(torch.tensor(10.0, dtype=torch.float32)).item() == 1.0
    for lang, text in PAGES.items():
        assert "$[-1, 1]$" not in text, f"{lang}: tanh's range written as a closed interval"


def test_leaky_relu_max_form_holds_for_every_slope_up_to_one():
    """Page: LeakyReLU_a(x) = max(ax, x) exactly when a <= 1 (negative slopes included)."""
    x = sample((200,), 16)
    for a in (-0.5, 0.0, 0.01, 0.5, 1.0, 1.5, 2.0):
        same = tolerances_off(torch.maximum(a * x, x), F.leaky_relu(x, negative_slope=a)) <= 1.0
        assert same == (a <= 1.0), a


@pytest.mark.parametrize("shape", SHAPES)
def test_gelu_and_derivative(shape):
    x = sample(shape, 11)
    assert_matches(gelu(x), F.gelu(x))
    assert_matches(gelu_prime(x), autograd_derivative(F.gelu, x))
    assert_matches(gelu_tanh(x), F.gelu(x, approximate="tanh"))
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
        assert_matches(gw, delta * h)  # dL/dw_i = delta * h_i
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


# ---------------------------------------------------------------- the snippet's activations
PAGE_FORMULAS = {  # the snippet's ACTIVATIONS (Figures 1-3) -> the page's formula
    "sigmoid": sigmoid,
    "tanh": tanh,
    "ReLU": relu,
    "Leaky ReLU (a=0.1)": lambda x: leaky(x, 0.1),
    "PReLU (a=0.25)": lambda x: leaky(x, 0.25),
    "ELU (alpha=1)": lambda x: elu(x, 1.0),
    "SELU": selu,
    "GELU": gelu,
}
PAGE_DERIVATIVES = {
    "sigmoid": sigmoid_prime,
    "tanh": tanh_prime,
    "ReLU": relu_prime,
    "Leaky ReLU (a=0.1)": lambda x: leaky_prime(x, 0.1),
    "PReLU (a=0.25)": lambda x: leaky_prime(x, 0.25),
    "ELU (alpha=1)": lambda x: elu_prime(x, 1.0),
    "SELU": selu_prime,
    "GELU": gelu_prime,
}


@pytest.mark.parametrize("name", list(PAGE_FORMULAS))
def test_snippet_activations_and_their_autograd_slopes_follow_the_page(name):
    assert set(PAGE_FORMULAS) == set(SNIPPET["ACTIVATIONS"])  # every plotted activation is covered
    x = sample((301,), 14)
    f = SNIPPET["ACTIVATIONS"][name]
    assert_matches(PAGE_FORMULAS[name](x), f(x))
    assert_matches(PAGE_DERIVATIVES[name](x), autograd_derivative(f, x))  # Figure 2, dots at x = 0 included


# ---------------------------------------------------------------- mutation test
# (name, page formula, wrong formula, reference): plausible slips in the page's formulas; the page's formula
# must pass, and the slip be rejected by, the same tolerances_off comparison
MUTANTS = [
    ("tanh = 2 sigma(x) - 1", lambda x: 2 * sigmoid(2 * x) - 1, lambda x: 2 * sigmoid(x) - 1, torch.tanh),
    ("sigma' = 1 - sigma^2", sigmoid_prime, lambda x: 1 - sigmoid(x) ** 2,
     lambda x: autograd_derivative(torch.sigmoid, x)),
    ("tanh' = 1 - tanh", tanh_prime, lambda x: 1 - tanh(x), lambda x: autograd_derivative(torch.tanh, x)),
    ("ReLU'(0) = 1", relu_prime, lambda x: torch.where(x >= 0, 1.0, 0.0), lambda x: autograd_derivative(F.relu, x)),
    ("leaky ReLU slope on the wrong side", lambda x: leaky(x, 0.1), lambda x: torch.where(x > 0, 0.1 * x, x),
     lambda x: F.leaky_relu(x, 0.1)),
    ("ELU' = ELU(x) for x <= 0", lambda x: elu_prime(x, 2.0), lambda x: torch.where(x > 0, 1.0, elu(x, 2.0)),
     lambda x: autograd_derivative(lambda t: F.elu(t, alpha=2.0), x)),
    ("SELU with lambda and alpha swapped", selu,
     lambda x: SELU_ALPHA * torch.where(x > 0, x, SELU_LAMBDA * (torch.exp(x) - 1)), F.selu),
    ("GELU' = Phi(x)", gelu_prime, Phi, lambda x: autograd_derivative(F.gelu, x)),
    ("GELU = x phi(x)", gelu, lambda x: x * phi(x), F.gelu),
    ("GELU tanh form with sqrt(2 pi)", gelu_tanh,
     lambda x: 0.5 * x * (1 + torch.tanh(math.sqrt(2 * math.pi) * (x + 0.044715 * x**3))),
     lambda x: F.gelu(x, approximate="tanh")),
    ("GELU tanh form with x^2", gelu_tanh,
     lambda x: 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**2))),
     lambda x: F.gelu(x, approximate="tanh")),
    ("PReLU: d/da = x", lambda x: torch.minimum(torch.zeros_like(x), x), lambda x: x, lambda x: prelu_slope_gradient(x)),
]


def prelu_slope_gradient(x):
    """d PReLU_a(x) / da for every entry of x, by autograd: one slope per entry (x as one example of N channels)."""
    a = torch.full((x.numel(),), 0.3, requires_grad=True)
    (grad,) = torch.autograd.grad(F.prelu(x.reshape(1, -1), a).sum(), a)
    return grad.reshape(x.shape)


@pytest.mark.parametrize("name,right,wrong,reference", MUTANTS, ids=[m[0] for m in MUTANTS])
def test_wrong_formulas_are_caught(name, right, wrong, reference):
    x = sample((2, 3, 6), 15)
    expected = reference(x)
    assert tolerances_off(right(x), expected) <= 1.0
    off = tolerances_off(wrong(x), expected)
    assert off > 1e6, f"{name}: only {off:.3g} tolerances off, the comparison could not tell it apart"
