"""Captured data to the S3 stand-in: the instances append SageMaker's capture records to files
under capture/<bucket>/<prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/; every few seconds, and
once more when an endpoint is deleted or the service stops, each file that grew is uploaded
whole to s3://<bucket>/<prefix>/... (the same key), so what S3 holds equals what was answered."""

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

INTERVAL_S = 5.0


class Uploader:
    def __init__(self, root: Path, s3: Callable[[], Any]):
        self.root, self.s3 = root, s3
        self.sent: dict[Path, int] = {}
        self.lock = threading.Lock()
        self.problem = ""  # the last upload error, said once in the service's log

    def sync(self) -> None:
        with self.lock:
            for path in sorted(self.root.rglob("*.jsonl")) if self.root.exists() else []:
                size = path.stat().st_size
                if self.sent.get(path) == size:
                    continue
                bucket, *key = path.relative_to(self.root).parts
                try:
                    self.s3().upload_file(str(path), bucket, "/".join(key))
                except Exception as error:  # S3 not answering, no bucket: the files stay, tried again
                    if str(error) != self.problem:
                        self.problem = str(error)
                        print(f"local-endpoints: capture upload to s3://{bucket} failed, kept on disk: {error}",
                              flush=True)
                    continue
                self.sent[path] = size

    def every(self, stop: threading.Event) -> None:
        while not stop.wait(INTERVAL_S):
            self.sync()
