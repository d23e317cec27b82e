"""First- and second-order methods: gradient descent, Newton's method and L-BFGS.

Three experiments on two-parameter problems, so that the paths can be drawn:

1. An ill-conditioned quadratic: gradient descent (best fixed learning rate) zig-zags for
   many steps, Newton's method lands on the minimizer in one step.
2. The Rosenbrock function: gradient descent, pure Newton (Hessian from autograd) and
   L-BFGS (torch.optim.LBFGS with a strong-Wolfe line search).
3. A saddle point: gradient descent escapes it, pure Newton converges to it, and damped
   Newton, theta <- theta - (H + lambda I)^(-1) grad L, goes to a minimum.
"""

# %% Imports and seeds
import math

import matplotlib.pyplot as plt
import numpy as np
import torch

torch.manual_seed(0)
rng = np.random.default_rng(0)  # unused here (nothing is random), seeded by convention
torch.set_default_dtype(torch.float64)
# Okabe-Ito colors (safe for color-vision deficiency); every method also has its own marker
BLUE, VERMILLION, GREEN = "#0072B2", "#D55E00", "#009E73"

# %% Newton's method with the gradient and Hessian from autograd
# --8<-- [start:newton_step]
def newton_step(loss_fn, theta, damping=0.0):
    """theta - (H + damping * I)^(-1) grad L(theta); damping = 0 is the pure Newton step."""
    g = torch.autograd.functional.jacobian(loss_fn, theta)  # gradient, shape (n,)
    H = torch.autograd.functional.hessian(loss_fn, theta)  # Hessian, shape (n, n)
    return theta - torch.linalg.solve(H + damping * torch.eye(theta.numel()), g)
# --8<-- [end:newton_step]


def newton(loss_fn, theta0, steps, damping=0.0):
    path = [theta0]
    for _ in range(steps):
        path.append(newton_step(loss_fn, path[-1], damping))
    return torch.stack(path)


def gradient_descent(grad_fn, theta0, lr, steps):
    """theta <- theta - lr * grad L(theta), with a hand-written gradient (cheap for many steps)."""
    path = [np.asarray(theta0, dtype=float)]
    for _ in range(steps):
        path.append(path[-1] - lr * grad_fn(path[-1]))
    return np.array(path)


def lbfgs(loss_fn, theta0, steps):
    """torch.optim.LBFGS, one iteration per step() so that every iterate is recorded."""
    theta = theta0.clone().requires_grad_(True)
    opt = torch.optim.LBFGS([theta], lr=1, max_iter=1, max_eval=20, history_size=10,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = loss_fn(theta)
        loss.backward()
        return loss

    path = [theta0]
    for _ in range(steps):
        opt.step(closure)
        path.append(theta.detach().clone())
    return torch.stack(path)


def contour(ax, fn, xlim, ylim, levels):
    gx, gy = np.meshgrid(np.linspace(*xlim, 150), np.linspace(*ylim, 120))
    ax.contour(gx, gy, fn(np.stack([gx, gy])), levels=levels, colors="lightgray", linewidths=0.8)


def log_loss_plot(ax, losses, **style):
    t = np.arange(len(losses))
    ax.loglog(t + 1, np.maximum(losses, 1e-30), **style)

# %% Figure 1: an ill-conditioned quadratic, L = (theta - theta*)^T A (theta - theta*) / 2
def ill_conditioned_quadratic(kappa=25.0, degrees=30.0):
    """Hessian A with eigenvalues 1 and kappa (eigenvectors rotated by `degrees`), and the minimizer."""
    angle = math.radians(degrees)
    R = torch.tensor([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    return R @ torch.diag(torch.tensor([1.0, kappa])) @ R.T, torch.tensor([1.0, 0.5])


A, theta_min = ill_conditioned_quadratic()  # eigenvalues 1 and 25: kappa = 25


def quadratic(theta):
    e = theta - theta_min
    return 0.5 * e @ A @ e


def quadratic_np(theta):  # the same function on numpy arrays of shape (2, ...), for contours
    e = theta - theta_min.numpy().reshape(2, *([1] * (theta.ndim - 1)))
    return 0.5 * np.einsum("i...,ij,j...->...", e, A.numpy(), e)


start = torch.tensor([-2.3, -0.8])
lr_best = 2 / (1.0 + 25.0)  # 2 / (lambda_min + lambda_max)
gd_path = gradient_descent(lambda th: A.numpy() @ (th - theta_min.numpy()), start, lr_best, 80)
newton_path = newton(quadratic, start, 1)
gd_losses = np.array([quadratic(torch.tensor(p)).item() for p in gd_path])
# with the best fixed learning rate, every step multiplies the loss by ((kappa - 1) / (kappa + 1))^2
print(f"quadratic: gradient descent multiplies the loss by {gd_losses[1] / gd_losses[0]:.3f} per step, "
      f"Newton's loss after one step is {quadratic(newton_path[1]).item():.1e}")

fig, (ax_path, ax_loss) = plt.subplots(1, 2, figsize=(10, 3.8))
contour(ax_path, quadratic_np, (-3, 2), (-1.5, 1.5), np.geomspace(0.02, 30, 12))
ax_path.plot(*gd_path[:30].T, "o-", color=BLUE, ms=2.5, lw=1, label="gradient descent (30 steps)")
ax_path.plot(*newton_path.T, "s--", color=VERMILLION, ms=5, lw=2, label="Newton (1 step)")
ax_path.plot(*theta_min, "k*", ms=10)
ax_path.set(xlabel=r"$\theta_1$", ylabel=r"$\theta_2$", aspect="equal",
            title=r"Quadratic with $\kappa = 25$")
ax_path.legend(fontsize=8, loc="lower right")
ax_loss.semilogy(gd_losses, "o-", color=BLUE, ms=2.5,
                 label=r"gradient descent, $\eta = 2/(\lambda_{\min}+\lambda_{\max})$")
ax_loss.semilogy([quadratic(p).item() + 1e-30 for p in newton_path], "s--", color=VERMILLION,
                 label=r"Newton: at the minimum after one step (round-off)")
ax_loss.set(xlabel="iteration $t$", ylabel=r"$L(\theta_t) - L^\star$", ylim=(1e-31, 1e3),
            title="Loss (log scale)")
ax_loss.legend(fontsize=8, loc="lower left")
fig.tight_layout()

# %% Figure 2: the Rosenbrock function L(x, y) = (1 - x)^2 + 100 (y - x^2)^2
def rosenbrock(theta):
    x, y = theta[0], theta[1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def rosenbrock_grad(theta):
    x, y = theta
    return np.array([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])


def rosenbrock_paths(start=(-1.2, 1.0)):
    """The iterates of the three methods from the classic starting point (-1.2, 1)."""
    start = torch.tensor(start)
    return {
        "gradient descent": gradient_descent(rosenbrock_grad, start, 1.5e-3, 10_000),
        "Newton": newton(rosenbrock, start, 7).numpy(),
        "L-BFGS": lbfgs(rosenbrock, start, 40).numpy(),
    }


paths = rosenbrock_paths()
losses = {name: rosenbrock(path.T) for name, path in paths.items()}
print(f"Rosenbrock: gradient descent's loss after 10,000 steps {losses['gradient descent'][-1]:.1e}; "
      f"Newton's loss {losses['Newton'][1]:.2f} after step 1, {losses['Newton'][2]:.0f} after step 2, "
      f"{losses['Newton'][7]:.0e} after step 7; L-BFGS below 1e-10 after "
      f"{np.argmax(losses['L-BFGS'] < 1e-10)} iterations")
styles = {"gradient descent": dict(color=BLUE, ls="-", lw=1.5, zorder=3),
          "Newton": dict(color=VERMILLION, ls="--", marker="s", ms=4, lw=1.5),
          "L-BFGS": dict(color=GREEN, ls=":", marker="o", ms=3, lw=1.5)}

fig, (ax_path, ax_loss) = plt.subplots(1, 2, figsize=(10, 3.8))
contour(ax_path, rosenbrock, (-2, 2), (-3.5, 3), np.geomspace(0.1, 3000, 14))
for name, path in paths.items():
    ax_path.plot(*path.T, label=name, **styles[name])
    log_loss_plot(ax_loss, losses[name], label=name, **styles[name])
ax_path.plot(1, 1, "k*", ms=10)
ax_path.set(xlabel="$x$", ylabel="$y$", xlim=(-2, 2), ylim=(-3.5, 3), title="Rosenbrock: paths")
ax_path.legend(fontsize=8, loc="lower right")
ax_loss.set(xlabel="iteration + 1", ylabel=r"$L(\theta_t)$", ylim=(1e-30, 1e4), title="Loss (log-log)")
ax_loss.legend(fontsize=8, loc="lower left")
fig.tight_layout()

# %% Figure 3: a saddle point attracts Newton's method
def saddle(theta):
    """L(x, y) = x^2/2 + y^4/4 - y^2/2: saddle at (0, 0), minima at (0, -1) and (0, 1)."""
    x, y = theta[0], theta[1]
    return x**2 / 2 + y**4 / 4 - y**2 / 2


def saddle_grad(theta):
    x, y = theta
    return np.array([x, y**3 - y])


def saddle_paths(start):
    """The iterates of gradient descent, pure Newton and damped Newton from `start`."""
    return {
        r"gradient descent, $\eta = 0.3$": gradient_descent(saddle_grad, start, 0.3, 40),
        "Newton": newton(saddle, start, 6).numpy(),
        r"damped Newton, $\lambda = 1.5$": newton(saddle, start, 12, damping=1.5).numpy(),
    }


# two starts inside the band |y| < 1/sqrt(3) where H is indefinite, one outside it
starts = [torch.tensor([1.5, 0.3]), torch.tensor([-1.2, -0.25]), torch.tensor([-1.0, 0.8])]
saddle_styles = [dict(color=BLUE, ls="-", marker="o", ms=3, lw=1),
                 dict(color=VERMILLION, ls="--", marker="s", ms=4, lw=1.5),
                 dict(color=GREEN, ls=":", marker="^", ms=4, lw=1.5)]
fig, (ax_path, ax_loss) = plt.subplots(1, 2, figsize=(10, 3.8))
contour(ax_path, saddle, (-1.8, 1.8), (-1.4, 1.4), np.linspace(-0.24, 1.6, 16))
ax_path.axhspan(-1 / math.sqrt(3), 1 / math.sqrt(3), color="gray", alpha=0.12, lw=0)
for i, start in enumerate(starts):
    runs = saddle_paths(start)
    print(f"saddle, start {start.tolist()}: final L of gradient descent, Newton, damped Newton =",
          ", ".join(f"{saddle(path[-1]):.4f}" for path in runs.values()))
    for (name, path), style in zip(runs.items(), saddle_styles):
        ax_path.plot(*path.T, label=name if i == 0 else None, **style)
        if i == 0:
            ax_loss.plot(np.arange(len(path)), saddle(path.T), label=name, **style)
ax_path.plot(0, 0, "X", color="k", ms=9)
ax_path.plot([0, 0], [-1, 1], "k*", ms=10)
ax_path.set(xlabel="$x$", ylabel="$y$", xlim=(-1.8, 1.8), ylim=(-1.4, 1.4), aspect="equal",
            title=r"$L = x^2/2 + y^4/4 - y^2/2$ (shaded: $H$ indefinite)")
ax_path.legend(fontsize=8, loc="lower right", framealpha=0.9)
ax_loss.axhline(0.0, color="gray", lw=0.8)
ax_loss.axhline(-0.25, color="gray", lw=0.8)
ax_loss.set(xlabel="iteration $t$", ylabel=r"$L(\theta_t)$", xlim=(0, 25),
            title=r"Loss from $(1.5, 0.3)$: saddle at 0, minima at $-0.25$")
ax_loss.legend(fontsize=8)
fig.tight_layout()

plt.show()
