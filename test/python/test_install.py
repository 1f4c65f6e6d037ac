"""`pip install .` works: the wheel built through pyproject.toml
(scikit-build-core over the project's CMake) holds both modules and the
Python layer, and the installed package compiles and runs a graph from a
directory where the build tree is not importable."""
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_pip_install(tmp_path):
    build = os.environ.get("PRISM_BUILD_DIR")
    if not build:
        pytest.skip("PRISM_BUILD_DIR is not set (scripts/run-tests.sh sets it)")
    wheels, site = tmp_path / "wheels", tmp_path / "site"
    command = [sys.executable, "-m", "pip", "wheel", "--no-build-isolation",
               "--no-deps", "-q", "-w", str(wheels), ROOT,
               # A build directory kept between runs, inside the build tree.
               f"-Cbuild-dir={os.path.join(os.path.abspath(build), 'wheel')}"]
    if shutil.which("ccache"):
        command += ["-Ccmake.define.CMAKE_CXX_COMPILER_LAUNCHER=ccache",
                    "-Ccmake.define.CMAKE_C_COMPILER_LAUNCHER=ccache"]
    subprocess.run(command, check=True)
    (wheel,) = wheels.iterdir()
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                    "--target", str(site), str(wheel)], check=True)
    names = sorted(p.name.split(".")[0] for p in (site / "prism").iterdir()
                   if p.suffix in (".py", ".so"))
    assert names == ["__init__", "_compiler", "_runtime", "cache", "graph", "tensors", "torch_library"]
    script = textwrap.dedent("""
        import numpy as np, prism
        assert prism.__file__.startswith(%r), prism.__file__
        g = prism.Graph("f")
        x = g.input("x", ("n", 16))
        g.output(g.softmax(x))
        a = np.random.default_rng(0).standard_normal((3, 16)).astype(np.float32)
        (y,) = prism.compile(g)(a)
        e = np.exp(a.astype(np.float64))
        assert np.abs(y - e / e.sum(-1, keepdims=True)).max() < 1e-6
        print("installed prism ok")
    """ % str(site))
    env = dict(os.environ, PYTHONPATH=str(site))
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                         check=True, capture_output=True, text=True)
    assert "installed prism ok" in out.stdout
