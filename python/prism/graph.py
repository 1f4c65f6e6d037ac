"""Build prism IR from Python.

    g = prism.Graph("mlp")
    x = g.input("x", (1, "seq", 256), "f32")       # "seq": a symbolic size
    w = g.input("norm_w", (256,), "f32")
    h = g.rms_norm(x, w, eps=1e-5)
    ...
    g.output(y)
    print(g)                                        # the IR, as written by hand
    f = prism.compile(g, target="cpu")

Every op is checked when it is added (its result type is inferred by the
dialect itself, through the compiler module), so a wrong shape or dtype
raises PrismError at the line that made it, and that line is the op's
location in the IR handed to the compiler.
"""
import os
import re
import sys

import numpy as np

from ._runtime import PrismError

__all__ = ["Graph", "Tensor"]

_DTYPES = ("f32", "f16", "bf16", "i8", "i32", "i64", "f8E4M3FN")
_NUMPY_DTYPES = {np.dtype(np.float32): "f32", np.dtype(np.float16): "f16",
                 np.dtype(np.int8): "i8", np.dtype(np.int32): "i32",
                 np.dtype(np.int64): "i64"}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
_TENSOR = re.compile(r"tensor<((?:(?:\d+|\?)x)*)([A-Za-z0-9]+)>$")


def _dtype_name(dtype):
    if isinstance(dtype, str) and dtype in _DTYPES:
        return dtype
    try:
        d = np.dtype(dtype)
    except TypeError:
        d = None
    if d is not None:
        if d in _NUMPY_DTYPES:
            return _NUMPY_DTYPES[d]
        if d.name == "bfloat16":
            return "bf16"
    raise PrismError(f"unsupported dtype {dtype!r} (one of {', '.join(_DTYPES)}, "
                     "or a numpy / ml_dtypes dtype)")


def _float(value):
    """The shortest literal that round-trips the double, with the '.' MLIR's
    float syntax needs (1e-05 -> 1.0e-05)."""
    value = float(value)
    if not np.isfinite(value):
        raise PrismError(f"attribute value {value} is not finite")
    text = repr(value)
    mantissa, _, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    return mantissa + ("e" + exponent if exponent else "")


def _integer(value, what, low=-(2 ** 63), high=2 ** 63 - 1):
    """`value` as an int in [low, high]: a Python or NumPy integer (not a
    bool, not a float that would be truncated), else PrismError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise PrismError(f"{what} must be an integer, got {value!r}")
    if not low <= int(value) <= high:
        raise PrismError(f"{what} must be in [{low}, {high}], got {int(value)}")
    return int(value)


def _caller_location():
    """loc("file":line:col) of the first frame outside this package."""
    here = os.path.dirname(os.path.abspath(__file__))
    frame = sys._getframe(1)
    while frame is not None and os.path.dirname(
            os.path.abspath(frame.f_code.co_filename)) == here:
        frame = frame.f_back
    if frame is None:
        return None
    filename = frame.f_code.co_filename.replace("\\", "\\\\").replace('"', '\\"')
    return f'loc("{filename}":{frame.f_lineno}:0)'


class Tensor:
    """A value of a Graph: its shape (ints, and a name or None for each
    dynamic size) and its dtype."""

    def __init__(self, graph, ssa, shape, dtype):
        self.graph, self.ssa, self.shape, self.dtype = graph, ssa, tuple(shape), dtype

    @property
    def type(self):
        dims = "".join(("?" if not isinstance(d, int) else str(d)) + "x"
                       for d in self.shape)
        return f"tensor<{dims}{self.dtype}>"

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        shape = ", ".join(str(d) if d is not None else "?" for d in self.shape)
        return f"<prism.Tensor {self.ssa}: [{shape}] {self.dtype}>"

    def _other(self, value):
        if not isinstance(value, Tensor):
            raise PrismError("prism tensors combine only with prism tensors "
                             f"(got {type(value).__name__}); constants are not "
                             "supported yet: pass them as inputs")
        return value

    def __add__(self, other): return self.graph.add(self, self._other(other))
    def __sub__(self, other): return self.graph.sub(self, self._other(other))
    def __mul__(self, other): return self.graph.mul(self, self._other(other))
    def __truediv__(self, other): return self.graph.div(self, self._other(other))
    def __matmul__(self, other): return self.graph.matmul(self, self._other(other))
    def __neg__(self): return self.graph.neg(self)


class Graph:
    """One function of prism ops, built op by op."""

    def __init__(self, name="main"):
        if not _NAME.match(name):
            raise PrismError(f"'{name}' is not a valid function name")
        self.name = name
        self.inputs = []
        self.outputs = None
        self._ops = []          # (text without location, location)
        self._count = 0

    # -- inputs, outputs, text ------------------------------------------
    def input(self, name, shape, dtype="f32"):
        """A function argument. Sizes are ints; a string (or None) is a
        size known at run time; equal strings must agree at every call."""
        if not _NAME.match(name):
            raise PrismError(f"input name '{name}' is not a valid identifier")
        if any(t.ssa == "%" + name for t in self.inputs):
            raise PrismError(f"the graph already has an input '{name}'")
        dims = []
        for d in shape:
            if isinstance(d, (int, np.integer)) and not isinstance(d, bool):
                if d < 0:
                    raise PrismError(f"input '{name}': negative size {d}")
                dims.append(_integer(d, f"input '{name}': a size", 0))
            elif d is None or isinstance(d, str):
                dims.append(d)
            else:
                raise PrismError(f"input '{name}': a size must be an int, a "
                                 f"name or None, got {d!r}")
        t = Tensor(self, "%" + name, dims, _dtype_name(dtype))
        self.inputs.append(t)
        return t

    def output(self, *values):
        """The function's results, in order."""
        if not values:
            raise PrismError("a graph needs at least one output")
        for v in values:
            self._own(v)
        self.outputs = list(values)
        return self

    @property
    def symbols(self):
        """{symbolic size name: [(input index, dimension)]}."""
        found = {}
        for i, t in enumerate(self.inputs):
            for axis, d in enumerate(t.shape):
                if isinstance(d, str):
                    found.setdefault(d, []).append((i, axis))
        return found

    def ir(self, locations=False):
        if self.outputs is None:
            raise PrismError(f"graph '{self.name}' has no outputs: call output()")
        args = ", ".join(f"{t.ssa}: {t.type}" for t in self.inputs)
        results = ", ".join(t.type for t in self.outputs)
        lines = [f"func.func @{self.name}({args}) -> ({results}) {{"]
        for text, loc in self._ops:
            lines.append("  " + text + (f" {loc}" if locations and loc else ""))
        lines.append("  return " + ", ".join(t.ssa for t in self.outputs) +
                     " : " + results)
        lines.append("}")
        return "\n".join(lines) + "\n"

    def __str__(self):
        return self.ir()

    # -- the op builder ----------------------------------------------------
    def _own(self, value):
        if not isinstance(value, Tensor) or value.graph is not self:
            raise PrismError(f"{value!r} is not a tensor of graph '{self.name}'")
        return value

    def _op(self, name, body, operands, symbols_from=None):
        """Adds `%r = prism.<name> <body>`; `body` uses the operands' SSA
        names. The op is parsed and verified alone first; its result type
        is what the dialect infers (or the one `body` states)."""
        for v in operands:
            self._own(v)
        loc = _caller_location()
        from . import _compiler
        # The same op, alone in a function over its operands.
        unique = list(dict.fromkeys(operands))
        args = ", ".join(f"{v.ssa}: {v.type}" for v in unique)
        probe = (f"func.func @__prism_infer({args}) {{\n"
                 f"  %r = prism.{name} {body}" + (f" {loc}" if loc else "") +
                 "\n  return\n}\n")
        try:
            (result_type,) = _compiler.result_types(probe)
        except PrismError as e:
            where = _python_place(loc)
            raise PrismError(f"{where}{_strip(str(e))}") from None
        m = _TENSOR.match(result_type)
        if not m:
            raise PrismError(f"prism.{name}: unexpected result type {result_type}")
        sizes = [None if s == "?" else int(s) for s in m.group(1).split("x")[:-1]]
        source = symbols_from if symbols_from is not None else (
            operands[0] if operands else None)
        if source is not None:  # names of dynamic sizes, aligned from the right
            for i in range(1, min(len(sizes), source.ndim) + 1):
                if sizes[-i] is None and isinstance(source.shape[-i], str):
                    sizes[-i] = source.shape[-i]
        ssa = f"%v{self._count}"
        self._count += 1
        self._ops.append((f"{ssa} = prism.{name} {body}", loc))
        return Tensor(self, ssa, sizes, m.group(2))

    def _binary(self, name, a, b):
        return self._op(name, f"{a.ssa}, {b.ssa} : {a.type}, {b.type}", [a, b])

    def _unary(self, name, x):
        return self._op(name, f"{x.ssa} : {x.type}", [x])

    # Elementwise, with numpy broadcasting.
    def add(self, a, b): return self._binary("add", a, b)
    def sub(self, a, b): return self._binary("sub", a, b)
    def mul(self, a, b): return self._binary("mul", a, b)
    def div(self, a, b): return self._binary("div", a, b)
    def maximum(self, a, b): return self._binary("max", a, b)
    def minimum(self, a, b): return self._binary("min", a, b)
    def exp(self, x): return self._unary("exp", x)
    def log(self, x): return self._unary("log", x)
    def sqrt(self, x): return self._unary("sqrt", x)
    def rsqrt(self, x): return self._unary("rsqrt", x)
    def neg(self, x): return self._unary("neg", x)
    def abs(self, x): return self._unary("abs", x)
    def tanh(self, x): return self._unary("tanh", x)
    def sigmoid(self, x): return self._unary("sigmoid", x)
    def relu(self, x): return self._unary("relu", x)
    def silu(self, x): return self._unary("silu", x)

    def gelu(self, x, approximate=None):
        """approximate: None (erf) or "tanh"."""
        extra = f" approximate = {approximate}" if approximate else ""
        return self._op("gelu", f"{x.ssa}{extra} : {x.type}", [x])

    def swiglu(self, gate, up):
        return self._op("swiglu", f"{gate.ssa}, {up.ssa} : {gate.type}",
                        [gate, up])

    # Softmax, reductions, normalizations.
    def softmax(self, x, axis=-1, scale=None):
        axis = _integer(axis, "softmax's axis")
        extra = f" axis = {axis}" if axis != -1 else ""
        if scale is not None:
            extra += f" scale = {_float(scale)}"
        return self._op("softmax", f"{x.ssa}{extra} : {x.type}", [x])

    def reduce(self, kind, x, axes, keepdims=False):
        """kind: sum, mean, max or min."""
        axes = [_integer(a, f"{kind}'s axes")
                for a in (axes if isinstance(axes, (list, tuple)) else [axes])]
        keep = " keepdims" if keepdims else ""
        return self._op("reduce", f"{kind} {x.ssa} axes = {axes}{keep} : {x.type}", [x])

    def sum(self, x, axes=-1, keepdims=False): return self.reduce("sum", x, axes, keepdims)
    def mean(self, x, axes=-1, keepdims=False): return self.reduce("mean", x, axes, keepdims)
    def max(self, x, axes=-1, keepdims=False): return self.reduce("max", x, axes, keepdims)
    def min(self, x, axes=-1, keepdims=False): return self.reduce("min", x, axes, keepdims)

    def rms_norm(self, x, weight, eps=None):
        extra = f" eps = {_float(eps)}" if eps is not None else ""
        return self._op("rms_norm", f"{x.ssa}, {weight.ssa}{extra} : {x.type}, "
                        f"{weight.type}", [x, weight])

    def layer_norm(self, x, weight=None, bias=None, eps=None):
        body, operands = x.ssa, [x]
        if weight is not None:
            body += f" weight({weight.ssa} : {weight.type})"
            operands.append(weight)
        if bias is not None:
            body += f" bias({bias.ssa} : {bias.type})"
            operands.append(bias)
        if eps is not None:
            body += f" eps = {_float(eps)}"
        return self._op("layer_norm", f"{body} : {x.type}", operands)

    # Transformer ops.
    def matmul(self, a, b, transpose_a=False, transpose_b=False, bias=None,
               acc=None):
        """a @ b over the last two dims (batch dims broadcast); transpose_b
        for PyTorch Linear weights [out, in]; bias added per column; acc:
        the accumulation dtype (f32 for floats by default)."""
        body, operands = f"{a.ssa}, {b.ssa}", [a, b]
        if bias is not None:
            body += f" bias({bias.ssa} : {bias.type})"
            operands.append(bias)
        if transpose_a:
            body += " transpose_lhs"
        if transpose_b:
            body += " transpose_rhs"
        if acc is not None:
            body += f" acc({_dtype_name(acc)})"
        return self._op("matmul", f"{body} : {a.type}, {b.type}", operands)

    def linear(self, x, weight, bias=None):
        """x @ weight^T (+ bias), weight in PyTorch's [out, in] layout."""
        return self.matmul(x, weight, transpose_b=True, bias=bias)

    def attention(self, q, k, v, causal=False, scale=None, mask=None,
                  window=None):
        """softmax(q k^T * scale + mask) v over [batch, heads, seq, dim];
        fewer k/v heads than q heads is grouped-query attention."""
        body, operands = f"{q.ssa}, {k.ssa}, {v.ssa}", [q, k, v]
        if mask is not None:
            body += f" mask({mask.ssa} : {mask.type})"
            operands.append(mask)
        if causal:
            body += " causal"
        if scale is not None:
            body += f" scale = {_float(scale)}"
        if window is not None:
            body += f" window = {_integer(window, 'attention window', 1)}"
        return self._op("attention", f"{body} : {q.type}, {k.type}, {v.type}",
                        operands)

    def rope(self, x, positions, style="neox", layout="bshd", theta=None,
             tables=None):
        """Rotary embedding; style neox or interleaved; layout bshd or
        bhsd; angles from theta (10000 by default) or (cos, sin) tables."""
        body, operands = f"{style} {layout} {x.ssa}, {positions.ssa}", [x, positions]
        if tables is not None:
            cos, sin = tables
            body += f" tables({cos.ssa}, {sin.ssa} : {cos.type}, {sin.type})"
            operands += [cos, sin]
        if theta is not None:
            body += f" theta = {_float(theta)}"
        return self._op("rope", f"{body} : {x.type}, {positions.type}", operands)

    def embedding(self, table, ids):
        return self._op("embedding", f"{table.ssa}, {ids.ssa} : {table.type}, "
                        f"{ids.type}", [table, ids], symbols_from=ids)

    # Data movement.
    def transpose(self, x, perm):
        perm = [_integer(p, "a transpose's permutation") for p in perm]
        out = self._op("transpose", f"{x.ssa} perm = {perm} : {x.type}", [x])
        out.shape = tuple(x.shape[p] for p in perm)
        return out

    def reshape(self, x, shape):
        """Sizes as for input(): ints, or names/None for run-time sizes; -1
        (NumPy's inferred size) is a run-time size too."""
        dims = []
        for d in shape:
            if d is None or isinstance(d, str):
                dims.append(d)
            elif _integer(d, "a reshape size", -1) == -1:
                dims.append(None)
            else:
                dims.append(int(d))
        target = Tensor(self, "", dims, x.dtype)
        out = self._op("reshape", f"{x.ssa} : {x.type} to {target.type}", [x])
        out.shape = target.shape
        return out

    def cast(self, x, dtype):
        target = Tensor(self, "", x.shape, _dtype_name(dtype))
        return self._op("cast", f"{x.ssa} : {x.type} to {target.type}", [x])


def _strip(message):
    """The diagnostics without the parser's preamble and the probe's
    locations (the error is about the Python line that added the op)."""
    message = message.replace("the IR does not parse or verify:\n", "")
    return re.sub(r'^loc\([^\n]*?\):\s*', "", message.strip(), flags=re.M)


def _python_place(loc):
    """'file:line: ' from loc("file":line:0)."""
    m = re.match(r'loc\("(.*)":(\d+):\d+\)$', loc or "")
    return f"{m.group(1)}:{m.group(2)}: " if m else ""
