"""Create the stack from template.yaml itself on the embedded AWS: SAM translated offline, then moto's CloudFormation.

Gaps in moto, and how they are covered:
- moto cannot read a SAM template: aws-sam-translator turns it into plain CloudFormation first, with each local
  CodeUri/ContentUri zipped and uploaded to a deployment bucket (what `sam deploy` does with S3).
- moto keeps `AWS::NoValue` as a null in lists (conditional IAM policies) and fails: conditions are resolved first.
- moto's CloudFormation also skips the types in KNOWN_CLOUDFORMATION_GAPS below. None changes what runs on a laptop:
  alarms and the dashboard watch AWS's own metrics, the bucket policy only denies non-TLS access, and
  EventInvokeConfig's retries and dead-letter destination belong to Lambda's async machinery, which the in-process
  runtime replaces (a failed invocation is reported by `drain()` instead).
- moto's CloudFormation skips AWS::Scheduler::Schedule (the ScheduleV2 events): the template's schedule expressions
  are returned here, and the local clock loop (greenai.local.clockwork) fires those functions on that cadence.
- moto's Lambda cannot run code without Docker: each function is registered with the in-process runtime, with the
  environment CloudFormation resolved for it, so invokes through boto3 run the real handler.
"""

from __future__ import annotations

import copy
import io
import json
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from greenai.adapters.aws import client, region_name
from greenai.local.runtime import DeployedFunction, LocalLambdaRuntime

DEPLOY_BUCKET = "greenai-local-deployment"
KNOWN_CLOUDFORMATION_GAPS = ("AWS::Scheduler::Schedule", "AWS::Lambda::EventInvokeConfig", "AWS::S3::BucketPolicy",
                             "AWS::CloudWatch::Alarm", "AWS::CloudWatch::Dashboard")


def project_root() -> Path:
    """The repository root (where template.yaml is), found from this package's location or the working directory."""
    for start in (Path(__file__).resolve(), Path.cwd().resolve()):
        for folder in (start, *start.parents):
            if (folder / "template.yaml").is_file() and (folder / "functions").is_dir():
                return folder
    raise FileNotFoundError("template.yaml not found: run from the greenai repository")


def load_template(path: Path) -> dict[str, Any]:
    from samtranslator.yaml_helper import yaml_parse

    return yaml_parse(path.read_text())  # type: ignore[no-any-return]


def _zip_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file() and "__pycache__" not in file.parts:
                archive.write(file, file.relative_to(folder))
    return buffer.getvalue()


@dataclass(frozen=True)
class RecurringSchedule:
    """A ScheduleV2 event of the template, which moto's CloudFormation does not create."""

    function_logical_id: str
    function_name: str
    expression: str
    payload: str


@dataclass(frozen=True)
class LocalStack:
    name: str
    outputs: dict[str, str]
    recurring: tuple[RecurringSchedule, ...]

    def schedule_for(self, function_logical_id: str) -> RecurringSchedule:
        return next(s for s in self.recurring if s.function_logical_id == function_logical_id)


def _scheduled_events(template: dict[str, Any], parameters: dict[str, str]) -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event in (resource.get("Properties", {}).get("Events") or {}).values():
            if event.get("Type") in ("ScheduleV2", "Schedule"):
                expression = event["Properties"]["ScheduleExpression"]
                if isinstance(expression, dict) and "Ref" in expression:
                    ref = expression["Ref"]
                    expression = parameters.get(ref) or template["Parameters"][ref]["Default"]
                found.append((logical_id, expression, event["Properties"].get("Input", "{}")))
    return found


class _OfflinePolicies:
    """The AWS managed policies SAM attaches, by ARN, so a template translates without asking IAM."""

    def load(self) -> dict[str, str]:
        base = "arn:aws:iam::aws:policy/"
        return {"AWSLambdaBasicExecutionRole": base + "service-role/AWSLambdaBasicExecutionRole",
                "AWSXrayWriteOnlyAccess": base + "AWSXrayWriteOnlyAccess",
                "AWSXRayDaemonWriteAccess": base + "AWSXRayDaemonWriteAccess"}


def translate(template: dict[str, Any], parameters: dict[str, str],
              upload: Callable[[str, Path], str] | None = None, root: Path | None = None) -> dict[str, Any]:
    """SAM → CloudFormation, offline. Local CodeUri/ContentUri folders become s3:// URIs: uploaded where `upload`
    is given (the embedded AWS), placeholders otherwise (for tests that read the translated template)."""
    from samtranslator.translator.transform import transform

    root = root or project_root()
    template = copy.deepcopy(template)
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str) and not properties[key].startswith("s3://"):
                folder = (root / properties[key]).resolve()
                properties[key] = upload(logical_id, folder) if upload else f"s3://offline-placeholder/{logical_id}.zip"
    os.environ.setdefault("AWS_DEFAULT_REGION", region_name())
    return transform(template, parameters, _OfflinePolicies())  # type: ignore[no-any-return]


_NO_VALUE = {"Ref": "AWS::NoValue"}


def resolve_conditions(template: dict[str, Any], parameters: dict[str, str]) -> dict[str, Any]:
    """Evaluate `Fn::If` on the template's own Conditions and drop `AWS::NoValue`.

    moto's CloudFormation keeps `AWS::NoValue` as a null inside lists (an IAM role's Policies, say) and fails on it;
    AWS drops it. Conditions here compare parameters (`Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or`), which is all
    the template uses.
    """
    values = {name: parameters.get(name, spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()}

    def evaluate(expression: Any) -> Any:
        if isinstance(expression, dict) and len(expression) == 1:
            (key, argument), = expression.items()
            if key == "Ref" and argument in values:
                return values[argument]
            if key == "Fn::Equals":
                return str(evaluate(argument[0])) == str(evaluate(argument[1]))
            if key == "Fn::Not":
                return not evaluate(argument[0])
            if key == "Fn::And":
                return all(evaluate(a) for a in argument)
            if key == "Fn::Or":
                return any(evaluate(a) for a in argument)
            if key == "Condition":
                return conditions[argument]
        return expression

    conditions: dict[str, bool] = {}
    for name, expression in template.get("Conditions", {}).items():
        conditions[name] = bool(evaluate(expression))

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Fn::If"} and node["Fn::If"][0] in conditions:
                name, when_true, when_false = node["Fn::If"]
                return walk(when_true if conditions[name] else when_false)
            return {k: v for k, v in ((k, walk(v)) for k, v in node.items()) if v != _NO_VALUE}
        if isinstance(node, list):
            return [v for v in (walk(item) for item in node) if v != _NO_VALUE]
        return node

    return walk(template)  # type: ignore[no-any-return]


def deploy(runtime: LocalLambdaRuntime, stack_name: str = "greenai", parameters: dict[str, str] | None = None,
           root: Path | None = None) -> LocalStack:
    """Translate, upload code, create the stack, register every function with the runtime; returns Outputs."""
    root = root or project_root()
    parameters = parameters or {}
    template = load_template(root / "template.yaml")
    s3 = client("s3")
    s3.create_bucket(Bucket=DEPLOY_BUCKET, CreateBucketConfiguration={"LocationConstraint": region_name()})
    code_dirs: dict[str, Path] = {}

    def upload(logical_id: str, folder: Path) -> str:
        object_key = f"{stack_name}/{logical_id}.zip"
        s3.put_object(Bucket=DEPLOY_BUCKET, Key=object_key, Body=_zip_folder(folder))
        code_dirs[logical_id] = folder
        return f"s3://{DEPLOY_BUCKET}/{object_key}"

    translated = translate(template, parameters, upload, root)
    scheduled_events = _scheduled_events(template, parameters)
    cloudformation = client("cloudformation")
    cloudformation.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(resolve_conditions(translated, parameters)),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    cloudformation.get_waiter("stack_create_complete").wait(StackName=stack_name, WaiterConfig={"Delay": 1})
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}

    lambda_client = client("lambda")
    names: dict[str, str] = {}
    for resource in cloudformation.describe_stack_resources(StackName=stack_name)["StackResources"]:
        if resource.get("ResourceType") != "AWS::Lambda::Function":
            continue
        logical_id = resource["LogicalResourceId"]
        config = lambda_client.get_function_configuration(FunctionName=resource["PhysicalResourceId"])
        names[logical_id] = config["FunctionName"]
        runtime.register(DeployedFunction(
            name=config["FunctionName"],
            arn=config["FunctionArn"],
            code_dir=code_dirs[logical_id],
            handler_spec=config["Handler"],
            environment={k: str(v) for k, v in config.get("Environment", {}).get("Variables", {}).items()},
            memory_mb=int(config.get("MemorySize", 128)),
        ))
    recurring = tuple(RecurringSchedule(logical_id, names[logical_id], expression, payload)
                      for logical_id, expression, payload in scheduled_events)
    return LocalStack(stack_name, outputs, recurring)


def stack_outputs(stack_name: str = "greenai") -> dict[str, str]:
    """Find bucket, tables and functions through the stack's Outputs (embedded AWS or real)."""
    stack = client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
