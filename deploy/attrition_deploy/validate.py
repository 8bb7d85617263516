"""Every request, checked before it is printed (--dry-run) or sent: against botocore's own model
of the AWS API (required fields, types, enums, lengths, ranges, patterns), then against the rules
the model does not hold (SageMaker's own). A request that fails is one line naming the field and
the rule; nothing has been created by then."""

import re
from functools import cache, lru_cache
from typing import Any

from .errors import UserError

# botocore's patterns are Java regexes matched against the whole value; a few use Unicode classes
# that Python's re spells differently.
JAVA_CLASSES = {r"\p{L}": r"\w", r"\p{N}": r"\w", r"\p{Z}": r"\s", r"\p{M}": r"\w"}


class InvalidRequest(UserError):
    """A request AWS would refuse: the message names the field and the rule."""


def check(service: str, operation: str, params: dict[str, Any]) -> None:
    operation_model = _operation(service, operation)
    for problem in _problems(operation_model.input_shape, params, operation_model.name):
        raise InvalidRequest(problem)
    for rule in EXTRA_RULES.get(operation_model.name, ()):
        problem = rule(params)
        if problem:
            raise InvalidRequest(f"{operation_model.name}.{problem}")


@cache
def _operations(service: str) -> dict:
    import botocore.session
    from botocore import xform_name

    model = botocore.session.get_session().get_service_model(service)
    return {xform_name(name): model.operation_model(name) for name in model.operation_names}


def _operation(service: str, operation: str):
    try:
        return _operations(service)[operation]
    except KeyError:
        raise InvalidRequest(f"{service} has no operation {operation}") from None


def _problems(shape, value, path: str):
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            yield f"{path} must be an object"
            return
        for name in shape.required_members:
            if value.get(name) is None and not shape.members[name].metadata.get("idempotencyToken"):
                yield f"{path}.{name} is required"  # idempotency tokens boto3 fills in itself
        for name, item in value.items():
            if name not in shape.members:
                yield f"{path}.{name} is not a field of {shape.name}"
            elif item is not None:
                yield from _problems(shape.members[name], item, f"{path}.{name}")
    elif kind == "list":
        if not isinstance(value, list):
            yield f"{path} must be a list"
            return
        yield from _size(shape, len(value), path, "items")
        for i, item in enumerate(value):
            yield from _problems(shape.member, item, f"{path}[{i}]")
    elif kind == "map":
        if not isinstance(value, dict):
            yield f"{path} must be a map"
            return
        yield from _size(shape, len(value), path, "entries")
        for key, item in value.items():
            yield from _problems(shape.key, key, f"{path} key {key!r}")
            yield from _problems(shape.value, item, f"{path}[{key!r}]")
    elif kind == "string":
        yield from _string(shape, value, path)
    elif kind in ("integer", "long", "float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float) or (
                kind in ("integer", "long") and not isinstance(value, int)):
            yield f"{path} must be {'a whole number' if kind in ('integer', 'long') else 'a number'}, not {value!r}"
            return
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"{'-inf' if low is None else low}..{'inf' if high is None else high}"
            yield f"{path} is {value}; it must be within {bounds}"
    elif kind == "boolean" and not isinstance(value, bool):
        yield f"{path} must be true or false"
    elif kind == "blob" and not isinstance(value, bytes | bytearray | str):
        yield f"{path} must be bytes"


def _string(shape, value, path: str):
    if not isinstance(value, str):
        yield f"{path} must be text, not {type(value).__name__}"
        return
    if shape.enum and value not in shape.enum:
        shown = ", ".join(shape.enum[:8]) + (", ..." if len(shape.enum) > 8 else "")
        yield f"{path} is {value!r}; it must be one of {shown}"
        return
    yield from _size(shape, len(value), path, "characters")
    pattern = _pattern(shape.metadata.get("pattern"))
    if pattern is not None and value and not pattern.fullmatch(value):
        yield f"{path} {value[:80]!r} does not match the pattern {shape.metadata['pattern']}"


def _size(shape, size: int, path: str, unit: str):
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and size < low:
        yield f"{path} has {size} {unit}; at least {low} are needed"
    if high is not None and size > high:
        yield f"{path} has {size} {unit}; at most {high} are allowed"


@lru_cache(maxsize=1024)
def _pattern(text: str | None):
    if not text:
        return None
    for java, python in JAVA_CLASSES.items():
        text = text.replace(java, python)
    try:
        return re.compile(text)
    except re.error:
        return None  # a Java-only construct: the lengths and the rules below still apply


def _canary(params: dict) -> str:
    policy = (params.get("DeploymentConfig") or {}).get("BlueGreenUpdatePolicy") or {}
    routing = policy.get("TrafficRoutingConfiguration") or {}
    if routing.get("Type") == "CANARY":
        if routing.get("CanarySize", {}).get("Value", 0) > 50:
            return "DeploymentConfig: a canary may take at most 50 % of the capacity"
        if not (params["DeploymentConfig"].get("AutoRollbackConfiguration") or {}).get("Alarms"):
            return "DeploymentConfig.AutoRollbackConfiguration.Alarms: a canary needs at least one alarm"
    return ""


def _variants(params: dict) -> str:
    variants = params.get("ProductionVariants") or []
    names = [v.get("VariantName") for v in variants]
    if len(set(names)) < len(names):
        return f"ProductionVariants: variant names must differ ({', '.join(map(str, names))})"
    for v in variants:
        if "InitialVariantWeight" in v and v["InitialVariantWeight"] <= 0:
            return f"ProductionVariants[{v.get('VariantName')}].InitialVariantWeight must be above 0"
        if v.get("ServerlessConfig") and (v.get("InstanceType") or v.get("InitialInstanceCount")):
            return f"ProductionVariants[{v.get('VariantName')}]: a serverless variant has no instances"
        if not v.get("ServerlessConfig") and not (v.get("InstanceType") and v.get("InitialInstanceCount")):
            return f"ProductionVariants[{v.get('VariantName')}]: needs InstanceType and InitialInstanceCount"
    return ""


def _scaling(params: dict) -> str:
    if params.get("MinCapacity", 0) > params.get("MaxCapacity", 0):
        return f"MinCapacity {params['MinCapacity']} is above MaxCapacity {params['MaxCapacity']}"
    return ""


def _serverless_memory(params: dict) -> str:
    for v in params.get("ProductionVariants") or []:
        memory = (v.get("ServerlessConfig") or {}).get("MemorySizeInMB")
        if memory is not None and memory % 1024:
            return (f"ProductionVariants[{v.get('VariantName')}].ServerlessConfig.MemorySizeInMB must be "
                    "1024..6144 in steps of 1024")
    return ""


EXTRA_RULES = {
    "UpdateEndpoint": (_canary,),
    "CreateEndpointConfig": (_variants, _serverless_memory),
    "RegisterScalableTarget": (_scaling,),
}
