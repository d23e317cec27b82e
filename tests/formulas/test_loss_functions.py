"""Formula tests for docs/*/neural-networks/loss-functions.md.

The losses and their gradients are written from scratch, exactly as printed on the page,
and compared with PyTorch's loss functions (forward) and with autograd (gradients). Every
comparison goes through assert_matches; the mutation test at the end runs wrong formulas
through the same tolerances_off and tolerance. The numbers the page states about Figures 2 and 3
come from the snippet's own functions (snippets/loss_functions.py) and are asserted here.
"""

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from snippet_code import snippet_function

pytestmark = pytest.mark.usefixtures("float64")

SNIPPET = snippet_function("loss_functions", "losses_and_gradients", "two_classes", "train", "steps_to", "RUNS")
PAGES = {lang: (Path(__file__).resolve().parents[2] / "docs" / lang / "neural-networks" / "loss-functions.md")
         .read_text(encoding="utf-8") for lang in ("en", "ko")}


TOL = dict(rtol=1e-10, atol=1e-12)


def gen(seed):
    return torch.Generator().manual_seed(seed)


def tolerances_off(actual, expected):
    """How many tolerances (TOL) the worst entry is off: <= 1 is what assert_close(**TOL) accepts.
    A shape mismatch, or a NaN / inf where the reference has a number, counts as infinitely far."""
    actual, expected = torch.as_tensor(actual), torch.as_tensor(expected)
    if actual.shape != expected.shape:
        return math.inf
    off = (actual - expected).abs() / (TOL["atol"] + TOL["rtol"] * expected.abs())
    return off.nan_to_num(nan=math.inf, posinf=math.inf).max().item()


def assert_matches(actual, expected):
    off = tolerances_off(actual, expected)
    assert off <= 1.0, f"{off:.3g} tolerances off"


# ---------------------------------------------------------------- page formulas
def mse(pred, target):  # (1/n) sum (yhat - y)^2 over all n elements
    return ((pred - target) ** 2).sum() / pred.numel()


def logsumexp(z, dim):  # m + log sum exp(z - m), m = max z
    m = z.max(dim=dim, keepdim=True).values
    return (m + torch.log(torch.exp(z - m).sum(dim=dim, keepdim=True))).squeeze(dim)


def softmax(z, dim):  # exp(z_k - m) / sum_j exp(z_j - m)
    e = torch.exp(z - z.max(dim=dim, keepdim=True).values)
    return e / e.sum(dim=dim, keepdim=True)


def cross_entropy(z, y):  # per example: logsumexp(z) - z_y ; classes on dim 1
    lse = logsumexp(z, dim=1)
    z_y = z.gather(1, y.unsqueeze(1)).squeeze(1)
    return (lse - z_y).mean()


def cross_entropy_soft(z, q):  # - sum_k q_k log p_k, log p_k = z_k - logsumexp(z)
    log_p = z - logsumexp(z, dim=1).unsqueeze(1)
    return -(q * log_p).sum(dim=1).mean()


def softplus(z):  # log(1 + e^z) = max(z, 0) + log(1 + e^{-|z|})
    return torch.clamp(z, min=0) + torch.log1p(torch.exp(-z.abs()))


def bce_logits(z, y):  # max(z, 0) - y z + log(1 + e^{-|z|})
    return (torch.clamp(z, min=0) - y * z + torch.log1p(torch.exp(-z.abs()))).mean()


def bce_naive(z, y):  # -[y log sigma(z) + (1 - y) log(1 - sigma(z))]
    p = 1 / (1 + torch.exp(-z))
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()


def sigmoid(z):
    return 1 / (1 + torch.exp(-z))


def grad_of(loss_fn, z, *args):
    z = z.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(loss_fn(z, *args), z)
    return g


# ---------------------------------------------------------------- terminology and MSE
@pytest.mark.parametrize("shape", [(8,), (5, 3), (2, 4, 6)])
def test_mse_matches_torch_and_reductions(shape):
    g = gen(1)
    pred, target = torch.randn(shape, generator=g), torch.randn(shape, generator=g)
    assert_matches(mse(pred, target), F.mse_loss(pred, target))
    per_element = F.mse_loss(pred, target, reduction="none")
    assert_matches(per_element, (pred - target) ** 2)
    assert_matches(F.mse_loss(pred, target, reduction="sum"), mse(pred, target) * pred.numel())
    # gradient of the mean: 2 (yhat - y) / n
    assert_matches(grad_of(F.mse_loss, pred, target), 2 * (pred - target) / pred.numel())


def test_sum_reduction_scales_the_gradient_by_n():
    g = gen(2)
    x, y = torch.randn(32, 3, generator=g), torch.randn(32, generator=g)
    w = torch.randn(3, generator=g, requires_grad=True)
    (g_mean,) = torch.autograd.grad(F.mse_loss(x @ w, y), w)
    (g_sum,) = torch.autograd.grad(F.mse_loss(x @ w, y, reduction="sum"), w)
    assert_matches(g_sum, 32 * g_mean)


@pytest.mark.parametrize("sigma", [0.3, 1.0, 2.5])
def test_gaussian_nll_is_scaled_mse_plus_constant(sigma):
    g = gen(3)
    pred, target = torch.randn(50, generator=g), torch.randn(50, generator=g)
    var = torch.full_like(pred, sigma**2)
    nll = F.gaussian_nll_loss(pred, target, var, full=True)
    # -log N(y | yhat, sigma^2) = (y - yhat)^2 / (2 sigma^2) + log(2 pi sigma^2) / 2
    page = mse(pred, target) / (2 * sigma**2) + 0.5 * math.log(2 * math.pi * sigma**2)
    assert_matches(nll, page)


def test_conditional_mean_and_median():
    # the constant c minimising the mean squared error is the mean; for the absolute error, the median
    g = gen(4)
    y = torch.randn(101, generator=g) ** 3  # skewed, so mean != median
    cs = torch.linspace(y.min().item(), y.max().item(), 20001)
    sq = ((y[None, :] - cs[:, None]) ** 2).mean(dim=1)
    ab = (y[None, :] - cs[:, None]).abs().mean(dim=1)
    step = (cs[1] - cs[0]).item()
    assert abs(cs[sq.argmin()] - y.mean()) <= step
    assert abs(cs[ab.argmin()] - y.median()) <= step
    assert abs(y.mean() - y.median()) > 10 * step


# ---------------------------------------------------------------- softmax and cross-entropy
@pytest.mark.parametrize("n, c", [(1, 2), (7, 3), (16, 10)])
@pytest.mark.parametrize("scale", [1.0, 30.0, 1e4])
def test_cross_entropy_matches_torch(n, c, scale):
    g = gen(5)
    z = torch.randn(n, c, generator=g) * scale
    y = torch.randint(0, c, (n,), generator=g)
    ours = cross_entropy(z, y)
    assert torch.isfinite(ours)
    assert_matches(ours, F.cross_entropy(z, y))
    assert_matches(softmax(z, 1), torch.softmax(z, 1))
    assert_matches(logsumexp(z, 1), torch.logsumexp(z, 1))


def test_cross_entropy_with_extra_dimensions():
    # F.cross_entropy takes classes on dim 1: (N, C, d1, d2) with targets (N, d1, d2)
    g = gen(6)
    z = torch.randn(2, 5, 3, 4, generator=g) * 5
    y = torch.randint(0, 5, (2, 3, 4), generator=g)
    flat_z = z.permute(0, 2, 3, 1).reshape(-1, 5)
    assert_matches(cross_entropy(flat_z, y.reshape(-1)), F.cross_entropy(z, y))


def test_naive_softmax_overflows_but_stable_form_does_not():
    z = torch.tensor([[1000.0, 0.0, -1000.0]], dtype=torch.float32)
    naive = torch.exp(z) / torch.exp(z).sum(dim=1, keepdim=True)
    assert torch.isnan(naive).any()
    torch.testing.assert_close(softmax(z, 1), torch.tensor([[1.0, 0.0, 0.0]]).float())
    assert torch.isfinite(cross_entropy(z, torch.tensor([2])))  # = 2000, not inf


@pytest.mark.parametrize("n, c", [(1, 2), (7, 3), (16, 10)])
@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_cross_entropy_gradient_is_p_minus_y(n, c, scale):
    g = gen(7)
    z = torch.randn(n, c, generator=g) * scale
    y = torch.randint(0, c, (n,), generator=g)
    onehot = F.one_hot(y, c).to(z.dtype)
    # mean over the batch, so each row is (p - y) / N
    assert_matches(grad_of(F.cross_entropy, z, y), (softmax(z, 1) - onehot) / n)
    assert_matches(grad_of(cross_entropy, z, y), (softmax(z, 1) - onehot) / n)


def test_softmax_jacobian_and_shift_invariance():
    g = gen(8)
    z = torch.randn(6, generator=g)
    p = softmax(z, 0)
    J = torch.autograd.functional.jacobian(lambda t: torch.softmax(t, 0), z)
    assert_matches(J, torch.diag(p) - torch.outer(p, p))  # p_i (delta_ij - p_j)
    assert_matches(softmax(z + 123.4, 0), torch.softmax(z, 0))
    # two classes: softmax([z, 0])_0 = sigma(z)
    assert_matches(softmax(torch.stack([z, torch.zeros_like(z)]), 0)[0], torch.sigmoid(z))


def test_soft_targets_cross_entropy_and_kl():
    g = gen(9)
    z = torch.randn(10, 4, generator=g) * 3
    q = torch.softmax(torch.randn(10, 4, generator=g), 1)  # a target distribution per example
    assert_matches(cross_entropy_soft(z, q), F.cross_entropy(z, q))
    # H(q, p) = H(q) + KL(q || p)
    entropy = -(q * q.log()).sum(1).mean()
    kl = F.kl_div(torch.log_softmax(z, 1), q, reduction="batchmean")
    assert_matches(cross_entropy_soft(z, q), entropy + kl)
    assert kl > 0
    # one-hot targets: H(q) = 0 and the soft formula is the class-index formula
    y = torch.randint(0, 4, (10,), generator=g)
    assert_matches(cross_entropy_soft(z, F.one_hot(y, 4).double()), F.cross_entropy(z, y))


def test_double_softmax_is_a_different_loss():
    g = gen(10)
    z = torch.randn(20, 5, generator=g) * 4
    y = torch.randint(0, 5, (20,), generator=g)
    right = F.cross_entropy(z, y)
    wrong = F.cross_entropy(torch.softmax(z, 1), y)  # softmax applied twice
    assert not torch.allclose(right, wrong)
    # the "logits" are now probabilities in [0, 1]: the loss is stuck in [log(e + C - 1) - 1, log(e + C - 1)]
    top = math.log(math.e + 4)
    assert top - 1 <= wrong <= top
    perfect = torch.eye(5) * 1e4  # confident and right
    assert F.cross_entropy(perfect, torch.arange(5)) < 1e-9
    assert F.cross_entropy(torch.softmax(perfect, 1), torch.arange(5)) == pytest.approx(top - 1)
    assert_matches(F.nll_loss(torch.log_softmax(z, 1), y), right)


# ---------------------------------------------------------------- binary cross-entropy
@pytest.mark.parametrize("scale", [1.0, 10.0, 100.0, 1e4])
@pytest.mark.parametrize("n", [1, 9, 64])
def test_bce_with_logits_matches_torch(scale, n):
    g = gen(11)
    z = torch.randn(n, generator=g) * scale
    y = torch.randint(0, 2, (n,), generator=g).double()
    ours = bce_logits(z, y)
    assert torch.isfinite(ours)
    assert_matches(ours, F.binary_cross_entropy_with_logits(z, y))
    # soft labels in [0, 1] too
    y_soft = torch.rand(n, generator=g)
    assert_matches(bce_logits(z, y_soft), F.binary_cross_entropy_with_logits(z, y_soft))


def test_bce_forms_agree_for_moderate_logits():
    g = gen(12)
    z = torch.randn(100, generator=g) * 3
    y = torch.randint(0, 2, (100,), generator=g).double()
    assert_matches(bce_naive(z, y), F.binary_cross_entropy_with_logits(z, y))
    assert_matches(bce_naive(z, y), F.binary_cross_entropy(torch.sigmoid(z), y))
    # y softplus(-z) + (1 - y) softplus(z) = softplus(z) - y z
    assert_matches((y * softplus(-z) + (1 - y) * softplus(z)).mean(), F.binary_cross_entropy_with_logits(z, y))
    assert_matches(softplus(z), F.softplus(z))


def test_bce_on_probabilities_breaks_for_extreme_logits():
    z = torch.tensor([40.0, -40.0], dtype=torch.float32)
    y = torch.tensor([0.0, 1.0], dtype=torch.float32)  # confidently wrong
    assert torch.isinf(bce_naive(z, y))  # sigma(40) rounds to 1 in float32: log(0)
    clamped = F.binary_cross_entropy(torch.sigmoid(z), y, reduction="none")  # PyTorch clamps log at -100
    assert clamped.tolist() == pytest.approx([100.0, 40.0], rel=1e-6)
    stable = F.binary_cross_entropy_with_logits(z, y, reduction="none")
    assert stable.tolist() == pytest.approx([40.0, 40.0], rel=1e-6)  # the true values
    assert bce_logits(z.double(), y.double()).item() == pytest.approx(40.0, rel=1e-12)


@pytest.mark.parametrize("scale", [1.0, 10.0, 100.0])
def test_bce_gradient_is_sigma_minus_y(scale):
    g = gen(13)
    n = 25
    z = torch.randn(n, generator=g) * scale
    y = torch.randint(0, 2, (n,), generator=g).double()
    expected = (sigmoid(z) - y) / n
    assert_matches(grad_of(F.binary_cross_entropy_with_logits, z, y), expected)
    assert_matches(grad_of(bce_logits, z, y), expected)


def test_margin_form_of_the_logistic_loss():
    g = gen(14)
    z = torch.randn(40, generator=g) * 5
    y = torch.randint(0, 2, (40,), generator=g).double()
    t = 2 * y - 1  # labels in {-1, +1}
    logistic = softplus(-t * z).mean()  # log(1 + e^{-t z})
    assert_matches(logistic, F.binary_cross_entropy_with_logits(z, y))
    assert_matches(logistic, F.soft_margin_loss(z, t))
    # the squared error on +-1 targets is a function of the margin too: (t - z)^2 = (1 - t z)^2
    assert_matches((1 - t * z) ** 2, F.mse_loss(z, t, reduction="none"))
    # hinge, logistic and exponential upper-bound the 0-1 loss (logistic after dividing by log 2)
    m = t * z
    zero_one = (m <= 0).double()
    assert torch.all(F.relu(1 - m) >= zero_one)
    assert torch.all(torch.exp(-m) >= zero_one)
    assert torch.all(softplus(-m) / math.log(2) >= zero_one)


# ---------------------------------------------------------------- why MSE learns slowly
def test_mse_through_sigmoid_gradient():
    g = gen(15)
    z = torch.randn(200, generator=g) * 6
    y = torch.randint(0, 2, (200,), generator=g).double()
    p = sigmoid(z)
    # l = (p - y)^2 / 2 per example: dl/dz = (p - y) p (1 - p)
    autograd = grad_of(lambda t, y: 0.5 * F.mse_loss(torch.sigmoid(t), y, reduction="sum"), z, y)
    assert_matches(autograd, (p - y) * p * (1 - p))
    # |MSE gradient| <= |CE gradient| / 4 everywhere
    assert torch.all(autograd.abs() <= (p - y).abs() / 4 + 1e-15)


def test_mse_gradient_vanishes_when_confidently_wrong():
    z = torch.tensor([-10.0, -5.0, 0.0])  # y = 1: p = 4.5e-5, 6.7e-3, 0.5
    y = torch.ones(3)
    ce = grad_of(lambda t, y: F.binary_cross_entropy_with_logits(t, y, reduction="sum"), z, y)
    sq = grad_of(lambda t, y: 0.5 * ((torch.sigmoid(t) - y) ** 2).sum(), z, y)
    assert ce[0] < -0.9999 and abs(sq[0]) < 5e-5
    assert abs(sq[2] - (-0.125)) < 1e-15 and abs(ce[2] - (-0.5)) < 1e-15


def test_mse_through_softmax_gradient():
    g = gen(16)
    z = torch.randn(8, 5, generator=g) * 4
    y = F.one_hot(torch.randint(0, 5, (8,), generator=g), 5).double()
    p = softmax(z, 1)
    # l = ||p - y||^2 / 2: dl/dz = J^T (p - y), J = diag(p) - p p^T, i.e.
    # dl/dz_k = p_k [(p_k - y_k) - sum_j p_j (p_j - y_j)]
    r = p - y
    expected = p * (r - (p * r).sum(1, keepdim=True))
    autograd = grad_of(lambda t, y: 0.5 * ((torch.softmax(t, 1) - y) ** 2).sum(), z, y)
    assert_matches(autograd, expected)


def second_derivative(loss_fn, z):
    """d^2 loss / dz^2 elementwise, by autograd (double backward)."""
    z = z.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(loss_fn(z).sum(), z, create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), z)
    return h


def test_mse_through_sigmoid_is_not_convex_but_ce_is():
    z = torch.linspace(-8, 8, 1601)
    for y in (0.0, 1.0):
        target = torch.full_like(z, y)
        d2_sq = second_derivative(lambda t: 0.5 * F.mse_loss(torch.sigmoid(t), target, reduction="none"), z)
        d2_ce = second_derivative(lambda t: F.binary_cross_entropy_with_logits(t, target, reduction="none"), z)
        assert (d2_sq < -1e-3).any()  # concave somewhere
        assert_matches(d2_ce, sigmoid(z) * (1 - sigmoid(z)))  # the page's sigma(z)(1 - sigma(z)) ...
        assert (d2_ce > 0).all()  # ... which is > 0


# ---------------------------------------------------------------- the figures' numbers
def test_figure2_squared_error_gradient_peaks_at_4_27_and_vanishes_when_wrong():
    """Figure 2: the squared-error gradient p(1 - p)^2 peaks at 4/27 at p = 1/3 and vanishes in the
    confidently wrong region (p < 0.1), where the cross-entropy gradient 1 - p stays above 0.9."""
    p = torch.linspace(0.001, 0.999, 999)  # the snippet's grid, step 0.001
    ce, mse_loss, ce_grad, mse_grad = SNIPPET["losses_and_gradients"](p)
    assert_matches(ce, -torch.log(p))
    assert_matches(mse_loss, 0.5 * (1 - p) ** 2)
    assert_matches(ce_grad, p - 1)  # p - y with y = 1
    assert_matches(mse_grad, (p - 1) * p * (1 - p))
    peak = mse_grad.abs().argmax()
    assert mse_grad.abs()[peak].item() == pytest.approx(4 / 27, abs=1e-6)
    assert p[peak].item() == pytest.approx(1 / 3, abs=1e-3)
    wrong = p < 0.1
    assert mse_grad.abs()[wrong].max() < 0.09 and ce_grad.abs()[wrong].min() > 0.9
    assert mse_grad.abs()[0] < 1e-3  # p = 0.001: the gradient is gone


def test_figure3_steps_to_90_percent():
    """Figure 3 and the prose: cross-entropy passes 90% training accuracy after 7 steps; squared error
    at the same learning rate stays below 90% for all 300 steps; at 4x the learning rate it takes 77."""
    X, labels = SNIPPET["two_classes"]()
    expected = {"ce": 7, "mse 0.5": None, "mse 2.0": 77}
    for name, loss, lr, *_ in SNIPPET["RUNS"]:
        acc, xent = SNIPPET["train"](X, labels, loss, lr)
        key = "ce" if loss == "ce" else f"mse {lr}"
        assert SNIPPET["steps_to"](acc) == expected[key], name
        assert len(acc) == 300 and acc[0] < 0.1  # a confidently wrong start
        if key == "mse 0.5":
            assert acc.max() < 0.9 and acc[-1].item() == pytest.approx(0.825)
    for lang, text in PAGES.items():
        for number in ("7", "77", "300"):
            assert number in text, f"{lang}: Figure 3's step count {number} is not on the page"


def test_cross_entropy_gradient_components_lie_in_the_open_interval():
    """Page: each component of p - y lies in (-1, 1), open (softmax probabilities are never 0 or 1)."""
    g = gen(17)
    z = torch.randn(50, 7, generator=g) * 5
    y = F.one_hot(torch.randint(0, 7, (50,), generator=g), 7).double()
    r = softmax(z, 1) - y
    assert (r.abs() < 1).all() and (r.abs() > 0).all()


def brier_risk(ps, q):
    """E[(p - Y)^2] with Y ~ Bernoulli(q), by torch's squared error on both outcomes."""
    return q * F.mse_loss(ps, torch.ones_like(ps), reduction="none") + (1 - q) * F.mse_loss(
        ps, torch.zeros_like(ps), reduction="none")


def test_brier_score_is_minimised_by_the_true_probability():
    # E[(p - Y)^2] with Y ~ Bernoulli(q) is (p - q)^2 + q (1 - q): minimum at p = q
    ps = torch.linspace(0, 1, 1001)
    for q in (0.1, 0.35, 0.8):
        risk = brier_risk(ps, q)
        assert_matches((ps - q) ** 2 + q * (1 - q), risk)
        assert abs(ps[risk.argmin()].item() - q) < 1e-3


# ---------------------------------------------------------------- mutation test
def _z_y(seed, n=12, c=5, scale=3.0):
    g = gen(seed)
    return torch.randn(n, c, generator=g) * scale, torch.randint(0, c, (n,), generator=g)


def _binary(seed, n=40, scale=4.0):
    g = gen(seed)
    return torch.randn(n, generator=g) * scale, torch.randint(0, 2, (n,), generator=g).double()


# (name, correct formula, wrong formula, reference, inputs): both formulas go through tolerances_off.
# The inputs are made inside the test, where the float64 fixture is active.
def ce_inputs():
    return _z_y(20)


def binary_inputs():
    return _binary(21)


def mse_inputs():
    return torch.randn(6, 4, generator=gen(22)), torch.randn(6, 4, generator=gen(23))


MUTANTS = [
    ("MSE divided by the batch size, not by every element", mse,
     lambda p, t: ((p - t) ** 2).sum() / p.shape[0], F.mse_loss, mse_inputs),
    ("MSE gradient without the 2", lambda p, t: 2 * (p - t) / p.numel(), lambda p, t: (p - t) / p.numel(),
     lambda p, t: grad_of(F.mse_loss, p, t), mse_inputs),
    ("softmax over the batch (dim 0)", cross_entropy,
     lambda z, y: -torch.log(softmax(z, 0)).gather(1, y[:, None]).mean(), F.cross_entropy, ce_inputs),
    ("cross-entropy without the logsumexp (z_y alone)", cross_entropy,
     lambda z, y: -z.gather(1, y[:, None]).mean(), F.cross_entropy, ce_inputs),
    ("cross-entropy summed, not averaged", cross_entropy,
     lambda z, y: cross_entropy(z, y) * z.shape[0], F.cross_entropy, ce_inputs),
    ("cross-entropy gradient y - p", lambda z, y: (softmax(z, 1) - F.one_hot(y, 5)) / z.shape[0],
     lambda z, y: (F.one_hot(y, 5) - softmax(z, 1)) / z.shape[0], lambda z, y: grad_of(F.cross_entropy, z, y), ce_inputs),
    ("cross-entropy gradient without 1/N", lambda z, y: (softmax(z, 1) - F.one_hot(y, 5)) / z.shape[0],
     lambda z, y: softmax(z, 1) - F.one_hot(y, 5), lambda z, y: grad_of(F.cross_entropy, z, y), ce_inputs),
    ("BCE with logits, + y z", bce_logits,
     lambda z, y: (torch.clamp(z, min=0) + y * z + torch.log1p(torch.exp(-z.abs()))).mean(),
     F.binary_cross_entropy_with_logits, binary_inputs),
    ("BCE with logits, log(1 + e^{-z}) without |.|", bce_logits,
     lambda z, y: (torch.clamp(z, min=0) - y * z + torch.log1p(torch.exp(-z))).mean(),
     F.binary_cross_entropy_with_logits, binary_inputs),
    ("BCE gradient sigma(z) (1 - sigma(z))", lambda z, y: (sigmoid(z) - y) / z.numel(),
     lambda z, y: sigmoid(z) * (1 - sigmoid(z)) / z.numel(),
     lambda z, y: grad_of(F.binary_cross_entropy_with_logits, z, y), binary_inputs),
    ("logistic loss log(1 + e^{t z})", lambda z, y: softplus(-(2 * y - 1) * z).mean(),
     lambda z, y: softplus((2 * y - 1) * z).mean(), F.binary_cross_entropy_with_logits, binary_inputs),
    ("Gaussian NLL without the 1/2 on the log", lambda p, t: mse(p, t) / (2 * 0.7**2) + 0.5 * math.log(2 * math.pi * 0.7**2),
     lambda p, t: mse(p, t) / (2 * 0.7**2) + math.log(2 * math.pi * 0.7**2),
     lambda p, t: F.gaussian_nll_loss(p, t, torch.full_like(p, 0.7**2), full=True), mse_inputs),
    ("Gaussian NLL with sigma instead of sigma^2", lambda p, t: mse(p, t) / (2 * 0.7**2) + 0.5 * math.log(2 * math.pi * 0.7**2),
     lambda p, t: mse(p, t) / (2 * 0.7) + 0.5 * math.log(2 * math.pi * 0.7),
     lambda p, t: F.gaussian_nll_loss(p, t, torch.full_like(p, 0.7**2), full=True), mse_inputs),
]


@pytest.mark.parametrize("name,correct,wrong,reference,inputs", MUTANTS, ids=[m[0] for m in MUTANTS])
def test_wrong_loss_formulas_are_caught(name, correct, wrong, reference, inputs):
    inputs = inputs()
    assert inputs[0].dtype == torch.float64
    expected = reference(*inputs)
    assert tolerances_off(correct(*inputs), expected) <= 1.0  # the page's formula passes the comparison ...
    off = tolerances_off(wrong(*inputs), expected)
    assert off > 1e6, f"{name}: only {off:.3g} tolerances off"  # ... the slip does not
