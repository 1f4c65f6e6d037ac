"""The README's Python example runs as written: it builds an attention +
MLP block with the graph builder, compiles it for the CPU and sm_90a, runs
it on the CPU and saves both bundles. Its output is checked against the
same block in float64 numpy."""
import json
import os
import re

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def readme_example():
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    m = re.search(r"<!-- readme-example -->\n```python\n(.*?)```", text, re.S)
    assert m, "the README lost its tested example"
    return m.group(1)


def rms_norm(x, w):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-5) * w


def attention(q, k, v):  # [1, H, S, D], causal, grouped-query
    group = q.shape[1] // k.shape[1]
    k, v = np.repeat(k, group, axis=1), np.repeat(v, group, axis=1)
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(q.shape[-1])
    s = np.where(np.tril(np.ones(s.shape[-2:], bool)), s, -np.inf)
    p = np.exp(s - s.max(-1, keepdims=True))
    return (p / p.sum(-1, keepdims=True)) @ v


def block_reference(x, wn, wq, wk, wv, wo, wg, wu, wd):
    x, wn, wq, wk, wv, wo, wg, wu, wd = (a.astype(np.float64) for a in
                                         (x, wn, wq, wk, wv, wo, wg, wu, wd))
    seq = x.shape[1]
    heads = lambda t, n: t.reshape(1, seq, n, 64).transpose(0, 2, 1, 3)
    h = rms_norm(x, wn)
    a = attention(heads(h @ wq.T, 4), heads(h @ wk.T, 2), heads(h @ wv.T, 2))
    x = x + a.transpose(0, 2, 1, 3).reshape(1, seq, 256) @ wo.T
    h = rms_norm(x, wn)
    gate, up = h @ wg.T, h @ wu.T
    return x + (gate / (1 + np.exp(-gate)) * up) @ wd.T


def test_readme_example(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scope = {}
    exec(compile(readme_example(), "<README.md example>", "exec"), scope)
    y, args = scope["y"], scope["args"]
    assert y.shape == (1, 19, 256) and y.dtype == np.float32
    expected = block_reference(*args)
    error = np.linalg.norm(y - expected) / np.linalg.norm(expected)
    assert error <= 1e-5, error
    for bundle, target in (("block-cpu.bundle", "cpu"),
                           ("block-sm90a.bundle", "nvidia:sm_90a")):
        with open(tmp_path / bundle / "manifest.json") as f:
            manifest = json.load(f)
        assert manifest["target"] == target
        assert [fn["name"] for fn in manifest["functions"]] == ["block"]
    # The saved CPU bundle runs again through the runtime alone.
    import prism
    (again,) = prism.load(tmp_path / "block-cpu.bundle")["block"](*args)
    np.testing.assert_array_equal(again, y)
