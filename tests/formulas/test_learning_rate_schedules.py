"""Formula tests for docs/*/optimization/learning-rate-schedules.md.

Every schedule's closed form is written here from scratch, exactly as printed on the page
(eta_t after t calls of scheduler.step(), t = 0, 1, 2, ...), and compared with the sequence
that torch.optim.lr_scheduler actually puts into optimizer.param_groups[g]["lr"]. Most
PyTorch schedulers update the rate recursively (eta_t from eta_{t-1}), so agreement with a
closed form over many steps is a real check. ReduceLROnPlateau is re-implemented from the
rules stated on the page and run on scripted metric sequences. The SGD noise-floor formulas
are checked by Monte Carlo (torch.optim.SGD) and by the exact stationary covariance.

The recording loop and the schedules the page shows (lr_curve and schedules in
snippets/learning_rate_schedules.py) are loaded from the snippet: every single-group sequence
below is recorded with the snippet's lr_curve, and every schedule of the page's figure is checked
against its closed form. The mutation tests at the end run off-by-one and other slips through the
same comparison (schedule_off). The numbers the page states about Figures 2 and 4 (how far the
measured noise floor lies above the first-order value, the number of updates) are read from a full,
off-screen run of the snippet (snippet_run) and asserted at the values the page states.
"""

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler

from snippet_code import run_snippet, snippet_function

DTYPE = torch.float64
REL = 1e-12  # the recursions accumulate only round-off

SNIPPET = snippet_function("learning_rate_schedules", "lr_curve", "schedules", "T", "d_model", "warmup")
SNIPPET_PATH = Path(__file__).resolve().parents[2] / "snippets" / "learning_rate_schedules.py"


def lr_sequence(make_scheduler, steps, lrs=(0.1,), optimizer=torch.optim.SGD, **opt_kwargs):
    """Per-group learning rates eta_t^(g), t = 0 .. steps-1, as the optimizer sees them (and the momentum or
    beta_1 of each group). One group: the snippet's lr_curve records it; several: the same loop, per group."""
    if len(lrs) == 1:
        seq, moms = SNIPPET["lr_curve"](make_scheduler, steps, lr=lrs[0], optimizer=optimizer, **opt_kwargs)
        return torch.from_numpy(np.asarray(seq, dtype=np.float64))[:, None], [[m] for m in moms.tolist()]
    groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
    opt = optimizer(groups, **opt_kwargs)
    sched = make_scheduler(opt)
    seq, moms = [], []
    for _ in range(steps):
        seq.append([g["lr"] for g in opt.param_groups])
        moms.append([g.get("momentum", g.get("betas", (None,))[0]) for g in opt.param_groups])
        opt.step()
        sched.step()
    return torch.tensor(seq, dtype=DTYPE), moms


def schedule_off(actual, expected, rel=REL, abs_=1e-15):
    """How many tolerances the recorded rates are off the closed form (<= 1 passes); NaN or a length mismatch is inf."""
    expected = torch.as_tensor(expected, dtype=DTYPE)
    if expected.numel() != actual.numel():
        return math.inf
    off = (actual - expected.reshape(actual.shape)).abs() / (abs_ + rel * expected.reshape(actual.shape).abs())
    return off.nan_to_num(nan=math.inf).max().item()


def assert_schedule(actual, expected, rel=REL, abs_=1e-15):
    off = schedule_off(actual, expected, rel, abs_)
    assert off <= 1.0, f"{off:.3g} tolerances off"


# ---------------------------------------------------------------------------
# power: eta_t = eta_0 (1 + t/s)^(-c)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("s,c", [(10, 1.0), (25, 0.5), (7, 2.0)])
def test_power_schedule(s, c):
    eta0, steps = 0.3, 80
    closed = [eta0 * (1 + t / s) ** -c for t in range(steps)]
    # LambdaLR with the closed form (checks the t-indexing of LambdaLR) ...
    seq, _ = lr_sequence(lambda o: lr_scheduler.LambdaLR(o, lambda t: (1 + t / s) ** -c), steps, (eta0,))
    assert_schedule(seq, closed)
    # ... and MultiplicativeLR with the step-to-step ratio (an independent, recursive route)
    ratio = lambda t: ((1 + (t - 1) / s) / (1 + t / s)) ** c  # noqa: E731
    seq, _ = lr_sequence(lambda o: lr_scheduler.MultiplicativeLR(o, ratio), steps, (eta0,))
    assert_schedule(seq, closed, rel=1e-10)
    if c == 1.0:  # eta_0/2 after s steps, eta_0/3 after 2s, ...
        for k in range(1, (steps - 1) // s + 1):
            assert seq[k * s, 0].item() == pytest.approx(eta0 / (k + 1), rel=1e-10)


def test_power_c1_satisfies_robbins_monro_partial_sums():
    """c = 1: sum eta_t grows like log t (diverges); sum eta_t^2 stays bounded by eta_0^2 (1 + s)."""
    eta0, s = 1.0, 10
    eta = [eta0 / (1 + t / s) for t in range(200_000)]
    s1 = sum(eta)
    assert s1 == pytest.approx(eta0 * s * math.log(200_000 / s), rel=0.01)  # ~ s ln(t/s)
    assert sum(e * e for e in eta) < eta0**2 * (1 + s)


# ---------------------------------------------------------------------------
# exponential: eta_t = eta_0 gamma^t   (ExponentialLR is recursive: eta_t = gamma eta_{t-1})
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("gamma", [0.95, 0.99, 0.1 ** (1 / 20)])
def test_exponential(gamma):
    eta0, steps = 0.05, 120
    seq, _ = lr_sequence(lambda o: lr_scheduler.ExponentialLR(o, gamma=gamma), steps, (eta0,))
    assert_schedule(seq, [eta0 * gamma**t for t in range(steps)], rel=1e-12)


def test_exponential_drops_tenfold_every_s_steps():
    eta0, s = 1.0, 20
    seq, _ = lr_sequence(lambda o: lr_scheduler.ExponentialLR(o, gamma=0.1 ** (1 / s)), 101, (eta0,))
    for k in range(6):
        assert seq[k * s, 0].item() == pytest.approx(10.0**-k, rel=1e-12)


# ---------------------------------------------------------------------------
# piecewise constant: StepLR eta_0 gamma^floor(t/s);  MultiStepLR eta_0 gamma^#{m_i <= t}
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("step_size,gamma", [(30, 0.1), (7, 0.5), (1, 0.9)])
def test_step_lr(step_size, gamma):
    eta0, steps = 0.1, 100
    seq, _ = lr_sequence(lambda o: lr_scheduler.StepLR(o, step_size=step_size, gamma=gamma), steps, (eta0,))
    assert_schedule(seq, [eta0 * gamma ** (t // step_size) for t in range(steps)])


@pytest.mark.parametrize("milestones,gamma", [([50, 75], 0.1), ([3, 10, 11, 40], 0.5), ([60], 0.2)])
def test_multistep_lr(milestones, gamma):
    eta0, steps = 0.4, 90
    seq, _ = lr_sequence(lambda o: lr_scheduler.MultiStepLR(o, milestones=milestones, gamma=gamma), steps, (eta0,))
    closed = [eta0 * gamma ** sum(m <= t for m in milestones) for t in range(steps)]
    assert_schedule(seq, closed)


def test_steplr_is_multisteplr_with_evenly_spaced_milestones():
    a, _ = lr_sequence(lambda o: lr_scheduler.StepLR(o, step_size=15, gamma=0.3), 100)
    b, _ = lr_sequence(lambda o: lr_scheduler.MultiStepLR(o, milestones=range(15, 100, 15), gamma=0.3), 100)
    assert_schedule(a, b)


# ---------------------------------------------------------------------------
# cosine: eta_t = eta_min + (eta_0 - eta_min)(1 + cos(pi t / T_max)) / 2
# (CosineAnnealingLR uses a recursion; both are periodic with period 2 T_max past T_max)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("t_max,eta_min", [(50, 0.0), (73, 1e-3), (10, 0.02)])
def test_cosine_annealing(t_max, eta_min):
    eta0 = 0.1
    steps = 3 * t_max + 5  # well past T_max: the rate goes back up
    seq, _ = lr_sequence(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=t_max, eta_min=eta_min), steps, (eta0,))
    closed = [eta_min + 0.5 * (eta0 - eta_min) * (1 + math.cos(math.pi * t / t_max)) for t in range(steps)]
    assert_schedule(seq, closed, rel=1e-10, abs_=1e-14)
    assert seq[t_max, 0].item() == pytest.approx(eta_min, abs=1e-14)
    assert seq[2 * t_max, 0].item() == pytest.approx(eta0, rel=1e-10)  # pitfall: stepping past T_max


@pytest.mark.parametrize("t0,t_mult", [(10, 1), (10, 2), (7, 3)])
def test_cosine_warm_restarts(t0, t_mult):
    eta0, eta_min, steps = 0.2, 0.01, 120
    seq, _ = lr_sequence(
        lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=t0, T_mult=t_mult, eta_min=eta_min), steps, (eta0,))
    assert_schedule(seq, warm_restarts(t0, t_mult, eta0, eta_min, steps))


def warm_restarts(t0, t_mult, eta0, eta_min, steps):
    """eta_min + (eta_0 - eta_min)(1 + cos(pi T_cur / T_i)) / 2, T_cur = steps since the last restart, T_i = T_0 T_mult^i."""
    closed, t_cur, t_i = [], 0, t0
    for _ in range(steps):
        closed.append(eta_min + 0.5 * (eta0 - eta_min) * (1 + math.cos(math.pi * t_cur / t_i)))
        t_cur += 1
        if t_cur == t_i:
            t_cur, t_i = 0, t_i * t_mult
    return closed


# ---------------------------------------------------------------------------
# linear: eta_t = eta_0 (f_s + (f_e - f_s) min(t, T)/T);  polynomial: eta_0 (1 - min(t, T)/T)^p
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("f_s,f_e,total", [(1.0, 0.0, 60), (0.1, 1.0, 10), (1.0, 0.25, 33), (1 / 3, 1.0, 5)])
def test_linear_lr(f_s, f_e, total):
    eta0, steps = 0.08, total + 20
    seq, _ = lr_sequence(
        lambda o: lr_scheduler.LinearLR(o, start_factor=f_s, end_factor=f_e, total_iters=total), steps, (eta0,))
    closed = [eta0 * (f_s + (f_e - f_s) * min(t, total) / total) for t in range(steps)]
    assert_schedule(seq, closed, rel=1e-11, abs_=1e-15)


@pytest.mark.parametrize("power,total", [(1.0, 50), (2.0, 64), (0.9, 40)])
def test_polynomial_lr(power, total):
    eta0, steps = 0.5, total + 15
    seq, _ = lr_sequence(lambda o: lr_scheduler.PolynomialLR(o, total_iters=total, power=power), steps, (eta0,))
    closed = [eta0 * (1 - min(t, total) / total) ** power for t in range(steps)]
    assert_schedule(seq, closed, rel=1e-11, abs_=1e-15)


def test_linear_decay_two_ways():
    """LinearLR(1 -> 0) and PolynomialLR(power=1) are the same linear decay."""
    a, _ = lr_sequence(lambda o: lr_scheduler.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=50), 60)
    b, _ = lr_sequence(lambda o: lr_scheduler.PolynomialLR(o, total_iters=50, power=1.0), 60)
    assert_schedule(a, b, rel=1e-11, abs_=1e-15)


# ---------------------------------------------------------------------------
# inverse square root (Vaswani et al. 2017, Noam):  n = t + 1,
#   eta = d^(-1/2) min(n^(-1/2), n w^(-3/2)) = eta_peak min(n / w, sqrt(w / n)),  eta_peak = (d w)^(-1/2)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("d_model,warmup", [(512, 4000), (64, 10), (256, 25)])
def test_noam_schedule(d_model, warmup):
    steps = max(min(3 * warmup, warmup + 200), 60)
    noam = lambda t: d_model**-0.5 * min((t + 1) ** -0.5, (t + 1) * warmup**-1.5)  # noqa: E731
    seq, _ = lr_sequence(lambda o: lr_scheduler.LambdaLR(o, noam), steps, (1.0,),
                         optimizer=torch.optim.Adam, betas=(0.9, 0.98), eps=1e-9)
    peak = (d_model * warmup) ** -0.5
    closed = [peak * min((t + 1) / warmup, math.sqrt(warmup / (t + 1))) for t in range(steps)]
    assert_schedule(seq, closed, rel=1e-12)
    assert int(seq[:, 0].argmax()) == warmup - 1  # step_num = warmup
    assert seq[:, 0].max().item() == pytest.approx(peak, rel=1e-12)


def test_bengio_constant_then_inverse_t():
    """eta_t = eta_0 tau / max(t, tau): constant for t <= tau, then eta_0 tau / t."""
    eta0, tau = 0.2, 25
    seq, _ = lr_sequence(lambda o: lr_scheduler.LambdaLR(o, lambda t: tau / max(t, tau)), 100, (eta0,))
    closed = [eta0 if t <= tau else eta0 * tau / t for t in range(100)]
    assert_schedule(seq, closed)


# ---------------------------------------------------------------------------
# 1cycle (OneCycleLR).  t_1 = p T - 1, eta_start = eta_max / d, eta_end = eta_start / d_f,
#   t <= t_1: eta_t = a(eta_start, eta_max, t / t_1)
#   t >  t_1: eta_t = a(eta_max, eta_end, (t - t_1) / (T - 1 - t_1))
#   a_cos(u, v, x) = v + (u - v)(1 + cos(pi x))/2,  a_lin(u, v, x) = u + (v - u) x
#   momentum: a(beta_max, beta_base, .) in phase 1, a(beta_base, beta_max, .) in phase 2
# ---------------------------------------------------------------------------
def anneal(kind, u, v, x):
    if kind == "cos":
        return v + (u - v) * (1 + math.cos(math.pi * x)) / 2
    return u + (v - u) * x


def one_cycle(t, total, pct, kind, eta_max, b_base, b_max, div=25.0, final_div=1e4, three_phase=False):
    eta_start = eta_max / div
    eta_end = eta_start / final_div
    t1 = pct * total - 1
    if not three_phase:
        if t <= t1:
            x = t / t1
            return anneal(kind, eta_start, eta_max, x), anneal(kind, b_max, b_base, x)
        x = (t - t1) / (total - 1 - t1)
        return anneal(kind, eta_max, eta_end, x), anneal(kind, b_base, b_max, x)
    t2 = 2 * pct * total - 2
    if t <= t1:
        x = t / t1
        return anneal(kind, eta_start, eta_max, x), anneal(kind, b_max, b_base, x)
    if t <= t2:
        x = (t - t1) / (t2 - t1)
        return anneal(kind, eta_max, eta_start, x), anneal(kind, b_base, b_max, x)
    x = (t - t2) / (total - 1 - t2)
    return anneal(kind, eta_start, eta_end, x), b_max


@pytest.mark.parametrize("total,pct,kind,div,final_div,three_phase", [
    (100, 0.3, "cos", 25.0, 1e4, False),   # PyTorch defaults
    (100, 0.3, "linear", 25.0, 1e4, False),
    (57, 0.25, "cos", 10.0, 100.0, False),  # p T - 1 = 13.25 is not an integer
    (200, 0.45, "linear", 10.0, 1e3, True),  # close to the paper's three-phase policy
    (80, 0.4, "cos", 25.0, 1e4, True),
])
def test_one_cycle_lr_and_momentum(total, pct, kind, div, final_div, three_phase):
    eta_max = 0.8
    seq, moms = lr_sequence(
        lambda o: lr_scheduler.OneCycleLR(o, max_lr=eta_max, total_steps=total, pct_start=pct,
                                          anneal_strategy=kind, div_factor=div, final_div_factor=final_div,
                                          three_phase=three_phase),
        total, (0.123,), momentum=0.9)  # the optimizer's own lr is ignored: eta_0 = max_lr / div
    closed = [one_cycle(t, total, pct, kind, eta_max, 0.85, 0.95, div, final_div, three_phase) for t in range(total)]
    assert_schedule(seq, [c[0] for c in closed], rel=1e-12, abs_=1e-15)
    torch.testing.assert_close(torch.tensor([m[0] for m in moms], dtype=DTYPE),
                               torch.tensor([c[1] for c in closed], dtype=DTYPE), rtol=1e-12, atol=1e-15)
    assert seq[0, 0].item() == pytest.approx(eta_max / div, rel=1e-12)
    assert seq[-1, 0].item() == pytest.approx(eta_max / (div * final_div), rel=1e-9)
    if float(pct * total).is_integer():
        assert int(seq[:, 0].argmax()) == int(pct * total) - 1  # peak at t = p T - 1


def test_one_cycle_cycles_adam_beta1():
    total = 60
    seq, moms = lr_sequence(lambda o: lr_scheduler.OneCycleLR(o, max_lr=1e-3, total_steps=total),
                            total, (1e-3,), optimizer=torch.optim.Adam)
    closed = [one_cycle(t, total, 0.3, "cos", 1e-3, 0.85, 0.95) for t in range(total)]
    assert_schedule(seq, [c[0] for c in closed], rel=1e-12, abs_=1e-18)
    assert [m[0] for m in moms] == pytest.approx([c[1] for c in closed], rel=1e-12)


# ---------------------------------------------------------------------------
# warm-up + cosine with SequentialLR:
#   t < w:  eta_0 (f + (1 - f) t / w)
#   t >= w: eta_min + (eta_0 - eta_min)(1 + cos(pi (t - w) / T_c)) / 2
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("w,t_c,f,eta_min", [(10, 89, 0.01, 0.0), (5, 50, 0.1, 1e-4), (20, 200, 0.001, 0.0)])
def test_warmup_then_cosine(w, t_c, f, eta_min):
    eta0, steps = 3e-4, w + t_c + 1
    seq, _ = lr_sequence(lambda o: lr_scheduler.SequentialLR(o, [
        lr_scheduler.LinearLR(o, start_factor=f, end_factor=1.0, total_iters=w),
        lr_scheduler.CosineAnnealingLR(o, T_max=t_c, eta_min=eta_min),
    ], milestones=[w]), steps, (eta0,), optimizer=torch.optim.AdamW)
    closed = [eta0 * (f + (1 - f) * t / w) if t < w
              else eta_min + 0.5 * (eta0 - eta_min) * (1 + math.cos(math.pi * (t - w) / t_c))
              for t in range(steps)]
    assert_schedule(seq, closed, rel=1e-10, abs_=1e-16)
    assert int(seq[:, 0].argmax()) == w  # the peak eta_0 is reached at t = w


# ---------------------------------------------------------------------------
# ReduceLROnPlateau, re-implemented from the rules on the page
# ---------------------------------------------------------------------------
def plateau_reference(metrics, eta0, mode="min", factor=0.1, patience=10, threshold=1e-4,
                      threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8, slip=""):
    """Rates after each step(metric): improvement is judged against the best value so far.
    (`slip` switches on one of the wrong rules of the mutation test.)"""
    best = math.inf if mode == "min" else -math.inf
    bad, cool, eta, out = 0, 0, eta0, []
    for m in metrics:
        if mode == "min":
            better = m < (best * (1 - threshold) if threshold_mode == "rel" else best - threshold)
        else:
            better = m > (best * (1 + threshold) if threshold_mode == "rel" else best + threshold)
        if better:
            best, bad = m, 0
        else:
            bad += 1
        if slip == "previous":
            best = m
        if cool > 0 and slip != "cooldown":  # during cooldown bad evaluations are not counted
            cool -= 1
            bad = 0
        elif cool > 0:
            cool -= 1
        if bad > patience - (slip == "early"):  # the (patience + 1)-th bad evaluation in a row
            new = max(eta * factor, min_lr)
            if eta - new > eps:
                eta = new
            cool, bad = cooldown, 0
        out.append(eta)
    return out


def plateau_torch(metrics, eta0, **kwargs):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=eta0)
    sched = lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    out = []
    for m in metrics:
        opt.step()
        sched.step(m)
        out.append(opt.param_groups[0]["lr"])
    return out


def scripted_loss(n, seed, drift=0.3, noise=0.02):
    """A loss-like sequence: a decaying transient, plateaus and noise."""
    gen = torch.Generator().manual_seed(seed)
    return [math.exp(-drift * t / 10) + 0.5 + noise * torch.randn((), generator=gen, dtype=DTYPE).item()
            for t in range(n)]


@pytest.mark.parametrize("kwargs,seed", [
    ({}, 0),  # PyTorch defaults: factor 0.1, patience 10, threshold 1e-4 (rel)
    (dict(factor=0.5, patience=2), 1),
    (dict(factor=0.3, patience=3, threshold=1e-3, cooldown=2), 2),
    (dict(factor=0.5, patience=0, threshold=0.01, threshold_mode="abs", cooldown=1, min_lr=1e-3), 3),
    (dict(factor=0.2, patience=4, threshold=0.0), 4),
])
def test_reduce_on_plateau_min_mode(kwargs, seed):
    metrics = scripted_loss(150, seed)
    ref = plateau_reference(metrics, 0.1, **kwargs)
    got = plateau_torch(metrics, 0.1, **kwargs)
    assert got == pytest.approx(ref, rel=1e-15)
    assert got[-1] < 0.1  # the scheduler did act on this sequence


@pytest.mark.parametrize("kwargs", [dict(mode="max", factor=0.5, patience=3),
                                    dict(mode="max", factor=0.5, patience=1, threshold=0.005,
                                         threshold_mode="abs", cooldown=3)])
def test_reduce_on_plateau_max_mode(kwargs):
    accuracy = [1 - v / 2 for v in scripted_loss(120, 7)]  # "higher is better"
    ref = plateau_reference(accuracy, 0.05, **kwargs)
    got = plateau_torch(accuracy, 0.05, **kwargs)
    assert got == pytest.approx(ref, rel=1e-15)
    assert got[-1] < 0.05


def test_reduce_on_plateau_patience_counts_from_best_not_previous():
    """A slowly *worsening* metric after the best still counts as bad, even though each value
    is close to the previous one; the cut comes on the (patience + 1)-th bad evaluation."""
    metrics = [1.0, 0.8, 0.81, 0.82, 0.83, 0.84, 0.85, 0.86]
    got = plateau_torch(metrics, 1.0, factor=0.5, patience=2)
    assert got == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]
    assert plateau_reference(metrics, 1.0, factor=0.5, patience=2) == got


# ---------------------------------------------------------------------------
# per-group (per-layer) learning rates: eta_t^(g) = eta_0^(g) f(t)
# ---------------------------------------------------------------------------
def discriminative_lrs(eta_top, n_layers, decay=2.6):
    """Howard & Ruder (2018): eta^(l-1) = eta^(l) / 2.6, the last (top) layer gets eta_top."""
    return [eta_top / decay ** (n_layers - 1 - layer) for layer in range(n_layers)]


def test_per_group_rates_follow_each_groups_base_rate():
    lrs = discriminative_lrs(1e-3, 4)
    steps, t_max = 70, 60
    seq, _ = lr_sequence(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=t_max), steps, lrs)
    assert seq[0, -1].item() == 1e-3  # the top layer gets eta_top
    closed = [[lr * 0.5 * (1 + math.cos(math.pi * t / t_max)) for lr in lrs] for t in range(steps)]
    assert_schedule(seq, closed, rel=1e-10, abs_=1e-18)
    # the ratio between neighbouring layers stays 2.6 at every step where eta > 0
    ratios = seq[:t_max, 1:] / seq[:t_max, :-1]
    torch.testing.assert_close(ratios, torch.full_like(ratios, 2.6), rtol=1e-10, atol=0)


def test_per_group_lambdas_and_one_cycle_max_lr_list():
    lrs = [0.01, 0.1]
    warm = lambda t: min(1.0, (t + 1) / 10)  # noqa: E731
    decay = lambda t: 0.97**t  # noqa: E731
    seq, _ = lr_sequence(lambda o: lr_scheduler.LambdaLR(o, [warm, decay]), 50, lrs)
    assert_schedule(seq, [[0.01 * warm(t), 0.1 * decay(t)] for t in range(50)])
    seq, _ = lr_sequence(lambda o: lr_scheduler.OneCycleLR(o, max_lr=[0.02, 0.2], total_steps=50), 50, lrs,
                         momentum=0.9)
    closed = [[one_cycle(t, 50, 0.3, "cos", m, 0.85, 0.95)[0] for m in (0.02, 0.2)] for t in range(50)]
    assert_schedule(seq, closed, rel=1e-12, abs_=1e-16)


def test_sgd_uses_each_groups_rate():
    torch.manual_seed(0)
    body, head = torch.nn.Linear(3, 4).to(DTYPE), torch.nn.Linear(4, 1).to(DTYPE)
    lrs = {"body": 0.01, "head": 0.1}
    opt = torch.optim.SGD([{"params": body.parameters(), "lr": lrs["body"]},
                           {"params": head.parameters(), "lr": lrs["head"]}])
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    x, target = torch.randn(16, 3, dtype=DTYPE), torch.randn(16, 1, dtype=DTYPE)
    for t in range(6):
        before = {n: [p.detach().clone() for p in m.parameters()] for n, m in (("body", body), ("head", head))}
        loss = ((head(torch.tanh(body(x))) - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        grads = {n: [p.grad.clone() for p in m.parameters()] for n, m in (("body", body), ("head", head))}
        opt.step()
        sched.step()
        for name, module in (("body", body), ("head", head)):
            eta = lrs[name] * 0.5 ** (t // 2)  # theta <- theta - eta^(g)_t g
            for p, p0, g in zip(module.parameters(), before[name], grads[name]):
                torch.testing.assert_close(p.detach(), p0 - eta * g, rtol=0, atol=1e-15)


# ---------------------------------------------------------------------------
# the SGD noise floor.  l_i = h (theta - a_i)^2 / 2, mini-batches of B drawn with replacement:
#   g_B = h (theta - mean a_B),  sigma^2 = h^2 Var(a),
#   E[L - L*] (stationary) = eta sigma^2 / (2 B (2 - eta h))  ~  eta sigma^2 / (4 B)
# ---------------------------------------------------------------------------
@pytest.fixture
def one_thread():
    """Tiny tensors: extra intra-op threads only add overhead (and stall on a busy machine)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.mark.parametrize("h,eta,batch", [(1.0, 0.1, 1), (1.0, 0.4, 4), (2.0, 0.05, 8), (0.5, 1.0, 2)])
def test_stationary_noise_floor_1d(h, eta, batch, one_thread):
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(64, generator=gen, dtype=DTYPE) * 1.5 + 0.7
    a_bar, var_a = a.mean(), a.var(unbiased=False)
    sigma2 = h**2 * var_a
    runs = 4000
    theta = torch.full((runs,), a_bar.item(), dtype=DTYPE, requires_grad=True)  # start at theta*
    opt = torch.optim.SGD([theta], lr=eta)
    burn_in, measure = int(8 / (eta * h)) + 20, 200
    excess = []
    for t in range(burn_in + measure):
        idx = torch.randint(len(a), (runs, batch), generator=gen)
        loss = (0.5 * h * (theta[:, None] - a[idx]) ** 2).mean(1).sum()  # runs are independent
        opt.zero_grad()
        loss.backward()
        opt.step()
        if t >= burn_in:
            excess.append((0.5 * h * (theta.detach() - a_bar) ** 2).mean())
    measured = torch.stack(excess).mean().item()
    exact = eta * sigma2.item() / (2 * batch * (2 - eta * h))
    assert measured == pytest.approx(exact, rel=0.05)


def stationary_excess(H, Sigma, eta, batch):
    """E[L - L*] = tr(H V) / 2 of SGD on a quadratic with Hessian H and gradient-noise covariance Sigma / B, where V
    solves V = (I - eta H) V (I - eta H) + eta^2 Sigma / B (by torch.linalg.solve on the vectorised equation)."""
    d = H.shape[0]
    M = torch.eye(d, dtype=DTYPE) - eta * H
    K = torch.kron(M, M)  # vec(M V M) = (M kron M) vec(V) for symmetric M
    V = torch.linalg.solve(torch.eye(d * d, dtype=DTYPE) - K, (eta**2 * Sigma / batch).reshape(-1)).reshape(d, d)
    torch.testing.assert_close(V, M @ V @ M + eta**2 * Sigma / batch, rtol=1e-9, atol=1e-15)  # it solves the equation
    return 0.5 * torch.trace(H @ V).item()


def page_floor_1d(h, sigma2, eta, batch):  # eta sigma^2 / (2 B (2 - eta h))
    return eta * sigma2 / (2 * batch * (2 - eta * h))


def floor_off(formula, h, sigma2, eta, batch):
    """formula(h, sigma2, eta, B) against the exact stationary excess loss in 1-D, in units of rel. 1e-12."""
    exact = stationary_excess(torch.tensor([[h]], dtype=DTYPE), torch.tensor([[sigma2]], dtype=DTYPE), eta, batch)
    return abs(formula(h, sigma2, eta, batch) - exact) / (1e-12 * exact)


@pytest.mark.parametrize("h,sigma2,eta,batch", [(1.0, 2.0, 0.2, 8), (2.0, 0.5, 0.05, 1), (0.5, 3.0, 1.0, 4)])
def test_exact_1d_floor(h, sigma2, eta, batch):
    assert floor_off(page_floor_1d, h, sigma2, eta, batch) <= 1.0


def test_noise_floor_depends_on_eta_over_b_to_first_order():
    """Exact 1-D floors (stationary covariance, not the closed form): (eta/k, B) and (eta, kB) agree up to the
    (2 - eta h) factor, and both are eta sigma^2 / (4 k B) to first order."""
    h, sigma2, eta, batch, k = 1.0, 2.0, 0.2, 8, 5
    H, Sigma = torch.tensor([[h]], dtype=DTYPE), torch.tensor([[sigma2]], dtype=DTYPE)
    small_eta, big_batch = stationary_excess(H, Sigma, eta / k, batch), stationary_excess(H, Sigma, eta, k * batch)
    assert small_eta == pytest.approx(big_batch, rel=eta * h)
    assert small_eta == pytest.approx(eta * sigma2 / (4 * k * batch), rel=eta * h)
    assert big_batch == pytest.approx(eta * sigma2 / (4 * k * batch), rel=eta * h)


@pytest.mark.parametrize("eta,seed", [(1e-3, 0), (0.01, 1), (0.1, 2), (0.3, 3)])
def test_first_order_floor_in_d_dimensions(eta, seed):
    """Stationary covariance V of theta - theta* for additive noise of covariance Sigma/B solves
    V = (I - eta H) V (I - eta H) + eta^2 Sigma / B.  Then E[L - L*] = tr(H V)/2 lies between
    eta tr(Sigma)/(4B) and that value / (1 - eta lambda_max / 2): first order in eta."""
    gen = torch.Generator().manual_seed(seed)
    d, batch = 5, 4
    A = torch.randn(d, d, generator=gen, dtype=DTYPE)
    H = A @ A.T / d + 0.2 * torch.eye(d, dtype=DTYPE)
    Bm = torch.randn(d, d, generator=gen, dtype=DTYPE)
    Sigma = Bm @ Bm.T / d
    excess = stationary_excess(H, Sigma, eta, batch)
    first_order = eta * torch.trace(Sigma).item() / (4 * batch)
    lam_max = torch.linalg.eigvalsh(H)[-1].item()
    assert eta * lam_max < 2
    assert first_order * (1 - 1e-12) <= excess <= first_order / (1 - eta * lam_max / 2) * (1 + 1e-12)


# ---------------------------------------------------------------------------
# The schedules of the page's figure (the snippet), against their closed forms
# ---------------------------------------------------------------------------
def snippet_closed_forms():
    """The page's closed form for every schedule in the snippet's `schedules` (eta_0 = 1, T steps)."""
    T, d, w = SNIPPET["T"], SNIPPET["d_model"], SNIPPET["warmup"]
    cos = lambda x: 0.5 * (1 + math.cos(math.pi * x))  # noqa: E731
    return {
        "power": lambda t: (1 + t / 10) ** -1.0,
        "power_c05": lambda t: (1 + t / 10) ** -0.5,
        "exponential": lambda t: 0.1 ** (t / 50),
        "step": lambda t: 0.5 ** (t // 30),
        "multistep": lambda t: 0.1 ** sum(m <= t for m in (50, 75)),
        "onecycle_cos": lambda t: one_cycle(t, T, 0.3, "cos", 1.0, 0.85, 0.95)[0],
        "onecycle_linear3": lambda t: one_cycle(t, T, 0.45, "linear", 1.0, 0.85, 0.95, three_phase=True)[0],
        "cosine": lambda t: cos(t / (T - 1)),
        "cosine_min": lambda t: 0.2 + 0.8 * cos(t / (T - 1)),
        "restarts": lambda t: warm_restarts(10, 2, 1.0, 0.0, t + 1)[t],
        "linear": lambda t: 1 - min(t, T - 1) / (T - 1),
        "poly2": lambda t: (1 - min(t, T - 1) / (T - 1)) ** 2,
        "noam": lambda t: (d * w) ** -0.5 * min((t + 1) / w, math.sqrt(w / (t + 1))),
        "warmup_cosine": lambda t: 0.01 + 0.99 * t / w if t < w else cos((t - w) / (T - 1 - w)),
    }


@pytest.mark.parametrize("name", list(snippet_closed_forms()))
def test_snippet_schedules_follow_their_closed_forms(name):
    assert set(snippet_closed_forms()) == set(SNIPPET["schedules"])  # every schedule of the figure is covered
    T = SNIPPET["T"]
    seq, _ = lr_sequence(SNIPPET["schedules"][name], T, (1.0,), momentum=0.9)  # as the snippet records them
    assert_schedule(seq, [snippet_closed_forms()[name](t) for t in range(T)], rel=1e-10, abs_=1e-15)


def test_snippet_one_cycle_momentum():
    T = SNIPPET["T"]
    _, moms = lr_sequence(SNIPPET["schedules"]["onecycle_cos"], T, (1.0,), momentum=0.9)
    assert_schedule(torch.tensor(moms, dtype=DTYPE), [one_cycle(t, T, 0.3, "cos", 1.0, 0.85, 0.95)[1] for t in range(T)])


# ---------------------------------------------------------------------------
# Mutation tests: slips in the closed forms, through the same comparison (schedule_off)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("schedule,wrong", [
    ("power", lambda t: (1 + (t + 1) / 10) ** -1.0),  # t counted from 1
    ("power", lambda t: (1 + t) ** -1.0 / 10),  # s in the wrong place
    ("exponential", lambda t: 0.1 ** ((t + 1) / 50)),  # off by one step
    ("step", lambda t: 0.5 ** math.ceil(t / 30)),  # ceil instead of floor
    ("multistep", lambda t: 0.1 ** sum(m < t for m in (50, 75))),  # drop one step late
    ("onecycle_cos", lambda t: one_cycle(t + 1, SNIPPET["T"] + 1, 0.3, "cos", 1.0, 0.85, 0.95)[0]),  # peak at p T
    ("onecycle_cos", lambda t: one_cycle(t, SNIPPET["T"], 0.3, "linear", 1.0, 0.85, 0.95)[0]),  # linear annealing
    ("cosine", lambda t: 0.5 * (1 + math.cos(math.pi * t / SNIPPET["T"]))),  # T_max = T, not T - 1
    ("cosine", lambda t: math.cos(math.pi * t / (2 * (SNIPPET["T"] - 1)))),  # a quarter period, no (1 + cos)/2
    ("cosine_min", lambda t: 0.2 + 0.5 * (1 + math.cos(math.pi * t / (SNIPPET["T"] - 1)))),  # eta_0 - eta_min forgotten
    ("restarts", lambda t: warm_restarts(10, 1, 1.0, 0.0, t + 1)[t]),  # T_mult ignored
    ("poly2", lambda t: 1 - (min(t, SNIPPET["T"] - 1) / (SNIPPET["T"] - 1)) ** 2),  # power on the wrong term
    ("noam", lambda t: (SNIPPET["d_model"] * SNIPPET["warmup"]) ** -0.5
     * min(t / SNIPPET["warmup"], math.sqrt(SNIPPET["warmup"] / max(t, 1)))),  # step_num = t, not t + 1
    ("warmup_cosine", lambda t: 0.01 + 0.99 * t / 10 if t < 10 else 0.5 * (1 + math.cos(math.pi * t / 99))),  # cosine not shifted
])
def test_wrong_closed_forms_are_caught(schedule, wrong):
    T = SNIPPET["T"]
    seq, _ = lr_sequence(SNIPPET["schedules"][schedule], T, (1.0,), momentum=0.9)
    assert schedule_off(seq, [snippet_closed_forms()[schedule](t) for t in range(T)], rel=1e-10) <= 1.0
    assert schedule_off(seq, [wrong(t) for t in range(T)], rel=1e-10) > 1e6


@pytest.mark.parametrize("name,wrong", [
    ("first order only, eta sigma^2 / (4 B)", lambda h, s2, e, b: e * s2 / (4 * b)),
    ("no 1/2", lambda h, s2, e, b: e * s2 / (b * (2 - e * h))),
    ("(2 + eta h)", lambda h, s2, e, b: e * s2 / (2 * b * (2 + e * h))),
    ("B^2", lambda h, s2, e, b: e * s2 / (2 * b**2 * (2 - e * h))),
])
def test_wrong_noise_floors_are_caught(name, wrong):
    assert floor_off(page_floor_1d, 1.0, 2.0, 0.2, 8) <= 1.0
    assert floor_off(wrong, 1.0, 2.0, 0.2, 8) > 1e6


@pytest.mark.parametrize("name,wrong", [
    ("improvement against the previous value, not the best", "previous"),
    ("cut on the patience-th bad evaluation, not the (patience + 1)-th", "early"),
    ("cooldown still counts bad evaluations", "cooldown"),
])
def test_wrong_plateau_rules_are_caught(name, wrong):
    metrics = scripted_loss(150, 2)
    kwargs = dict(factor=0.3, patience=3, threshold=1e-3, cooldown=2)
    torch_rates = plateau_torch(metrics, 0.1, **kwargs)
    assert plateau_reference(metrics, 0.1, **kwargs) == pytest.approx(torch_rates, rel=1e-15)
    assert plateau_reference(metrics, 0.1, **kwargs, slip=wrong) != pytest.approx(torch_rates, rel=1e-15)


# ---------------------------------------------------------------------------
# The numbers the page states about its figures, from a full run of the snippet
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def snippet_run():
    """The snippet's top-level values after a full run, as a reader runs it (figures off-screen)."""
    return run_snippet("learning_rate_schedules")


def test_figure_2_noise_floor_is_56_percent_above_first_order_at_the_largest_eta(snippet_run):
    """Figure 2 and the page: at eta = 0.3 the measured floor is 56 % above eta tr(Sigma)/(4B) (the old text said
    "slightly above"); the exact stationary value, with noise that grows away from theta*, is 58 % above."""
    assert snippet_run["etas"][-1] == pytest.approx(0.3)
    assert snippet_run["floor_ratio"] == pytest.approx(1.56, abs=0.01)
    assert snippet_run["exact_ratio"] == pytest.approx(1.58, abs=0.01)


def test_figure_2_measured_floor_follows_the_exact_stationary_value(snippet_run):
    """The dashed line of Figure 2: the measured points lie on it (Monte Carlo, 16 runs), and at small eta it
    meets the first-order value (the first-order value is its limit as eta -> 0)."""
    floor, exact, first = (np.asarray(snippet_run[k]) for k in ("floor", "floor_exact", "floor_theory"))
    assert np.all(np.abs(floor / exact - 1) < 0.07)
    assert exact[0] / first[0] == pytest.approx(1.0, abs=0.02)
    assert np.all(np.diff(exact / first) > 0)  # the gap grows with eta


def test_exact_floor_without_state_dependent_noise_is_the_additive_one(snippet_run):
    """With the fourth-moment term S(V) replaced by H V H (noise that does not grow away from theta*), the snippet's
    exact_floor is the additive-noise stationary value: 18 % above first order at eta = 0.3 (the (2 - eta h)-type
    correction), so the rest of the 58 % comes from the state-dependent noise."""
    H, Sigma, batch = snippet_run["H"], snippet_run["Sigma"], snippet_run["batch"]
    additive = stationary_excess(H, Sigma, 0.3, batch)
    assert additive / (0.3 * torch.trace(Sigma).item() / (4 * batch)) == pytest.approx(1.18, abs=0.01)
    ns = dict(snippet_run["exact_floor"].__globals__)
    d = H.shape[0]
    ns["S_op"] = torch.kron(H, H)  # S(V) = H V H: the noise no longer depends on V
    exact_floor_additive = type(snippet_run["exact_floor"])(snippet_run["exact_floor"].__code__, ns)
    assert exact_floor_additive(0.3) == pytest.approx(additive, rel=1e-9)
    assert snippet_run["S_op"].shape == (d * d, d * d)


def test_figure_4_updates_and_curves_per_epoch(snippet_run):
    """Figure 4: 1536 updates when eta is divided by 5 per stage, 634 when B is multiplied by 5; per epoch the
    two curves nearly coincide (losses over the last epoch within 30 % of each other)."""
    assert snippet_run["n_updates"] == {"decay": 1536, "grow": 634}
    last = snippet_run["last_epoch_loss"]
    assert 0.7 < last["grow"] / last["decay"] < 1.3


def test_the_settings_the_captions_state(snippet_run):
    """Figures 2-4: N = 1024, 10 features, B = 8, 16 runs; evaluations every 32 iterations, the rate multiplied by 0.3
    after patience + 1 = 4 evaluations without improvement; the rate or the batch changed by 5 every 4 epochs."""
    ns = snippet_run
    assert (ns["n_samples"], ns["n_features"], ns["batch"], ns["runs"], ns["floor_runs"]) == (1024, 10, 8, 16, 16)
    assert ns["iters_per_eval"] == 32 and ns["plateau"].factor == 0.3 and ns["plateau"].patience + 1 == 4
    assert (ns["epochs_per_stage"], ns["factor"]) == (4, 5)
    assert ns["stage_lrs"] == pytest.approx([0.1, 0.02, 0.004]) and ns["stage_batches"] == [8, 40, 200]
