"""PyTorch: torch tensors in and out through DLPack (f32 and bf16, no copy,
out= written in place, every error a PrismError), and a compiled function
registered as a torch.library custom op: eager, opcheck, and inside
torch.compile graphs with symbolic sizes, checked against float64.

`make test` installs PyTorch (scripts/bootstrap.sh); with PRISM_WITH_TORCH=0
it does not, and this file is skipped."""
import os

import ml_dtypes
import numpy as np
import pytest

if os.environ.get("PRISM_WITH_TORCH", "1") == "0":
    pytest.skip("PRISM_WITH_TORCH=0: PyTorch is not installed", allow_module_level=True)

import torch  # noqa: E402

import prism  # noqa: E402
import prism.torch_library  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MLP = os.path.join(ROOT, "examples", "llama_mlp_block.mlir")

NORM_ADD = """
func.func @norm_add(%x: tensor<?x96xbf16>, %y: tensor<?x96xbf16>, %w: tensor<96xf32>) -> (tensor<?x96xbf16>, tensor<?x96xf32>) {
  %s = prism.add %x, %y : tensor<?x96xbf16>, tensor<?x96xbf16>
  %n = prism.rms_norm %s, %w eps = 1.0e-5 : tensor<?x96xbf16>, tensor<96xf32>
  %f = prism.cast %s : tensor<?x96xbf16> to tensor<?x96xf32>
  return %n, %f : tensor<?x96xbf16>, tensor<?x96xf32>
}"""


def rel_l2(actual, expected):
    actual = actual.detach().to(torch.float64).numpy()
    return float(np.linalg.norm(actual - expected) / np.linalg.norm(expected))


def mlp_reference(x, norm_w, w_gate, w_up, w_down):
    x, norm_w, w_gate, w_up, w_down = (t.detach().to(torch.float64).numpy() for t in
                                        (x, norm_w, w_gate, w_up, w_down))
    h = x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-5) * norm_w
    gate, up = h @ w_gate.T, h @ w_up.T
    return x + (gate / (1 + np.exp(-gate)) * up) @ w_down.T


def mlp_inputs(seq, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(s, generator=generator)
            for s in [(1, seq, 256), (256,), (688, 256), (688, 256), (256, 688)]]


def norm_add_reference(x, y, w):
    s = x.to(torch.float64).numpy() + y.to(torch.float64).numpy()
    return s / np.sqrt((s * s).mean(-1, keepdims=True) + 1e-5) * w.to(torch.float64).numpy()


@pytest.fixture(scope="module")
def mlp():
    return prism.compile(MLP, target="cpu")


@pytest.fixture(scope="module")
def norm_add():
    return prism.compile(NORM_ADD, target="cpu")


def test_torch_tensors_in_torch_tensors_out(mlp):
    args = mlp_inputs(11, seed=1)
    (y,) = mlp(*args)
    assert isinstance(y, torch.Tensor) and y.dtype == torch.float32
    assert y.shape == (1, 11, 256) and y.device.type == "cpu"
    assert rel_l2(y, mlp_reference(*args)) <= 1e-5
    # Mixed numpy and torch inputs: outputs follow the torch tensors.
    (z,) = mlp(args[0].numpy(), *args[1:])
    assert isinstance(z, torch.Tensor) and torch.equal(y, z)


def test_bf16_tensors_without_ml_dtypes(norm_add):
    # bf16 torch tensors pass through DLPack directly (numpy has no bf16).
    generator = torch.Generator().manual_seed(2)
    x, y = (torch.randn(13, 96, generator=generator).to(torch.bfloat16) for _ in range(2))
    w = torch.randn(96, generator=generator)
    n, s = norm_add(x, y, w)
    assert n.dtype == torch.bfloat16 and s.dtype == torch.float32 and n.shape == (13, 96)
    assert rel_l2(n, norm_add_reference(x, y, w)) <= 1e-2
    assert torch.equal(s, x.float() + y.float()) or rel_l2(
        s, x.to(torch.float64).numpy() + y.to(torch.float64).numpy()) <= 4e-3
    # The same call on numpy (ml_dtypes) arrays gives the same bits.
    n2, _ = norm_add(x.view(torch.int16).numpy().view(ml_dtypes.bfloat16),
                     y.view(torch.int16).numpy().view(ml_dtypes.bfloat16), w.numpy())
    assert np.array_equal(n.view(torch.int16).numpy(), n2.view(np.int16))


def test_out_tensors_are_written_in_place(norm_add):
    generator = torch.Generator().manual_seed(3)
    x, y = (torch.randn(5, 96, generator=generator).to(torch.bfloat16) for _ in range(2))
    w = torch.randn(96, generator=generator)
    fresh = norm_add(x, y, w)
    n = torch.full((5, 96), float("nan"), dtype=torch.bfloat16)
    s = torch.full((5, 96), float("nan"))
    pointers = (n.data_ptr(), s.data_ptr())
    result = norm_add(x, y, w, out=(n, s))
    assert result[0] is n and result[1] is s
    assert (n.data_ptr(), s.data_ptr()) == pointers
    assert torch.equal(n, fresh[0]) and torch.equal(s, fresh[1])
    with pytest.raises(prism.PrismError, match=r"output 1 of 'norm_add' is f32\[5, 96\], but the memory given for it is bf16\[5, 96\]"):
        norm_add(x, y, w, out=(n, n.clone()))
    with pytest.raises(prism.PrismError, match=r"out\[0\] is not contiguous"):
        norm_add(x, y, w, out=(torch.empty(96, 5, dtype=torch.bfloat16).t(), s))


def test_torch_input_errors(mlp):
    args = mlp_inputs(4, seed=4)
    with pytest.raises(prism.PrismError, match=r"input 2 of 'mlp_block' is not contiguous \(strides \[1, 688\]"):
        mlp(args[0], args[1], args[4].t(), *args[3:])
    with pytest.raises(prism.PrismError, match=r"input 0 of 'mlp_block' must be f32\[1, \?, 256\], but got f64\[1, 4, 256\]"):
        mlp(args[0].double(), *args[1:])
    with pytest.raises(prism.PrismError, match=r"input 1 of 'mlp_block' has dtype bool8, which Prism does not have"):
        mlp(args[0], args[1] > 0, *args[2:])
    with pytest.raises(prism.PrismError, match=r"input 0 of 'mlp_block': the tensor cannot be exported through DLPack .*require"):
        mlp(args[0].requires_grad_(), *args[1:])
    with pytest.raises(prism.PrismError, match=r"input 1 of 'mlp_block' must be f32\[256\], but got f32\[255\]"):
        mlp(args[0].detach(), args[1][:255], *args[2:])


@pytest.fixture(scope="module")
def mlp_op(mlp):
    return prism.torch_library.register(mlp, "prism_test::mlp_block",
                                        input_names=["x", "norm_w", "w_gate", "w_up", "w_down"])


def test_custom_op_eager_and_opcheck(mlp_op):
    args = mlp_inputs(9, seed=5)
    y = mlp_op(*args)
    assert isinstance(y, torch.Tensor) and y.shape == (1, 9, 256)
    assert rel_l2(y, mlp_reference(*args)) <= 1e-5
    assert str(torch.ops.prism_test.mlp_block.default._schema) == (
        "prism_test::mlp_block(Tensor x, Tensor norm_w, Tensor w_gate, Tensor w_up, "
        "Tensor w_down) -> Tensor")
    # PyTorch's own checks of a custom op: schema, fake implementation
    # against the real one, and tracing through AOT dispatch.
    torch.library.opcheck(mlp_op, tuple(mlp_inputs(6, seed=6)))


def test_custom_op_in_torch_compile(mlp_op):
    def block(x, norm_w, w_gate, w_up, w_down):
        return mlp_op(x * 0.5, norm_w, w_gate, w_up, w_down) - x

    compiled = torch.compile(block, backend="aot_eager", fullgraph=True, dynamic=True)
    for seq in (5, 17):  # one graph with a symbolic sequence length
        args = mlp_inputs(seq, seed=seq)
        halved = [args[0] * 0.5] + args[1:]
        expected = mlp_reference(*halved) - args[0].to(torch.float64).numpy()
        assert rel_l2(compiled(*args), expected) <= 1e-5
    inductor = torch.compile(block, fullgraph=True)
    args = mlp_inputs(8, seed=8)
    halved = [args[0] * 0.5] + args[1:]
    expected = mlp_reference(*halved) - args[0].to(torch.float64).numpy()
    assert rel_l2(inductor(*args), expected) <= 1e-5


def test_custom_op_errors(mlp, mlp_op, norm_add):
    args = mlp_inputs(3, seed=7)
    with pytest.raises(prism.PrismError, match=r"prism_test::mlp_block: input 0 \(x\) must be torch.float32, got torch.float16"):
        mlp_op(args[0].half(), *args[1:])
    with pytest.raises(prism.PrismError, match=r"input 1 \(norm_w\) must have shape \[256\], got \[128\]"):
        mlp_op(args[0], args[1][:128], *args[2:])
    with pytest.raises(RuntimeError, match=r"backward through prism_test.mlp_block.default but no autograd formula"):
        mlp_op(args[0].requires_grad_(), *args[1:]).sum().backward()
    with pytest.raises(prism.PrismError, match=r"already registered"):
        prism.torch_library.register(mlp, "prism_test::mlp_block")
    with pytest.raises(prism.PrismError, match=r"must be 'namespace::op'"):
        prism.torch_library.register(mlp, "mlp_block")
    with pytest.raises(prism.PrismError, match=r"input_names must be 5 identifiers"):
        prism.torch_library.register(mlp, "prism_test::other", input_names=["x"])
    # Two outputs, one of them bf16; fake and real agree (opcheck).
    pair = prism.torch_library.register(norm_add, "prism_test::norm_add")
    generator = torch.Generator().manual_seed(9)
    x, y = (torch.randn(4, 96, generator=generator).to(torch.bfloat16) for _ in range(2))
    w = torch.randn(96, generator=generator)
    n, s = pair(x, y, w)
    assert rel_l2(n, norm_add_reference(x, y, w)) <= 1e-2
    torch.library.opcheck(pair, (x, y, w))


def test_gpu_bundle_op_needs_gpu_tensors(tmp_path):
    # An NVIDIA bundle registers for CUDA tensors: compiled and registered
    # here without a GPU; CPU tensors are refused by PyTorch's dispatcher.
    f = prism.compile(MLP, target="nvidia:sm_90a", directory=str(tmp_path / "nv"))
    op = prism.torch_library.register(f, "prism_test::mlp_block_sm90a")
    with pytest.raises(NotImplementedError, match=r"prism_test::mlp_block_sm90a.*CPU"):
        op(*mlp_inputs(2))


MATMUL = """
func.func @mm(%x: tensor<?x256xf32>, %w: tensor<256x256xf32>) -> tensor<?x256xf32> {
  %y = prism.matmul %x, %w : tensor<?x256xf32>, tensor<256x256xf32>
  return %y : tensor<?x256xf32>
}"""


def test_out_that_is_an_input_is_not_written_while_read():
    # The kernels would overwrite x while other tiles still read it: the
    # bundle writes new memory and the result is copied into out.
    f = prism.compile(MATMUL)
    generator = torch.Generator().manual_seed(11)
    x = torch.randn(512, 256, generator=generator)
    w = torch.randn(256, 256, generator=generator)
    expected = x.double().numpy() @ w.double().numpy()
    (y,) = f(x, w, out=x)
    assert y is x
    assert rel_l2(x, expected) <= 1e-5
    xn, wn = x.numpy().copy(), w.numpy()
    expected = xn.astype(np.float64) @ wn.astype(np.float64)
    f(xn, wn, out=xn)
    assert float(np.linalg.norm(xn - expected) / np.linalg.norm(expected)) <= 1e-5


def test_out_memory_is_checked_even_when_not_written_in_place(norm_add):
    e = torch.empty(0, 96, dtype=torch.bfloat16)
    w = torch.randn(96)
    with pytest.raises(prism.PrismError, match=r"output 0 of 'norm_add' is bf16\[0, 96\], but the memory given for it is f64\[0, 96\]"):
        norm_add(e, e, w, out=(torch.empty(0, 96, dtype=torch.float64),
                               torch.empty(0, 96)))
    # An empty tensor's strides do not matter.
    odd = torch.empty(0, 192, dtype=torch.bfloat16)[:, ::2]
    n, s = norm_add(odd, odd, w)
    assert n.shape == (0, 96) and s.shape == (0, 96)
    # out= of another library than the inputs: refused before running.
    x = torch.randn(3, 96).to(torch.bfloat16)
    with pytest.raises(prism.PrismError, match=r"out\[0\] is a ndarray but the outputs are torch tensors"):
        norm_add(x, x, w, out=(np.empty((3, 96), np.float32), torch.empty(3, 96)))


def test_in_place_outputs_are_seen_by_autograd(norm_add):
    # Writing a saved tensor in place must make backward fail, as
    # Tensor.copy_ would, not silently use the new values.
    x = torch.randn(4, 96).to(torch.bfloat16)
    w = torch.randn(96)
    n = torch.ones(4, 96, dtype=torch.bfloat16)
    s = torch.empty(4, 96)
    scale = torch.ones(96, dtype=torch.bfloat16, requires_grad=True)
    loss = (n * scale).float().sum()
    norm_add(x, x, w, out=(n, s))
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation"):
        loss.backward()


def test_bf16_torch_outputs_need_no_ml_dtypes(norm_add, monkeypatch):
    monkeypatch.setattr(prism.tensors, "BFLOAT16", None)
    x = torch.randn(2, 96).to(torch.bfloat16)
    w = torch.randn(96)
    n, _ = norm_add(x, x, w)
    assert n.dtype == torch.bfloat16
    assert rel_l2(n, norm_add_reference(x, x, w)) <= 1e-2
