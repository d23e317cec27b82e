"""Learning-rate schedules.

Four figures, all from torch.optim.lr_scheduler and synthetic problems:

1. The learning rate eta_t of every schedule on the page (power, exponential, step,
   multi-step, reduce-on-plateau, 1cycle with its momentum, cosine, cosine with warm
   restarts, linear, polynomial, inverse square root / Noam, warm-up + cosine).
2. Mini-batch SGD on a linear-regression problem: a constant rate stalls at a noise
   floor proportional to eta; decaying the rate removes it. The floor is measured for
   several rates and compared with the first-order prediction eta * tr(Sigma) / (4B) and
   with the exact stationary value of this SGD.
3. ReduceLROnPlateau reacting to the validation loss of a similar SGD run.
4. Dividing eta by 5 versus multiplying the batch size B by 5 (same eta / B):
   the same curve per epoch, far fewer parameter updates.

Curves that share an axes differ in line style or marker as well as in color (Okabe-Ito
palette). The numbers the page quotes about Figures 2 and 4 are printed at the end.
"""

# %% Imports and seeds
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch.optim import lr_scheduler

torch.manual_seed(0)
rng = np.random.default_rng(0)  # unused here (all randomness is torch), seeded by convention
torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)  # the tensors are tiny: extra threads only add overhead
BLUE, ORANGE, GREEN, VERMILLION, PURPLE = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7"  # Okabe-Ito

# %% Record the learning rate a scheduler produces
# --8<-- [start:lr_curve]
def lr_curve(make_scheduler, steps, lr=1.0, optimizer=torch.optim.SGD, **opt_kwargs):
    """eta_t for t = 0 .. steps-1: the rate used by the (t+1)-th optimizer.step()."""
    opt = optimizer([torch.zeros(1, requires_grad=True)], lr=lr, **opt_kwargs)
    sched = make_scheduler(opt)  # construction already sets eta_0
    lrs, moms = [], []
    for _ in range(steps):
        group = opt.param_groups[0]
        lrs.append(group["lr"])
        moms.append(group.get("momentum", group.get("betas", (None,))[0]))
        opt.step()  # (the training step would go here)
        sched.step()  # then advance the schedule: t -> t + 1
    return np.array(lrs), np.array(moms, dtype=float)
# --8<-- [end:lr_curve]

# %% Figure 1: every schedule on the page, computed by torch.optim.lr_scheduler
T = 100  # steps shown (epochs or iterations: the scheduler only counts step() calls)
# --8<-- [start:schedules]
d_model, warmup = 64, 10
schedules = {  # name -> factory: optimizer -> scheduler (base rate eta_0 = 1)
    "power": lambda o: lr_scheduler.LambdaLR(o, lambda t: (1 + t / 10) ** -1.0),  # s=10, c=1
    "power_c05": lambda o: lr_scheduler.LambdaLR(o, lambda t: (1 + t / 10) ** -0.5),
    "exponential": lambda o: lr_scheduler.ExponentialLR(o, gamma=0.1 ** (1 / 50)),  # x0.1 per 50
    "step": lambda o: lr_scheduler.StepLR(o, step_size=30, gamma=0.5),
    "multistep": lambda o: lr_scheduler.MultiStepLR(o, milestones=[50, 75], gamma=0.1),
    "onecycle_cos": lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=T),
    "onecycle_linear3": lambda o: lr_scheduler.OneCycleLR(
        o, max_lr=1.0, total_steps=T, anneal_strategy="linear", three_phase=True, pct_start=0.45),
    "cosine": lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=T - 1),
    "cosine_min": lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=T - 1, eta_min=0.2),
    "restarts": lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2),
    "linear": lambda o: lr_scheduler.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=T - 1),
    "poly2": lambda o: lr_scheduler.PolynomialLR(o, total_iters=T - 1, power=2.0),
    "noam": lambda o: lr_scheduler.LambdaLR(  # Vaswani et al.: step_num = t + 1
        o, lambda t: d_model**-0.5 * min((t + 1) ** -0.5, (t + 1) * warmup**-1.5)),
    "warmup_cosine": lambda o: lr_scheduler.SequentialLR(o, [
        lr_scheduler.LinearLR(o, start_factor=0.01, end_factor=1.0, total_iters=warmup),
        lr_scheduler.CosineAnnealingLR(o, T_max=T - 1 - warmup),
    ], milestones=[warmup]),
}
# --8<-- [end:schedules]
recorded = {name: lr_curve(make, T, momentum=0.9) for name, make in schedules.items()}
curves = {name: lrs for name, (lrs, _) in recorded.items()}
onecycle_momentum = recorded["onecycle_cos"][1]  # OneCycleLR also cycles the momentum


# ReduceLROnPlateau needs a metric. A toy validation loss: a decaying transient plus a
# floor proportional to the current rate (Figure 3 uses a real SGD run instead).
def plateau_curve(steps, noise=0.02, seed=1):
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    sched = lr_scheduler.ReduceLROnPlateau(opt, factor=0.3, patience=5, threshold=0.01)
    lrs, losses = [], []
    for t in range(steps):
        eta = opt.param_groups[0]["lr"]
        loss = math.exp(-t / 8) + 0.3 * eta + noise * torch.randn((), generator=gen).item()
        lrs.append(eta)
        losses.append(loss)
        opt.step()
        sched.step(loss)  # performance-based: step(metric), once per evaluation
    return np.array(lrs), np.array(losses)


curves["plateau"], plateau_loss = plateau_curve(T)

panels = [  # (title, [(curve, label, style)])
    ("power (LambdaLR)", [("power", "c = 1", "-"), ("power_c05", "c = 0.5", "--")]),
    ("exponential (ExponentialLR)", [("exponential", None, "-")]),
    ("step (StepLR)", [("step", None, "-")]),
    ("piecewise (MultiStepLR)", [("multistep", None, "-")]),
    ("performance (ReduceLROnPlateau)", [("plateau", None, "-")]),
    ("1cycle (OneCycleLR)", [("onecycle_cos", "cos, 2 phases", "-"),
                             ("onecycle_linear3", "linear, 3 phases", "--")]),
    ("1cycle: momentum", []),
    ("cosine (CosineAnnealingLR)", [("cosine", None, "-"), ("cosine_min", r"$\eta_{\min}=0.2$", "--")]),
    ("warm restarts (SGDR)", [("restarts", None, "-")]),
    ("linear / polynomial", [("linear", "LinearLR", "-"), ("poly2", "PolynomialLR p=2", "--")]),
    ("inverse sqrt (Noam, LambdaLR)", [("noam", None, "-")]),
    ("warm-up + cosine (SequentialLR)", [("warmup_cosine", None, "-")]),
]
fig, axes = plt.subplots(3, 4, figsize=(10, 6.4), sharex=True)
t_axis = np.arange(T)
for ax, (title, lines) in zip(axes.flat, panels):
    for name, label, style in lines:
        ax.plot(t_axis, curves[name], style, color=BLUE if style == "-" else ORANGE,
                lw=1.4, label=label)
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=7)
    ax.locator_params(axis="y", nbins=3)
    if any(label for _, label, _ in lines):
        ax.legend(fontsize=7, frameon=False)
ax_mom = axes.flat[6]
ax_mom.plot(t_axis, onecycle_momentum, color=GREEN, lw=1.4)
ax_mom.set_ylabel("momentum", fontsize=8)
ax_plateau = axes.flat[4].twinx()
ax_plateau.plot(t_axis, plateau_loss, ":", color="0.45", lw=0.9)
ax_plateau.set_yticks([])
ax_plateau.set_ylabel("toy val. loss (dotted)", fontsize=7, color="0.4")
axes.flat[10].axvline(warmup - 1, color="0.7", lw=0.8, ls=":")
axes.flat[11].axvline(warmup, color="0.7", lw=0.8, ls=":")
for ax in axes[:, 0]:
    ax.set_ylabel(r"$\eta_t / \eta_0$", fontsize=8)
for ax in axes[-1]:
    ax.set_xlabel("step $t$", fontsize=8)
fig.subplots_adjust(left=0.06, right=0.98, bottom=0.08, top=0.95, wspace=0.38, hspace=0.38)

# %% A linear-regression problem for mini-batch SGD (gradients by hand, many runs at once)
n_samples, n_features, noise = 1024, 10, 0.5


def make_data(n, gen):
    # float64: 700 steps of float32 SGD left round-off that differed from process to process
    X = torch.randn(n, n_features, generator=gen, dtype=torch.float64)
    y = X @ w_true + 1.0 + noise * torch.randn(n, generator=gen, dtype=torch.float64)
    return torch.cat([X, torch.ones(n, 1)], dim=1), y  # last column: the bias


gen = torch.Generator().manual_seed(0)
w_true = torch.randn(n_features, generator=gen, dtype=torch.float64)
X, y = make_data(n_samples, gen)
theta_star = torch.linalg.lstsq(X, y).solution  # minimizer of L(theta) = mean (x.theta - y)^2 / 2
H = X.T @ X / n_samples  # Hessian of L
r_star = X @ theta_star - y
Sigma = (X * r_star[:, None] ** 2).T @ X / n_samples  # covariance of per-example gradients at theta*


def excess_loss(theta):
    """L(theta) - L(theta*) = (theta - theta*)^T H (theta - theta*) / 2, for each row of theta."""
    delta = theta - theta_star
    return 0.5 * ((delta @ H) * delta).sum(-1)


# --8<-- [start:sgd]
def sgd(lrs, batch_sizes, runs, theta0, seed=0):
    """Mini-batch SGD with per-step rates lrs[t] (one column per run, or shared) and batch sizes.

    Each row of theta is an independent run; mini-batches are drawn with replacement.
    Returns the excess loss after every step, shape (steps + 1, runs).
    """
    gen = torch.Generator().manual_seed(seed)
    theta = theta0.to(X.dtype).expand(runs, -1).clone()
    history = [excess_loss(theta)]
    for lr, batch in zip(lrs, batch_sizes):
        idx = torch.randint(n_samples, (runs, batch), generator=gen)
        Xb = X[idx]  # (runs, B, d + 1)
        resid = (Xb @ theta.unsqueeze(-1)).squeeze(-1) - y[idx]  # r_i = x_i . theta - y_i
        grad = (resid.unsqueeze(-1) * Xb).mean(1)  # g_B = (1/B) sum_i r_i x_i
        theta -= torch.as_tensor(lr).reshape(-1, 1) * grad  # theta <- theta - eta_t g_B
        history.append(excess_loss(theta))
    return torch.stack(history).numpy()
# --8<-- [end:sgd]

# %% Figure 2: constant rates stall at a noise floor proportional to eta; decaying removes it
steps, batch, runs, eta0 = 1500, 8, 16, 0.1
decays = {  # label -> (scheduler factory, base rate, (color, line style, marker))
    r"constant $\eta = 0.1$": (lambda o: lr_scheduler.LambdaLR(o, lambda t: 1.0), 0.1, (VERMILLION, "-", "")),
    r"constant $\eta = 0.02$": (lambda o: lr_scheduler.LambdaLR(o, lambda t: 1.0), 0.02, (ORANGE, "--", "")),
    r"step: $\times 0.2$ at 500, 1000": (lambda o: lr_scheduler.MultiStepLR(o, [500, 1000], gamma=0.2),
                                          eta0, (BLUE, "-.", "")),
    "cosine to 0": (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=steps), eta0, (GREEN, ":", "")),
    r"power: $\eta_0 / (1 + t/100)$": (lambda o: lr_scheduler.LambdaLR(o, lambda t: 1 / (1 + t / 100)),
                                       eta0, (PURPLE, "-", "o")),
}
lr_table = np.stack([lr_curve(make, steps, lr=lr0)[0] for make, lr0, _ in decays.values()], axis=1)
lr_per_run = np.repeat(lr_table, runs, axis=1)  # (steps, n_schedules * runs)
theta0 = torch.zeros(n_features + 1)
excess = sgd(lr_per_run, [batch] * steps, lr_per_run.shape[1], theta0)
excess = excess.reshape(steps + 1, len(decays), runs).mean(-1)  # average over runs

etas = np.geomspace(0.01, 0.3, 6)
burn_in, measure = 300, 400
floor_runs = 16
eta_col = np.repeat(etas, floor_runs)
floor_hist = sgd(np.tile(eta_col, (burn_in + measure, 1)), [batch] * (burn_in + measure),
                 len(eta_col), theta_star, seed=1)  # start at theta*: measure the stationary floor
floor = floor_hist[burn_in + 1:].reshape(measure, len(etas), floor_runs).mean((0, 2))
floor_theory = etas * torch.trace(Sigma).item() / (4 * batch)  # first order in eta


d_theta = n_features + 1
S_op = torch.einsum("ni,nj,nk,nl->ikjl", X, X, X, X).reshape(d_theta**2, d_theta**2) / n_samples  # V -> S(V)


def exact_floor(eta):
    """E[L - L*] at stationarity, tr(H V) / 2, without approximation. The noise of a mini-batch gradient
    has covariance (S(V) - H V H + Sigma) / B: it grows with the distance from theta* (S(V) = mean_i of
    x_i x_i^T V x_i x_i^T), which the first-order value leaves out. V solves
    V = (I - eta H) V (I - eta H) + eta^2 (S(V) - H V H + Sigma) / B."""
    d = H.shape[0]
    M = torch.eye(d) - eta * H
    K = torch.kron(M, M) + eta**2 / batch * (S_op - torch.kron(H, H))  # V -> the right-hand side, as a matrix
    V = torch.linalg.solve(torch.eye(d * d) - K, (eta**2 / batch * Sigma).reshape(-1)).reshape(d, d)
    return 0.5 * torch.trace(H @ V).item()


floor_exact = np.array([exact_floor(eta) for eta in etas])
floor_ratio = floor[-1] / floor_theory[-1]  # measured / first order at the largest eta
exact_ratio = floor_exact[-1] / floor_theory[-1]

fig, (ax_t, ax_eta) = plt.subplots(1, 2, figsize=(9.5, 3.6), gridspec_kw=dict(width_ratios=[1.6, 1]))
t_sgd = np.arange(steps + 1)
for k, (label, (_, _, (color, line, marker))) in enumerate(decays.items()):
    ax_t.semilogy(t_sgd[::5], excess[::5, k], ls=line, marker=marker, markevery=20, ms=4, color=color,
                  lw=1.1, label=label)
ax_t.set(xlabel="iteration $t$", ylabel=r"$L(\theta_t) - L^\star$ (mean of runs)", ylim=(1e-4, 10),
         title=f"Mini-batch SGD, B = {batch}")
ax_t.legend(fontsize=7, loc="upper right")
ax_eta.loglog(etas, floor, "o", color="k", ms=4, label="measured")
ax_eta.loglog(etas, floor_theory, "-", color=VERMILLION, lw=1, label=r"$\eta\,\mathrm{tr}(\Sigma)/(4B)$")
ax_eta.loglog(etas, floor_exact, "--", color=BLUE, lw=1, label="exact stationary")
ax_eta.set(xlabel=r"constant learning rate $\eta$", ylabel="stationary excess loss",
           title=r"Noise floor $\propto \eta$")
ax_eta.legend(fontsize=8)
fig.tight_layout()

# %% Figure 3: ReduceLROnPlateau reacting to the validation loss of a real SGD run
# A larger training set (8192 examples), so that the validation loss is limited by the
# SGD noise floor rather than by overfitting; the validation set has 8192 examples too.
X_big, y_big = make_data(8192, gen)
X_val, y_val = make_data(8192, gen)
val_best = 0.5 * ((X_val @ torch.linalg.lstsq(X_val, y_val).solution - y_val) ** 2).mean().item()


def val_loss(theta):
    return 0.5 * ((X_val @ theta - y_val) ** 2).mean().item()


# --8<-- [start:plateau]
param = torch.zeros(n_features + 1, requires_grad=True)
opt = torch.optim.SGD([param], lr=0.1)
plateau = lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.3, patience=3,
                                         threshold=1e-3, cooldown=2)
gen_batches = torch.Generator().manual_seed(2)
evals, iters_per_eval = 40, 32
val_hist, lr_hist = [val_loss(param.detach())], [0.1]
for _ in range(evals):
    for _ in range(iters_per_eval):
        idx = torch.randint(len(y_big), (batch,), generator=gen_batches)
        resid = X_big[idx] @ param.detach() - y_big[idx]
        param.grad = (resid[:, None] * X_big[idx]).mean(0)  # hand-written g_B (no autograd needed)
        opt.step()
    val_hist.append(val_loss(param.detach()))
    plateau.step(val_hist[-1])  # cut eta when the val loss has not improved for patience + 1 evals
    lr_hist.append(opt.param_groups[0]["lr"])
# --8<-- [end:plateau]

fig, (ax_v, ax_lr) = plt.subplots(2, 1, figsize=(8, 4.2), sharex=True,
                                  gridspec_kw=dict(height_ratios=[1.6, 1]))
e_axis = np.arange(evals + 1)
ax_v.semilogy(e_axis, np.array(val_hist) - val_best, "o-", color="k", ms=3, lw=1)
ax_v.set(ylabel="validation loss − best", ylim=(1e-4, 10),
         title="ReduceLROnPlateau(factor=0.3, patience=3, threshold=1e-3, cooldown=2)")
drops = [e for e in range(1, evals + 1) if lr_hist[e] < lr_hist[e - 1]]
for ax in (ax_v, ax_lr):
    for e in drops:
        ax.axvline(e, color=VERMILLION, lw=0.9, ls="--")
ax_lr.step(e_axis, lr_hist, where="post", color=BLUE)
ax_lr.set(yscale="log", xlabel=f"evaluation (every {iters_per_eval} iterations)", ylabel=r"$\eta$")
fig.tight_layout()

# %% Figure 4: decay the rate or increase the batch size (Smith et al., 2018)
epochs_per_stage, factor = 4, 5
stage_lrs = [eta0 / factor**k for k in range(3)]  # eta: 0.1, 0.02, 0.004 at B = 8
stage_batches = [batch * factor**k for k in range(3)]  # B: 8, 40, 200 at eta = 0.1


def staged(lrs_, batches_):
    lrs_out, batches_out = [], []
    for lr, b in zip(lrs_, batches_):
        n_steps = round(epochs_per_stage * n_samples / b)  # updates in this stage
        lrs_out += [lr] * n_steps
        batches_out += [b] * n_steps
    return lrs_out, batches_out


fig, (ax_ep, ax_up) = plt.subplots(1, 2, figsize=(9.5, 3.4), sharey=True)
n_updates, last_epoch_loss = {}, {}
for key, (lrs_, batches_), color, line, label in [
    ("decay", staged(stage_lrs, [batch] * 3), BLUE, "-", r"decay $\eta$: 0.1, 0.02, 0.004 (B = 8)"),
    ("grow", staged([eta0] * 3, stage_batches), VERMILLION, "--", r"grow $B$: 8, 40, 200 ($\eta$ = 0.1)"),
]:
    hist = sgd(lrs_, batches_, runs, theta0, seed=3).mean(-1)
    epochs_seen = np.concatenate([[0.0], np.cumsum(batches_) / n_samples])
    n_updates[key] = len(lrs_)
    last_epoch_loss[key] = hist[epochs_seen > epochs_seen[-1] - 1].mean()
    ax_ep.semilogy(epochs_seen[::2], hist[::2], line, color=color, lw=1.1, label=label)
    ax_up.semilogy(np.arange(len(hist))[::2], hist[::2], line, color=color, lw=1.1,
                   label=f"{len(lrs_)} updates")
ax_ep.set(xlabel="epochs (examples seen / N)", ylabel=r"$L(\theta) - L^\star$ (mean of runs)",
          title=r"Same $\eta/B$ per stage: same curve per epoch", ylim=(1e-4, 10))
ax_up.set(xlabel="parameter updates", title="...with far fewer updates")
ax_ep.legend(fontsize=7)
ax_up.legend(fontsize=7)
fig.tight_layout()

# %% The numbers the page quotes
print(f"Figure 2: at eta = {etas[-1]:.2f} the measured floor is {floor_ratio:.3f} x the first-order value "
      f"(exact stationary value: {exact_ratio:.3f} x)")
print(f"Figure 4: {n_updates['decay']} updates (decay eta) vs {n_updates['grow']} (grow B); "
      f"loss over the last epoch {last_epoch_loss['decay']:.2e} vs {last_epoch_loss['grow']:.2e}")

plt.show()
