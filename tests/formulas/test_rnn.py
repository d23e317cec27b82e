"""Formula tests for docs/*/sequences/rnn.md.

The page's recurrence h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h), its stacked and bidirectional
forms (rnn_layer and rnn_forward in snippets/rnn.py, written with tensor ops) and its parameter
count are compared with torch.nn.RNN and torch.nn.RNNCell holding the same weights; the snippet's
hand-written Adam step with torch.optim.Adam. The experiments behind Figures 3 and 4 are rerun and
the numbers the page states about them asserted. Mutation tests at the end run wrong formulas
(roles of the weights swapped, no tanh, directions concatenated in the wrong order, ...) through
the same comparisons and require them to fail.
"""

import math

import pytest
import torch
from torch import nn

from snippet_code import assert_adam_step_matches_torch_optim_adam, snippet_function

pytestmark = pytest.mark.usefixtures("float64")  # the snippet's functions make tensors in the default dtype

SNIPPET = snippet_function("rnn", "rnn_layer", "rnn_forward", "layers_from", "rnn_param_count", "adam_step",
                           "train_sine", "sine_numbers", "delayed_recall", "DELAYS", "NOISE", "OMEGA")
rnn_layer, rnn_forward, layers_from = SNIPPET["rnn_layer"], SNIPPET["rnn_forward"], SNIPPET["layers_from"]
rnn_param_count = SNIPPET["rnn_param_count"]
ATOL = 1e-12


def worst_of(*values):
    """max() that treats NaN as infinitely bad."""
    return max(math.inf if math.isnan(v) else v for v in values)


def make_reference(d, d_h, num_layers, bidirectional, batch_first, seed):
    torch.manual_seed(seed)
    return nn.RNN(d, d_h, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first)


def forward_off(forward, d, d_h, num_layers, bidirectional, batch_first, seed=0, T=6, B=3):
    """Largest difference (output and h_n) between forward(x, layers, batch_first) and nn.RNN,
    in units of ATOL."""
    ref = make_reference(d, d_h, num_layers, bidirectional, batch_first, seed)
    x = torch.randn((B, T, d) if batch_first else (T, B, d), generator=torch.Generator().manual_seed(seed + 1))
    out_ref, h_n_ref = ref(x)
    out, h_n = forward(x, layers_from(ref), batch_first=batch_first)
    if out.shape != out_ref.shape or h_n.shape != h_n_ref.shape:
        return math.inf
    return worst_of((out - out_ref).abs().max().item(), (h_n - h_n_ref).abs().max().item()) / ATOL


# ---------------------------------------------------------------------------
# One step: the RNN cell h' = tanh(W_xh x + b_ih + W_hh h + b_hh)  vs  nn.RNNCell
# ---------------------------------------------------------------------------
def cell_by_hand(x, h, W_xh, W_hh, b_ih, b_hh):  # PyTorch's form, with its two biases
    return torch.tanh(x @ W_xh.T + b_ih + h @ W_hh.T + b_hh)


@pytest.mark.parametrize("d,d_h", [(1, 4), (3, 5), (8, 2)])
def test_cell_matches_rnncell(d, d_h):
    torch.manual_seed(d * 10 + d_h)
    cell = nn.RNNCell(d, d_h)
    x, h = torch.randn(4, d), torch.randn(4, d_h)
    expected = cell(x, h)
    by_hand = cell_by_hand(x, h, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    torch.testing.assert_close(by_hand, expected, rtol=0, atol=ATOL)
    # the snippet's layer, one step from the same h_0, with the single bias b_h = b_ih + b_hh
    ours = rnn_layer(x[None], cell.weight_ih, cell.weight_hh, cell.bias_ih + cell.bias_hh, h0=h)[0]
    torch.testing.assert_close(ours, expected.detach(), rtol=0, atol=ATOL)


def test_rnncell_stepped_over_time_is_nn_rnn():
    """nn.RNN (1 layer) is nn.RNNCell applied at every step with the same weights."""
    torch.manual_seed(3)
    ref = nn.RNN(2, 4)
    cell = nn.RNNCell(2, 4)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(getattr(ref, f"{name}_l0"))
    x = torch.randn(9, 5, 2)
    out, h_n = ref(x)
    h = torch.zeros(5, 4)
    for t in range(9):
        h = cell(x[t], h)
        torch.testing.assert_close(h, out[t], rtol=0, atol=ATOL)
    torch.testing.assert_close(h_n[0], h, rtol=0, atol=ATOL)


# ---------------------------------------------------------------------------
# The whole RNN (1 or 2 layers, batch-first or not, one or two directions) vs nn.RNN
# ---------------------------------------------------------------------------
CONFIGS = [(num_layers, bidirectional, batch_first) for num_layers in (1, 2)
           for bidirectional in (False, True) for batch_first in (False, True)]


@pytest.mark.parametrize("num_layers,bidirectional,batch_first", CONFIGS)
def test_rnn_forward_matches_nn_rnn(num_layers, bidirectional, batch_first):
    assert forward_off(rnn_forward, 3, 5, num_layers, bidirectional, batch_first) <= 1.0
    assert forward_off(rnn_forward, 5, 5, num_layers, bidirectional, batch_first, seed=7, T=11, B=1) <= 1.0


def test_shapes_stated_on_the_page():
    """output (B, T, D*d_h) with batch_first, h_n (D*num_layers, B, d_h) regardless of batch_first."""
    for batch_first in (False, True):
        rnn = nn.RNN(10, 20, num_layers=3, bidirectional=True, batch_first=batch_first)
        x = torch.randn((4, 7, 10) if batch_first else (7, 4, 10))
        out, h_n = rnn(x)
        assert out.shape == ((4, 7, 40) if batch_first else (7, 4, 40))
        assert h_n.shape == (6, 4, 20)
        # h_n[-2] is the last layer's forward state at t = T, h_n[-1] its backward state at t = 1
        out_tb = out if not batch_first else out.transpose(0, 1)
        torch.testing.assert_close(h_n[-2], out_tb[-1, :, :20], rtol=0, atol=0)
        torch.testing.assert_close(h_n[-1], out_tb[0, :, 20:], rtol=0, atol=0)


def test_one_bias_or_two_is_the_same_model():
    """Only b_ih + b_hh matters: moving all of it into b_ih changes nothing."""
    torch.manual_seed(5)
    a = nn.RNN(3, 4, num_layers=2)
    b = nn.RNN(3, 4, num_layers=2)
    b.load_state_dict(a.state_dict())
    with torch.no_grad():
        for layer in range(2):
            getattr(b, f"bias_ih_l{layer}").add_(getattr(b, f"bias_hh_l{layer}"))
            getattr(b, f"bias_hh_l{layer}").zero_()
    x = torch.randn(6, 2, 3)
    torch.testing.assert_close(b(x)[0], a(x)[0], rtol=0, atol=ATOL)


# ---------------------------------------------------------------------------
# Parameter count: independent of T
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("d,d_h,num_layers,bidirectional",
                         [(1, 16, 1, False), (3, 5, 2, True), (10, 20, 3, False), (300, 128, 2, True), (7, 1, 4, True)])
def test_parameter_count(d, d_h, num_layers, bidirectional):
    rnn = nn.RNN(d, d_h, num_layers=num_layers, bidirectional=bidirectional)
    assert rnn_param_count(d, d_h, num_layers, bidirectional) == sum(p.numel() for p in rnn.parameters())


def test_numbers_in_the_parameter_count_text():
    """Page: d = 1, d_h = 16 plus a linear output layer: 16 + 256 + 32 + 17 = 321 parameters;
    d = 300, d_h = 128, 2 layers, bidirectional: 208,896."""
    assert rnn_param_count(1, 16) + 16 + 1 == 321
    assert rnn_param_count(300, 128, 2, True) == 2 * (300 * 128 + 128 * 128 + 256) + 2 * (256 * 128 + 128 * 128 + 256) == 208_896


def test_same_parameters_for_any_length():
    torch.manual_seed(0)
    rnn = nn.RNN(2, 3)
    n = sum(p.numel() for p in rnn.parameters())
    for T in (1, 5, 500):
        out, _ = rnn(torch.randn(T, 1, 2))
        assert out.shape == (T, 1, 3)
    assert n == rnn_param_count(2, 3) == 2 * 3 + 3 * 3 + 2 * 3


# ---------------------------------------------------------------------------
# The snippet's Adam step  vs  torch.optim.Adam
# ---------------------------------------------------------------------------
def test_adam_step_matches_torch_optim_adam():
    assert_adam_step_matches_torch_optim_adam(SNIPPET["adam_step"], lr=0.03)


# ---------------------------------------------------------------------------
# What the page says about Figures 3 and 4
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sine_run():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # as the snippet computes
    try:
        model, losses = SNIPPET["train_sine"]()
        return losses, SNIPPET["sine_numbers"](model)
    finally:
        torch.set_default_dtype(previous)


def test_figure_3_numbers(sine_run):
    losses, numbers = sine_run
    assert len(losses) == 80
    assert losses[0] == pytest.approx(0.6, abs=0.05)  # "falls from about 0.6"
    assert losses[-10:].mean() == pytest.approx(0.02, abs=0.005)  # "to about 0.02"
    assert numbers["parameters"] == 321
    assert numbers["noise_floor"] == pytest.approx(0.01)
    # test MSE 0.016 against 0.065 for repeating the last value; the floor is 0.01
    assert numbers["rnn"] == pytest.approx(0.016, abs=0.002)
    assert numbers["repeat_last"] == pytest.approx(0.065, abs=0.002)
    assert numbers["noise_floor"] < numbers["rnn"] < 0.3 * numbers["repeat_last"]


def test_repeat_last_value_formula(sine_run):
    """Page: repeating the last value costs E[(s_{t+1} - s_t)^2] = (1 - cos omega) + 2 sigma^2 = 0.065."""
    _, numbers = sine_run
    omega, sigma = SNIPPET["OMEGA"], SNIPPET["NOISE"]
    formula = (1 - math.cos(omega)) + 2 * sigma**2
    assert formula == pytest.approx(0.0647, abs=1e-4)
    assert numbers["repeat_last"] == pytest.approx(formula, rel=0.03)  # 500 x 110 samples


def test_figure_4_numbers():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        accuracy = dict(zip(SNIPPET["DELAYS"], SNIPPET["delayed_recall"]()))
    finally:
        torch.set_default_dtype(previous)
    assert min(accuracy[1], accuracy[2], accuracy[4]) >= 0.99  # "100 %"
    assert 0.80 <= accuracy[8] <= 0.92  # "about 86 %"
    assert abs(accuracy[16] - 0.5) <= 0.03  # "chance"


# ---------------------------------------------------------------------------
# Mutation tests: wrong formulas through the same comparisons
# ---------------------------------------------------------------------------
def layer_roles_swapped(x, W_xh, W_hh, b_h, h0=None, reverse=False):  # W_hh on the input, W_xh on the state
    return rnn_layer(x, W_hh, W_xh, b_h, h0, reverse)


def layer_without_tanh(x, W_xh, W_hh, b_h, h0=None, reverse=False):  # h_t = W_xh x_t + W_hh h_{t-1} + b_h
    T, B, _ = x.shape
    h = torch.zeros(B, W_hh.shape[0])
    states = [None] * T
    for t in (reversed(range(T)) if reverse else range(T)):
        h = x[t] @ W_xh.T + h @ W_hh.T + b_h
        states[t] = h
    return torch.stack(states)


def layer_relu(x, W_xh, W_hh, b_h, h0=None, reverse=False):  # nonlinearity="relu" is not the default
    T, B, _ = x.shape
    h = torch.zeros(B, W_hh.shape[0])
    states = [None] * T
    for t in (reversed(range(T)) if reverse else range(T)):
        h = torch.relu(x[t] @ W_xh.T + h @ W_hh.T + b_h)
        states[t] = h
    return torch.stack(states)


def with_layer(layer_fn):
    """rnn_forward with its per-direction layer replaced."""
    def forward(x, layers, batch_first=False):
        if batch_first:
            x = x.transpose(0, 1)
        h_n = []
        for directions in layers:
            outs = []
            for k, (W_xh, W_hh, b_h) in enumerate(directions):
                states = layer_fn(x, W_xh, W_hh, b_h, reverse=(k == 1))
                outs.append(states)
                h_n.append(states[0] if k == 1 else states[-1])
            x = torch.cat(outs, dim=-1)
        return (x.transpose(0, 1) if batch_first else x), torch.stack(h_n)
    return forward


def forward_backward_first(x, layers, batch_first=False):  # concatenates [backward; forward]
    if batch_first:
        x = x.transpose(0, 1)
    h_n = []
    for directions in layers:
        outs = [rnn_layer(x, *p, reverse=(k == 1)) for k, p in enumerate(directions)]
        h_n += [o[0] if k == 1 else o[-1] for k, o in enumerate(outs)]
        x = torch.cat(outs[::-1], dim=-1)  # wrong order
    return (x.transpose(0, 1) if batch_first else x), torch.stack(h_n)


def forward_h_n_at_last_step(x, layers, batch_first=False):  # backward h_n taken at t = T instead of t = 1
    out, _ = rnn_forward(x, layers, batch_first)
    xs = x.transpose(0, 1) if batch_first else x
    h_n = []
    for directions in layers:
        outs = [rnn_layer(xs, *p, reverse=(k == 1)) for k, p in enumerate(directions)]
        h_n += [o[-1] for o in outs]
        xs = torch.cat(outs, dim=-1)
    return out, torch.stack(h_n)


def forward_ignores_batch_first(x, layers, batch_first=False):  # treats (B, T, d) as (T, B, d)
    out, h_n = rnn_forward(x, layers, batch_first=False)
    return out, h_n


@pytest.mark.parametrize("name,wrong,bidirectional,batch_first", [
    ("W_xh and W_hh roles swapped", with_layer(layer_roles_swapped), False, False),
    ("tanh omitted", with_layer(layer_without_tanh), False, True),
    ("ReLU instead of tanh", with_layer(layer_relu), True, False),
    ("bidirectional outputs concatenated [backward; forward]", forward_backward_first, True, False),
    ("backward h_n taken at t = T", forward_h_n_at_last_step, True, True),
    ("batch_first ignored", forward_ignores_batch_first, False, True),
])
def test_wrong_forwards_are_caught(name, wrong, bidirectional, batch_first):
    # d = d_h so that even the swapped roles give tensors of the right shape and the comparison runs
    assert forward_off(rnn_forward, 5, 5, 2, bidirectional, batch_first) <= 1.0
    assert forward_off(wrong, 5, 5, 2, bidirectional, batch_first) > 1e6


@pytest.mark.parametrize("name,wrong", [
    ("one bias per layer", lambda d, d_h, L, bi: (2 if bi else 1) * (d * d_h + d_h * d_h + d_h)
     + (L - 1) * (2 if bi else 1) * ((2 if bi else 1) * d_h * d_h + d_h * d_h + d_h)),
    ("layers above see d_h inputs, not D*d_h", lambda d, d_h, L, bi: (2 if bi else 1) * (
        d * d_h + d_h * d_h + 2 * d_h + (L - 1) * (2 * d_h * d_h + 2 * d_h))),
    ("d_h^2 counted once for both directions", lambda d, d_h, L, bi: rnn_param_count(d, d_h, L, bi)
     - (L * d_h * d_h if bi else 0)),
])
def test_wrong_parameter_counts_are_caught(name, wrong):
    rnn = nn.RNN(3, 5, num_layers=2, bidirectional=True)
    actual = sum(p.numel() for p in rnn.parameters())
    assert rnn_param_count(3, 5, 2, True) == actual
    assert wrong(3, 5, 2, True) != actual


def test_figure_numbers_would_catch_a_model_without_memory():
    """A next-value predictor that sees only the current value s_t (no memory) stays far above
    the RNN's test MSE: the comparison in test_figure_3_numbers is not vacuous."""
    gen = torch.Generator().manual_seed(1)
    phase = 2 * math.pi * torch.rand(500, 1, generator=gen)
    t = torch.arange(121)
    s = torch.sin(SNIPPET["OMEGA"] * t + phase) + SNIPPET["NOISE"] * torch.randn(500, 121, generator=gen)
    x, y = s[:, 10:-1].reshape(-1), s[:, 11:].reshape(-1)
    # the best function of x_t alone, approximated by least squares on a rich polynomial basis
    basis = torch.stack([x**k for k in range(8)], dim=1)
    coef = torch.linalg.lstsq(basis, y[:, None]).solution
    mse = ((basis @ coef)[:, 0] - y).pow(2).mean().item()
    # page: "the best function of the current value alone: about 0.06", far above the RNN's 0.016,
    # because s_t alone does not tell whether the wave is rising or falling
    assert mse == pytest.approx(0.06, abs=0.005)
