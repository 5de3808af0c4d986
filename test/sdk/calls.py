"""SageMaker Python SDK (v2) calls as modeldrop's users write them, one per subcommand.

test/integration/sagemaker-sdk.test.ts runs each in .venv-sdk against the local cloud (the
environment names the endpoint, the credentials and the SDK's defaults config) and reads the
last line it prints: ``RESULT`` and a JSON object with what a user would look at.
"""

import argparse
import io
import json
import os
import sys
import tarfile
from pathlib import Path

import boto3
import sagemaker
from botocore.exceptions import ClientError
from sagemaker.deserializers import JSONDeserializer
from sagemaker.exceptions import UnexpectedStatusException
from sagemaker.predictor import Predictor
from sagemaker.processing import FrameworkProcessor, ProcessingInput, ProcessingOutput
from sagemaker.pytorch import PyTorch, PyTorchProcessor
from sagemaker.s3 import S3Downloader
from sagemaker.serializers import CSVSerializer
from sagemaker.sklearn import SKLearn
from sagemaker.sklearn.processing import SKLearnProcessor
from sagemaker.xgboost import XGBoost

CODE = Path(__file__).parent / "code"
ROLE = "arn:aws:iam::000000000000:role/modeldrop-sagemaker"
FRAMEWORK_VERSION = "1.2-1"
PYTORCH_VERSION = "2.5.1"
PYTORCH_PY_VERSION = "py311"
XGBOOST_VERSION = "1.7-1"
INSTANCE_TYPE = "ml.m5.large"


def user_hyperparameters(estimator):
    return {k: v for k, v in estimator.hyperparameters().items() if not k.startswith("sagemaker_")}


def model_files(session, model_data):
    """The files in the job's model.tar.gz, as a user who downloads and opens it sees them."""
    archive = S3Downloader.read_bytes(model_data, sagemaker_session=session)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        return sorted(os.path.normpath(m.name) for m in tar.getmembers() if m.isfile())


def trained(session, estimator):
    return {
        "jobName": estimator.latest_training_job.name,
        "modelData": estimator.model_data,
        "modelFiles": model_files(session, estimator.model_data),
        "hyperparameters": user_hyperparameters(estimator),
    }


def pytorch_estimator(session, instance_count):
    return PyTorch(
        entry_point="train_torch.py",
        source_dir=str(CODE / "torch"),
        framework_version=PYTORCH_VERSION,
        py_version=PYTORCH_PY_VERSION,
        instance_type=INSTANCE_TYPE,
        instance_count=instance_count,
        role=ROLE,
        hyperparameters={"epochs": 1, "batch-size": 8},
        metric_definitions=[{"Name": "train:loss", "Regex": r"loss=([0-9.]+)"}],
        sagemaker_session=session,
    )


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


def fit_pytorch_call(session, args):
    estimator = pytorch_estimator(session, instance_count=1)
    estimator.fit({"training": args.input})
    return trained(session, estimator)


def fit_xgboost_call(session, args):
    estimator = XGBoost(
        entry_point="train_xgb.py",
        source_dir=str(CODE / "xgboost"),
        framework_version=XGBOOST_VERSION,
        instance_type=INSTANCE_TYPE,
        instance_count=1,
        role=ROLE,
        hyperparameters={"num-round": 5, "max-depth": 2},
        metric_definitions=[
            {"Name": "validation:logloss", "Regex": r"validation-logloss:([0-9.]+)"}
        ],
        sagemaker_session=session,
    )
    estimator.fit({"train": args.input, "validation": args.validation})
    return trained(session, estimator)


def fit_two_instances_call(session, args):
    estimator = pytorch_estimator(session, instance_count=2)
    try:
        estimator.fit({"training": args.input})
    except UnexpectedStatusException as error:
        return {
            "jobName": estimator.latest_training_job.name,
            "error": type(error).__name__,
            "status": error.actual_status,
            "message": str(error),
        }
    return {"jobName": estimator.latest_training_job.name, "error": None}


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


def pytorch_process_call(session, args):
    output = f"s3://{session.default_bucket()}/sdk/head"
    processor = PyTorchProcessor(
        framework_version=PYTORCH_VERSION,
        py_version=PYTORCH_PY_VERSION,
        role=ROLE,
        instance_type=INSTANCE_TYPE,
        instance_count=1,
        sagemaker_session=session,
    )
    processor.run(
        code="prep.py",
        source_dir=str(CODE / "prep"),
        inputs=[ProcessingInput(source=args.input, destination="/opt/ml/processing/input/data")],
        outputs=[ProcessingOutput(source="/opt/ml/processing/output", destination=output)],
        arguments=["--rows", "5"],
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


def deploy_call(session, args):
    """deploy(), predict() with the scikit-learn predictor's NumPy defaults and as CSV, a request
    the model's code cannot take, then delete_endpoint()."""
    estimator = SKLearn.attach(args.job_name, sagemaker_session=session)
    # wait=False and a 1 s poll: deploy()'s own wait sleeps 30 s before its first look.
    predictor = estimator.deploy(initial_instance_count=1, instance_type=INSTANCE_TYPE, wait=False)
    described = session.wait_for_endpoint(predictor.endpoint_name, poll=1)
    rows = [[2.1, -1.2], [-0.3, 0.4]]
    numpy_labels = predictor.predict(rows).tolist()
    csv_predictor = Predictor(
        predictor.endpoint_name,
        sagemaker_session=session,
        serializer=CSVSerializer(),
        deserializer=JSONDeserializer(),
    )
    csv_labels = csv_predictor.predict(rows)
    try:
        csv_predictor.predict([[1.0, 2.0, 3.0]])
        model_error = None
    except ClientError as error:
        model_error = {
            "code": error.response["Error"]["Code"],
            "originalStatusCode": error.response.get("OriginalStatusCode"),
            "message": error.response["Error"]["Message"],
        }
    predictor.delete_endpoint()
    # Deleting, then gone, as SageMaker's endpoint_deleted waiter sees it.
    waiter = session.sagemaker_client.get_waiter("endpoint_deleted")
    waiter.wait(EndpointName=predictor.endpoint_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    try:
        session.sagemaker_client.describe_endpoint(EndpointName=predictor.endpoint_name)
        after_delete = "still there"
    except ClientError as error:
        after_delete = error.response["Error"]["Message"]
    return {
        "endpointName": predictor.endpoint_name,
        "status": described["EndpointStatus"],
        "variants": [v["VariantName"] for v in described["ProductionVariants"]],
        "numpyLabels": numpy_labels,
        "csvLabels": csv_labels,
        "modelError": model_error,
        "afterDelete": after_delete,
    }


CALLS = {
    "session": session_call,
    "fit": fit_call,
    "fit-pytorch": fit_pytorch_call,
    "fit-xgboost": fit_xgboost_call,
    "fit-two-instances": fit_two_instances_call,
    "attach": attach_call,
    "process": process_call,
    "framework-process": framework_process_call,
    "pytorch-process": pytorch_process_call,
    "transform": transform_call,
    "deploy": deploy_call,
}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("call", choices=sorted(CALLS))
    parser.add_argument("--train-csv", help="fit: the local CSV to upload and train on")
    parser.add_argument("--job-name", help="attach, transform, deploy: the training job")
    parser.add_argument(
        "--input", help="the S3 URI of the input: the training channel, or what is processed"
    )
    parser.add_argument("--validation", help="fit-xgboost: the S3 URI of the validation channel")
    return parser.parse_args(argv)


def main(args):
    result = CALLS[args.call](sagemaker.Session(), args)
    # On a line of its own: the SDK's job progress (a failed job's status line) ends without one.
    print("\nRESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(parse_args(sys.argv[1:])))
