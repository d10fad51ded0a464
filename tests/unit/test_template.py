"""template.yaml, translated offline exactly as the embedded AWS deploys it: the properties code and users rely on."""

from __future__ import annotations

import json
from functools import cache

import pytest

from greenai.adapters.dynamodb import STATE_INDEX
from greenai.local.stack import load_template, project_root, translate


@cache
def translated(**parameters: str) -> dict:
    return translate(load_template(project_root() / "template.yaml"), dict(parameters))


def resources_of(template: dict, kind: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_functions_run_python312_with_thin_handlers_and_powertools_settings():
    functions = resources_of(translated(), "AWS::Lambda::Function")
    assert set(functions) == {"CheckFunction", "TrainFunction", "ReportFunction", "TrainingDoneFunction"}
    for function in functions.values():
        properties = function["Properties"]
        assert properties["Runtime"] == "python3.12"
        assert properties["Handler"] == "app.lambda_handler"
        variables = properties["Environment"]["Variables"]
        assert variables["POWERTOOLS_SERVICE_NAME"] == "greenai"
        assert properties["TracingConfig"] == {"Mode": "Active"}
    assert functions["TrainFunction"]["Properties"]["Timeout"] == 900


def test_check_runs_every_30_minutes_through_eventbridge_scheduler_with_its_role():
    schedules = resources_of(translated(), "AWS::Scheduler::Schedule")
    check = next(s for s in schedules.values() if "CheckFunction" in json.dumps(s["Properties"]["Target"]))
    assert check["Properties"]["ScheduleExpression"] == {"Ref": "CheckSchedule"}
    assert translated()["Parameters"]["CheckSchedule"]["Default"] == "rate(30 minutes)"
    role = translated()["Resources"]["SchedulerRole"]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "scheduler.amazonaws.com"}


def test_jobs_table_has_the_state_index_the_job_store_queries():
    table = translated()["Resources"]["JobsTable"]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": "job_id", "KeyType": "HASH"}]
    index = table["GlobalSecondaryIndexes"][0]
    assert index["IndexName"] == STATE_INDEX
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["state", "job_id"]


def test_outputs_name_everything_the_cli_looks_up():
    outputs = translated()["Outputs"]
    for key in ("BucketName", "JobsTableName", "EvidenceTableName", "DecisionsTableName", "CheckFunctionName",
                "CheckFunctionArn", "TrainFunctionName", "ReportFunctionName", "SchedulerRoleArn"):
        assert key in outputs


@pytest.mark.parametrize("function", ["CheckFunction", "TrainFunction", "TrainingDoneFunction"])
def test_provider_credentials_are_references_read_at_run_time_never_values(function):
    template = translated(ElectricityMapsTokenParameter="greenai/em-token", WattTimeSecretName="greenai/watttime")
    variables = template["Resources"][function]["Properties"]["Environment"]["Variables"]
    assert variables["GREENAI_ELECTRICITYMAPS_TOKEN_REF"]["Fn::If"][1] == {"Fn::Sub": "ssm:/${ElectricityMapsTokenParameter}"}
    policies = json.dumps(template["Resources"][f"{function}Role"]["Properties"]["Policies"])
    assert "ssm:GetParameter" in policies and "secretsmanager:GetSecretValue" in policies
    assert "HasElectricityMaps" in policies and "HasWattTime" in policies  # only when configured


def test_the_bucket_blocks_public_access_and_encrypts():
    bucket = translated()["Resources"]["EvidenceBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]


def test_conditions_resolve_for_the_embedded_aws_as_cloudformation_would():
    from greenai.local.stack import resolve_conditions

    without = resolve_conditions(translated(), {})
    policies = json.dumps(without["Resources"]["CheckFunctionRole"]["Properties"]["Policies"])
    assert "secretsmanager" not in policies and "AWS::NoValue" not in policies and "null" not in policies
    parameters = {"WattTimeSecretName": "greenai/watttime"}
    with_wt = resolve_conditions(translated(**parameters), parameters)
    assert "secretsmanager:GetSecretValue" in json.dumps(with_wt["Resources"]["CheckFunctionRole"]["Properties"])


def _allow_statements(template: dict) -> list[tuple[str, dict]]:
    found = []
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        for policy in resource["Properties"].get("Policies", []):
            statements = policy["PolicyDocument"]["Statement"]
            for statement in statements if isinstance(statements, list) else [statements]:
                if statement.get("Effect") == "Allow":
                    found.append((name, statement))
    return found


def test_no_wildcard_actions_and_resources_scoped_to_this_stack():
    from greenai.local.stack import resolve_conditions

    parameters = {"ElectricityMapsTokenParameter": "greenai/em", "WattTimeSecretName": "greenai/wt"}
    template = resolve_conditions(translated(**parameters), parameters)
    statements = _allow_statements(template)
    assert statements
    for role, statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions), (role, actions)
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        assert "*" not in resources, (role, statement)
    passes = [s for _, s in statements if "iam:PassRole" in json.dumps(s["Action"])]
    assert passes and all(s["Resource"] == {"Fn::GetAtt": ["SchedulerRole", "Arn"]} for s in passes
                          if s["Resource"] != {"Fn::GetAtt": ["SageMakerExecutionRole", "Arn"]})
    sagemaker = [s for s in passes if s["Resource"] == {"Fn::GetAtt": ["SageMakerExecutionRole", "Arn"]}]
    assert [s["Condition"] for s in sagemaker] == [{"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}]


def test_data_is_protected_bucket_tls_only_versioned_with_lifecycle_tables_encrypted_with_pitr():
    resources = translated()["Resources"]
    bucket = resources["EvidenceBucket"]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = {rule["Id"]: rule for rule in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-dated-reports"]["Prefix"] == "reports/2"  # dated folders, never reports/latest/
    deny = resources["EvidenceBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    for table in ("JobsTable", "EvidenceTable", "DecisionsTable"):
        properties = resources[table]["Properties"]
        assert properties["SSESpecification"] == {"SSEEnabled": True}
        assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert resources["DecisionsTable"]["Properties"]["TimeToLiveSpecification"]["AttributeName"] == "expires_at"


def test_failures_are_caught_retried_dead_lettered_and_alarmed():
    resources = translated()["Resources"]
    configs = resources_of(translated(), "AWS::Lambda::EventInvokeConfig")
    assert {c["Properties"]["FunctionName"]["Ref"] for c in configs.values()} == {
        "CheckFunction", "TrainFunction", "ReportFunction", "TrainingDoneFunction"}
    for config in configs.values():
        assert config["Properties"]["MaximumRetryAttempts"] == 2
        assert config["Properties"]["DestinationConfig"]["OnFailure"]["Destination"] == {
            "Fn::GetAtt": ["DeadLetterQueue", "Arn"]}
    for schedule in resources_of(translated(), "AWS::Scheduler::Schedule").values():
        assert schedule["Properties"]["Target"]["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}}
    assert resources["TrainFunction"]["Properties"]["ReservedConcurrentExecutions"] == {"Ref": "TrainConcurrency"}
    alarms = resources_of(translated(), "AWS::CloudWatch::Alarm")
    watched = {(a["Properties"]["MetricName"], json.dumps(a["Properties"]["Dimensions"])) for a in alarms.values()}
    for function in ("CheckFunction", "TrainFunction", "ReportFunction", "TrainingDoneFunction"):
        for metric in ("Errors", "Throttles"):
            assert (metric, json.dumps([{"Name": "FunctionName", "Value": {"Ref": function}}])) in watched
    assert all(a["Properties"]["AlarmActions"] == [{"Ref": "AlertTopic"}] for a in alarms.values())
    assert "DeadLetterAlarm" in alarms


def test_the_carbon_budget_alerts_through_sns_with_an_optional_email():
    resources = translated()["Resources"]
    budget = resources["CarbonBudgetAlarm"]["Properties"]
    assert budget["MetricName"] == "MonthToDateKgCO2e" and budget["Threshold"] == {"Ref": "MonthlyCarbonBudgetKg"}
    assert resources["AlertEmailSubscription"]["Condition"] == "HasAlertEmail"
    assert resources["AlertTopic"]["Properties"]["KmsMasterKeyId"] == "alias/aws/sns"
    assert "MonthToDateKgCO2e" in json.dumps(resources["Dashboard"]["Properties"]["DashboardBody"])


def test_every_security_scan_skip_is_explained():
    template = load_template(project_root() / "template.yaml")
    skips = [(name, skip) for name, resource in template["Resources"].items()
             for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])]
    assert skips
    for name, skip in skips:
        assert skip["id"].startswith("CKV_") and len(skip.get("comment", "")) > 40, name


def test_check_and_report_concurrency_is_capped_too():
    resources = translated()["Resources"]
    assert resources["CheckFunction"]["Properties"]["ReservedConcurrentExecutions"] == 2
    assert resources["ReportFunction"]["Properties"]["ReservedConcurrentExecutions"] == 2


def test_sagemaker_jobs_get_a_least_privilege_role_and_their_state_changes_reach_the_completion_handler():
    resources = translated()["Resources"]
    role = resources["SageMakerExecutionRole"]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    granted = json.dumps(role["Policies"])
    for prefix in ("/code/sagemaker/*", "/datasets/*", "/sagemaker/*"):
        assert prefix in granted
    assert "dynamodb" not in granted and "lambda" not in granted  # the training job records nothing itself
    rules = resources_of(translated(), "AWS::Events::Rule")
    pattern = next(r["Properties"]["EventPattern"] for r in rules.values() if "aws.sagemaker" in json.dumps(r))
    assert pattern["detail-type"] == ["SageMaker Training Job State Change"]
    assert pattern["detail"]["TrainingJobName"] == [{"prefix": {"Fn::Sub": "${AWS::StackName}-"}}]
    check = json.dumps(resources["CheckFunctionRole"]["Properties"]["Policies"])
    assert "sagemaker:CreateTrainingJob" in check and '"aws:RequestTag/greenai:stack": {"Ref": "AWS::StackName"}' in check
    variables = resources["CheckFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["GREENAI_SAGEMAKER_JOB_PREFIX"] == {"Ref": "AWS::StackName"}
