"""Formula tests for docs/*/neural-networks/initialization.md.

The variances, uniform bounds and gains printed on the page are written from scratch and
compared with the empirical statistics of large tensors filled by ``torch.nn.init`` (and by
the default ``reset_parameters`` of ``nn.Linear`` and ``nn.Conv2d``).

Tolerances are statistical. For N i.i.d. samples with variance s2 and kurtosis k = E[w^4]/s2^2
(3 for a normal, 9/5 for a uniform distribution) the sample variance has standard error
SE = s2 * sqrt((k - 1) / N). Each check accepts |sample variance - formula| < 6 SE and also
asserts that every plausible wrong formula (LeCun instead of Xavier, fan_in instead of
fan_out, ...) lies more than 30 SE away, so a wrong formula cannot pass by chance.
The depth claims (He keeps the second moment, 1/n_in halves it per layer) are checked on
50-layer ReLU networks. The mutation tests at the end run the wrong formulas through the same
comparisons (variance_ses, bound_violation) that accept the page's formulas.
The numbers the page states about the 50-layer experiment (Figures 1-3) are computed by the
snippet's own functions (snippets/initialization.py: experiment, stated_numbers) and asserted at
the precision the page states them, and both pages are checked to state them.
"""

import functools
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from snippet_code import snippet_function

DT = torch.float64
NORMAL_KURTOSIS, UNIFORM_KURTOSIS = 3.0, 9.0 / 5.0
ACCEPT_SE, REJECT_SE = 6.0, 30.0


# ---------------------------------------------------------------- page formulas
def lecun_var(fan_in):  # Var(w) = 1 / n_in
    return 1.0 / fan_in


def xavier_var(fan_in, fan_out, gain=1.0):  # Var(w) = gain^2 * 2 / (n_in + n_out)
    return gain**2 * 2.0 / (fan_in + fan_out)


def xavier_bound(fan_in, fan_out, gain=1.0):  # a = gain * sqrt(6 / (n_in + n_out))
    return gain * math.sqrt(6.0 / (fan_in + fan_out))


def he_var(fan, a=0.0):  # Var(w) = 2 / ((1 + a^2) n), n = fan_in or fan_out
    return 2.0 / ((1 + a**2) * fan)


def he_bound(fan, a=0.0):  # a_U = sqrt(3 Var(w)) = sqrt(6 / ((1 + a^2) n))
    return math.sqrt(3 * he_var(fan, a))


GAINS = {  # the gain table on the page
    "linear": 1.0,
    "conv2d": 1.0,
    "sigmoid": 1.0,
    "tanh": 5.0 / 3.0,
    "relu": math.sqrt(2.0),
    "selu": 3.0 / 4.0,
}


def leaky_gain(a):  # sqrt(2 / (1 + a^2))
    return math.sqrt(2.0 / (1 + a**2))


# ---------------------------------------------------------------- helpers
def fans(shape):
    """fan_in, fan_out of a weight (out, in, *kernel), as the page defines them."""
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def filled(shape, init, seed, **kwargs):
    g = torch.Generator().manual_seed(seed)
    W = torch.empty(shape, dtype=DT)
    init(W, generator=g, **kwargs)
    return W


def torch_uniform_variance(bound):
    """Variance of U(-bound, bound) according to torch.distributions, in float64."""
    return torch.distributions.Uniform(torch.tensor(-bound, dtype=DT), torch.tensor(bound, dtype=DT)).variance.item()


def variance_ses(W, formula, kurtosis):
    """|sample variance - formula| in standard errors of the sample variance under the formula."""
    se = formula * math.sqrt((kurtosis - 1) / W.numel())
    return abs(W.var().item() - formula) / se


def check_variance(W, expected, kurtosis, wrong):
    """Sample variance within 6 SE of the formula; every wrong formula rejected by the same measure, more
    than 30 SE away from the formula (so it cannot pass by chance)."""
    got = variance_ses(W, expected, kurtosis)
    assert got < ACCEPT_SE, f"variance {W.var().item():.6g}, formula {expected:.6g}: {got:.3g} SE"
    assert abs(W.mean().item()) < ACCEPT_SE * math.sqrt(expected / W.numel())  # zero mean
    se = expected * math.sqrt((kurtosis - 1) / W.numel())
    for name, alt in wrong.items():
        assert variance_ses(W, alt, kurtosis) > ACCEPT_SE, f"{name} passes the same check"
        assert abs(alt - expected) > REJECT_SE * se, f"test too weak to reject {name}"


def bound_violation(W, bound):
    """How far a sample is from being uniform on (-bound, bound) with both ends reached (N is about a million):
    0 if it is, otherwise the relative amount by which a value exceeds the bound or an end is missed."""
    top = W.abs().max().item()
    outside = max(0.0, top / bound - 1)  # a value beyond the bound
    short = max(0.0, 1 - 1e-4 - min(W.max().item(), -W.min().item()) / bound)  # an end not reached
    return max(outside, short)


def check_bound(W, bound, wrong_bounds=()):
    """Uniform on (-a, a): nothing outside, and both ends reached; every wrong bound violated by more than 1e-3."""
    assert bound_violation(W, bound) == 0.0
    for alt in wrong_bounds:  # a smaller wrong bound is exceeded, a larger one never approached
        assert bound_violation(W, alt) > 1e-3, f"bound {alt:.6g} passes the same check"


# rectangular shapes so that fan_in != fan_out and the formulas disagree
SHAPES = [(300, 3000), (2000, 500), (256, 64, 5, 5)]
IDS = ["linear-300x3000", "linear-2000x500", "conv-256x64x5x5"]


# ---------------------------------------------------------------- fans
def test_fans_match_pytorch():
    for shape in SHAPES + [(7, 3, 2, 4, 5)]:
        assert fans(shape) == nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    # conv: channels times kernel size, the page's example
    assert nn.init._calculate_fan_in_and_fan_out(torch.empty(64, 32, 3, 3)) == (32 * 9, 64 * 9)


# ---------------------------------------------------------------- LeCun
@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_lecun_normal(shape):
    fi, fo = fans(shape)
    # PyTorch has no lecun_normal_; kaiming_normal_ with gain 1 ('linear') is exactly it
    W = filled(shape, nn.init.kaiming_normal_, 1, nonlinearity="linear")
    wrong = {"He 2/n_in": he_var(fi), "Xavier": xavier_var(fi, fo), "1/n_out": 1 / fo}
    check_variance(W, lecun_var(fi), NORMAL_KURTOSIS, wrong)


# ---------------------------------------------------------------- Xavier / Glorot
@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_xavier_normal(shape):
    fi, fo = fans(shape)
    W = filled(shape, nn.init.xavier_normal_, 2)
    wrong = {"LeCun 1/n_in": lecun_var(fi), "1/n_out": 1 / fo, "He 2/n_in": he_var(fi)}
    check_variance(W, xavier_var(fi, fo), NORMAL_KURTOSIS, wrong)


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_xavier_uniform_variance_and_bound(shape):
    fi, fo = fans(shape)
    W = filled(shape, nn.init.xavier_uniform_, 3)
    a = xavier_bound(fi, fo)
    # a^2 / 3 = 2 / (n_in + n_out): the page's bound gives Xavier's variance (torch.distributions.Uniform's variance)
    assert torch_uniform_variance(a) == pytest.approx(xavier_var(fi, fo), rel=1e-12)
    wrong = {"LeCun 1/n_in": lecun_var(fi), "1/n_out": 1 / fo}
    check_variance(W, xavier_var(fi, fo), UNIFORM_KURTOSIS, wrong)
    # wrong bounds: the std used as the bound, and sqrt(3 / (n_in + n_out))
    check_bound(W, a, [math.sqrt(xavier_var(fi, fo)), math.sqrt(3 / (fi + fo)), math.sqrt(6 / fi)])


@pytest.mark.parametrize("gain", [GAINS["tanh"], GAINS["relu"]])
def test_xavier_with_gain(gain):
    shape = (500, 2000)
    fi, fo = fans(shape)
    W = filled(shape, nn.init.xavier_normal_, 4, gain=gain)
    check_variance(W, xavier_var(fi, fo, gain), NORMAL_KURTOSIS, {"no gain": xavier_var(fi, fo)})
    W = filled(shape, nn.init.xavier_uniform_, 5, gain=gain)
    check_variance(W, xavier_var(fi, fo, gain), UNIFORM_KURTOSIS, {"no gain": xavier_var(fi, fo)})
    check_bound(W, xavier_bound(fi, fo, gain), [xavier_bound(fi, fo)])


def test_xavier_equals_lecun_only_for_square_layers():
    """On a square layer nn.init.xavier_normal_ draws with LeCun's 1/n_in; on a rectangular one it does not."""
    square = filled((512, 512), nn.init.xavier_normal_, 20)
    check_variance(square, lecun_var(512), NORMAL_KURTOSIS, {"He": he_var(512)})
    rectangular = filled((2048, 512), nn.init.xavier_normal_, 21)  # n_in = 512, n_out = 2048
    check_variance(rectangular, xavier_var(512, 2048), NORMAL_KURTOSIS, {"LeCun 1/n_in": lecun_var(512)})


# ---------------------------------------------------------------- He / Kaiming
@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_he_normal(shape, mode):
    fi, fo = fans(shape)
    fan, other = (fi, fo) if mode == "fan_in" else (fo, fi)
    W = filled(shape, nn.init.kaiming_normal_, 6, mode=mode, nonlinearity="relu")
    wrong = {"LeCun 1/n": 1 / fan, "other fan": he_var(other), "Xavier": xavier_var(fi, fo)}
    check_variance(W, he_var(fan), NORMAL_KURTOSIS, wrong)


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_he_uniform_variance_and_bound(shape, mode):
    fi, fo = fans(shape)
    fan, other = (fi, fo) if mode == "fan_in" else (fo, fi)
    W = filled(shape, nn.init.kaiming_uniform_, 7, mode=mode, nonlinearity="relu")
    # sqrt(6 / n) is the bound whose uniform distribution has He's variance 2 / n (torch.distributions.Uniform)
    assert torch_uniform_variance(he_bound(fan)) == pytest.approx(he_var(fan), rel=1e-12)
    wrong = {"LeCun 1/n": 1 / fan, "other fan": he_var(other)}
    check_variance(W, he_var(fan), UNIFORM_KURTOSIS, wrong)
    check_bound(W, he_bound(fan), [math.sqrt(2 / fan), he_bound(other)])


def test_he_default_arguments_are_relu_fan_in():
    # kaiming_normal_'s defaults (a=0, nonlinearity='leaky_relu', mode='fan_in') give 2 / n_in
    shape = (400, 2500)
    fi, fo = fans(shape)
    W = filled(shape, nn.init.kaiming_normal_, 8)
    check_variance(W, he_var(fi), NORMAL_KURTOSIS, {"LeCun": lecun_var(fi), "fan_out": he_var(fo)})


@pytest.mark.parametrize("a", [0.5, 1.0])
def test_he_for_leaky_relu(a):
    shape = (400, 2500)
    fi, _ = fans(shape)
    W = filled(shape, nn.init.kaiming_normal_, 9, a=a, nonlinearity="leaky_relu")
    check_variance(W, he_var(fi, a), NORMAL_KURTOSIS, {"plain He": he_var(fi)})


# ---------------------------------------------------------------- gains
def test_calculate_gain_table():
    for name, gain in GAINS.items():
        assert nn.init.calculate_gain(name) == pytest.approx(gain, rel=1e-15), name
    assert nn.init.calculate_gain("leaky_relu") == pytest.approx(leaky_gain(0.01), rel=1e-15)  # default slope
    for a in [0.0, 0.2, 1.0, math.sqrt(5)]:
        assert nn.init.calculate_gain("leaky_relu", a) == pytest.approx(leaky_gain(a), rel=1e-15)
    # slope 0 is ReLU's sqrt(2); slope sqrt(5) (nn.Linear's default init) gives sqrt(1/3)
    assert nn.init.calculate_gain("leaky_relu", 0.0) == pytest.approx(nn.init.calculate_gain("relu"), rel=1e-15)
    assert nn.init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3), rel=1e-15)


# ---------------------------------------------------------------- defaults of nn.Linear and nn.Conv2d
@pytest.mark.parametrize(
    "make, fan_in",
    [(lambda: nn.Linear(3000, 300), 3000), (lambda: nn.Conv2d(64, 256, 5), 64 * 25)],
    ids=["Linear", "Conv2d"],
)
def test_default_layer_init(make, fan_in):
    torch.manual_seed(10)
    layer = make().to(DT)
    bound = 1 / math.sqrt(fan_in)  # U(-1/sqrt(n_in), 1/sqrt(n_in))
    W, b = layer.weight.detach(), layer.bias.detach()
    check_bound(W, bound, [math.sqrt(6 / fan_in), math.sqrt(3 / fan_in)])
    wrong = {"LeCun": lecun_var(fan_in), "He": he_var(fan_in)}
    check_variance(W, 1 / (3 * fan_in), UNIFORM_KURTOSIS, wrong)  # Var = 1 / (3 n_in)
    # the same numbers come out of kaiming_uniform_ with a = sqrt(5), and the page's He bound for a = sqrt(5)
    same = filled(tuple(W.shape), nn.init.kaiming_uniform_, 22, a=math.sqrt(5))
    check_bound(same, bound, [math.sqrt(6 / fan_in)])
    check_bound(same, he_bound(fan_in, a=math.sqrt(5)))
    # bias: same interval, and (256 or 300 draws) its ends are nearly reached
    assert b.abs().max().item() <= bound and b.abs().max().item() > 0.9 * bound


# ---------------------------------------------------------------- the variance argument
def test_forward_variance_uses_second_moment_of_inputs():
    # Var(z) = n_in Var(w) E[x^2]; with ReLU inputs E[x^2] != Var(x), and the page's formula wins
    torch.manual_seed(11)
    n_in = 256
    x = F.relu(torch.randn(1024, n_in, dtype=DT))
    W = filled((1024, n_in), nn.init.kaiming_normal_, 12, nonlinearity="relu")
    z = x @ W.T
    var_w = he_var(n_in)
    predicted = n_in * var_w * x.pow(2).mean().item()
    wrong = n_in * var_w * x.var().item()  # Var(x) instead of E[x^2]
    assert z.var().item() == pytest.approx(predicted, rel=0.06)
    assert abs(wrong / predicted - 1) > 0.3  # 1 - 1/pi = 0.68
    assert x.pow(2).mean().item() == pytest.approx(0.5, rel=0.01)
    assert x.var().item() == pytest.approx(0.5 - 1 / (2 * math.pi), rel=0.01)


def test_relu_halves_the_second_moment_not_the_variance():
    torch.manual_seed(13)
    N = 2_000_000
    for s in [0.5, 1.0, 3.0]:
        z = torch.randn(N, dtype=DT) * s
        d = F.relu(z).pow(2) - 0.5 * z.pow(2)  # E[ReLU(z)^2] - E[z^2] / 2, estimated sample-wise
        assert abs(d.mean().item()) < ACCEPT_SE * d.std().item() / math.sqrt(N)
        assert F.relu(z).var().item() == pytest.approx((0.5 - 1 / (2 * math.pi)) * s**2, rel=0.01)


def test_backward_variance_uses_fan_out():
    # dL/dx_i = sum_j w_ji dL/dz_j: Var(dL/dx) = n_out Var(w) Var(dL/dz)
    torch.manual_seed(14)
    n_in, n_out = 200, 1000
    W = filled((n_out, n_in), nn.init.kaiming_normal_, 15, mode="fan_out", nonlinearity="linear")
    x = torch.randn(256, n_in, dtype=DT, requires_grad=True)
    delta = torch.randn(256, n_out, dtype=DT)  # upstream gradient dL/dz
    (gx,) = torch.autograd.grad((x @ W.T * delta).sum(), x)
    torch.testing.assert_close(gx, delta @ W)
    predicted = n_out * W.var().item() * delta.var().item()
    assert gx.var().item() == pytest.approx(predicted, rel=0.05)
    assert gx.var().item() == pytest.approx(1.0, rel=0.05)  # fan_out mode keeps it at 1
    assert abs(n_in * W.var().item() - 1) > 0.5  # while fan_in would not


def per_layer_log2_factor(var_w, depth=50, width=256, batch=64, init=None, seed=16):
    """Geometric-mean factor (log2) by which E[h^2] changes per ReLU layer (float32 is enough)."""
    g = torch.Generator().manual_seed(seed)
    h = torch.randn(batch, width, generator=g)
    start = h.pow(2).mean().item()
    for _ in range(depth):
        W = torch.empty(width, width)
        if init is None:
            W.normal_(0, math.sqrt(var_w), generator=g)
        else:
            init(W, generator=g)
        h = F.relu(h @ W.T)
    return math.log2(h.pow(2).mean().item() / start) / depth


def test_he_keeps_second_moment_over_50_relu_layers():
    n = 256
    # predicted per-layer factor: (1/2) n Var(w), i.e. 1 for He and 1/2 for 1/n_in
    for var_w, init in [
        (he_var(n), lambda W, generator: nn.init.kaiming_normal_(W, nonlinearity="relu", generator=generator)),
        (he_var(n), lambda W, generator: nn.init.kaiming_uniform_(W, nonlinearity="relu", generator=generator)),
        (lecun_var(n), lambda W, generator: nn.init.kaiming_normal_(W, nonlinearity="linear", generator=generator)),
        (4.0 / n, None),
    ]:
        predicted = math.log2(0.5 * n * var_w)
        got = per_layer_log2_factor(var_w, init=init)
        assert abs(got - predicted) < 0.1, (var_w * n, got, predicted)
    # the two claims on the page, in plain numbers: x1 per layer vs x1/2 per layer
    he = 2 ** (50 * per_layer_log2_factor(he_var(n)))
    lecun = 2 ** (50 * per_layer_log2_factor(lecun_var(n)))
    assert 1 / 8 < he < 8
    assert 1 / 8 < lecun / 0.5**50 < 8


def test_default_linear_shrinks_relu_activations_sixfold_per_layer():
    # nn.Linear's Var(w) = 1/(3 n_in): factor (1/2) n_in Var(w) = 1/6 per ReLU layer (biases off)
    torch.manual_seed(17)
    n, depth = 256, 10
    layers = [nn.Linear(n, n, bias=False).to(DT) for _ in range(depth)]
    h = torch.randn(128, n, dtype=DT)
    second = []
    with torch.no_grad():
        for layer in layers:
            h = F.relu(layer(h))
            second.append(h.pow(2).mean().item())
    per_layer = math.log2(second[-1] / second[0]) / (depth - 1)
    assert per_layer == pytest.approx(math.log2(1 / 6), abs=0.15)


# ---------------------------------------------------------------- symmetry
def train(net, steps=50, seed=18):
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randn(64, 3, generator=g), torch.randn(64, 1, generator=g)
    for _ in range(steps):  # plain gradient descent, lr = 0.1
        grads = torch.autograd.grad(F.mse_loss(net(x), y), list(net.parameters()))
        with torch.no_grad():
            for p, g in zip(net.parameters(), grads):
                p -= 0.1 * g
    return net


def test_equal_weights_stay_equal_and_zero_weights_stay_zero():
    net = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1))
    for p in net.parameters():
        nn.init.constant_(p, 0.3)
    train(net)
    W1, W2 = net[0].weight, net[2].weight
    # five identical hidden units (up to float rounding, 1e-7)
    assert (W1 - W1[:1]).abs().max() < 1e-6 and (W2 - W2[:, :1]).abs().max() < 1e-6
    assert not torch.allclose(W1, torch.full_like(W1, 0.3))  # and they did learn

    net = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1))
    for p in net.parameters():
        nn.init.zeros_(p)
    train(net)
    assert torch.all(net[0].weight == 0) and torch.all(net[2].weight == 0)
    assert net[2].bias.item() != 0  # only the output bias moves

    torch.manual_seed(19)
    net = train(nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1)))  # random init
    W1 = net[0].weight
    assert (W1 - W1[:1]).abs().max() > 0.1


# ---------------------------------------------------------------- mutation tests
# (name, torch.nn.init call, its kurtosis, the page's formula, a wrong formula): each wrong formula must be
# rejected by the same variance_ses measure that accepts the page's formula
SHAPE = (300, 3000)  # n_out = 300, n_in = 3000
FI, FO = fans(SHAPE)
VARIANCE_MUTANTS = [
    ("Xavier with 1/(n_in + n_out)", nn.init.xavier_normal_, {}, NORMAL_KURTOSIS, xavier_var(FI, FO), 1 / (FI + FO)),
    ("Xavier with 2/n_in", nn.init.xavier_normal_, {}, NORMAL_KURTOSIS, xavier_var(FI, FO), 2 / FI),
    ("Xavier uniform variance a^2/2", nn.init.xavier_uniform_, {}, UNIFORM_KURTOSIS, xavier_var(FI, FO),
     xavier_bound(FI, FO) ** 2 / 2),
    ("He with 1/n", nn.init.kaiming_normal_, dict(nonlinearity="relu"), NORMAL_KURTOSIS, he_var(FI), 1 / FI),
    ("He with fan_out", nn.init.kaiming_normal_, dict(nonlinearity="relu"), NORMAL_KURTOSIS, he_var(FI), he_var(FO)),
    ("He leaky with 2/((1 + a) n)", nn.init.kaiming_normal_, dict(a=0.5, nonlinearity="leaky_relu"), NORMAL_KURTOSIS,
     he_var(FI, 0.5), 2 / ((1 + 0.5) * FI)),
    ("tanh gain 5/3 not squared", nn.init.xavier_normal_, dict(gain=5 / 3), NORMAL_KURTOSIS,
     xavier_var(FI, FO, 5 / 3), 5 / 3 * xavier_var(FI, FO)),
]


@pytest.mark.parametrize("name,init,kwargs,kurtosis,right,wrong", VARIANCE_MUTANTS, ids=[m[0] for m in VARIANCE_MUTANTS])
def test_wrong_variance_formulas_are_caught(name, init, kwargs, kurtosis, right, wrong):
    W = filled(SHAPE, init, 30, **kwargs)
    assert variance_ses(W, right, kurtosis) < ACCEPT_SE
    assert variance_ses(W, wrong, kurtosis) > REJECT_SE - ACCEPT_SE  # far outside, not a near miss


@pytest.mark.parametrize("name,init,kwargs,right,wrong", [
    ("Xavier bound sqrt(3/(n_in + n_out))", nn.init.xavier_uniform_, {}, xavier_bound(FI, FO), math.sqrt(3 / (FI + FO))),
    ("He bound sqrt(2/n) (the std)", nn.init.kaiming_uniform_, dict(nonlinearity="relu"), he_bound(FI), math.sqrt(2 / FI)),
    ("He bound sqrt(6/n_out)", nn.init.kaiming_uniform_, dict(nonlinearity="relu"), he_bound(FI), he_bound(FO)),
    ("nn.Linear's bound sqrt(1/(3 n_in))", nn.init.kaiming_uniform_, dict(a=math.sqrt(5)), 1 / math.sqrt(FI),
     math.sqrt(1 / (3 * FI))),
])
def test_wrong_uniform_bounds_are_caught(name, init, kwargs, right, wrong):
    W = filled(SHAPE, init, 31, **kwargs)
    assert bound_violation(W, right) == 0.0
    assert bound_violation(W, wrong) > 1e-3


@pytest.mark.parametrize("name,wrong", [
    ("sqrt(2 / (1 - a^2))", lambda a: math.sqrt(2 / (1 - a**2))),
    ("sqrt(2) / (1 + a)", lambda a: math.sqrt(2) / (1 + a)),
    ("2 / (1 + a^2)", lambda a: 2 / (1 + a**2)),
])
def test_wrong_leaky_gains_are_caught(name, wrong):
    for a in (0.2, 0.5):  # (at a = 0 every one of these is sqrt(2) or 2)
        assert nn.init.calculate_gain("leaky_relu", a) == pytest.approx(leaky_gain(a), rel=1e-15)
        assert nn.init.calculate_gain("leaky_relu", a) != pytest.approx(wrong(a), rel=1e-3), name


# ---------------------------------------------------------------- the numbers the page states about Figures 1-3
SNIPPET = snippet_function("initialization", "experiment", "stated_numbers", "TANH_GAIN")
PAGES = [Path(__file__).resolve().parents[2] / "docs" / lang / "neural-networks" / "initialization.md" for lang in ("en", "ko")]


@functools.cache
def experiment_numbers():
    return SNIPPET["stated_numbers"](SNIPPET["experiment"]())


def sig(x, digits=2):
    """x rounded to `digits` significant figures, as the page writes it."""
    return float(f"{x:.{digits}g}")


def test_snippet_tanh_gain_is_pytorchs():
    assert SNIPPET["TANH_GAIN"] == nn.init.calculate_gain("tanh")


def test_tanh_xavier_decays_slowly_to_0074():
    """Issue 14: the page said "about 0.1" at layer 50; the experiment gives 0.074."""
    got = experiment_numbers()
    assert round(got["tanh, Xavier: std at layer 50"], 3) == 0.074  # 0.1 fails
    assert round(got["tanh, Xavier: std at layer 1"], 2) == 0.63
    assert round(got["tanh, Xavier: std at layer 10"], 2) == 0.23


def test_infinite_width_recursion_gives_about_01():
    """The mean-field recursion q <- E[tanh(sqrt(q) xi)^2] (infinite width) ends near 0.10, not 0.074."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(201)
    weights = weights / weights.sum()
    q = 1.0
    for _ in range(50):
        q = float((np.tanh(math.sqrt(q) * nodes) ** 2 * weights).sum())
    assert round(math.sqrt(q), 2) == 0.10
    assert abs(math.sqrt(q) - experiment_numbers()["tanh, Xavier: std at layer 50"]) > 0.02


def test_too_small_and_too_large():
    got = experiment_numbers()
    assert round(got["tanh, too small: std at layer 1"], 2) == 0.11  # sqrt(128) * 0.01
    assert got["tanh, too small: std at layer 50"] < 1e-40  # effectively zero
    assert got["tanh, too small: std at layer 10"] < 1e-8 and got["ReLU, too small: std at layer 10"] < 1e-8
    assert got["tanh, too small: largest |h| at layer 10"] < 0.02  # all in the histogram's middle bin
    assert round(got["tanh, too large: fraction of |h| > 0.99 at layer 50"], 2) == 0.81
    # "about 10^19": the too-large tanh network is chaotic, so only the order of magnitude is a
    # property of the experiment (MKL's code path moves the value between 0.9e19 and 1.4e19)
    assert round(math.log10(got["tanh, too large: gradient growth from layer 50 to layer 1"])) == 19


def test_tanh_gain_and_he_keep_the_variance():
    got = experiment_numbers()
    assert round(got["tanh, He: std at layer 50"], 2) == 0.55
    assert round(got["tanh, Xavier gain 5/3: std at layer 50"], 2) == 0.65
    assert sig(got["tanh, He: gradient growth from layer 50 to layer 1"], 1) == 9
    assert sig(got["tanh, Xavier gain 5/3: gradient growth from layer 50 to layer 1"], 1) == 80


def test_relu_he_and_xavier():
    got = experiment_numbers()
    low, high = got["ReLU, He: smallest and largest std over the layers"]
    assert (round(low, 2), round(high, 1)) == (0.38, 1.2)
    assert 1 / 3 < got["ReLU, He: gradient growth from layer 50 to layer 1"] < 3
    # same draws, weights scaled by 1/sqrt(2), and ReLU(c z) = c ReLU(z): exactly 2^-50 and (1/sqrt 2)^49
    assert got["ReLU, Xavier over He: second moment at layer 50"] == pytest.approx(2.0**-50, rel=1e-9)
    assert got["ReLU, Xavier over He: gradient std at layer 1"] == pytest.approx(2.0**-24.5, rel=1e-9)


def test_stated_numbers_appear_on_both_pages():
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for stated in ("0.074", "0.63", "0.23", "0.11", "81", "10¹⁹", "0.55", "0.65", "0.38", "1.2"):
            assert stated in text, f"{page}: {stated!r}"
