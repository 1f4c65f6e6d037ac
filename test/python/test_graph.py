"""The graph builder: the IR it prints is the IR one writes by hand; every
op, built from Python, compiled and run on the CPU, matches numpy in
float64; errors name the Python line; symbolic sizes are checked at calls;
CPU tensors arrive through DLPack."""
import math
import os

import ml_dtypes
import numpy as np
import pytest

import prism

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def rel_l2(actual, expected):
    actual = np.asarray(actual).astype(np.float64)
    return float(np.linalg.norm(actual - expected) / max(np.linalg.norm(expected), 1e-30))


def test_builder_prints_the_handwritten_ir():
    g = prism.Graph("mlp_block")
    x = g.input("x", (1, "seq", 256), "f32")
    norm_w = g.input("norm_w", (256,), np.float32)
    w_gate, w_up = g.input("w_gate", (688, 256)), g.input("w_up", (688, 256))
    w_down = g.input("w_down", (256, 688))
    h = g.rms_norm(x, norm_w, eps=1e-5)
    act = g.swiglu(g.linear(h, w_gate), g.linear(h, w_up))
    g.output(x + g.linear(act, w_down))
    assert "prism.rms_norm %x, %norm_w eps = 1.0e-05" in str(g)
    with open(os.path.join(ROOT, "examples", "llama_mlp_block.mlir")) as f:
        handwritten = f.read()
    # Both verified and printed by MLIR: the same function, op for op.
    assert prism.verify(str(g)) == prism.verify(handwritten)
    assert g.symbols == {"seq": [(0, 1)]}
    assert repr(act) == "<prism.Tensor %v3: [1, seq, 688] f32>"


def gelu(x):
    return 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def rope_neox(x, pos, theta):  # x [B, S, H, D], pos [B, S]
    d = x.shape[-1]
    freq = theta ** (-np.arange(d // 2) * 2.0 / d)
    angle = pos[..., None, None] * freq
    x1, x2 = x[..., : d // 2], x[..., d // 2:]
    return np.concatenate([x1 * np.cos(angle) - x2 * np.sin(angle),
                           x2 * np.cos(angle) + x1 * np.sin(angle)], -1)


def attention(q, k, v, causal):
    group = q.shape[1] // k.shape[1]
    k, v = np.repeat(k, group, 1), np.repeat(v, group, 1)
    s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(q.shape[-1])
    if causal:  # bottom-right aligned
        sq, sk = s.shape[-2:]
        s = np.where(np.arange(sk)[None, :] <= np.arange(sq)[:, None] + sk - sq, s, -np.inf)
    return softmax(s) @ v


def test_every_op_from_python_matches_float64():
    g = prism.Graph("ops")
    a = g.input("a", ("n", 48))
    b = g.input("b", (48,))
    p = g.input("p", ("n", 48))             # positive values
    w = g.input("w", (40, 48))
    bias = g.input("bias", (40,))
    q = g.input("q", (1, 4, 9, 32))
    k = g.input("k", (1, 2, 9, 32))
    v = g.input("v", (1, 2, 9, 32))
    xr = g.input("xr", (1, 9, 2, 32))
    pos = g.input("pos", (1, 9), "i32")
    table = g.input("table", (50, 48))
    ids = g.input("ids", (1, "n"), "i64")
    ops = {
        "add": a + b, "sub": a - b, "mul": a * b, "div": a / p,
        "max": g.maximum(a, b), "min": g.minimum(a, b), "neg": -a,
        "exp": g.exp(a), "log": g.log(p), "sqrt": g.sqrt(p), "rsqrt": g.rsqrt(p),
        "abs": g.abs(a), "tanh": g.tanh(a), "sigmoid": g.sigmoid(a),
        "relu": g.relu(a), "silu": g.silu(a), "gelu": g.gelu(a),
        "gelu_tanh": g.gelu(a, approximate="tanh"), "swiglu": g.swiglu(a, p),
        "softmax": g.softmax(a), "softmax_scaled": g.softmax(a, axis=0, scale=0.5),
        "sum": g.sum(a), "mean": g.mean(a, axes=0, keepdims=True),
        "rmax": g.max(a), "rmin": g.min(a),
        "rms_norm": g.rms_norm(a, b, eps=1e-6),
        "layer_norm": g.layer_norm(a, b, b, eps=1e-5),
        "linear": g.linear(a, w, bias=bias), "matmul_tn": g.matmul(a, a, transpose_a=True),
        "attention": g.attention(q, k, v), "attention_causal": g.attention(q, k, v, causal=True),
        "rope": g.rope(xr, pos, theta=10000.0),
        "embedding": g.embedding(table, ids),
        "transpose": g.transpose(a, (1, 0)), "reshape": g.reshape(a, ("n", 6, 8)),
        "cast": g.cast(a, "bf16"),
    }
    g.output(*ops.values())
    f = prism.compile(g, target="cpu")

    rng = np.random.default_rng(7)
    n = 13
    args = {
        "a": rng.standard_normal((n, 48)), "b": rng.standard_normal(48),
        "p": rng.uniform(0.5, 2.0, (n, 48)), "w": rng.standard_normal((40, 48)),
        "bias": rng.standard_normal(40), "q": rng.standard_normal((1, 4, 9, 32)),
        "k": rng.standard_normal((1, 2, 9, 32)), "v": rng.standard_normal((1, 2, 9, 32)),
        "xr": rng.standard_normal((1, 9, 2, 32)),
        # Angles are computed in f32 (as PyTorch does): at positions near
        # 4096 that alone is ~2e-5 relative, over the f32 tolerance.
        "pos": rng.integers(0, 512, (1, 9)).astype(np.int32),
        "table": rng.standard_normal((50, 48)),
        "ids": rng.integers(0, 50, (1, n)).astype(np.int64),
    }
    arrays = [args[t.ssa[1:]].astype(np.float32) if args[t.ssa[1:]].dtype == np.float64
              else args[t.ssa[1:]] for t in g.inputs]
    A, B, P = (args[k].astype(np.float32).astype(np.float64) for k in "abp")
    f64 = {k: x.astype(np.float32).astype(np.float64) if x.dtype == np.float64 else x
           for k, x in args.items()}
    mean = A.mean(-1, keepdims=True)
    expected = {
        "add": A + B, "sub": A - B, "mul": A * B, "div": A / P,
        "max": np.maximum(A, B), "min": np.minimum(A, B), "neg": -A,
        "exp": np.exp(A), "log": np.log(P), "sqrt": np.sqrt(P), "rsqrt": 1 / np.sqrt(P),
        "abs": np.abs(A), "tanh": np.tanh(A), "sigmoid": 1 / (1 + np.exp(-A)),
        "relu": np.maximum(A, 0), "silu": A / (1 + np.exp(-A)), "gelu": gelu(A),
        "gelu_tanh": 0.5 * A * (1 + np.tanh(math.sqrt(2 / math.pi) * (A + 0.044715 * A ** 3))),
        "swiglu": A / (1 + np.exp(-A)) * P,
        "softmax": softmax(A), "softmax_scaled": softmax(0.5 * A, axis=0),
        "sum": A.sum(-1), "mean": A.mean(0, keepdims=True), "rmax": A.max(-1), "rmin": A.min(-1),
        "rms_norm": A / np.sqrt((A * A).mean(-1, keepdims=True) + 1e-6) * B,
        "layer_norm": (A - mean) / np.sqrt(((A - mean) ** 2).mean(-1, keepdims=True) + 1e-5) * B + B,
        "linear": A @ f64["w"].T + f64["bias"], "matmul_tn": A.T @ A,
        "attention": attention(f64["q"], f64["k"], f64["v"], False),
        "attention_causal": attention(f64["q"], f64["k"], f64["v"], True),
        "rope": rope_neox(f64["xr"], args["pos"].astype(np.float64), 10000.0),
        "embedding": f64["table"][args["ids"]],
        "transpose": A.T, "reshape": A.reshape(n, 6, 8),
        "cast": A.astype(ml_dtypes.bfloat16).astype(np.float64),
    }
    outputs = f(*arrays)
    assert len(outputs) == len(ops)
    for (name, tensor), out in zip(ops.items(), outputs):
        assert out.shape == expected[name].shape, name
        tolerance = 1e-2 if tensor.dtype == "bf16" else 1e-5
        assert rel_l2(out, expected[name]) <= tolerance, (name, rel_l2(out, expected[name]))


def test_errors_name_the_python_line():
    g = prism.Graph("bad")
    x = g.input("x", (4, 8))
    y = g.input("y", (3, 8))
    with pytest.raises(prism.PrismError, match=r"test_graph\.py:\d+: .*do not broadcast"):
        x + y
    with pytest.raises(prism.PrismError, match=r"contraction dimension K"):
        g.matmul(x, y)
    with pytest.raises(prism.PrismError, match=r"32 elements but the result has 35"):
        g.reshape(x, (5, 7))
    with pytest.raises(prism.PrismError, match=r"unsupported dtype"):
        g.input("z", (4,), "f64")
    with pytest.raises(prism.PrismError, match=r"already has an input 'x'"):
        g.input("x", (4,))
    with pytest.raises(prism.PrismError, match=r"not a valid identifier"):
        g.input("two words", (4,))
    with pytest.raises(prism.PrismError, match=r"not a tensor of graph 'bad'"):
        g.exp(prism.Graph("other").input("u", (4,)))
    with pytest.raises(prism.PrismError, match=r"constants are not supported"):
        x + 1.0
    with pytest.raises(prism.PrismError, match=r"has no outputs"):
        str(g)
    # Integers where integers are meant, in range.
    with pytest.raises(prism.PrismError, match=r"softmax's axis must be an integer, got 1.7"):
        g.softmax(x, axis=1.7)
    with pytest.raises(prism.PrismError, match=r"attention window must be in \[1, "):
        g.attention(g.input("q", (1, 2, 4, 8)), g.input("k", (1, 2, 4, 8)),
                    g.input("v", (1, 2, 4, 8)), window=2 ** 63)
    with pytest.raises(prism.PrismError, match=r"input 'h': a size must be in \[0, "):
        g.input("h", (2 ** 63, 2))
    with pytest.raises(prism.PrismError, match=r"a reshape size must be in \[-1, "):
        g.reshape(x, (-2, 16))
    # A failed op leaves the graph as it was.
    g.output(g.exp(x))
    assert str(g).count("prism.") == 1


def test_reshape_minus_one_is_a_run_time_size():
    g = prism.Graph("flat")
    x = g.input("x", ("n", 8))
    g.output(g.reshape(x, (-1, 4)))
    f = prism.compile(g)
    a = np.random.default_rng(5).standard_normal((3, 8)).astype(np.float32)
    (out,) = f(a)
    assert out.shape == (6, 4) and np.array_equal(out, a.reshape(-1, 4))
    with pytest.raises(prism.PrismError, match=r"target must be a string"):
        prism.compile(g, target=None)


class CpuDlpack:
    """A tensor of another library: only the DLPack protocol."""

    def __init__(self, array, device=(1, 0)):
        self.array, self.device = array, device

    def __dlpack__(self, **kwargs):
        return self.array.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self.device


class LegacyDlpack(CpuDlpack):
    """A producer from before DLPack 1.0: no max_version, unversioned
    capsules."""

    def __dlpack__(self, stream=None):
        return self.array.__dlpack__()


def test_symbols_and_dlpack():
    g = prism.Graph("pair")
    x = g.input("x", ("n", 8))
    y = g.input("y", ("n", 8))
    g.output(x * y)
    f = prism.compile(g)
    rng = np.random.default_rng(3)
    a, b = (rng.standard_normal((5, 8)).astype(np.float32) for _ in range(2))
    (out,) = f(CpuDlpack(a), CpuDlpack(b))          # through DLPack, no copy in
    np.testing.assert_allclose(out, a * b, rtol=1e-6)
    (out,) = f(LegacyDlpack(a), b)
    np.testing.assert_allclose(out, a * b, rtol=1e-6)
    with pytest.raises(prism.PrismError, match=r"input 1 of 'pair' is not contiguous \(strides \[1, 5\] in elements\)"):
        f(a, CpuDlpack(np.ascontiguousarray(b.T).T))
    with pytest.raises(prism.PrismError, match=r"size 'n' differs between inputs"):
        f(a, rng.standard_normal((6, 8)).astype(np.float32))
    with pytest.raises(prism.PrismError, match=r"input 0 of .pair. lives on cuda:0, but this bundle for .cpu. runs on the host"):
        f(CpuDlpack(a, device=(2, 0)), b)
    with pytest.raises(prism.PrismError, match=r"must be an array or a DLPack tensor"):
        f([1.0] * 8, b)


def test_graph_on_ascend_emulation():
    """The same builder graph compiled for Ascend (Ascend C run under the
    emulation of the Ascend C API) matches float64."""
    g = prism.Graph("norm_silu")
    x = g.input("x", ("n", 320))
    w = g.input("w", (320,))
    g.output(g.silu(g.rms_norm(x, w, eps=1e-5)))
    f = prism.compile(g, target="ascend:910b")
    assert f.target == "ascend:910b"
    rng = np.random.default_rng(11)
    a = rng.standard_normal((9, 320)).astype(np.float32)
    b = rng.standard_normal(320).astype(np.float32)
    (y,) = f(a, b)
    A, B = a.astype(np.float64), b.astype(np.float64)
    h = A / np.sqrt((A * A).mean(-1, keepdims=True) + 1e-5) * B
    assert rel_l2(y, h / (1 + np.exp(-h))) <= 1e-5
    # What the backend cannot emit yet (i8 weights) is a clear error at
    # compile time, with the reason.
    g2 = prism.Graph("mm")
    a2, b2 = g2.input("a", (16, 32)), g2.input("b", (32, 16), "i8")
    g2.output(g2.matmul(a2, b2))
    with pytest.raises(prism.PrismError, match="i8 weights .* not supported yet"):
        prism.compile(g2, target="ascend")


def test_outputs_written_into_given_arrays():
    g = prism.Graph("two")
    x = g.input("x", ("n", 64))
    w = g.input("w", (64,), "bf16")
    g.output(g.exp(x), g.cast(g.rms_norm(x, g.cast(w, "f32"), eps=1e-6), "bf16"))
    f = prism.compile(g)
    rng = np.random.default_rng(5)
    a = rng.standard_normal((7, 64)).astype(np.float32)
    b = rng.standard_normal(64).astype(ml_dtypes.bfloat16)
    fresh = f(a, b)
    y0 = np.full((7, 64), np.nan, np.float32)
    y1 = np.zeros((7, 64), ml_dtypes.bfloat16)
    result = f(a, b, out=(y0, y1))
    assert result[0] is y0 and result[1] is y1
    np.testing.assert_array_equal(y0, fresh[0])
    np.testing.assert_array_equal(y1.view(np.uint16), fresh[1].view(np.uint16))
    with pytest.raises(prism.PrismError, match=r"output 0 of 'two' is f32\[7, 64\], but the memory given for it is f32\[7, 63\]"):
        f(a, b, out=(np.zeros((7, 63), np.float32), y1))
    with pytest.raises(prism.PrismError, match=r"has 2 outputs, but memory for 1 was given"):
        f(a, b, out=y0)
    with pytest.raises(prism.PrismError, match=r"out\[0\] must be an array or a DLPack tensor, got list"):
        f(a, b, out=([0.0], y1))
