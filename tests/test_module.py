"""Module and Sequential: calling, parameter registration, train/eval (handout 2.1)."""
import numpy as np
import pytest

from mytorch import Tensor
from mytorch.nn.activations import ReLU
from mytorch.nn.batchnorm import BatchNorm1d
from mytorch.nn.linear import Linear
from mytorch.nn.module import Module
from mytorch.nn.sequential import Sequential


pytestmark = pytest.mark.numpy_seed(1)   # layers initialise from np.random


def parameter(*shape):
    return Tensor(np.random.randn(*shape), requires_grad=True, is_parameter=True)


def ids(tensors):
    return [id(t) for t in tensors]


class Scale(Module):
    """x * w with one parameter."""

    def __init__(self, n):
        super().__init__()
        self.w = parameter(n)

    def forward(self, x):
        return x * self.w


class Recorder(Module):
    """Applies ``fn`` and logs its name, to see the order Sequential calls layers in."""

    def __init__(self, name, fn, log):
        super().__init__()
        self.name, self.fn, self.log = name, fn, log

    def forward(self, x):
        self.log.append(self.name)
        return self.fn(x)


# --------------------------------------------------------------------------- #
# Calling
# --------------------------------------------------------------------------- #
def test_calling_a_module_runs_its_forward_with_all_arguments():
    class Combine(Module):
        def forward(self, a, b, scale=1.0):
            return (a + b) * scale

    out = Combine()(Tensor([1.0, 2.0]), Tensor([3.0, 4.0]), scale=2.0)
    np.testing.assert_array_equal(out.data, [8.0, 12.0])


def test_module_without_forward_raises_not_implemented():
    with pytest.raises(NotImplementedError):
        Module()(Tensor([1.0]))


def test_new_module_is_in_training_mode():
    assert Module().is_train is True
    assert Linear(2, 3).is_train is True


# --------------------------------------------------------------------------- #
# parameters()
# --------------------------------------------------------------------------- #
def test_parameters_of_a_plain_module_are_in_registration_order_not_by_name():
    class Two(Module):
        def __init__(self):
            super().__init__()
            self.zeta = parameter(2)
            self.alpha = parameter(3)

    m = Two()
    assert ids(m.parameters()) == ids([m.zeta, m.alpha])


def test_parameters_ignore_constant_and_non_parameter_tensors():
    class Mixed(Module):
        def __init__(self):
            super().__init__()
            self.constant = Tensor(np.ones(2))
            self.tracked = Tensor(np.ones(2), requires_grad=True)   # not a parameter
            self.weight = parameter(2)
            self.number = 3.0

    m = Mixed()
    assert ids(m.parameters()) == ids([m.weight])


def test_sequential_parameters_follow_layer_order_weight_before_bias():
    l1, bn, l2 = Linear(3, 4), BatchNorm1d(4), Linear(4, 2)
    model = Sequential(l1, bn, ReLU(), l2)
    assert ids(model.parameters()) == ids([l1.weight, l1.bias, bn.gamma, bn.beta,
                                           l2.weight, l2.bias])


def test_parameters_include_submodules_of_submodules():
    inner = Sequential(Linear(2, 3), Sequential(Linear(3, 3), ReLU()))
    model = Sequential(inner, Linear(3, 1))
    expected = [inner[0].weight, inner[0].bias, inner[1][0].weight, inner[1][0].bias,
                model[1].weight, model[1].bias]
    assert ids(model.parameters()) == ids(expected)


def test_parameters_of_a_custom_model_holding_layers_as_attributes():
    class Net(Module):
        def __init__(self):
            super().__init__()
            self.first = Linear(2, 3)
            self.second = Linear(3, 1)

        def forward(self, x):
            return self.second(self.first(x))

    net = Net()
    assert ids(net.parameters()) == ids([net.first.weight, net.first.bias,
                                         net.second.weight, net.second.bias])


def test_parameter_shared_by_two_submodules_is_listed_once():
    a, b = Scale(3), Scale(3)
    b.w = a.w                                    # tied weights
    model = Sequential(a, b)
    params = model.parameters()
    assert ids(params) == ids([a.w])


def test_layer_used_twice_contributes_its_parameters_once():
    layer = Linear(3, 3)
    model = Sequential(layer, ReLU(), layer)
    assert ids(model.parameters()) == ids([layer.weight, layer.bias])


def test_parameters_returns_a_fresh_list_each_call():
    model = Sequential(Linear(2, 2))
    first = model.parameters()
    first.clear()
    assert len(model.parameters()) == 2


def test_reassigning_a_parameter_attribute_to_a_non_parameter_unregisters_it():
    layer = Linear(3, 2)
    layer.bias = Tensor(np.zeros(2))             # a constant now
    assert ids(layer.parameters()) == ids([layer.weight])
    layer.weight = None
    assert layer.parameters() == []


def test_reassigning_a_parameter_attribute_to_a_new_parameter_replaces_it():
    layer = Linear(3, 2)
    old, new = layer.weight, parameter(2, 3)
    layer.weight = new
    params = layer.parameters()
    assert id(new) in ids(params) and id(old) not in ids(params)
    assert len(params) == 2


def test_replacing_a_parameter_by_a_tensor_that_requires_grad_names_is_parameter():
    # The silent failure this prevents: the new weight would leave parameters(),
    # so SGD would never train it.
    layer = Linear(3, 2)
    old = layer.weight
    with pytest.raises(TypeError, match=r"Linear\.weight.*is_parameter=True"):
        layer.weight = Tensor(np.zeros((2, 3)), requires_grad=True)
    assert layer.weight is old
    assert ids(layer.parameters()) == ids([old, layer.bias])


def test_a_non_parameter_that_requires_grad_may_take_a_fresh_attribute_name():
    layer = Linear(3, 2)
    layer.extra = Tensor(np.zeros(2), requires_grad=True)        # never was a parameter
    assert ids(layer.parameters()) == ids([layer.weight, layer.bias])


def test_reassigning_a_submodule_attribute_unregisters_the_old_submodule():
    class Holder(Module):
        def __init__(self):
            super().__init__()
            self.layer = Linear(2, 2)

    h = Holder()
    old = h.layer
    h.layer = "gone"
    assert h.parameters() == []
    h.layer = old
    assert ids(h.parameters()) == ids([old.weight, old.bias])


# --------------------------------------------------------------------------- #
# train() / eval()
# --------------------------------------------------------------------------- #
def test_eval_and_train_reach_every_nested_submodule():
    bn_inner, bn_outer = BatchNorm1d(3), BatchNorm1d(3)
    inner = Sequential(Linear(2, 3), bn_inner)
    model = Sequential(inner, bn_outer, ReLU())
    modules = [model, inner, inner[0], bn_inner, bn_outer, model[2]]

    model.eval()
    assert [m.is_train for m in modules] == [False] * len(modules)
    model.train()
    assert [m.is_train for m in modules] == [True] * len(modules)


def test_eval_on_a_submodule_leaves_its_parent_alone():
    inner = Sequential(BatchNorm1d(2))
    model = Sequential(Linear(2, 2), inner)
    inner.eval()
    assert model.is_train and model[0].is_train
    assert not inner.is_train and not inner[0].is_train


def test_eval_reaches_layers_of_a_custom_model():
    class Net(Module):
        def __init__(self):
            super().__init__()
            self.body = Sequential(Linear(2, 3), BatchNorm1d(3))

    net = Net()
    net.eval()
    assert net.body[1].is_train is False
    net.train()
    assert net.body[1].is_train is True


def test_eval_changes_what_a_nested_batchnorm_computes():
    x = Tensor(np.random.randn(6, 3) * 4 + 2)
    model = Sequential(Sequential(BatchNorm1d(3)))
    train_out = model(x).data
    np.testing.assert_allclose(train_out.mean(axis=0), 0, atol=1e-12)
    model.eval()
    eval_out = model(x).data
    assert not np.allclose(eval_out, train_out)


# --------------------------------------------------------------------------- #
# Forgetting super().__init__()
# --------------------------------------------------------------------------- #
def test_setting_an_attribute_without_super_init_raises_a_clear_error():
    class Forgetful(Module):
        def __init__(self):
            self.layer = Linear(2, 2)

    with pytest.raises(AttributeError, match=r"super\(\)\.__init__\(\)"):
        Forgetful()


@pytest.mark.parametrize("use", ["parameters", "eval", "train"])
def test_a_forgetful_layer_inside_a_model_gives_a_clear_error(use):
    # A parameter-free custom layer whose __init__ sets nothing and forgets
    # super().__init__(): using the model must say what is wrong, not
    # "'Swish' object has no attribute '_submodules'".
    class Swish(Module):
        def __init__(self):
            pass

        def forward(self, x):
            return x

    model = Sequential(Linear(2, 2), Swish())
    with pytest.raises(AttributeError, match=r"super\(\)\.__init__\(\)"):
        getattr(model, use)()


# --------------------------------------------------------------------------- #
# Sequential
# --------------------------------------------------------------------------- #
def test_sequential_keeps_its_layers_in_order():
    layers = [Linear(2, 3), ReLU(), Linear(3, 1)]
    model = Sequential(*layers)
    assert [id(l) for l in model.layers] == [id(l) for l in layers]


def test_sequential_applies_each_layer_in_turn():
    log = []
    double = Recorder("double", lambda x: x * 2.0, log)
    plus3 = Recorder("plus3", lambda x: x + 3.0, log)
    out = Sequential(double, plus3)(Tensor([1.0, -2.0]))
    np.testing.assert_array_equal(out.data, [5.0, -1.0])        # (x*2)+3, not (x+3)*2
    assert log == ["double", "plus3"]


def test_sequential_forward_equals_calling_the_layers_by_hand():
    l1, l2 = Linear(4, 5), Linear(5, 2)
    x = Tensor(np.random.randn(3, 4))
    expected = l2(ReLU()(l1(x))).data
    np.testing.assert_allclose(Sequential(l1, ReLU(), l2)(x).data, expected, rtol=0, atol=0)


def test_nested_sequential_forward_equals_flat_forward():
    l1, l2, l3 = Linear(4, 5), Linear(5, 5), Linear(5, 2)
    x = Tensor(np.random.randn(3, 4))
    flat = Sequential(l1, ReLU(), l2, ReLU(), l3)(x).data
    nested = Sequential(Sequential(l1, ReLU()), Sequential(l2, ReLU(), Sequential(l3)))(x).data
    np.testing.assert_array_equal(nested, flat)


def test_sequential_gradients_reach_every_layer():
    model = Sequential(Linear(3, 4), ReLU(), Linear(4, 2))
    x = Tensor(np.random.randn(5, 3), requires_grad=True)
    model(x).sum().backward()
    for p in model.parameters():
        assert p.grad is not None and p.grad.shape == p.shape
    assert x.grad is not None


def test_sequential_rejects_something_that_is_not_a_module():
    with pytest.raises(TypeError):
        Sequential(Linear(2, 2), lambda x: x)


def test_sequential_layers_is_a_list_indexable_and_iterable():
    first, second = Linear(2, 3), ReLU()
    model = Sequential(first, second)
    assert isinstance(model.layers, list)
    assert model[0] is first and model[-1] is second and len(model) == 2
    assert [id(l) for l in model] == [id(first), id(second)]


def test_add_module_appends_a_layer_that_forward_runs_in_order():
    log = []
    model = Sequential(Recorder("first", lambda x: x * 2.0, log))
    model.add_module("fc", Linear(2, 3))
    model.add_module("last", Recorder("last", lambda x: x + 1.0, log))
    x = Tensor(np.random.randn(4, 2))
    expected = model.fc(x * 2.0).data + 1.0
    np.testing.assert_array_equal(model(x).data, expected)
    assert log == ["first", "last"] and len(model) == 3 and model[1] is model.fc
    assert ids(model.parameters()) == ids([model.fc.weight, model.fc.bias])


def test_add_module_on_an_empty_sequential_is_no_longer_the_identity():
    # Sequential() then add_module() used to return x unchanged while parameters()
    # listed the layer.
    model = Sequential()
    model.add_module("fc", Linear(2, 3))
    out = model(Tensor(np.ones((1, 2))))
    assert out.shape == (1, 3)


def test_assigning_a_module_attribute_to_a_sequential_runs_it_last_as_in_pytorch():
    model = Sequential(Linear(2, 3))
    model.head = Linear(3, 1)
    assert model(Tensor(np.ones((5, 2)))).shape == (5, 1)
    assert model.layers[-1] is model.head


def test_add_module_with_an_existing_name_replaces_that_layer_in_place():
    first, second, third = Linear(2, 2), Linear(2, 2), Linear(2, 2)
    model = Sequential(first, second)
    model.add_module("0", third)
    assert [id(l) for l in model] == [id(third), id(second)]
    assert ids(model.parameters()) == ids([third.weight, third.bias,
                                           second.weight, second.bias])


def test_a_layer_used_twice_is_replaced_only_under_its_own_name():
    shared, other = Linear(2, 2), Linear(2, 2)
    model = Sequential(shared, ReLU(), shared)
    model.add_module("2", other)
    assert [id(l) for l in model] == [id(shared), id(model[1]), id(other)]


def test_unsetting_a_layer_removes_it_from_the_run():
    model = Sequential(Linear(2, 3), ReLU())
    model.add_module("fc", Linear(3, 1))
    model.fc = None
    assert len(model) == 2 and model(Tensor(np.ones((1, 2)))).shape == (1, 3)


def test_add_module_rejects_something_that_is_not_a_module():
    model = Sequential()
    with pytest.raises(TypeError, match="layer fc is a function, not a Module"):
        model.add_module("fc", lambda x: x)
    assert model.layers == []
