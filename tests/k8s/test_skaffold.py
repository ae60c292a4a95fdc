"""skaffold.yaml as skaffold itself reads it (`skaffold diagnose --yaml-only`: the effective config of each
profile, after its patches). tests/cluster/test_skaffold.py runs it against the real cluster."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.k8s.k8s_support import REPO, SERVICES

PROFILES = ["", "chart-only", "eks", "debug"]
IMAGES = [*SERVICES, "postgresql", "paystack-simulator", "operator"]


@pytest.fixture(scope="module")
def skaffold(tmp_path_factory: pytest.TempPathFactory) -> Path:
    result = subprocess.run([str(REPO / "hack" / "cluster" / "build.sh"), "skaffold"], stdout=subprocess.PIPE,
                            text=True)
    if result.returncode != 0:
        pytest.fail("skaffold could not be built (hack/cluster/build.sh skaffold)", pytrace=False)
    return Path(result.stdout.split()[-1]) / "skaffold"


def effective(skaffold: Path, profile: str, tmp_path: Path) -> dict:
    config = tmp_path / "skaffold-global"
    config.write_text("global:\n  collect-metrics: false\n  update-check: false\n")
    result = subprocess.run([str(skaffold), "diagnose", "--yaml-only", "--update-check=false", f"--config={config}",
                             *([f"--profile={profile}"] if profile else [])], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    (document,) = list(yaml.safe_load_all(result.stdout))
    return document


@pytest.mark.parametrize("profile", PROFILES)
def test_skaffold_reads_every_profile(skaffold: Path, tmp_path: Path, profile: str) -> None:
    document = effective(skaffold, profile, tmp_path)
    assert document["apiVersion"] == "skaffold/v4beta13"  # the newest schema skaffold v2.16.1 reads


def test_a_mistake_is_refused(skaffold: Path, tmp_path: Path) -> None:
    broken = tmp_path / "skaffold.yaml"
    broken.write_text((REPO / "skaffold.yaml").read_text().replace("chartPath: charts/storefront-operator",
                                                                    "chartpath: charts/storefront-operator"))
    result = subprocess.run([str(skaffold), "diagnose", "--yaml-only", "--update-check=false", f"--filename={broken}"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert result.returncode != 0


def test_every_image_is_built_by_the_image_script(skaffold: Path, tmp_path: Path) -> None:
    artifacts = {a["image"]: a for a in effective(skaffold, "", tmp_path)["build"]["artifacts"]}
    assert list(artifacts) == [f"storefront/{name}" for name in IMAGES]
    for name in IMAGES:
        command = artifacts[f"storefront/{name}"]["custom"]["buildCommand"]
        assert command.endswith(f"hack/cluster/images.sh skaffold {name}")
        context = Path(artifacts[f"storefront/{name}"]["context"])
        assert (context / command.split()[0]).resolve() == REPO / "hack" / "cluster" / "images.sh"
        assert artifacts[f"storefront/{name}"]["custom"]["dependencies"]["paths"]


def test_default_deploy_installs_the_operator_and_a_storefront_whose_images_skaffold_sets(skaffold: Path,
                                                                                         tmp_path: Path) -> None:
    config = effective(skaffold, "", tmp_path)
    (release,) = config["deploy"]["helm"]["releases"]
    assert Path(release["chartPath"]).name == "storefront-operator"
    (manifest,) = config["manifests"]["rawYaml"]
    storefront = next(d for d in yaml.safe_load_all(Path(manifest).read_text()) if d["kind"] == "Storefront")
    spec = storefront["spec"]
    images = {s["image"] for s in spec["services"].values()}
    images |= {spec["database"]["embedded"]["image"], spec["payments"]["paystack"]["simulator"]["image"]}
    assert images == {f"storefront/{name}" for name in IMAGES if name != "operator"}
    (allow,) = config["resourceSelector"]["allow"]
    assert allow == {"groupKind": "Storefront.storefront.dev", "image": [".*"]}


def test_chart_only_profile_syncs_python_into_dev_images(skaffold: Path, tmp_path: Path) -> None:
    chart_only = effective(skaffold, "chart-only", tmp_path)
    assert "manifests" not in chart_only and "kubectl" not in chart_only["deploy"]
    (release,) = chart_only["deploy"]["helm"]["releases"]
    assert Path(release["chartPath"]).name == "storefront"
    assert [Path(p).name for p in release["valuesFiles"]] == ["values-dev.yaml"]
    for service in SERVICES:
        assert release["setValueTemplates"][f"components.{service}.image"] == \
            f"{{{{.IMAGE_FULLY_QUALIFIED_storefront_{service}}}}}"
    artifacts = {a["image"]: a for a in chart_only["build"]["artifacts"]}
    assert set(artifacts) == {f"storefront/{s}" for s in SERVICES} | {"storefront/postgresql"}
    for service in SERVICES:
        artifact = artifacts[f"storefront/{service}"]
        assert artifact["custom"]["buildCommand"].endswith(f"skaffold {service}-dev")
        # Python, and the pages' templates and style sheets
        assert all(rule["src"].endswith(("*.py", "*.html", "*.css")) and rule["dest"] == "/src"
                   for rule in artifact["sync"]["manual"])


def test_eks_profile_builds_pinned_bases_with_docker_and_pushes(skaffold: Path, tmp_path: Path) -> None:
    eks = effective(skaffold, "eks", tmp_path)
    assert eks["build"]["local"]["push"] is True
    assert {a["image"] for a in eks["build"]["artifacts"]} == {f"storefront/{s}" for s in SERVICES}
    assert all(a["docker"]["target"] == "runtime" for a in eks["build"]["artifacts"])
    (release,) = eks["deploy"]["helm"]["releases"]
    assert [Path(p).name for p in release["valuesFiles"]] == ["values-eks.yaml"]
