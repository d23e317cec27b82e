"""Formula tests for docs/*/generative/diffusion.md.

The page's equations are implemented here from scratch and compared with an independent
computation: the closed form q(x_t | x_0) with the iterated one-step process (statistically, many
samples), the product definition of abar_t with the schedules of the snippet, the posterior
q(x_{t-1} | x_t, x_0) with Bayes' rule done numerically on a grid (densities from
torch.distributions), the weighted noise-prediction loss with torch.distributions.kl_divergence,
and the ancestral sampler of snippets/diffusion.py with an oracle noise predictor (it must return
x_0 exactly) and with the exact score of a Gaussian (it must reproduce that Gaussian). The
numbers the page states about its figures are asserted at the end. Mutation tests run wrong
formulas (beta_t for abar_t, a missing square root, the wrong sign, wrong posterior variance)
through the same comparisons.
"""

import functools
import math

import numpy as np
import pytest
import torch

from snippet_code import snippet_function

DTYPE = torch.float64
SNIPPET = snippet_function("diffusion", "linear_schedule", "cosine_schedule", "alpha_bars", "snr", "q_sample",
                           "posterior_mean_var", "sample", "diffusion_experiment", "schedule_numbers", "chamfer")
linear_schedule, cosine_schedule = SNIPPET["linear_schedule"], SNIPPET["cosine_schedule"]
alpha_bars, q_sample, sample = SNIPPET["alpha_bars"], SNIPPET["q_sample"], SNIPPET["sample"]
posterior_mean_var = SNIPPET["posterior_mean_var"]

SCHEDULES = {"linear-1000": lambda: linear_schedule(1000), "cosine-50": lambda: cosine_schedule(50),
             "cosine-1000": lambda: cosine_schedule(1000)}


def worst_of(*values):
    """max() that treats NaN as infinitely bad."""
    return max(math.inf if math.isnan(v) else v for v in values)


# ---------------------------------------------------------------------------
# abar_t = prod_{s<=t} alpha_s, alpha_s = 1 - beta_s;  the two schedules as the papers define them
# ---------------------------------------------------------------------------
def product_definition(betas):  # a plain loop over Python floats
    out, prod = [], 1.0
    for b in betas.tolist():
        prod *= 1.0 - b
        out.append(prod)
    return torch.tensor(out, dtype=DTYPE)


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_alpha_bar_is_the_product_of_alphas(name):
    betas = SCHEDULES[name]()
    assert betas[0] == 0 and len(betas) == int(name.split("-")[1]) + 1
    torch.testing.assert_close(alpha_bars(betas), product_definition(betas), rtol=1e-12, atol=0)
    # the mutation "abar_t = 1 - sum beta_s" (first order only) is caught by the same comparison
    wrong = 1 - torch.cumsum(betas, 0)
    assert (wrong - product_definition(betas)).abs().max() > 1e-3


def test_linear_schedule_is_ho_et_al():
    betas = linear_schedule(1000)
    assert betas[1].item() == pytest.approx(1e-4, rel=1e-12) and betas[1000].item() == pytest.approx(0.02, rel=1e-12)
    steps = betas[2:] - betas[1:-1]
    torch.testing.assert_close(steps, torch.full_like(steps, (0.02 - 1e-4) / 999), rtol=1e-9, atol=0)


@pytest.mark.parametrize("T", [50, 1000])
def test_cosine_schedule_is_nichol_dhariwal(T):
    """abar_t = f(t)/f(0), f(t) = cos^2(((t/T + s)/(1 + s)) pi/2), s = 0.008, written with numpy; beta clipped at 0.999."""
    s = 0.008
    t = np.arange(T + 1)
    f = np.cos((t / T + s) / (1 + s) * np.pi / 2) ** 2
    betas = cosine_schedule(T)
    assert betas.max().item() == pytest.approx(0.999)  # the clip only bites at the very end
    clipped = int((betas >= 0.999).sum())
    assert clipped == 1 and betas[T].item() == pytest.approx(0.999)
    np.testing.assert_allclose(alpha_bars(betas)[:T].numpy(), f[:T] / f[0], rtol=1e-10, atol=0)
    torch.testing.assert_close(SNIPPET["snr"](betas), alpha_bars(betas)[1:] / (1 - alpha_bars(betas)[1:]))


# ---------------------------------------------------------------------------
# q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I)  vs  iterating q(x_t | x_{t-1}) t times
# ---------------------------------------------------------------------------
N_MC = 100_000
X0 = 1.5


def iterated_process(x0, t, betas, n, seed):
    """x_s = sqrt(1 - beta_s) x_{s-1} + sqrt(beta_s) z_s, s = 1..t, for n independent chains."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.full((n,), x0, dtype=DTYPE)
    for s in range(1, t + 1):
        x = (1 - betas[s]).sqrt() * x + betas[s].sqrt() * torch.randn(n, generator=gen, dtype=DTYPE)
    return x


def page_moments(x0, t, betas):  # mean sqrt(abar_t) x_0, variance 1 - abar_t
    ab = alpha_bars(betas)[t]
    return (ab.sqrt() * x0).item(), (1 - ab).item()


@functools.cache
def chain_at(name, t):
    """Samples of the iterated process at step t (cached: every formula, right or wrong, meets the same draws)."""
    return iterated_process(X0, t, SCHEDULES[name](), N_MC, seed=t)


def moments_off(moments, cases):
    """Largest |sample moment - formula| in units of 5 standard errors, over the cases (schedule, t)."""
    worst = 0.0
    for name, t in cases:
        x = chain_at(name, t)
        mean, var = moments(X0, t, SCHEDULES[name]())
        se_mean, se_var = math.sqrt(var / N_MC), var * math.sqrt(2 / N_MC)
        worst = worst_of(worst, abs(x.mean().item() - mean) / (5 * se_mean),
                         abs(x.var().item() - var) / (5 * se_var))
    return worst


CASES = [("cosine-50", 5), ("cosine-50", 10), ("cosine-50", 25), ("cosine-50", 40), ("linear-1000", 150)]


def test_closed_form_matches_the_iterated_process():
    assert moments_off(page_moments, CASES) <= 1.0


def test_q_sample_draws_match_the_iterated_process():
    """The snippet's one-shot q_sample against the iterated chain: two-sample z-tests on mean and variance."""
    betas = cosine_schedule(50)
    for t in (5, 25, 40):
        gen = torch.Generator().manual_seed(100 + t)
        eps = torch.randn(N_MC, 1, generator=gen, dtype=DTYPE)
        x0 = torch.full((N_MC, 1), X0, dtype=DTYPE)
        one_shot = q_sample(x0, torch.full((N_MC,), t), betas, eps)[:, 0]
        chain = chain_at("cosine-50", t)
        var = chain.var().item()
        assert abs(one_shot.mean().item() - chain.mean().item()) < 5 * math.sqrt(2 * var / N_MC)
        assert abs(one_shot.var().item() - var) < 5 * var * math.sqrt(4 / N_MC)


@pytest.mark.parametrize("name,wrong", [
    ("beta_t instead of abar_t", lambda x0, t, b: ((1 - b[t]).sqrt() * x0).item() and
     (((1 - b[t]).sqrt() * x0).item(), b[t].item())),
    ("variance abar_t instead of 1 - abar_t", lambda x0, t, b: (page_moments(x0, t, b)[0],
                                                                 alpha_bars(b)[t].item())),
    ("no square root on the mean", lambda x0, t, b: ((alpha_bars(b)[t] * x0).item(), page_moments(x0, t, b)[1])),
    ("sum of betas as the variance", lambda x0, t, b: (page_moments(x0, t, b)[0], b[1:t + 1].sum().item())),
])
def test_wrong_closed_forms_are_caught(name, wrong):
    assert moments_off(page_moments, CASES) <= 1.0
    assert moments_off(wrong, CASES) > 3.0


# ---------------------------------------------------------------------------
# posterior q(x_{t-1} | x_t, x_0) = N(mu_tilde, beta_tilde)  vs  Bayes' rule on a grid
# ---------------------------------------------------------------------------
@functools.cache
def bayes_on_grid(x_t, x0, t, name):
    """Mean and variance of q(x_{t-1} | x_0) q(x_t | x_{t-1}), normalized numerically (1-D)."""
    betas = SCHEDULES[name]()
    ab = alpha_bars(betas)
    prior = torch.distributions.Normal(ab[t - 1].sqrt() * x0, (1 - ab[t - 1]).sqrt())
    a_t = (1 - betas[t]).sqrt()
    # the posterior lies between the prior's mean and x_t / sqrt(alpha_t): cover both generously
    lo = min(prior.mean.item(), x_t / a_t.item()) - 14 * max(prior.stddev.item(), (betas[t].sqrt() / a_t).item())
    hi = max(prior.mean.item(), x_t / a_t.item()) + 14 * max(prior.stddev.item(), (betas[t].sqrt() / a_t).item())
    grid = torch.linspace(lo, hi, 200_001, dtype=DTYPE)
    log_p = prior.log_prob(grid) + torch.distributions.Normal(a_t * grid, betas[t].sqrt()).log_prob(
        torch.tensor(x_t, dtype=DTYPE))
    w = torch.exp(log_p - log_p.max())
    w = w / torch.trapezoid(w, grid)
    mean = torch.trapezoid(w * grid, grid)
    return mean.item(), torch.trapezoid(w * (grid - mean) ** 2, grid).item()


POSTERIOR_CASES = [("cosine-50", t, x_t, x0) for t in (2, 10, 30, 50) for x_t, x0 in [(0.3, 1.5), (-2.0, 0.4)]] + \
                  [("linear-1000", t, 0.8, -1.1) for t in (2, 500, 1000)]


def posterior_off(formula):
    """Largest relative difference between formula's (mean, variance) and Bayes' rule, in units of 1e-9."""
    worst = 0.0
    for name, t, x_t, x0 in POSTERIOR_CASES:
        betas = SCHEDULES[name]()
        mean, var = formula(torch.tensor(x_t, dtype=DTYPE), torch.tensor(x0, dtype=DTYPE), t, betas)
        bmean, bvar = bayes_on_grid(x_t, x0, t, name)
        worst = worst_of(worst, abs(float(mean) - bmean) / (1e-9 * (abs(bmean) + math.sqrt(bvar))),
                         abs(float(var) - bvar) / (1e-9 * bvar))
    return worst


def test_posterior_matches_bayes_rule():
    assert posterior_off(posterior_mean_var) <= 1.0


def test_posterior_at_t_1_is_x0():
    betas = cosine_schedule(50)
    mean, var = posterior_mean_var(torch.tensor(0.3, dtype=DTYPE), torch.tensor(1.5, dtype=DTYPE), 1, betas)
    assert var.item() == 0.0 and mean.item() == pytest.approx(1.5, abs=1e-14)


def _posterior_variant(mean_fn, var_fn):
    def formula(x_t, x0, t, betas):
        ab = alpha_bars(betas)
        return mean_fn(x_t, x0, betas[t], ab[t], ab[t - 1]), var_fn(betas[t], ab[t], ab[t - 1])
    return formula


RIGHT_MEAN = lambda x_t, x0, b, ab, abp: abp.sqrt() * b / (1 - ab) * x0 + (1 - b).sqrt() * (1 - abp) / (1 - ab) * x_t  # noqa: E731
RIGHT_VAR = lambda b, ab, abp: (1 - abp) / (1 - ab) * b  # noqa: E731


@pytest.mark.parametrize("name,wrong", [
    ("variance ratio upside down", _posterior_variant(RIGHT_MEAN, lambda b, ab, abp: (1 - ab) / (1 - abp) * b)),
    ("variance beta_t", _posterior_variant(RIGHT_MEAN, lambda b, ab, abp: b)),
    ("sqrt(abar_t) instead of sqrt(abar_{t-1}) on x_0",
     _posterior_variant(lambda x_t, x0, b, ab, abp: RIGHT_MEAN(x_t, x0, b, ab, abp) + (ab.sqrt() - abp.sqrt()) * b / (1 - ab) * x0,
                        RIGHT_VAR)),
    ("no sqrt(alpha_t) on x_t", _posterior_variant(lambda x_t, x0, b, ab, abp: RIGHT_MEAN(x_t, x0, b, ab, abp) / (1 - b).sqrt()
                                                   + (1 - 1 / (1 - b).sqrt()) * abp.sqrt() * b / (1 - ab) * x0, RIGHT_VAR)),
])
def test_wrong_posteriors_are_caught(name, wrong):
    assert posterior_off(_posterior_variant(RIGHT_MEAN, RIGHT_VAR)) <= 1.0
    assert posterior_off(wrong) > 1e3


# ---------------------------------------------------------------------------
# the ELBO term L_{t-1} = KL(q(x_{t-1}|x_t,x_0) || p_theta(x_{t-1}|x_t)) = w_t ||eps - eps_theta||^2 + C_t
# ---------------------------------------------------------------------------
def elbo_weight(betas, t, sigma2):  # beta_t^2 / (2 sigma_t^2 alpha_t (1 - abar_t))
    ab = alpha_bars(betas)[t]
    return (betas[t] ** 2 / (2 * sigma2 * (1 - betas[t]) * (1 - ab))).item()


def kl_minus_weighted_loss(weight_fn, t, sigma_kind, n_trials=20):
    """KL from torch.distributions minus weight * ||eps - eps_theta||^2, for random eps_theta (d = 3)."""
    betas = cosine_schedule(50)
    ab = alpha_bars(betas)
    gen = torch.Generator().manual_seed(t)
    x0, eps = torch.randn(3, generator=gen, dtype=DTYPE), torch.randn(3, generator=gen, dtype=DTYPE)
    x_t = ab[t].sqrt() * x0 + (1 - ab[t]).sqrt() * eps
    mu_q, var_q = posterior_mean_var(x_t, x0, t, betas)
    sigma2 = betas[t] if sigma_kind == "beta" else var_q
    out = []
    for _ in range(n_trials):
        eps_theta = eps + torch.randn(3, generator=gen, dtype=DTYPE)
        mu_p = (x_t - betas[t] / (1 - ab[t]).sqrt() * eps_theta) / (1 - betas[t]).sqrt()
        kl = torch.distributions.kl_divergence(torch.distributions.Normal(mu_q, var_q.sqrt()),
                                               torch.distributions.Normal(mu_p, sigma2.sqrt())).sum()
        out.append(kl.item() - weight_fn(betas, t, sigma2) * ((eps - eps_theta) ** 2).sum().item())
    ratio = (var_q / sigma2).item()
    return np.array(out), 3 * 0.5 * (ratio - 1 - math.log(ratio))


@pytest.mark.parametrize("t,sigma_kind", [(2, "beta"), (10, "beta"), (30, "beta_tilde"), (45, "beta")])
def test_noise_loss_is_the_weighted_elbo_term(t, sigma_kind):
    diffs, constant = kl_minus_weighted_loss(elbo_weight, t, sigma_kind)
    np.testing.assert_allclose(diffs, constant, rtol=1e-9, atol=1e-12)  # the same constant for every eps_theta


def test_wrong_elbo_weight_is_caught():
    wrong = lambda betas, t, s2: (betas[t] ** 2 / (2 * s2 * (1 - alpha_bars(betas)[t]))).item()  # noqa: E731 (no alpha_t)
    diffs, _ = kl_minus_weighted_loss(wrong, 30, "beta")
    assert diffs.std() > 1e-3


# ---------------------------------------------------------------------------
# the sampling update with the true noise: its mean is mu_tilde, and the sampler returns x_0 exactly
# ---------------------------------------------------------------------------
def update_mean(x_t, eps, t, betas):  # (x_t - beta_t / sqrt(1 - abar_t) eps) / sqrt(alpha_t)
    ab = alpha_bars(betas)[t]
    return (x_t - betas[t] / (1 - ab).sqrt() * eps) / (1 - betas[t]).sqrt()


def oracle(x0, betas):
    """The noise that takes x_0 to x_t: (x_t - sqrt(abar_t) x_0) / sqrt(1 - abar_t)."""
    ab = alpha_bars(betas)
    return lambda x, t: (x - ab[t[0]].sqrt() * x0) / (1 - ab[t[0]]).sqrt()


@pytest.mark.parametrize("t", [1, 2, 17, 50])
def test_update_with_true_noise_is_the_posterior_mean(t):
    betas = cosine_schedule(50)
    gen = torch.Generator().manual_seed(t)
    x0, eps = torch.randn(4, 2, generator=gen, dtype=DTYPE), torch.randn(4, 2, generator=gen, dtype=DTYPE)
    x_t = q_sample(x0, torch.full((4,), t), betas, eps)
    torch.testing.assert_close(update_mean(x_t, eps, t, betas), posterior_mean_var(x_t, x0, t, betas)[0],
                               rtol=1e-12, atol=1e-12)


def recovery_error(eps_model_factory, sigma):
    betas = cosine_schedule(50)
    gen = torch.Generator().manual_seed(0)
    x0 = torch.randn(64, 2, generator=gen, dtype=DTYPE)
    x_T = torch.randn(64, 2, generator=gen, dtype=DTYPE)
    out, _ = sample(eps_model_factory(x0, betas), x_T, betas, sigma=sigma, seed=3)
    return (out - x0).abs().max().item()


@pytest.mark.parametrize("sigma", ["beta", "beta_tilde"])
def test_sampler_with_oracle_noise_returns_x0(sigma):
    assert recovery_error(oracle, sigma) < 1e-10
    # mutation: the wrong sign in the update, x_t + beta_t / sqrt(1 - abar_t) eps, misses x_0 by far
    flipped = lambda x0, betas: (lambda x, t: -oracle(x0, betas)(x, t))  # noqa: E731
    assert recovery_error(flipped, sigma) > 1.0


# ---------------------------------------------------------------------------
# the score: eps* = -sqrt(1 - abar_t) grad log q(x_t), and sampling with the exact score of a Gaussian
# ---------------------------------------------------------------------------
M, S = 2.0, 0.5  # data distribution N(M, S^2)


def gaussian_eps(betas, m=M, s=S, use_beta=False):
    """-sqrt(1 - abar_t) d/dx log q(x_t) for q(x_t) = N(sqrt(abar_t) m, abar_t s^2 + 1 - abar_t)."""
    ab = (1 - betas) if use_beta else alpha_bars(betas)  # use_beta: the mutation alpha_t for abar_t
    def eps(x, t):
        a = ab[t[0]]
        return (1 - a).sqrt() * (x - a.sqrt() * m) / (a * s**2 + 1 - a)
    return eps


def test_gaussian_eps_is_scaled_score_and_regression_of_noise():
    """Against autograd on torch.distributions.Normal.log_prob, and against the least-squares regression
    of eps on x_t (what the denoising loss fits): E[eps | x_t] = -sqrt(1 - abar_t) grad log q(x_t)."""
    betas = cosine_schedule(50)
    ab = alpha_bars(betas)
    for t in (5, 25, 45):
        x = torch.linspace(-3, 4, 15, dtype=DTYPE, requires_grad=True)
        q_t = torch.distributions.Normal(ab[t].sqrt() * M, (ab[t] * S**2 + 1 - ab[t]).sqrt())
        (score,) = torch.autograd.grad(q_t.log_prob(x).sum(), x)
        torch.testing.assert_close(gaussian_eps(betas)(x.detach(), [t]), -(1 - ab[t]).sqrt() * score,
                                   rtol=1e-12, atol=1e-12)
        gen = torch.Generator().manual_seed(t)
        x0 = M + S * torch.randn(N_MC, generator=gen, dtype=DTYPE)
        eps = torch.randn(N_MC, generator=gen, dtype=DTYPE)
        x_t = ab[t].sqrt() * x0 + (1 - ab[t]).sqrt() * eps
        xs, es = x_t.numpy(), eps.numpy()
        slope, intercept = np.polyfit(xs, es, 1)
        resid = es - (slope * xs + intercept)
        se_slope = math.sqrt(resid.var() / (N_MC * xs.var()))
        se_at_mean = math.sqrt(resid.var() / N_MC)  # standard error of the fit at the mean of x_t
        exact = gaussian_eps(betas)(torch.tensor([xs.mean(), xs.mean() + 1.0], dtype=DTYPE), [t])
        assert abs(slope - (exact[1] - exact[0]).item()) < 5 * se_slope
        assert abs(slope * xs.mean() + intercept - exact[0].item()) < 5 * se_at_mean
        # mutation: eps = +sqrt(1 - abar_t) grad log q(x_t), the wrong sign, is far off
        assert abs(slope + (exact[1] - exact[0]).item()) > 100 * se_slope


def chain_moments(eps_fn_coeffs, betas, sigma="beta"):
    """Exact mean and variance after ancestral sampling from N(0, 1) with a linear eps(x) = a_t x + c_t:
    the sampler is then a linear-Gaussian recursion (finite-T bias, no Monte Carlo)."""
    ab = alpha_bars(betas)
    mean, var = 0.0, 1.0
    for t in range(len(betas) - 1, 0, -1):
        a_t, c_t = eps_fn_coeffs(t)
        k = (betas[t] / (1 - ab[t]).sqrt()).item()
        scale = 1 / math.sqrt(1 - betas[t].item())
        mean = scale * ((1 - k * a_t) * mean - k * c_t)
        var = scale**2 * (1 - k * a_t) ** 2 * var
        if t > 1:
            var += betas[t].item() if sigma == "beta" else ((1 - ab[t - 1]) / (1 - ab[t]) * betas[t]).item()
    return mean, var


def gaussian_sampling_off(eps_fn, betas, n=20_000):
    """Ancestral sampling (the snippet's sample) with eps_fn from N(0, I): sample mean and variance against
    M and S^2, in units of 5 standard errors plus 1 % (the finite-T bias)."""
    x_T = torch.randn(n, 1, generator=torch.Generator().manual_seed(5), dtype=DTYPE)
    x0, _ = sample(eps_fn, x_T, betas, seed=6)
    mean, var = x0.mean().item(), x0.var().item()
    return worst_of(abs(mean - M) / (5 * S / math.sqrt(n) + 0.01 * abs(M)),
                    abs(var - S**2) / (5 * S**2 * math.sqrt(2 / n) + 0.01 * S**2))


@functools.cache
def exact_score_off():
    betas = linear_schedule(1000)
    return gaussian_sampling_off(gaussian_eps(betas), betas)


def test_sampler_with_exact_gaussian_score_reproduces_the_gaussian():
    betas = linear_schedule(1000)
    assert exact_score_off() <= 1.0
    # the recursion without noise shows how small the finite-T bias is for T = 1000
    ab = alpha_bars(betas)

    def coeffs(t):
        d = (ab[t] * S**2 + 1 - ab[t]).item()
        return (1 - ab[t]).sqrt().item() / d, -(1 - ab[t]).sqrt().item() * ab[t].sqrt().item() * M / d

    mean, var = chain_moments(coeffs, betas)
    assert abs(mean - M) < 1e-3 and abs(var - S**2) / S**2 < 0.01


@pytest.mark.parametrize("name,wrong", [
    ("wrong sign of the score", lambda betas: (lambda x, t: -gaussian_eps(betas)(x, t))),
    ("alpha_t instead of abar_t in q(x_t)", lambda betas: gaussian_eps(betas, use_beta=True)),
    ("score of the data instead of q(x_t)", lambda betas: (lambda x, t: (x - M) / S**2 * (1 - alpha_bars(betas)[t[0]]).sqrt())),
])
def test_wrong_scores_are_caught(name, wrong):
    betas = linear_schedule(1000)
    assert exact_score_off() <= 1.0
    assert gaussian_sampling_off(wrong(betas), betas) > 3.0


# ---------------------------------------------------------------------------
# What the page says about its figures
# ---------------------------------------------------------------------------
def test_schedule_numbers():
    """Page and Figure 3: abar_{T/2} = 0.079 (linear) and 0.494 (cosine); abar_t < 0.01 from t = 674 and 936;
    abar_T = 4.0e-5 for the linear schedule."""
    numbers = SNIPPET["schedule_numbers"](1000)
    assert numbers["linear"]["abar_half"] == pytest.approx(0.079, abs=5e-4)
    assert numbers["cosine"]["abar_half"] == pytest.approx(0.494, abs=5e-4)
    assert numbers["linear"]["first_below_0.01"] == 674 and numbers["cosine"]["first_below_0.01"] == 936
    assert numbers["linear"]["abar_T"] == pytest.approx(4.0e-5, rel=0.02)
    # Figure 2, right: the linear schedule spends its last 326 steps, about a third, below SNR = 0.01
    assert numbers["linear"]["steps_snr_below_0.01"] == 326
    snr = SNIPPET["snr"](linear_schedule(1000))
    assert (snr[-326:] < 0.01).all() and snr[-327] >= 0.01  # they are the last ones
    # Figure 1's titles: abar_t of the T = 50 cosine schedule at t = 5, 10, 20, 35
    ab = alpha_bars(cosine_schedule(50))
    for t, value in [(5, 0.97), (10, 0.90), (20, 0.65), (35, 0.20)]:
        assert round(ab[t].item(), 2) == value
    assert ab[50].item() < 1e-6 * 1.0001  # "about 10^-6"
    assert ab[50].item() > 0.9e-6


@pytest.fixture(scope="module")
def experiment():
    return SNIPPET["diffusion_experiment"]()


def test_figure_2_distances(experiment):
    """Caption: Chamfer distance to held-out points 0.05 (generated) against 0.18 (pure noise) and 0.03 (a
    second real sample of the same size)."""
    d = experiment["distances"]
    assert d["generated"] == pytest.approx(0.05, abs=0.01)
    assert d["noise"] == pytest.approx(0.18, abs=0.01)
    assert d["real"] == pytest.approx(0.03, abs=0.005)
    assert d["generated"] < d["noise"] / 3
    assert len(experiment["betas"]) - 1 == 50 and len(experiment["losses"]) == 1000 and len(experiment["data"]) == 2000
    # the prose: along the way the distance is 0.15 at t = 30, 0.14 at t = 20 and 0.08 at t = 5
    along = {t: SNIPPET["chamfer"](x, experiment["held_out"]) for t, x in experiment["kept"].items()}
    for t, value in [(50, 0.18), (30, 0.15), (20, 0.14), (5, 0.08), (0, 0.05)]:
        assert along[t] == pytest.approx(value, abs=0.01)
    assert along[50] - along[30] < along[20] - along[5]  # slowly at first, fastest near the end


def test_chamfer_against_brute_force():
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(7, 2, generator=gen), torch.randn(5, 2, generator=gen)
    ab = np.mean([min(math.dist(p, q) for q in b.tolist()) for p in a.tolist()])
    ba = np.mean([min(math.dist(p, q) for p in a.tolist()) for q in b.tolist()])
    assert SNIPPET["chamfer"](a, b) == pytest.approx((ab + ba) / 2, rel=1e-6)
