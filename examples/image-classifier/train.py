"""Training: ResNet-18 from random weights on the train rows of extract's metadata.csv.

Reads the `images` channel (SM_CHANNEL_IMAGES, else /opt/ml/input/data/images) and the
hyperparameters as arguments (``--epochs 5 --batch-size 16 --learning-rate 0.001``). Saves to
SM_MODEL_DIR (/opt/ml/model):

    model.pth    the network's state dict (load with torch.load(..., weights_only=True))
    model.json   what turns an image into the network's input, and its output into a label:
                 architecture, classes, image_size, mean, std

No weights are downloaded: the network starts from random weights. Images become the network's
input through inference.py's ``image_pixels``, so training and serving cannot drift apart.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torchvision
from inference import image_pixels
from PIL import Image

FAILURE_FILE = Path("/opt/ml/output/failure")  # SageMaker shows it as the job's FailureReason


class Failure(Exception):
    """A problem with the data or hyperparameters; its text is the job's failure reason."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train ResNet-18 on a folder of images.")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=0.001)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=7)
    channel = os.environ.get("SM_CHANNEL_IMAGES", "/opt/ml/input/data/images")
    parser.add_argument("--images", type=Path, default=Path(channel))
    parser.add_argument(
        "--model-dir", type=Path, default=Path(os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))
    )
    return parser.parse_args(argv)


def read_metadata(folder: Path) -> list[dict[str, str]]:
    path = folder / "metadata.csv"
    if not path.is_file():
        raise Failure(f"no metadata.csv in the images channel ({folder}); is extract its source?")
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def load_pixels(path: Path, image_size: int) -> np.ndarray:
    with Image.open(path) as image:
        return image_pixels(image, image_size)


def main(args: argparse.Namespace) -> int:
    if args.epochs < 1 or args.batch_size < 1 or args.learning_rate <= 0:
        raise Failure("epochs and batch-size must be at least 1 and learning-rate above 0")
    torch.manual_seed(args.seed)
    rows = read_metadata(args.images)
    classes = sorted({row["label"] for row in rows})
    train = [row for row in rows if row["split"] == "train"]
    if len(classes) < 2 or not train:
        raise Failure(f"need train images of at least 2 classes, found {len(train)} in {classes}")

    pixels = np.stack([load_pixels(args.images / row["path"], args.image_size) for row in train])
    mean = pixels.mean(axis=(0, 1, 2))
    std = pixels.std(axis=(0, 1, 2)) + 1e-6
    inputs = torch.from_numpy((pixels - mean) / std).permute(0, 3, 1, 2).contiguous()
    targets = torch.tensor([classes.index(row["label"]) for row in train])
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(inputs, targets),
        batch_size=args.batch_size,
        shuffle=True,
        # BatchNorm cannot train on a last batch of one image.
        drop_last=len(train) % args.batch_size == 1,
        generator=torch.Generator().manual_seed(args.seed),
    )

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = torchvision.models.resnet18(weights=None, num_classes=len(classes)).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=args.learning_rate)
    loss_fn = torch.nn.CrossEntropyLoss()
    print(f"training on {len(train)} images of {len(classes)} classes on {device}")
    started = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        total_loss, correct = 0.0, 0
        for batch, labels in loader:
            batch, labels = batch.to(device), labels.to(device)
            optimiser.zero_grad()
            logits = model(batch)
            loss = loss_fn(logits, labels)
            loss.backward()
            optimiser.step()
            total_loss += loss.item() * len(labels)
            correct += int((logits.argmax(dim=1) == labels).sum())
        # One line per epoch in a fixed shape, for a metric regex or a person reading the log.
        print(
            f"epoch={epoch} train_loss={total_loss / len(train):.4f}"
            f" train_accuracy={correct / len(train):.4f}"
            f" elapsed_s={time.perf_counter() - started:.1f}"
        )

    args.model_dir.mkdir(parents=True, exist_ok=True)
    torch.save(model.cpu().state_dict(), args.model_dir / "model.pth")
    description = {
        "architecture": "resnet18",
        "classes": classes,
        "image_size": args.image_size,
        "mean": [float(v) for v in mean],
        "std": [float(v) for v in std],
    }
    (args.model_dir / "model.json").write_text(json.dumps(description, indent=2), encoding="utf-8")
    print(f"saved model.pth and model.json to {args.model_dir}")
    return 0


def run(argv: list[str]) -> int:
    try:
        return main(parse_args(argv))
    except Failure as failure:
        print(f"train failed: {failure}", file=sys.stderr)
        try:
            FAILURE_FILE.parent.mkdir(parents=True, exist_ok=True)
            FAILURE_FILE.write_text(str(failure), encoding="utf-8")
        except OSError:
            pass  # outside a container there may be no /opt/ml to write to
        return 1


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
