"""skaffold.yaml against Skaffold's own schema (v4beta14), with and without each profile."""
from __future__ import annotations

import copy
import json

import jsonschema_rs
import pytest
import yaml

from k8s_support import REPO, SERVICES, SHARED

SCHEMA = SHARED / "schemas" / "skaffold-v4beta14.json"


@pytest.fixture(scope="module")
def config() -> dict:
    (document,) = list(yaml.safe_load_all((REPO / "skaffold.yaml").read_text()))
    return document


@pytest.fixture(scope="module")
def validator():
    return jsonschema_rs.validator_for(json.loads(SCHEMA.read_text()))


def apply_patches(document: dict, patches: list[dict]) -> dict:
    """The JSON Patch subset Skaffold profiles use here: add, replace, remove."""
    result = copy.deepcopy(document)
    for patch in patches:
        *parents, last = patch["path"].strip("/").split("/")
        node = result
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        key = int(last) if isinstance(node, list) else last
        if patch["op"] == "remove":
            del node[key]
        elif patch["op"] == "replace":
            assert (key < len(node)) if isinstance(node, list) else key in node, f"nothing to replace at {patch['path']}"
            node[key] = patch["value"]
        elif patch["op"] == "add":
            if isinstance(node, list):
                node.insert(key, patch["value"])
            else:
                node[key] = patch["value"]
    return result


def with_profile(config: dict, name: str) -> dict:
    (profile,) = [p for p in config["profiles"] if p["name"] == name]
    result = apply_patches(config, profile.get("patches", []))
    for section in ("build", "deploy", "manifests", "portForward", "resourceSelector"):
        if section in profile:
            if isinstance(profile[section], dict) and isinstance(result.get(section), dict):
                result[section] = {**result[section], **profile[section]}
            else:
                result[section] = profile[section]
    result.pop("profiles")
    return result


def errors(validator, document: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.instance_path))}: {e.message[:300]}" for e in validator.iter_errors(document)]


def test_skaffold_yaml_matches_the_schema(config, validator):
    assert config["apiVersion"] == "skaffold/v4beta14"
    assert errors(validator, config) == []


def test_the_schema_catches_mistakes(config, validator):
    broken = copy.deepcopy(config)
    broken["deploy"]["helm"]["releases"][0]["chartpath"] = "typo"
    assert errors(validator, broken)


@pytest.mark.parametrize("profile", ["chart-only", "eks", "debug"])
def test_each_profile_yields_a_valid_config(config, validator, profile):
    assert errors(validator, with_profile(config, profile)) == []


def test_six_images(config):
    artifacts = {a["image"]: a for a in config["build"]["artifacts"]}
    assert set(artifacts) == {f"storefront/{s}" for s in SERVICES} | {"storefront/operator"}
    for service in SERVICES:
        docker = artifacts[f"storefront/{service}"]["docker"]
        assert docker["dockerfile"] == "services/Dockerfile" and docker["buildArgs"] == {"SERVICE": service}
    assert artifacts["storefront/operator"]["docker"]["dockerfile"] == "operator/Dockerfile"
    assert all(a["context"] == "." for a in artifacts.values())


def test_default_deploy_installs_the_operator_and_a_storefront_whose_images_skaffold_sets(config):
    (release,) = config["deploy"]["helm"]["releases"]
    assert release["chartPath"] == "charts/storefront-operator"
    assert "kubectl" in config["deploy"]
    (manifest,) = config["manifests"]["rawYaml"]
    storefront = next(d for d in yaml.safe_load_all((REPO / manifest).read_text()) if d["kind"] == "Storefront")
    assert {s["image"] for s in storefront["spec"]["services"].values()} == {f"storefront/{s}" for s in SERVICES}
    (allow,) = config["resourceSelector"]["allow"]
    assert allow == {"groupKind": "Storefront.storefront.dev", "image": [".*"]}


def test_chart_only_profile_syncs_python_into_dev_images(config):
    chart_only = with_profile(config, "chart-only")
    assert "manifests" not in chart_only and "kubectl" not in chart_only["deploy"]
    (release,) = chart_only["deploy"]["helm"]["releases"]
    assert release["chartPath"] == "charts/storefront"
    assert release["valuesFiles"] == ["charts/storefront/values-dev.yaml"]
    for service in SERVICES:
        assert release["setValueTemplates"][f"services.{service}.image"] == \
            f"{{{{.IMAGE_FULLY_QUALIFIED_storefront_{service}}}}}"
    for artifact in chart_only["build"]["artifacts"]:
        assert artifact["docker"]["target"] == "dev"
        assert all(rule["src"].endswith("*.py") and rule["dest"] == "/src" for rule in artifact["sync"]["manual"])


def test_eks_profile_pushes_and_uses_the_eks_values(config):
    eks = with_profile(config, "eks")
    assert eks["build"]["local"]["push"] is True
    (release,) = eks["deploy"]["helm"]["releases"]
    assert release["valuesFiles"] == ["charts/storefront/values-eks.yaml"]


def test_every_referenced_path_exists(config):
    paths = [a["docker"]["dockerfile"] for a in config["build"]["artifacts"]] + config["manifests"]["rawYaml"]
    for profile in ["", "chart-only", "eks", "debug"]:
        document = with_profile(config, profile) if profile else config
        for release in document["deploy"]["helm"]["releases"]:
            paths += [release["chartPath"], *release.get("valuesFiles", [])]
    missing = [path for path in paths if not (REPO / path).exists()]
    assert not missing
