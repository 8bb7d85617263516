"""Print the SageMaker pipeline's definition JSON, for `attrition-deploy pipeline upsert --definition`:

    attrition-pipeline-definition --region R --role ARN --bucket B --image URI --input s3://... > definition.json

Only the definition goes to stdout: the SageMaker SDK prints notices from its import on, and those
go to stderr.
"""

import argparse
import contextlib
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="attrition-pipeline-definition", description=__doc__.splitlines()[0])
    parser.add_argument("--region", required=True, help="AWS region")
    parser.add_argument("--role", required=True, help="the execution role ARN")
    parser.add_argument("--bucket", required=True, help="the default bucket")
    parser.add_argument("--image", required=True, help="the image URI in ECR")
    parser.add_argument("--input", required=True, help="s3:// prefix of the HR export")
    options = parser.parse_args(argv)
    out = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):
        import boto3
        from sagemaker.workflow.pipeline_context import PipelineSession

        from attrition_pipelines.sagemaker_pipeline import get_pipeline

        session = PipelineSession(boto_session=boto3.Session(region_name=options.region), default_bucket=options.bucket)
        definition = get_pipeline(options.region, role=options.role, default_bucket=options.bucket,
                                  image_uri=options.image, input_data_uri=options.input,
                                  sagemaker_session=session).definition()
    print(definition, file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
