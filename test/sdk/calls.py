"""SageMaker Python SDK (v2) calls as modeldrop's users write them, one per subcommand.

test/integration/sagemaker-sdk.test.ts runs each in .venv-sdk against the local cloud (the
environment names the endpoint, the credentials and the SDK's defaults config) and reads the
last line it prints: ``RESULT`` and a JSON object with what a user would look at.
"""

import argparse
import json
import sys
from pathlib import Path

import boto3
import sagemaker
from botocore.exceptions import ClientError
from sagemaker.processing import FrameworkProcessor, ProcessingInput, ProcessingOutput
from sagemaker.sklearn import SKLearn
from sagemaker.sklearn.processing import SKLearnProcessor

CODE = Path(__file__).parent / "code"
ROLE = "arn:aws:iam::000000000000:role/modeldrop-sagemaker"
FRAMEWORK_VERSION = "1.2-1"
INSTANCE_TYPE = "ml.m5.large"


def user_hyperparameters(estimator):
    return {k: v for k, v in estimator.hyperparameters().items() if not k.startswith("sagemaker_")}


def session_call(session, _args):
    sts = boto3.client("sts")
    try:
        sts.get_access_key_info(AccessKeyId="AKIAIOSFODNN7EXAMPLE")
        unserved = None
    except ClientError as error:
        unserved = error.response["Error"]["Code"]
    return {
        "account": sts.get_caller_identity()["Account"],
        "region": session.boto_region_name,
        "defaultBucket": session.default_bucket(),
        "unservedStsAction": unserved,
    }


def fit_call(session, args):
    train = session.upload_data(args.train_csv, key_prefix="sdk/train")
    estimator = SKLearn(
        entry_point="train.py",
        source_dir=str(CODE),
        framework_version=FRAMEWORK_VERSION,
        instance_type=INSTANCE_TYPE,
        instance_count=1,
        role=ROLE,
        hyperparameters={"C": 0.5, "max-iter": 200},
        tags=[{"Key": "team", "Value": "modeldrop"}],
        sagemaker_session=session,
    )
    estimator.fit({"train": train})
    return {
        "jobName": estimator.latest_training_job.name,
        "modelData": estimator.model_data,
        "hyperparameters": user_hyperparameters(estimator),
    }


def attach_call(session, args):
    estimator = SKLearn.attach(args.job_name, sagemaker_session=session)
    return {
        "jobName": estimator.latest_training_job.name,
        "modelData": estimator.model_data,
        "hyperparameters": user_hyperparameters(estimator),
        "entryPoint": estimator.entry_point,
        "frameworkVersion": estimator.framework_version,
        "tags": estimator.tags,
    }


def process_call(session, args):
    output = f"s3://{session.default_bucket()}/sdk/summary"
    processor = SKLearnProcessor(
        framework_version=FRAMEWORK_VERSION,
        role=ROLE,
        instance_type=INSTANCE_TYPE,
        instance_count=1,
        sagemaker_session=session,
    )
    # The script is told its folders, as the SDK's examples do (the job's own /opt/ml, or, where
    # the local cloud cannot make a namespace, the job's folder it rewrites them to).
    processor.run(
        code=str(CODE / "process.py"),
        inputs=[ProcessingInput(source=args.input, destination="/opt/ml/processing/input")],
        outputs=[ProcessingOutput(source="/opt/ml/processing/output", destination=output)],
        arguments=[
            "--input-dir",
            "/opt/ml/processing/input",
            "--output-dir",
            "/opt/ml/processing/output",
        ],
    )
    return {"jobName": processor.latest_job.job_name, "output": output}


def framework_process_call(session, args):
    output = f"s3://{session.default_bucket()}/sdk/framework-summary"
    processor = FrameworkProcessor(
        estimator_cls=SKLearn,
        framework_version=FRAMEWORK_VERSION,
        role=ROLE,
        instance_type=INSTANCE_TYPE,
        instance_count=1,
        sagemaker_session=session,
    )
    processor.run(
        code="process.py",
        source_dir=str(CODE),
        inputs=[ProcessingInput(source=args.input, destination="/opt/ml/processing/input")],
        outputs=[ProcessingOutput(source="/opt/ml/processing/output", destination=output)],
    )
    return {"jobName": processor.latest_job.job_name, "output": output}


def transform_call(session, args):
    estimator = SKLearn.attach(args.job_name, sagemaker_session=session)
    output = f"s3://{session.default_bucket()}/sdk/predictions"
    transformer = estimator.transformer(
        instance_count=1, instance_type=INSTANCE_TYPE, output_path=output
    )
    transformer.transform(args.input, content_type="text/csv", split_type="Line")
    return {"jobName": transformer.latest_transform_job.name, "output": output}


CALLS = {
    "session": session_call,
    "fit": fit_call,
    "attach": attach_call,
    "process": process_call,
    "framework-process": framework_process_call,
    "transform": transform_call,
}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("call", choices=sorted(CALLS))
    parser.add_argument("--train-csv", help="fit: the local CSV to upload and train on")
    parser.add_argument("--job-name", help="attach, transform: the training job")
    parser.add_argument("--input", help="process, transform: the S3 URI of the input")
    return parser.parse_args(argv)


def main(args):
    result = CALLS[args.call](sagemaker.Session(), args)
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(parse_args(sys.argv[1:])))
