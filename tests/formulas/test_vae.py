"""Formula tests for docs/*/generative/vae.md.

The page's formulas are implemented here or taken from snippets/vae.py and compared with
torch.distributions: the closed-form Gaussian KL term with kl_divergence of Normal and Independent
Normal distributions; the snippet's reconstruction term with Bernoulli.log_prob; the ELBO with the
analytic KL term against the all-Monte-Carlo ELBO E_q[log p(x|z) + log p(z) - log q(z|x)] (equal
in expectation, checked within a few standard errors); the pathwise (reparameterized) and the
score-function (REINFORCE) gradient estimators against the true gradient, with autograd, and with
the closed-form variances the page states; for a linear-Gaussian model, where log p(x) is known,
ELBO <= log p(x) with equality at the true posterior and a gap equal to KL(q || p(z|x)); the
snippet's hand-written Adam step against torch.optim.Adam. The experiments behind the figures are
rerun and the numbers the page states asserted. Mutation tests run wrong formulas (a missing -1,
log sigma for log sigma^2, a missing score term or 1/sigma^2, a missing trace term) through the
same comparisons and require them to fail.
"""

import math

import pytest
import torch
from torch.distributions import Bernoulli, Independent, MultivariateNormal, Normal, kl_divergence

from snippet_code import snippet_function

SNIPPET = snippet_function("vae", "VAE", "gaussian_kl", "elbo_terms", "adam_step", "train_vae", "heldout_terms",
                           "constant_decoder_recon", "load_data", "pathwise_grad", "score_function_grad",
                           "BETAS", "STEPS")
gaussian_kl, elbo_terms = SNIPPET["gaussian_kl"], SNIPPET["elbo_terms"]
pathwise_grad, score_function_grad = SNIPPET["pathwise_grad"], SNIPPET["score_function_grad"]
DTYPE = torch.float64


def worst_of(*values):
    """max() that treats NaN as infinitely bad."""
    return max(math.inf if math.isnan(v) else v for v in values)


# ---------------------------------------------------------------------------
# KL( N(mu, diag sigma^2) || N(0, I) ) = 1/2 sum (mu^2 + sigma^2 - 1 - log sigma^2)
# ---------------------------------------------------------------------------
def _gaussians(seed, batch=32, latent=6):
    gen = torch.Generator().manual_seed(seed)
    mu = 2 * torch.randn(batch, latent, generator=gen, dtype=DTYPE)
    logvar = 3 * torch.randn(batch, latent, generator=gen, dtype=DTYPE)  # sigma from about 0.01 to 100
    return mu, logvar


def kl_off(kl_formula, seed):
    """Largest difference between kl_formula(mu, logvar) (one value per example) and torch's
    kl_divergence, summed over the latent dimensions (Normal) and as one Independent distribution,
    in units of rtol = 1e-12."""
    mu, logvar = _gaussians(seed)
    q = Normal(mu, torch.exp(0.5 * logvar))
    prior = Normal(torch.zeros_like(mu), torch.ones_like(mu))
    by_dim = kl_divergence(q, prior).sum(dim=-1)
    joint = kl_divergence(Independent(q, 1), Independent(prior, 1))
    ours = kl_formula(mu, logvar)
    assert ours.shape == by_dim.shape == joint.shape == (mu.shape[0],)
    scale = 1e-12 * (1 + by_dim.abs())
    return worst_of(((ours - by_dim).abs() / scale).max().item(), ((ours - joint).abs() / scale).max().item())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gaussian_kl_closed_form_matches_torch(seed):
    assert kl_off(gaussian_kl, seed) <= 1.0


def test_gaussian_kl_is_zero_only_at_the_prior():
    zero = torch.zeros(4, 3, dtype=DTYPE)
    assert gaussian_kl(zero, zero).abs().max().item() == 0.0
    mu, logvar = _gaussians(5)
    assert (gaussian_kl(mu, logvar) > 0).all()


def kl_without_minus_one(mu, logvar):
    return 0.5 * (mu**2 + logvar.exp() - logvar).sum(dim=-1)


def kl_log_sigma_not_log_var(mu, logvar):
    return 0.5 * (mu**2 + logvar.exp() - 1.0 - 0.5 * logvar).sum(dim=-1)


def kl_sigma_not_var(mu, logvar):
    return 0.5 * (mu**2 + torch.exp(0.5 * logvar) - 1.0 - logvar).sum(dim=-1)


@pytest.mark.parametrize("wrong", [kl_without_minus_one, kl_log_sigma_not_log_var, kl_sigma_not_var],
                         ids=lambda f: f.__name__)
def test_wrong_kl_formulas_are_caught(wrong):
    assert kl_off(gaussian_kl, 0) <= 1.0
    assert kl_off(wrong, 0) > 1e6


# ---------------------------------------------------------------------------
# The ELBO: reconstruction term vs Bernoulli.log_prob; analytic-KL form vs all-Monte-Carlo form
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_vae():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(DTYPE)
    try:
        torch.manual_seed(0)
        model = SNIPPET["VAE"]()
        x_train, x_test, _, _ = SNIPPET["load_data"]()
        x = x_test[:5].to(DTYPE)
    finally:
        torch.set_default_dtype(previous)
    return model, x, x_train


@pytest.mark.usefixtures("float64")
def test_reconstruction_term_is_bernoulli_negative_log_likelihood(small_vae):
    model, x, _ = small_vae
    recon, kl = elbo_terms(model, x, torch.Generator().manual_seed(11))
    # the same z, drawn again from the same seed
    mu, logvar = model.encode(x)
    z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=torch.Generator().manual_seed(11))
    log_px = Bernoulli(logits=model.decode(z), validate_args=False).log_prob(x).sum(dim=-1)
    torch.testing.assert_close(recon, -log_px, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(kl, gaussian_kl(mu, logvar), rtol=0, atol=0)


def elbo_forms_off(kl_formula, model, x, samples=20_000):
    """Per image: the ELBO with the analytic KL term, E_q[log p(x|z)] - KL, against the all-Monte-Carlo
    E_q[log p(x|z) + log p(z) - log q(z|x)] (log-densities from torch.distributions), on the same
    samples z ~ q(z|x). Returns the largest |difference| in standard errors of the difference."""
    with torch.no_grad():
        mu, logvar = model.encode(x)
        q = Normal(mu, torch.exp(0.5 * logvar))
        z = q.sample((samples,))  # (samples, B, latent)
        log_px = Bernoulli(logits=model.decode(z), validate_args=False).log_prob(x).sum(dim=-1)
        log_pz = Normal(0.0, 1.0).log_prob(z).sum(dim=-1)
        log_qz = q.log_prob(z).sum(dim=-1)
        full_mc = log_px + log_pz - log_qz  # one ELBO estimate per sample
        analytic = log_px - kl_formula(mu, logvar)
        diff = full_mc - analytic  # the two forms share log p(x|z): only the KL parts differ
        se = diff.std(dim=0) / math.sqrt(samples)
        return ((diff.mean(dim=0)).abs() / se).max().item()


@pytest.mark.usefixtures("float64")
def test_analytic_kl_elbo_equals_monte_carlo_elbo_in_expectation(small_vae):
    model, x, _ = small_vae
    torch.manual_seed(2)
    assert elbo_forms_off(gaussian_kl, model, x) < 4.5  # within 4.5 standard errors, for every image
    torch.manual_seed(2)
    assert elbo_forms_off(kl_without_minus_one, model, x) > 50  # d_z / 2 = 1 nat off: far outside


# ---------------------------------------------------------------------------
# Gradient estimators of d/dmu E[z^2], z ~ N(mu, sigma^2): true value 2 mu
# pathwise 2(mu + sigma eps), variance 4 sigma^2
# score function z^2 (z - mu)/sigma^2, variance mu^4/sigma^2 + 14 mu^2 + 15 sigma^2
# ---------------------------------------------------------------------------
MU, SIGMA, SAMPLES = 1.5, 0.7, 400_000


def _eps(seed=0):
    return torch.randn(SAMPLES, generator=torch.Generator().manual_seed(seed), dtype=DTYPE)


def unbiased_off(estimator, mu=MU, sigma=SIGMA):
    """|mean of the estimator - 2 mu| in standard errors."""
    g = estimator(mu, sigma, _eps())
    return abs(g.mean().item() - 2 * mu) / (g.std().item() / math.sqrt(SAMPLES))


def score_function_variance(mu, sigma):
    return mu**4 / sigma**2 + 14 * mu**2 + 15 * sigma**2


@pytest.mark.parametrize("mu,sigma", [(MU, SIGMA), (1.0, 1.0), (-0.5, 2.0)])
def test_both_estimators_are_unbiased_with_the_stated_variances(mu, sigma):
    assert unbiased_off(pathwise_grad, mu, sigma) < 4.5
    assert unbiased_off(score_function_grad, mu, sigma) < 4.5
    eps = _eps(1)
    var_path, var_score = pathwise_grad(mu, sigma, eps).var().item(), score_function_grad(mu, sigma, eps).var().item()
    assert var_path == pytest.approx(4 * sigma**2, rel=0.01)
    assert var_score == pytest.approx(score_function_variance(mu, sigma), rel=0.06)  # heavy tails: z^6
    # the score function's variance is at least 15 sigma^2, 3.75 times the pathwise 4 sigma^2, for any mu
    assert var_score > 3.5 * var_path


def test_page_numbers_for_mu_1_sigma_1():
    """Page: at mu = sigma = 1 the variances are 4 and 30, 7.5 times as large."""
    assert 4 * 1.0**2 == 4 and score_function_variance(1.0, 1.0) == 30
    assert score_function_variance(2.0, 0.5) / (4 * 0.5**2) == pytest.approx(123.75)


@pytest.mark.usefixtures("float64")
def test_estimators_match_autograd():
    """Pathwise: autograd through rsample; score function: f(z) times autograd of Normal.log_prob."""
    mu = torch.tensor(MU, requires_grad=True)
    dist = Normal(mu, torch.tensor(SIGMA))
    eps = _eps()[:1000]
    z = mu + SIGMA * eps  # what Normal.rsample computes
    (g_path,) = torch.autograd.grad(z, mu, grad_outputs=2 * z)  # per-sample d(z^2)/dmu summed...
    per_sample = torch.stack([torch.autograd.grad((mu + SIGMA * e) ** 2, mu)[0] for e in eps[:50]])
    torch.testing.assert_close(per_sample, pathwise_grad(MU, SIGMA, eps[:50]), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(g_path, pathwise_grad(MU, SIGMA, eps).sum(), rtol=1e-12, atol=1e-9)
    zs = (MU + SIGMA * eps[:50]).detach()
    score = torch.stack([torch.autograd.grad(dist.log_prob(zi), mu, retain_graph=True)[0] for zi in zs])
    torch.testing.assert_close(zs**2 * score, score_function_grad(MU, SIGMA, eps[:50]), rtol=1e-12, atol=1e-12)
    # torch's own reparameterized sample gives the same path
    torch.manual_seed(4)
    r = Normal(mu, torch.tensor(SIGMA)).rsample((5,))
    (g,) = torch.autograd.grad((r**2).sum(), mu)
    torch.testing.assert_close(g, (2 * r).sum().detach(), rtol=1e-12, atol=1e-12)


def score_without_score_term(mu, sigma, eps):  # f(z) alone: estimates E[z^2], not its gradient
    return (mu + sigma * eps) ** 2


def score_without_inverse_variance(mu, sigma, eps):  # d log q/dmu taken as (z - mu)
    z = mu + sigma * eps
    return z**2 * (z - mu)


def pathwise_chain_rule_dropped(mu, sigma, eps):  # d(z^2)/dmu taken as 2 sigma eps
    return 2 * sigma * eps


@pytest.mark.parametrize("wrong", [score_without_score_term, score_without_inverse_variance,
                                   pathwise_chain_rule_dropped], ids=lambda f: f.__name__)
def test_wrong_estimators_are_caught(wrong):
    assert unbiased_off(pathwise_grad) < 4.5 and unbiased_off(score_function_grad) < 4.5
    assert unbiased_off(wrong) > 50


# ---------------------------------------------------------------------------
# Linear-Gaussian model: p(z) = N(0, I), p(x|z) = N(W z + b, s^2 I); log p(x) = log N(x; b, W W^T + s^2 I)
# ELBO(q) = log p(x) - KL(q || p(z|x)) <= log p(x), with equality at the true posterior
# ---------------------------------------------------------------------------
def _linear_gaussian(seed, d=5, k=2):
    gen = torch.Generator().manual_seed(seed)
    W = torch.randn(d, k, generator=gen, dtype=DTYPE)
    b = torch.randn(d, generator=gen, dtype=DTYPE)
    s2 = 0.3
    x = W @ torch.randn(k, generator=gen, dtype=DTYPE) + b + math.sqrt(s2) * torch.randn(d, generator=gen, dtype=DTYPE)
    return W, b, s2, x


def elbo_linear_gaussian(W, b, s2, x, m, S):
    """Page: E_q[log p(x|z)] - KL(q || p(z)) for q = N(m, S), in closed form."""
    d, k = W.shape
    r = x - b - W @ m
    expected_loglik = -0.5 * d * math.log(2 * math.pi * s2) - (r @ r + torch.trace(W @ S @ W.T)) / (2 * s2)
    kl = 0.5 * (torch.trace(S) + m @ m - k - torch.logdet(S))
    return expected_loglik - kl


def elbo_without_trace(W, b, s2, x, m, S):  # forgets the spread of q inside E_q[log p(x|z)]
    d, k = W.shape
    r = x - b - W @ m
    return (-0.5 * d * math.log(2 * math.pi * s2) - (r @ r) / (2 * s2)
            - 0.5 * (torch.trace(S) + m @ m - k - torch.logdet(S)))


def true_posterior(W, b, s2, x):
    k = W.shape[1]
    cov = torch.linalg.inv(torch.eye(k, dtype=DTYPE) + W.T @ W / s2)
    return cov @ W.T @ (x - b) / s2, cov


def linear_gaussian_off(elbo, seed):
    """Largest violation of ELBO(q) = log p(x) - KL(q || p(z|x)) over the true posterior and 20 other
    Gaussians q, in units of atol = 1e-10; also checks ELBO < log p(x) for the others."""
    W, b, s2, x = _linear_gaussian(seed)
    d, k = W.shape
    log_px = MultivariateNormal(b, W @ W.T + s2 * torch.eye(d, dtype=DTYPE)).log_prob(x)
    m_post, S_post = true_posterior(W, b, s2, x)
    posterior = MultivariateNormal(m_post, S_post)
    worst = abs((elbo(W, b, s2, x, m_post, S_post) - log_px).item()) / 1e-10  # tight at the posterior
    gen = torch.Generator().manual_seed(seed + 100)
    for _ in range(20):
        A = torch.randn(k, k, generator=gen, dtype=DTYPE)
        m = m_post + torch.randn(k, generator=gen, dtype=DTYPE)
        S = A @ A.T + 0.05 * torch.eye(k, dtype=DTYPE)
        value = elbo(W, b, s2, x, m, S)
        gap = kl_divergence(MultivariateNormal(m, S), posterior)
        assert value < log_px
        worst = worst_of(worst, abs((log_px - value - gap).item()) / 1e-10)
    return worst


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_linear_gaussian_elbo_is_tight_at_the_true_posterior(seed):
    assert linear_gaussian_off(elbo_linear_gaussian, seed) <= 1.0


def test_linear_gaussian_elbo_matches_monte_carlo():
    """The closed-form ELBO against E_q[log p(x|z) + log p(z) - log q(z)] sampled with torch.distributions."""
    W, b, s2, x = _linear_gaussian(3)
    d, k = W.shape
    m, S = torch.tensor([0.3, -0.2], dtype=DTYPE), torch.tensor([[0.5, 0.1], [0.1, 0.2]], dtype=DTYPE)
    q = MultivariateNormal(m, S)
    torch.manual_seed(0)
    z = q.sample((200_000,))
    terms = (Independent(Normal(z @ W.T + b, math.sqrt(s2)), 1).log_prob(x)
             + MultivariateNormal(torch.zeros(k, dtype=DTYPE), torch.eye(k, dtype=DTYPE)).log_prob(z)
             - q.log_prob(z))
    se = terms.std().item() / math.sqrt(len(terms))
    assert abs(terms.mean().item() - elbo_linear_gaussian(W, b, s2, x, m, S).item()) < 4.5 * se
    assert abs(terms.mean().item() - elbo_without_trace(W, b, s2, x, m, S).item()) > 50 * se


def test_wrong_linear_gaussian_elbo_is_caught():
    assert linear_gaussian_off(elbo_linear_gaussian, 0) <= 1.0
    with pytest.raises(AssertionError):  # no trace term: above log p(x) for a wide q, or the gap is off
        assert linear_gaussian_off(elbo_without_trace, 0) <= 1.0


# ---------------------------------------------------------------------------
# The snippet's hand-written Adam step vs torch.optim.Adam
# ---------------------------------------------------------------------------
@pytest.mark.usefixtures("float64")
def test_adam_step_matches_torch_optim_adam():
    torch.manual_seed(0)
    ours = [torch.randn(4, 3), torch.randn(3)]
    ref = [p.clone().requires_grad_(True) for p in ours]
    opt = torch.optim.Adam(ref, lr=0.01)
    m, v = [torch.zeros_like(p) for p in ours], [torch.zeros_like(p) for p in ours]
    for t in range(1, 31):
        grads = [torch.sin(3 * p) + 0.1 * t for p in ours]
        SNIPPET["adam_step"](ours, grads, m, v, t, lr=0.01)
        opt.zero_grad()
        for p in ref:
            p.grad = torch.sin(3 * p.detach()) + 0.1 * t
        opt.step()
        for a, r in zip(ours, ref):
            torch.testing.assert_close(a, r.detach(), rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------
# What the page says about its figures, from the snippet's own experiments (float32, as it runs)
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def experiments():
    x_train, x_test, y_train, y_test = SNIPPET["load_data"]()
    runs = {beta: SNIPPET["train_vae"](x_train, beta) for beta in SNIPPET["BETAS"]}
    terms = {beta: SNIPPET["heldout_terms"](runs[beta][0], x_test) for beta in runs}
    return dict(x_train=x_train, x_test=x_test, y_test=y_test, runs=runs, terms=terms,
                constant=SNIPPET["constant_decoder_recon"](x_train, x_test))


def test_data_split(experiments):
    assert len(experiments["x_train"]) == 1347 and len(experiments["x_test"]) == 450  # 1797 images
    assert experiments["x_train"].min() == 0 and experiments["x_train"].max() == 1


def test_figure_5_numbers(experiments):
    runs, terms = experiments["runs"], experiments["terms"]
    history = runs[1.0][1]
    assert SNIPPET["STEPS"] == 200 and len(history) == 200
    # at step 1 the decoder outputs probabilities near 1/2: about 64 log 2 = 44.4 nats per image
    assert abs(history[0, 0] - 64 * math.log(2)) < 1.5
    # in the first 50 steps it falls to about 26 nats while the KL term stays around or below 1 nat
    assert history[49, 0] == pytest.approx(26, abs=1.0) and history[:50, 1].max() < 1.2
    # the KL term ends near 2.2 nats on the training set (alt text: about 2); reconstruction 45 -> about 23
    assert history[-1, 1] == pytest.approx(2.2, abs=0.2) and history[-1, 0] == pytest.approx(23, abs=0.6)
    # test set, beta = 1: reconstruction 23.0, KL 2.1, negative ELBO 25.1 nats
    rec, kl = terms[1.0]
    assert rec == pytest.approx(23.0, abs=0.3) and kl == pytest.approx(2.1, abs=0.2)
    assert rec + kl == pytest.approx(25.1, abs=0.3)
    # beta = 0.5: more KL (3.0), less reconstruction (22.0); beta = 4: KL below 0.01 nats (collapse)
    assert terms[0.5][1] == pytest.approx(3.0, abs=0.2) and terms[0.5][0] == pytest.approx(22.0, abs=0.3)
    assert terms[0.5][1] > kl > terms[4.0][1] and terms[0.5][0] < rec < terms[4.0][0]
    assert terms[4.0][1] < 0.01
    # and then it reconstructs no better than the best decoder that ignores z: 27.0 nats
    assert experiments["constant"] == pytest.approx(27.0, abs=0.1)
    assert abs(terms[4.0][0] - experiments["constant"]) < 0.1


@pytest.mark.usefixtures("float64")
def test_constant_decoder_is_the_best_decoder_that_ignores_z(experiments):
    """Its pixel probabilities, the training means, minimize the training cross-entropy: the gradient is zero."""
    x_train = experiments["x_train"].to(DTYPE)
    p = x_train.mean(dim=0).clamp(1e-6, 1 - 1e-6).requires_grad_(True)
    loss = torch.nn.functional.binary_cross_entropy(p.expand_as(x_train), x_train, reduction="sum")
    (g,) = torch.autograd.grad(loss, p)
    inside = (p > 1e-5) & (p < 1 - 1e-5)
    assert g[inside].abs().max().item() < 1e-6 * len(x_train)


def test_figure_2_numbers(experiments):
    """Page: posterior standard deviations about 0.37, means spread about 0.9; the spread of z over the test set
    about matches the prior (variance about 1)."""
    model = experiments["runs"][1.0][0]
    with torch.no_grad():
        mu, logvar = model.encode(experiments["x_test"])
    sigma = torch.exp(0.5 * logvar)
    assert sigma.mean().item() == pytest.approx(0.37, abs=0.03)
    assert ((mu.std(dim=0) > 0.85) & (mu.std(dim=0) < 1.0)).all()  # standard deviation of the means about 0.9
    aggregate = mu.var(dim=0) + (sigma**2).mean(dim=0)
    assert ((aggregate > 0.9) & (aggregate < 1.1)).all()


def test_figure_3_grid_quantiles():
    q = torch.distributions.Normal(0.0, 1.0).icdf(torch.tensor([0.05, 0.95]))
    assert q[1].item() == pytest.approx(1.64, abs=0.005) and q[0].item() == pytest.approx(-1.64, abs=0.005)
