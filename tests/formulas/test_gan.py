"""Formula tests for docs/*/generative/gan.md.

The page's equations are implemented here from scratch and compared with PyTorch (and NumPy):

- the optimal discriminator D*(x) = p_data / (p_data + p_g), found by maximizing V(D, G) over D
  pointwise on a grid of candidate values, for known 1-D densities; the gradient of V vanishes there;
- V(D*, G) = -log 4 + 2 JSD(p_data || p_g), with V and the JSD integrated numerically and the JSD
  checked against torch.distributions.kl_divergence; V = -log 4 when p_g = p_data;
- the discriminator loss and the saturating and non-saturating generator losses (the snippet's
  functions) against F.binary_cross_entropy_with_logits with the right targets;
- the derivatives of the two generator losses with respect to the logit (autograd);
- the Frechet distance between Gaussians with a matrix square root by eigendecomposition, against
  the eigenvalues of C1 C2 (torch.linalg.eigvals), scipy.linalg.sqrtm when available, the 1-D closed
  form and the 1-D quantile integral; the Inception Score against torch's KL divergence;
- the snippet's hand-written Adam against torch.optim.Adam.

Mutation tests: swapped targets, the wrong sign, the JSD in bits, D* upside down and three wrong
Frechet distances must fail the same comparisons. The numbers the page states about the figures
come from a full, off-screen run of the snippet.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from snippet_code import run_snippet, snippet_function

SNIPPET = snippet_function("gan", "d_loss", "g_loss_saturating", "g_loss_nonsaturating", "Adam", "jsd",
                           "gaussian_pdf", "modes_covered", "ring_centers", "STD")
d_loss, g_sat, g_ns = SNIPPET["d_loss"], SNIPPET["g_loss_saturating"], SNIPPET["g_loss_nonsaturating"]
jsd, gaussian_pdf = SNIPPET["jsd"], SNIPPET["gaussian_pdf"]
DTYPE = torch.float64

# known 1-D densities: p_data = N(0, 1), p_g = a two-component mixture
X = np.linspace(-12, 12, 48001)
DX = X[1] - X[0]
P_DATA = gaussian_pdf(X, 0.0, 1.0)
P_G = 0.5 * gaussian_pdf(X, -1.5, 0.5) + 0.5 * gaussian_pdf(X, 2.0, 0.8)


def worst_of(*values):
    return max(values)


# ---------------------------------------------------------------------------
# D*(x) = p_data(x) / (p_data(x) + p_g(x)) maximizes V(D, G) pointwise
# ---------------------------------------------------------------------------
def page_d_star(p, q):
    return p / (p + q)


def d_star_off(formula):
    """Maximize p log D + q log(1 - D) over a grid of 200,001 values of D at 301 points x and
    compare the maximizer with formula(p, q), in units of the grid's spacing 5e-6."""
    candidates = np.linspace(1e-6, 1 - 1e-6, 200_001)
    idx = np.linspace(0, len(X) - 1, 301).astype(int)[60:-60]  # |x| < 7: both densities > 0
    worst = 0.0
    for i in idx:
        p, q = P_DATA[i], P_G[i]
        best = candidates[np.argmax(p * np.log(candidates) + q * np.log1p(-candidates))]
        worst = worst_of(worst, abs(best - formula(p, q)) / 5e-6)
    return worst


def test_optimal_discriminator_maximizes_v():
    assert d_star_off(page_d_star) <= 1.0


@pytest.mark.parametrize("name,wrong", [
    ("p_g / (p_data + p_g)", lambda p, q: q / (p + q)),
    ("p_data / p_g, clipped", lambda p, q: min(p / q, 1.0)),
    ("1/2 everywhere", lambda p, q: 0.5),
])
def test_wrong_optimal_discriminators_are_caught(name, wrong):
    assert d_star_off(wrong) > 100


def test_gradient_of_v_vanishes_at_d_star():
    """dV/dD(x) = p/D - q/(1 - D) is zero at D*, by autograd; not at the mutant q/(p+q)."""
    p, q = torch.from_numpy(P_DATA[20000:28000:100]), torch.from_numpy(P_G[20000:28000:100])
    for d, zero in [(page_d_star(p, q), True), (q / (p + q), False)]:
        d = d.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad((p * torch.log(d) + q * torch.log1p(-d)).sum(), d)
        if zero:
            assert grad.abs().max() < 1e-10
        else:
            assert grad.abs().max() > 0.1


# ---------------------------------------------------------------------------
# C(G) = V(D*, G) = -log 4 + 2 JSD(p_data || p_g)
# ---------------------------------------------------------------------------
def value_at_d_star(p, q):
    """V(D*, G) = integral of p log D* + q log(1 - D*), a Riemann sum on X; 1 - D* = q / (p + q)
    is written out so that it does not round to 0 in the tails, where p_g is far below p_data."""
    d, one_minus_d = page_d_star(p, q), q / (p + q)
    return np.sum(p * np.log(d) + q * np.log(one_minus_d)) * DX


def jsd_torch(p, q):
    """JSD of the discretized densities from torch.distributions.kl_divergence (nats)."""
    pc, qc = torch.from_numpy(p * DX), torch.from_numpy(q * DX)
    m = torch.distributions.Categorical(probs=0.5 * (pc + qc))
    kl = torch.distributions.kl_divergence
    return (0.5 * kl(torch.distributions.Categorical(probs=pc), m)
            + 0.5 * kl(torch.distributions.Categorical(probs=qc), m)).item()


def test_jsd_matches_torch_kl():
    assert np.sum(P_DATA) * DX == pytest.approx(1.0, abs=1e-9)
    assert np.sum(P_G) * DX == pytest.approx(1.0, abs=1e-9)
    assert jsd(P_DATA, P_G, DX) == pytest.approx(jsd_torch(P_DATA, P_G), abs=1e-9)
    assert 0.1 < jsd(P_DATA, P_G, DX) < math.log(2)


def page_c_of_g(js):  # C(G) = -log 4 + 2 JSD
    return -math.log(4) + 2 * js


def c_of_g_off(formula):
    """V(D*, G) integrated numerically against formula(JSD), in units of 1e-8."""
    return abs(value_at_d_star(P_DATA, P_G) - formula(jsd(P_DATA, P_G, DX))) / 1e-8


def test_value_at_optimal_discriminator_is_jsd():
    assert c_of_g_off(page_c_of_g) <= 1.0


@pytest.mark.parametrize("name,wrong", [
    ("JSD in bits", lambda js: -math.log(4) + 2 * js / math.log(2)),
    ("-log 4 + JSD", lambda js: -math.log(4) + js),
    ("-log 2 + 2 JSD", lambda js: -math.log(2) + 2 * js),
])
def test_wrong_values_at_optimum_are_caught(name, wrong):
    assert c_of_g_off(wrong) > 1e4


def test_global_optimum_is_minus_log_4():
    """p_g = p_data: D* = 1/2 everywhere, JSD = 0 and V = -log 4; any other p_g gives more."""
    np.testing.assert_allclose(page_d_star(P_DATA, P_DATA), 0.5, rtol=0, atol=1e-15)
    assert jsd(P_DATA, P_DATA, DX) == pytest.approx(0.0, abs=1e-15)
    assert value_at_d_star(P_DATA, P_DATA) == pytest.approx(-math.log(4), abs=1e-9)
    assert value_at_d_star(P_DATA, P_G) > -math.log(4) + 0.1


def test_jsd_of_disjoint_supports_is_log_2():
    """Two densities that do not overlap: JSD = log 2 whatever the distance between them."""
    for shift in (1.0, 3.0, 6.0):
        p = ((X > -0.5) & (X <= 0.5)).astype(float) / 1.0
        q = ((X > shift - 0.5 + 1e-9) & (X <= shift + 0.5)).astype(float) / 1.0
        p, q = p / (p.sum() * DX), q / (q.sum() * DX)
        assert jsd(p, q, DX) == pytest.approx(math.log(2), abs=1e-12)


# ---------------------------------------------------------------------------
# The losses, as binary cross-entropy with logits
# ---------------------------------------------------------------------------
def logits(seed, n=64):
    gen = torch.Generator().manual_seed(seed)
    return 3 * torch.randn(n, 1, generator=gen, dtype=DTYPE), 3 * torch.randn(n, 1, generator=gen, dtype=DTYPE)


def scratch_losses(a_real, a_fake):
    """From the page: D maximizes log D(x) + log(1 - D(G(z))); G minimizes log(1 - D(G(z))) or -log D(G(z))."""
    d_real, d_fake = torch.sigmoid(a_real), torch.sigmoid(a_fake)
    return {
        "d": -(torch.log(d_real).mean() + torch.log(1 - d_fake).mean()),
        "sat": torch.log(1 - d_fake).mean(),
        "ns": -torch.log(d_fake).mean(),
    }


def bce_losses(a_real, a_fake):
    bce = F.binary_cross_entropy_with_logits
    one, zero = torch.ones_like(a_real), torch.zeros_like(a_fake)
    return {"d": bce(a_real, one) + bce(a_fake, zero), "sat": -bce(a_fake, zero), "ns": bce(a_fake, torch.ones_like(a_fake))}


def losses_off(d_fn, sat_fn, ns_fn, seed):
    a_real, a_fake = logits(seed)
    want = scratch_losses(a_real, a_fake)
    got = {"d": d_fn(a_real, a_fake), "sat": sat_fn(a_fake), "ns": ns_fn(a_fake)}
    return max(abs((got[k] - want[k]).item()) for k in want) / 1e-12


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_losses_match_bce_with_logits(seed):
    a_real, a_fake = logits(seed)
    want, ref = scratch_losses(a_real, a_fake), bce_losses(a_real, a_fake)
    for k in want:
        torch.testing.assert_close(want[k], ref[k], rtol=1e-12, atol=1e-12)
    assert losses_off(d_loss, g_sat, g_ns, seed) <= 1.0  # the snippet's functions


@pytest.mark.parametrize("name,mutant", [
    ("D loss with swapped targets", (lambda r, f: F.binary_cross_entropy_with_logits(r, torch.zeros_like(r))
                                     + F.binary_cross_entropy_with_logits(f, torch.ones_like(f)), g_sat, g_ns)),
    ("saturating loss with the wrong sign", (d_loss, lambda f: -g_sat(f), g_ns)),
    ("non-saturating loss with target 0", (d_loss, g_sat,
                                           lambda f: F.binary_cross_entropy_with_logits(f, torch.zeros_like(f)))),
    ("non-saturating loss with the wrong sign", (d_loss, g_sat, lambda f: -g_ns(f))),
])
def test_wrong_losses_are_caught(name, mutant):
    assert losses_off(*mutant, 0) > 1e6


def test_generator_gradients_in_the_logit():
    """d/da log(1 - sigmoid(a)) = -sigmoid(a) -> 0 as D(G(z)) -> 0; d/da -log sigmoid(a) = sigmoid(a) - 1 -> -1."""
    a = torch.linspace(-20, 20, 401, dtype=DTYPE).reshape(-1, 1).requires_grad_(True)
    (g_s,) = torch.autograd.grad(g_sat(a) * a.numel(), a)  # per-example derivatives (the loss is a mean)
    (g_n,) = torch.autograd.grad(g_ns(a) * a.numel(), a)
    d = torch.sigmoid(a.detach())
    torch.testing.assert_close(g_s, -d, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(g_n, d - 1, rtol=1e-12, atol=1e-15)
    # D(G(z)) -> 0 (a -> -inf): the saturating gradient vanishes, the non-saturating one does not
    assert g_s[0].abs().item() < 1e-8 and g_n[0].abs().item() > 1 - 1e-8
    # the page's numbers at D(G(z)) = 0.01: |derivative| 0.01 against 0.99
    a01 = torch.logit(torch.tensor([[0.01]], dtype=DTYPE)).requires_grad_(True)
    assert torch.autograd.grad(g_sat(a01), a01)[0].abs().item() == pytest.approx(0.01, rel=1e-9)
    assert torch.autograd.grad(g_ns(a01), a01)[0].abs().item() == pytest.approx(0.99, rel=1e-9)
    # both losses have the same fixed points: their derivatives in D have the same sign everywhere
    assert ((g_s < 0) == (g_n < 0)).all()


# ---------------------------------------------------------------------------
# Frechet distance between Gaussians (FID's formula) and the Inception Score
# ---------------------------------------------------------------------------
def sqrtm_psd(c):
    """Square root of a symmetric positive semidefinite matrix by eigendecomposition."""
    lam, v = np.linalg.eigh(c)
    return (v * np.sqrt(np.clip(lam, 0, None))) @ v.T


def frechet(mu1, c1, mu2, c2):
    """||mu1 - mu2||^2 + Tr(C1 + C2 - 2 (C1 C2)^(1/2)), the trace term as Tr((C1^½ C2 C1^½)^½)."""
    s1 = sqrtm_psd(c1)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(c1 + c2 - 2 * sqrtm_psd(s1 @ c2 @ s1)))


def frechet_no_factor_2(mu1, c1, mu2, c2):
    s1 = sqrtm_psd(c1)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(c1 + c2 - sqrtm_psd(s1 @ c2 @ s1)))


def frechet_no_sqrt(mu1, c1, mu2, c2):
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(c1 + c2 - 2 * c1 @ c2))


def frechet_elementwise(mu1, c1, mu2, c2):
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(c1 + c2) - 2 * np.sum(np.sqrt(np.abs(c1 * c2))))


def random_gaussian(d, seed):
    gen = np.random.default_rng(seed)
    a = gen.normal(size=(d, d))
    return gen.normal(size=d), a @ a.T / d + 0.1 * np.eye(d)


def frechet_off(formula, d, seed):
    """formula against ||mu1 - mu2||^2 + Tr C1 + Tr C2 - 2 sum sqrt(eig(C1 C2)) from torch, units of 1e-9 (relative)."""
    mu1, c1 = random_gaussian(d, seed)
    mu2, c2 = random_gaussian(d, seed + 100)
    eig = torch.linalg.eigvals(torch.from_numpy(c1 @ c2))  # real and >= 0: C1 C2 is similar to C1^½ C2 C1^½
    assert eig.imag.abs().max() < 1e-9 * eig.real.abs().max()
    ref = np.sum((mu1 - mu2) ** 2) + np.trace(c1) + np.trace(c2) - 2 * eig.real.clamp(min=0).sqrt().sum().item()
    return abs(formula(mu1, c1, mu2, c2) - ref) / (1e-9 * abs(ref))


@pytest.mark.parametrize("d,seed", [(2, 0), (5, 1), (16, 2)])
def test_frechet_distance_matches_eigenvalues(d, seed):
    assert frechet_off(frechet, d, seed) <= 1.0


@pytest.mark.parametrize("wrong", [frechet_no_factor_2, frechet_no_sqrt, frechet_elementwise],
                         ids=lambda f: f.__name__)
def test_wrong_frechet_distances_are_caught(wrong):
    assert frechet_off(wrong, 5, 1) > 1e3


def test_frechet_distance_matches_scipy_sqrtm():
    """The way common FID code computes the trace term: scipy.linalg.sqrtm of the non-symmetric C1 C2."""
    linalg = pytest.importorskip("scipy.linalg")
    mu1, c1 = random_gaussian(8, 3)
    mu2, c2 = random_gaussian(8, 4)
    ref = np.sum((mu1 - mu2) ** 2) + np.trace(c1 + c2 - 2 * linalg.sqrtm(c1 @ c2).real)
    assert frechet(mu1, c1, mu2, c2) == pytest.approx(ref, rel=1e-9)


@pytest.mark.parametrize("m1,s1,m2,s2", [(0.0, 1.0, 1.0, 2.0), (0.3, 0.5, -1.2, 0.5), (2.0, 3.0, 2.0, 1.0)])
def test_frechet_distance_in_1d(m1, s1, m2, s2):
    """1-D: (m1 - m2)^2 + (s1 - s2)^2, and the W2^2 quantile integral of torch's Normal.icdf agrees."""
    closed = (m1 - m2) ** 2 + (s1 - s2) ** 2
    assert frechet(np.array([m1]), np.array([[s1**2]]), np.array([m2]), np.array([[s2**2]])) == pytest.approx(
        closed, rel=1e-12, abs=1e-12)
    u = (torch.arange(200_000, dtype=DTYPE) + 0.5) / 200_000  # midpoint rule on (0, 1)
    q1 = torch.distributions.Normal(torch.tensor(m1, dtype=DTYPE), s1).icdf(u)
    q2 = torch.distributions.Normal(torch.tensor(m2, dtype=DTYPE), s2).icdf(u)
    assert ((q1 - q2) ** 2).mean().item() == pytest.approx(closed, rel=2e-4, abs=1e-9)


def inception_score(probs):
    """exp(E_x KL(p(y|x) || p(y))), p(y) the mean of the rows."""
    marginal = probs.mean(0, keepdims=True)
    safe = np.where(probs > 0, probs, 1.0)  # 0 log 0 = 0
    kl = np.sum(probs * np.log(safe / np.where(probs > 0, marginal, 1.0)), axis=1)
    return float(np.exp(kl.mean()))


def test_inception_score():
    gen = torch.Generator().manual_seed(0)
    probs = torch.softmax(2 * torch.randn(500, 10, generator=gen, dtype=DTYPE), dim=1)
    cat = torch.distributions.Categorical
    kl = torch.distributions.kl_divergence(cat(probs=probs), cat(probs=probs.mean(0).expand_as(probs)))
    assert inception_score(probs.numpy()) == pytest.approx(math.exp(kl.mean().item()), rel=1e-12)
    assert 1.0 <= inception_score(probs.numpy()) <= 10.0
    # confident and spread evenly over K classes: IS = K; the same prediction for every x: IS = 1
    assert inception_score(np.eye(10)[np.arange(500) % 10]) == pytest.approx(10.0, rel=1e-12)
    assert inception_score(np.tile(probs[0].numpy(), (500, 1))) == pytest.approx(1.0, rel=1e-12)
    # one class only, however confident: IS = 1 (mode collapse is penalized ...)
    assert inception_score(np.eye(10)[np.zeros(500, dtype=int)]) == pytest.approx(1.0, rel=1e-12)
    # ... but one sample per class repeated 50 times scores the maximum 10 (diversity within a class is invisible)
    assert inception_score(np.eye(10)[np.repeat(np.arange(10), 50)]) == pytest.approx(10.0, rel=1e-12)


# ---------------------------------------------------------------------------
# The snippet's Adam is torch.optim.Adam
# ---------------------------------------------------------------------------
def test_hand_written_adam_matches_torch():
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(32, 3, generator=gen, dtype=DTYPE), torch.randn(32, 1, generator=gen, dtype=DTYPE)
    w0 = torch.randn(3, 1, generator=gen, dtype=DTYPE)
    a, b = w0.clone().requires_grad_(True), w0.clone().requires_grad_(True)
    ours, ref = SNIPPET["Adam"]([a], lr=0.05), torch.optim.Adam([b], lr=0.05, betas=(0.5, 0.999), eps=1e-8)
    for t in range(25):
        for w, opt in ((a, ours), (b, ref)):
            opt.zero_grad()
            ((x[t % 4::4] @ w - y[t % 4::4]) ** 2).mean().backward()
            opt.step()
        torch.testing.assert_close(a.detach(), b.detach(), rtol=1e-12, atol=1e-13)
    assert (a - w0).abs().max() > 0.1  # it moved


# ---------------------------------------------------------------------------
# What the page says about its figures, from a full run of the snippet
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def run():
    return run_snippet("gan")


def test_figure_numbers(run):
    assert run["figures"] == 4
    healthy, collapsed = dict(run["healthy"]), dict(run["collapsed"])
    # Figures 1-2: the healthy run covers all 8 modes at steps 300 and 600 (and 2 at step 100)
    assert healthy[600] == 8 and healthy[300] == 8 and healthy[100] == 2
    # Figure 2: the generator with 10x the learning rate covers 1 mode at the end, never more than 2 from step 300 on
    assert collapsed[600] == 1
    assert max(m for s, m in collapsed.items() if s >= 300) == 2
    # Figure 4: JSD = log 2 to four decimals at theta = 1, 0.676 at theta = 0.5; W1 = |theta|
    thetas, jsds = run["thetas"], run["jsds"]
    assert abs(jsds[-1] - math.log(2)) < 5e-5 and thetas[-1] == 1.0
    assert jsds[np.isclose(thetas, 0.5)][0] == pytest.approx(0.676, abs=5e-4)
    np.testing.assert_allclose(run["w1"], np.abs(thetas))


def test_modes_covered_counts_modes():
    centers = SNIPPET["ring_centers"]()
    std = SNIPPET["STD"]
    modes_covered = SNIPPET["modes_covered"]
    gen = torch.Generator().manual_seed(0)
    on_three = centers[torch.arange(300) % 3] + 0.5 * std * torch.randn(300, 2, generator=gen)
    assert modes_covered(on_three) == 3
    assert modes_covered(centers.repeat(10, 1)) == 8
    assert modes_covered(torch.zeros(100, 2)) == 0  # the center of the ring is no mode
