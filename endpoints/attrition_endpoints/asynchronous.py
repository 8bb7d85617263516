"""InvokeEndpointAsync: the request's input is read from the S3 stand-in, sent through the
balancer like any invocation, and the answer written to <S3OutputPath>/<InferenceId>.out (a
failure, with its reason, to <S3FailurePath or S3OutputPath>/<InferenceId>-error.out).

Each endpoint has its own queue: MaxConcurrentInvocationsPerInstance requests per instance run
at once, at most QUEUE_LIMIT wait; beyond that the caller gets ThrottlingException."""

import http.client
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from .records import Request

QUEUE_LIMIT = 1000
DEFAULT_PER_INSTANCE = 4


class Refused(Exception):
    """The runtime's error for this request: its code and message."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.status = code, status


@dataclass(frozen=True)
class Job:
    endpoint: str
    inference_id: str
    input: str
    content_type: str
    accept: str
    custom_attributes: str
    output: str
    failure: str


class AsyncInvocations:
    def __init__(self, s3: Any, runtime_port: int):
        self.s3, self.runtime_port = s3, runtime_port
        self.pools: dict[str, ThreadPoolExecutor] = {}
        self.waiting: dict[str, int] = {}
        self.lock = threading.Lock()

    def submit(self, endpoint: str, config: Request, instances: int, headers: dict[str, str]) -> Job:
        """Queue one request (headers: the runtime's, lower-cased); the job, or Refused."""
        settings = config.get("AsyncInferenceConfig")
        if not settings:
            raise Refused("ValidationError", f"Endpoint {endpoint} is not an asynchronous endpoint "
                                             "(its configuration has no AsyncInferenceConfig).")
        where = headers.get("x-amzn-sagemaker-inputlocation", "")
        if not where.startswith("s3://") or "/" not in where.removeprefix("s3://"):
            raise Refused("ValidationError", f"InputLocation must be an s3:// URI of an object, not {where!r}.")
        identity = headers.get("x-amzn-sagemaker-inference-id") or str(uuid.uuid4())
        output = settings["OutputConfig"]["S3OutputPath"].rstrip("/")
        failure = settings["OutputConfig"].get("S3FailurePath", output).rstrip("/")
        job = Job(endpoint, identity, where, headers.get("x-amzn-sagemaker-content-type", "application/octet-stream"),
                  headers.get("x-amzn-sagemaker-accept", "application/json"),
                  headers.get("x-amzn-sagemaker-custom-attributes", ""),
                  f"{output}/{identity}.out", f"{failure}/{identity}-error.out")
        per_instance = int(settings.get("ClientConfig", {}).get("MaxConcurrentInvocationsPerInstance",
                                                                 DEFAULT_PER_INSTANCE))
        with self.lock:
            if self.waiting.get(endpoint, 0) >= QUEUE_LIMIT:
                raise Refused("ThrottlingException", f"The queue of endpoint {endpoint} holds {QUEUE_LIMIT} "
                                                     "requests: try again later.")
            if endpoint not in self.pools:
                self.pools[endpoint] = ThreadPoolExecutor(max(1, per_instance * instances),
                                                          thread_name_prefix=f"async-{endpoint}")
            self.waiting[endpoint] = self.waiting.get(endpoint, 0) + 1
            self.pools[endpoint].submit(self._run, job)
        return job

    def forget(self, endpoint: str) -> None:
        """The endpoint is gone: its queue finishes what it holds, then stops."""
        with self.lock:
            pool = self.pools.pop(endpoint, None)
        if pool:
            pool.shutdown(wait=False)

    def _run(self, job: Job) -> None:
        try:
            status, body = self._invoke(job, self._read(job.input))
            if status == 200:
                self._write(job.output, body)
            else:
                self._write(job.failure, body)
        except Refused as error:
            self._write(job.failure, json.dumps({"ErrorCode": error.code, "Message": str(error)}).encode())
        finally:
            with self.lock:
                self.waiting[job.endpoint] -= 1

    def _read(self, uri: str) -> bytes:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        try:
            return bytes(self.s3().get_object(Bucket=bucket, Key=key)["Body"].read())
        except Exception as error:  # botocore's: no such key or bucket, S3 not answering
            raise Refused("ValidationError", f"Could not read the input {uri}: {error}") from None

    def _write(self, uri: str, body: bytes) -> None:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        try:
            self.s3().put_object(Bucket=bucket, Key=key, Body=body)
        except Exception as error:  # the answer cannot be stored: say so in the service's log
            print(f"local-endpoints: could not write {uri}: {error}", flush=True)

    def _invoke(self, job: Job, body: bytes) -> tuple[int, bytes]:
        """Through the balancer, as a synchronous invocation would go."""
        connection = http.client.HTTPConnection("127.0.0.1", self.runtime_port, timeout=3600)
        headers = {"Content-Type": job.content_type, "Accept": job.accept,
                   "X-Amzn-SageMaker-Inference-Id": job.inference_id}
        if job.custom_attributes:
            headers["X-Amzn-SageMaker-Custom-Attributes"] = job.custom_attributes
        try:
            connection.request("POST", f"/endpoints/{job.endpoint}/invocations", body=body, headers=headers)
            answer = connection.getresponse()
            return answer.status, answer.read()
        except OSError as error:
            raise Refused("InternalFailure", f"The endpoint did not answer: {error}") from None
        finally:
            connection.close()
