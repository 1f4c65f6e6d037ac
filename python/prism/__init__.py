"""Prism from Python: compile prism IR for a target and run it on numpy arrays.

    import numpy as np, prism
    f = prism.compile(open("examples/llama_mlp_block.mlir").read(), target="cpu")
    (y,) = f(x, w_norm, w_gate, w_up, w_down)     # numpy in, numpy out
    f.save("mlp.bundle")                           # a bundle any process can run
    g = prism.load("mlp.bundle")["mlp_block"]      # needs only the runtime

Dtypes: float32, float16, bfloat16 (ml_dtypes), int8, int32, int64. Every
failure (IR that does not verify, an unknown target, wrong shapes or dtypes,
a corrupt bundle) raises prism.PrismError with the diagnostics.
"""
import json
import os
import shutil
import tempfile

import numpy as np

from ._runtime import Bundle as _Bundle
from ._runtime import PrismError
from .graph import Graph, Tensor

try:
    import ml_dtypes as _ml_dtypes
    _BFLOAT16 = np.dtype(_ml_dtypes.bfloat16)
except ImportError:  # bf16 arrays need ml_dtypes
    _ml_dtypes = None
    _BFLOAT16 = None

__all__ = ["compile", "load", "verify", "Graph", "Tensor", "PrismError",
           "CompiledFunction", "LoadedBundle"]

_NAMES = {np.dtype(np.float32): "f32", np.dtype(np.float16): "f16",
          np.dtype(np.int8): "i8", np.dtype(np.int32): "i32",
          np.dtype(np.int64): "i64"}


def _prism_dtype(array):
    if _BFLOAT16 is not None and array.dtype == _BFLOAT16:
        return "bf16"
    name = _NAMES.get(array.dtype)
    if name is None:
        raise PrismError(f"dtype {array.dtype} is not supported "
                         "(float32, float16, bfloat16, int8, int32, int64)")
    return name


def _from_storage(dtype, array):
    if dtype == "bf16":
        if _BFLOAT16 is None:
            raise PrismError("bf16 outputs need the ml_dtypes package")
        return array.view(_BFLOAT16)
    return array


class CompiledFunction:
    """One function of a bundle, callable on numpy arrays. The bundle is
    loaded by the runtime at the first call (so that a bundle for a GPU this
    machine lacks can still be compiled and saved)."""

    def __init__(self, bundle, name, directory, owns_directory=False,
                 symbols=None):
        self._loaded = bundle
        self.name = name
        self.directory = directory
        self._owns = owns_directory
        # {size name: [(input, axis)]} from a Graph: equal names, equal sizes.
        self._symbols = symbols or {}

    @property
    def _bundle(self):
        if self._loaded is None:
            self._loaded = _Bundle(self.directory)
        return self._loaded

    @property
    def manifest(self):
        """The bundle's manifest.json (target, toolchain, every function's
        buffers and kernel launches), as a dict."""
        with open(os.path.join(self.directory, "manifest.json")) as f:
            return json.load(f)

    @property
    def target(self):
        return self.manifest["target"]

    @property
    def inputs(self):
        """[(dtype, shape)] with -1 for dynamic dimensions."""
        return self._bundle.inputs(self.name)

    def __call__(self, *arrays, out=None):
        """Runs on numpy arrays (or CPU DLPack tensors). `out`: an array
        per output (a tuple, or one array for one output) that the kernels
        write into, instead of new arrays; dtypes and shapes must match."""
        signature = self.inputs
        if len(arrays) != len(signature):
            raise PrismError(f"'{self.name}' takes {len(signature)} inputs, "
                             f"got {len(arrays)}")
        prepared, dtypes = [], []
        arrays = [_as_host_array(a, i, self.name) for i, a in enumerate(arrays)]
        for symbol, uses in self._symbols.items():
            sizes = {arrays[i].shape[axis] for i, axis in uses
                     if axis < arrays[i].ndim}
            if len(sizes) > 1:
                where = ", ".join(f"input {i} axis {axis}: {arrays[i].shape[axis]}"
                                  for i, axis in uses if axis < arrays[i].ndim)
                raise PrismError(f"size '{symbol}' differs between inputs of "
                                 f"'{self.name}' ({where})")
        for i, (array, (dtype, shape)) in enumerate(zip(arrays, signature)):
            array = np.ascontiguousarray(array)
            given = _prism_dtype(array)
            if given != dtype:
                raise PrismError(f"input {i} of '{self.name}' must be {dtype}, "
                                 f"got {given} ({array.dtype})")
            if array.ndim != len(shape) or any(
                    s >= 0 and s != g for s, g in zip(shape, array.shape)):
                want = "x".join("?" if s < 0 else str(s) for s in shape)
                raise PrismError(f"input {i} of '{self.name}' must have shape "
                                 f"[{want}], got {list(array.shape)}")
            if _BFLOAT16 is not None and array.dtype == _BFLOAT16:
                array = array.view(np.uint16)
            prepared.append(array)
            dtypes.append(given)
        outs = out_storage = out_dtypes = None
        if out is not None:
            outs = list(out) if isinstance(out, (tuple, list)) else [out]
            out_storage, out_dtypes = [], []
            for i, o in enumerate(outs):
                if not isinstance(o, np.ndarray):
                    raise PrismError(f"out[{i}] must be a numpy array, got "
                                     f"{type(o).__name__}")
                out_dtypes.append(_prism_dtype(o))
                out_storage.append(o.view(np.uint16) if out_dtypes[-1] == "bf16" else o)
        outputs = self._bundle.run(self.name, prepared, dtypes, out_storage, out_dtypes)
        if outs is None:
            return tuple(_from_storage(d, a) for d, a in outputs)
        # Outputs the kernels could not write in place (an output that is
        # an input, a GPU bundle) are copied into the given arrays.
        for given, (d, a) in zip(out_storage, outputs):
            if a.__array_interface__["data"][0] != given.__array_interface__["data"][0]:
                np.copyto(given, a)
        return tuple(outs)

    def save(self, path):
        """Copies the bundle to `path` (a directory)."""
        shutil.copytree(self.directory, path, dirs_exist_ok=True)
        return path

    def __del__(self):
        if getattr(self, "_owns", False):
            shutil.rmtree(self.directory, ignore_errors=True)

    def __repr__(self):
        return f"<prism function {self.name} for {self.target} in {self.directory}>"


def _as_host_array(value, index, name):
    """numpy arrays as they are; other tensors through DLPack (zero-copy for
    CPU tensors: PyTorch, JAX, CuPy host arrays...)."""
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "__dlpack__"):
        device = value.__dlpack_device__() if hasattr(value, "__dlpack_device__") else (1, 0)
        if device[0] != 1:  # kDLCPU
            raise PrismError(
                f"input {index} of '{name}' lives on a device (DLPack device type "
                f"{device[0]}): only CPU tensors can be passed today; copy it to "
                "the host (device tensors are planned, see the README)")
        try:
            return np.from_dlpack(value)
        except (TypeError, BufferError, RuntimeError) as e:
            raise PrismError(f"input {index} of '{name}': DLPack import failed "
                             f"({e}); bf16 tensors: pass them viewed as int16 "
                             "through ml_dtypes, e.g. "
                             "t.view(torch.int16).numpy().view(ml_dtypes.bfloat16)") from None
    if isinstance(value, (list, tuple, int, float)):
        raise PrismError(f"input {index} of '{name}' must be an array or a DLPack "
                         f"tensor, got {type(value).__name__} (a dtype cannot be "
                         "guessed from Python numbers)")
    raise PrismError(f"input {index} of '{name}' must be a numpy array or a DLPack "
                     f"tensor, got {type(value).__name__}")


def compile(source, target="cpu", entry=None, directory=None, cache=False,
            cache_dir=None, optimize=True):
    """Compiles a prism.Graph, or prism IR (text, or a path to a .mlir
    file), for `target`.

    `optimize=True` (the default) runs prism-optimize first: cleanups,
    attention recognition and fusion (fewer kernels, fewer bytes moved);
    `optimize=False` compiles every op as its own kernel.

    With one function in the IR (or `entry`), returns a CompiledFunction.
    The bundle lives in `directory` (a temporary one by default, removed
    with the object unless saved). With `cache=True` the kernel cache
    (prism.cache) serves an identical earlier compilation or stores this
    one; `cache="only"` raises PrismError instead of compiling on a miss
    (for deployments that must not compile)."""
    from . import _compiler  # links MLIR: only when compiling
    from .cache import KernelCache, key as cache_key
    symbols = None
    if isinstance(source, Graph):
        entry = entry or source.name
        symbols = source.symbols
        source = source.ir(locations=True)
    elif isinstance(source, os.PathLike) or (isinstance(source, str) and
                                           source.endswith(".mlir") and
                                           os.path.exists(source)):
        with open(source) as f:
            source = f.read()
    if cache:
        kernel_cache = KernelCache(cache_dir)
        k = cache_key(_compiler, source, target, entry, optimize)
        cached = kernel_cache.lookup(k)
        if cached is None and cache == "only":
            raise PrismError(f"no cached kernel for this IR and target '{target}' "
                             f"(cache {kernel_cache.directory}) and cache='only'")
        if cached is None:
            with tempfile.TemporaryDirectory(prefix="prism-") as work:
                _compiler.compile(source, target, work, entry or "", optimize)
                cached = kernel_cache.insert(k, work)
        return _function_of(cached, entry, owns=False, symbols=symbols)
    owns = directory is None
    directory = directory or tempfile.mkdtemp(prefix="prism-")
    _compiler.compile(source, target, directory, entry or "", optimize)
    return _function_of(directory, entry, owns, symbols)


def _function_of(directory, entry, owns, symbols=None):
    with open(os.path.join(directory, "manifest.json")) as f:
        names = [fn["name"] for fn in json.load(f)["functions"]]
    if entry is None and len(names) != 1:
        raise PrismError(f"{len(names)} functions could be the entry "
                         f"({', '.join(names)}); choose one with entry=")
    return CompiledFunction(None, entry or names[0], directory, owns, symbols)


class LoadedBundle:
    """A saved bundle: its functions by name (no compiler needed)."""

    def __init__(self, path):
        self._bundle = _Bundle(os.fspath(path))
        self.path = os.fspath(path)

    @property
    def target(self):
        return self._bundle.target

    @property
    def functions(self):
        return list(self._bundle.functions)

    def __getitem__(self, name):
        if name not in self._bundle.functions:
            raise PrismError(f"the bundle has no function '{name}'")
        return CompiledFunction(self._bundle, name, self.path)


def load(path):
    return LoadedBundle(path)


def verify(source):
    """Parses and verifies prism IR; returns it printed (raises otherwise)."""
    from . import _compiler
    return _compiler.verify(source)
