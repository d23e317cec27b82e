"""Formula tests for docs/*/cnn/why-convolution.md.

The page's formulas are implemented from scratch and compared with PyTorch: the parameter counts
of a fully connected, a locally connected and a convolutional layer with sum(p.numel()) of
nn.Linear, of a locally connected layer written here with F.unfold, and of nn.Conv2d; the
multi-channel convolution formula with F.conv2d; the convolution as a sparse, weight-shared
(Toeplitz) matrix with nn.Linear; the one-layer receptive field with autograd; the hand-made
Sobel filters with F.conv2d. Translation equivariance is checked exactly (circular padding
everywhere, zero padding in the interior) and the mutations fail the same comparison: a fully
connected layer, a locally connected layer with untied weights, a stride-2 convolution under a
1-pixel shift, a flipped filter, a forgotten sum over channels, wrong counting formulas. The
numbers the page states about its figures are read from a run of the whole snippet.
"""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from snippet_code import run_snippet, snippet_function

pytestmark = pytest.mark.usefixtures("float64")
DTYPE = torch.float64
TOL = 1e-12

SNIPPET = snippet_function("why_convolution", "param_counts", "edge_maps", "shift", "equivariance_gap",
                           "SOBEL_X", "SOBEL_Y")
param_counts, edge_maps, shift = SNIPPET["param_counts"], SNIPPET["edge_maps"], SNIPPET["shift"]
equivariance_gap = SNIPPET["equivariance_gap"]


def gen(seed):
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------------ a locally connected layer
class LocallyConnected2d(nn.Module):
    """A k x k window per output position, as in a convolution, but with its own weights and bias at
    every position (Goodfellow et al.'s unshared convolution). Stride 1, zero padding k // 2."""

    def __init__(self, c_in, c_out, k, side):
        super().__init__()
        self.k, self.side = k, side
        self.weight = nn.Parameter(torch.randn(side * side, c_out, c_in * k * k, generator=gen(1)))
        self.bias = nn.Parameter(torch.randn(side * side, c_out, generator=gen(2)))

    def forward(self, x):  # x: (c_in, side, side)
        patches = F.unfold(x[None], self.k, padding=self.k // 2)[0]  # (c_in k k, side * side)
        out = torch.einsum("poi,ip->op", self.weight, patches) + self.bias.T  # (c_out, side * side)
        return out.reshape(-1, self.side, self.side)

    def tie(self, weight, bias):
        """Give every position the same filter and bias: the layer becomes a convolution."""
        with torch.no_grad():
            self.weight.copy_(weight.reshape(1, weight.shape[0], -1).expand_as(self.weight))
            self.bias.copy_(bias.expand_as(self.bias))
        return self


def numel(module):
    return sum(p.numel() for p in module.parameters())


def counts_by_numel(side, c_in, c_out, k):
    dense = nn.Linear(c_in * side * side, c_out * side * side, device="meta")
    local = LocallyConnected2d(c_in, c_out, k, side) if side <= 16 else None
    conv = nn.Conv2d(c_in, c_out, k, padding=k // 2, device="meta")
    return {"fully connected": numel(dense), "locally connected": numel(local) if local else None,
            "convolutional": numel(conv)}


GRID = [(side, c_in, c_out, k) for side in (4, 8, 13) for c_in in (1, 3) for c_out in (1, 5) for k in (1, 3, 5)]


@pytest.mark.parametrize("side,c_in,c_out,k", GRID)
def test_parameter_counts_match_numel(side, c_in, c_out, k):
    assert param_counts(side, c_in, c_out, k) == counts_by_numel(side, c_in, c_out, k)


@pytest.mark.parametrize("side", [28, 64, 224])
def test_dense_and_conv_counts_at_large_sizes(side):
    by_numel = counts_by_numel(side, 1, 32, 3)
    page = param_counts(side)
    assert page["fully connected"] == by_numel["fully connected"]
    assert page["convolutional"] == by_numel["convolutional"] == 320


COUNT_MUTANTS = {
    "k instead of k^2": lambda s, ci, co, k: co * (k * ci + 1),
    "no bias": lambda s, ci, co, k: co * k * k * ci,
    "input channels forgotten": lambda s, ci, co, k: co * (k * k + 1),
    "conv counted per position": lambda s, ci, co, k: s * s * co * (k * k * ci + 1),
}


@pytest.mark.parametrize("name", list(COUNT_MUTANTS))
def test_wrong_conv_counts_are_caught(name):
    wrong = COUNT_MUTANTS[name]
    misses = [case for case in GRID if wrong(*case) != counts_by_numel(*case)["convolutional"]]
    assert len(misses) >= len(GRID) // 2, name


def test_local_layer_is_a_locally_connected_layer():
    """Tied, it is exactly F.conv2d; untied, each output still sees only a k x k x c_in window."""
    c_in, c_out, k, side = 2, 3, 3, 9
    x = torch.randn(c_in, side, side, generator=gen(3))
    w, b = torch.randn(c_out, c_in, k, k, generator=gen(4)), torch.randn(c_out, generator=gen(5))
    local = LocallyConnected2d(c_in, c_out, k, side)
    assert (local(x) - F.conv2d(x[None], w, b, padding=1)[0]).abs().max() > 0.1  # untied: not the conv
    local.tie(w, b)
    torch.testing.assert_close(local(x), F.conv2d(x[None], w, b, padding=1)[0], rtol=0, atol=TOL)


# -------------------------------------------------------------- the multi-channel formula
def conv_by_formula(x, w, b, padding, flip=False, first_channel_only=False):
    """Z[c', i, j] = b[c'] + sum_c sum_u sum_v W[c', c, u, v] X[c, i + u, j + v] on the zero-padded X."""
    c_out, c_in, k, _ = w.shape
    xp = F.pad(x, (padding,) * 4)
    h_out, w_out = xp.shape[1] - k + 1, xp.shape[2] - k + 1
    if flip:  # true convolution: the filter reversed in both axes
        w = w.flip(-1, -2)
    z = b[:, None, None].expand(c_out, h_out, w_out).clone()
    for u in range(k):
        for v in range(k):
            for c in range(1 if first_channel_only else c_in):
                z += w[:, c, u, v][:, None, None] * xp[c, u:u + h_out, v:v + w_out]
    return z


CONV_CASES = [(1, 1, 3, 0, 7), (3, 4, 3, 1, 8), (2, 5, 5, 2, 9), (4, 2, 1, 0, 6)]


def conv_off(formula, c_in, c_out, k, padding, side, seed=0):
    x = torch.randn(c_in, side, side, generator=gen(seed))
    w = torch.randn(c_out, c_in, k, k, generator=gen(seed + 1))
    b = torch.randn(c_out, generator=gen(seed + 2))
    return (formula(x, w, b, padding) - F.conv2d(x[None], w, b, padding=padding)[0]).abs().max().item() / TOL


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_formula_matches_f_conv2d(case):
    assert conv_off(conv_by_formula, *case) <= 1.0


@pytest.mark.parametrize("name,wrong", [
    ("flipped filter (true convolution)", lambda x, w, b, p: conv_by_formula(x, w, b, p, flip=True)),
    ("sum over input channels forgotten", lambda x, w, b, p: conv_by_formula(x, w, b, p, first_channel_only=True)),
    ("bias forgotten", lambda x, w, b, p: conv_by_formula(x, w, 0 * b, p)),
])
def test_wrong_conv_formulas_are_caught(name, wrong):
    case = (3, 4, 3, 1, 8)
    assert conv_off(conv_by_formula, *case) <= 1.0
    assert conv_off(wrong, *case) > 1e6


# --------------------------------------------- sparse interactions, receptive field, sharing
def conv_as_matrix(w, side, padding):
    """The matrix of the linear map x -> conv(x) (no bias): column j is the response to pixel j."""
    c_in = w.shape[1]
    basis = torch.eye(c_in * side * side).reshape(-1, c_in, side, side)
    return F.conv2d(basis, w, padding=padding).reshape(c_in * side * side, -1).T


def test_conv_is_a_sparse_weight_shared_matrix():
    c_in, c_out, k, side = 2, 3, 3, 8
    w, b = torch.randn(c_out, c_in, k, k, generator=gen(6)), torch.randn(c_out, generator=gen(7))
    matrix = conv_as_matrix(w, side, padding=1)  # (c_out side side, c_in side side)
    dense = nn.Linear(c_in * side * side, c_out * side * side)
    with torch.no_grad():
        dense.weight.copy_(matrix)
        dense.bias.copy_(b.repeat_interleave(side * side))
    x = torch.randn(c_in, side, side, generator=gen(8))
    torch.testing.assert_close(dense(x.reshape(-1)).reshape(c_out, side, side),
                               F.conv2d(x[None], w, b, padding=1)[0], rtol=0, atol=TOL)
    nonzeros = (matrix != 0).sum(dim=1).reshape(c_out, side, side)
    assert (nonzeros[:, 1:-1, 1:-1] == k * k * c_in).all()  # interior rows: k^2 c_in entries
    assert (nonzeros <= k * k * c_in).all() and nonzeros[:, 0, 0].eq(4 * c_in).all()  # corner: 2 x 2 window
    assert (matrix != 0).double().mean() < 0.13  # mostly zeros
    # weight sharing: the row of position (i, j + 1) is the row of (i, j) shifted by one pixel
    rows = matrix.reshape(c_out, side, side, c_in, side, side)
    torch.testing.assert_close(rows[:, 3, 4], torch.roll(rows[:, 3, 3], 1, dims=-1), rtol=0, atol=0)
    torch.testing.assert_close(rows[:, 4, 3], torch.roll(rows[:, 3, 3], 1, dims=-2), rtol=0, atol=0)


@pytest.mark.parametrize("k,c_in", [(1, 1), (3, 2), (5, 3)])
def test_one_layer_receptive_field_is_k_by_k(k, c_in):
    side = 11
    x = torch.randn(1, c_in, side, side, generator=gen(9), requires_grad=True)
    w = torch.randn(2, c_in, k, k, generator=gen(10))
    out = F.conv2d(x, w, padding=k // 2)
    (grad,) = torch.autograd.grad(out[0, 1, 5, 6], x)
    rows, cols = grad[0].abs().sum(0).nonzero(as_tuple=True)
    assert (grad != 0).sum() == k * k * c_in
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (5 - k // 2, 5 + k // 2, 6 - k // 2, 6 + k // 2)


# ------------------------------------------------------------------------ edge filters
def sobel_by_hand(img):
    p = F.pad(img, (1, 1, 1, 1))
    right, left = p[:-2, 2:] + 2 * p[1:-1, 2:] + p[2:, 2:], p[:-2, :-2] + 2 * p[1:-1, :-2] + p[2:, :-2]
    below, above = p[2:, :-2] + 2 * p[2:, 1:-1] + p[2:, 2:], p[:-2, :-2] + 2 * p[:-2, 1:-1] + p[:-2, 2:]
    return torch.stack([right - left, below - above])


def test_sobel_maps_match_by_hand():
    img = torch.rand(12, 10, generator=gen(11))
    torch.testing.assert_close(edge_maps(img), sobel_by_hand(img), rtol=0, atol=TOL)
    flipped = F.conv2d(img[None, None], torch.tensor([SNIPPET["SOBEL_X"], SNIPPET["SOBEL_Y"]]).flip(-1, -2)[:, None],
                       padding=1)[0]  # a true convolution flips the filters: the signs of the maps flip
    assert (flipped - sobel_by_hand(img)).abs().max() > 1.0
    torch.testing.assert_close(flipped, -sobel_by_hand(img), rtol=0, atol=TOL)


def test_sobel_on_a_step():
    step = torch.zeros(8, 8)
    step[:, 4:] = 1.0  # dark left half, bright right half: one vertical edge
    maps = edge_maps(step)
    assert (maps[0, 1:-1, 3:5] == 4).all() and (maps[0, 1:-1, :3] == 0).all() and (maps[0, 1:-1, 6:-1] == 0).all()
    assert (maps[1, 1:-1, :] == 0).all()  # no horizontal edge away from the padded border
    assert math.isclose(sum(map(sum, SNIPPET["SOBEL_X"])), 0) and math.isclose(sum(map(sum, SNIPPET["SOBEL_Y"])), 0)


# ---------------------------------------------------------------------- equivariance
SHIFTS = [(1, 0), (0, 1), (2, 3), (-1, 2), (-3, -2)]


def conv_layer(k=3, c_in=1, stride=1, circular=True, seed=12):
    w = torch.randn(2, c_in, k, k, generator=gen(seed))
    b = torch.randn(2, generator=gen(seed + 1))

    def layer(img):  # (c_in, H, W) -> (2, H', W')
        x = F.pad(img[None], (k // 2,) * 4, mode="circular" if circular else "constant")
        return F.conv2d(x, w, b, stride=stride)[0]

    return layer


def circular_gap(layer, x, dy, dx):
    return equivariance_gap(layer, x, dy, dx, circular=True).max().item()


@pytest.mark.parametrize("dy,dx", SHIFTS)
@pytest.mark.parametrize("k", [1, 3, 5])
def test_circular_convolution_is_exactly_equivariant(dy, dx, k):
    x = torch.randn(3, 10, 12, generator=gen(13))
    layer = conv_layer(k, c_in=3)
    assert circular_gap(layer, x, dy, dx) <= TOL
    module = nn.Conv2d(3, 2, k, padding=k // 2, padding_mode="circular")  # PyTorch's own circular padding
    assert circular_gap(lambda img: module(img[None])[0].detach(), x, dy, dx) <= TOL
    relu_stack = lambda img: torch.relu(conv_layer(k, 2, seed=20)(torch.relu(layer(img))))  # noqa: E731
    assert circular_gap(relu_stack, x, dy, dx) <= TOL  # pointwise non-linearities keep it


@pytest.mark.parametrize("dy,dx", SHIFTS)
def test_zero_padding_is_equivariant_in_the_interior_only(dy, dx):
    k, side = 3, 16
    x = 1.0 + torch.rand(1, side, side, generator=gen(14))  # content up to the border
    gap = equivariance_gap(conv_layer(k, circular=False), x, dy, dx)
    margin = max(abs(dy), abs(dx)) + k // 2
    assert gap[:, margin:-margin, margin:-margin].max() <= TOL
    assert gap.max() > 0.1  # ...but not at the border


def test_mutations_are_not_equivariant():
    side, x = 12, torch.randn(1, 12, 12, generator=gen(15))
    dense = nn.Linear(side * side, side * side)
    fully_connected = lambda img: dense(img.reshape(-1)).reshape(1, side, side).detach()  # noqa: E731
    local = LocallyConnected2d(1, 2, 3, side)
    untied = lambda img: local(img).detach()  # noqa: E731
    for layer in (fully_connected, untied):
        assert circular_gap(layer, x, 1, 0) > 0.1
    # tie the locally connected layer's weights and it becomes equivariant
    w, b = torch.randn(2, 1, 3, 3, generator=gen(16)), torch.randn(2, generator=gen(17))
    local.tie(w, b)
    assert equivariance_gap(untied, x, 1, 2)[:, 3:-3, 3:-3].max() <= TOL


def best_output_shift(layer, x, dy, dx):
    """min over every circular shift (a, b) of the output of max |layer(Tx) - roll(layer(x), (a, b))|."""
    shifted, out = layer(shift(x, dy, dx, circular=True)), layer(x)
    return min((shifted - torch.roll(out, (a, b), dims=(-2, -1))).abs().max().item()
               for a in range(out.shape[-2]) for b in range(out.shape[-1]))


def test_stride_breaks_equivariance_except_for_multiples_of_the_stride():
    x = torch.randn(1, 12, 12, generator=gen(18))
    strided = conv_layer(3, stride=2)
    out, shifted2 = strided(x), strided(shift(x, 2, 4, circular=True))
    torch.testing.assert_close(shifted2, torch.roll(out, (1, 2), dims=(-2, -1)), rtol=0, atol=TOL)  # 2 pixels -> 1
    assert best_output_shift(strided, x, 1, 0) > 0.5  # 1 pixel: no shift of the output matches
    assert best_output_shift(conv_layer(3, stride=1), x, 1, 0) <= TOL  # stride 1: the shifted output does


def test_pooling_invariance():
    x = torch.randn(1, 12, 12, generator=gen(19))
    layer = conv_layer(3)
    for dy, dx in SHIFTS:  # global pooling of an equivariant map: exactly invariant to circular shifts
        a, b = layer(x), layer(shift(x, dy, dx, circular=True))
        torch.testing.assert_close(a.amax((-2, -1)), b.amax((-2, -1)), rtol=0, atol=TOL)
        torch.testing.assert_close(a.mean((-2, -1)), b.mean((-2, -1)), rtol=0, atol=TOL)
    pooled = F.max_pool2d(layer(x), 2)  # 2 x 2 windows, stride 2
    pooled1 = F.max_pool2d(layer(shift(x, 1, 0, circular=True)), 2)
    assert (pooled1 != pooled).any() and (pooled1 == pooled).any()  # approximately, not exactly, invariant


# ------------------------------------------------------------- the numbers on the page
@pytest.fixture(scope="module")
def snippet_run():
    return run_snippet("why_convolution")


def test_figure_numbers_on_the_page(snippet_run):
    run = snippet_run
    assert run["figures"] == 3
    # Figure 1: a 32 x 32 digit; both filters sum to 0, so the maps are exactly 0 where the window is constant
    assert tuple(run["image"].shape) == (32, 32) and run["zero_where_constant"] == 0.0
    assert 0.05 < run["share_constant"] < 0.5
    # Figure 2: shifted by (2, 3); interior gaps are 0, the border gap 1.53, the fully connected gap 5.77 > 3.99
    numbers, margin = run["numbers"], run["margin"]
    assert margin == 4
    zero, circ, dense = (numbers[n] for n in ("convolution, zero padding", "convolution, circular padding",
                                              "fully connected"))
    assert zero["interior"] == 0.0 and circ["interior"] == 0.0 and circ["anywhere"] == 0.0
    assert f"{zero['anywhere']:.2f}" == "1.53"
    assert f"{dense['interior']:.2f}" == "5.77" and f"{dense['output']:.2f}" == "3.99"
    # Figure 3: the counts at 28 x 28 and 224 x 224
    assert run["counts"][28] == {"fully connected": 19_694_080, "locally connected": 250_880, "convolutional": 320}
    c28 = run["counts"][28]  # locality saves 785/10 = 78.5, sharing another 784
    assert c28["fully connected"] / c28["locally connected"] == 78.5 and c28["locally connected"] / c28["convolutional"] == 784
    assert run["counts"][224]["fully connected"] == 80_565_796_864
    assert run["counts"][224]["locally connected"] == 16_056_320
    assert all(c["convolutional"] == 320 for c in run["counts"].values())
