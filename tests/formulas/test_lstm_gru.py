"""Formula tests for docs/*/sequences/lstm-gru.md.

The LSTM and GRU equations of the page are written here from scratch, block by block, and
compared with torch.nn.LSTMCell, torch.nn.LSTM, torch.nn.GRUCell and torch.nn.GRU holding the same
weights (gate orders i, f, g, o and r, z, n; one and two layers; batch_first or not); so are the
snippet's lstm_cell, lstm_forward, gru_cell and gru_forward. The reset gate placed as Cho et al.
(2014) place it must differ from nn.GRU for the same weights. Parameter counts are checked
against numel, the two-bias conventions and PyTorch's initialization against the modules, and
dc_t/dc_{t-1} = diag(f_t) (gates held fixed) against autograd. The recall experiment behind
Figures 1 and 2 is rerun and the numbers the page states about it asserted. Mutation tests run
wrong formulas (gate order i, f, o, g; z and 1 - z swapped; no forget gate; ...) through the same
comparisons and require them to fail.
"""

import math

import pytest
import torch
from torch import nn

from snippet_code import assert_adam_step_matches_torch_optim_adam, snippet_function

pytestmark = pytest.mark.usefixtures("float64")  # the snippet's functions make tensors in the default dtype

SNIPPET = snippet_function("lstm_gru", "lstm_cell", "lstm_forward", "gru_cell", "gru_forward", "weights_of",
                           "param_count", "adam_step", "recall_batch", "Recall", "recall_experiment",
                           "memory_unit", "gate_numbers", "error_numbers", "LENGTH", "NETWORKS")
lstm_cell, lstm_forward = SNIPPET["lstm_cell"], SNIPPET["lstm_forward"]
gru_cell, gru_forward, weights_of = SNIPPET["gru_cell"], SNIPPET["gru_forward"], SNIPPET["weights_of"]
param_count = SNIPPET["param_count"]
ATOL = 1e-12


def worst_of(*values):
    """max() that treats NaN as infinitely bad."""
    return max(math.inf if math.isnan(v) else v for v in values)


# ---------------------------------------------------------------------------
# The page's equations, written block by block (independently of the snippet)
# ---------------------------------------------------------------------------
def lstm_step(x, h, c, W_ih, W_hh, b_ih, b_hh, order="ifgo"):
    """i, f, o = sigma(.), g = tanh(.), c_t = f * c_{t-1} + i * g, h_t = o * tanh(c_t).
    `order` names the gate of each block of rows of the weights (PyTorch: i, f, g, o)."""
    d_h = W_hh.shape[1]
    pre = {name: x @ W_ih[k * d_h:(k + 1) * d_h].T + b_ih[k * d_h:(k + 1) * d_h]
           + h @ W_hh[k * d_h:(k + 1) * d_h].T + b_hh[k * d_h:(k + 1) * d_h] for k, name in enumerate(order)}
    i, f, o, g = torch.sigmoid(pre["i"]), torch.sigmoid(pre["f"]), torch.sigmoid(pre["o"]), torch.tanh(pre["g"])
    c = f * c + i * g
    return o * torch.tanh(c), c


def gru_step(x, h, W_ih, W_hh, b_ih, b_hh, order="rzn", swap_z=False, reset_before=False):
    """r, z = sigma(.), n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h_t = (1 - z) * n + z * h_{t-1}.
    swap_z: h_t = z * n + (1 - z) * h_{t-1}; reset_before: n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)."""
    d_h = W_hh.shape[1]

    def block(name):
        k = order.index(name)
        rows = slice(k * d_h, (k + 1) * d_h)
        return W_ih[rows], W_hh[rows], b_ih[rows], b_hh[rows]

    W_ir, W_hr, b_ir, b_hr = block("r")
    W_iz, W_hz, b_iz, b_hz = block("z")
    W_in, W_hn, b_in, b_hn = block("n")
    r = torch.sigmoid(x @ W_ir.T + b_ir + h @ W_hr.T + b_hr)
    z = torch.sigmoid(x @ W_iz.T + b_iz + h @ W_hz.T + b_hz)
    if reset_before:
        n = torch.tanh(x @ W_in.T + b_in + (r * h) @ W_hn.T + b_hn)
    else:
        n = torch.tanh(x @ W_in.T + b_in + r * (h @ W_hn.T + b_hn))
    return z * n + (1 - z) * h if swap_z else (1 - z) * n + z * h


def run_layers(step, x, layers, batch_first, with_cell):
    """Stack `step` over time and layers as nn.LSTM / nn.GRU do; returns output, h_n (and c_n)."""
    if batch_first:
        x = x.transpose(0, 1)
    h_n, c_n = [], []
    for W_ih, W_hh, b_ih, b_hh in layers:
        h = torch.zeros(x.shape[1], W_hh.shape[1])
        c = torch.zeros_like(h)
        outs = []
        for t in range(x.shape[0]):
            if with_cell:
                h, c = step(x[t], h, c, W_ih, W_hh, b_ih, b_hh)
            else:
                h = step(x[t], h, W_ih, W_hh, b_ih, b_hh)
            outs.append(h)
        x = torch.stack(outs)
        h_n.append(h)
        c_n.append(c)
    out = x.transpose(0, 1) if batch_first else x
    return (out, torch.stack(h_n), torch.stack(c_n)) if with_cell else (out, torch.stack(h_n))


def reference_and_input(kind, d, d_h, num_layers, batch_first, seed, T=6, B=3):
    torch.manual_seed(seed)
    module = getattr(nn, kind)(d, d_h, num_layers=num_layers, batch_first=batch_first)
    x = torch.randn((B, T, d) if batch_first else (T, B, d), generator=torch.Generator().manual_seed(seed + 1))
    return module, x


def lstm_off(step, d=3, d_h=4, num_layers=1, batch_first=False, seed=0):
    """Largest difference of output, h_n and c_n between `step` run over time and nn.LSTM, in units of ATOL."""
    ref, x = reference_and_input("LSTM", d, d_h, num_layers, batch_first, seed)
    out_ref, (h_ref, c_ref) = ref(x)
    out, h_n, c_n = run_layers(step, x, weights_of(ref), batch_first, with_cell=True)
    return worst_of(*((a - b).abs().max().item() for a, b in ((out, out_ref), (h_n, h_ref), (c_n, c_ref)))) / ATOL


def gru_off(step, d=3, d_h=4, num_layers=1, batch_first=False, seed=0):
    """Largest difference of output and h_n between `step` run over time and nn.GRU, in units of ATOL."""
    ref, x = reference_and_input("GRU", d, d_h, num_layers, batch_first, seed)
    out_ref, h_ref = ref(x)
    out, h_n = run_layers(step, x, weights_of(ref), batch_first, with_cell=False)
    return worst_of((out - out_ref).abs().max().item(), (h_n - h_ref).abs().max().item()) / ATOL


# ---------------------------------------------------------------------------
# LSTM: one step vs nn.LSTMCell, and the whole sequence vs nn.LSTM
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("d,d_h", [(1, 3), (3, 5), (6, 2)])
def test_lstm_cell_matches_lstmcell(d, d_h):
    torch.manual_seed(d * 10 + d_h)
    cell = nn.LSTMCell(d, d_h)
    x, h, c = torch.randn(4, d), torch.randn(4, d_h), torch.randn(4, d_h)
    h_ref, c_ref = cell(x, (h, c))
    weights = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    h_ours, c_ours = lstm_step(x, h, c, *weights)
    torch.testing.assert_close((h_ours, c_ours), (h_ref, c_ref), rtol=0, atol=ATOL)
    h_snip, c_snip, (i, f, g, o) = lstm_cell(x, h, c, *weights)  # the snippet's cell
    torch.testing.assert_close((h_snip, c_snip), (h_ref, c_ref), rtol=0, atol=ATOL)
    assert all(((0 < v) & (v < 1)).all() for v in (i, f, o)) and (g.abs() < 1).all()


def test_lstmcell_with_copied_weights_stepped_over_time_is_nn_lstm():
    """nn.LSTM (1 layer) is nn.LSTMCell applied at every step, with the weights copied over."""
    torch.manual_seed(3)
    ref, cell = nn.LSTM(2, 4), nn.LSTMCell(2, 4)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(getattr(ref, f"{name}_l0"))
    x = torch.randn(9, 5, 2)
    out, (h_n, c_n) = ref(x)
    h = c = torch.zeros(5, 4)
    for t in range(9):
        h, c = cell(x[t], (h, c))
        torch.testing.assert_close(h, out[t], rtol=0, atol=ATOL)
    torch.testing.assert_close((h, c), (h_n[0], c_n[0]), rtol=0, atol=ATOL)


@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("batch_first", [False, True])
def test_lstm_equations_match_nn_lstm(num_layers, batch_first):
    assert lstm_off(lstm_step, num_layers=num_layers, batch_first=batch_first) <= 1.0
    # the snippet's lstm_forward too
    ref, x = reference_and_input("LSTM", 3, 4, num_layers, batch_first, 0)
    out_ref, (h_ref, c_ref) = ref(x)
    out, (h_n, c_n), trace = lstm_forward(x, weights_of(ref), batch_first=batch_first)
    torch.testing.assert_close((out, h_n, c_n), (out_ref, h_ref, c_ref), rtol=0, atol=ATOL)
    torch.testing.assert_close(trace["c"][-1], c_ref[-1], rtol=0, atol=ATOL)


def test_lstm_weight_layout_stated_on_the_page():
    """weight_ih_l0 is (4 d_h, d) = [W_ii; W_if; W_ig; W_io], weight_hh_l0 (4 d_h, d_h), two biases (4 d_h);
    output (T, B, d_h); h_n and c_n (num_layers, B, d_h) also when batch_first."""
    lstm = nn.LSTM(5, 7, num_layers=2, batch_first=True)
    assert lstm.weight_ih_l0.shape == (28, 5) and lstm.weight_hh_l0.shape == (28, 7)
    assert lstm.weight_ih_l1.shape == (28, 7)  # layer 2 reads the 7 hidden states of layer 1
    assert lstm.bias_ih_l0.shape == lstm.bias_hh_l0.shape == (28,)
    out, (h_n, c_n) = lstm(torch.randn(3, 11, 5))
    assert out.shape == (3, 11, 7) and h_n.shape == c_n.shape == (2, 3, 7)
    gru = nn.GRU(5, 7)
    assert gru.weight_ih_l0.shape == (21, 5) and gru.weight_hh_l0.shape == (21, 7)


# ---------------------------------------------------------------------------
# GRU: one step vs nn.GRUCell, the whole sequence vs nn.GRU, and the two reset placements
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("d,d_h", [(1, 3), (3, 5), (6, 2)])
def test_gru_cell_matches_grucell(d, d_h):
    torch.manual_seed(d * 10 + d_h)
    cell = nn.GRUCell(d, d_h)
    x, h = torch.randn(4, d), torch.randn(4, d_h)
    expected = cell(x, h)
    weights = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    torch.testing.assert_close(gru_step(x, h, *weights), expected, rtol=0, atol=ATOL)
    torch.testing.assert_close(gru_cell(x, h, *weights)[0], expected, rtol=0, atol=ATOL)


@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("batch_first", [False, True])
def test_gru_equations_match_nn_gru(num_layers, batch_first):
    assert gru_off(gru_step, num_layers=num_layers, batch_first=batch_first) <= 1.0
    ref, x = reference_and_input("GRU", 3, 4, num_layers, batch_first, 0)
    out_ref, h_ref = ref(x)
    out, h_n = gru_forward(x, weights_of(ref), batch_first=batch_first)
    torch.testing.assert_close((out, h_n), (out_ref, h_ref), rtol=0, atol=ATOL)


def cho_step(x, h, W_ih, W_hh, b_ih, b_hh):  # the reset gate of Cho et al. (2014): W_hn (r * h)
    return gru_step(x, h, W_ih, W_hh, b_ih, b_hh, reset_before=True)


@pytest.mark.parametrize("num_layers", [1, 2])
def test_reset_before_the_product_is_not_pytorchs_gru(num_layers):
    """Page: PyTorch applies r after W_hn h (+ b_hn); Cho et al. apply it to h before the product.
    For the same weights the PyTorch placement matches nn.GRU and Cho's does not."""
    assert gru_off(gru_step, num_layers=num_layers) <= 1.0
    assert gru_off(cho_step, num_layers=num_layers) > 1e9  # off by more than 1e-3
    ref, x = reference_and_input("GRU", 3, 4, num_layers, False, 0)
    cho, _ = gru_forward(x, weights_of(ref), reset_after=False)  # the snippet's switch
    assert (cho - ref(x)[0]).abs().max() > 1e-3


def test_the_two_placements_agree_when_the_reset_gate_is_open():
    """r = 1 (a large reset bias) makes r * (W h + b) = W (r * h) + b: the placements differ only through r."""
    torch.manual_seed(4)
    gru = nn.GRU(3, 4)
    with torch.no_grad():
        gru.bias_ih_l0[:4] = 60.0  # sigma(60 + ...) = 1 in float64
    x = torch.randn(6, 2, 3)
    out_cho, _ = gru_forward(x, weights_of(gru), reset_after=False)
    torch.testing.assert_close(out_cho, gru(x)[0], rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------
# Biases, initialization and parameter counts
# ---------------------------------------------------------------------------
def test_lstm_biases_enter_only_as_a_sum():
    torch.manual_seed(5)
    lstm = nn.LSTM(3, 4)
    x = torch.randn(5, 2, 3)
    before = lstm(x)[0]
    with torch.no_grad():
        total = lstm.bias_ih_l0 + lstm.bias_hh_l0
        lstm.bias_ih_l0.copy_(total)
        lstm.bias_hh_l0.zero_()
    torch.testing.assert_close(lstm(x)[0], before, rtol=0, atol=ATOL)


def test_gru_b_hn_cannot_be_moved_into_b_in():
    """Page: in PyTorch's GRU, b_hn sits inside r * (.), so it is a parameter of its own;
    the r and z biases still enter only as sums."""
    torch.manual_seed(6)
    gru = nn.GRU(3, 4)
    x = torch.randn(5, 2, 3)
    before = gru(x)[0]
    moved_rz, moved_n = nn.GRU(3, 4), nn.GRU(3, 4)
    moved_rz.load_state_dict(gru.state_dict())
    moved_n.load_state_dict(gru.state_dict())
    with torch.no_grad():
        for module, rows in ((moved_rz, slice(0, 8)), (moved_n, slice(8, 12))):
            module.bias_ih_l0[rows] += module.bias_hh_l0[rows]
            module.bias_hh_l0[rows] = 0.0
    torch.testing.assert_close(moved_rz(x)[0], before, rtol=0, atol=ATOL)
    assert (moved_n(x)[0] - before).abs().max() > 1e-3


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_pytorch_initializes_everything_uniformly(kind):
    """U(-1/sqrt(d_h), 1/sqrt(d_h)) for every weight and bias, the forget-gate bias included."""
    torch.manual_seed(7)
    d_h = 64
    module = getattr(nn, kind)(10, d_h)
    bound = 1 / math.sqrt(d_h)
    for name, p in module.named_parameters():
        assert p.abs().max() <= bound, name
        assert p.abs().max() > 0.9 * bound, name  # and fills the interval
    lstm = nn.LSTM(10, d_h)
    forget = (lstm.bias_ih_l0 + lstm.bias_hh_l0)[d_h:2 * d_h]
    assert forget.abs().max() <= 2 * bound and abs(torch.sigmoid(forget).mean() - 0.5) < 0.02  # f ~ 0.5


def test_forget_bias_of_the_recall_lstm_is_one():
    model = SNIPPET["Recall"]("LSTM", 8)
    total = model.rnn.bias_ih_l0 + model.rnn.bias_hh_l0
    torch.testing.assert_close(total[8:16], torch.ones(8), rtol=0, atol=0)
    assert abs(torch.sigmoid(torch.tensor(1.0)).item() - 0.731) < 5e-4  # sigma(1) = 0.73


@pytest.mark.parametrize("d,d_h,num_layers", [(2, 8, 1), (300, 128, 1), (10, 20, 2), (1, 1, 3)])
def test_parameter_counts(d, d_h, num_layers):
    """One layer: blocks * (d_h (d + d_h) + 2 d_h) in PyTorch; layers after the first read d_h inputs."""
    for kind, blocks in (("RNN", 1), ("LSTM", 4), ("GRU", 3)):
        module = getattr(nn, kind)(d, d_h, num_layers=num_layers)
        expected = param_count(blocks, d, d_h) + (num_layers - 1) * param_count(blocks, d_h, d_h)
        assert sum(p.numel() for p in module.parameters()) == expected, kind
        # with one bias vector per block, as the page writes the equations: blocks * d_h fewer per layer
        assert param_count(blocks, d, d_h, biases=1) == param_count(blocks, d, d_h) - blocks * d_h
    assert param_count(4, d, d_h, biases=1) == 4 * (d_h * (d + d_h) + d_h)  # the page's 4(d_h(d + d_h) + d_h)


def test_numbers_in_the_text():
    """nn.LSTM(2, 8): 384, nn.GRU(2, 8): 288, nn.RNN(2, 8): 96; with the read-out 393, 297, 105; RNN(2, 32) 1185."""
    assert (param_count(4, 2, 8), param_count(3, 2, 8), param_count(1, 2, 8)) == (384, 288, 96)
    for (kind, hidden), n in {("LSTM", 8): 393, ("GRU", 8): 297, ("RNN", 8): 105, ("RNN", 32): 1185}.items():
        assert sum(p.numel() for p in SNIPPET["Recall"](kind, hidden).parameters()) == n


# ---------------------------------------------------------------------------
# dc_t/dc_{t-1} = diag(f_t) with the gates held fixed, against autograd
# ---------------------------------------------------------------------------
def cell_path_jacobians(k, t, seed=8, d=3, d_h=5, forget_bias=0.0):
    """Run an LSTM (one sequence) for k steps, then differentiate c_t with respect to c_k by autograd,
    once with the gates computed from a detached h (held fixed) and once through every path.
    Returns both Jacobians and the forget gates f_{k+1}, ..., f_t."""
    torch.manual_seed(seed)
    lstm = nn.LSTM(d, d_h)
    with torch.no_grad():
        lstm.bias_ih_l0[d_h:2 * d_h] += forget_bias
    W = weights_of(lstm)[0]
    x = torch.randn(t, 1, d)
    h = c = torch.zeros(1, d_h)
    for s in range(k):  # steps 1..k
        h, c, (_, _, _, o_k) = lstm_cell(x[s], h, c, *W)

    def run(c_k, hold_gates):
        c_s = c_k[None]
        h_s = o_k * torch.tanh(c_s)  # h_k = o_k * tanh(c_k): c_k reaches later gates through h as well
        for s in range(k, t):  # steps k+1..t
            h_s, c_s, _ = lstm_cell(x[s], h_s.detach() if hold_gates else h_s, c_s, *W)
        return c_s[0]

    forget, h_s, c_s = [], h, c
    for s in range(k, t):
        h_s, c_s, gates = lstm_cell(x[s], h_s, c_s, *W)
        forget.append(gates[1][0])
    held = torch.autograd.functional.jacobian(lambda ck: run(ck, True), c[0])
    full = torch.autograd.functional.jacobian(lambda ck: run(ck, False), c[0])
    return held, full, torch.stack(forget)


@pytest.mark.parametrize("k,t", [(1, 2), (3, 4), (2, 7)])
def test_cell_jacobian_is_diag_f_with_gates_held_fixed(k, t):
    held, full, forget = cell_path_jacobians(k, t)
    # one step: diag(f_t); several: the product of the diagonals, diag(f_{k+1} * ... * f_t)
    torch.testing.assert_close(held, torch.diag(forget.prod(0)), rtol=0, atol=1e-14)
    # through every path (the gates depend on h, which depends on c) the Jacobian is not diagonal
    assert (full - torch.diag(forget.prod(0))).abs().max() > 1e-3


def test_cell_path_shrinks_geometrically_unless_f_is_near_one():
    """Page: with f < 1 the held-gates factor is a product of numbers below 1; a forget bias of 3 keeps it large."""
    held, _, forget = cell_path_jacobians(1, 31)
    assert abs(forget.mean() - 0.5) < 0.05 and held.diagonal().max() < 1e-5  # PyTorch's init: f about 0.5
    held_b, _, forget_b = cell_path_jacobians(1, 31, forget_bias=3.0)
    assert forget_b.mean() > 0.9 and held_b.diagonal().min() > 0.01


# ---------------------------------------------------------------------------
# The snippet's Adam step  vs  torch.optim.Adam
# ---------------------------------------------------------------------------
def test_adam_step_matches_torch_optim_adam():
    assert_adam_step_matches_torch_optim_adam(SNIPPET["adam_step"], lr=0.05)


# ---------------------------------------------------------------------------
# What the page says about Figures 1 and 2
# ---------------------------------------------------------------------------
def test_recall_task_as_described():
    x, u = SNIPPET["recall_batch"](torch.Generator().manual_seed(0), 5000, 20)
    assert x.shape == (5000, 20, 2)
    torch.testing.assert_close(x[:, 0, 0], u, rtol=0, atol=0)
    assert (x[:, 0, 1] == 1).all() and (x[:, 1:, 1] == 0).all()  # the marker is on at t = 1 only
    assert x[..., 0].abs().max() <= 1 and abs(x[:, 1:, 0].var().item() - 1 / 3) < 0.005  # U(-1, 1)
    # always answering 0 costs E[u^2] = 1/3
    assert abs((u**2).mean().item() - 1 / 3) < 0.01


@pytest.fixture(scope="module")
def recall_run():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # as the snippet computes
    try:
        models, x, u, errors = SNIPPET["recall_experiment"]()
        _, _, trace = lstm_forward(x, weights_of(models[("LSTM", 8)].rnn), batch_first=True)
        unit = SNIPPET["memory_unit"](trace)
        return SNIPPET["gate_numbers"](trace, unit), SNIPPET["error_numbers"](errors), models
    finally:
        torch.set_default_dtype(previous)


def test_figure_1_numbers(recall_run):
    gates, _, _ = recall_run
    assert gates["unit"] == 2
    assert gates["i_first"] == pytest.approx(0.74, abs=0.01)  # "about 0.74 at t = 1"
    assert gates["i_later_max"] < 0.025  # "below 0.03 at every later step"
    assert gates["f_later_min"] > 0.98  # "stays above 0.98"
    assert 0.24 < gates["drift"] < 0.26  # "moves by at most about 0.25 in 40 steps"


def test_figure_2_numbers(recall_run):
    _, errors, _ = recall_run
    rnn8, rnn32, lstm, gru = (errors[key] for key in SNIPPET["NETWORKS"])
    assert SNIPPET["LENGTH"] == 20
    # vanilla RNNs: 0.08-0.11 (8 units) and 0.19-0.26 (32 units) at every delay from 1 on; 1/3 is guessing 0
    assert 0.075 < rnn8["later_min"] and rnn8["later_max"] < 0.115
    assert 0.18 < rnn32["later_min"] and rnn32["later_max"] < 0.26
    # LSTM below 0.004 and GRU below 0.0011 at every delay up to 39, twice the training length
    assert max(lstm["first"], lstm["later_max"]) < 0.004
    assert max(gru["first"], gru["later_max"]) < 0.0011
    assert rnn8["later_min"] > 20 * lstm["later_max"]


# ---------------------------------------------------------------------------
# Mutation tests: wrong formulas through the same comparisons
# ---------------------------------------------------------------------------
def lstm_order_ifog(x, h, c, *w):  # reads the blocks as i, f, o, g instead of i, f, g, o
    return lstm_step(x, h, c, *w, order="ifog")


def lstm_order_fiog(x, h, c, *w):  # the order of some textbooks' equations: f, i, g, o
    return lstm_step(x, h, c, *w, order="figo")


def lstm_without_forget_gate(x, h, c, W_ih, W_hh, b_ih, b_hh):  # the 1997 cell: c_t = c_{t-1} + i * g
    d_h = W_hh.shape[1]
    a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i, g, o = torch.sigmoid(a[:, :d_h]), torch.tanh(a[:, 2 * d_h:3 * d_h]), torch.sigmoid(a[:, 3 * d_h:])
    c = c + i * g
    return o * torch.tanh(c), c


def lstm_h_without_tanh(x, h, c, W_ih, W_hh, b_ih, b_hh):  # h_t = o * c_t
    h_new, c_new = lstm_step(x, h, c, W_ih, W_hh, b_ih, b_hh)
    d_h = W_hh.shape[1]
    o = torch.sigmoid(x @ W_ih[3 * d_h:].T + b_ih[3 * d_h:] + h @ W_hh[3 * d_h:].T + b_hh[3 * d_h:])
    return o * c_new, c_new


@pytest.mark.parametrize("wrong", [lstm_order_ifog, lstm_order_fiog, lstm_without_forget_gate, lstm_h_without_tanh],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("num_layers,batch_first", [(1, False), (2, True)])
def test_wrong_lstms_are_caught(wrong, num_layers, batch_first):
    assert lstm_off(lstm_step, num_layers=num_layers, batch_first=batch_first) <= 1.0
    assert lstm_off(wrong, num_layers=num_layers, batch_first=batch_first) > 1e6


def gru_z_swapped(x, h, *w):  # h_t = z * n + (1 - z) * h_{t-1}: the other convention, PyTorch's weights
    return gru_step(x, h, *w, swap_z=True)


def gru_order_zrn(x, h, *w):  # reads the blocks as z, r, n
    return gru_step(x, h, *w, order="zrn")


@pytest.mark.parametrize("wrong", [gru_z_swapped, gru_order_zrn, cho_step], ids=lambda f: f.__name__)
@pytest.mark.parametrize("num_layers,batch_first", [(1, False), (2, True)])
def test_wrong_grus_are_caught(wrong, num_layers, batch_first):
    assert gru_off(gru_step, num_layers=num_layers, batch_first=batch_first) <= 1.0
    assert gru_off(wrong, num_layers=num_layers, batch_first=batch_first) > 1e6


def test_swapped_z_convention_is_the_same_model_with_negated_z_weights():
    """Page: h = (1 - z) h_{t-1} + z n (Chung et al.) equals PyTorch's GRU once the z block's weights
    and biases change sign, because sigma(-a) = 1 - sigma(a)."""
    torch.manual_seed(9)
    gru = nn.GRU(3, 4)
    x = torch.randn(6, 2, 3)
    W_ih, W_hh, b_ih, b_hh = (w.clone() for w in weights_of(gru)[0])
    for w in (W_ih, W_hh, b_ih, b_hh):
        w[4:8] *= -1
    out, _ = run_layers(gru_z_swapped, x, [(W_ih, W_hh, b_ih, b_hh)], False, with_cell=False)
    torch.testing.assert_close(out, gru(x)[0], rtol=0, atol=ATOL)


@pytest.mark.parametrize("name,wrong", [
    ("4 d_h (d + d_h) with no bias", lambda blocks, d, d_h: blocks * d_h * (d + d_h)),
    ("4 (d_h^2 + d_h) without the input weights", lambda blocks, d, d_h: blocks * (d_h * d_h + 2 * d_h)),
    ("3 blocks for the LSTM", lambda blocks, d, d_h: (blocks - 1) * (d_h * (d + d_h) + 2 * d_h)),
])
def test_wrong_parameter_counts_are_caught(name, wrong):
    lstm = nn.LSTM(7, 5)
    n = sum(p.numel() for p in lstm.parameters())
    assert param_count(4, 7, 5) == n
    assert wrong(4, 7, 5) != n
