"""The kernel cache: compiled bundles keyed by everything they depend on.

A key is the SHA-256 of the IR (as printed after verification, so layout and
comments do not matter), the entry, the full target string, the target's
kernelization options and lowering pipeline, and the versions of Prism, LLVM
and the vendor assembler (ptxas for NVIDIA). Change any of them and the key
changes, so a stale kernel cannot be served. Each entry stores the SHA-256
of its files; an entry that no longer matches is evicted and recompiled.
The cache keeps at most `max_bytes` (least recently used entries go first).

Location: $PRISM_CACHE_DIR, else ~/.cache/prism. Size bound:
$PRISM_CACHE_MAX_BYTES (default 2 GiB).
"""
import hashlib
import json
import os
import shutil
import subprocess
import tempfile

VERSION = "0.1.0"
# What the compiler writes into a bundle, beyond the kernels: raised when a
# cached bundle from before would lack something the runtime now relies on
# (2: the plan's shape checks, the library's size, each kernel's arguments;
# 3: format prism-bundle/2, grid axes with outer sizes; 4: format
# prism-bundle/3, launch alternatives of several launches).
BUNDLE_REVISION = 4


def default_directory():
    return os.environ.get("PRISM_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "prism")


def default_max_bytes():
    return int(os.environ.get("PRISM_CACHE_MAX_BYTES", 2 << 30))


def _assembler_version(target):
    if not target.startswith("nvidia"):
        return ""
    for candidate in (os.path.join(os.environ.get("CUDA_HOME", "/usr/local/cuda"), "bin", "ptxas"),
                      shutil.which("ptxas") or ""):
        if candidate and os.path.exists(candidate):
            try:
                return subprocess.run([candidate, "--version"], capture_output=True,
                                      text=True, check=True).stdout.strip()
            except (OSError, subprocess.CalledProcessError):
                return "ptxas unusable"
    return "no ptxas"


def key(compiler, ir_text, target, entry, optimize=True):
    """The cache key of compiling `ir_text` (verified) for `target`, with
    or without the optimization pipeline."""
    described = compiler.describe_target(target)
    parts = {
        "optimize": described["optimize"] if optimize else "",
        "ir": compiler.verify(ir_text),
        "entry": entry or "",
        "target": described["target"],
        "kernelize": described["kernelize"],
        "pipeline": described["pipeline"],
        "prism": VERSION,
        "bundle_revision": BUNDLE_REVISION,
        "llvm": described["llvm"],
        "assembler": _assembler_version(described["target"]),
    }
    blob = json.dumps(parts, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()


def _file_hashes(directory):
    hashes = {}
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                hashes[name] = hashlib.sha256(f.read()).hexdigest()
    return hashes


def _size(directory):
    total = 0
    for base, _, files in os.walk(directory):
        total += sum(os.path.getsize(os.path.join(base, f)) for f in files)
    return total


class KernelCache:
    def __init__(self, directory=None, max_bytes=None):
        self.directory = directory or default_directory()
        self.max_bytes = default_max_bytes() if max_bytes is None else max_bytes

    def _entry(self, k):
        return os.path.join(self.directory, k)

    def lookup(self, k):
        """The bundle directory of key `k`, verified, or None."""
        entry = self._entry(k)
        bundle = os.path.join(entry, "bundle")
        try:
            with open(os.path.join(entry, "files.json")) as f:
                recorded = json.load(f)
            if _file_hashes(bundle) != recorded:
                raise ValueError("modified")
        except (OSError, ValueError):
            shutil.rmtree(entry, ignore_errors=True)  # missing or damaged
            return None
        os.utime(entry)  # recently used
        return bundle

    def insert(self, k, bundle_directory):
        """Stores a compiled bundle under `k`; returns its cached directory."""
        os.makedirs(self.directory, exist_ok=True)
        staging = tempfile.mkdtemp(prefix=".incoming-", dir=self.directory)
        shutil.copytree(bundle_directory, os.path.join(staging, "bundle"))
        with open(os.path.join(staging, "files.json"), "w") as f:
            json.dump(_file_hashes(os.path.join(staging, "bundle")), f)
        entry = self._entry(k)
        shutil.rmtree(entry, ignore_errors=True)
        os.replace(staging, entry)  # atomic: readers see all or nothing
        self.evict(keep=k)
        return os.path.join(entry, "bundle")

    def evict(self, keep=None):
        """Removes least recently used entries until within max_bytes."""
        entries = []
        for name in os.listdir(self.directory):
            path = self._entry(name)
            if os.path.isdir(path) and not name.startswith("."):
                entries.append((os.path.getmtime(path), _size(path), name))
        total = sum(size for _, size, _ in entries)
        for _, size, name in sorted(entries):
            if total <= self.max_bytes:
                break
            if name == keep:
                continue
            shutil.rmtree(self._entry(name), ignore_errors=True)
            total -= size

    def entries(self):
        if not os.path.isdir(self.directory):
            return []
        return [n for n in os.listdir(self.directory) if not n.startswith(".")]
