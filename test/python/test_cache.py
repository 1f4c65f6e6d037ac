"""The kernel cache: hits, misses on every key component, damaged entries,
the no-compile mode and the size bound."""
import os

import numpy as np
import pytest

import prism
from prism import cache as prism_cache

IR = """
func.func @scale(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %0 = prism.silu %x : tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}"""


def entries(directory):
    return sorted(prism_cache.KernelCache(str(directory)).entries())


def test_hit_then_misses_on_each_key_component(tmp_path):
    d = str(tmp_path / "cache")
    f = prism.compile(IR, cache=True, cache_dir=d)
    assert len(entries(d)) == 1
    again = prism.compile(IR + "\n// a comment: same IR", cache=True, cache_dir=d)
    assert again.directory == f.directory and len(entries(d)) == 1
    x = np.random.default_rng(0).standard_normal((3, 64)).astype(np.float32)
    np.testing.assert_allclose(again(x)[0], x / (1 + np.exp(-x)), rtol=1e-5, atol=1e-6)
    prism.compile(IR.replace("silu", "gelu"), cache=True, cache_dir=d)      # the IR
    assert len(entries(d)) == 2
    prism.compile(IR, target="nvidia:sm_90a", cache=True, cache_dir=d)      # the target
    prism.compile(IR, target="nvidia:sm_80", cache=True, cache_dir=d)       # the chip
    assert len(entries(d)) == 4
    prism.compile(IR, optimize=False, cache=True, cache_dir=d)              # the passes
    assert len(entries(d)) == 5


def test_key_covers_pipeline_and_versions(monkeypatch):
    from prism import _compiler
    base = prism_cache.key(_compiler, IR, "cpu", None)
    monkeypatch.setattr(prism_cache, "VERSION", "9.9.9")
    assert prism_cache.key(_compiler, IR, "cpu", None) != base
    monkeypatch.setattr(prism_cache, "VERSION", "0.1.0")
    real = _compiler.describe_target

    class Changed:
        verify = staticmethod(_compiler.verify)

        @staticmethod
        def describe_target(target):
            d = dict(real(target))
            d["kernelize"] += " row-block=8"
            return d

    assert prism_cache.key(Changed, IR, "cpu", None) != base


def test_damaged_entry_is_recompiled(tmp_path):
    d = str(tmp_path / "cache")
    f = prism.compile(IR, cache=True, cache_dir=d)
    with open(os.path.join(f.directory, "kernels.so"), "ab") as lib:
        lib.write(b"tampered")
    g = prism.compile(IR, cache=True, cache_dir=d)
    x = np.ones((2, 64), np.float32) * 0.5
    assert np.isfinite(g(x)[0]).all()
    with open(os.path.join(g.directory, "kernels.so"), "rb") as lib:
        assert not lib.read().endswith(b"tampered")


def test_only_mode_never_compiles(tmp_path):
    d = str(tmp_path / "cache")
    with pytest.raises(prism.PrismError, match="no cached kernel"):
        prism.compile(IR, cache="only", cache_dir=d)
    prism.compile(IR, cache=True, cache_dir=d)
    assert prism.compile(IR, cache="only", cache_dir=d).name == "scale"


def test_size_bound_evicts_least_recently_used(tmp_path, monkeypatch):
    d = str(tmp_path / "cache")
    prism.compile(IR, cache=True, cache_dir=d)
    one = entries(d)
    size = sum(os.path.getsize(os.path.join(b, f)) for b, _, fs in os.walk(d) for f in fs)
    monkeypatch.setenv("PRISM_CACHE_MAX_BYTES", str(int(size * 1.5)))
    prism.compile(IR.replace("silu", "gelu"), cache=True, cache_dir=d)
    remaining = entries(d)
    assert len(remaining) == 1 and remaining != one
