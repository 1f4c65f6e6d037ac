"""Compiles every example for every AMD chip and checks each HSACO: an
AMDGPU ELF whose code-object notes describe exactly the kernels of the
manifest, each with a VGPR count, and an ISA whose matrix-core
instructions match the chip (MFMA on gfx9, WMMA on gfx11) wherever the
example has bf16/f16 dots."""
import json
import os
import re
import subprocess
import sys

prism_tools, llvm_tools, examples, work = sys.argv[1:5]
translate = os.path.join(prism_tools, "prism-translate")
readobj = os.path.join(llvm_tools, "llvm-readobj")
checked = 0
for name in sorted(os.listdir(examples)):
    if not name.endswith(".mlir"):
        continue
    for chip in ("gfx90a", "gfx942", "gfx1100"):
        out = os.path.join(work, f"{name[:-5]}-{chip}")
        subprocess.run([translate, os.path.join(examples, name),
                        f"--target=amd:{chip}", "-o", out], check=True)
        hsaco = os.path.join(out, "kernels.hsaco")
        header = subprocess.run([readobj, "--file-headers", hsaco],
                                check=True, capture_output=True, text=True).stdout
        assert "EM_AMDGPU" in header, f"{hsaco}: not an AMDGPU ELF"
        notes = subprocess.run([readobj, "--notes", hsaco], check=True,
                               capture_output=True, text=True).stdout
        described = set(re.findall(r"\.name:\s+(\S+)", notes))
        with open(os.path.join(out, "manifest.json")) as f:
            manifest = json.load(f)
        kernels = set(manifest["kernels"])
        assert kernels <= described, f"{hsaco}: no descriptor for {kernels - described}"
        assert notes.count(".vgpr_count:") >= len(kernels), f"{hsaco}: VGPR counts"
        with open(os.path.join(out, "kernels.s")) as f:
            isa = f.read()
        with open(os.path.join(examples, name)) as f:
            source = f.read()
        low_precision = "xbf16>" in source or "xf16>" in source
        wanted = "v_wmma_" if chip.startswith("gfx11") else "v_mfma_"
        other = "v_mfma_" if wanted == "v_wmma_" else "v_wmma_"
        assert other not in isa, f"{out}: {other} on {chip}"
        if low_precision:
            assert wanted in isa, f"{out}: no {wanted} in a bf16/f16 example"
        checked += 1
print(f"{checked} bundles checked")
