"""Start and stop the embedded AWS: a moto server on 127.0.0.1 and a free port, with Lambda invokes run in-process."""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from greenai.local.runtime import LocalLambdaRuntime
from greenai.local.stack import KNOWN_CLOUDFORMATION_GAPS

LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _skip_known_cloudformation_gaps(record: logging.LogRecord) -> bool:
    """moto logs each resource type it skips; stack.py documents these and why a laptop run does not need them."""
    return not any(kind in record.getMessage() for kind in KNOWN_CLOUDFORMATION_GAPS)


_active_runtime: LocalLambdaRuntime | None = None
_patched = False


def _route_lambda_invokes(runtime: LocalLambdaRuntime) -> None:
    """moto's Lambda cannot run code without Docker: send its Invoke to our runtime (moto 5.1–5.2 API).

    Patched once per process; the runtime of the embedded AWS that is running now receives the invokes.
    """
    global _active_runtime, _patched
    _active_runtime = runtime
    if _patched:
        return
    from moto.awslambda.models import LambdaBackend

    original = LambdaBackend.invoke

    def invoke(self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any,
               response_headers: Any) -> bytes | str | None:
        active = _active_runtime
        if active is None or not active.knows(function_name):
            return original(self, function_name, qualifier, body, headers, response_headers)  # type: ignore[no-any-return]
        asynchronous = headers.get("X-Amz-Invocation-Type") == "Event"
        payload = active.invoke(function_name, body, asynchronous)
        if asynchronous:
            payload = b"{}"  # moto answers 202 only when a payload is returned
        response_headers["Content-Length"] = str(len(payload))
        return payload

    LambdaBackend.invoke = invoke  # type: ignore[method-assign]
    _patched = True


_active_training: Any = None
_training_patched = False


def _run_training_jobs(runtime: LocalLambdaRuntime) -> None:
    """moto records CreateTrainingJob and runs nothing: run the job locally (greenai.local.sagemaker). A name in use is
    refused, as SageMaker refuses it."""
    global _active_training, _training_patched
    from greenai.local.sagemaker import LocalTrainingJobs

    _active_training = LocalTrainingJobs(runtime)
    if _training_patched:
        return
    from moto.sagemaker.models import SageMakerModelBackend

    original = SageMakerModelBackend.create_training_job

    def create_training_job(self: Any, training_job_name: str, *args: Any, **kwargs: Any) -> Any:
        from moto.sagemaker.exceptions import ResourceInUseException

        if training_job_name in self.training_jobs:  # SageMaker keeps names for good; moto would overwrite
            raise ResourceInUseException(f"Training job {training_job_name} already exists")
        created = original(self, training_job_name, *args, **kwargs)
        if _active_training is not None:
            _active_training.start(training_job_name)
        return created

    SageMakerModelBackend.create_training_job = create_training_job  # type: ignore[method-assign]
    _training_patched = True


class EmbeddedAWS:
    """`with EmbeddedAWS() as aws:` sets AWS_ENDPOINT_URL (the only switch) and fake credentials for this process."""

    def __init__(self, port: int | None = None, region: str = "eu-west-2") -> None:
        self.port = port or free_port()
        self.region = region
        self.runtime = LocalLambdaRuntime()
        self._server: Any = None
        self._saved_env: dict[str, str | None] = {}

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL": self.endpoint_url, "AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region,
                **LOCAL_CREDENTIALS}

    def start(self) -> EmbeddedAWS:
        import warnings

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        logging.getLogger("moto").addFilter(_skip_known_cloudformation_gaps)
        # moto warns for each resource type its CloudFormation skips; stack.py documents and covers the one we use.
        warnings.filterwarnings("ignore", message=".*not supported by moto's CloudFormation.*")
        _route_lambda_invokes(self.runtime)
        _run_training_jobs(self.runtime)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        # moto keeps its state per process: start every embedded AWS empty.
        import requests

        requests.post(f"{self.endpoint_url}/moto-api/reset", timeout=10).raise_for_status()
        for key, value in self.environment().items():
            self._saved_env[key] = os.environ.get(key)
            os.environ[key] = value
        return self

    def stop(self) -> None:
        self.runtime.drain()
        self.runtime.shutdown()
        if self._server is not None:
            self._server.stop()
            self._server = None
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    def __enter__(self) -> EmbeddedAWS:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
