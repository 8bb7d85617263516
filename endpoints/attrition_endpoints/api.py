"""SageMaker's endpoint operations (the control plane), answered from the records: each checks
its request against botocore's service model, then the rules SageMaker adds, and answers in
SageMaker's shapes and error codes. The work that takes time is handed to the lifecycle."""

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .lifecycle import Lifecycle, variant_states
from .records import Created, Endpoint, Request, Store, all_variants, now

SERVICE = "sagemaker"


class ApiError(Exception):
    """An error in SageMaker's shape: its code (`__type`) and message, HTTP 400."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def invalid(message: str) -> ApiError:
    return ApiError("ValidationException", message)


@dataclass(frozen=True)
class Account:
    region: str
    account: str

    def arn(self, kind: str, name: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account}:{kind}/{name.lower()}"


class ControlPlane:
    def __init__(self, store: Store, lifecycle: Lifecycle, account: Account):
        self.store, self.lifecycle, self.account = store, lifecycle, account
        self.operations: dict[str, Callable[[Request], Request]] = {
            "CreateModel": self.create_model, "DescribeModel": self.describe_model,
            "DeleteModel": self.delete_model, "ListModels": self.list_models,
            "CreateEndpointConfig": self.create_endpoint_config,
            "DescribeEndpointConfig": self.describe_endpoint_config,
            "DeleteEndpointConfig": self.delete_endpoint_config, "ListEndpointConfigs": self.list_endpoint_configs,
            "CreateEndpoint": self.create_endpoint, "DescribeEndpoint": self.describe_endpoint,
            "UpdateEndpoint": self.update_endpoint,
            "UpdateEndpointWeightsAndCapacities": self.update_endpoint_weights_and_capacities,
            "DeleteEndpoint": self.delete_endpoint, "ListEndpoints": self.list_endpoints,
        }

    def answer(self, operation: str, request: Request) -> Request:
        """ApiError for a request SageMaker would refuse."""
        check(operation, request)
        with self.store.lock:
            return self.operations[operation](request)

    # Models

    def create_model(self, request: Request) -> Request:
        name = request["ModelName"]
        if name in self.store.state.models and not self.store.state.models[name].deleted:
            raise invalid(f'Cannot create already existing model "{self.account.arn("model", name)}".')
        if "PrimaryContainer" not in request and not request.get("Containers"):
            raise invalid("PrimaryContainer or Containers must be given.")
        arn = self.account.arn("model", name)
        self.store.state.models[name] = Created(arn, _without_tags(request), now())
        self.store.save()
        return {"ModelArn": arn}

    def describe_model(self, request: Request) -> Request:
        model = self._model(request["ModelName"])
        return {**model.request, "ModelArn": model.arn, "CreationTime": model.created}

    def delete_model(self, request: Request) -> Request:
        """As on SageMaker, an endpoint running on the model goes on running."""
        self._model(request["ModelName"]).deleted = True
        self.store.forget_deleted()
        return {}

    def list_models(self, request: Request) -> Request:
        found = _listed(self.store.state.models, request)
        return {"Models": [{"ModelName": n, "ModelArn": c.arn, "CreationTime": c.created} for n, c in found]}

    def _model(self, name: str) -> Created:
        if name not in self.store.state.models or self.store.state.models[name].deleted:
            raise invalid(f'Could not find model "{self.account.arn("model", name)}".')
        return self.store.state.models[name]

    # Endpoint configurations

    def create_endpoint_config(self, request: Request) -> Request:
        name = request["EndpointConfigName"]
        if name in self.store.state.configs and not self.store.state.configs[name].deleted:
            raise invalid("Cannot create already existing endpoint configuration "
                          f'"{self.account.arn("endpoint-config", name)}".')
        variants = all_variants(request)
        names = [v["VariantName"] for v in variants]
        if len(set(names)) != len(names):
            raise invalid(f"The production variant names of an endpoint configuration must be unique: {names}.")
        for variant in variants:
            self._model(variant["ModelName"])
            if "ServerlessConfig" not in variant and "InstanceType" not in variant:
                raise invalid(f"Variant {variant['VariantName']}: InstanceType and InitialInstanceCount are "
                              "required unless ServerlessConfig is given.")
        serverless = {"ServerlessConfig" in v for v in variants}
        if len(serverless) > 1:
            raise invalid("An endpoint configuration cannot mix serverless variants and variants of instances.")
        if True in serverless and "AsyncInferenceConfig" in request:
            raise invalid("Asynchronous inference needs instances: a serverless variant cannot have an "
                          "AsyncInferenceConfig.")
        if request.get("ShadowProductionVariants") and (True in serverless or "AsyncInferenceConfig" in request):
            raise invalid("Shadow variants are supported only on real-time endpoints with instances: not with "
                          "serverless variants or an AsyncInferenceConfig.")
        if sum(float(v.get("InitialVariantWeight", 1.0)) for v in request["ProductionVariants"]) <= 0:
            raise invalid("The sum of the InitialVariantWeight of all production variants must be greater than 0.")
        arn = self.account.arn("endpoint-config", name)
        self.store.state.configs[name] = Created(arn, _without_tags(request), now())
        self.store.save()
        return {"EndpointConfigArn": arn}

    def describe_endpoint_config(self, request: Request) -> Request:
        config = self._config(request["EndpointConfigName"])
        return {**config.request, "EndpointConfigArn": config.arn, "CreationTime": config.created}

    def delete_endpoint_config(self, request: Request) -> Request:
        """As on SageMaker, an endpoint running on the configuration goes on running."""
        self._config(request["EndpointConfigName"]).deleted = True
        self.store.forget_deleted()
        return {}

    def list_endpoint_configs(self, request: Request) -> Request:
        found = _listed(self.store.state.configs, request)
        return {"EndpointConfigs": [{"EndpointConfigName": n, "EndpointConfigArn": c.arn, "CreationTime": c.created}
                                    for n, c in found]}

    def _config(self, name: str) -> Created:
        if name not in self.store.state.configs or self.store.state.configs[name].deleted:
            raise invalid(f'Could not find endpoint configuration "{self.account.arn("endpoint-config", name)}".')
        return self.store.state.configs[name]

    # Endpoints

    def create_endpoint(self, request: Request) -> Request:
        name = request["EndpointName"]
        if name in self.store.state.endpoints:
            raise invalid(f'Cannot create already existing endpoint "{self.account.arn("endpoint", name)}".')
        config = self._config(request["EndpointConfigName"])
        endpoint = Endpoint(name=name, arn=self.account.arn("endpoint", name), config=request["EndpointConfigName"],
                            status="Creating", created=now(), modified=now(),
                            variants=variant_states(config.request))
        self.store.state.endpoints[name] = endpoint
        self.store.save()
        self.lifecycle.in_background(endpoint, lambda: self.lifecycle.create(endpoint))
        return {"EndpointArn": endpoint.arn}

    def describe_endpoint(self, request: Request) -> Request:
        endpoint = self._endpoint(request["EndpointName"])
        config = self.store.state.configs.get(endpoint.config)
        described: Request = {
            "EndpointName": endpoint.name, "EndpointArn": endpoint.arn, "EndpointConfigName": endpoint.config,
            "EndpointStatus": endpoint.status, "CreationTime": endpoint.created,
            "LastModifiedTime": endpoint.modified,
            "ProductionVariants": [self._variant_summary(endpoint, v.name) for v in endpoint.variants if not v.shadow],
        }
        shadows = [self._variant_summary(endpoint, v.name) for v in endpoint.variants if v.shadow]
        if shadows:
            described["ShadowProductionVariants"] = shadows
        if endpoint.failure:
            described["FailureReason"] = endpoint.failure
        if endpoint.last_deployment:
            described["LastDeploymentConfig"] = endpoint.last_deployment
        if endpoint.incoming:
            running = [i.variant for i in endpoint.incoming]
            described["PendingDeploymentSummary"] = {
                "EndpointConfigName": endpoint.incoming_config,
                "ProductionVariants": [{"VariantName": v.name, "CurrentWeight": v.weight * endpoint.incoming_share,
                                        "DesiredWeight": v.weight, "DesiredInstanceCount": v.desired_count,
                                        "CurrentInstanceCount": running.count(v.name)}
                                       for v in endpoint.incoming_variants]}
        if config and "AsyncInferenceConfig" in config.request:
            described["AsyncInferenceConfig"] = config.request["AsyncInferenceConfig"]
        capture = (config.request.get("DataCaptureConfig") if config else None) or {}
        if capture:
            described["DataCaptureConfig"] = {
                "EnableCapture": capture.get("EnableCapture", True), "CaptureStatus": "Started",
                "CurrentSamplingPercentage": capture["InitialSamplingPercentage"],
                "DestinationS3Uri": capture["DestinationS3Uri"]}
        return described

    def _variant_summary(self, endpoint: Endpoint, name: str) -> Request:
        variant = endpoint.variant(name)
        assert variant is not None
        config = self.store.state.configs[endpoint.config].request  # deleted or not: the endpoint runs on it
        spec = next(v for v in all_variants(config) if v["VariantName"] == name)
        model = self.store.state.models.get(spec["ModelName"])
        image = (model.request.get("PrimaryContainer") or {}).get("Image", "") if model else ""
        summary = {"VariantName": name, "CurrentWeight": variant.weight, "DesiredWeight": variant.desired_weight,
                   "CurrentInstanceCount": sum(1 for i in endpoint.instances if i.variant == name),
                   "DesiredInstanceCount": variant.desired_count,
                   "DeployedImages": [{"SpecifiedImage": image, "ResolvedImage": image}] if image else []}
        if "ServerlessConfig" in spec:
            summary.update(CurrentServerlessConfig=spec["ServerlessConfig"],
                           DesiredServerlessConfig=spec["ServerlessConfig"])
        return summary

    def update_endpoint(self, request: Request) -> Request:
        endpoint = self._endpoint(request["EndpointName"])
        self._config(request["EndpointConfigName"])
        self._settled(endpoint)
        deployment = request.get("DeploymentConfig")
        self._check_deployment(deployment)
        endpoint.status, endpoint.modified = "Updating", now()
        self.store.save()
        self.lifecycle.in_background(endpoint, lambda: self.lifecycle.update(endpoint, request["EndpointConfigName"],
                                                                   deployment))
        return {"EndpointArn": endpoint.arn}

    def _check_deployment(self, deployment: Request | None) -> None:
        """SageMaker's rules for a blue/green update: a canary of at most half the fleet, alarms
        that exist."""
        if not deployment:
            return
        routing = deployment.get("BlueGreenUpdatePolicy", {}).get("TrafficRoutingConfiguration", {})
        for key in ("CanarySize", "LinearStepSize"):
            size = routing.get(key)
            if size and size["Type"] == "CAPACITY_PERCENT" and not 0 < size["Value"] <= 50:
                raise invalid(f"{key} must be between 1 and 50 percent of the capacity, not {size['Value']}.")
        names = [a["AlarmName"] for a in deployment.get("AutoRollbackConfiguration", {}).get("Alarms", [])]
        missing = self.lifecycle.alarms.missing(names) if names else []
        if missing:
            raise invalid(f"The alarm(s) {', '.join(missing)} of AutoRollbackConfiguration do not exist in "
                          "CloudWatch.")

    def update_endpoint_weights_and_capacities(self, request: Request) -> Request:
        endpoint = self._endpoint(request["EndpointName"])
        self._settled(endpoint)
        desired = request["DesiredWeightsAndCapacities"]
        for change in desired:
            if endpoint.variant(change["VariantName"]) is None:
                raise invalid(f"The variant name(s) [{change['VariantName']}] is/are not present in the "
                              f"endpoint {endpoint.name}.")
        weights = {v.name: v.weight for v in endpoint.variants}
        weights.update({c["VariantName"]: float(c["DesiredWeight"]) for c in desired if "DesiredWeight" in c})
        if sum(weights.values()) <= 0:
            raise invalid("The sum of the weights of all production variants must be greater than 0.")
        endpoint.status, endpoint.modified = "Updating", now()
        self.store.save()
        self.lifecycle.in_background(endpoint, lambda: self.lifecycle.change_weights_and_capacities(endpoint, desired))
        return {"EndpointArn": endpoint.arn}

    def delete_endpoint(self, request: Request) -> Request:
        endpoint = self._endpoint(request["EndpointName"])
        if endpoint.status in ("Creating", "Updating", "Deleting"):
            raise invalid(f"Cannot delete an endpoint that is {endpoint.status.lower()}: {endpoint.arn}.")
        endpoint.status, endpoint.modified = "Deleting", now()
        self.store.save()
        self.lifecycle.in_background(endpoint, lambda: self.lifecycle.delete(endpoint))
        return {}

    def list_endpoints(self, request: Request) -> Request:
        found = sorted(self.store.state.endpoints.values(), key=lambda e: e.created, reverse=True)
        found = [e for e in found if request.get("NameContains", "") in e.name]
        if request.get("StatusEquals"):
            found = [e for e in found if e.status == request["StatusEquals"]]
        return {"Endpoints": [{"EndpointName": e.name, "EndpointArn": e.arn, "CreationTime": e.created,
                               "LastModifiedTime": e.modified, "EndpointStatus": e.status}
                              for e in found[: request.get("MaxResults", 100)]]}

    def _endpoint(self, name: str) -> Endpoint:
        if name not in self.store.state.endpoints:
            raise invalid(f'Could not find endpoint "{self.account.arn("endpoint", name)}".')
        return self.store.state.endpoints[name]

    @staticmethod
    def _settled(endpoint: Endpoint) -> None:
        if endpoint.status != "InService":
            raise invalid(f"Cannot update in-progress endpoint \"{endpoint.arn}\" (status {endpoint.status}).")


def check(operation: str, request: Request) -> None:
    """botocore's own validation of the request against the SageMaker service model."""
    from botocore.exceptions import ParamValidationError
    from botocore.validate import ParamValidator

    shape = _service_model().operation_model(operation).input_shape
    report = ParamValidator().validate(request, shape)
    if report.has_errors():
        raise invalid(str(ParamValidationError(report=report.generate_report())).replace("\n", " "))
    if shape is not None:
        for member, value in request.items():
            pattern = shape.members[member].metadata.get("pattern") if member in shape.members else None
            if pattern and isinstance(value, str) and not re.fullmatch(pattern, value):
                raise invalid(f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
                              f"constraint: Member must satisfy regular expression pattern: {pattern}")


@functools.cache
def _service_model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model(SERVICE)


def _without_tags(request: Request) -> Request:
    return {k: v for k, v in request.items() if k != "Tags"}


def _listed(items: dict[str, Created], request: Request) -> list[tuple[str, Created]]:
    found = [(n, c) for n, c in items.items() if request.get("NameContains", "") in n and not c.deleted]
    found.sort(key=lambda pair: pair[1].created, reverse=True)
    return found[: request.get("MaxResults", 100)]
