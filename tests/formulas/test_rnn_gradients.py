"""Formula tests for docs/*/sequences/rnn-gradients.md.

Backpropagation through time as the page writes it (bptt in snippets/rnn_gradients.py) against
autograd; the Jacobian product prod diag(tanh'(a_i)) W_hh against torch.autograd.functional.jacobian
and its norm bound; clipping by norm and by value from scratch against torch.nn.utils.clip_grad_norm_
and clip_grad_value_; truncated BPTT (detach every k steps) against the full gradient restricted to
the window. The numbers the page states about its figures are asserted from the snippet's own
experiments. The mutation tests run wrong formulas through the same comparisons and see them fail.
"""

import math

import numpy as np
import pytest
import torch

from snippet_code import snippet_function

DTYPE = torch.float64
pytestmark = pytest.mark.usefixtures("float64")  # the snippet's functions make tensors in the default dtype

SNIPPET = snippet_function("rnn_gradients", "rnn_forward", "bptt", "random_rnn", "clip_by_norm", "clip_by_value",
                           "angle_deg", "gradient_norm_experiment", "clipping_experiment", "spectral_radius")
rnn_forward, bptt, random_rnn = SNIPPET["rnn_forward"], SNIPPET["bptt"], SNIPPET["random_rnn"]


def worst_of(*values):
    """max() that treats NaN as infinitely bad."""
    return max(math.inf if math.isnan(v) else v for v in values)


def rel_off(a, b, rtol):
    """Largest |a - b| relative to max |b| (elementwise over the whole tensor), in units of rtol."""
    scale = b.abs().max().item() or 1.0
    return (a - b).abs().max().item() / (rtol * scale)


def problem(T, B, n, d, seed, scale=1.0):
    p = random_rnn(n, d, seed, scale)
    gen = torch.Generator().manual_seed(seed + 100)
    x = torch.randn(T, B, d, generator=gen)
    y = torch.randn(T, B, 1, generator=gen)
    h0 = 0.5 * torch.randn(B, n, generator=gen)
    return p, x, y, h0


def autograd_grads(p, x, h0, y, mask):
    q = {k: v.clone().requires_grad_() for k, v in p.items()}
    h0 = h0.clone().requires_grad_()
    _, ys = rnn_forward(q, x, h0)
    loss = sum(mask[t] * 0.5 * ((ys[t] - y[t]) ** 2).sum() for t in range(len(x)))
    grads = torch.autograd.grad(loss, [*q.values(), h0])
    return dict(zip(q, grads[:-1])), grads[-1]


def bptt_off(bptt_fn, T, B, n, d, seed, last_only, scale=1.0):
    """The largest difference between bptt_fn's gradients (all parameters and h_0) and autograd's,
    relative, in units of rtol = 1e-12."""
    p, x, y, h0 = problem(T, B, n, d, seed, scale)
    mask = [0.0] * (T - 1) + [1.0] if last_only else [1.0] * T
    ours, ours_h0 = bptt_fn(p, x, h0, y, mask)
    ref, ref_h0 = autograd_grads(p, x, h0, y, mask)
    return worst_of(*(rel_off(ours[k], ref[k], 1e-12) for k in ref), rel_off(ours_h0, ref_h0, 1e-12))


BPTT_CASES = [(6, 3, 5, 2, 0, False), (6, 3, 5, 2, 1, True), (12, 1, 4, 3, 2, False), (20, 4, 8, 1, 3, True)]


@pytest.mark.parametrize("T,B,n,d,seed,last_only", BPTT_CASES)
def test_bptt_by_hand_matches_autograd(T, B, n, d, seed, last_only):
    assert bptt_off(bptt, T, B, n, d, seed, last_only) <= 1.0
    assert bptt_off(bptt, T, B, n, d, seed, last_only, scale=2.5) <= 1.0  # a W_hh that saturates tanh


# ---------------------------------------------------------------------------
# dh_t/dh_k = prod_{i=k+1}^{t} diag(tanh'(a_i)) W_hh, and ||.||_2 <= (gamma sigma_max)^(t-k)
# ---------------------------------------------------------------------------
def run_from(p, x, k, t):
    """h_t as a function of h_k (one sequence)."""
    def f(h):
        for i in range(k, t):  # x[i] is x_{i+1}
            h = torch.tanh(p["W_xh"] @ x[i, 0] + p["W_hh"] @ h + p["b_h"])
        return h
    return f


def jacobian_product(p, hs, k, t, reverse=False):
    """prod_{i=k+1}^{t} diag(1 - h_i^2) W_hh, the factor of step t on the left."""
    J = torch.eye(p["W_hh"].shape[0])
    for i in range(k + 1, t + 1):
        step = torch.diag(1 - hs[i][0] ** 2) @ p["W_hh"]
        J = J @ step if reverse else step @ J
    return J


def jacobian_off(reverse, seed):
    p, x, _, h0 = problem(12, 1, 6, 2, seed, scale=1.5)
    hs, _ = rnn_forward(p, x, h0)
    worst = 0.0
    for k, t in [(0, 1), (2, 7), (0, 12), (5, 11)]:
        ref = torch.autograd.functional.jacobian(run_from(p, x, k, t), hs[k][0])
        worst = worst_of(worst, rel_off(jacobian_product(p, hs, k, t, reverse), ref, 1e-12))
    return worst


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_jacobian_product_matches_autograd(seed):
    assert jacobian_off(False, seed) <= 1.0


@pytest.mark.parametrize("scale", [0.5, 1.0, 3.0])
def test_norm_bound_holds(scale):
    p, x, _, h0 = problem(30, 1, 8, 2, 4, scale)
    hs, _ = rnn_forward(p, x, h0)
    sigma = torch.linalg.matrix_norm(p["W_hh"], 2).item()
    for k, t in [(0, 5), (3, 20), (0, 30), (10, 11)]:
        J = jacobian_product(p, hs, k, t)
        gamma = max((1 - hs[i][0] ** 2).max().item() for i in range(k + 1, t + 1))  # largest tanh' used
        assert gamma <= 1.0
        assert torch.linalg.matrix_norm(J, 2).item() <= (gamma * sigma) ** (t - k) * (1 + 1e-12)


def test_sigma_max_below_one_is_sufficient_for_vanishing():
    """sigma_max(W_hh) = 0.9 < 1: every ||dh_t/dh_0|| is below 0.9^t, whatever the inputs."""
    p, x, _, h0 = problem(40, 1, 8, 2, 5)
    p["W_hh"] *= 0.9 / torch.linalg.matrix_norm(p["W_hh"], 2)
    hs, _ = rnn_forward(p, x, h0)
    for t in (10, 20, 40):
        assert torch.linalg.matrix_norm(jacobian_product(p, hs, 0, t), 2).item() <= 0.9**t


def test_spectral_radius_is_not_a_bound():
    """Mutation: the same bound with the spectral radius in place of sigma_max fails for a non-normal W_hh
    (rho = 0.5, sigma_max = 3.04): the Jacobian first grows before it shrinks."""
    p, x, _, h0 = problem(10, 1, 2, 1, 6)
    p["W_hh"] = torch.tensor([[0.5, 3.0], [0.0, 0.5]])
    p["W_xh"] *= 0.01
    p["b_h"] *= 0.0
    h0 = h0 * 0.01
    hs, _ = rnn_forward(p, x, h0)
    rho = SNIPPET["spectral_radius"](p["W_hh"])
    sigma = torch.linalg.matrix_norm(p["W_hh"], 2).item()
    norm2 = torch.linalg.matrix_norm(jacobian_product(p, hs, 0, 2), 2).item()
    assert rho == pytest.approx(0.5) and sigma > 3
    assert norm2 <= sigma**2  # the page's bound holds
    assert norm2 > 1 > rho**2  # the spectral-radius "bound" does not


# ---------------------------------------------------------------------------
# clipping: g <- g min(1, c / (||g|| + 1e-6)) over all parameters; clamp(g_i, -c, c)
# ---------------------------------------------------------------------------
def make_grads(seed):
    gen = torch.Generator().manual_seed(seed)
    shapes = [(4, 3), (3,), (2, 5, 2), (1,)]
    return [torch.randn(s, generator=gen) * (i + 1) for i, s in enumerate(shapes)]


def clip_inf_norm(grads, max_norm):
    """The same rule with the max norm: ||g||_inf = max over all entries of all parameters of |g_i|."""
    total = max(g.abs().max() for g in grads)
    scale = min(1.0, max_norm / (total.item() + 1e-6))
    return [g * scale for g in grads], total


def clip_per_parameter(grads, max_norm):
    """Mutation: each parameter clipped by its own norm."""
    out = [SNIPPET["clip_by_norm"]([g], max_norm)[0][0] for g in grads]
    return out, torch.sqrt(sum((g**2).sum() for g in grads))


def clip_norm_off(clip_fn, seed, max_norm, norm_type):
    """Our clipped gradients and total norm against clip_grad_norm_ on the same gradients, in units of rtol 1e-14."""
    grads = make_grads(seed)
    params = [torch.zeros_like(g, requires_grad=True) for g in grads]
    for q, g in zip(params, grads):
        q.grad = g.clone()
    total_ref = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
    ours, total = clip_fn(grads, max_norm)
    return worst_of(rel_off(total, total_ref, 1e-14), *(rel_off(a, q.grad, 1e-14) for a, q in zip(ours, params)))


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("max_norm", [0.5, 3.0, 1e3])  # below the total norm, in between, above it
def test_clip_by_norm_matches_clip_grad_norm(seed, max_norm):
    assert clip_norm_off(SNIPPET["clip_by_norm"], seed, max_norm, 2.0) <= 1.0
    assert clip_norm_off(clip_inf_norm, seed, max_norm, math.inf) <= 1.0


@pytest.mark.parametrize("clip_value", [0.1, 1.0, 5.0])
def test_clip_by_value_matches_clip_grad_value(clip_value):
    grads = make_grads(3)
    params = [torch.zeros_like(g, requires_grad=True) for g in grads]
    for q, g in zip(params, grads):
        q.grad = g.clone()
    torch.nn.utils.clip_grad_value_(params, clip_value)
    for ours, q in zip(SNIPPET["clip_by_value"](grads, clip_value), params):
        assert torch.equal(ours, q.grad)


def test_clip_by_norm_keeps_direction_clip_by_value_does_not():
    """Figure 2: g = (4, 1); by norm the angle to g is 0, by value it is 31.0 degrees."""
    g = torch.tensor([4.0, 1.0])
    (by_norm,), total = SNIPPET["clip_by_norm"]([g], 1.0)
    (by_value,) = SNIPPET["clip_by_value"]([g], 1.0)
    assert total.item() == pytest.approx(math.sqrt(17))
    assert by_norm.norm().item() == pytest.approx(1.0, abs=1e-6)
    assert SNIPPET["angle_deg"](by_norm, g) < 1e-6
    assert torch.equal(by_value, torch.tensor([1.0, 1.0]))
    assert SNIPPET["angle_deg"](by_value, g) == pytest.approx(45 - math.degrees(math.atan(0.25)))
    assert round(SNIPPET["angle_deg"](by_value, g), 1) == 31.0


def test_clipping_by_per_parameter_norm_is_caught():
    assert clip_norm_off(SNIPPET["clip_by_norm"], 0, 3.0, 2.0) <= 1.0
    assert clip_norm_off(clip_per_parameter, 0, 3.0, 2.0) > 1e6


def test_clipping_without_the_epsilon_is_caught():
    """PyTorch divides by ||g|| + 1e-6: the textbook max_norm / ||g|| differs at this tolerance."""
    def no_eps(grads, max_norm):
        total = torch.sqrt(sum((g**2).sum() for g in grads))
        return [g * min(1.0, max_norm / total.item()) for g in grads], total
    assert clip_norm_off(no_eps, 0, 0.5, 2.0) > 1e3


# ---------------------------------------------------------------------------
# truncated BPTT: detach h every k steps = the full gradient restricted to the window
# ---------------------------------------------------------------------------
def chunk_loss_terms(p, x, y, t0, t1, h):
    loss = 0.0
    for t in range(t0, t1):
        h = torch.tanh(x[t] @ p["W_xh"].T + h @ p["W_hh"].T + p["b_h"])
        loss = loss + 0.5 * ((h @ p["W_hy"].T + p["b_y"] - y[t]) ** 2).sum()
    return loss, h


def truncated_bptt_grads(p, x, y, h0, k):
    """What a training loop with h = h.detach() every k steps computes: for each chunk, the gradient
    of that chunk's loss with respect to W_hh."""
    q = {name: v.clone().requires_grad_() for name, v in p.items()}
    h, out = h0, []
    for t0 in range(0, len(x), k):
        loss, h = chunk_loss_terms(q, x, y, t0, min(t0 + k, len(x)), h.detach())
        out.append(torch.autograd.grad(loss, q["W_hh"])[0])
    return out


def per_step_contributions(p, x, y, h0, t0, t1):
    """The full graph with one copy of W_hh per step: d(loss of steps t0..t1-1)/d(copy s) is the
    contribution of step s to the full gradient (their sum over all s is the full gradient)."""
    copies = [p["W_hh"].clone().requires_grad_() for _ in range(len(x))]
    h, loss = h0, 0.0
    for t in range(t1):
        h = torch.tanh(x[t] @ p["W_xh"].T + h @ copies[t].T + p["b_h"])
        if t >= t0:
            loss = loss + 0.5 * ((h @ p["W_hy"].T + p["b_y"] - y[t]) ** 2).sum()
    return torch.autograd.grad(loss, copies[:t1])


@pytest.mark.parametrize("T,k,seed", [(12, 4, 0), (10, 3, 1), (9, 9, 2)])
def test_truncated_bptt_is_the_full_gradient_restricted_to_the_window(T, k, seed):
    p, x, y, h0 = problem(T, 2, 5, 2, seed, scale=1.3)
    for j, g in enumerate(truncated_bptt_grads(p, x, y, h0, k)):
        t0, t1 = j * k, min(j * k + k, T)
        contrib = per_step_contributions(p, x, y, h0, t0, t1)
        window = sum(contrib[t0:t1])
        assert rel_off(g, window, 1e-12) <= 1.0
        if t0 > 0:  # what truncation drops: the steps before the window contribute, and differ from 0
            full = sum(contrib)
            assert (full - window).abs().max() > 1e-3 * window.abs().max()
            # mutation: a window one step too long is not what truncated BPTT computes
            assert rel_off(g, sum(contrib[t0 - 1:t1]), 1e-12) > 1e6


# ---------------------------------------------------------------------------
# Mutation: BPTT without the tanh' factor, or with W_hh instead of its transpose
# ---------------------------------------------------------------------------
def bptt_variant(local, transpose=True):
    def fn(p, x, h0, y, mask):
        hs, ys = rnn_forward(p, x, h0)
        grads = {k: torch.zeros_like(v) for k, v in p.items()}
        W = p["W_hh"] if transpose else p["W_hh"].T  # row vectors: delta @ W_hh is W_hh^T delta
        delta_next = torch.zeros_like(h0)
        for t in range(len(x), 0, -1):
            e = mask[t - 1] * (ys[t - 1] - y[t - 1])
            grads["W_hy"] += e.T @ hs[t]
            grads["b_y"] += e.sum(0)
            delta = (e @ p["W_hy"] + delta_next @ W) * local(hs[t])
            grads["W_hh"] += delta.T @ hs[t - 1]
            grads["W_xh"] += delta.T @ x[t - 1]
            grads["b_h"] += delta.sum(0)
            delta_next = delta
        return grads, delta_next @ W
    return fn


@pytest.mark.parametrize("name,wrong", [
    ("no tanh' factor", bptt_variant(lambda h: torch.ones_like(h))),
    ("tanh'(a) written as 1 - h", bptt_variant(lambda h: 1 - h)),
    ("W_hh instead of W_hh^T", bptt_variant(lambda h: 1 - h**2, transpose=False)),
])
def test_wrong_bptt_is_caught(name, wrong):
    case = BPTT_CASES[0]
    assert bptt_off(bptt_variant(lambda h: 1 - h**2), *case) <= 1.0  # the right variant passes
    assert bptt_off(wrong, *case) > 1e6


def test_wrong_jacobian_order_is_caught():
    assert jacobian_off(False, 0) <= 1.0
    assert jacobian_off(True, 0) > 1e6  # diag and W_hh do not commute: the order matters


# ---------------------------------------------------------------------------
# What the page says about its figures, from the snippet's own experiments
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def figure_1():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        return SNIPPET["gradient_norm_experiment"]()
    finally:
        torch.set_default_dtype(previous)


def test_figure_1_numbers(figure_1):
    norms, sigma = figure_1
    assert [label.split(",")[0] for label in norms] == ["RNN", "RNN", "LSTM", "LSTM"]
    rnn_09, rnn_18, lstm_default, lstm_bias3 = (g[0] / g[-1] for g in norms.values())
    # "||dL/dh_0|| is about 1e-4 of ||dL/dh_T|| with rho = 0.9, about 1000 times it with rho = 1.8"
    assert 1e-4 < rnn_09 < 2e-4
    assert 900 < rnn_18 < 1100
    # LSTM: about 1e-11 at PyTorch's initialization, 0.11 with a forget-gate bias of 3
    assert 1e-11 < lstm_default < 3e-11
    assert lstm_bias3 == pytest.approx(0.11, abs=0.01)
    # the vanishing run has sigma_max = 1.76 > 1: Pascanu et al.'s sufficient condition does not apply
    assert [round(s, 2) for s in sigma.values()] == [1.76, 3.53]
    assert all(g.shape == (51,) for g in norms.values())


@pytest.fixture(scope="module")
def figure_3():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        return SNIPPET["clipping_experiment"]()
    finally:
        torch.set_default_dtype(previous)


def test_figure_3_numbers(figure_3):
    (loss_a, norm_a, rho_a), (loss_b, norm_b, rho_b) = figure_3.values()
    assert list(figure_3) == ["no clipping", "clip_grad_norm_(max_norm=1)"]
    assert len(loss_a) == len(loss_b) == 30
    # both start from the same network: rho(W_hh) = 1.1 and loss 0.91
    assert loss_a[0] == loss_b[0] == pytest.approx(0.91, abs=0.005)
    # without clipping: ||g|| = 187 at step 2; that one update takes rho(W_hh) from 1.8 to 5.2
    assert int(np.argmax(norm_a[:10])) == 2 and norm_a[2] == pytest.approx(187, rel=0.01)
    assert rho_a[1] == pytest.approx(1.8, abs=0.05) and rho_a[2] == pytest.approx(5.2, abs=0.05)
    # ... and the loss never recovers: above 1e8 after 30 steps
    assert loss_a[-1] > 1e8 and loss_a[5:].min() > 1.0
    # with clipping: norms before clipping up to 38 (step 5), but the loss falls below 1e-20
    assert int(np.argmax(norm_b)) == 5 and norm_b[5] == pytest.approx(37.7, abs=0.1)
    assert loss_b[-1] < 1e-20
    assert rho_b.max() < 1.6
