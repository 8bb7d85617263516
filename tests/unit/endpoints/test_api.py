"""The control plane's rules and errors, in SageMaker's codes and words (no Docker: the lifecycle's
background work is only recorded here; tests/endpoints runs it for real)."""

import pytest

from attrition_endpoints.api import Account, ApiError, ControlPlane
from attrition_endpoints.records import Store

ROLE = "arn:aws:iam::123456789012:role/x"


class Recorded:
    """Stands in for the lifecycle: what would run in the background, in order."""

    def __init__(self):
        self.work = []

    def in_background(self, endpoint, work):
        self.work.append((endpoint.name, work))


@pytest.fixture()
def plane(tmp_path):
    return ControlPlane(Store(tmp_path / "state.json"), Recorded(), Account("eu-west-1", "123456789012"))


def model(plane, name="m"):
    plane.answer("CreateModel", {"ModelName": name, "ExecutionRoleArn": ROLE,
                                 "PrimaryContainer": {"Image": "img", "ModelDataUrl": "s3://b/m.tar.gz"}})


def variant(name="a", model_name="m", **more):
    return {"VariantName": name, "ModelName": model_name, "InstanceType": "ml.m5.large", "InitialInstanceCount": 1,
            **more}


def refused(plane, operation, request) -> str:
    with pytest.raises(ApiError) as error:
        plane.answer(operation, request)
    assert error.value.code == "ValidationException"
    return str(error.value)


def test_a_model_is_created_once_and_described_with_its_arn(plane):
    model(plane)
    described = plane.answer("DescribeModel", {"ModelName": "m"})
    assert described["ModelArn"] == "arn:aws:sagemaker:eu-west-1:123456789012:model/m"
    assert refused(plane, "CreateModel", {"ModelName": "m", "ExecutionRoleArn": ROLE,
                                          "PrimaryContainer": {"Image": "img"}}).startswith(
        'Cannot create already existing model "arn:aws:sagemaker:eu-west-1:123456789012:model/m"')


@pytest.mark.parametrize(("request_", "says"), [
    ({"ProductionVariants": [variant(model_name="nope")]}, 'Could not find model "arn:aws:sagemaker'),
    ({"ProductionVariants": [variant(), variant()]}, "must be unique"),
    ({"ProductionVariants": [variant(InitialVariantWeight=0.0)]}, "greater than 0"),
    ({"ProductionVariants": [variant(), {"VariantName": "s", "ModelName": "m",
                                         "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 2}}]},
     "cannot mix serverless"),
    ({"ProductionVariants": [{"VariantName": "s", "ModelName": "m",
                              "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 2}}],
      "AsyncInferenceConfig": {"OutputConfig": {"S3OutputPath": "s3://b/out"}}}, "needs instances"),
    ({"ProductionVariants": [{"VariantName": "a", "ModelName": "m"}]}, "InstanceType"),
    ({"ProductionVariants": [variant()], "ShadowProductionVariants": [variant("b")],
      "AsyncInferenceConfig": {"OutputConfig": {"S3OutputPath": "s3://b/out"}}}, "only on real-time endpoints"),
    ({"ProductionVariants": [variant()], "ShadowProductionVariants": [variant()]}, "must be unique"),
])
def test_endpoint_configurations_sagemaker_would_refuse_are_refused(plane, request_, says):
    model(plane)
    assert says in refused(plane, "CreateEndpointConfig", {"EndpointConfigName": "c", **request_})


def test_requests_are_checked_against_botocores_model(plane):
    assert "Missing required parameter" in refused(plane, "DescribeEndpoint", {})
    assert "regular expression pattern" in refused(plane, "CreateModel", {
        "ModelName": "not valid!", "ExecutionRoleArn": ROLE, "PrimaryContainer": {"Image": "img"}})
    assert "Invalid type" in refused(plane, "DescribeEndpoint", {"EndpointName": 3})


def test_an_endpoint_is_creating_at_once_and_its_work_runs_in_the_background(plane):
    model(plane)
    plane.answer("CreateEndpointConfig", {"EndpointConfigName": "c", "ProductionVariants": [
        variant(InitialVariantWeight=0.75)]})
    assert plane.answer("CreateEndpoint", {"EndpointName": "e", "EndpointConfigName": "c"})["EndpointArn"] \
        == "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/e"
    described = plane.answer("DescribeEndpoint", {"EndpointName": "e"})
    assert described["EndpointStatus"] == "Creating" and len(plane.lifecycle.work) == 1
    assert described["ProductionVariants"] == [{
        "VariantName": "a", "CurrentWeight": 0.75, "DesiredWeight": 0.75, "CurrentInstanceCount": 0,
        "DesiredInstanceCount": 1, "DeployedImages": [{"SpecifiedImage": "img", "ResolvedImage": "img"}]}]
    assert "Cannot create already existing endpoint" in refused(
        plane, "CreateEndpoint", {"EndpointName": "e", "EndpointConfigName": "c"})
    assert "Cannot update in-progress endpoint" in refused(
        plane, "UpdateEndpoint", {"EndpointName": "e", "EndpointConfigName": "c"})
    assert "Cannot delete an endpoint that is creating" in refused(plane, "DeleteEndpoint", {"EndpointName": "e"})
    assert [e["EndpointName"] for e in plane.answer("ListEndpoints", {"StatusEquals": "Creating"})["Endpoints"]] \
        == ["e"]


def test_unknown_names_get_sagemakers_could_not_find(plane):
    assert refused(plane, "DescribeEndpoint", {"EndpointName": "gone"}) \
        == 'Could not find endpoint "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/gone".'
    assert "Could not find endpoint configuration" in refused(plane, "DescribeEndpointConfig",
                                                              {"EndpointConfigName": "gone"})
    assert "Could not find model" in refused(plane, "DeleteModel", {"ModelName": "gone"})


def test_the_state_survives_a_new_store(plane, tmp_path):
    model(plane)
    again = Store(tmp_path / "state.json")
    assert list(again.state.models) == ["m"]
    assert not [p for p in tmp_path.iterdir() if p.name != "state.json"]  # the atomic write leaves no temp file


def test_a_configuration_or_model_deleted_under_a_running_endpoint_is_hidden_and_the_endpoint_serves_on(plane):
    model(plane)
    plane.answer("CreateEndpointConfig", {"EndpointConfigName": "c", "ProductionVariants": [variant()]})
    plane.answer("CreateEndpoint", {"EndpointName": "e", "EndpointConfigName": "c"})
    plane.answer("DeleteEndpointConfig", {"EndpointConfigName": "c"})
    plane.answer("DeleteModel", {"ModelName": "m"})
    assert "Could not find endpoint configuration" in refused(plane, "DescribeEndpointConfig",
                                                              {"EndpointConfigName": "c"})
    assert plane.answer("ListModels", {})["Models"] == []
    assert plane.answer("DescribeEndpoint", {"EndpointName": "e"})["ProductionVariants"][0]["VariantName"] == "a"
    del plane.store.state.endpoints["e"]  # as the lifecycle does once it is deleted
    plane.store.forget_deleted()
    assert plane.store.state.configs == {} and plane.store.state.models == {}
