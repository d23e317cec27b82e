"""Batch normalization: the transform from its formulas, and what it does to training.

1. A batch-normalization layer written from the formulas (batch statistics in training,
   running statistics in evaluation), checked against torch.nn.BatchNorm1d.
2. A small sigmoid MLP trained with and without batch normalization: how the
   distribution of the inputs to a few sigmoids of the last hidden layer changes during
   training (15th, 50th and 85th percentiles over the mini-batch, as in Ioffe & Szegedy's
   Figure 1).
3. A deeper ReLU MLP trained with plain SGD at a moderate and at a high learning rate,
   with and without batch normalization.

All data are synthetic: a random "teacher" network labels Gaussian inputs into 5 classes.
The numbers the page states about the figures are printed at the end of each cell.
"""

# %% Imports and seeds
import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

torch.manual_seed(0)
rng = np.random.default_rng(0)  # unused here (all randomness is torch), seeded by convention
torch.set_num_threads(1)  # the tensors are tiny: extra threads only add overhead
# Okabe-Ito colors, distinguishable with the common color-vision deficiencies
BLUE, ORANGE, GREEN, VERMILLION = "#0072B2", "#E69F00", "#009E73", "#D55E00"

# %% Batch normalization from the formulas
# --8<-- [start:bn_layer]
class BatchNorm(nn.Module):
    """Batch normalization over dim 0 of a (B, C) input, following the page's formulas."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.gamma = nn.Parameter(torch.ones(num_features))  # learnable scale
        self.beta = nn.Parameter(torch.zeros(num_features))  # learnable shift
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x):
        if self.training:
            m = x.shape[0]
            mu = x.mean(dim=0)  # mu_B
            var = ((x - mu) ** 2).mean(dim=0)  # sigma_B^2, biased: divide by m
            with torch.no_grad():  # running <- (1 - momentum) * running + momentum * batch statistic
                self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mu)
                self.running_var.mul_(1 - self.momentum).add_(self.momentum * var * m / (m - 1))
        else:
            mu, var = self.running_mean, self.running_var  # evaluation: no batch statistics
        x_hat = (x - mu) / torch.sqrt(var + self.eps)
        return self.gamma * x_hat + self.beta
# --8<-- [end:bn_layer]

# %% Check the layer against torch.nn.BatchNorm1d (training and evaluation mode)
ours, ref = BatchNorm(3), nn.BatchNorm1d(3)
with torch.no_grad():
    for p in (ours.gamma, ref.weight):
        p.copy_(torch.tensor([0.5, 2.0, -1.0]))
    for p in (ours.beta, ref.bias):
        p.copy_(torch.tensor([1.0, 0.0, -3.0]))
for _ in range(5):
    x = 4 * torch.randn(16, 3) + 2
    torch.testing.assert_close(ours(x), ref(x))
ours.eval(), ref.eval()
x = torch.randn(4, 3)
torch.testing.assert_close(ours(x), ref(x))
torch.testing.assert_close(ours.running_var, ref.running_var)

# %% Data, models and training
n_samples, n_in, n_classes = 4096, 20, 5


def make_data(seed=0):
    """Gaussian inputs, labeled by a random teacher network (20 -> 32 tanh -> 5 classes)."""
    torch.manual_seed(seed)
    X = torch.randn(n_samples, n_in)
    teacher = nn.Sequential(nn.Linear(n_in, 32), nn.Tanh(), nn.Linear(32, n_classes))
    with torch.no_grad():
        y = (3 * teacher(X)).argmax(dim=1)
    return X, y


def class_entropy(y):
    """Cross-entropy of the best constant prediction (the class frequencies), in nats."""
    p = torch.bincount(y, minlength=n_classes).float() / len(y)
    return float(-(p * torch.log(p)).sum())


def mlp(width, depth, activation, batch_norm):
    """depth x [Linear -> (BatchNorm) -> activation], then a linear read-out.

    With batch normalization the linear layers have no bias: beta takes its place.
    Training uses torch.nn.BatchNorm1d, which computes exactly what BatchNorm above
    computes (checked in the previous cell) but in one fused kernel, so it is faster.
    """
    layers, d = [], n_in
    for _ in range(depth):
        layers.append(nn.Linear(d, width, bias=not batch_norm))
        if batch_norm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(activation())
        d = width
    layers.append(nn.Linear(d, n_classes))
    return nn.Sequential(*layers)


def train(net, X, y, lr, steps, batch_size=64, record_every=0, seed=1):
    """Plain SGD on cross-entropy. Optionally records the 15/50/85th percentiles (over the
    mini-batch) of the inputs to the first 3 units of the last activation layer."""
    torch.manual_seed(seed)
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    last_act = [m for m in net if not isinstance(m, (nn.Linear, nn.BatchNorm1d))][-1]
    seen = {}
    last_act.register_forward_hook(lambda mod, inp, out: seen.update(z=inp[0].detach()))
    probs = torch.tensor([0.15, 0.50, 0.85])
    losses, percentiles = [], []
    for t in range(steps):
        idx = torch.randint(0, len(X), (batch_size,))
        loss = nn.functional.cross_entropy(net(X[idx]), y[idx])
        if record_every and t % record_every == 0:
            percentiles.append(torch.quantile(seen["z"][:, :3], probs, dim=0).numpy())
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return np.array(losses), np.array(percentiles)  # percentiles: (records, 3 probs, 3 units)


def sigmoid_run(X, y, batch_norm, steps=300, every=5):
    """Figure 1: 3 sigmoid layers of 100 units, SGD with learning rate 0.5, batches of 128.
    Returns the losses, the recorded percentiles and, with batch norm, the final gamma and
    beta of the first 3 units of the last hidden layer."""
    torch.manual_seed(2)
    net = mlp(width=100, depth=3, activation=nn.Sigmoid, batch_norm=batch_norm)
    losses, q = train(net, X, y, lr=0.5, steps=steps, batch_size=128, record_every=every)
    bns = [m for m in net if isinstance(m, nn.BatchNorm1d)]
    gamma_beta = (bns[-1].weight[:3].detach().numpy(), bns[-1].bias[:3].detach().numpy()) if bns else None
    return losses, q, gamma_beta


def dead_units(net, X):
    """Number of ReLUs in the last hidden layer that output 0 for every training input."""
    net.eval()
    with torch.no_grad():
        h = net[:-1](X)  # everything but the read-out layer
    net.train()
    return int((h.amax(dim=0) == 0).sum())


def relu_run(X, y, lr, batch_norm, steps=200):
    """Figure 2: 4 ReLU layers of 64 units, SGD, batches of 64. Returns the losses and the
    number of dead ReLUs in the last hidden layer after training."""
    torch.manual_seed(3)
    net = mlp(width=64, depth=4, activation=nn.ReLU, batch_norm=batch_norm)
    losses, _ = train(net, X, y, lr=lr, steps=steps)
    return losses, dead_units(net, X)


def smooth(v, k=10):
    """k-step running mean; entry t is the mean of steps t, ..., t + k - 1."""
    return np.convolve(v, np.ones(k) / k, mode="valid")


def steps_to(losses, level, k=10):
    """First step after which the k-step running mean of the loss is below level (None if never)."""
    below = np.flatnonzero(smooth(losses, k) < level)
    return int(below[0]) + k if len(below) else None


X, y = make_data()

# %% Figure 1: distribution of the inputs to sigmoids of the last hidden layer
steps, every = 300, 5
unit_styles = [(BLUE, "-"), (ORANGE, "--"), (GREEN, ":")]
fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
for ax, batch_norm in zip(axes, [False, True]):
    losses, q, gamma_beta = sigmoid_run(X, y, batch_norm, steps=steps, every=every)
    t = np.arange(len(q)) * every
    for unit, (color, ls) in enumerate(unit_styles):
        ax.fill_between(t, q[:, 0, unit], q[:, 2, unit], color=color, alpha=0.2, lw=0)
        ax.plot(t, q[:, 1, unit], color=color, ls=ls, lw=1.5, label=f"unit {unit + 1}")
    name = "with batch norm" if batch_norm else "without batch norm"
    ax.set(xlabel="training step", title=f"{name} (final loss {losses[-50:].mean():.2f})")
    print(f"Figure 1, {name}: loss {losses[:10].mean():.2f} (first 10 steps) -> "
          f"{losses[-50:].mean():.2f} (last 50 steps); "
          f"median input at the end {np.round(q[-1, 1], 2)}; "
          f"15-85 band width (mean) {np.round((q[:, 2] - q[:, 0]).mean(0), 3)}")
    if gamma_beta:
        print(f"  gamma {np.round(gamma_beta[0], 3)}, beta {np.round(gamma_beta[1], 3)}")
axes[0].set_ylabel("input to sigmoid")
axes[0].legend(fontsize=8, loc="lower left")
fig.tight_layout()

# %% Figure 2: training loss of a deeper ReLU MLP at a moderate and at a high learning rate
steps = 200
fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), sharey=True)
for ax, lr in zip(axes, [0.5, 2.0]):
    for batch_norm, color, ls in [(False, VERMILLION, "--"), (True, BLUE, "-")]:
        losses, dead = relu_run(X, y, lr, batch_norm, steps=steps)
        name = "with batch norm" if batch_norm else "without batch norm"
        ax.plot(np.arange(len(smooth(losses))) + 10, smooth(losses), color=color, ls=ls,
                label=f"{name} ({dead}/64 dead)")
        print(f"Figure 2, lr {lr}, {name}: smoothed loss below 0.8 after {steps_to(losses, 0.8)} steps; "
              f"last 50 steps {losses[-50:].mean():.3f}; {dead}/64 dead ReLUs")
    ax.set(xlabel="training step", title=rf"SGD, $\eta = {lr}$", ylim=(0, 2.2))
    ax.legend(fontsize=8, title="(dead ReLUs in the last hidden layer)", title_fontsize=8)
axes[0].set_ylabel("training loss (10-step mean)")
fig.tight_layout()
print(f"Entropy of the class frequencies (loss of the best constant prediction): {class_entropy(y):.3f}")

plt.show()
