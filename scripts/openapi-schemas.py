#!/usr/bin/env python3
"""Writes crates/kube-sandbox/src/openapi-schemas.json: the OpenAPI v3 schemas of the built-in
kinds kube-sandbox serves (components.schemas of each group-version's document, merged), from
api/openapi-spec/v3 of the Kubernetes release tests/control-plane pins. The sandbox serves them
in its /openapi/v3 documents, so that `kubectl explain` reads what a cluster would tell it.

Run it again after changing the Kubernetes version: scripts/openapi-schemas.py
"""
import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULE = os.path.join(ROOT, "tests", "control-plane")
OUT = os.path.join(ROOT, "crates", "kube-sandbox", "src", "openapi-schemas.json")
GROUP_VERSIONS = ["api/v1", "apis/apps/v1", "apis/batch/v1", "apis/networking.k8s.io/v1",
                  "apis/rbac.authorization.k8s.io/v1", "apis/policy/v1", "apis/autoscaling/v2",
                  "apis/apiextensions.k8s.io/v1"]

kubernetes = subprocess.run(["go", "list", "-m", "-f", "{{.Dir}}", "k8s.io/kubernetes"], cwd=MODULE,
                            capture_output=True, text=True, check=True).stdout.strip()
schemas = {}
for gv in GROUP_VERSIONS:
    name = gv.replace("/", "__") + "_openapi.json"
    with open(os.path.join(kubernetes, "api", "openapi-spec", "v3", name)) as f:
        schemas.update(json.load(f)["components"]["schemas"])
with open(OUT, "w") as f:
    json.dump(schemas, f, separators=(",", ":"), sort_keys=True)
    f.write("\n")
print(f"{OUT}: {len(schemas)} schemas")
