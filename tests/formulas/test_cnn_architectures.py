"""Formula tests for docs/*/cnn/cnn-architectures.md.

The page's parameter-count formulas (a convolution has c_out (c_in / groups) k^2 weights plus
c_out biases, a linear layer out (in + 1), batch normalization 2C) are written out here layer by
layer for LeNet-5, AlexNet, VGG-16, GoogLeNet and ResNet-18/34/50/152 and compared with
sum(p.numel()) of the modules the snippet defines, and with the counts torchvision publishes
(VGG-16 138,357,544, ResNet-18 11,689,512, ...; torchvision itself is not a dependency). The
residual block is written again with plain tensor operations (F.conv2d, the batch-normalization
formula with running statistics, ReLU) and compared with the snippet's BasicBlock and Bottleneck;
the receptive field of stacked 3x3 convolutions is measured from autograd; the Inception module's
output channels and parameters, the gradient through identity shortcuts and the redundancy of a
convolution's bias before BN are checked; the numbers the page states about its figures are
asserted. The mutation tests at the end run wrong formulas through the same comparisons.
"""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from snippet_code import snippet_function

DTYPE = torch.float64
SNIPPET = snippet_function(
    "cnn_architectures", "lenet5", "alexnet", "vgg", "googlenet", "resnet", "BasicBlock", "Bottleneck",
    "Inception", "count_parameters", "parameter_table", "small_cnn", "degradation_experiment", "VGG16",
    "GOOGLENET")
BasicBlock, Bottleneck, Inception = SNIPPET["BasicBlock"], SNIPPET["Bottleneck"], SNIPPET["Inception"]
count_parameters, resnet = SNIPPET["count_parameters"], SNIPPET["resnet"]

# Parameter counts torchvision publishes for its models (torchvision.models documentation, "Params")
TORCHVISION = {"VGG-16": 138_357_544, "ResNet-18": 11_689_512, "ResNet-34": 21_797_672,
               "ResNet-50": 25_557_032, "ResNet-152": 60_192_808}


# ---------------------------------------------------------------------------
# The page's parameter formulas, layer by layer
# ---------------------------------------------------------------------------
def conv_params(c_in, c_out, k, bias=True, groups=1):
    """Page formula: c_out * (c_in / groups) * k * k weights, plus c_out biases."""
    return c_out * (c_in // groups) * k * k + (c_out if bias else 0)


def linear_params(n_in, n_out, bias=True):
    return n_out * n_in + (n_out if bias else 0)


def bn_params(c):
    return 2 * c  # gamma and beta; the running mean and variance are buffers, not parameters


def lenet5_formula(conv=conv_params, linear=linear_params):
    return conv(1, 6, 5) + conv(6, 16, 5) + linear(400, 120) + linear(120, 84) + linear(84, 10)


def alexnet_formula(conv=conv_params, linear=linear_params):
    return (conv(3, 96, 11) + conv(96, 256, 5, groups=2) + conv(256, 384, 3) + conv(384, 384, 3, groups=2)
            + conv(384, 256, 3, groups=2) + linear(9216, 4096) + linear(4096, 4096) + linear(4096, 1000))


def vgg16_formula(conv=conv_params, linear=linear_params):
    widths = [3, 64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]  # 13 convolutions
    convs = sum(conv(a, b, 3) for a, b in zip(widths[:-1], widths[1:]))
    return convs + linear(512 * 7 * 7, 4096) + linear(4096, 4096) + linear(4096, 1000)


def inception_formula(c_in, c1, c3r, c3, c5r, c5, pp, conv=conv_params):
    return (conv(c_in, c1, 1) + conv(c_in, c3r, 1) + conv(c3r, c3, 3) + conv(c_in, c5r, 1) + conv(c5r, c5, 5)
            + conv(c_in, pp, 1))


def googlenet_formula(conv=conv_params, linear=linear_params):
    modules = [v for v in SNIPPET["GOOGLENET"] if v != "M"]
    return (conv(3, 64, 7) + conv(64, 64, 1) + conv(64, 192, 3)
            + sum(inception_formula(*v, conv=conv) for v in modules) + linear(1024, 1000))


def resnet_formula(bottleneck, blocks_per_stage, num_classes=1000, conv=conv_params, bn=bn_params):
    total = conv(3, 64, 7, bias=False) + bn(64)
    c_in = 64
    for stage, n_blocks in enumerate(blocks_per_stage):
        c = 64 * 2**stage
        c_out = 4 * c if bottleneck else c
        for i in range(n_blocks):
            stride = 2 if stage > 0 and i == 0 else 1
            if bottleneck:  # 1x1 reduce, 3x3, 1x1 expand
                total += conv(c_in, c, 1, bias=False) + conv(c, c, 3, bias=False) + conv(c, c_out, 1, bias=False)
                total += bn(c) + bn(c) + bn(c_out)
            else:  # two 3x3
                total += conv(c_in, c, 3, bias=False) + conv(c, c, 3, bias=False) + bn(c) + bn(c)
            if stride != 1 or c_in != c_out:  # projection shortcut (option B)
                total += conv(c_in, c_out, 1, bias=False) + bn(c_out)
            c_in = c_out
    return total + linear_params(c_in, num_classes)


RESNETS = {"ResNet-18": (False, [2, 2, 2, 2]), "ResNet-34": (False, [3, 4, 6, 3]),
           "ResNet-50": (True, [3, 4, 6, 3]), "ResNet-152": (True, [3, 8, 36, 3])}


def module_count(build, *args):
    with torch.device("meta"):  # shapes only: counting VGG-16 takes no memory and no time
        return count_parameters(build(*args))


def test_lenet5_alexnet_vgg16_googlenet_by_formula():
    assert module_count(SNIPPET["lenet5"]) == lenet5_formula() == 61_706
    assert module_count(SNIPPET["alexnet"]) == alexnet_formula() == 60_965_224  # "60 million parameters"
    assert module_count(SNIPPET["vgg"]) == vgg16_formula() == TORCHVISION["VGG-16"]
    assert module_count(SNIPPET["googlenet"]) == googlenet_formula() == 6_998_552


@pytest.mark.parametrize("name", list(RESNETS))
def test_resnets_by_formula_and_torchvision(name):
    bottleneck, layers = RESNETS[name]
    block = Bottleneck if bottleneck else BasicBlock
    assert module_count(resnet, block, layers) == resnet_formula(bottleneck, layers) == TORCHVISION[name]


def test_parameter_table_and_fully_connected_shares():
    """Page table and Figure 2: totals and the share of the fully connected layers."""
    table = SNIPPET["parameter_table"]()
    assert table["VGG-16"][0] == TORCHVISION["VGG-16"] and table["ResNet-18"][0] == TORCHVISION["ResNet-18"]
    fc_vgg = linear_params(25088, 4096) + linear_params(4096, 4096) + linear_params(4096, 1000)
    assert table["VGG-16"][1] == fc_vgg == 123_642_856
    shares = {name: round(100 * fc / total) for name, (total, fc) in table.items()}
    assert shares == {"LeNet-5": 96, "AlexNet": 96, "VGG-16": 89, "GoogLeNet": 15, "ResNet-18": 4,
                      "ResNet-34": 2, "ResNet-50": 8, "ResNet-152": 3}
    assert linear_params(25088, 4096) == 102_764_544  # VGG-16's first FC layer alone: 74 % of the network
    assert round(100 * linear_params(25088, 4096) / TORCHVISION["VGG-16"]) == 74


def test_original_lenet5_has_60000_trainable_parameters():
    """LeCun et al. (1998, §II.B): C1 156, S2 12, C3 1,516 (partial connection table), S4 32, C5 48,120, F6 10,164."""
    c3_inputs = 6 * 3 + 6 * 4 + 3 * 4 + 1 * 6  # Table I: how many S2 maps each of the 16 C3 maps reads
    c3 = 25 * c3_inputs + 16
    layers = [conv_params(1, 6, 5), 6 * 2, c3, 16 * 2, conv_params(16, 120, 5), linear_params(120, 84)]
    assert layers == [156, 12, 1516, 32, 48_120, 10_164]
    assert sum(layers) == 60_000


# ---------------------------------------------------------------------------
# The residual block, written with plain tensor operations
# ---------------------------------------------------------------------------
def randomize(module, seed):
    """Random weights, BN gammas, betas and running statistics, so that eval-mode BN is not the identity."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.Conv2d):
                m.weight.copy_(torch.randn(m.weight.shape, generator=g, dtype=DTYPE) * 0.3)
            if isinstance(m, nn.BatchNorm2d):
                for t in (m.weight, m.bias, m.running_mean):
                    t.copy_(torch.randn(t.shape, generator=g, dtype=DTYPE))
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g, dtype=DTYPE) + 0.5)
    return module.eval()


def bn_eval(x, bn):
    """Page formula in evaluation mode: gamma (x - running mean) / sqrt(running var + eps) + beta, per channel."""
    shape = (1, -1, 1, 1)
    return (bn.weight.view(shape) * (x - bn.running_mean.view(shape)) / torch.sqrt(bn.running_var.view(shape) + bn.eps)
            + bn.bias.view(shape))


def shortcut_by_hand(block, x, stride):
    if isinstance(block.shortcut, nn.Identity):
        return x
    conv, bn = block.shortcut
    return bn_eval(F.conv2d(x, conv.weight, stride=stride), bn)


def basic_block_by_hand(block, x, stride, variant="page"):
    """ReLU(F(x) + x) with F(x) = BN(conv(ReLU(BN(conv(x))))), from F.conv2d and the BN formula."""
    out = F.relu(bn_eval(F.conv2d(x, block.conv1.weight, stride=stride, padding=1), block.bn1))
    residual = bn_eval(F.conv2d(out, block.conv2.weight, padding=1), block.bn2)  # F(x)
    if variant == "no shortcut":
        return F.relu(residual)
    if variant == "relu before the addition":
        return F.relu(residual) + shortcut_by_hand(block, x, stride)
    return F.relu(residual + shortcut_by_hand(block, x, stride))


def bottleneck_by_hand(block, x, stride):
    out = F.relu(bn_eval(F.conv2d(x, block.conv1.weight), block.bn1))
    out = F.relu(bn_eval(F.conv2d(out, block.conv2.weight, stride=stride, padding=1), block.bn2))
    return F.relu(bn_eval(F.conv2d(out, block.conv3.weight), block.bn3) + shortcut_by_hand(block, x, stride))


def basic_block_off(variant, c_in, c, stride, seed=0):
    block = randomize(BasicBlock(c_in, c, stride).to(DTYPE), seed)
    x = torch.randn(2, c_in, 8, 8, generator=torch.Generator().manual_seed(seed + 1), dtype=DTYPE)
    with torch.no_grad():
        return (block(x) - basic_block_by_hand(block, x, stride, variant)).abs().max().item()


@pytest.mark.parametrize("c_in,c,stride", [(4, 4, 1), (4, 8, 2), (3, 6, 1)])
def test_basic_block_matches_plain_tensor_ops(c_in, c, stride):
    assert basic_block_off("page", c_in, c, stride) < 1e-12


@pytest.mark.parametrize("c_in,c,stride", [(16, 4, 1), (8, 4, 2), (16, 8, 2)])
def test_bottleneck_block_matches_plain_tensor_ops(c_in, c, stride):
    block = randomize(Bottleneck(c_in, c, stride).to(DTYPE), 3)
    x = torch.randn(2, c_in, 8, 8, generator=torch.Generator().manual_seed(4), dtype=DTYPE)
    with torch.no_grad():
        assert torch.allclose(block(x), bottleneck_by_hand(block, x, stride), rtol=0, atol=1e-12)


def test_plain_block_has_the_same_parameters_and_no_addition():
    plain, residual = BasicBlock(8, 8, shortcut=False), BasicBlock(8, 8)
    assert count_parameters(plain) == count_parameters(residual) == 2 * conv_params(8, 8, 3, bias=False) + 4 * 8
    randomize(plain.to(DTYPE), 5).load_state_dict(randomize(residual.to(DTYPE), 5).state_dict())
    x = torch.randn(1, 8, 6, 6, dtype=DTYPE, generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        assert torch.allclose(plain(x), basic_block_by_hand(residual, x, 1, "no shortcut"), rtol=0, atol=1e-12)


def test_bottleneck_vs_basic_block_parameters():
    """Page: at 256 channels a bottleneck (1x1 to 64, 3x3, 1x1 to 256) has 69,632 weights, two 3x3 convs 1,179,648."""
    bottleneck = conv_params(256, 64, 1, False) + conv_params(64, 64, 3, False) + conv_params(64, 256, 1, False)
    two_3x3 = 2 * conv_params(256, 256, 3, False)
    assert (bottleneck, two_3x3) == (69_632, 1_179_648)
    block = Bottleneck(256, 64)
    weights = sum(m.weight.numel() for m in block.modules() if isinstance(m, nn.Conv2d))
    assert weights == bottleneck and isinstance(block.shortcut, nn.Identity)
    assert two_3x3 / bottleneck == pytest.approx(16.94, abs=0.01)


# ---------------------------------------------------------------------------
# Stacked 3x3 convolutions: receptive field and parameters
# ---------------------------------------------------------------------------
def measured_receptive_field(kernel_sizes, size=15):
    """Side of the input region that the centre output of a stack of stride-1 convolutions depends on."""
    torch.manual_seed(0)
    x = torch.randn(1, 1, size, size, dtype=DTYPE, requires_grad=True)
    out = x
    for k in kernel_sizes:
        out = F.conv2d(out, torch.rand(1, 1, k, k, dtype=DTYPE) + 0.1, padding=k // 2)
    out[0, 0, size // 2, size // 2].backward()
    rows = (x.grad[0, 0].abs() > 0).any(dim=1).nonzero()
    return (rows.max() - rows.min() + 1).item()


def page_receptive_field(kernel_sizes):
    """Page formula for stride 1: r = 1 + sum (k_i - 1)."""
    return 1 + sum(k - 1 for k in kernel_sizes)


@pytest.mark.parametrize("kernels", [[3, 3], [3, 3, 3], [5], [7], [3, 5], [1, 3, 1]])
def test_stacked_receptive_field(kernels):
    assert measured_receptive_field(kernels) == page_receptive_field(kernels)


def test_two_3x3_equal_one_5x5_with_18_25_of_the_parameters():
    assert measured_receptive_field([3, 3]) == measured_receptive_field([5]) == 5
    assert measured_receptive_field([3, 3, 3]) == measured_receptive_field([7]) == 7
    for c in (1, 16, 64, 512):
        two = 2 * count_parameters(nn.Conv2d(c, c, 3, bias=False))
        one = count_parameters(nn.Conv2d(c, c, 5, bias=False))
        assert two / one == pytest.approx(18 / 25, rel=1e-12)
        three = 3 * count_parameters(nn.Conv2d(c, c, 3, bias=False))
        assert (three, count_parameters(nn.Conv2d(c, c, 7, bias=False))) == (27 * c * c, 49 * c * c)


# ---------------------------------------------------------------------------
# The Inception module
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("index", range(9))
def test_inception_output_channels_and_parameters(index):
    config = [v for v in SNIPPET["GOOGLENET"] if v != "M"][index]
    c_in, c1, _, c3, _, c5, pp = config
    module = Inception(*config)
    assert count_parameters(module) == inception_formula(*config)
    x = torch.randn(1, c_in, 7, 7)
    with torch.no_grad():
        assert module(x).shape == (1, c1 + c3 + c5 + pp, 7, 7)  # same height and width in every branch


def test_inception_3a_numbers_on_the_page():
    assert inception_formula(192, 64, 96, 128, 16, 32, 32) == 163_696 and 64 + 128 + 32 + 32 == 256
    # the 5x5 branch: 1x1 reduction to 16 channels first, versus a 5x5 convolution straight from 192 channels
    reduced = conv_params(192, 16, 1, False) + conv_params(16, 32, 5, False)
    direct = conv_params(192, 32, 5, False)
    assert (reduced, direct) == (15_872, 153_600) and direct / reduced == pytest.approx(9.68, abs=0.01)
    # Table 1 lists 159K for (3a): the weights only, in units of 1,024
    weights = inception_formula(192, 64, 96, 128, 16, 32, 32, conv=lambda a, b, k: conv_params(a, b, k, False))
    assert math.floor(weights / 1024) == 159


# ---------------------------------------------------------------------------
# Gradient through identity shortcuts; a convolution's bias before BN
# ---------------------------------------------------------------------------
def residual_functions(n, d, seed, scale):
    g = torch.Generator().manual_seed(seed)
    Ws = [(scale * torch.randn(d, d, generator=g, dtype=DTYPE), scale * torch.randn(d, d, generator=g, dtype=DTYPE))
          for _ in range(n)]
    return [lambda x, W=W: W[1] @ torch.tanh(W[0] @ x) for W in Ws]


def unroll(x_l, fs, lam=1.0):
    x = x_l
    for f in fs:
        x = lam * x + f(x)  # x_{i+1} = x_i + F(x_i) when lam = 1
    return x


@pytest.mark.parametrize("scale", [0.0, 0.05, 0.5])
def test_identity_shortcuts_give_identity_plus_jacobian(scale):
    """x_L = x_l + sum_i F(x_i), so d x_L / d x_l = I + d/dx_l sum_i F(x_i) (He et al., 2016b, Eq. 4-5)."""
    d, fs = 5, residual_functions(12, 5, 0, scale)
    x_l = torch.randn(d, dtype=DTYPE, generator=torch.Generator().manual_seed(1))

    def sum_of_residuals(x):
        total, xi = torch.zeros_like(x), x
        for f in fs:
            total, xi = total + f(xi), xi + f(xi)
        return total

    assert torch.allclose(unroll(x_l, fs), x_l + sum_of_residuals(x_l), rtol=0, atol=1e-12)
    J = torch.autograd.functional.jacobian(lambda x: unroll(x, fs), x_l)
    J_sum = torch.autograd.functional.jacobian(sum_of_residuals, x_l)
    assert torch.allclose(J, torch.eye(d, dtype=DTYPE) + J_sum, rtol=0, atol=1e-12)
    if scale == 0.0:  # residual functions that output zero: the gradient passes unchanged through 12 blocks
        assert torch.equal(J, torch.eye(d, dtype=DTYPE))


@pytest.mark.parametrize("lam", [0.5, 1.5])
def test_scaled_shortcuts_scale_the_gradient_by_lambda_to_the_depth(lam):
    """He et al. (2016b, §3.1): with x_{i+1} = lam x_i + F(x_i) the direct term becomes lam^(L - l)."""
    d, n = 4, 12
    fs = residual_functions(n, d, 2, 0.0)
    J = torch.autograd.functional.jacobian(lambda x: unroll(x, fs, lam), torch.ones(d, dtype=DTYPE))
    assert torch.allclose(J, lam**n * torch.eye(d, dtype=DTYPE), rtol=1e-12, atol=0)
    assert not torch.allclose(J, torch.eye(d, dtype=DTYPE), atol=1e-2)


def test_convolution_bias_before_batch_norm_is_redundant():
    """Ioffe & Szegedy (2015, §3.2): BN subtracts the per-channel mean, so a bias before it cancels."""
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 5, 3, padding=1).to(DTYPE)
    x = torch.randn(4, 3, 6, 6, dtype=DTYPE)
    with_bias = F.batch_norm(conv(x), None, None, training=True)
    without = F.batch_norm(F.conv2d(x, conv.weight, padding=1), None, None, training=True)
    assert torch.allclose(with_bias, without, rtol=0, atol=1e-10)
    y = conv(x)  # statistics per channel, over batch, height and width
    mu, var = y.mean(dim=(0, 2, 3), keepdim=True), y.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
    assert torch.allclose(with_bias, (y - mu) / torch.sqrt(var + 1e-5), rtol=0, atol=1e-10)


# ---------------------------------------------------------------------------
# Figure 3: the degradation problem in miniature
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def degradation():
    losses = SNIPPET["degradation_experiment"]()
    return {label: loss[-10:].mean() for label, loss in losses.items()}


def test_figure3_plain_20_layers_trains_worst(degradation):
    """Caption: last-10-step training loss 2.00 (plain, 20), 0.97 (residual, 20), 1.04 (plain, 4)."""
    plain20, res20, plain4 = (degradation[k] for k in ("plain, 20 layers", "residual, 20 layers", "plain, 4 layers"))
    assert plain20 == pytest.approx(2.00, abs=0.05)
    assert res20 == pytest.approx(0.97, abs=0.05)
    assert plain4 == pytest.approx(1.04, abs=0.05)
    assert plain20 > plain4 + 0.5 and plain20 > res20 + 0.5  # deeper plain is worse; shortcuts fix it
    assert plain20 < math.log(10)  # it does learn something: below the loss of a uniform guess


def test_figure3_networks_have_equal_parameters():
    small_cnn = SNIPPET["small_cnn"]
    assert count_parameters(small_cnn(9, False)) == count_parameters(small_cnn(9, True)) == 10_834
    assert count_parameters(small_cnn(1, False)) == 1_362
    convs = [m for m in small_cnn(9, True).modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(convs) == 20  # weight layers


# ---------------------------------------------------------------------------
# Mutation tests: wrong formulas through the same comparisons
# ---------------------------------------------------------------------------
def conv_without_bias(c_in, c_out, k, bias=True, groups=1):
    return conv_params(c_in, c_out, k, bias=False, groups=groups)


def conv_ignoring_groups(c_in, c_out, k, bias=True, groups=1):
    return conv_params(c_in, c_out, k, bias=bias)


def conv_k_not_squared(c_in, c_out, k, bias=True, groups=1):
    return c_out * (c_in // groups) * k + (c_out if bias else 0)


def linear_without_bias(n_in, n_out, bias=True):
    return linear_params(n_in, n_out, bias=False)


@pytest.mark.parametrize("conv,linear", [(conv_without_bias, linear_params), (conv_params, linear_without_bias),
                                         (conv_ignoring_groups, linear_params), (conv_k_not_squared, linear_params)],
                         ids=["conv without bias", "linear without bias", "groups ignored", "k not squared"])
def test_wrong_parameter_formulas_are_caught(conv, linear):
    right = [lenet5_formula(), alexnet_formula(), vgg16_formula()]
    assert right == [module_count(SNIPPET["lenet5"]), module_count(SNIPPET["alexnet"]), module_count(SNIPPET["vgg"])]
    wrong = [lenet5_formula(conv, linear), alexnet_formula(conv, linear), vgg16_formula(conv, linear)]
    assert any(w != r for w, r in zip(wrong, right))
    if conv is conv_without_bias:  # VGG-16 without the 4,224 biases of its 13 convolutions
        assert right[2] - wrong[2] == 4_224


def test_resnet_formula_without_bn_or_projection_is_caught():
    right = resnet_formula(False, [2, 2, 2, 2])
    assert right == TORCHVISION["ResNet-18"]
    assert resnet_formula(False, [2, 2, 2, 2], bn=lambda c: 0) != right  # forgot gamma and beta
    assert sum(bn_params(c) for c in [64] + [64] * 4 + [128] * 5 + [256] * 5 + [512] * 5) == 9_600  # BN in ResNet-18
    with torch.device("meta"):
        model = resnet(BasicBlock, [2, 2, 2, 2])
    assert sum(p.numel() for m in model.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters()) == 9_600
    with_biases = resnet_formula(False, [2, 2, 2, 2], conv=lambda a, b, k, bias=False: conv_params(a, b, k))
    assert with_biases - right == 64 + 2 * 2 * (64 + 128 + 256 + 512) + 128 + 256 + 512  # every conv's bias


@pytest.mark.parametrize("variant", ["no shortcut", "relu before the addition"])
def test_wrong_residual_blocks_are_caught(variant):
    for c_in, c, stride in [(4, 4, 1), (4, 8, 2)]:
        assert basic_block_off("page", c_in, c, stride) < 1e-12
        assert basic_block_off(variant, c_in, c, stride) > 1e-2


@pytest.mark.parametrize("wrong", [lambda ks: sum(ks), lambda ks: max(ks) * len(ks), lambda ks: 1 + sum(ks)],
                         ids=["sum of k", "k times depth", "1 + sum of k"])
def test_wrong_receptive_field_formulas_are_caught(wrong):
    kernels = [3, 3]
    assert page_receptive_field(kernels) == measured_receptive_field(kernels)
    assert wrong(kernels) != measured_receptive_field(kernels)
