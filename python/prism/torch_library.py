"""A compiled Prism function as a PyTorch custom op (`torch.library`), so
that it runs inside `torch.compile` graphs like any other op:

    import torch, prism, prism.torch_library
    f = prism.compile(graph, target="cpu")              # or "nvidia:sm_90a"
    mlp = prism.torch_library.register(f, "prism::mlp_block")
    y = mlp(x, w_norm, w_gate, w_up, w_down)            # torch tensors in and out
    step = torch.compile(lambda x, *w: mlp(x, *w) + x, fullgraph=True)

The op's real implementation runs the bundle on the tensors where they live
(through DLPack, no copy); its fake implementation computes the output
shapes from the bundle's plan (the same size expressions the runtime
evaluates), with symbolic sizes under `torch.compile(dynamic=True)`.
Forward only: no autograd formula is registered, so a backward pass through
the op raises PyTorch's "no autograd formula" error.
"""
import re

import torch

from ._runtime import PrismError

__all__ = ["register"]

_TORCH_DTYPES = {"f32": torch.float32, "f16": torch.float16,
                 "bf16": torch.bfloat16, "i8": torch.int8, "i32": torch.int32,
                 "i64": torch.int64, "f64": torch.float64}

# Registered ops stay alive (and registered) for the life of the process.
_REGISTERED = {}


def register(function, name, input_names=None):
    """Registers `function` (a prism.CompiledFunction, from prism.compile or
    a loaded bundle) as the custom op `name` ("namespace::op") for the
    device its bundle runs on (CPU for "cpu" and the Ascend emulation,
    CUDA for NVIDIA and AMD bundles). Returns the op, callable on tensors.
    `input_names`: the schema's argument names (default x0, x1, ...)."""
    if not re.fullmatch(r"[A-Za-z_]\w*::[A-Za-z_]\w*", name or ""):
        raise PrismError(f"custom op name '{name}' must be 'namespace::op' "
                         "(identifiers)")
    if name in _REGISTERED:
        raise PrismError(f"custom op '{name}' is already registered in this "
                         "process; choose another name")
    plan = _function_plan(function)
    inputs, outputs = plan["inputs"], plan["outputs"]
    names = list(input_names or (f"x{i}" for i in range(len(inputs))))
    if len(names) != len(inputs) or not all(
            re.fullmatch(r"[A-Za-z_]\w*", n) for n in names):
        raise PrismError(f"input_names must be {len(inputs)} identifiers, got "
                         f"{names}")
    if not outputs:
        raise PrismError(f"'{function.name}' has no outputs to return")
    returns = "Tensor" if len(outputs) == 1 else \
        "(" + ", ".join("Tensor" for _ in outputs) + ")"
    schema = "(" + ", ".join(f"Tensor {n}" for n in names) + ") -> " + returns
    # GPU bundles run on device 0 of CUDA (NVIDIA) or ROCm (AMD), both
    # "cuda" in PyTorch; the CPU and the Ascend emulation on the host.
    # ("nvidia-emulated" runs its kernels on the host).
    device_type = "cuda" if function.target.split(":")[0] in ("nvidia", "amd") else "cpu"

    def check(args):
        if len(args) != len(inputs):
            raise PrismError(f"{name} takes {len(inputs)} tensors, got {len(args)}")
        for i, (arg, signature) in enumerate(zip(args, inputs)):
            dtype, shape = signature["dtype"], signature["shape"]
            if arg.dtype != _TORCH_DTYPES[dtype]:
                raise PrismError(f"{name}: input {i} ({names[i]}) must be "
                                 f"{_TORCH_DTYPES[dtype]}, got {arg.dtype}")
            if arg.dim() != len(shape) or any(
                    want >= 0 and isinstance(got, int) and got != want
                    for want, got in zip(shape, arg.shape)):
                want = "x".join("?" if s < 0 else str(s) for s in shape)
                raise PrismError(f"{name}: input {i} ({names[i]}) must have "
                                 f"shape [{want}], got {list(arg.shape)}")

    def run(*args):
        check(args)
        # The kernels read compact row-major tensors.
        args = [a.detach().contiguous() for a in args]
        results = function(*args)
        # A custom op may not return its inputs (or memory they share).
        storages = {a.untyped_storage().data_ptr() for a in args}
        results = tuple(r.clone() if r.untyped_storage().data_ptr() in storages
                        else r for r in results)
        return results[0] if len(results) == 1 else results

    def fake(*args):
        check(args)
        device = args[0].device if args else torch.device(device_type)
        results = []
        for output, buffer in zip(outputs, plan["output_buffers"]):
            shape = [_size(d, args) for d in plan["buffers"][buffer]["shape"]]
            results.append(torch.empty(shape, dtype=_TORCH_DTYPES[output["dtype"]],
                                       device=device))
        return results[0] if len(results) == 1 else tuple(results)

    try:
        op = torch.library.custom_op(name, run, mutates_args=(),
                                     device_types=device_type, schema=schema)
    except RuntimeError as e:
        raise PrismError(f"custom op '{name}' could not be registered: {e}") from None
    op.register_fake(fake)
    _REGISTERED[name] = op
    return op


def _function_plan(function):
    for plan in function.manifest["functions"]:
        if plan["name"] == function.name:
            return plan
    raise PrismError(f"the bundle has no function '{function.name}'")


def _size(dim, args):
    """constant * product of input sizes / divisor (the manifest's size
    expression), on ints or torch.SymInts."""
    value = dim["constant"]
    for input_index, axis in dim.get("input_dims", []):
        value = value * args[input_index].shape[axis]
    divisor = dim.get("divisor", 1)
    return value // divisor if divisor != 1 else value
