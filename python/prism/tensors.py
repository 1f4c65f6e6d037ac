"""Tensors in and out of a bundle: numpy arrays, and any tensor that speaks
DLPack (PyTorch, CuPy, JAX...) on the device where it lives.

Inputs are never copied on the host side: numpy arrays and DLPack tensors
are handed to the kernels as they are (a GPU bundle given host memory copies
it to the device, as it must). Outputs come back as the library of the
inputs: numpy arrays for numpy inputs, torch tensors for torch inputs (on
the same device), CuPy arrays for CuPy inputs; for other DLPack producers a
`DLPackTensor` that their `from_dlpack` takes over.
"""
import numpy as np

from ._runtime import PrismError

try:
    import ml_dtypes as _ml_dtypes
    BFLOAT16 = np.dtype(_ml_dtypes.bfloat16)
except ImportError:  # bf16 arrays need ml_dtypes
    BFLOAT16 = None

_NUMPY_NAMES = {np.dtype(np.float32): "f32", np.dtype(np.float16): "f16",
                np.dtype(np.int8): "i8", np.dtype(np.int32): "i32",
                np.dtype(np.int64): "i64"}

# DLPack device types (dlpack.h).
_CPU, _CUDA, _CUDA_HOST, _ROCM, _ROCM_HOST = 1, 2, 3, 10, 11
_HOST_DEVICES = (_CPU, _CUDA_HOST, _ROCM_HOST)


def numpy_dtype_name(array):
    """The Prism dtype of a numpy array (bf16 through ml_dtypes)."""
    if BFLOAT16 is not None and array.dtype == BFLOAT16:
        return "bf16"
    name = _NUMPY_NAMES.get(array.dtype)
    if name is None:
        raise PrismError(f"dtype {array.dtype} is not supported "
                         "(float32, float16, bfloat16, int8, int32, int64)")
    return name


def from_storage(dtype, array):
    """A host output array (bf16 comes as uint16 storage) as its dtype."""
    if dtype == "bf16":
        if BFLOAT16 is None:
            raise PrismError("bf16 outputs need the ml_dtypes package")
        return array.view(BFLOAT16)
    return array


def device_of(value):
    """The DLPack (device type, id) of a tensor; numpy arrays are on the host."""
    if isinstance(value, np.ndarray) or not hasattr(value, "__dlpack_device__"):
        return (_CPU, 0)
    device = value.__dlpack_device__()
    return (int(device[0]), int(device[1]))


def is_host(device):
    return device[0] in _HOST_DEVICES


def describe(device):
    names = {_CPU: "cpu", _CUDA: "cuda", _ROCM: "rocm"}
    if device[0] == _CPU:
        return "cpu"
    return f"{names.get(device[0], f'DLPack device type {device[0]}')}:{device[1]}"


class DLPackTensor:
    """A bundle output as a DLPack producer, for libraries Prism does not
    convert to itself: `jax.numpy.from_dlpack(t)`, `np.from_dlpack(t)`...
    The kernels have finished when it is returned, so any stream may read
    it. It can be taken over once."""

    def __init__(self, capsule, device, dtype, shape):
        self._capsule = capsule
        self.device = device
        self.dtype = dtype  # Prism dtype name
        self.shape = shape

    def __dlpack__(self, stream=None, max_version=None, dl_device=None,
                   copy=None):
        if self._capsule is None:
            raise BufferError("this Prism output was already taken over "
                              "through DLPack")
        if dl_device is not None and tuple(dl_device) != self.device:
            raise BufferError(f"this Prism output lives on {describe(self.device)}")
        if copy:
            raise BufferError("Prism outputs are exported without a copy")
        capsule, self._capsule = self._capsule, None
        return capsule

    def __dlpack_device__(self):
        return self.device

    def __repr__(self):
        return (f"<prism.DLPackTensor {self.dtype}{list(self.shape)} on "
                f"{describe(self.device)}>")


def capsule_of(value, what):
    """The DLPack capsule of a tensor, made ready on the stream Prism
    launches on (the legacy default stream of CUDA, the default stream of
    ROCm: the kernels of a run wait for every earlier stream's work)."""
    device = device_of(value)
    kwargs = {}
    if device[0] == _CUDA:
        kwargs["stream"] = 1
    elif device[0] == _ROCM:
        kwargs["stream"] = 0
    try:
        try:
            return value.__dlpack__(max_version=(1, 0), **kwargs)
        except TypeError:  # a producer of DLPack before 1.0
            return value.__dlpack__(**kwargs)
    except (BufferError, RuntimeError, ValueError) as e:
        raise PrismError(f"{what}: the tensor cannot be exported through "
                         f"DLPack ({e})") from None


def library_of(value):
    """The top-level module of a tensor's type: 'torch', 'cupy', 'jaxlib'..."""
    return type(value).__module__.split(".")[0]


def to_library(dtype, capsule, device, like, shape):
    """A bundle output (a DLPack capsule) as a tensor of `like`'s library."""
    exported = DLPackTensor(capsule, device, dtype, tuple(shape))
    library = library_of(like)
    if library == "torch":
        import torch
        return torch.from_dlpack(exported)
    if library == "cupy":
        import cupy
        return cupy.from_dlpack(exported)
    if library in ("jax", "jaxlib"):
        import jax.numpy
        return jax.numpy.from_dlpack(exported)
    return exported


def host_result(dtype, array, like):
    """A host output the runtime returned as a numpy array of its storage
    dtype, as a tensor of `like`'s library (numpy when `like` is None)."""
    if like is None or library_of(like) != "torch":
        return from_storage(dtype, array)
    import torch
    if dtype == "bf16":  # no ml_dtypes needed: the bits go to torch as they are
        return torch.from_numpy(array.view(np.int16)).view(torch.bfloat16)
    return torch.from_numpy(array)


def check_out_libraries(outs, like):
    """out= tensors must be of the inputs' library (checked before the
    kernels run)."""
    want = "numpy" if like is None else library_of(like)
    for i, o in enumerate(outs):
        got = "numpy" if isinstance(o, np.ndarray) else library_of(o)
        if got != want:
            raise PrismError(f"out[{i}] is a {type(o).__name__} but the outputs are "
                             f"{want} tensors here; give out= tensors of the "
                             "inputs' library")


def mark_written(tensor):
    """Tells PyTorch's autograd that a torch tensor was written in place (as
    Tensor.copy_ would), so that a graph that saved it fails loudly instead
    of computing gradients from the new values."""
    if library_of(tensor) == "torch":
        import torch
        torch.autograd.graph.increment_version(tensor)


def copy_into(given, value, index):
    """Writes an output the kernels could not write in place (a GPU
    bundle's output into host memory, an output that is an input) into
    `given`, the out= tensor."""
    if isinstance(given, np.ndarray) and isinstance(value, np.ndarray):
        np.copyto(given, value)
    elif library_of(given) == "torch" and library_of(value) == "torch":
        given.copy_(value)
    elif library_of(given) == "cupy":
        import cupy
        given[...] = cupy.asarray(value)
    else:
        raise PrismError(f"out[{index}] is a {type(given).__name__} but the inputs "
                         f"are {type(value).__name__}s: give out= tensors of the "
                         "inputs' library")
