"""Optimizers: SGD, momentum, Nesterov momentum, Adagrad, RMSProp and Adam on two toy
problems, and the rectification term of RAdam.

All runs use torch.optim with ONE set of hyperparameters per optimizer for both problems,
as in a network where steep ravines and flat saddle regions occur together.

Figure 1: paths on an ill-conditioned quadratic (a ravine with condition number 50).
Figure 2: paths started next to the saddle point of L(x, y) = x^2/2 + y^4/4 - y^2/2.
Figure 3: loss minus its minimum against the step, for both problems.
Figure 4: RAdam's rho_t (length of the approximated simple moving average) and its
rectification term r_t, next to a linear warm-up over 2 / (1 - beta2) steps.

Each optimizer has its own line style and marker as well as its own color (Okabe-Ito palette),
so the curves can be told apart without color. The numbers the captions quote (step sizes,
escape times) are computed and printed by the cell "Numbers the captions quote".
"""

# %% Imports and seeds
import matplotlib.pyplot as plt
import numpy as np
import torch

torch.manual_seed(0)
rng = np.random.default_rng(0)  # unused (everything here is deterministic), seeded by convention
torch.set_default_dtype(torch.float64)

# %% Two test problems
# --8<-- [start:problems]
KAPPA = 50.0  # condition number of the ravine: curvatures 1 (along x) and 50 (along y)


def ravine(theta):
    """(x^2 + KAPPA y^2) / 2: minimum 0 at the origin."""
    x, y = theta
    return 0.5 * (x**2 + KAPPA * y**2)


def saddle(theta):
    """x^2/2 + y^4/4 - y^2/2: saddle point at the origin, minima -1/4 at (0, +-1)."""
    x, y = theta
    return 0.5 * x**2 + 0.25 * y**4 - 0.5 * y**2
# --8<-- [end:problems]

# %% The optimizers: one set of hyperparameters for both problems
# --8<-- [start:optimisers]
OPTIMISERS = {  # SGD's lr is 1.8 / KAPPA: just below the limit 2 / KAPPA set by the steep direction
    "SGD": lambda p: torch.optim.SGD(p, lr=0.036),
    "Momentum": lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9),
    "NAG": lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9, nesterov=True),
    "Adagrad": lambda p: torch.optim.Adagrad(p, lr=0.5),
    "RMSProp": lambda p: torch.optim.RMSprop(p, lr=0.03),
    "Adam": lambda p: torch.optim.Adam(p, lr=0.1),
}
# --8<-- [end:optimisers]
LR = {name: make([torch.zeros(1)]).defaults["lr"] for name, make in OPTIMISERS.items()}  # for the legends
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9"]  # safe for color-vision deficiency
COLORS = dict(zip(OPTIMISERS, OKABE_ITO))
STYLES = {  # line style and marker: within each group of three they differ, and no two optimizers share both
    "SGD": ("-", "o"), "Momentum": ("--", "s"), "NAG": ("-.", "^"),
    "Adagrad": ("-", "D"), "RMSProp": ("--", "v"), "Adam": ("-.", "x"),
}

# %% The training loop: any torch.optim optimizer on a 2-D problem
# --8<-- [start:run]
def run(make_optimiser, loss_fn, start, steps):
    """Return the iterates theta_0..theta_steps (steps+1, 2) and their losses."""
    theta = torch.tensor(start, requires_grad=True)
    optimiser = make_optimiser([theta])
    path, losses = [], []
    for _ in range(steps):
        optimiser.zero_grad()
        loss = loss_fn(theta)
        path.append(theta.detach().clone())
        losses.append(loss.item())
        loss.backward()  # g_t = grad L(theta_{t-1})
        optimiser.step()  # theta_t = theta_{t-1} - (the optimizer's update)
    with torch.no_grad():
        path.append(theta.detach().clone())
        losses.append(loss_fn(theta).item())
    return torch.stack(path).numpy(), np.array(losses)
# --8<-- [end:run]


STEPS = 150
problems = {  # name: (loss, start, minimum value, x range, y range, contour levels)
    "ravine": (ravine, [-5.0, 0.6], 0.0, (-5.6, 1.4), (-0.9, 0.9), np.geomspace(0.02, 40, 10)),
    "saddle": (saddle, [-1.5, 0.01], -0.25, (-1.7, 1.7), (-1.4, 1.4), np.linspace(-0.2, 1.4, 9)),
}
results = {p: {name: run(make, spec[0], spec[1], STEPS) for name, make in OPTIMISERS.items()}
           for p, spec in problems.items()}

# %% Figures 1 and 2: paths on the contours, non-adaptive (left) and adaptive (right)
def plot_paths(problem, title, marks):
    loss_fn, _, _, (x0, x1), (y0, y1), levels = problems[problem]
    xs, ys = np.meshgrid(np.linspace(x0, x1, 100), np.linspace(y0, y1, 80))
    zs = loss_fn(torch.from_numpy(np.stack([xs, ys]))).numpy()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
    groups = [["SGD", "Momentum", "NAG"], ["Adagrad", "RMSProp", "Adam"]]
    for ax, names, group in zip(axes, groups, ["non-adaptive", "adaptive"]):
        ax.contour(xs, ys, zs, levels=levels, colors="lightgray", linewidths=0.8, linestyles="solid")
        for name in names:
            path = results[problem][name][0]
            line, marker = STYLES[name]
            ax.plot(path[:, 0], path[:, 1], ls=line, marker=marker, markevery=range(40), ms=3.5,
                    mfc="none", color=COLORS[name], lw=1.2, label=f"{name} (η = {LR[name]})")  # markers: first 40 steps
        for x, y, style in marks:
            ax.plot(x, y, style, ms=9)
        ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="x", title=f"{title}: {group}")
        ax.legend(fontsize=7.5, loc="lower right")
    axes[0].set_ylabel("y")
    fig.tight_layout()


plot_paths("ravine", "Ravine (x² + 50y²)/2", [(0, 0, "k*")])
plot_paths("saddle", "Saddle", [(0, 1, "k*"), (0, -1, "k*"), (0, 0, "kx")])

# %% Figure 3: loss against step
OPTIMISERS_ORDER = {name: k for k, name in enumerate(OPTIMISERS)}  # staggers the markers of the six curves
fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
for ax, (problem, title) in zip(axes, [("ravine", "Ravine"), ("saddle", "Saddle")]):
    best = problems[problem][2]
    for name in OPTIMISERS:
        gap = results[problem][name][1] - best
        line, marker = STYLES[name]
        ax.semilogy(np.maximum(gap, 1e-16), ls=line, marker=marker, markevery=(OPTIMISERS_ORDER[name] * 3, 20),
                    ms=4, mfc="none", color=COLORS[name], lw=1.2, label=name)
    ax.set(xlabel="step t", ylabel="L(θ) − L*", ylim=(1e-16, 1e2), title=title)
axes[1].axhline(0.25, color="gray", lw=0.8, ls=":")  # loss gap at the saddle point
axes[0].legend(fontsize=7.5, ncol=2, loc="lower left")
fig.tight_layout()

# %% Figure 4: RAdam's rho_t and rectification term r_t
def radam_terms(beta2, t):
    """rho_inf, rho_t and r_t of RAdam (r_t is used only where rho_t > 5)."""
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    rho_t = rho_inf - 2.0 * t * beta2**t / (1.0 - beta2**t)
    with np.errstate(invalid="ignore"):  # r_t is undefined for rho_t < 4
        r_t = np.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
    return rho_inf, rho_t, np.where(rho_t > 5, r_t, np.nan)


fig, (ax_rho, ax_r) = plt.subplots(1, 2, figsize=(9, 3.4))
t_short = np.arange(1, 21)
_, rho_short, _ = radam_terms(0.999, t_short.astype(float))
fallback = rho_short <= 5
ax_rho.bar(t_short[fallback], rho_short[fallback], color="0.75", hatch="///", edgecolor="0.35",
           label="ρ_t ≤ 5: momentum SGD step")
ax_rho.bar(t_short[~fallback], rho_short[~fallback], color=OKABE_ITO[0], label="ρ_t > 5: rectified Adam step")
ax_rho.axhline(5, color="k", lw=0.8, ls="--")
ax_rho.set(xlabel="step t", ylabel="ρ_t", title="ρ_t for β2 = 0.999", xticks=[1, 5, 10, 15, 20])
ax_rho.legend(fontsize=7.5, loc="upper left")

t_long = np.unique(np.geomspace(1, 30_000, 300).round())
for beta2, color, (r_style, warmup_style) in [(0.999, OKABE_ITO[0], ("-", ":")), (0.99, OKABE_ITO[3], ("--", "-."))]:
    _, _, r_t = radam_terms(beta2, t_long)
    ax_r.semilogx(t_long, r_t, r_style, color=color, lw=1.5, label=f"r_t, β2 = {beta2}")
    warmup = np.minimum(1.0, t_long * (1.0 - beta2) / 2.0)  # linear warm-up over 2 / (1 - beta2) steps
    ax_r.semilogx(t_long, warmup, warmup_style, color=color, lw=1.2,
                  label=rf"linear warm-up, {2 / (1 - beta2):.0f} steps")
ax_r.set(xlabel="step t", ylabel="multiplier of the learning rate", ylim=(0, 1.05),
         title="Rectification = built-in warm-up")
ax_r.legend(fontsize=7.5, loc="upper left")
fig.tight_layout()

# %% Numbers the captions quote
def step_over_lr(problem, name):
    """|theta_t - theta_{t-1}| / eta for t = 1 .. STEPS, per coordinate: shape (STEPS, 2)."""
    return np.abs(np.diff(results[problem][name][0], axis=0)) / LR[name]


# Figure 2: the first step in y, in units of eta (no bias correction: RMSProp's is 1 / sqrt(1 - alpha) = 10)
first_y_step = {name: float(step_over_lr("saddle", name)[0, 1]) for name in ["Adagrad", "RMSProp", "Adam"]}
# Figure 2: the first step t at which |y_t| > 0.5, i.e. the path has left the saddle
escape_step = {name: int(np.argmax(np.abs(results["saddle"][name][0][:, 1]) > 0.5)) for name in OPTIMISERS}
# Figure 3: on the ravine, RMSProp's steps are shorter than eta from this step on
rmsprop_steps = np.linalg.norm(step_over_lr("ravine", "RMSProp"), axis=1)  # step t = 1 .. STEPS, over eta
rmsprop_below_lr_from = int(np.arange(1, STEPS + 1)[rmsprop_steps >= 1].max()) + 1  # after the last step >= eta
print("first step in y / eta (saddle):", {k: round(v, 3) for k, v in first_y_step.items()})
print("step at which |y| > 0.5 (saddle):", escape_step)
print("RMSProp's steps on the ravine are shorter than eta from step", rmsprop_below_lr_from)

plt.show()
