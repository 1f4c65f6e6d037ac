"""Prism from Python: compile prism IR for a target and run it on numpy
arrays or on any tensor that speaks DLPack (PyTorch, CuPy, JAX), where it
lives.

    import numpy as np, prism
    f = prism.compile(open("examples/llama_mlp_block.mlir").read(), target="cpu")
    (y,) = f(x, w_norm, w_gate, w_up, w_down)     # numpy in, numpy out
    f.save("mlp.bundle")                           # a bundle any process can run
    g = prism.load("mlp.bundle")["mlp_block"]      # needs only the runtime
    (t,) = g(*torch_tensors)                       # torch in, torch out (DLPack)

Dtypes: float32, float16, bfloat16 (ml_dtypes for numpy), int8, int32, int64.
Every failure (IR that does not verify, an unknown target, wrong shapes,
dtypes or devices, a corrupt bundle) raises prism.PrismError with the
diagnostics. prism.torch_library registers a compiled function as a
PyTorch custom op.
"""
import json
import operator
import os
import shutil
import tempfile
from typing import List, NamedTuple, Tuple

import numpy as np

from ._runtime import Bundle as _Bundle
from ._runtime import PrismError
from .graph import Graph, Tensor

from . import tensors as _tensors
from .tensors import DLPackTensor

__all__ = ["compile", "load", "verify", "Graph", "Tensor", "PrismError",
           "CompiledFunction", "LoadedBundle", "DLPackTensor", "Profile", "Launch"]


class Launch(NamedTuple):
    """One kernel launch of a Profile: its kernel, grid (x, y, z), median
    time, and the bytes of the buffers it reads or writes (each once: the
    least traffic it can have; `gbps` is their rate)."""
    kernel: str
    grid: Tuple[int, int, int]
    milliseconds: float
    bytes: int

    @property
    def gbps(self):
        return self.bytes / self.milliseconds / 1e6 if self.milliseconds > 0 else 0.0


class Profile(NamedTuple):
    """CompiledFunction.profile's result: the median time of a run's
    launches, what measured it ("device events", "host clock"), the runs
    behind each median, and each launch in launch order."""
    function: str
    milliseconds: float
    source: str
    runs: int
    launches: List[Launch]

    def __str__(self):
        total = sum(l.milliseconds for l in self.launches)
        lines = [f"{self.function}: {self.milliseconds:.4f} ms, median of {self.runs} runs "
                 f"({self.source}); each launch on its own:"]
        for i, l in enumerate(self.launches):
            share = l.milliseconds / total if total > 0 else 0.0
            grid = "x".join(str(g) for g in l.grid)
            lines.append(f"  {i:<3} {l.kernel:<40} {grid:<14} {l.milliseconds:10.4f} ms "
                         f"{l.gbps:9.1f} GB/s {share:6.1%}")
        return "\n".join(lines)


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
        """Runs on numpy arrays or DLPack tensors (PyTorch, CuPy, JAX...)
        where they live: host memory for any bundle, the GPU's memory for
        a GPU bundle (which then keeps its outputs there). Outputs come as
        the inputs' library (numpy arrays for numpy inputs, torch tensors
        for torch inputs...). `out`: a tensor per output (a tuple, or one
        tensor for one output) that the kernels write into instead of new
        memory; dtypes and shapes must match."""
        return self._run(arrays, out, timing=0)[0]

    def profile(self, *arrays, runs=10):
        """Times this function on these inputs (as a call takes them),
        after one warm-up run: `runs` runs timed as a whole, then `runs`
        with every launch timed on its own. Times are the runtime's: a GPU's
        events (before the first launch, after the last), the host clock on
        the CPU, whose launches are synchronous. Returns a Profile (medians;
        print it for a table). Put inputs on the device first to leave host
        copies out of the figures' runs (they are never inside the timed
        span, but they lengthen each run)."""
        try:
            count = operator.index(runs)  # int, numpy integers; not 2.5
        except TypeError:
            count = 0
        if isinstance(runs, bool) or count < 1:
            raise PrismError(f"runs must be a positive integer, not {runs!r}")
        runs = count
        self._run(arrays, None, timing=0)  # warm-up
        totals, per_launch, timing = [], None, None
        for pass_ in (1, 2):
            for _ in range(runs):
                timing = self._run(arrays, None, timing=pass_)[1]
                if not timing["measured"]:
                    raise PrismError(f"'{self.name}' cannot be timed here: "
                                     f"{timing['unavailable']}")
                if pass_ == 1:
                    totals.append(timing["milliseconds"])
                    continue
                if per_launch is None:
                    per_launch = [[] for _ in timing["launches"]]
                for times, (_, _, ms, _) in zip(per_launch, timing["launches"]):
                    times.append(ms)
        launches = [Launch(kernel, grid, float(np.median(times)), nbytes)
                    for (kernel, grid, _, nbytes), times in zip(timing["launches"], per_launch)]
        return Profile(self.name, float(np.median(totals)), timing["source"], runs, launches)

    def _run(self, arrays, out, timing):
        """(outputs, the runtime's timing dict or None): see __call__."""
        signature = self.inputs
        if len(arrays) != len(signature):
            raise PrismError(f"'{self.name}' takes {len(signature)} inputs, "
                             f"got {len(arrays)}")
        for i, a in enumerate(arrays):
            _check_tensor(a, f"input {i} of '{self.name}'")
        self._check_symbols(arrays)
        bundle = self._bundle
        bundle_device = tuple(bundle.device)
        tensors, dtypes = self._prepare(arrays, signature, bundle_device)
        outs = out_tensors = out_dtypes = None
        if out is not None:
            outs = list(out) if isinstance(out, (tuple, list)) else [out]
            for i, o in enumerate(outs):
                _check_tensor(o, f"out[{i}]")
            out_tensors, out_dtypes = self._prepare(outs, None, bundle_device,
                                                    what="out[{}]")
        # Outputs are returned as the library of the first tensor that is
        # not a numpy array, and stay on the device when an input or an
        # out= tensor is there.
        like = next((t for t in list(arrays) + (outs or [])
                     if not isinstance(t, np.ndarray)), None)
        if outs is not None:
            _tensors.check_out_libraries(outs, like)
        on_device = not _tensors.is_host(bundle_device) and any(
            not _tensors.is_host(_tensors.device_of(a)) for a in list(arrays) + (outs or []))
        results = bundle.run(self.name, tensors, dtypes, out_tensors, out_dtypes,
                             outputs_on_device=on_device, host_arrays=True, timing=timing)
        times = None
        if timing:
            results, times = results
        values = []
        for i, (dtype, result, in_place, shape) in enumerate(results):
            if in_place:
                _tensors.mark_written(outs[i])
                values.append(outs[i])
                continue
            if isinstance(result, np.ndarray):
                value = _tensors.host_result(dtype, result, like)
            else:
                value = _tensors.to_library(dtype, result, bundle_device, like, shape)
            if outs is not None:
                _tensors.copy_into(outs[i], value, i)
                value = outs[i]
            values.append(value)
        return tuple(values), times

    def _check_symbols(self, arrays):
        """Sizes a Graph named alike must agree."""
        for symbol, uses in self._symbols.items():
            shapes = [tuple(getattr(arrays[i], "shape", ())) for i, _ in uses]
            sizes = {shape[axis] for shape, (i, axis) in zip(shapes, uses)
                     if axis < len(shape)}
            if len(sizes) > 1:
                where = ", ".join(f"input {i} axis {axis}: {shape[axis]}"
                                  for shape, (i, axis) in zip(shapes, uses)
                                  if axis < len(shape))
                raise PrismError(f"size '{symbol}' differs between inputs of "
                                 f"'{self.name}' ({where})")

    def _prepare(self, values, signature, bundle_device, what=None):
        """numpy arrays (contiguous, bf16 as its uint16 storage) with their
        Prism dtypes, or DLPack capsules (which carry their own)."""
        prepared, dtypes = [], []
        for i, value in enumerate(values):
            name = what.format(i) if what else f"input {i} of '{self.name}'"
            if isinstance(value, np.ndarray):
                if what is None:
                    value = np.ascontiguousarray(value)
                dtype = _tensors.numpy_dtype_name(value)
                if signature is not None:
                    self._check_signature(i, dtype, value.shape, signature[i])
                if dtype == "bf16":
                    value = value.view(np.uint16)
                prepared.append(value)
                dtypes.append(dtype)
                continue
            device = _tensors.device_of(value)
            if not _tensors.is_host(device) and device != bundle_device:
                where = ("the host" if _tensors.is_host(bundle_device)
                         else _tensors.describe(bundle_device))
                hint = ("copy it to the host first (.cpu() in PyTorch)"
                        if _tensors.is_host(bundle_device) else "move it there first")
                raise PrismError(f"{name} lives on {_tensors.describe(device)}, "
                                 f"but this bundle for '{self.target}' runs on "
                                 f"{where}; {hint}")
            prepared.append(_tensors.capsule_of(value, name))
            dtypes.append("")
        return prepared, dtypes

    def _check_signature(self, i, dtype, shape, expected):
        want_dtype, want_shape = expected
        if dtype != want_dtype:
            raise PrismError(f"input {i} of '{self.name}' must be {want_dtype}, "
                             f"got {dtype}")
        if len(shape) != len(want_shape) or any(
                s >= 0 and s != g for s, g in zip(want_shape, shape)):
            want = "x".join("?" if s < 0 else str(s) for s in want_shape)
            raise PrismError(f"input {i} of '{self.name}' must have shape "
                             f"[{want}], got {list(shape)}")

    def save(self, path):
        """Copies the bundle to `path` (a directory)."""
        if os.path.realpath(path) == os.path.realpath(self.directory):
            return path  # already there
        try:
            shutil.copytree(self.directory, path, dirs_exist_ok=True)
        except (OSError, shutil.Error) as e:
            raise PrismError(f"cannot save the bundle to {path}: {e}") from None
        return path

    def __del__(self):
        if getattr(self, "_owns", False):
            shutil.rmtree(self.directory, ignore_errors=True)

    def __repr__(self):
        return f"<prism function {self.name} for {self.target} in {self.directory}>"


def _check_tensor(value, what):
    if isinstance(value, np.ma.MaskedArray):
        raise PrismError(f"{what} is a masked array: kernels read every element, "
                         "so fill the masked ones first (np.ma.filled)")
    if isinstance(value, np.ndarray) or hasattr(value, "__dlpack__"):
        return
    if isinstance(value, (list, tuple, int, float)):
        raise PrismError(f"{what} must be an array or a DLPack tensor, got "
                         f"{type(value).__name__} (a dtype cannot be guessed "
                         "from Python numbers)")
    raise PrismError(f"{what} must be a numpy array or a DLPack tensor, got "
                     f"{type(value).__name__}")


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
    if not isinstance(target, str):
        raise PrismError(f"target must be a string such as 'cpu' or 'nvidia:sm_90a', "
                         f"got {target!r}")
    if entry is not None and not isinstance(entry, str):
        raise PrismError(f"entry must be a function name, got {entry!r}")
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
