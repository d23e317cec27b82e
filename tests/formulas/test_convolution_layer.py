"""Formula tests for docs/*/cnn/convolution-layer.md.

The page's convolution layer (conv2d in snippets/convolution_layer.py: multiple channels, bias,
padding, stride, dilation, groups) and its im2col form are compared with
torch.nn.functional.conv2d / unfold over a grid of settings; the backward formulas of the page,
written here by hand, with autograd; the output-size formula with the shapes nn.Conv2d and
nn.MaxPool2d produce; the parameter and multiply-add counts with numel() and PyTorch's
FlopCounterMode; a 1x1 convolution with einsum and nn.Linear; cross-correlation against the
definition of a true convolution (and numpy.convolve / numpy.correlate). The mutation tests run
wrong formulas (no kernel flip, no floor, no dilation term, ...) through the same comparisons.
"""

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from snippet_code import snippet_function

DTYPE = torch.float64
pytestmark = pytest.mark.usefixtures("float64")

SNIPPET = snippet_function("convolution_layer", "conv_output_size", "conv2d", "im2col", "conv2d_im2col",
                           "conv_params_and_macs", "PANELS", "N_FIG", "K_FIG", "SETTINGS", "INPUT_SIZES", "taps_of")
conv_output_size = SNIPPET["conv_output_size"]
conv2d = SNIPPET["conv2d"]
im2col = SNIPPET["im2col"]
conv2d_im2col = SNIPPET["conv2d_im2col"]
conv_params_and_macs = SNIPPET["conv_params_and_macs"]
ATOL = 1e-12


def tensors(b, c_in, c_out, h, w, k_h, k_w, groups, seed):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(b, c_in, h, w, generator=gen, dtype=DTYPE)
    weight = torch.randn(c_out, c_in // groups, k_h, k_w, generator=gen, dtype=DTYPE)
    bias = torch.randn(c_out, generator=gen, dtype=DTYPE)
    return x, weight, bias


# (c_in, c_out, groups, k_h, k_w, h, w) x (stride, padding, dilation) x bias
SHAPES = [(1, 1, 1, 3, 3, 7, 7), (3, 4, 1, 3, 3, 9, 8), (4, 6, 2, 3, 2, 8, 10), (6, 6, 6, 3, 3, 7, 9),
          (2, 5, 1, 1, 1, 5, 6), (4, 8, 4, 5, 5, 11, 12), (3, 2, 1, 2, 4, 6, 9)]
GEOMETRY = [(1, 0, 1), (1, 1, 1), (2, 0, 1), (2, 1, 1), (3, 2, 1), (1, 2, 2), (2, 1, 2), (1, 0, 3)]
CASES = [(*shape, *geo, bias) for shape, geo, bias in itertools.product(SHAPES, GEOMETRY, [True, False])
         if shape[5] + 2 * geo[1] >= geo[2] * (shape[3] - 1) + 1 and shape[6] + 2 * geo[1] >= geo[2] * (shape[4] - 1) + 1]


def case_id(case):
    c_in, c_out, g, kh, kw, h, w, s, p, d, bias = case
    return f"{c_in}to{c_out}-g{g}-k{kh}x{kw}-{h}x{w}-s{s}p{p}d{d}-{'bias' if bias else 'nobias'}"


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_conv2d_from_the_formula_matches_f_conv2d(case):
    c_in, c_out, groups, k_h, k_w, h, w, s, p, d, with_bias = case
    x, weight, bias = tensors(2, c_in, c_out, h, w, k_h, k_w, groups, seed=len(CASES))
    bias = bias if with_bias else None
    ours = conv2d(x, weight, bias, stride=s, padding=p, dilation=d, groups=groups)
    ref = F.conv2d(x, weight, bias, stride=s, padding=p, dilation=d, groups=groups)
    assert ours.shape == ref.shape
    torch.testing.assert_close(ours, ref, rtol=0, atol=ATOL)
    if groups == 1:  # the same layer as one matrix product, and its columns are F.unfold's
        torch.testing.assert_close(conv2d_im2col(x, weight, bias, s, p, d), ref, rtol=0, atol=ATOL)
        torch.testing.assert_close(im2col(x, k_h, k_w, s, p, d),
                                   F.unfold(x, (k_h, k_w), dilation=d, padding=p, stride=s), rtol=0, atol=0)


# ---------------------------------------------------------------------------
# Backward: the page's formulas, by hand, against autograd
# dL/db_o = sum_{n,i,j} G[n,o,i,j]
# dL/dK[o,c,a,b] = sum_{n,i,j} G[n,o,i,j] Xp[n,c, s i + d a, s j + d b]
# dL/dXp[n,c, s i + d a, s j + d b] += sum_o G[n,o,i,j] K[o,c,a,b], then crop the padding
# ---------------------------------------------------------------------------
def conv2d_backward(x, weight, grad_out, stride, padding, dilation, groups):
    n, c_in, h, w = x.shape
    c_out, c_in_g, k_h, k_w = weight.shape
    c_out_g = c_out // groups
    _, _, h_out, w_out = grad_out.shape
    xp = torch.zeros(n, c_in, h + 2 * padding, w + 2 * padding, dtype=x.dtype)
    xp[:, :, padding:padding + h, padding:padding + w] = x
    grad_xp = torch.zeros_like(xp)
    grad_w = torch.zeros_like(weight)
    for o in range(c_out):
        g = o // c_out_g
        for c in range(c_in_g):
            ci = g * c_in_g + c
            for a in range(k_h):
                for b in range(k_w):
                    for i in range(h_out):
                        for j in range(w_out):
                            r, q = stride * i + dilation * a, stride * j + dilation * b
                            grad_w[o, c, a, b] += (grad_out[:, o, i, j] * xp[:, ci, r, q]).sum()
                            grad_xp[:, ci, r, q] += grad_out[:, o, i, j] * weight[o, c, a, b]
    grad_b = grad_out.sum(dim=(0, 2, 3))
    return grad_xp[:, :, padding:padding + h, padding:padding + w], grad_w, grad_b


BACKWARD_CASES = [(2, 3, 1, 3, 3, 5, 6, 1, 0, 1), (2, 4, 2, 3, 2, 6, 5, 2, 1, 1), (3, 3, 3, 3, 3, 7, 7, 1, 2, 2),
                  (1, 2, 1, 2, 2, 5, 5, 3, 1, 1), (2, 2, 1, 3, 3, 6, 7, 2, 2, 2)]


def autograd_grads(x, weight, bias, s, p, d, groups, seed):
    x, weight, bias = (t.clone().requires_grad_(True) for t in (x, weight, bias))
    y = F.conv2d(x, weight, bias, stride=s, padding=p, dilation=d, groups=groups)
    grad_out = torch.randn(y.shape, generator=torch.Generator().manual_seed(seed), dtype=DTYPE)
    (y * grad_out).sum().backward()  # L = sum(G * Y), so dL/dY = G
    return grad_out, x.grad, weight.grad, bias.grad


@pytest.mark.parametrize("case", BACKWARD_CASES, ids=lambda c: "-".join(map(str, c)))
def test_backward_formulas_match_autograd(case):
    c_in, c_out, groups, k_h, k_w, h, w, s, p, d = case
    x, weight, bias = tensors(2, c_in, c_out, h, w, k_h, k_w, groups, seed=7)
    grad_out, gx, gw, gb = autograd_grads(x, weight, bias, s, p, d, groups, seed=8)
    ours = conv2d_backward(x, weight, grad_out, s, p, d, groups)
    for mine, ref in zip(ours, (gx, gw, gb)):
        torch.testing.assert_close(mine, ref, rtol=0, atol=ATOL)


def grad_input_as_convolution(grad_out, weight, padding, dilation, flip=True):
    """Page: with stride 1, dL/dX is a convolution of G with the kernel, channels swapped and
    rotated by 180 degrees, padded by d(k - 1) - p: a 'full' correlation with the flipped kernel."""
    k = weight.shape[-1]
    kernel = weight.transpose(0, 1)
    kernel = kernel.flip(-2, -1) if flip else kernel
    return F.conv2d(grad_out, kernel, padding=dilation * (k - 1) - padding, dilation=dilation)


def grad_weight_as_correlation(x, grad_out, padding, dilation):
    """Page: with stride 1, dL/dK[o, c] is the cross-correlation of the input channel c with G[o],
    summed over the batch; the dilation of the layer becomes the stride of this correlation."""
    return F.conv2d(x.transpose(0, 1), grad_out.transpose(0, 1), padding=padding, stride=dilation).transpose(0, 1)


@pytest.mark.parametrize("p,d", [(0, 1), (1, 1), (2, 1), (0, 2), (2, 2)])
def test_backward_is_itself_a_convolution(p, d):
    x, weight, bias = tensors(2, 3, 4, 8, 8, 3, 3, 1, seed=11)
    grad_out, gx, gw, _ = autograd_grads(x, weight, bias, 1, p, d, 1, seed=12)
    torch.testing.assert_close(grad_input_as_convolution(grad_out, weight, p, d), gx, rtol=0, atol=ATOL)
    torch.testing.assert_close(grad_weight_as_correlation(x, grad_out, p, d), gw, rtol=0, atol=ATOL)
    # mutation: the same with the kernel not flipped is wrong
    assert (grad_input_as_convolution(grad_out, weight, p, d, flip=False) - gx).abs().max() > 1e-3


# ---------------------------------------------------------------------------
# Cross-correlation vs convolution
# ---------------------------------------------------------------------------
def true_convolution_full(image, kernel):
    """S(i, j) = sum_{m, n} I(i - m, j - n) K(m, n), for every (i, j) where the sum is not empty."""
    h, w = image.shape
    k_h, k_w = kernel.shape
    out = torch.zeros(h + k_h - 1, w + k_w - 1, dtype=image.dtype)
    for i in range(h + k_h - 1):
        for j in range(w + k_w - 1):
            for m in range(k_h):
                for n in range(k_w):
                    if 0 <= i - m < h and 0 <= j - n < w:
                        out[i, j] += image[i - m, j - n] * kernel[m, n]
    return out


def test_f_conv2d_is_cross_correlation_and_a_flip_makes_it_a_convolution():
    gen = torch.Generator().manual_seed(3)
    image = torch.randn(6, 7, generator=gen, dtype=DTYPE)
    kernel = torch.randn(3, 2, generator=gen, dtype=DTYPE)  # asymmetric
    full = true_convolution_full(image, kernel)
    flipped = F.conv2d(image[None, None], kernel.flip(0, 1)[None, None], padding=(2, 1))[0, 0]
    torch.testing.assert_close(flipped, full, rtol=0, atol=ATOL)
    # mutation: F.conv2d with the kernel as it is (no flip) is not a convolution
    not_flipped = F.conv2d(image[None, None], kernel[None, None], padding=(2, 1))[0, 0]
    assert (not_flipped - full).abs().max() > 0.1
    # the same in 1-D against NumPy: np.correlate is what conv1d computes, np.convolve flips
    x, k = image[0].numpy(), kernel[:, 0].numpy()
    torch.testing.assert_close(F.conv1d(image[None, :1], kernel[None, None, :, 0])[0, 0],
                               torch.from_numpy(np.correlate(x, k, "valid")), rtol=0, atol=ATOL)
    torch.testing.assert_close(F.conv1d(image[None, :1], kernel[None, None, :, 0].flip(-1))[0, 0],
                               torch.from_numpy(np.convolve(x, k, "valid")), rtol=0, atol=ATOL)
    assert np.abs(np.convolve(x, k, "valid") - np.correlate(x, k, "valid")).max() > 0.1
    # a kernel symmetric under a 180-degree rotation: the two agree
    sym = kernel + kernel.flip(0, 1)
    torch.testing.assert_close(F.conv2d(image[None, None], sym[None, None], padding=(2, 1))[0, 0],
                               true_convolution_full(image, sym), rtol=0, atol=ATOL)


def test_convolution_commutes_and_cross_correlation_does_not():
    """Page: convolution is commutative (I * K = K * I), cross-correlation is not."""
    gen = torch.Generator().manual_seed(4)
    a, b = torch.randn(4, 5, generator=gen, dtype=DTYPE), torch.randn(3, 3, generator=gen, dtype=DTYPE)
    torch.testing.assert_close(true_convolution_full(a, b), true_convolution_full(b, a), rtol=0, atol=ATOL)
    xcorr_ab = F.conv2d(a[None, None], b[None, None], padding=2)[0, 0]
    xcorr_ba = F.conv2d(F.pad(b, (4, 4, 3, 3))[None, None], a[None, None])[0, 0]
    assert xcorr_ab.shape == xcorr_ba.shape
    assert (xcorr_ab - xcorr_ba).abs().max() > 0.1
    torch.testing.assert_close(xcorr_ab, xcorr_ba.flip(0, 1), rtol=0, atol=ATOL)  # one is the other, rotated


# ---------------------------------------------------------------------------
# The output-size formula against nn.Conv2d and nn.MaxPool2d
# ---------------------------------------------------------------------------
def no_floor(n, k, p=0, s=1, d=1):  # (n + 2p - d(k-1) - 1)/s + 1, not rounded down
    return (n + 2 * p - d * (k - 1) - 1) / s + 1


def no_dilation(n, k, p=0, s=1, d=1):  # k - 1 instead of d(k - 1)
    return (n + 2 * p - (k - 1) - 1) // s + 1


def ceiling(n, k, p=0, s=1, d=1):  # rounded up, PyTorch's ceil_mode=True (without its last-window rule)
    return -(-(n + 2 * p - d * (k - 1) - 1) // s) + 1


def conv_shape_mismatches(formula):
    """Over a grid of (n, k, p, s, d): the number of settings where formula(...) is not the size
    nn.Conv2d produces, and the number checked. Where the dilated kernel does not fit, PyTorch raises
    and the page's formula must give a size <= 0."""
    wrong, checked = 0, 0
    for n, k, p, s, d in itertools.product(range(1, 13), range(1, 6), range(3), range(1, 4), range(1, 4)):
        layer = nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d, bias=False)
        x = torch.zeros(1, 1, n, n + 1)
        try:
            h, w = layer(x).shape[-2:]
        except RuntimeError:
            h, w = 0, 0
            assert conv_output_size(n, k, p, s, d) <= 0 or conv_output_size(n + 1, k, p, s, d) <= 0
        checked += 1
        if h > 0 and (formula(n, k, p, s, d) != h or formula(n + 1, k, p, s, d) != w):
            wrong += 1
    return wrong, checked


@pytest.fixture
def no_grad():
    with torch.no_grad():
        yield


def test_output_size_formula_matches_conv2d_shapes(no_grad):
    wrong, checked = conv_shape_mismatches(conv_output_size)
    assert (wrong, checked) == (0, 12 * 5 * 3 * 3 * 3)


@pytest.mark.parametrize("formula", [no_floor, no_dilation, ceiling], ids=lambda f: f.__name__)
def test_wrong_output_size_formulas_fail_on_the_grid(formula, no_grad):
    wrong, checked = conv_shape_mismatches(formula)
    assert wrong > 50


def test_output_size_formula_matches_maxpool2d_shapes(no_grad):
    wrong_ours = wrong_no_floor = 0
    for n, k, s, d in itertools.product(range(2, 14), range(1, 5), range(1, 4), range(1, 3)):
        for p in range(k // 2 + 1):  # PyTorch allows padding up to half the kernel
            if n + 2 * p < d * (k - 1) + 1:
                continue
            pool = nn.MaxPool2d(k, stride=s, padding=p, dilation=d, ceil_mode=False)
            size = pool(torch.zeros(1, 1, n, n)).shape[-1]
            wrong_ours += conv_output_size(n, k, p, s, d) != size
            wrong_no_floor += no_floor(n, k, p, s, d) != size
    assert wrong_ours == 0
    assert wrong_no_floor > 50


@pytest.mark.parametrize("k,d", [(1, 1), (3, 1), (5, 1), (3, 2), (5, 3), (7, 2)])
def test_same_and_full_padding(k, d, no_grad):
    """Page: p = d(k - 1)/2 keeps the size (odd k, stride 1); p = d(k - 1) grows it by d(k - 1);
    and PyTorch's padding='same' pads exactly d(k - 1)/2 on each side then."""
    for n in range(d * (k - 1) + 1, 20):
        assert conv_output_size(n, k, d * (k - 1) // 2, 1, d) == n
        assert conv_output_size(n, k, d * (k - 1), 1, d) == n + d * (k - 1)
        assert conv_output_size(n, k, 0, 1, d) == n - d * (k - 1)
    x, weight, _ = tensors(1, 2, 3, 9, 10, k, k, 1, seed=k + d)
    torch.testing.assert_close(F.conv2d(x, weight, padding="same", dilation=d),
                               conv2d(x, weight, padding=d * (k - 1) // 2, dilation=d), rtol=0, atol=ATOL)
    with pytest.raises(ValueError):
        nn.Conv2d(2, 3, k, stride=2, padding="same")  # 'same' is for stride 1 only


def test_a_stride_can_skip_the_last_rows():
    """Page: n = 8, k = 3, s = 2, p = 0 gives 3 outputs that read rows 0-6; row 7 is never used
    (its gradient is exactly zero)."""
    assert conv_output_size(8, 3, 0, 2) == 3
    x = torch.randn(1, 1, 8, 8, dtype=DTYPE, requires_grad=True)
    F.conv2d(x, torch.ones(1, 1, 3, 3, dtype=DTYPE), stride=2).sum().backward()
    used = x.grad[0, 0].abs().sum(dim=1) > 0
    assert used.tolist() == [True] * 7 + [False]


# ---------------------------------------------------------------------------
# Parameters and multiply-adds
# ---------------------------------------------------------------------------
COUNT_CASES = [(3, 64, 3, 32, 1, True), (64, 128, 3, 56, 1, True), (64, 128, 3, 56, 1, False),
               (256, 64, 1, 28, 1, True), (32, 32, 3, 16, 32, True), (32, 64, 5, 15, 4, True), (16, 48, 7, 9, 16, False)]


def measured(c_in, c_out, k, n, groups, bias):
    layer = nn.Conv2d(c_in, c_out, k, padding=k // 2, groups=groups, bias=bias)
    x = torch.zeros(1, c_in, n, n)
    with FlopCounterMode(display=False) as counter:
        y = layer(x)
    # FlopCounterMode counts a multiply-add as 2 floating-point operations
    return sum(q.numel() for q in layer.parameters()), counter.get_total_flops() // 2, y.shape[-2:]


@pytest.mark.parametrize("case", COUNT_CASES, ids=lambda c: "-".join(map(str, c)))
def test_params_and_macs_by_formula(case, no_grad):
    c_in, c_out, k, n, groups, bias = case
    params, macs, (h_out, w_out) = measured(*case)
    assert conv_params_and_macs(c_in, c_out, k, h_out, w_out, groups, bias) == (params, macs)


@pytest.mark.parametrize("name,wrong", [
    ("no bias term", lambda ci, co, k, h, w, g, b: (co * ci // g * k * k, co * ci // g * k * k * h * w)),
    ("groups ignored", lambda ci, co, k, h, w, g, b: (co * ci * k * k + co * b, co * ci * k * k * h * w)),
    ("MACs without the output size", lambda ci, co, k, h, w, g, b: (co * ci // g * k * k + co * b, co * ci // g * k * k)),
])
def test_wrong_counts_fail(name, wrong, no_grad):
    failures = 0
    for case in COUNT_CASES:
        c_in, c_out, k, n, groups, bias = case
        params, macs, (h_out, w_out) = measured(*case)
        failures += wrong(c_in, c_out, k, h_out, w_out, groups, bias) != (params, macs)
    assert failures >= 2


def test_page_example_counts(no_grad):
    """Page: Conv2d(64, 128, 3, padding=1) on 56x56 has 73,856 parameters and 231,211,008
    multiply-adds; a 1x1 reduction 256 -> 64 before a 3x3 64 -> 64 (28x28) against a 3x3 256 -> 64."""
    assert measured(64, 128, 3, 56, 1, True)[:2] == (73_856, 231_211_008)
    assert conv_params_and_macs(64, 128, 3, 56, 56) == (73_856, 231_211_008)
    direct = conv_params_and_macs(256, 64, 3, 28, 28)
    reduce = conv_params_and_macs(256, 64, 1, 28, 28)
    then = conv_params_and_macs(64, 64, 3, 28, 28)
    assert direct == (147_520, 115_605_504)
    assert (reduce[0] + then[0], reduce[1] + then[1]) == (53_376, 41_746_432)
    # depthwise separable 128 -> 128, 3x3 on 28x28: depthwise (groups = 128) then 1x1
    dw, pw = conv_params_and_macs(128, 128, 3, 28, 28, groups=128), conv_params_and_macs(128, 128, 1, 28, 28)
    full = conv_params_and_macs(128, 128, 3, 28, 28)
    assert (dw[0] + pw[0], full[0]) == (17_792, 147_584)
    assert round(full[1] / (dw[1] + pw[1]), 1) == 8.4


# ---------------------------------------------------------------------------
# 1x1 convolution = the same linear map at every pixel
# ---------------------------------------------------------------------------
def test_1x1_convolution_is_a_linear_map_over_channels(no_grad):
    x, weight, bias = tensors(3, 5, 4, 6, 7, 1, 1, 1, seed=21)
    y = F.conv2d(x, weight, bias)
    by_einsum = torch.einsum("oc,bchw->bohw", weight[:, :, 0, 0], x) + bias[None, :, None, None]
    torch.testing.assert_close(y, by_einsum, rtol=0, atol=ATOL)
    linear = nn.Linear(5, 4, dtype=DTYPE)
    linear.weight.copy_(weight[:, :, 0, 0])
    linear.bias.copy_(bias)
    torch.testing.assert_close(y, linear(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2), rtol=0, atol=ATOL)
    # mutation: mixing over space instead of over channels (the transposed weight) is not the same map
    wrong = torch.einsum("co,bchw->bohw", weight[:4, :4, 0, 0], x[:, :4]) + bias[None, :, None, None]
    assert (F.conv2d(x[:, :4], weight[:, :4], bias) - wrong).abs().max() > 0.1


# ---------------------------------------------------------------------------
# What the page says about its figures
# ---------------------------------------------------------------------------
def test_figure_1_output_sizes(no_grad):
    """Captions: a 3x3 kernel on a 7x7 input gives 5x5, 7x7, 4x4 and 3x3, and the two hatched output
    cells read input windows that overlap in 6 cells at stride 1, 3 at stride 2, and not at all
    (interleaved) at dilation 2."""
    n, k = SNIPPET["N_FIG"], SNIPPET["K_FIG"]
    assert (n, k) == (7, 3)
    taps_of = SNIPPET["taps_of"]
    sizes, overlaps = [], []
    for _, p, s, d in SNIPPET["PANELS"]:
        layer = nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d)
        sizes.append(layer(torch.zeros(1, 1, n, n)).shape[-1])
        overlaps.append(len(taps_of(0, 0, p, s, d) & taps_of(0, 1, p, s, d)))
    assert sizes == [5, 7, 4, 3]
    assert sizes == [conv_output_size(n, k, p, s, d) for _, p, s, d in SNIPPET["PANELS"]]
    assert overlaps == [6, 6, 3, 0]


def test_figure_2_numbers(no_grad):
    """Caption: at n = 7 the settings give 9, 7, 5, 3, 4 and 3; the stride-2 curves are ceil(n/2)
    (k = 3, p = 1) and floor(n/2) (k = 2, 2x2 pooling), so n = 7 and n = 8 give the same 4 with stride 2."""
    sizes_at = {}
    for label, k, p, s, d, _ in SNIPPET["SETTINGS"]:
        layer = nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d)
        sizes_at[label] = [layer(torch.zeros(1, 1, n, n)).shape[-1] for n in SNIPPET["INPUT_SIZES"]]
        assert sizes_at[label] == [conv_output_size(n, k, p, s, d) for n in SNIPPET["INPUT_SIZES"]]
    at7 = [sizes_at[label][SNIPPET["INPUT_SIZES"].index(7)] for label, *_ in SNIPPET["SETTINGS"]]
    assert at7 == [9, 7, 5, 3, 4, 3]
    stride2, pool = (sizes_at[label] for label, *_ in SNIPPET["SETTINGS"][4:6])
    assert stride2 == [math.ceil(n / 2) for n in SNIPPET["INPUT_SIZES"]]
    assert pool == [n // 2 for n in SNIPPET["INPUT_SIZES"]]
    pool_layer = nn.MaxPool2d(2)
    assert pool == [pool_layer(torch.zeros(1, 1, n, n)).shape[-1] for n in SNIPPET["INPUT_SIZES"]]
