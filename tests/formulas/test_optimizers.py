"""Formula tests for docs/*/optimization/optimizers.md.

Every update rule printed on the page is implemented here FROM SCRATCH (plain tensor ops,
one line per printed equation) and run side by side with its torch.optim class on the same
small network, the same initial parameters and the same sequence of mini-batches, in float64.
The parameters must agree after every one of 20 steps to within 1e-12 (relative), 1e-13 (absolute).

The from-scratch code only receives gradients from autograd, at its OWN parameters, so any
difference in an update rule makes the two trajectories drift apart. The mutation tests at the
end check that this really happens: deliberately wrong variants (bias correction dropped, eps
moved, threshold changed, ...) are caught.

The code the page shows (snippets/optimizers.py) is loaded from the snippet: the training loop
`run` with the page's OPTIMISERS on its two problems is checked against the by-hand rules, and
RAdam's rho_t and r_t come from the snippet's radam_terms (Figure 4). The numbers the captions
quote about the figures (step sizes in units of eta, escape steps) are read from a full, off-screen
run of the snippet (snippet_run) and asserted at the values the page states.
"""

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from snippet_code import run_snippet, snippet_function

SNIPPET = snippet_function("optimizers", "run", "OPTIMISERS", "ravine", "saddle", "KAPPA", "radam_terms")
SNIPPET_PATH = Path(__file__).resolve().parents[2] / "snippets" / "optimizers.py"

DTYPE = torch.float64
STEPS = 20
RTOL, ATOL = 1e-12, 1e-13


# ---------------------------------------------------------------------------
# A small network, fixed data, a different mini-batch at every step
# ---------------------------------------------------------------------------
def make_problem(seed):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(48, 5, generator=gen, dtype=DTYPE)
    Y = torch.randn(48, 2, generator=gen, dtype=DTYPE)
    params = [
        0.5 * torch.randn(6, 5, generator=gen, dtype=DTYPE),  # W1
        0.1 * torch.randn(6, generator=gen, dtype=DTYPE),  # b1
        0.5 * torch.randn(2, 6, generator=gen, dtype=DTYPE),  # W2
        0.1 * torch.randn(2, generator=gen, dtype=DTYPE),  # b2
    ]
    return X, Y, params


def loss_fn(params, X, Y):
    W1, b1, W2, b2 = params
    out = torch.tanh(X @ W1.T + b1) @ W2.T + b2
    return ((out - Y) ** 2).mean()


def batch(X, Y, t, size=8):
    idx = torch.arange(t * size, (t + 1) * size) % X.shape[0]
    return X[idx], Y[idx]


def gradients(params, X, Y, t):
    leaves = [p.detach().clone().requires_grad_(True) for p in params]
    return list(torch.autograd.grad(loss_fn(leaves, *batch(X, Y, t)), leaves))


def run_torch(cls, kwargs, seed, steps=STEPS):
    X, Y, params = make_problem(seed)
    leaves = [p.clone().requires_grad_(True) for p in params]
    opt = cls(leaves, **kwargs)
    trajectory = []
    for t in range(steps):
        opt.zero_grad()
        loss_fn(leaves, *batch(X, Y, t)).backward()
        opt.step()
        trajectory.append([p.detach().clone() for p in leaves])
    return trajectory


def run_by_hand(optimiser, seed, steps=STEPS):
    X, Y, params = make_problem(seed)
    trajectory = []
    for t in range(steps):
        params = optimiser.step(params, gradients(params, X, Y, t))
        trajectory.append([p.clone() for p in params])
    return trajectory


def max_rel_diff(traj_a, traj_b):
    """Largest |a - b| / (1 + |b|) over all steps and parameters; a NaN counts as infinitely far."""
    return max(((a - b).abs() / (1 + b.abs())).nan_to_num(nan=math.inf).max().item()
               for sa, sb in zip(traj_a, traj_b) for a, b in zip(sa, sb))


def assert_same_trajectory(by_hand, reference):
    assert len(by_hand) == len(reference) == STEPS
    for step_hand, step_ref in zip(by_hand, reference):
        for a, b in zip(step_hand, step_ref):
            torch.testing.assert_close(a, b, rtol=RTOL, atol=ATOL)
    # the parameters really moved, so the comparison is not vacuous
    assert max((p - q).abs().max().item() for p, q in zip(reference[-1], reference[0])) > 1e-6


# ---------------------------------------------------------------------------
# The update rules, written from the page (elementwise; t counts steps from 1)
# ---------------------------------------------------------------------------
class SGDByHand:
    """g_t = grad + lam theta;  b_1 = g_1,  b_t = mu b_{t-1} + (1 - tau) g_t;
    theta_t = theta_{t-1} - eta b_t   or, with Nesterov,   theta_{t-1} - eta (g_t + mu b_t)."""

    def __init__(self, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        self.lr, self.mu, self.tau, self.lam, self.nesterov = lr, momentum, dampening, weight_decay, nesterov
        self.b, self.t = None, 0

    def step(self, thetas, grads):
        self.t += 1
        g = [grad + self.lam * th for grad, th in zip(grads, thetas)]
        if self.mu == 0:
            return [th - self.lr * gi for th, gi in zip(thetas, g)]
        if self.t == 1:
            self.b = [gi.clone() for gi in g]
        else:
            self.b = [self.mu * b + (1 - self.tau) * gi for b, gi in zip(self.b, g)]
        if self.nesterov:
            return [th - self.lr * (gi + self.mu * b) for th, gi, b in zip(thetas, g, self.b)]
        return [th - self.lr * b for th, b in zip(thetas, self.b)]


class AdagradByHand:
    """s_0 = s_init;  s_t = s_{t-1} + g_t^2;  theta_t = theta_{t-1} - eta / (1 + (t-1) delta) * g_t / (sqrt(s_t) + eps)."""

    def __init__(self, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
        self.lr, self.delta, self.lam, self.s_init, self.eps = lr, lr_decay, weight_decay, initial_accumulator_value, eps
        self.s, self.t = None, 0

    def step(self, thetas, grads):
        self.t += 1
        if self.s is None:
            self.s = [torch.full_like(th, self.s_init) for th in thetas]
        g = [grad + self.lam * th for grad, th in zip(grads, thetas)]
        self.s = [s + gi**2 for s, gi in zip(self.s, g)]
        lr_t = self.lr / (1 + (self.t - 1) * self.delta)
        return [th - lr_t * gi / (torch.sqrt(s) + self.eps) for th, gi, s in zip(thetas, g, self.s)]


class AdadeltaByHand:
    """v_t = rho v + (1-rho) g^2;  D_t = sqrt(u + eps)/sqrt(v_t + eps) g;  u_t = rho u + (1-rho) D_t^2;  theta -= eta D_t."""

    def __init__(self, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
        self.lr, self.rho, self.eps, self.lam = lr, rho, eps, weight_decay
        self.v = self.u = None

    def step(self, thetas, grads):
        if self.v is None:
            self.v = [torch.zeros_like(th) for th in thetas]
            self.u = [torch.zeros_like(th) for th in thetas]
        g = [grad + self.lam * th for grad, th in zip(grads, thetas)]
        self.v = [self.rho * v + (1 - self.rho) * gi**2 for v, gi in zip(self.v, g)]
        delta = [torch.sqrt(u + self.eps) / torch.sqrt(v + self.eps) * gi for u, v, gi in zip(self.u, self.v, g)]
        self.u = [self.rho * u + (1 - self.rho) * d**2 for u, d in zip(self.u, delta)]
        return [th - self.lr * d for th, d in zip(thetas, delta)]


class RMSpropByHand:
    """v_t = alpha v + (1-alpha) g^2;  centred: gbar_t = alpha gbar + (1-alpha) g,  vt = v_t - gbar_t^2;
    momentum > 0: b_t = mu b + g / (sqrt(vt) + eps), theta -= eta b_t  (b_0 = 0);  else theta -= eta g / (sqrt(vt) + eps)."""

    def __init__(self, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        self.lr, self.alpha, self.eps, self.lam, self.mu, self.centered = lr, alpha, eps, weight_decay, momentum, centered
        self.v = self.gbar = self.b = None

    def step(self, thetas, grads):
        if self.v is None:
            self.v, self.gbar, self.b = ([torch.zeros_like(th) for th in thetas] for _ in range(3))
        a = self.alpha
        g = [grad + self.lam * th for grad, th in zip(grads, thetas)]
        self.v = [a * v + (1 - a) * gi**2 for v, gi in zip(self.v, g)]
        if self.centered:
            self.gbar = [a * gb + (1 - a) * gi for gb, gi in zip(self.gbar, g)]
            v_tilde = [v - gb**2 for v, gb in zip(self.v, self.gbar)]
        else:
            v_tilde = self.v
        scaled = [gi / (torch.sqrt(vt) + self.eps) for gi, vt in zip(g, v_tilde)]
        if self.mu > 0:
            self.b = [self.mu * b + s for b, s in zip(self.b, scaled)]
            return [th - self.lr * b for th, b in zip(thetas, self.b)]
        return [th - self.lr * s for th, s in zip(thetas, scaled)]


class AdamMoments:
    """What Adam and RAdam share: weight decay (L2 into g_t, or decoupled: theta <- (1 - eta lam) theta),
    m_t = b1 m + (1-b1) g;  v_t = b2 v + (1-b2) g^2;  mhat = m_t/(1-b1^t).  Returns (theta, mhat)."""

    def moments(self, thetas, grads):
        self.t += 1
        b1, b2 = self.b1, self.b2
        if self.m is None:
            self.m, self.v = ([torch.zeros_like(th) for th in thetas] for _ in range(2))
        if self.decoupled:
            thetas = [(1 - self.lr * self.lam) * th for th in thetas]
            g = list(grads)
        else:
            g = [grad + self.lam * th for grad, th in zip(grads, thetas)]
        self.m = [b1 * m + (1 - b1) * gi for m, gi in zip(self.m, g)]
        self.v = [b2 * v + (1 - b2) * gi**2 for v, gi in zip(self.v, g)]
        return thetas, [m / (1 - b1**self.t) for m in self.m]


class AdamByHand(AdamMoments):
    """m_t = b1 m + (1-b1) g;  v_t = b2 v + (1-b2) g^2;  mhat = m_t/(1-b1^t);  vhat = v_t/(1-b2^t)
    (AMSGrad: vhat = max(v^max_{t-1}, v_t)/(1-b2^t));  theta_t = theta_{t-1} - eta mhat / (sqrt(vhat) + eps).
    Adam (L2):  g_t = grad + lam theta.   AdamW (decoupled):  theta_{t-1} <- (1 - eta lam) theta_{t-1} first."""

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, decoupled=False):
        self.lr, (self.b1, self.b2), self.eps, self.lam = lr, betas, eps, weight_decay
        self.amsgrad, self.decoupled = amsgrad, decoupled
        self.m = self.v = self.vmax = None
        self.t = 0

    def step(self, thetas, grads):
        thetas, m_hat = self.moments(thetas, grads)
        t, b2 = self.t, self.b2
        if self.amsgrad:
            if self.vmax is None:
                self.vmax = [torch.zeros_like(v) for v in self.v]
            self.vmax = [torch.maximum(vm, v) for vm, v in zip(self.vmax, self.v)]
            v_hat = [vm / (1 - b2**t) for vm in self.vmax]
        else:
            v_hat = [v / (1 - b2**t) for v in self.v]
        return [th - self.lr * mh / (torch.sqrt(vh) + self.eps) for th, mh, vh in zip(thetas, m_hat, v_hat)]


def _radam_terms(beta2, t):
    """The snippet's radam_terms (written for numpy arrays) at one step t."""
    with np.errstate(divide="ignore", invalid="ignore"):  # r_t is undefined where rho_inf <= 4
        return [float(v) for v in SNIPPET["radam_terms"](beta2, np.float64(t))]


def radam_rho(beta2, t):
    """rho_inf = 2/(1-b2) - 1;  rho_t = rho_inf - 2 t b2^t / (1 - b2^t)  (the snippet's radam_terms)."""
    return tuple(_radam_terms(beta2, t)[:2])


def radam_r(beta2, t):
    """r_t = sqrt((rho_t-4)(rho_t-2) rho_inf / ((rho_inf-4)(rho_inf-2) rho_t)), where rho_t > 5 (the snippet's radam_terms)."""
    return _radam_terms(beta2, t)[2]


class RAdamByHand(AdamMoments):
    """m, v, mhat as in Adam;  if rho_t > 5:  l_t = sqrt(1-b2^t)/(sqrt(v_t) + eps),
    r_t = sqrt((rho_t-4)(rho_t-2) rho_inf / ((rho_inf-4)(rho_inf-2) rho_t)),  theta -= eta r_t l_t mhat;
    else  theta -= eta mhat."""

    THRESHOLD = 5.0

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False):
        self.lr, (self.b1, self.b2), self.eps, self.lam, self.decoupled = lr, betas, eps, weight_decay, decoupled_weight_decay
        self.m = self.v = None
        self.t = 0
        self.regimes = []  # True where the rectified (adaptive) step was taken

    def step(self, thetas, grads):
        thetas, m_hat = self.moments(thetas, grads)
        t, b2 = self.t, self.b2
        rho_inf, rho_t = radam_rho(b2, t)
        self.regimes.append(rho_t > self.THRESHOLD)
        if rho_t > self.THRESHOLD:
            r_t = self.rectification(b2, t)
            l_t = [math.sqrt(1 - b2**t) / (torch.sqrt(v) + self.eps) for v in self.v]
            return [th - self.lr * r_t * lt * mh for th, lt, mh in zip(thetas, l_t, m_hat)]
        return [th - self.lr * mh for th, mh in zip(thetas, m_hat)]

    def rectification(self, beta2, t):
        return radam_r(beta2, t)


# ---------------------------------------------------------------------------
# By hand  ==  torch.optim, step by step
# ---------------------------------------------------------------------------
SGD_CASES = [
    dict(lr=0.1),  # plain SGD
    dict(lr=0.05, momentum=0.9),  # PyTorch momentum, dampening = 0
    dict(lr=0.05, momentum=0.9, dampening=0.5),  # dampening only from step 2 on
    dict(lr=0.05, momentum=0.9, weight_decay=1e-2),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.02, momentum=0.99, weight_decay=0.05, nesterov=True),
    dict(lr=0.1, momentum=0.5, dampening=0.1, weight_decay=1e-3),
    dict(),  # PyTorch defaults: lr = 1e-3, no momentum
]


@pytest.mark.parametrize("kwargs", SGD_CASES, ids=lambda k: str(k))
@pytest.mark.parametrize("seed", [0, 1])
def test_sgd(kwargs, seed):
    assert_same_trajectory(run_by_hand(SGDByHand(**kwargs), seed), run_torch(torch.optim.SGD, kwargs, seed))


ADAGRAD_CASES = [
    dict(),  # defaults: lr = 1e-2, lr_decay = 0, initial_accumulator_value = 0, eps = 1e-10
    dict(lr=0.1, initial_accumulator_value=0.1),
    dict(lr=0.1, initial_accumulator_value=0.5, weight_decay=1e-2, eps=1e-3),
    dict(lr=0.1, lr_decay=0.05),
]


@pytest.mark.parametrize("kwargs", ADAGRAD_CASES, ids=lambda k: str(k))
@pytest.mark.parametrize("seed", [0, 1])
def test_adagrad(kwargs, seed):
    assert_same_trajectory(run_by_hand(AdagradByHand(**kwargs), seed), run_torch(torch.optim.Adagrad, kwargs, seed))


ADADELTA_CASES = [
    dict(),  # defaults: lr = 1.0, rho = 0.9, eps = 1e-6
    dict(lr=0.5, rho=0.95, eps=1e-4, weight_decay=1e-2),
    dict(rho=0.5, eps=1e-3),
]


@pytest.mark.parametrize("kwargs", ADADELTA_CASES, ids=lambda k: str(k))
@pytest.mark.parametrize("seed", [0, 1])
def test_adadelta(kwargs, seed):
    assert_same_trajectory(run_by_hand(AdadeltaByHand(**kwargs), seed), run_torch(torch.optim.Adadelta, kwargs, seed))


RMSPROP_CASES = [
    dict(),  # defaults: lr = 1e-2, alpha = 0.99, eps = 1e-8
    dict(lr=1e-2, alpha=0.9, eps=1e-3),
    dict(lr=1e-2, momentum=0.9, weight_decay=1e-2),
    dict(lr=1e-2, centered=True),
    dict(lr=5e-3, alpha=0.95, eps=1e-4, weight_decay=1e-2, momentum=0.5, centered=True),
]


@pytest.mark.parametrize("kwargs", RMSPROP_CASES, ids=lambda k: str(k))
@pytest.mark.parametrize("seed", [0, 1])
def test_rmsprop(kwargs, seed):
    assert_same_trajectory(run_by_hand(RMSpropByHand(**kwargs), seed), run_torch(torch.optim.RMSprop, kwargs, seed))


ADAM_CASES = [
    dict(),  # defaults: lr = 1e-3, betas = (0.9, 0.999), eps = 1e-8, weight_decay = 0
    dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-3),
    dict(lr=1e-2, weight_decay=0.1),  # L2 penalty added to the gradient
    dict(lr=1e-2, eps=1e-3, amsgrad=True),
]


@pytest.mark.parametrize("kwargs", ADAM_CASES, ids=lambda k: str(k))
@pytest.mark.parametrize("seed", [0, 1])
def test_adam(kwargs, seed):
    assert_same_trajectory(run_by_hand(AdamByHand(**kwargs), seed), run_torch(torch.optim.Adam, kwargs, seed))


ADAMW_CASES = [
    dict(),  # defaults: as Adam but weight_decay = 1e-2 (decoupled)
    dict(lr=1e-2, betas=(0.9, 0.99), eps=1e-3, weight_decay=0.1),
    dict(lr=1e-2, weight_decay=0.5, amsgrad=True),
]


@pytest.mark.parametrize("kwargs", ADAMW_CASES, ids=lambda k: str(k))
@pytest.mark.parametrize("seed", [0, 1])
def test_adamw(kwargs, seed):
    hand = run_by_hand(AdamByHand(decoupled=True, **{"weight_decay": 1e-2, **kwargs}), seed)
    assert_same_trajectory(hand, run_torch(torch.optim.AdamW, kwargs, seed))
    # Adam(decoupled_weight_decay=True) is the same algorithm
    assert_same_trajectory(hand, run_torch(torch.optim.Adam, {"weight_decay": 1e-2, **kwargs, "decoupled_weight_decay": True}, seed))


def test_adam_l2_and_adamw_really_differ():
    """With the same lambda, L2-in-Adam and decoupled decay give different parameters."""
    l2 = run_torch(torch.optim.Adam, dict(lr=1e-2, weight_decay=0.1), 0)
    decoupled = run_torch(torch.optim.AdamW, dict(lr=1e-2, weight_decay=0.1), 0)
    assert max_rel_diff(l2, decoupled) > 1e-4


def test_sgd_l2_equals_decoupled_decay():
    """For plain SGD: theta - eta (g + lam theta) = (1 - eta lam) theta - eta g."""
    X, Y, params = make_problem(3)
    lr, lam = 0.1, 0.05
    coupled, decoupled = params, params
    for t in range(STEPS):
        g_c = gradients(coupled, X, Y, t)
        coupled = [th - lr * (g + lam * th) for th, g in zip(coupled, g_c)]
        g_d = gradients(decoupled, X, Y, t)
        decoupled = [(1 - lr * lam) * th - lr * g for th, g in zip(decoupled, g_d)]
    for a, b in zip(coupled, decoupled):
        torch.testing.assert_close(a, b, rtol=RTOL, atol=ATOL)
    torch_traj = run_torch(torch.optim.SGD, dict(lr=lr, weight_decay=lam), 3)
    for a, b in zip(coupled, torch_traj[-1]):
        torch.testing.assert_close(a, b, rtol=RTOL, atol=ATOL)


RADAM_CASES = [
    dict(),  # defaults: lr = 1e-3, betas = (0.9, 0.999), eps = 1e-8
    dict(lr=1e-2, eps=1e-3),  # a large eps: its placement (sqrt(v_t) + eps) matters
    dict(lr=1e-2, betas=(0.8, 0.99), weight_decay=1e-2),  # L2 (default)
    dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True),  # RAdamW
]


@pytest.mark.parametrize("kwargs", RADAM_CASES, ids=lambda k: str(k))
@pytest.mark.parametrize("seed", [0, 1])
def test_radam(kwargs, seed):
    by_hand = RAdamByHand(**kwargs)
    assert_same_trajectory(run_by_hand(by_hand, seed), run_torch(torch.optim.RAdam, kwargs, seed))
    # both regimes were exercised: momentum-SGD steps (rho_t <= 5) first, then rectified steps
    assert by_hand.regimes[0] is False and by_hand.regimes[-1] is True
    assert by_hand.regimes == sorted(by_hand.regimes)  # once rectified, always rectified


def torch_radam_rectifiers(beta2, steps, lr=1e-2, b1=0.9):
    """Run torch.optim.RAdam on one parameter and read off, per step, the factor r_t it applied:
    (theta_{t-1} - theta_t) / (lr mhat_t l_t), or None where the step was the plain eta mhat_t."""
    p = torch.tensor([0.3], dtype=DTYPE, requires_grad=True)
    opt = torch.optim.RAdam([p], lr=lr, betas=(b1, beta2), eps=0.0)
    m = v = 0.0
    out = []
    for t in range(1, steps + 1):
        before = p.detach().clone()
        opt.zero_grad()
        (p**4 / 4 + p).sum().backward()  # a gradient that changes from step to step
        g = p.grad.item()
        m, v = b1 * m + (1 - b1) * g, beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - b1**t)
        opt.step()
        step = (before - p.detach()).item()
        if abs(step - lr * m_hat) <= 1e-12 * abs(lr * m_hat):
            out.append(None)  # momentum-SGD step
        else:
            out.append(step / (lr * m_hat * math.sqrt(1 - beta2**t) / math.sqrt(v)))
    return out


@pytest.mark.parametrize("beta2", [0.999, 0.99, 0.9, 0.8, 0.6])
def test_radam_rho_and_r_match_torch(beta2):
    """The snippet's rho_t and r_t (Figure 4) against what torch.optim.RAdam does: which steps are rectified,
    and by how much. rho_inf > 5 <=> beta2 > 2/3; otherwise RAdam never uses the second moment."""
    rho_inf, rho_1 = radam_rho(beta2, 1)
    assert rho_1 == pytest.approx(1.0, abs=1e-9)  # one gradient: a "moving average" of length 1
    rho = [radam_rho(beta2, t)[1] for t in range(1, 400)]
    assert all(a <= b + 1e-12 for a, b in zip(rho, rho[1:]))  # non-decreasing ...
    assert radam_rho(beta2, round(50 / (1 - beta2)))[1] == pytest.approx(rho_inf, rel=1e-9)  # ... towards rho_inf
    applied = torch_radam_rectifiers(beta2, 40)
    for t, r_torch in enumerate(applied, start=1):
        if rho[t - 1] > 5:
            assert r_torch == pytest.approx(radam_r(beta2, t), rel=1e-10), t
        else:
            assert r_torch is None, t
    assert any(r is not None for r in applied) == (beta2 > 2 / 3)


def test_radam_early_steps_are_momentum_sgd():
    """For t with rho_t <= 5, torch's RAdam step is exactly eta * mhat_t (no second moment at all)."""
    X, Y, params = make_problem(4)
    lr, b1 = 1e-2, 0.9
    leaves = [p.clone().requires_grad_(True) for p in params]
    opt = torch.optim.RAdam(leaves, lr=lr)
    m = [torch.zeros_like(p) for p in params]
    for t in range(1, 6):
        before = [p.detach().clone() for p in leaves]
        opt.zero_grad()
        loss_fn(leaves, *batch(X, Y, t)).backward()
        m = [b1 * mi + (1 - b1) * p.grad for mi, p in zip(m, leaves)]
        opt.step()
        for p, p0, mi in zip(leaves, before, m):
            torch.testing.assert_close(p.detach(), p0 - lr * mi / (1 - b1**t), rtol=RTOL, atol=ATOL)


# ---------------------------------------------------------------------------
# The page's training loop and optimisers (the snippet), against the by-hand rules
# ---------------------------------------------------------------------------
def by_hand_from(optimizer):
    """The by-hand rule with the hyperparameters of a torch.optim optimiser (read from its defaults)."""
    d = optimizer.defaults
    if isinstance(optimizer, torch.optim.SGD):
        return SGDByHand(lr=d["lr"], momentum=d["momentum"], dampening=d["dampening"],
                         weight_decay=d["weight_decay"], nesterov=d["nesterov"])
    if isinstance(optimizer, torch.optim.Adagrad):
        return AdagradByHand(lr=d["lr"], lr_decay=d["lr_decay"], weight_decay=d["weight_decay"],
                             initial_accumulator_value=d["initial_accumulator_value"], eps=d["eps"])
    if isinstance(optimizer, torch.optim.RMSprop):
        return RMSpropByHand(lr=d["lr"], alpha=d["alpha"], eps=d["eps"], weight_decay=d["weight_decay"],
                             momentum=d["momentum"], centered=d["centered"])
    if isinstance(optimizer, torch.optim.Adam):
        return AdamByHand(lr=d["lr"], betas=d["betas"], eps=d["eps"], weight_decay=d["weight_decay"],
                          amsgrad=d["amsgrad"])
    raise AssertionError(f"no by-hand rule for {type(optimizer).__name__}")


@pytest.mark.parametrize("problem,start", [("ravine", [-5.0, 0.6]), ("saddle", [-1.5, 0.01])])
@pytest.mark.parametrize("name", ["SGD", "Momentum", "NAG", "Adagrad", "RMSProp", "Adam"])
def test_snippet_run_follows_the_update_rules(problem, start, name, float64):
    """The snippet's run(OPTIMISERS[name], ...) path on the page's problems equals the by-hand rule's path."""
    loss = SNIPPET[problem]
    make = SNIPPET["OPTIMISERS"][name]
    path, losses = SNIPPET["run"](make, loss, start, 60)
    rule = by_hand_from(make([torch.zeros(2, requires_grad=True)]))
    theta = [torch.tensor(start)]
    for t in range(60):
        leaf = theta[0].clone().requires_grad_(True)
        (g,) = torch.autograd.grad(loss(leaf), leaf)
        theta = rule.step(theta, [g])
        torch.testing.assert_close(torch.from_numpy(path[t + 1]), theta[0], rtol=RTOL, atol=ATOL)
    assert losses[-1] == pytest.approx(loss(theta[0]).item(), rel=1e-12, abs=1e-300)
    assert abs(path[-1] - path[0]).max() > 1e-3  # it moved


def test_snippet_problems_have_the_stated_curvatures_and_minima(float64):
    """ravine: Hessian diag(1, KAPPA) (condition number KAPPA); saddle: a saddle at 0 and minima -1/4 at (0, +-1)."""
    hessian = torch.autograd.functional.hessian
    torch.testing.assert_close(hessian(SNIPPET["ravine"], torch.tensor([0.3, -0.2])),
                               torch.diag(torch.tensor([1.0, SNIPPET["KAPPA"]])), rtol=1e-14, atol=0)
    assert torch.linalg.eigvalsh(hessian(SNIPPET["saddle"], torch.zeros(2))).tolist() == [-1.0, 1.0]
    for y in (1.0, -1.0):
        point = torch.tensor([0.0, y])
        assert torch.autograd.functional.jacobian(SNIPPET["saddle"], point).abs().max() == 0
        assert SNIPPET["saddle"](point).item() == -0.25
        assert torch.linalg.eigvalsh(hessian(SNIPPET["saddle"], point)).min() > 0


# ---------------------------------------------------------------------------
# The historical forms on the page, against PyTorch's
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("lr,mu,seed", [(0.05, 0.9, 0), (0.1, 0.5, 1), (0.02, 0.99, 2)])
def test_heavy_ball_and_sutskever_momentum_equal_pytorch_momentum(lr, mu, seed):
    X, Y, params = make_problem(seed)
    reference = run_torch(torch.optim.SGD, dict(lr=lr, momentum=mu), seed)
    # Polyak: theta_t = theta_{t-1} - eta grad L(theta_{t-1}) + mu (theta_{t-1} - theta_{t-2}),  theta_{-1} = theta_0
    prev, cur = params, params
    # Sutskever et al.: v_t = mu v_{t-1} - eta grad L(theta_{t-1});  theta_t = theta_{t-1} + v_t,  v_0 = 0
    th_s, v = params, [torch.zeros_like(p) for p in params]
    for t in range(STEPS):
        g = gradients(cur, X, Y, t)
        prev, cur = cur, [c - lr * gi + mu * (c - p) for c, gi, p in zip(cur, g, prev)]
        g_s = gradients(th_s, X, Y, t)
        v = [mu * vi - lr * gi for vi, gi in zip(v, g_s)]
        th_s = [th + vi for th, vi in zip(th_s, v)]
        for a, b, c in zip(cur, th_s, reference[t]):
            torch.testing.assert_close(a, c, rtol=RTOL, atol=ATOL)
            torch.testing.assert_close(b, c, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("lr,mu,seed", [(0.05, 0.9, 0), (0.1, 0.5, 1), (0.02, 0.99, 2)])
def test_sutskever_nesterov_equals_pytorch_nesterov_at_the_lookahead_point(lr, mu, seed):
    """v_t = mu v_{t-1} - eta grad L(theta_{t-1} + mu v_{t-1}), theta_t = theta_{t-1} + v_t.
    PyTorch's parameters are the look-ahead point  theta_t + mu v_t."""
    X, Y, params = make_problem(seed)
    reference = run_torch(torch.optim.SGD, dict(lr=lr, momentum=mu, nesterov=True), seed)
    theta, v = params, [torch.zeros_like(p) for p in params]
    for t in range(STEPS):
        lookahead = [th + mu * vi for th, vi in zip(theta, v)]
        g = gradients(lookahead, X, Y, t)
        v = [mu * vi - lr * gi for vi, gi in zip(v, g)]
        theta = [th + vi for th, vi in zip(theta, v)]
        for th, vi, ref in zip(theta, v, reference[t]):
            torch.testing.assert_close(th + mu * vi, ref, rtol=RTOL, atol=ATOL)
    # ... and theta itself is NOT what PyTorch stores (the two differ by mu v_t)
    assert max((th - ref).abs().max().item() for th, ref in zip(theta, reference[-1])) > 1e-6


# ---------------------------------------------------------------------------
# Mutation tests: the comparison above must catch small mistakes in an update rule
# ---------------------------------------------------------------------------
class AdamNoBiasCorrection(AdamByHand):
    def step(self, thetas, grads):
        self.t += 1
        if self.m is None:
            self.m, self.v, self.vmax = ([torch.zeros_like(th) for th in thetas] for _ in range(3))
        self.m = [self.b1 * m + (1 - self.b1) * g for m, g in zip(self.m, grads)]
        self.v = [self.b2 * v + (1 - self.b2) * g**2 for v, g in zip(self.v, grads)]
        return [th - self.lr * m / (torch.sqrt(v) + self.eps) for th, m, v in zip(thetas, self.m, self.v)]


class AdamEpsOnRawV(AdamByHand):
    """eps added to sqrt(v_t) instead of sqrt(vhat_t) (RAdam's placement)."""

    def step(self, thetas, grads):
        self.t += 1
        t = self.t
        if self.m is None:
            self.m, self.v, self.vmax = ([torch.zeros_like(th) for th in thetas] for _ in range(3))
        self.m = [self.b1 * m + (1 - self.b1) * g for m, g in zip(self.m, grads)]
        self.v = [self.b2 * v + (1 - self.b2) * g**2 for v, g in zip(self.v, grads)]
        return [th - self.lr * math.sqrt(1 - self.b2**t) / (1 - self.b1**t) * m / (torch.sqrt(v) + self.eps)
                for th, m, v in zip(thetas, self.m, self.v)]


class RAdamEpsOnVhat(RAdamByHand):
    """eps added to sqrt(vhat_t) (Adam's placement) instead of sqrt(v_t)."""

    def step(self, thetas, grads):
        self.t += 1
        t, b1, b2 = self.t, self.b1, self.b2
        if self.m is None:
            self.m, self.v = ([torch.zeros_like(th) for th in thetas] for _ in range(2))
        self.m = [b1 * m + (1 - b1) * g for m, g in zip(self.m, grads)]
        self.v = [b2 * v + (1 - b2) * g**2 for v, g in zip(self.v, grads)]
        m_hat = [m / (1 - b1**t) for m in self.m]
        rho_inf, rho_t = radam_rho(b2, t)
        if rho_t > 5:
            r_t = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            return [th - self.lr * r_t * mh / (torch.sqrt(v / (1 - b2**t)) + self.eps)
                    for th, mh, v in zip(thetas, m_hat, self.v)]
        return [th - self.lr * mh for th, mh in zip(thetas, m_hat)]


class RAdamThreshold4(RAdamByHand):
    THRESHOLD = 4.0  # the paper's Algorithm 2 uses rho_t > 4; PyTorch uses rho_t > 5

    def rectification(self, beta2, t):  # r_t written out: the snippet's radam_terms leaves it undefined for rho_t <= 5
        rho_inf, rho_t = radam_rho(beta2, t)
        return math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))


class SGDBufferStartsAtZero(SGDByHand):
    """b_0 = 0 and b_t = mu b_{t-1} + (1 - tau) g_t from the first step (dampening applied at t = 1)."""

    def step(self, thetas, grads):
        if self.b is None:
            self.b = [torch.zeros_like(th) for th in thetas]
        self.t += 1
        self.b = [self.mu * b + (1 - self.tau) * g for b, g in zip(self.b, grads)]
        return [th - self.lr * b for th, b in zip(thetas, self.b)]


class NesterovWithoutCorrection(SGDByHand):
    """Nesterov step taken as -eta b_t (i.e. plain momentum)."""

    def __init__(self, **kwargs):
        super().__init__(**{**kwargs, "nesterov": False})


class RMSpropEpsInsideSqrt(RMSpropByHand):
    def step(self, thetas, grads):
        if self.v is None:
            self.v = [torch.zeros_like(th) for th in thetas]
        self.v = [self.alpha * v + (1 - self.alpha) * g**2 for v, g in zip(self.v, grads)]
        return [th - self.lr * g / torch.sqrt(v + self.eps) for th, g, v in zip(thetas, grads, self.v)]


class AdadeltaAccumulatesScaledStep(AdadeltaByHand):
    """u_t accumulates (eta D_t)^2 instead of D_t^2 (matters when eta != 1)."""

    def step(self, thetas, grads):
        if self.v is None:
            self.v = [torch.zeros_like(th) for th in thetas]
            self.u = [torch.zeros_like(th) for th in thetas]
        self.v = [self.rho * v + (1 - self.rho) * g**2 for v, g in zip(self.v, grads)]
        delta = [torch.sqrt(u + self.eps) / torch.sqrt(v + self.eps) * g for u, v, g in zip(self.u, self.v, grads)]
        self.u = [self.rho * u + (1 - self.rho) * (self.lr * d) ** 2 for u, d in zip(self.u, delta)]
        return [th - self.lr * d for th, d in zip(thetas, delta)]


class AdamWDecayNotScaledByLr(AdamByHand):
    """theta <- (1 - lam) theta instead of (1 - eta lam) theta, then a plain Adam step."""

    def __init__(self, lr, weight_decay):
        super().__init__(lr=lr)
        self.lam_w = weight_decay

    def step(self, thetas, grads):
        return super().step([(1 - self.lam_w) * th for th in thetas], grads)


MUTANTS = [  # (name, the wrong rule, the torch.optim class and arguments it pretends to implement)
    ("Adam without bias correction", lambda: AdamNoBiasCorrection(lr=1e-2), torch.optim.Adam, dict(lr=1e-2)),
    ("Adam, eps on sqrt(v_t)", lambda: AdamEpsOnRawV(lr=1e-2, eps=1e-3), torch.optim.Adam, dict(lr=1e-2, eps=1e-3)),
    ("Adam, L2 instead of decoupled", lambda: AdamByHand(lr=1e-2, weight_decay=0.1), torch.optim.AdamW,
     dict(lr=1e-2, weight_decay=0.1)),
    ("AdamW, decay not scaled by lr", lambda: AdamWDecayNotScaledByLr(lr=1e-2, weight_decay=0.1), torch.optim.AdamW,
     dict(lr=1e-2, weight_decay=0.1)),
    ("RAdam, eps on sqrt(vhat_t)", lambda: RAdamEpsOnVhat(lr=1e-2, eps=1e-3), torch.optim.RAdam, dict(lr=1e-2, eps=1e-3)),
    ("RAdam, threshold 4", lambda: RAdamThreshold4(lr=1e-2), torch.optim.RAdam, dict(lr=1e-2)),
    ("SGD momentum buffer from zero", lambda: SGDBufferStartsAtZero(lr=0.05, momentum=0.9, dampening=0.5),
     torch.optim.SGD, dict(lr=0.05, momentum=0.9, dampening=0.5)),
    ("Nesterov as plain momentum", lambda: NesterovWithoutCorrection(lr=0.05, momentum=0.9), torch.optim.SGD,
     dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("RMSprop, eps inside the sqrt", lambda: RMSpropEpsInsideSqrt(eps=1e-3), torch.optim.RMSprop, dict(eps=1e-3)),
    ("Adadelta, u accumulates eta D", lambda: AdadeltaAccumulatesScaledStep(lr=0.5), torch.optim.Adadelta, dict(lr=0.5)),
    ("Adagrad, s_0 = 0 instead of s_init", lambda: AdagradByHand(lr=0.1), torch.optim.Adagrad,
     dict(lr=0.1, initial_accumulator_value=0.5)),
]
RIGHT_RULES = {  # the page's rule for each torch.optim class
    torch.optim.SGD: SGDByHand, torch.optim.Adagrad: AdagradByHand, torch.optim.Adadelta: AdadeltaByHand,
    torch.optim.RMSprop: RMSpropByHand, torch.optim.Adam: AdamByHand, torch.optim.RAdam: RAdamByHand,
    torch.optim.AdamW: lambda **kwargs: AdamByHand(decoupled=True, **kwargs),
}


@pytest.mark.parametrize("name,mutant,cls,kwargs", MUTANTS, ids=[m[0] for m in MUTANTS])
def test_wrong_update_rules_are_caught(name, mutant, cls, kwargs):
    reference = run_torch(cls, kwargs, 0)
    right = run_by_hand(RIGHT_RULES[cls](**kwargs), 0)
    assert_same_trajectory(right, reference)  # the page's rule passes the comparison ...
    assert max_rel_diff(right, reference) <= RTOL  # ... (which implies this) ...
    diff = max_rel_diff(run_by_hand(mutant(), 0), reference)  # ... and the slip does not
    assert diff > 1e3 * RTOL, f"{name}: the comparison could not tell it from torch (max rel. diff {diff:.2e})"


# ---------------------------------------------------------------------------
# The numbers the page states about its figures, from a full run of the snippet
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def snippet_run():
    """The snippet's top-level values after a full run, as a reader runs it (figures off-screen)."""
    return run_snippet("optimizers")


def test_figure_2_first_adaptive_steps(snippet_run):
    """Caption of Figure 2: the first step moves y by eta with Adagrad and Adam, and by 10 eta with RMSProp
    (no bias correction: eta / sqrt(1 - alpha), alpha = 0.99). The old caption said "about eta" for all three."""
    first = snippet_run["first_y_step"]
    assert first["Adagrad"] == pytest.approx(1.0, rel=1e-5)
    assert first["Adam"] == pytest.approx(1.0, rel=1e-5)  # 1 - eps / |g_y|
    assert first["RMSProp"] == pytest.approx(1 / math.sqrt(1 - 0.99), rel=1e-4)  # 10
    assert first["RMSProp"] > 9.9  # not "about eta"


def test_figure_2_escape_steps(snippet_run):
    """Caption of Figure 2: |y| passes 0.5 after 115 (SGD), 69 (momentum), 65 (NAG) steps; 1, 2, 6 (adaptive)."""
    assert snippet_run["escape_step"] == {"SGD": 115, "Momentum": 69, "NAG": 65, "Adagrad": 1, "RMSProp": 2, "Adam": 6}
    lr = {name: make([torch.zeros(1)]).defaults["lr"] for name, make in SNIPPET["OPTIMISERS"].items()}
    assert lr["Momentum"] == lr["NAG"] < lr["SGD"] / 3  # "less than a third of SGD's learning rate"


def test_figure_3_rmsprop_steps_fall_below_eta(snippet_run):
    """Caption of Figure 3: on the ravine, RMSProp's steps are shorter than eta = 0.03 from step 49 on."""
    assert snippet_run["rmsprop_below_lr_from"] == 49
    steps = snippet_run["rmsprop_steps"]  # |theta_t - theta_{t-1}| / eta, t = 1 .. 150
    assert steps[0] == pytest.approx(10 * math.sqrt(2), rel=1e-4)  # the diagonal first step: 10 eta per coordinate
    assert (steps[48:] < 1).all() and steps[47] >= 1


def test_radam_rectification_values_on_the_page():
    """The page: r_6 ~ 0.026, about 0.65 after 1000 steps and 0.98 after 5000 (beta2 = 0.999); r_10 ~ 0.05."""
    assert radam_r(0.999, 6) == pytest.approx(0.026, abs=5e-4)
    assert radam_r(0.999, 10) == pytest.approx(0.05, abs=2e-3)
    assert radam_r(0.999, 1000) == pytest.approx(0.65, abs=5e-3)
    assert radam_r(0.999, 5000) == pytest.approx(0.98, abs=5e-3)


def test_figure_3_ranking_and_the_learning_rates_on_the_page(snippet_run):
    """Figure 3: on the ravine NAG ends lowest and Adagrad and RMSProp end above SGD; the saddle's plateau is at
    0.25. The page: SGD's rate is 1.8 / KAPPA = 0.036, the rates span 0.01 to 0.5, RMSProp's v remembers ~100 steps."""
    results, problems = snippet_run["results"], snippet_run["problems"]
    final_gap = {name: losses[-1] - problems["ravine"][2] for name, (_, losses) in results["ravine"].items()}
    assert min(final_gap, key=final_gap.get) == "NAG"
    assert final_gap["Adagrad"] > final_gap["SGD"] and final_gap["RMSProp"] > final_gap["SGD"]
    assert problems["saddle"][0](torch.zeros(2)).item() - problems["saddle"][2] == 0.25
    lr = snippet_run["LR"]
    assert lr["SGD"] == pytest.approx(1.8 / SNIPPET["KAPPA"]) and (min(lr.values()), max(lr.values())) == (0.01, 0.5)
    rmsprop = SNIPPET["OPTIMISERS"]["RMSProp"]([torch.zeros(1)])
    assert 1 / (1 - rmsprop.defaults["alpha"]) == pytest.approx(100)
