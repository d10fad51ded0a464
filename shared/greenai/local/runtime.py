"""An in-process Lambda runtime for the embedded AWS: moto stores functions but cannot run them without Docker.

The moto server's Invoke is routed here, so `lambda.invoke` through boto3 really runs the function's handler (loaded
from its CodeUri folder) with the environment CloudFormation gave the function: synchronously for RequestResponse,
on a worker thread for Event (async) invocations, which `drain()` waits for.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import threading
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Handler = Callable[[Any, Any], Any]


@dataclass
class LambdaContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


@dataclass
class DeployedFunction:
    """A function as CloudFormation created it; its handler is imported on the first invoke, inside its environment
    (as a Lambda cold start does), so module-level Powertools objects read the function's settings."""

    name: str
    arn: str
    code_dir: Path
    handler_spec: str
    environment: dict[str, str]
    memory_mb: int
    handler: Handler | None = None


@dataclass
class Invocation:
    function: str
    event: Any
    result: Any = None
    error: str | None = None


def load_handler(code_dir: Path, handler_spec: str) -> Handler:
    """Import `app.lambda_handler` from a function's folder under a unique module name."""
    module_name, _, attribute = handler_spec.rpartition(".")
    path = code_dir / f"{module_name.replace('.', '/')}.py"
    spec = importlib.util.spec_from_file_location(f"greenai_fn_{code_dir.name}_{module_name}", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"no handler module at {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, attribute)  # type: ignore[no-any-return]


class LocalLambdaRuntime:
    def __init__(self, max_workers: int = 4) -> None:
        self.functions: dict[str, DeployedFunction] = {}
        self.overrides: dict[str, str] = {}  # applied over each function's environment (quieter logs on a laptop)
        self.invocations: list[Invocation] = []
        self._pending: list[Future[Any]] = []
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="lambda")
        # Handlers read settings from os.environ, so one invocation at a time gets its function's environment.
        self._env_lock = threading.RLock()
        self._list_lock = threading.Lock()

    def register(self, function: DeployedFunction) -> None:
        self.functions[function.name] = function
        self.functions[function.arn] = function

    def find(self, name: str) -> DeployedFunction | None:
        """By name or ARN (a qualified ARN's last part is the name)."""
        return self.functions.get(name) or self.functions.get(name.rsplit(":", 1)[-1])

    def knows(self, name: str) -> bool:
        return self.find(name) is not None

    def _run(self, function: DeployedFunction, event: Any) -> Invocation:
        """Run the handler; a failure is kept on the invocation (as Lambda reports it), not raised."""
        record = Invocation(function.name, event)
        with self._list_lock:
            self.invocations.append(record)
        context = LambdaContext(function.name, function.memory_mb, function.arn)
        with self._env_lock:
            saved = dict(os.environ)
            os.environ.update(function.environment)
            os.environ.update(self.overrides)
            os.environ["AWS_LAMBDA_FUNCTION_NAME"] = function.name
            os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = str(function.memory_mb)
            try:
                if function.handler is None:
                    function.handler = load_handler(function.code_dir, function.handler_spec)
                record.result = function.handler(event, context)
            except Exception as exc:
                record.error = f"{type(exc).__name__}: {exc}"
                record.result = {"errorMessage": str(exc), "errorType": type(exc).__name__,
                                 "stackTrace": traceback.format_exc().splitlines()}
            finally:
                os.environ.clear()
                os.environ.update(saved)
        return record

    def invoke(self, name: str, payload: bytes | str | None, asynchronous: bool) -> bytes:
        function = self.find(name)
        if function is None:
            raise KeyError(f"function {name} is not deployed in the embedded AWS")
        event = json.loads(payload) if payload else {}
        if asynchronous:
            future = self._pool.submit(self._run, function, event)
            with self._list_lock:
                self._pending.append(future)
            return b""
        return json.dumps(self._run(function, event).result, default=str).encode()

    def background(self, work: Callable[[], Any]) -> None:
        """Work the embedded AWS does after it has answered (a SageMaker training job); drain() waits for it too."""

        def run() -> None:
            try:
                work()
            except Exception:
                logging.getLogger(__name__).exception("background work failed")

        future = self._pool.submit(run)
        with self._list_lock:
            self._pending.append(future)

    def drain(self, timeout_s: float = 600) -> list[Invocation]:
        """Wait for every async invocation so far (and those they started); return the failed ones."""
        while True:
            with self._list_lock:
                pending, self._pending = self._pending, []
            if not pending:
                break
            for future in pending:
                future.result(timeout=timeout_s)  # failures are kept on their invocation, returned below
        return [i for i in self.invocations if i.error]

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)
