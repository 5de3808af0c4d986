"""The training job's entry point (sagemaker_program): the toolkit runs it from the source dir."""

from modeldrop_ml.train import run

if __name__ == "__main__":
    raise SystemExit(run())
