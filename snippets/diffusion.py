"""Diffusion models (DDPM) on two moons.

1. The forward noising process q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I) on 2-D data.
2. A small MLP eps_theta(x, t) with a sinusoidal time embedding, trained to predict the noise
   (Ho et al., 2020), and ancestral sampling (their Algorithm 2) from pure noise back to data.
3. The linear (Ho et al., 2020) and cosine (Nichol & Dhariwal, 2021) noise schedules: abar_t and
   the signal-to-noise ratio abar_t / (1 - abar_t).

Figures: 1 the forward process, 2 the two schedules, 3 samples coming out of noise step by step.

Arrays indexed by the step t hold T + 1 entries, entry 0 standing for t = 0 (beta_0 = 0,
abar_0 = 1), so that betas[t] is beta_t. The numbers the page states are computed and printed here.
"""

# %% Imports and seeds
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import make_moons

torch.manual_seed(0)
rng = np.random.default_rng(0)  # unused here (all randomness is torch), seeded by convention
plt.style.use("tableau-colorblind10")
T_MODEL = 50  # diffusion steps of the trained model


# %% Noise schedules
def linear_schedule(T, beta_1=1e-4, beta_T=0.02):
    """Ho et al. (2020): beta_t rises linearly from beta_1 to beta_T; returns beta_0..beta_T (beta_0 = 0)."""
    betas = torch.linspace(beta_1, beta_T, T, dtype=torch.float64)
    return torch.cat([torch.zeros(1, dtype=torch.float64), betas])


def cosine_schedule(T, s=0.008, max_beta=0.999):
    """Nichol & Dhariwal (2021): abar_t = f(t)/f(0), f(t) = cos^2((t/T + s)/(1 + s) * pi/2),
    beta_t = 1 - abar_t / abar_{t-1}, clipped at max_beta; returns beta_0..beta_T."""
    t = torch.arange(T + 1, dtype=torch.float64)
    f = torch.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
    abar = f / f[0]
    betas = (1 - abar[1:] / abar[:-1]).clamp(max=max_beta)
    return torch.cat([torch.zeros(1, dtype=torch.float64), betas])


def alpha_bars(betas):
    """abar_t = prod_{s <= t} (1 - beta_s), for t = 0..T."""
    return torch.cumprod(1 - betas, dim=0)


def snr(betas):
    """Signal-to-noise ratio abar_t / (1 - abar_t), for t = 1..T."""
    abar = alpha_bars(betas)[1:]
    return abar / (1 - abar)


# %% The forward process and the posterior
def q_sample(x0, t, betas, eps):
    """Draw x_t ~ q(x_t | x_0) in one step: sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps."""
    abar = alpha_bars(betas).to(x0.dtype)[t].reshape(-1, *[1] * (x0.dim() - 1))
    return abar.sqrt() * x0 + (1 - abar).sqrt() * eps


def posterior_mean_var(x_t, x0, t, betas):
    """Mean and variance of q(x_{t-1} | x_t, x_0) (Ho et al., 2020, eqs. 6-7)."""
    abar = alpha_bars(betas)
    beta, a, ab, ab_prev = betas[t], 1 - betas[t], abar[t], abar[t - 1]
    mean = ab_prev.sqrt() * beta / (1 - ab) * x0 + a.sqrt() * (1 - ab_prev) / (1 - ab) * x_t
    var = (1 - ab_prev) / (1 - ab) * beta
    return mean, var


# %% The noise-prediction network, training and ancestral sampling
class EpsMLP(torch.nn.Module):
    """eps_theta(x, t): an MLP on x and a sinusoidal embedding of t/T."""

    def __init__(self, T, dim=2, hidden=64, n_freq=2):
        super().__init__()
        self.T = T
        self.register_buffer("freqs", 2.0 ** torch.arange(n_freq) * math.pi / 2)
        self.net = torch.nn.Sequential(
            torch.nn.Linear(dim + 2 * n_freq, hidden), torch.nn.ReLU(),
            torch.nn.Linear(hidden, hidden), torch.nn.ReLU(),
            torch.nn.Linear(hidden, dim))

    def forward(self, x, t):
        angles = (t.to(x.dtype) / self.T)[:, None] * self.freqs  # time embedding
        return self.net(torch.cat([x, angles.sin(), angles.cos()], dim=1))


# --8<-- [start:train]
def train(model, data, betas, steps=1000, batch_size=256, lr=1e-2, seed=0):
    """Ho et al.'s simplified loss E || eps - eps_theta(sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, t) ||^2."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    T, losses = len(betas) - 1, []
    for _ in range(steps):
        x0 = data[torch.randint(len(data), (batch_size,), generator=gen)]
        t = torch.randint(1, T + 1, (batch_size,), generator=gen)  # t ~ Uniform{1, ..., T}
        eps = torch.randn(x0.shape, generator=gen)  # eps ~ N(0, I)
        loss = ((eps - model(q_sample(x0, t, betas, eps), t)) ** 2).sum(1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses
# --8<-- [end:train]


# --8<-- [start:sample]
@torch.no_grad()
def sample(eps_model, x_T, betas, sigma="beta", keep=(), seed=0):
    """Ancestral sampling (Ho et al., 2020, Algorithm 2) from x_T, with sigma_t^2 = beta_t or
    beta_tilde_t ("beta_tilde"). Returns x_0 and {t: x_t} for the steps t in keep."""
    gen = torch.Generator().manual_seed(seed)
    abar = alpha_bars(betas)
    x, T, kept = x_T, len(betas) - 1, {}
    for t in range(T, 0, -1):
        if t in keep:
            kept[t] = x.clone()
        beta, ab, ab_prev = betas[t].item(), abar[t].item(), abar[t - 1].item()
        eps = eps_model(x, torch.full((len(x),), t))  # one network evaluation per step
        mean = (x - beta / math.sqrt(1 - ab) * eps) / math.sqrt(1 - beta)
        var = beta if sigma == "beta" else (1 - ab_prev) / (1 - ab) * beta
        z = torch.randn(x.shape, generator=gen, dtype=x.dtype) if t > 1 else torch.zeros_like(x)
        x = mean + math.sqrt(var) * z
    kept[0] = x
    return x, kept
# --8<-- [end:sample]


# %% Data, a distance between point sets, and the experiment
def moons(n, seed):
    """Two moons (scikit-learn), shifted and scaled to about zero mean and unit variance per coordinate."""
    x, _ = make_moons(n_samples=n, noise=0.05, random_state=seed)
    return torch.tensor((x - np.array([0.5, 0.25])) / np.array([0.87, 0.5]), dtype=torch.float32)


def chamfer(a, b):
    """Symmetric Chamfer distance: the mean distance from a point to its nearest neighbor in the
    other set, averaged over both directions."""
    d = torch.cdist(a.double(), b.double())
    return (d.min(1).values.mean() + d.min(0).values.mean()).item() / 2


def diffusion_experiment(T=T_MODEL, n_samples=1000, steps=1000):
    """Train eps_theta on 2000 points, draw n_samples from noise, and compare with held-out points."""
    torch.manual_seed(0)
    data, held_out = moons(2000, seed=0), moons(n_samples, seed=1)
    betas = cosine_schedule(T)
    model = EpsMLP(T)
    losses = train(model, data, betas, steps=steps)
    x_T = torch.randn(n_samples, 2, generator=torch.Generator().manual_seed(1))
    x0, kept = sample(model, x_T, betas, keep=(T, 40, 30, 20, 10, 5))
    distances = {"generated": chamfer(x0, held_out), "noise": chamfer(x_T, held_out),
                 "real": chamfer(moons(n_samples, seed=2), held_out)}
    return dict(data=data, held_out=held_out, betas=betas, losses=losses, kept=kept, distances=distances)


def schedule_numbers(T=1000):
    """abar_t at t = T/2 and t = T, the first t with abar_t < 0.01, and the number of steps with
    SNR < 0.01, for the linear and cosine schedules."""
    out = {}
    for name, betas in [("linear", linear_schedule(T)), ("cosine", cosine_schedule(T))]:
        abar = alpha_bars(betas)
        out[name] = {"abar_half": abar[T // 2].item(), "abar_T": abar[T].item(),
                     "first_below_0.01": int((abar < 0.01).nonzero()[0]),
                     "steps_snr_below_0.01": int((snr(betas) < 0.01).sum())}
    return out


# %% Figure 1: the forward process q(x_t | x_0) on two moons
betas = cosine_schedule(T_MODEL)
abar = alpha_bars(betas)
x_data = moons(1000, seed=0)
eps = torch.randn(x_data.shape, generator=torch.Generator().manual_seed(2))
fig, axes = plt.subplots(1, 6, figsize=(12, 2.4), sharex=True, sharey=True, dpi=72)  # dpi: the rasterized points only
for ax, t in zip(axes, [0, 5, 10, 20, 35, 50]):
    x_t = q_sample(x_data, torch.full((len(x_data),), t), betas, eps)  # x_t from x_0 in one step
    ax.scatter(x_t[:, 0], x_t[:, 1], s=2, marker="o", rasterized=True)
    value = abar[t].item()
    ax.set_title(rf"$t = {t}$, $\bar\alpha_t = {value:.2f}$" if value >= 0.01 else
                 rf"$t = {t}$, $\bar\alpha_t \approx 10^{{{round(math.log10(value))}}}$", fontsize=9)
    ax.set(xlim=(-3.5, 3.5), ylim=(-3.5, 3.5), aspect="equal")
    ax.set_xticks([-2, 0, 2])
fig.suptitle("Forward process: data to noise (T = 50, cosine schedule)", fontsize=10)
fig.tight_layout()

# %% Figure 2: linear vs cosine schedule, abar_t and the signal-to-noise ratio
T = 1000
fig, (ax_ab, ax_snr) = plt.subplots(1, 2, figsize=(9, 3.2))
for name, sched, style in [("linear (Ho et al.)", linear_schedule(T), dict(ls="-")),
                           ("cosine (Nichol & Dhariwal)", cosine_schedule(T), dict(ls="--"))]:
    t = np.arange(1, T + 1) / T
    ax_ab.plot(t, alpha_bars(sched)[1:].numpy(), label=name, **style)
    ax_snr.semilogy(t, snr(sched).numpy(), label=name, **style)
ax_ab.set(xlabel="$t / T$", ylabel=r"$\bar\alpha_t$", title=r"Signal kept, $\bar\alpha_t$")
ax_snr.set(xlabel="$t / T$", ylabel="SNR (log scale)", ylim=(1e-6, 1e5), title=r"SNR $= \bar\alpha_t / (1 - \bar\alpha_t)$")
ax_ab.legend(fontsize=8)
fig.tight_layout()
numbers = schedule_numbers(T)
for name, nums in numbers.items():
    print(f"{name}: abar at T/2 = {nums['abar_half']:.3f}, abar_T = {nums['abar_T']:.1e}, "
          f"abar_t < 0.01 from t = {nums['first_below_0.01']}, {nums['steps_snr_below_0.01']} steps with SNR < 0.01")

# %% Figure 3: train eps_theta, then sample from noise step by step
result = diffusion_experiment()
kept, distances = result["kept"], result["distances"]
fig, axes = plt.subplots(1, 8, figsize=(14, 2.3), sharex=True, sharey=True, dpi=72)
for ax, t in zip(axes, [50, 40, 30, 20, 10, 5, 0]):
    ax.scatter(kept[t][:, 0], kept[t][:, 1], s=2, marker="o", rasterized=True)
    ax.set_title(rf"$t = {t}$", fontsize=9)
held_out = result["held_out"]
axes[-1].scatter(held_out[:, 0], held_out[:, 1], s=8, marker="+", lw=0.6, rasterized=True)
axes[-1].set_title("real (held out)", fontsize=9)
for ax in axes:
    ax.set(xlim=(-3.5, 3.5), ylim=(-3.5, 3.5), aspect="equal")
    ax.set_xticks([-2, 0, 2])
fig.suptitle("Reverse process: ancestral sampling from noise (50 network evaluations per sample)", fontsize=10)
fig.tight_layout()
print("Chamfer distance to held-out data: generated {generated:.3f}, pure noise {noise:.3f}, "
      "a second real sample {real:.3f}".format(**distances))
print(f"loss: first 50 steps {np.mean(result['losses'][:50]):.2f}, last 100 steps {np.mean(result['losses'][-100:]):.2f}")

plt.show()
