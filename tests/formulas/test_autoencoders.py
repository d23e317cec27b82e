"""Formula tests for docs/*/generative/autoencoders.md.

The page's formulas are implemented here from scratch and compared with PyTorch (F.mse_loss,
autograd, torch.optim.Adam and LBFGS, torch.distributions), NumPy (SVD, eigvalsh) and
scikit-learn (PCA): the linear autoencoder's optimum spans the top principal subspace and its error
is the sum of the discarded eigenvalues; the reconstruction loss and its normalization; the
corruption processes of the denoising autoencoder; the gradients of the L1 and KL sparsity
penalties; the denoising-score identity. The functions come from snippets/autoencoders.py, and the
numbers the page states about its figures are asserted at the end. Mutation tests run wrong
formulas through the same comparisons.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.decomposition import PCA

from snippet_code import run_snippet, snippet_function

S = snippet_function("autoencoders", "adam", "reconstruction_loss", "pca_basis", "principal_angles",
                     "gaussian_data", "train_linear_autoencoder", "gaussian_corruption", "masking_corruption")
reconstruction_loss = S["reconstruction_loss"]
principal_angles = S["principal_angles"]
pca_basis = S["pca_basis"]
DTYPE = torch.float64


def data(n=200, d=5, seed=0):
    """Anisotropic Gaussian data with well-separated variances (standard deviations 3 * 0.6^j) and a nonzero mean."""
    return S["gaussian_data"](tuple(3.0 * 0.6 ** np.arange(d)), angle_seed=d, n=n, seed=seed)


def fit_linear_ae_lbfgs(X, q, seed=0):
    """A linear autoencoder with biases, trained to convergence on the squared error with L-BFGS (float64)."""
    gen = torch.Generator().manual_seed(seed)
    d = X.shape[1]
    Xt = torch.as_tensor(X)
    W_enc = torch.randn(q, d, generator=gen, dtype=DTYPE).requires_grad_()
    W_dec = torch.randn(d, q, generator=gen, dtype=DTYPE).requires_grad_()
    b_enc = torch.zeros(q, dtype=DTYPE, requires_grad=True)
    b_dec = torch.zeros(d, dtype=DTYPE, requires_grad=True)
    opt = torch.optim.LBFGS([W_enc, b_enc, W_dec, b_dec], lr=1, max_iter=1000, tolerance_grad=1e-13,
                            tolerance_change=1e-16, history_size=50, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = reconstruction_loss(Xt, (Xt @ W_enc.T + b_enc) @ W_dec.T + b_dec)
        loss.backward()
        return loss

    for _ in range(2):
        opt.step(closure)
    with torch.no_grad():
        loss = reconstruction_loss(Xt, (Xt @ W_enc.T + b_enc) @ W_dec.T + b_dec).item()
    return W_enc.detach().numpy(), W_dec.detach().numpy(), loss


# ---------------------------------------------------------------------------
# A linear AE with squared error spans the top-q principal subspace (Baldi & Hornik 1989)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("d,q,seed", [(3, 1, 0), (3, 2, 1), (5, 2, 2), (6, 3, 3)])
def test_linear_ae_spans_the_top_principal_subspace(d, q, seed):
    X = data(d=d, seed=seed)
    _, W_dec, _ = fit_linear_ae_lbfgs(X, q, seed)
    V_q, _ = pca_basis(X, q)
    assert principal_angles(W_dec, V_q).max() < 1e-6  # numpy SVD of the centered data
    sk = PCA(n_components=q).fit(X).components_.T
    assert principal_angles(W_dec, sk).max() < 1e-6  # scikit-learn's PCA
    # mutation: the subspace of the q smallest components is far away
    _, _, Vt = np.linalg.svd(X - X.mean(axis=0))
    assert principal_angles(W_dec, Vt[-q:].T).max() > 1.0
    # mutation: PCA without centering the data (the biases of the AE absorb the mean; PCA must center)
    _, _, Vt_raw = np.linalg.svd(X + 2.0, full_matrices=False)  # shift so the mean dominates
    _, W_dec_shift, _ = fit_linear_ae_lbfgs(X + 2.0, q, seed)
    assert principal_angles(W_dec_shift, V_q).max() < 1e-6
    assert principal_angles(W_dec_shift, Vt_raw[:q].T).max() > 1e-2


def test_principal_angles_against_a_known_rotation():
    """The angle helper: a plane rotated by a known angle about an axis inside it."""
    for angle in (1e-9, 1e-4, 0.3, 1.2):
        A = np.array([[1.0, 0, 0], [0, 1.0, 0]]).T
        B = np.array([[1.0, 0, 0], [0, math.cos(angle), math.sin(angle)]]).T
        assert np.allclose(principal_angles(A, B), [0.0, angle], rtol=1e-9, atol=1e-15)


def test_decoder_columns_are_any_basis_of_the_subspace():
    """W_dec = V_q C, W_enc = C^-1 V_q^T is optimal for every invertible C: same error, zero gradient,
    but its columns are not the principal directions and need not be orthogonal."""
    X = data(d=4, seed=5)
    q, n = 2, len(X)
    V_q, d = pca_basis(X, q)
    C = np.array([[1.0, 2.0], [0.5, -1.0]])
    W_dec = torch.tensor(V_q @ C, requires_grad=True)
    W_enc = torch.tensor(np.linalg.inv(C) @ V_q.T, requires_grad=True)
    mean = torch.tensor(X.mean(axis=0))
    b_enc = (-(W_enc @ mean)).detach().requires_grad_()
    b_dec = mean.clone().requires_grad_()
    Xt = torch.tensor(X)
    loss = reconstruction_loss(Xt, (Xt @ W_enc.T + b_enc) @ W_dec.T + b_dec)
    grads = torch.autograd.grad(loss, [W_enc, b_enc, W_dec, b_dec])
    assert max(g.abs().max().item() for g in grads) < 1e-12  # a critical point
    assert loss.item() == pytest.approx(np.sum(d[q:] ** 2) / n, rel=1e-12)  # the PCA error
    w = W_dec.detach().numpy()
    cos_to_pc1 = abs(w[:, 0] @ V_q[:, 0]) / np.linalg.norm(w[:, 0])
    assert cos_to_pc1 < 0.95  # column 1 is not the first principal direction
    assert abs(w[:, 0] @ w[:, 1]) > 0.1  # and the columns are not orthogonal
    assert principal_angles(w, V_q).max() < 1e-12  # yet they span the same plane


# ---------------------------------------------------------------------------
# The optimal error is the sum of the discarded eigenvalues, (N - 1)/N times those of S
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("d,q,seed", [(3, 1, 0), (5, 2, 2), (6, 3, 3)])
def test_optimal_error_is_the_sum_of_discarded_eigenvalues(d, q, seed):
    X = data(d=d, seed=seed)
    n = len(X)
    _, _, loss = fit_linear_ae_lbfgs(X, q, seed)
    eig = np.linalg.eigvalsh(np.cov(X, rowvar=False))[::-1]  # eigenvalues of S (1/(N - 1)), descending
    right = (n - 1) / n * eig[q:].sum()
    assert loss == pytest.approx(right, rel=1e-9)
    # mutations: forget the (N - 1)/N factor; or sum the kept eigenvalues
    assert abs(loss - eig[q:].sum()) / right > 1e-3
    assert abs(loss - (n - 1) / n * eig[:q].sum()) / right > 1.0


# ---------------------------------------------------------------------------
# The reconstruction loss: sum over features, mean over examples, vs F.mse_loss
# ---------------------------------------------------------------------------
def test_reconstruction_loss_vs_mse_loss():
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(37, 11, generator=gen, dtype=DTYPE)
    X_hat = torch.randn(37, 11, generator=gen, dtype=DTYPE)
    n, d = X.shape
    ours = reconstruction_loss(X, X_hat)
    assert torch.isclose(ours, F.mse_loss(X_hat, X, reduction="sum") / n, rtol=1e-14)
    assert torch.isclose(ours, d * F.mse_loss(X_hat, X), rtol=1e-14)  # the default mean divides by N d
    # mutation: the default F.mse_loss as "the" loss is d times smaller
    assert not torch.isclose(ours, F.mse_loss(X_hat, X), rtol=1e-3)
    # the gradients differ by the same factor, which is why the learning rate must change with it
    Xh = X_hat.clone().requires_grad_()
    (g_ours,) = torch.autograd.grad(reconstruction_loss(X, Xh), Xh)
    (g_mean,) = torch.autograd.grad(F.mse_loss(Xh, X), Xh)
    assert torch.allclose(g_ours, 2 * (X_hat - X) / n, rtol=1e-14)
    assert torch.allclose(g_ours, d * g_mean, rtol=1e-14)


# ---------------------------------------------------------------------------
# Adam as written out in the snippet vs torch.optim.Adam
# ---------------------------------------------------------------------------
def _adam_run(stepper, steps=60):
    gen = torch.Generator().manual_seed(0)
    A = torch.randn(20, 4, generator=gen, dtype=DTYPE)
    w = torch.randn(4, 3, generator=gen, dtype=DTYPE).requires_grad_()
    return stepper(w, lambda: ((A @ w).tanh() - 0.3).pow(2).sum(), steps)


def _ours(w, loss_fn, steps):
    S["adam"]([w], loss_fn, steps, lr=0.05)
    return w.detach()


def _torch(w, loss_fn, steps):
    opt = torch.optim.Adam([w], lr=0.05)
    for _ in range(steps):
        opt.zero_grad()
        loss_fn().backward()
        opt.step()
    return w.detach()


def _no_bias_correction(w, loss_fn, steps):  # mutation: Adam without the bias correction
    m, v = torch.zeros_like(w), torch.zeros_like(w)
    for _ in range(steps):
        (g,) = torch.autograd.grad(loss_fn(), w)
        with torch.no_grad():
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            w -= 0.05 * m / (v.sqrt() + 1e-8)
    return w.detach()


def test_adam_matches_torch_optim_adam():
    ref = _adam_run(_torch)
    assert torch.allclose(_adam_run(_ours), ref, atol=1e-12, rtol=0)
    assert (_adam_run(_no_bias_correction) - ref).abs().max() > 1e-3


# ---------------------------------------------------------------------------
# Corruption processes of the denoising autoencoder
# ---------------------------------------------------------------------------
def test_gaussian_corruption_statistics():
    gen = torch.Generator().manual_seed(0)
    X = torch.rand(4000, 64, generator=gen, dtype=DTYPE)
    sigma = 0.3
    noise = S["gaussian_corruption"](X, sigma, gen) - X
    n = noise.numel()
    assert abs(noise.mean().item()) < 4 * sigma / math.sqrt(n)  # unbiased
    var = noise.var().item()
    assert abs(var - sigma**2) < 4 * sigma**2 * math.sqrt(2 / n)  # variance sigma^2, not sigma
    assert abs(var - sigma) > 0.1
    corr = np.corrcoef(noise.flatten().numpy(), X.flatten().numpy())[0, 1]
    assert abs(corr) < 4 / math.sqrt(n)  # independent of x
    # expected squared error of the noisy input itself: d sigma^2 per example
    assert reconstruction_loss(X, X + noise).item() == pytest.approx(64 * sigma**2, rel=0.01)
    # fresh noise at every call: two draws differ
    again = S["gaussian_corruption"](X, sigma, gen) - X
    assert not torch.allclose(again, noise)


def test_masking_corruption_zeroes_a_fixed_number_per_example():
    gen = torch.Generator().manual_seed(0)
    X = torch.rand(3000, 64, generator=gen) + 0.5  # no zeros to begin with
    nu = 0.25
    X_tilde = S["masking_corruption"](X, nu, gen)
    zeros = X_tilde == 0
    assert (zeros.sum(dim=1) == round(nu * 64)).all()  # exactly nu d entries per example (Vincent et al., 2008)
    assert torch.equal(X_tilde[~zeros], X[~zeros])  # the others are left untouched
    freq = zeros.double().mean(dim=0)  # every position equally likely: each has probability nu
    assert (freq - nu).abs().max() < 4 * math.sqrt(nu * (1 - nu) / 3000)
    # mutation: independent Bernoulli(nu) masking gives a varying number per example
    bern = X * (torch.rand(X.shape, generator=gen) >= nu)
    assert not ((bern == 0).sum(dim=1) == round(nu * 64)).all()


# ---------------------------------------------------------------------------
# Sparsity penalties: L1 on the code, and the KL penalty on mean activations
# ---------------------------------------------------------------------------
def test_l1_penalty_gradient_vs_autograd():
    gen = torch.Generator().manual_seed(0)
    N, d, q, lam = 50, 6, 4, 0.3
    X = torch.randn(N, d, generator=gen, dtype=DTYPE)
    W = torch.randn(q, d, generator=gen, dtype=DTYPE).requires_grad_()
    b = torch.randn(q, generator=gen, dtype=DTYPE).requires_grad_()
    Z = X @ W.T + b
    penalty = lam * Z.abs().sum(dim=1).mean()  # lambda (1/N) sum_i ||z_i||_1
    gW, gb = torch.autograd.grad(penalty, [W, b])
    G = lam * torch.sign(Z.detach()) / N  # dOmega/dZ = (lambda / N) sign(Z)
    assert torch.allclose(gW, G.T @ X, atol=1e-14, rtol=0)
    assert torch.allclose(gb, G.sum(dim=0), atol=1e-14, rtol=0)
    # mutations: the L2 gradient (Z instead of sign Z), and a missing 1/N
    assert (gW - (lam * Z.detach() / N).T @ X).abs().max() > 1e-2
    assert (gW - (G * N).T @ X).abs().max() > 1e-2


def kl_sparsity(rho, rho_hat):
    """Sum_j KL(rho || rho_hat_j) between Bernoulli distributions (Ng, 2011)."""
    return (rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))).sum()


def test_kl_sparsity_penalty_vs_torch_distributions():
    gen = torch.Generator().manual_seed(0)
    rho = torch.tensor(0.05, dtype=DTYPE)
    A = torch.sigmoid(torch.randn(200, 8, generator=gen, dtype=DTYPE)).requires_grad_()  # sigmoid activations
    rho_hat = A.mean(dim=0)
    ours = kl_sparsity(rho, rho_hat)
    ref = torch.distributions.kl_divergence(torch.distributions.Bernoulli(probs=rho.expand(8)),
                                            torch.distributions.Bernoulli(probs=rho_hat)).sum()
    assert torch.isclose(ours, ref, rtol=1e-12)
    (g,) = torch.autograd.grad(ours, A)
    by_hand = (-rho / rho_hat + (1 - rho) / (1 - rho_hat)).detach() / A.shape[0]  # d/dA_ij through the mean
    assert torch.allclose(g, by_hand.expand_as(A), rtol=1e-12)
    reversed_kl = (rho_hat * torch.log(rho_hat / rho) + (1 - rho_hat) * torch.log((1 - rho_hat) / (1 - rho))).sum()
    assert not torch.isclose(reversed_kl, ref, rtol=1e-2)  # mutation: the arguments swapped


# ---------------------------------------------------------------------------
# The denoising-score identity: E[x | x_tilde] = x_tilde + sigma^2 d/dx_tilde log p_sigma(x_tilde)
# ---------------------------------------------------------------------------
WEIGHTS, MEANS, STDS = (0.3, 0.7), (-2.0, 1.0), (0.5, 0.8)


def mixture_log_density(x, extra_var=0.0):
    """log of a 1-D Gaussian mixture, convolved with N(0, extra_var)."""
    comps = [math.log(w) + torch.distributions.Normal(m, math.sqrt(s**2 + extra_var)).log_prob(x)
             for w, m, s in zip(WEIGHTS, MEANS, STDS)]
    return torch.logsumexp(torch.stack(comps), dim=0)


def posterior_mean(x_tilde, sigma):
    """E[x | x_tilde] by numerical integration on a fine grid: the optimal denoiser under squared error."""
    grid = torch.linspace(-8, 8, 160_001, dtype=DTYPE)
    log_w = mixture_log_density(grid)[:, None] + torch.distributions.Normal(grid[:, None], sigma).log_prob(x_tilde[None])
    w = torch.softmax(log_w, dim=0)
    return (w * grid[:, None]).sum(dim=0)


def score(x, extra_var=0.0):
    x = x.clone().requires_grad_()
    (g,) = torch.autograd.grad(mixture_log_density(x, extra_var).sum(), x)
    return g


@pytest.mark.parametrize("sigma", [0.1, 0.5, 1.5])
def test_optimal_denoiser_is_the_score_of_the_noisy_density(sigma):
    x = torch.linspace(-4, 3, 15, dtype=DTYPE)
    denoised = posterior_mean(x, sigma)
    assert torch.allclose(denoised, x + sigma**2 * score(x, sigma**2), atol=1e-7)
    # mutations: sigma instead of sigma^2, and the opposite sign
    assert (denoised - (x + sigma * score(x, sigma**2))).abs().max() > 1e-2
    assert (denoised - (x - sigma**2 * score(x, sigma**2))).abs().max() > 1e-2


def test_small_noise_limit_gives_the_score_of_the_data_density():
    """Alain & Bengio (2014): (r(x) - x) / sigma^2 -> d/dx log p(x) as sigma -> 0."""
    x = torch.linspace(-3, 2, 11, dtype=DTYPE)
    errors = [((posterior_mean(x, s) - x) / s**2 - score(x)).abs().max().item() for s in (0.2, 0.1, 0.05)]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < errors[0] / 8  # sigma / 4 cuts the error about 16-fold: it shrinks like sigma^2


# ---------------------------------------------------------------------------
# The numbers the page states about its figures
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def run():
    return run_snippet("autoencoders")


def test_figure_1_linear_ae_vs_pca(run):
    line, plane = run["LINEAR"]["line"], run["LINEAR"]["plane"]
    assert run["figures"] == 4
    assert line["final_angle_deg"] < 0.05  # "0.02 degrees"
    assert plane["final_angle_deg"] < 1e-4  # "below 10^-4 degrees"
    for r in (line, plane):  # the trained loss matches the discarded variance to 0.01 %
        assert r["losses"][-1] == pytest.approx(r["discarded"], rel=1e-4)
    # the decoder columns are 20 and 43 degrees from the nearest principal direction, 64 degrees apart
    assert plane["column_vs_pc_deg"] == pytest.approx([20.4, 43.3], abs=0.3)
    assert plane["columns_deg"] == pytest.approx(63.7, abs=0.3)


def test_figure_2_latent_space(run):
    assert len(run["labels"]) == 1000  # the first 1000 images
    assert run["ae2_error"] == pytest.approx(2.27, abs=0.01)
    assert run["pca2_error"] == pytest.approx(3.36, abs=0.01)
    assert np.sum(run["d_digits"] ** 2) / len(run["labels"]) == pytest.approx(4.65, abs=0.01)
    assert run["ae2_error"] < 0.75 * run["pca2_error"]


def test_figure_3_denoising(run):
    dn = run["denoise"]
    assert dn["noisy input"] == pytest.approx(5.79, abs=0.01)
    assert 64 * run["SIGMA"] ** 2 == pytest.approx(5.76)
    assert dn["AE on noisy input"] == pytest.approx(3.81, abs=0.01)
    assert dn["DAE on noisy input"] == pytest.approx(1.84, abs=0.01)
    assert dn["AE on clean input"] == pytest.approx(1.31, abs=0.01)
    assert dn["DAE on clean input"] == pytest.approx(1.45, abs=0.01)
    assert dn["DAE on noisy input"] < 0.5 * dn["AE on noisy input"]


def test_figure_4_random_codes(run):
    s = run["sampler"]
    assert s["code: training codes"] == pytest.approx(0.85, abs=0.01)
    assert s["code: N(0, I) draws"] == pytest.approx(3.11, abs=0.01)
    assert s["code: fitted-Gaussian draws"] == pytest.approx(1.60, abs=0.01)
    assert s["image: training images"] == pytest.approx(1.03, abs=0.01)
    assert s["image: reconstructions"] == pytest.approx(0.96, abs=0.01)
    assert s["image: N(0, I) draws"] == pytest.approx(1.60, abs=0.01)
    assert s["image: fitted-Gaussian draws"] == pytest.approx(1.31, abs=0.01)
    assert s["code: N(0, I) draws"] > 3 * s["code: training codes"]
