"""The serving entry point (SAGEMAKER_PROGRAM): the inference toolkit imports these handlers."""

from modeldrop_ml.inference import input_fn, model_fn, output_fn, predict_fn

__all__ = ["input_fn", "model_fn", "output_fn", "predict_fn"]
