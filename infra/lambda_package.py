"""What `sam build` must build to prove every function's package, and the 250 MB check on it.
Run by infra/ci_checks.sh with the .venv-sam interpreter.

All functions share one build: the same CodeUri, runtime, architecture and build method, so
SAM resolves the same requirements and copies the same folder into each function's artifact
(21 identical copies of about 44 MB). Building one of them proves the build for all; the one
built is the function with the most layers, so its layers are built with it.

    python infra/lambda_package.py plan
        prints the resource to build, or "all" when the functions do not share one build or
        no single function uses every layer (then everything is built)
    python infra/lambda_package.py sizes BUILD_DIR
        every function's package (its build's artifact) plus its layers, under Lambda's 250 MB
        unzipped limit
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT_BYTES = 250 * 1024 * 1024  # Lambda: function and layers, unzipped
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
LAYER_TYPES = ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion")
SHARED_KEYS = ("CodeUri", "Runtime", "Architectures", "PackageType")


def load(path: Path = ROOT / "template.yaml") -> dict:
    from samtranslator.yaml_helper import yaml_parse  # .venv-sam's; the tests load it with local.template

    return yaml_parse(path.read_text(encoding="utf-8"))


def functions(template: dict) -> dict[str, dict]:
    """Each function's properties with the Globals applied, and its Metadata."""
    defaults = template.get("Globals", {}).get("Function", {})
    found = {}
    for name, resource in template["Resources"].items():
        if resource["Type"] in FUNCTION_TYPES:
            found[name] = {**defaults, **resource.get("Properties", {}), "Metadata": resource.get("Metadata", {})}
    return found


def layers_of(properties: dict, template: dict) -> list[str]:
    """The layers of this template that a function uses (an ARN from elsewhere is not built here)."""
    refs = [layer.get("Ref") for layer in properties.get("Layers", []) if isinstance(layer, dict)]
    return [ref for ref in refs if template["Resources"].get(ref, {}).get("Type") in LAYER_TYPES]


def build_key(properties: dict) -> str:
    return json.dumps([properties.get(key) for key in SHARED_KEYS] + [properties["Metadata"]], sort_keys=True)


def plan(template: dict) -> str:
    """The one function whose build proves them all, or "all"."""
    found = functions(template)
    if len({build_key(p) for p in found.values()}) != 1:
        return "all"
    used = {layer for p in found.values() for layer in layers_of(p, template)}
    name = max(sorted(found), key=lambda n: len(layers_of(found[n], template)))
    return name if set(layers_of(found[name], template)) == used else "all"


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def sizes(template: dict, build_dir: Path) -> list[str]:
    """One line per function; raises SystemExit naming any over the limit or not built."""
    found = functions(template)
    built = plan(template)
    problems, lines = [], []
    for name, properties in sorted(found.items()):
        package = build_dir / (name if built == "all" else built)
        if not package.is_dir():
            problems.append(f"{name}: no build artifact at {package}")
            continue
        total = folder_bytes(package)
        for layer in layers_of(properties, template):
            if not (build_dir / layer).is_dir():
                problems.append(f"{name}: layer {layer} was not built")
                continue
            total += folder_bytes(build_dir / layer)
        lines.append(f"{name}: {total // 1048576} MB with its layers")
        if total >= LIMIT_BYTES:
            problems.append(f"{name} needs {total // 1048576} MB unzipped: over Lambda's 250 MB")
    if problems:
        raise SystemExit("\n".join(problems))
    return lines


def main(argv: list[str]) -> int:
    template = load()
    if argv[:1] == ["plan"]:
        print(plan(template))
    elif argv[:1] == ["sizes"] and len(argv) == 2:
        print("\n".join(sizes(template, Path(argv[1]))))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
