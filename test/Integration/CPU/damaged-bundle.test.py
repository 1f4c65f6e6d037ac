"""Copies bundle SOURCE to TARGET and runs EDIT (Python) on the manifest's
first function `f` (used by damaged-bundle.test)."""
import json
import shutil
import sys

source, target, edit = sys.argv[1:4]
shutil.rmtree(target, ignore_errors=True)
shutil.copytree(source, target)
with open(f"{target}/manifest.json") as file:
    manifest = json.load(file)
f = manifest["functions"][0]
exec(edit)
with open(f"{target}/manifest.json", "w") as file:
    json.dump(manifest, file)
