"""infra/lambda_package.py: which function `sam build` builds for the deployment checks, and
the 250 MB check on every function's package with its layers."""

from __future__ import annotations

import copy

import pytest

from infra import lambda_package
from local.template import load_template


@pytest.fixture(scope="module")
def template() -> dict:
    return load_template()


def test_one_function_with_every_layer_proves_the_shared_build(template):
    found = lambda_package.functions(template)
    chosen = lambda_package.plan(template)
    used = {layer for props in found.values() for layer in lambda_package.layers_of(props, template)}
    assert chosen in found and used == {"FfmpegLayer"}
    assert set(lambda_package.layers_of(found[chosen], template)) == used
    assert len({lambda_package.build_key(props) for props in found.values()}) == 1


def test_a_function_with_its_own_code_or_runtime_means_building_everything(template):
    for key, value in (("CodeUri", "other/"), ("Runtime", "python3.13")):
        changed = copy.deepcopy(template)
        changed["Resources"]["DeliverVideoFunction"]["Properties"][key] = value
        assert lambda_package.plan(changed) == "all"


def test_layers_no_single_function_holds_mean_building_everything(template):
    changed = copy.deepcopy(template)
    changed["Resources"]["FontsLayer"] = {"Type": "AWS::Serverless::LayerVersion", "Properties": {}}
    changed["Resources"]["DeliverVideoFunction"]["Properties"]["Layers"] = [{"Ref": "FontsLayer"}]
    assert lambda_package.plan(changed) == "all"


def _write(path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)


def test_every_function_is_its_package_plus_its_layers_under_the_limit(template, tmp_path, monkeypatch):
    chosen = lambda_package.plan(template)
    _write(tmp_path / chosen / "videobot" / "code.py", 600)
    _write(tmp_path / "FfmpegLayer" / "bin" / "ffmpeg", 300)
    monkeypatch.setattr(lambda_package, "LIMIT_BYTES", 1000)
    assert len(lambda_package.sizes(template, tmp_path)) == len(lambda_package.functions(template))

    _write(tmp_path / "FfmpegLayer" / "bin" / "ffmpeg", 500)  # 600 + 500: over, only with the layer
    with pytest.raises(SystemExit) as over:
        lambda_package.sizes(template, tmp_path)
    named = {line.split(" needs ")[0] for line in str(over.value).splitlines()}
    layered = {n for n, p in lambda_package.functions(template).items() if lambda_package.layers_of(p, template)}
    assert named == layered and "DeliverVideoFunction" not in named


def test_a_missing_artifact_or_layer_fails(template, tmp_path):
    with pytest.raises(SystemExit, match="no build artifact"):
        lambda_package.sizes(template, tmp_path)
    _write(tmp_path / lambda_package.plan(template) / "app.py", 10)
    with pytest.raises(SystemExit, match="layer FfmpegLayer was not built"):
        lambda_package.sizes(template, tmp_path)
