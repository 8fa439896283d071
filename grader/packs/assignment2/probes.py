"""assignment2's probes: what runs next to the student's code (child side).

One probe per graded name: it calls the student's code on one case's inputs and returns
plain data. Nothing here knows a right answer; the checks (task1.py ... layers.py)
judge what comes back. Probes with a ``stand_ins`` parameter run the student's function
with the reference versions of the names it calls (they arrive with the name's own turn,
and are empty in the student kit, where the student's own versions run).
"""

from __future__ import annotations

from ...probing import ProbeError, probe, substituted
from ...probing.nets import build_chain, run_network
from ...probing.training import recording_run

# --- task1: a two-layer perceptron in NumPy ---------------------------------------------------


@probe("task1.relu")
def relu(module, inputs):
    x = inputs["x"]
    return {"y": module.relu(x), "x_after": x}


@probe("task1.prelu")
def prelu(module, inputs):
    x = inputs["x"]
    return {"y": module.prelu(x, inputs["a"]), "x_after": x}


@probe("task1.DNNforward")
def dnn_forward(module, inputs, stand_ins):
    X, params = inputs["X"], inputs["params"]
    with substituted(module, **stand_ins):  # relu
        result = module.DNNforward(X, params)
    is_pair = isinstance(result, (tuple, list)) and len(result) == 2
    return {"logits": result[0] if is_pair else result, "pair": is_pair, "X_after": X, "params_after": params}


@probe("task1.DNNbackward")
def dnn_backward(module, inputs, stand_ins):
    X, y, params = inputs["X"], inputs["y"], inputs["params"]
    with substituted(module, **stand_ins):  # relu; the cache comes from the student's own forward
        forward = module.DNNforward(X, params)
        if not (isinstance(forward, (tuple, list)) and len(forward) == 2):
            raise ProbeError("DNNforward must return (logits, cache); DNNbackward cannot be called without its cache")
        result = module.DNNbackward(y, params, forward[1])
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise ProbeError(f"DNNbackward must return a pair (loss, grads), got {type(result).__name__}")
    return {"loss": result[0], "grads": result[1]}


@probe("task1.train")
def train(module, inputs, stand_ins):
    X, y, params = inputs["X"], inputs["y"], inputs["params"]
    with substituted(module, **stand_ins):  # relu, DNNforward, DNNbackward
        if inputs["lr"] is None:
            result = module.train(X, y, params)
        else:
            result = module.train(X, y, params, lr=inputs["lr"], epochs=inputs["epochs"])
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise ProbeError(f"train must return (params, losses), got {type(result).__name__}")
    return {"params": result[0], "losses": result[1], "X_after": X, "y_after": y, "params_after": params}


# --- task2 and task3: networks and their training loops ----------------------------------------


@probe("task2.get_DNN")
def get_dnn(module, inputs):
    return run_network(lambda: module.get_DNN(*inputs["sizes"]), inputs["x"], True, "get_DNN")


@probe("task2.train_torch")
def train_torch(module, inputs):
    net = build_chain(inputs["chain"])
    return recording_run(
        net, inputs, lambda n, train, test: module.train_torch(n, train, inputs["epochs"], inputs["lr"])
    )


@probe("task3.get_lenet")
def get_lenet(module, inputs):
    return run_network(lambda: module.get_lenet(), inputs["x"], False, "get_lenet")


@probe("task3.train_cnn")
def train_cnn(module, inputs):
    net = build_chain(inputs["chain"])
    # Parameters with a default in the contract are passed by keyword (the interface policy).
    device = {"device": inputs["device"]} if inputs["device"] else {}
    return recording_run(
        net, inputs, lambda n, train, test: module.train_cnn(n, train, test, inputs["epochs"], inputs["lr"], **device)
    )


# --- task4: the residual block and ResNet-18 ---------------------------------------------------


@probe("task4.Residual")
def residual(module, inputs):
    cin, cout, use, strides = inputs["config"]
    return run_network(
        lambda: module.Residual(cin, cout, use_1x1conv=use, strides=strides), inputs["x"], True, "Residual(...)"
    )


def _resnet(module, inputs):
    if inputs["args"] is None:
        return module.get_resnet()
    in_channels, num_classes = inputs["args"]  # defaults in the contract: passed by keyword
    return module.get_resnet(in_channels=in_channels, num_classes=num_classes)


@probe("task4.get_resnet")
def get_resnet(module, inputs, stand_ins):
    """Built with the reference Residual; where the student's get_resnet calls Residual in a
    way the reference does not accept (its own keyword names, say), with their own."""

    def run():
        return run_network(lambda: _resnet(module, inputs), inputs["x"], inputs["train"], "get_resnet")

    if "Residual" not in stand_ins:  # the student kit: no reference Residual
        return {**run(), "block": "your Residual"}
    try:
        with substituted(module, Residual=stand_ins["Residual"]):
            output = run()
        if output["error"] is None:
            return {**output, "block": "reference"}
        why = output["error"]
    except Exception as exc:  # noqa: BLE001 - e.g. TypeError: the reference rejects the student's call
        why = f"{type(exc).__name__}: {str(exc)[:150]}"
    return {**run(), "block": f"your Residual (the reference Residual failed in your get_resnet: {why})"}


# --- layers: Conv1D in NumPy --------------------------------------------------------------------


def _layer(module, inputs: dict):
    _, cin, cout, kernel, stride, _ = inputs["sizes"]
    layer = module.Conv1D(cin, cout, kernel, stride)
    layer.W = inputs["W"].copy()
    layer.b = inputs["b"].copy()
    return layer


@probe("layers.Conv1D.forward")
def conv_forward(module, inputs):
    return {"y": _layer(module, inputs).forward(inputs["x"])}


@probe("layers.Conv1D.backward")
def conv_backward(module, inputs):
    layer = _layer(module, inputs)
    layer.forward(inputs["x"])
    dx = layer.backward(inputs["delta"])
    return {"dx": dx, "dW": layer.dW, "db": layer.db}
