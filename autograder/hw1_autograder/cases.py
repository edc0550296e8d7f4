"""The cases behind ./grade.sh 1's expected values (autograder/make_fixtures.py runs them).

autograd.npz: one graph for test_autograd.py.  mlp.npz: models for test_mlp.py (the
model cases' layout is make_fixtures.model_case's) and cross-entropy values.
"""
import numpy as np
import torch
import torch.nn.functional as TF

from autograder.make_fixtures import Recorder, as_torch, batch_sizes, model_case


def autograd_graph(store):
    """a, b require grad; c, k are constants: out = log(z**2 + k), z = (a*b + a).T * c as (2, 6)."""
    rng = np.random.default_rng(1)
    rec = Recorder(store, "graph")
    a_np, b_np = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    c_np, k_np = rng.normal(size=(4, 3)), rng.uniform(0.5, 2.0, size=(2, 6))
    a, b = as_torch(a_np, True), as_torch(b_np, True)
    c, k = as_torch(c_np), as_torch(k_np)
    v = a * b + a
    w = v.T * c
    z = w.reshape(2, 6)
    out = torch.log(z * z + k)
    out.backward(torch.ones_like(out))        # MyTorch's out.backward() seeds ones
    for name, value in (("a", a_np), ("b", b_np), ("c", c_np), ("k", k_np), ("out", out),
                        ("grad.a", a.grad), ("grad.b", b.grad)):
        rec[name] = value


def mlp_cases(store):
    # 2.1 Linear: a stack of three in a Sequential
    model_case(store, "linear_stack", 22, [("linear", 8, 6), ("linear", 6, 5), ("linear", 5, 3)],
               ["train"] * 3, batch_sizes(122, 3, 1, 12))
    # 2.2 ReLU inside a model (builds on 2.1)
    model_case(store, "relu_model", 23, [("linear", 6, 8), ("relu",), ("linear", 8, 4)],
               ["train"] * 3, batch_sizes(123, 3, 2, 12))
    # 2.3 SGD training a model (builds on 2.1)
    model_case(store, "sgd", 24, [("linear", 5, 7), ("linear", 7, 6), ("linear", 6, 3)],
               ["train"] * 4 + ["eval"], batch_sizes(124, 5, 1, 12), optimizer="sgd", lr=0.1)
    # 2.4 BatchNorm: the layer alone (backward in both modes), then inside a model
    model_case(store, "bn_layer", 25, [("bn", 4)],
               ["train", "train", "eval", "eval-grad", "train", "eval-grad"],
               [6, 9, 5, 4, 3, 7], x_scale=3.0, x_offset=2.0)
    model_case(store, "bn_model", 26, [("linear", 6, 5), ("bn", 5), ("linear", 5, 3)],
               ["train", "train", "eval", "train", "eval-grad", "train", "eval"],
               batch_sizes(126, 7, 2, 12), optimizer="grader", lr=0.1, x_offset=1.0)
    # 2.5 Cross-entropy: alone, then training a model (builds on 2.1)
    model_case(store, "xe_model", 27, [("linear", 6, 8), ("linear", 8, 5)], ["train"] * 3,
               batch_sizes(127, 3, 1, 12), loss="xe", optimizer="grader", lr=0.5)
    xe_values(store, "xe_values", np.random.default_rng(28).normal(size=(6, 5)) * 3,
              np.random.default_rng(29).integers(0, 5, size=6))
    xe_values(store, "xe_batch", np.random.default_rng(31).normal(size=(40, 10)) * 2,
              np.random.default_rng(32).integers(0, 10, size=40))
    # exp(x) overflows float64 beyond ~709 and underflows to 0 below ~-745
    xe_values(store, "xe_large", np.array([[1000., -1000., 999., 0., 500.],
                                           [-1000., -999.5, -1001., -1000., -2000.],
                                           [1e4, 1e4, 1e4, 1e4, 1e4],
                                           [800., 1., 2., 3., 4.]]),
              np.array([2, 1, 3, 1]))
    # 2.6 Momentum training a model (builds on 2.1)
    model_case(store, "momentum", 30, [("linear", 5, 6), ("linear", 6, 3)], ["train"] * 5,
               batch_sizes(130, 5, 1, 12), optimizer="sgd", lr=0.1, momentum=0.9)


def xe_values(store, case, logits_np, labels):
    rec = Recorder(store, case)
    logits = as_torch(logits_np, requires_grad=True)
    loss = TF.cross_entropy(logits, torch.tensor(labels))
    loss.backward()
    rec["logits"], rec["labels"], rec["loss"], rec["grad"] = logits_np, labels, loss, logits.grad


FILES = {"autograd.npz": [autograd_graph], "mlp.npz": [mlp_cases]}
