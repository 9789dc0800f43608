"""deploy/k8s/: valid against Kubernetes' own schemas and KubeRay's CRD, consistent with itself and the gallery.

No cluster here: kubernetes-validate carries the Kubernetes schemas, tests/core/k8s/ carries KubeRay's RayService
schema (trim_crd.py says how it was made), and Ray Serve's own config model checks the embedded Serve config.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from gallery.cli import build_parser
from tests.conftest import ROOT

K8S = ROOT / "deploy" / "k8s"
SERVE_CONFIG = ROOT / "deploy" / "ray" / "serve.yaml"
CRD_SCHEMA = Path(__file__).resolve().parent / "k8s" / "rayservice-v1.schema.json"
VERSION = kubernetes_validate.latest_version()


def documents() -> list[dict[str, Any]]:
    """Return every resource the kustomization lists, read from its files."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    found = []
    for name in kustomization["resources"]:
        found += [doc for doc in yaml.safe_load_all((K8S / name).read_text(encoding="utf-8")) if doc]
    return found


def one(kind: str) -> dict[str, Any]:
    """Return the only resource of a kind."""
    [resource] = [doc for doc in documents() if doc["kind"] == kind]
    return resource


def pod_template(template: dict[str, Any], name: str) -> dict[str, Any]:
    """Wrap a pod template as a PodTemplate resource, which kubernetes-validate knows."""
    return {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": name}, "template": template}


def test_every_kubernetes_resource_passes_strict_validation() -> None:
    core = [doc for doc in documents() if doc["kind"] != "RayService"]
    assert sorted(doc["kind"] for doc in core) == ["Deployment", "HorizontalPodAutoscaler", "Ingress", "Service"]
    for doc in core:
        kubernetes_validate.validate(doc, VERSION, strict=True)


def test_strict_validation_refuses_a_misspelt_field() -> None:
    deployment = one("Deployment")
    deployment["spec"]["replica"] = deployment["spec"].pop("replicas")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSION, strict=True)


def test_the_rayservice_matches_kuberays_schema_and_its_pods_kubernetes() -> None:
    service = one("RayService")
    schema = json.loads(CRD_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(service, schema)
    cluster = service["spec"]["rayClusterConfig"]
    templates = [cluster["headGroupSpec"]["template"], *(g["template"] for g in cluster["workerGroupSpecs"])]
    for number, template in enumerate(templates):
        kubernetes_validate.validate(pod_template(template, f"group-{number}"), VERSION, strict=True)
    broken = json.loads(json.dumps(service))
    broken["spec"]["rayClusterConfig"]["headGroupSpec"]["rayStartParam"] = {}
    with pytest.raises(jsonschema.ValidationError, match="rayStartParam"):
        jsonschema.validate(broken, schema)


def test_the_embedded_serve_config_is_deploy_ray_serve_yaml_and_serve_accepts_it() -> None:
    schema = pytest.importorskip("ray.serve.schema")
    embedded = yaml.safe_load(one("RayService")["spec"]["serveConfigV2"])
    assert embedded == yaml.safe_load(SERVE_CONFIG.read_text(encoding="utf-8"))
    config = schema.ServeDeploySchema.model_validate(embedded)
    assert [app.import_path for app in config.applications] == ["gallery.rayserve.app:build_app"]


def test_the_tiers_name_each_other_consistently() -> None:
    deployment, service, ingress, hpa, ray = (one(k) for k in ("Deployment", "Service", "Ingress",
                                                               "HorizontalPodAutoscaler", "RayService"))
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    env = {item["name"]: item for item in container["env"]}
    # The front-end pods join the RayService's head (KubeRay names it <name>-head-svc) with its token.
    assert env["RAY_HEAD_ADDRESS"]["value"] == f"{ray['metadata']['name']}-head-svc:6379"
    token = env["RAY_AUTH_TOKEN"]["valueFrom"]["secretKeyRef"]
    assert token == {"name": ray["spec"]["rayClusterConfig"]["authOptions"]["secretName"], "key": "auth_token"}
    assert env["OPENMODELS_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "openmodels-database"
    # Traffic: Ingress -> Service -> the Deployment's pods, pinned by cookie; the HPA scales that Deployment.
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]
    assert backend["port"]["name"] in {port["name"] for port in service["spec"]["ports"]}
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    images = {c["image"] for doc in (deployment,) for c in doc["spec"]["template"]["spec"]["containers"]}
    cluster = ray["spec"]["rayClusterConfig"]
    images |= {c["image"] for g in (cluster["headGroupSpec"], *cluster["workerGroupSpecs"])
               for c in g["template"]["spec"]["containers"]}
    assert images == {"openmodels/gallery"}  # one image for both tiers, set by kustomize's `images:`


def test_the_front_end_command_is_one_the_gallery_accepts() -> None:
    script = one("Deployment")["spec"]["template"]["spec"]["containers"][0]["args"][0]
    ray_start, gallery = (part.strip() for part in script.split("&& exec"))
    assert ray_start.startswith("ray start --address=") and "--num-cpus=0" in ray_start
    args = build_parser().parse_args(shlex.split(gallery)[1:])
    assert (args.command, args.engine, args.ray_address, args.port) == ("run", "ray", "auto", 7860)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed (kustomize builds offline)")
def test_kustomize_builds_the_base() -> None:
    built = subprocess.run(["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, timeout=60)
    assert built.returncode == 0, built.stderr
    resources = [doc for doc in yaml.safe_load_all(built.stdout) if doc]
    assert sorted(doc["kind"] for doc in resources) == sorted(doc["kind"] for doc in documents())
    for doc in resources:
        assert doc["metadata"]["labels"]["app.kubernetes.io/part-of"] == "openmodels-gallery"
