"""A GRU's forward and backward over a packed batch: MyTorch vs NumPy by hand vs PyTorch.

    python bench/gru_step.py                 # both batches, 15 rounds x 5 passes per implementation
    python bench/gru_step.py --batch mnist   # one of them
    python bench/gru_step.py --quick         # 3 rounds x 2 passes (a smoke run)

One pass: zero the gradients, run the GRU over a packed batch, and backpropagate a
fixed random gradient of its output (so every parameter and the input get a
gradient).  Two batches:

    mnist   100 sequences of 28 steps (the digits' rows), input 28, hidden 64
    ragged  64 sequences of 1 to 40 steps (random, fixed seed), input 32, hidden 64:
            the batch shrinks as sequences end

Five implementations, from the same weights:

    mytorch     mytorch.nn.gru.GRU (a fused GRUCell node per step, Slice and Cat)
    mytorch-ops the same loop over a GRU unit written as a student writes it, one op per term
    numpy       the same math by hand, no Tensors or graph: the floor
    torch       torch.nn.GRU on a torch PackedSequence (one fused kernel)
    torch-cell  a loop over time steps calling torch.nn.GRUCell, as MyTorch does

Before timing, all five must agree on the output and every gradient within 1e-10.
Timing is interleaved (each round runs every implementation once, in rotated order);
figures are medians over rounds, in wall and CPU time.
"""
import benchlib                  # first: pins BLAS to one thread before NumPy is loaded
import argparse

import numpy as np

NAMES = ("weight_ir", "weight_iz", "weight_in", "weight_hr", "weight_hz", "weight_hn",
         "bias_ir", "bias_iz", "bias_in", "bias_hr", "bias_hz", "bias_hn")
BATCHES = {
    "mnist": {"lengths": [28] * 100, "input": 28, "hidden": 64},
    "ragged": {"lengths": list(np.random.default_rng(7).integers(1, 41, 64)), "input": 32,
               "hidden": 64},
}


def problem(spec, seed=0):
    """(sequences, params, grad_output): the inputs, torch-style initial weights, and the
    gradient of the packed output (rows in packed order)."""
    rng = np.random.default_rng(seed)
    hidden, bound = spec["hidden"], 1 / np.sqrt(spec["hidden"])
    params = {name: rng.uniform(-bound, bound, (hidden, spec["input"]) if name[7] == "i"
                                else (hidden, hidden)) for name in NAMES[:6]}
    params.update({name: rng.uniform(-bound, bound, hidden) for name in NAMES[6:]})
    sequences = [rng.standard_normal((n, spec["input"])) for n in spec["lengths"]]
    grad_output = rng.standard_normal((sum(spec["lengths"]), hidden))
    return sequences, params, grad_output


def packed_layout(lengths):
    """(sorted_indices, batch_sizes, rows): torch's layout; rows[k] = (sequence, step)."""
    lengths = np.asarray(lengths)
    sorted_indices = np.argsort(-lengths, kind="stable")
    batch_sizes = (lengths[:, None] > np.arange(lengths.max())).sum(axis=0)
    rows = [(i, t) for t, size in enumerate(batch_sizes) for i in sorted_indices[:size]]
    return sorted_indices, batch_sizes, rows


# --------------------------------------------------------------------------- #
# The four implementations: run() is one pass, results() its output and gradients
# --------------------------------------------------------------------------- #
class MyTorchGRU:
    name = "mytorch"

    def __init__(self, sequences, params, grad_output):
        from mytorch.nn.gru import GRU
        from mytorch.nn.util import pack_sequence
        from mytorch.tensor import Tensor
        self.gru = GRU(sequences[0].shape[1], params["bias_hn"].shape[0])
        for name in NAMES:
            getattr(self.gru.unit, name).data = params[name].copy()
        self.inputs = [Tensor(s, requires_grad=True) for s in sequences]
        packed = pack_sequence(self.inputs)          # packed once, outside the timing
        self.data = Tensor(packed.data.data.copy(), requires_grad=True)
        self.packed = packed._replace(data=self.data)
        self.grad_output = grad_output

    def run(self):
        for param in self.gru.parameters():
            param.grad = None
        self.data.grad = None
        output, _ = self.gru(self.packed)
        output.data.backward(self.grad_output)
        self.output = output.data.data

    def results(self):
        grads = {name: getattr(self.gru.unit, name).grad.data for name in NAMES}
        return dict(grads, output=self.output, input=self.data.grad.data)


class MyTorchOpsGRU(MyTorchGRU):
    """The TimeIterator over a GRUUnit whose forward is built from MatMul, Add, Sigmoid,
    Tanh and Mul: every term of the equations is a node."""
    name = "mytorch-ops"

    def __init__(self, sequences, params, grad_output):
        from mytorch.nn.gru import GRUUnit
        from mytorch.nn.rnn import TimeIterator
        super().__init__(sequences, params, grad_output)
        self.gru = TimeIterator(_ops_unit_class(GRUUnit), sequences[0].shape[1],
                                params["bias_hn"].shape[0])
        for name in NAMES:
            getattr(self.gru.unit, name).data = params[name].copy()


def _ops_unit_class(GRUUnit):
    from mytorch.nn.activations import Sigmoid, Tanh
    from mytorch.tensor import Tensor

    class OpsGRUUnit(GRUUnit):
        def forward(self, x, h=None):
            if h is None:
                h = Tensor(np.zeros((x.shape[0], self.hidden_size)))
            sigmoid, tanh = Sigmoid(), Tanh()
            r = sigmoid(x @ self.weight_ir.T() + self.bias_ir + h @ self.weight_hr.T()
                        + self.bias_hr)
            z = sigmoid(x @ self.weight_iz.T() + self.bias_iz + h @ self.weight_hz.T()
                        + self.bias_hz)
            n = tanh(x @ self.weight_in.T() + self.bias_in
                     + r * (h @ self.weight_hn.T() + self.bias_hn))
            return (1 - z) * n + z * h
    return OpsGRUUnit


class NumpyGRU:
    """The floor: the same steps, the same products, a closed-form backward; no graph."""
    name = "numpy"

    def __init__(self, sequences, params, grad_output):
        self.params = params
        _, self.batch_sizes, rows = packed_layout([len(s) for s in sequences])
        self.data = np.array([sequences[i][t] for i, t in rows])
        self.grad_output = grad_output

    def run(self):
        p, data, sizes = self.params, self.data, self.batch_sizes
        hidden = p["bias_hn"].shape[0]
        # Forward, keeping what backward needs.
        b_r, b_z = p["bias_ir"] + p["bias_hr"], p["bias_iz"] + p["bias_hz"]
        output, saved, h, start = np.empty((len(data), hidden)), [], np.zeros((sizes[0], hidden)), 0
        for size in sizes:
            x, h = data[start:start + size], h[:size]
            r = _sigmoid(x @ p["weight_ir"].T + h @ p["weight_hr"].T + b_r)
            z = _sigmoid(x @ p["weight_iz"].T + h @ p["weight_hz"].T + b_z)
            hn = h @ p["weight_hn"].T + p["bias_hn"]
            n = np.tanh(x @ p["weight_in"].T + p["bias_in"] + r * hn)
            saved.append((start, size, x, h, r, z, n, hn))
            h = output[start:start + size] = n + z * (h - n)
            start += size
        # Backward through time: dh carries the gradient of the state into the next step.
        grads = {name: np.zeros_like(p[name]) for name in NAMES}
        grad_input, dh = np.empty_like(data), np.zeros((sizes[0], hidden))
        for start, size, x, h, r, z, n, hn in reversed(saved):
            g = self.grad_output[start:start + size] + dh[:size]
            da_n = g * (1.0 - z) * (1.0 - n * n)
            da_z = g * (h - n) * (z * (1.0 - z))
            da_r = da_n * hn * (r * (1.0 - r))
            d_hn = da_n * r
            grad_input[start:start + size] = (da_r @ p["weight_ir"] + da_z @ p["weight_iz"]
                                              + da_n @ p["weight_in"])
            dh[:size] = (g * z + da_r @ p["weight_hr"] + da_z @ p["weight_hz"]
                         + d_hn @ p["weight_hn"])
            for gate, da in (("r", da_r), ("z", da_z), ("n", da_n)):
                grads["weight_i" + gate] += da.T @ x
                grads["bias_i" + gate] += da.sum(axis=0)
            for gate, da in (("r", da_r), ("z", da_z), ("n", d_hn)):
                grads["weight_h" + gate] += da.T @ h
                grads["bias_h" + gate] += da.sum(axis=0)
        self.output, self.grads, self.grad_input = output, grads, grad_input

    def results(self):
        return dict(self.grads, output=self.output, input=self.grad_input)


def _sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))


class TorchGRU:
    """torch.nn.GRU on a PackedSequence (torch stacks the gates: r, z, n)."""
    name = "torch"

    def __init__(self, sequences, params, grad_output):
        torch = benchlib.torch
        self.torch = torch
        self.module = self.make_module(sequences[0].shape[1], params["bias_hn"].shape[0])
        with torch.no_grad():
            for name, value in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"),
                                   _stacked(params)):
                getattr(self.module, name + self.suffix).copy_(torch.tensor(value))
        self.sorted_indices, self.batch_sizes, rows = packed_layout([len(s) for s in sequences])
        self.data = torch.tensor(np.array([sequences[i][t] for i, t in rows]),
                                 requires_grad=True)
        self.grad_output = torch.tensor(grad_output)

    suffix = "_l0"

    def make_module(self, inputs, hidden):
        return self.torch.nn.GRU(inputs, hidden, dtype=self.torch.float64)

    def forward(self):
        torch = self.torch
        packed = torch.nn.utils.rnn.PackedSequence(
            self.data, torch.tensor(self.batch_sizes), torch.tensor(self.sorted_indices),
            torch.tensor(np.argsort(self.sorted_indices)))
        return self.module(packed)[0].data

    def run(self):
        self.module.zero_grad()
        self.data.grad = None
        self.output = self.forward()
        self.output.backward(self.grad_output)

    def results(self):
        stacked = [getattr(self.module, name + self.suffix).grad.numpy()
                   for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        grads = {name: piece for names, value in zip(_GROUPS, stacked)
                 for name, piece in zip(names, np.split(value, 3))}
        return dict(grads, output=self.output.detach().numpy(), input=self.data.grad.numpy())


class TorchCellLoop(TorchGRU):
    """A loop over time steps calling torch.nn.GRUCell on the running sequences."""
    name = "torch-cell"
    suffix = ""

    def make_module(self, inputs, hidden):
        return self.torch.nn.GRUCell(inputs, hidden, dtype=self.torch.float64)

    def forward(self):
        outputs, h, start = [], None, 0
        for size in self.batch_sizes.tolist():
            h = self.module(self.data[start:start + size], None if h is None else h[:size])
            outputs.append(h)
            start += size
        return self.torch.cat(outputs)


_GROUPS = (NAMES[0:3], NAMES[3:6], NAMES[6:9], NAMES[9:12])


def _stacked(params):
    return [np.concatenate([params[name] for name in group]) for group in _GROUPS]


# --------------------------------------------------------------------------- #
def check_same_math(impls, tolerance=1e-10):
    """Run each once; every output and gradient must match the first's within ``tolerance``.
    Returns the largest difference."""
    for impl in impls:
        impl.run()
    reference, largest = impls[0].results(), 0.0
    for impl in impls[1:]:
        for key, value in impl.results().items():
            gap = float(np.max(np.abs(reference[key] - value)))
            if gap > tolerance:
                raise AssertionError("{} and {} compute different things: {} differs by {:.3g}"
                                     .format(impls[0].name, impl.name, key, gap))
            largest = max(largest, gap)
    return largest


def runner(impl):
    import time

    def run(passes):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(passes):
            impl.run()
        return time.perf_counter() - wall, time.process_time() - cpu
    return run


def report(samples, clock):
    med = benchlib.median
    print("  {} time, ms per pass:  ".format(clock) + "   ".join(
        "{} {:.2f}".format(name, med(values) / 1000) for name, values in samples.items()))
    floor = samples["numpy"]
    for name in samples:
        if name != "numpy":
            ratios = [a / b for a, b in zip(samples[name], floor)]
            print("    {}/numpy = {:.3f} [{:.3f}]".format(name, med(samples[name]) / med(floor),
                                                         med(ratios)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", choices=sorted(BATCHES), action="append",
                        help="which batch (default: both)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--passes", type=int, default=5, help="passes per round per impl")
    parser.add_argument("--quick", action="store_true", help="3 rounds x 2 passes")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.passes = 3, 2
    classes = [MyTorchGRU, MyTorchOpsGRU, NumpyGRU]
    if benchlib.load_torch() is not None:
        classes += [TorchGRU, TorchCellLoop]
    benchlib.print_environment()
    if benchlib.torch is None:
        print("# " + benchlib.TORCH_MISSING)
    for name in args.batch or sorted(BATCHES):
        spec = BATCHES[name]
        inputs = problem(spec)
        impls = [cls(*inputs) for cls in classes]
        largest = check_same_math(impls)
        print("\n{}: {} sequences of {}-{} steps ({} rows), input {}, hidden {}".format(
            name, len(spec["lengths"]), min(spec["lengths"]), max(spec["lengths"]),
            sum(spec["lengths"]), spec["input"], spec["hidden"]))
        print("  same math: outputs and every gradient agree (largest difference {:.1e} "
              "<= 1e-10)".format(largest))
        samples = benchlib.interleaved({impl.name: runner(impl) for impl in impls},
                                       args.rounds, args.passes)
        print("  {} rounds x {} passes per implementation".format(args.rounds, args.passes))
        report(samples["wall"], "wall")
        report(samples["cpu"], "CPU")


if __name__ == "__main__":
    main()
