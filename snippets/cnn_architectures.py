"""CNN architectures: LeNet-5, AlexNet, VGG-16, GoogLeNet and ResNet in a few lines of PyTorch.

1. The networks defined from their papers' tables, without torchvision, and their parameter
   counts computed by code (VGG-16: 138,357,544 and ResNet-18: 11,689,512, the counts
   torchvision publishes). The large networks are built on PyTorch's "meta" device: shapes
   only, no memory and no random initialization, so counting them takes milliseconds.
2. Diagrams of a residual block and of GoogLeNet's Inception module (3a).
3. The degradation problem in miniature: a plain 20-layer CNN, the same network with
   residual shortcuts, and a plain 4-layer CNN, trained on scikit-learn's 8x8 digits with
   the same seed, the same mini-batches and the same learning rate.
4. Parameter counts per architecture, split into convolutional and fully connected layers.

The numbers the page states about the figures are computed here and printed.
"""

# %% Imports and seeds
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.patches import FancyArrowPatch
from sklearn.datasets import load_digits
from torch import nn

torch.manual_seed(0)
rng = np.random.default_rng(0)  # unused here (all randomness is torch), seeded by convention
torch.set_num_threads(1)  # the tensors are tiny: extra threads only add overhead
plt.style.use("tableau-colorblind10")  # colors safe for color-vision deficiency; styles differ too


def count_parameters(model):
    """The number of learned parameters (BN's gamma and beta count; its running statistics do not)."""
    return sum(p.numel() for p in model.parameters())


# %% LeNet-5, AlexNet and VGG-16
# --8<-- [start:classic]
def lenet5(num_classes=10):
    """LeNet-5 as it is usually written today (full C3 connections, max pooling, ReLU), 1x32x32 input."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),  # C1, S2: 6x28x28 -> 6x14x14
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),  # C3, S4: 16x10x10 -> 16x5x5
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(),  # C5 (a 5x5 convolution on a 5x5 map)
        nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, num_classes))  # F6 and the output layer


def alexnet(num_classes=1000):
    """AlexNet as in its paper: each GPU holds half of the filters, written here as groups=2."""
    def lrn():  # the paper's k = 2, n = 5, alpha = 1e-4, beta = 0.75 (PyTorch divides alpha by n)
        return nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)
    return nn.Sequential(  # 3x227x227 input (the paper's "224" does not give its 55x55 maps)
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),  # overlapping pooling
        nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),  # layer 3 reads the maps of both GPUs
        nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1, groups=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Flatten(), nn.Dropout(0.5), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(),
        nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, num_classes))


VGG16 = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


def vgg(config=VGG16, num_classes=1000):
    """VGG (configuration D = VGG-16 by default): 3x3 convolutions with padding 1, 2x2 max pooling."""
    layers, c_in = [], 3
    for v in config:
        if v == "M":
            layers.append(nn.MaxPool2d(2))  # halves the height and width
        else:
            layers += [nn.Conv2d(c_in, v, 3, padding=1), nn.ReLU()]
            c_in = v
    return nn.Sequential(*layers, nn.Flatten(),  # 512x7x7 for a 224x224 input
                         nn.Linear(512 * 7 * 7, 4096), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, num_classes))
# --8<-- [end:classic]


# %% GoogLeNet's Inception module
# --8<-- [start:inception]
def conv_relu(c_in, c_out, k, stride=1):
    return nn.Sequential(nn.Conv2d(c_in, c_out, k, stride, padding=k // 2), nn.ReLU())


class Inception(nn.Module):
    """Four parallel branches whose outputs are concatenated along the channels (Szegedy et al., Fig. 2b)."""

    def __init__(self, c_in, c1, c3_reduce, c3, c5_reduce, c5, pool_proj):
        super().__init__()
        self.branch1 = conv_relu(c_in, c1, 1)
        self.branch3 = nn.Sequential(conv_relu(c_in, c3_reduce, 1), conv_relu(c3_reduce, c3, 3))  # 1x1 reduces first
        self.branch5 = nn.Sequential(conv_relu(c_in, c5_reduce, 1), conv_relu(c5_reduce, c5, 5))
        self.branch_pool = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), conv_relu(c_in, pool_proj, 1))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch3(x), self.branch5(x), self.branch_pool(x)], dim=1)


# (c_in, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj) of inception (3a) ... (5b), Table 1
GOOGLENET = [(192, 64, 96, 128, 16, 32, 32), (256, 128, 128, 192, 32, 96, 64), "M",
             (480, 192, 96, 208, 16, 48, 64), (512, 160, 112, 224, 24, 64, 64), (512, 128, 128, 256, 24, 64, 64),
             (512, 112, 144, 288, 32, 64, 64), (528, 256, 160, 320, 32, 128, 128), "M",
             (832, 256, 160, 320, 32, 128, 128), (832, 384, 192, 384, 48, 128, 128)]


def googlenet(num_classes=1000):
    """GoogLeNet without its two auxiliary classifiers (used only in training) and its LRN layers (no parameters)."""
    layers = [conv_relu(3, 64, 7, stride=2), nn.MaxPool2d(3, 2, ceil_mode=True),
              conv_relu(64, 64, 1), conv_relu(64, 192, 3), nn.MaxPool2d(3, 2, ceil_mode=True)]
    layers += [nn.MaxPool2d(3, 2, ceil_mode=True) if v == "M" else Inception(*v) for v in GOOGLENET]
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(),  # global average pooling
                         nn.Dropout(0.4), nn.Linear(1024, num_classes))
# --8<-- [end:inception]


# %% ResNet: the residual block, the bottleneck block and the network
# --8<-- [start:resnet]
class BasicBlock(nn.Module):
    """Two 3x3 convolutions with BN; the input is added before the last ReLU (He et al., 2016, Fig. 2)."""
    expansion = 1

    def __init__(self, c_in, c, stride=1, shortcut=True):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c, 3, stride, padding=1, bias=False)  # no bias: BN's beta replaces it
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, 1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.use_shortcut = shortcut  # False: the "plain" network, same layers, no addition
        self.shortcut = nn.Identity()
        if shortcut and (stride != 1 or c_in != c):  # option B: a 1x1 projection where the shape changes
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c, 1, stride, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))  # F(x)
        if self.use_shortcut:
            out = out + self.shortcut(x)  # F(x) + x
        return F.relu(out)


class Bottleneck(nn.Module):
    """1x1 reduces the channels, 3x3 works on the narrow map, 1x1 restores 4x the channels (Fig. 5)."""
    expansion = 4

    def __init__(self, c_in, c, stride=1):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(c_in, c, 1, bias=False), nn.BatchNorm2d(c)
        self.conv2, self.bn2 = nn.Conv2d(c, c, 3, stride, padding=1, bias=False), nn.BatchNorm2d(c)
        self.conv3, self.bn3 = nn.Conv2d(c, 4 * c, 1, bias=False), nn.BatchNorm2d(4 * c)
        self.shortcut = nn.Identity()
        if stride != 1 or c_in != 4 * c:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, 4 * c, 1, stride, bias=False), nn.BatchNorm2d(4 * c))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        return F.relu(self.bn3(self.conv3(out)) + self.shortcut(x))


def resnet(block, blocks_per_stage, num_classes=1000):
    """ResNet-18 = resnet(BasicBlock, [2, 2, 2, 2]), -34 = [3, 4, 6, 3], -50 = (Bottleneck, [3, 4, 6, 3])."""
    layers = [nn.Conv2d(3, 64, 7, 2, padding=3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    c_in = 64
    for stage, n_blocks in enumerate(blocks_per_stage):
        c = 64 * 2**stage  # 64, 128, 256, 512: double the channels when the map is halved
        for i in range(n_blocks):
            layers.append(block(c_in, c, stride=2 if stage > 0 and i == 0 else 1))
            c_in = c * block.expansion
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, num_classes))
# --8<-- [end:resnet]


# %% Parameter counts, computed by code
def architectures():
    """name -> (constructor, weight layers); the large ones are built on the meta device (shapes only)."""
    return {"LeNet-5": (lenet5, 5), "AlexNet": (alexnet, 8), "VGG-16": (vgg, 16), "GoogLeNet": (googlenet, 22),
            "ResNet-18": (lambda: resnet(BasicBlock, [2, 2, 2, 2]), 18),
            "ResNet-34": (lambda: resnet(BasicBlock, [3, 4, 6, 3]), 34),
            "ResNet-50": (lambda: resnet(Bottleneck, [3, 4, 6, 3]), 50),
            "ResNet-152": (lambda: resnet(Bottleneck, [3, 8, 36, 3]), 152)}


def parameter_table():
    """name -> (total, parameters in fully connected layers)."""
    table = {}
    for name, (build, _) in architectures().items():
        with torch.device("meta"):
            model = build()
        fc = sum(p.numel() for m in model.modules() if isinstance(m, nn.Linear) for p in m.parameters())
        table[name] = (count_parameters(model), fc)
    return table


counts = parameter_table()
for name, (total, fc) in counts.items():
    print(f"{name:>10}: {total:>11,} parameters, {fc / total:6.1%} in fully connected layers")
assert counts["VGG-16"][0] == 138_357_544 and counts["ResNet-18"][0] == 11_689_512  # torchvision's counts

# %% Figure 1: a residual block and an Inception module
def box(ax, x, y, text, w=2.6, h=0.55, ls="-"):
    ax.add_patch(plt.Rectangle((x - w / 2, y - h / 2), w, h, fill=False, lw=1.2, ls=ls))
    ax.text(x, y, text, ha="center", va="center", fontsize=8.5)


def arrow(ax, start, end, **kwargs):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, lw=1.1, **kwargs))


fig, (ax_res, ax_inc) = plt.subplots(1, 2, figsize=(9, 4.2), gridspec_kw={"width_ratios": [1, 1.7]})
# residual block, bottom to top
ys = [0.3, 1.3, 2.3, 3.3, 4.2, 5.1]
ax_res.text(0, ys[0], r"$\mathbf{x}$", ha="center", va="center", fontsize=11)
box(ax_res, 0, ys[1], "3×3 conv, BN, ReLU")
box(ax_res, 0, ys[2], "3×3 conv, BN")
ax_res.add_patch(plt.Circle((0, ys[3]), 0.22, fill=False, lw=1.2))
ax_res.text(0, ys[3], "+", ha="center", va="center", fontsize=12)
box(ax_res, 0, ys[4], "ReLU", w=1.2)
ax_res.text(0, ys[5], r"$\mathrm{ReLU}(\mathcal{F}(\mathbf{x}) + \mathbf{x})$", ha="center", va="center", fontsize=10)
for a, b in [(ys[0] + 0.2, ys[1] - 0.28), (ys[1] + 0.28, ys[2] - 0.28), (ys[2] + 0.28, ys[3] - 0.22),
             (ys[3] + 0.22, ys[4] - 0.28), (ys[4] + 0.28, ys[5] - 0.25)]:
    arrow(ax_res, (0, a), (0, b))
ax_res.plot([0.2, 1.7, 1.7], [ys[0], ys[0], ys[3]], color="black", lw=1.1, ls="--")  # the shortcut goes around
arrow(ax_res, (1.7, ys[3]), (0.22, ys[3]), ls="--")
ax_res.text(1.85, 1.8, "identity\nshortcut", ha="left", va="center", fontsize=8.5)
ax_res.text(-1.45, 1.8, r"$\mathcal{F}(\mathbf{x})$", ha="right", va="center", fontsize=10)
ax_res.set(xlim=(-2.6, 3.1), ylim=(-0.1, 5.5), title="Residual block (ResNet-18/34)")
# Inception module (3a): 192 channels in, 64 + 128 + 32 + 32 = 256 out
xs = [-3.9, -1.3, 1.3, 3.9]
ax_inc.text(0, 0.3, "previous layer: 192 channels, 28×28", ha="center", va="center", fontsize=9)
first = ["1×1 conv, 64", "1×1 conv, 96", "1×1 conv, 16", "3×3 max pool"]
second = [None, "3×3 conv, 128", "5×5 conv, 32", "1×1 conv, 32"]
for x, a, b in zip(xs, first, second):
    arrow(ax_inc, (0.4 * x, 0.5), (x, 1.02))
    box(ax_inc, x, 1.3, a, w=2.3, ls="--" if b is not None and "max" not in a else "-")  # dashed: reductions
    top = 1.58
    if b is not None:
        arrow(ax_inc, (x, 1.58), (x, 2.12))
        box(ax_inc, x, 2.4, b, w=2.3)
        top = 2.68
    arrow(ax_inc, (x, top), (0.5 * x, 3.32))
box(ax_inc, 0, 3.6, "concatenate along channels: 256", w=5.0)
ax_inc.text(0, 4.45, "dashed boxes: 1×1 reductions before the\nexpensive 3×3 and 5×5 convolutions", ha="center",
            va="center", fontsize=8.5)
ax_inc.set(xlim=(-5.3, 5.3), ylim=(-0.1, 5.5), title="Inception module (3a) of GoogLeNet")
for ax in (ax_res, ax_inc):
    ax.set_aspect("equal")
    ax.axis("off")
fig.tight_layout()

# %% The degradation problem in miniature: plain vs residual, 20 weight layers, on 8x8 digits
def small_cnn(n_blocks, shortcut, width=8, num_classes=10):
    """Stem conv, 2x2 average pooling to 4x4, n_blocks blocks of two 3x3 convs, global pooling, linear.

    Weight layers: 1 + 2 * n_blocks + 1 (n_blocks = 9 gives 20). With shortcut=False the same
    layers are stacked without the additions: the plain network of He et al.
    """
    torch.manual_seed(0)  # the same initial weights for the plain and the residual network
    return nn.Sequential(nn.Conv2d(1, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
                         nn.AvgPool2d(2), *[BasicBlock(width, width, shortcut=shortcut) for _ in range(n_blocks)],
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, num_classes))


def train_losses(model, steps=40, batch_size=32, lr=0.1):
    """SGD with momentum 0.9 on the 1,797 digits; the same mini-batches for every model (seeded)."""
    digits = load_digits()
    X = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0  # (1797, 1, 8, 8) in [0, 1]
    y = torch.tensor(digits.target)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    batches = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(steps):
        idx = torch.randint(0, len(X), (batch_size,), generator=batches)
        loss = F.cross_entropy(model(X[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return np.array(losses)


def degradation_experiment():
    """Training losses of a plain 20-layer, a residual 20-layer and a plain 4-layer CNN."""
    runs = {"plain, 20 layers": (9, False), "residual, 20 layers": (9, True), "plain, 4 layers": (1, False)}
    return {label: train_losses(small_cnn(n, shortcut)) for label, (n, shortcut) in runs.items()}


losses = degradation_experiment()
final = {label: loss[-10:].mean() for label, loss in losses.items()}  # mean over the last 10 steps
for label, value in final.items():
    print(f"{label}: training loss {value:.2f} (mean of the last 10 mini-batches)")
print("parameters:", {n: count_parameters(small_cnn(*a)) for n, a in [("20", (9, True)), ("4", (1, False))]})

# %% Figure 2: training loss, plain vs residual
styles = {"plain, 20 layers": dict(ls="--"), "residual, 20 layers": dict(ls="-"),
          "plain, 4 layers": dict(ls=":", marker="o", ms=3, markevery=4)}
fig, ax = plt.subplots(figsize=(6.5, 3.6))
window = 5
for label, loss in losses.items():
    smooth = np.convolve(loss, np.ones(window) / window, mode="valid")  # running mean of 5 mini-batches
    ax.plot(np.arange(window, len(loss) + 1), smooth, label=f"{label} (last 10 steps: {final[label]:.2f})",
            **styles[label])
ax.set(xlabel="SGD step", ylabel="training loss (5-step running mean)",
       title="8×8 digits: the plain 20-layer CNN trains worst")
ax.legend(frameon=False)
fig.tight_layout()

# %% Figure 3: where the parameters are
names = list(counts)
total = np.array([counts[n][0] for n in names]) / 1e6
fc = np.array([counts[n][1] for n in names]) / 1e6
fig, ax = plt.subplots(figsize=(8, 3.8))
y = np.arange(len(names))[::-1]
ax.barh(y, total - fc, hatch="///", fill=False, edgecolor="C0", label="convolutional layers (and BN)")
ax.barh(y, fc, left=total - fc, hatch="...", fill=False, edgecolor="C1", label="fully connected layers")
for yi, t, f in zip(y, total, fc):
    ax.text(t + 1.5, yi, f"{t:.2f} M ({f / t:.0%} FC)" if t < 1 else f"{t:.1f} M ({f / t:.0%} FC)",
            va="center", fontsize=8.5)
ax.set(yticks=y, yticklabels=names, xlabel="parameters (millions), counted by code", xlim=(0, 175))
ax.legend(loc="lower right", frameon=False)
fig.tight_layout()
plt.show()
