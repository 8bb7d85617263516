"""Captured records reach the S3 stand-in (moto in server mode): each file that grew, whole, at
the same key; nothing twice; a failure keeps the files for the next try."""

import boto3

from attrition_endpoints.captures import Uploader


def client(url: str):
    return boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                 region_name="us-east-1").client("s3", endpoint_url=url)


def test_files_that_grew_are_uploaded_whole_at_their_key(moto_server, tmp_path):
    s3 = client(moto_server)
    s3.create_bucket(Bucket="hr-data")
    hour = tmp_path / "hr-data" / "capture" / "e" / "main" / "2026" / "12" / "05" / "20"
    hour.mkdir(parents=True)
    (hour / "capture-7.jsonl").write_text('{"n": 1}\n')
    uploader = Uploader(tmp_path, lambda: s3)
    uploader.sync()
    key = "capture/e/main/2026/12/05/20/capture-7.jsonl"
    assert s3.get_object(Bucket="hr-data", Key=key)["Body"].read() == b'{"n": 1}\n'
    with (hour / "capture-7.jsonl").open("a") as more:
        more.write('{"n": 2}\n')
    uploader.sync()
    assert s3.get_object(Bucket="hr-data", Key=key)["Body"].read().count(b"\n") == 2


def test_a_bucket_that_is_not_there_keeps_the_files_for_the_next_try(moto_server, tmp_path, capsys):
    s3 = client(moto_server)
    folder = tmp_path / "missing-bucket" / "e" / "v"
    folder.mkdir(parents=True)
    (folder / "capture-1.jsonl").write_text("{}\n")
    uploader = Uploader(tmp_path, lambda: s3)
    uploader.sync()
    uploader.sync()
    assert capsys.readouterr().out.count("capture upload to s3://missing-bucket failed, kept on disk") == 1
    s3.create_bucket(Bucket="missing-bucket")
    uploader.sync()
    assert s3.list_objects_v2(Bucket="missing-bucket")["KeyCount"] == 1
