"""Make rayservice-v1.schema.json from KubeRay's RayService CRD, for tests/core/test_k8s.py (no cluster needed).

Source: ray-project/kuberay, ray-operator/config/crd/bases/ray.io_rayservices.yaml (Apache-2.0), commit feeaf72fa.
Kept: the v1 openAPIV3Schema. Dropped: descriptions (size), and every pod `template` subtree, which the test
validates as a Kubernetes PodTemplate with kubernetes-validate instead. Added: `additionalProperties: false` on
every object with properties, so an unknown field fails as `kubectl apply --validate=strict` would fail it.

    python tests/core/k8s/trim_crd.py ray.io_rayservices.yaml > tests/core/k8s/rayservice-v1.schema.json
"""

from __future__ import annotations

import json
import sys
from typing import Any

import yaml


def trim(node: Any) -> Any:
    """Return the schema without descriptions, pod templates as open objects, unknown fields refused."""
    if isinstance(node, list):
        return [trim(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "description":
            continue
        if key == "properties":
            out[key] = {name: {"type": "object"} if _is_pod_template(name, sub) else trim(sub)
                        for name, sub in value.items()}
        else:
            out[key] = trim(value)
    if "properties" in out and not node.get("x-kubernetes-preserve-unknown-fields"):
        out.setdefault("additionalProperties", False)
    return out


def _is_pod_template(name: str, schema: Any) -> bool:
    return name == "template" and isinstance(schema, dict) and "spec" in schema.get("properties", {})


def main() -> None:
    """Print the trimmed schema of the CRD file given as the first argument."""
    crd = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1")
    print(json.dumps(trim(version["schema"]["openAPIV3Schema"]), indent=None, separators=(",", ":"), sort_keys=True))


if __name__ == "__main__":
    main()
