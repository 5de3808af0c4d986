"""Inference handlers for the SageMaker PyTorch serving toolkit (batch transform and endpoints).

A request is one image (PNG or JPEG bytes, content type ``application/x-image``, ``image/png``
or ``image/jpeg``); the answer is one line of JSON (``application/jsonlines`` or ``application/json``)::

    {"label": "circles", "probabilities": {"circles": 0.97, "squares": 0.03}}

train.py and evaluate.py use ``image_pixels`` and these handlers too, so an image becomes the
network's input in one way only.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torchvision
from PIL import Image

IMAGE_TYPES = {"application/x-image", "image/png", "image/jpeg"}
# modeldrop's batch transform asks for JSON lines; one image makes one line either way.
JSON_TYPES = {"application/jsonlines", "application/json", "*/*", ""}


def image_pixels(image: Image.Image, image_size: int) -> np.ndarray:
    """An image as float32 HxWx3 in [0, 1], resized to image_size x image_size."""
    resized = image.convert("RGB").resize((image_size, image_size), Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.float32) / 255.0


def model_fn(model_dir: str) -> dict[str, Any]:
    folder = Path(model_dir)
    description = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    network = torchvision.models.resnet18(weights=None, num_classes=len(description["classes"]))
    network.load_state_dict(torch.load(folder / "model.pth", map_location="cpu", weights_only=True))
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return {**description, "network": network.to(device).eval(), "device": device}


def input_fn(body: bytes | bytearray, content_type: str) -> Image.Image:
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type not in IMAGE_TYPES:
        raise ValueError(
            f"unsupported content type {content_type!r}; send one image as {sorted(IMAGE_TYPES)}"
        )
    with Image.open(io.BytesIO(bytes(body))) as image:
        image.load()
        return image.convert("RGB")


def predict_fn(data: Image.Image, model: dict[str, Any]) -> dict[str, Any]:
    pixels = (image_pixels(data, model["image_size"]) - model["mean"]) / model["std"]
    batch = torch.from_numpy(pixels.astype(np.float32)).permute(2, 0, 1).unsqueeze(0)
    with torch.no_grad():
        logits = model["network"](batch.to(model["device"]))
        probabilities = torch.softmax(logits, dim=1)[0].cpu().tolist()
    classes = model["classes"]
    best = int(np.argmax(probabilities))
    return {
        "label": classes[best],
        "probabilities": {name: round(probabilities[i], 6) for i, name in enumerate(classes)},
    }


def output_fn(prediction: dict[str, Any], accept: str) -> str:
    media_type = (accept or "").split(";")[0].strip().lower()
    if media_type not in JSON_TYPES:
        raise ValueError(f"unsupported accept type {accept!r}; this model answers JSON")
    return json.dumps(prediction) + "\n"
