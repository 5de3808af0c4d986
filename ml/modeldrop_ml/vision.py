"""Image classification: unpacking a dropped zip safely, splitting it, and ResNet-18.

A zip holds ``<class>/<image>`` (optionally inside one wrapper folder). It is checked before
anything is written: no absolute paths, ``..`` parts or links, no encrypted entries, and the
declared size under the cap; the bytes actually written are counted too (a zip can lie about
sizes). A member that cannot be unpacked (a bad CRC, a truncated or lying header, an unknown
compression method) rejects the zip, naming that member. Unreadable images are skipped and
counted; when more than half are unreadable the zip is rejected. The model is torchvision's
ResNet-18 with random weights (or weights from a file the user supplies), trained on the GPU
with mixed precision when there is one.
"""

from __future__ import annotations

import io
import lzma
import os
import random
import shutil
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError
from sklearn.model_selection import train_test_split

from .errors import DatasetRejected, JobFailed, clean_message, reading_user_data

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
MAX_ZIP_EXPANDED_BYTES = 2 * 1024**3
MIN_IMAGES_PER_CLASS = 5
MAX_CORRUPT_FRACTION = 0.5
CLUTTER = {".ds_store", "thumbs.db", "desktop.ini"}
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


@dataclass
class ImageDataset:
    root: Path
    classes: list[str]
    files: list[tuple[Path, str]]
    skipped: list[dict[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def load_image(source: Path | bytes) -> Image.Image:
    """Opens an image fully (a truncated file fails here, not later) as RGB."""
    try:
        with Image.open(source if isinstance(source, Path) else io.BytesIO(source)) as image:
            image.load()
            return image.convert("RGB")
    except UnidentifiedImageError as error:
        raise DatasetRejected(
            "the image cannot be decoded: it is not a JPEG or PNG image Pillow recognises"
        ) from error
    except MemoryError:
        raise
    except Exception as error:
        # Only Pillow runs here, on the user's bytes, and its decoders signal malformed files
        # with many types (OSError, SyntaxError, struct.error, EOFError, IndexError,
        # DecompressionBombError, ...): all of them mean a damaged or hostile image.
        raise DatasetRejected(
            f"the image cannot be decoded: {clean_message(str(error)) or type(error).__name__}"
        ) from error


def _is_clutter(parts: tuple[str, ...]) -> bool:
    return (
        parts[0] == "__MACOSX"
        or parts[-1].lower() in CLUTTER
        or any(p.startswith(".") for p in parts)
    )


def _check_entries(archive: zipfile.ZipFile, name: str, cap: int) -> list[zipfile.ZipInfo]:
    entries = [entry for entry in archive.infolist() if not entry.is_dir()]
    for entry in entries:
        path = PurePosixPath(entry.filename.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts or entry.filename.startswith(("/", "\\")):
            raise DatasetRejected(
                f"{name} contains the entry {entry.filename!r}, which points outside the archive; it was not unpacked."
            )
        if stat.S_ISLNK(entry.external_attr >> 16):
            raise DatasetRejected(
                f"{name} contains a symbolic link ({entry.filename!r}); links are not accepted."
            )
        if entry.flag_bits & 0x1:
            raise DatasetRejected(
                f"{name} is encrypted ({entry.filename!r}); drop an unencrypted zip."
            )
    declared = sum(entry.file_size for entry in entries)
    if declared > cap:
        raise DatasetRejected(
            f"{name} would unpack to {declared:,} bytes, over the {cap:,}-byte limit; drop fewer or smaller images."
        )
    return entries


def _member_chunks(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, name: str) -> Iterator[bytes]:
    """The member's bytes; a member that cannot be unpacked rejects the zip, naming it."""
    try:
        with archive.open(entry) as source:
            while chunk := source.read(1 << 20):
                yield chunk
    except NotImplementedError as error:
        raise DatasetRejected(
            f"{name} stores {entry.filename!r} with a compression method modeldrop cannot "
            f"unpack ({clean_message(str(error))}); re-create the zip with standard (deflate) "
            "compression."
        ) from error
    except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError) as error:
        raise DatasetRejected(
            f"{name} is corrupt or truncated: its member {entry.filename!r} cannot be unpacked "
            f"({clean_message(str(error)) or type(error).__name__}). Re-create the zip archive "
            "and drop it again."
        ) from error


def extract_image_zip(
    zip_path: Path, dest: Path, *, max_expanded_bytes: int = MAX_ZIP_EXPANDED_BYTES
) -> ImageDataset:
    name = zip_path.name
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        raise DatasetRejected(
            f"{name} is not a valid zip archive, or it is truncated "
            f"({clean_message(str(error)) or type(error).__name__})."
        ) from error
    with archive, reading_user_data(name, "Re-create the zip archive and drop it again."):
        entries = _check_entries(archive, name, max_expanded_bytes)
        ignored = [e.filename for e in entries if _is_clutter(PurePosixPath(e.filename).parts)]
        kept = [e for e in entries if e.filename not in set(ignored)]
        images = [e for e in kept if PurePosixPath(e.filename).suffix.lower() in IMAGE_SUFFIXES]
        if not images:
            shown = ", ".join(e.filename for e in kept[:5]) or "nothing"
            raise DatasetRejected(f"{name} holds no .jpg/.jpeg/.png images; it holds {shown}.")
        parts = [PurePosixPath(e.filename).parts for e in images]
        tops = {p[0] for p in parts}
        if len(tops) == 1 and all(len(p) == 3 for p in parts):
            parts = [p[1:] for p in parts]  # one wrapper folder
        if any(len(p) != 2 for p in parts):
            raise DatasetRejected(
                f"{name} must hold one folder per class with the images inside (<class>/<image>.jpg), "
                "optionally inside a single top folder; images were found at another depth."
            )
        skipped = [
            {"file": e.filename, "reason": "not a .jpg/.jpeg/.png image"}
            for e in kept
            if PurePosixPath(e.filename).suffix.lower() not in IMAGE_SUFFIXES
        ]
        files: list[tuple[Path, str]] = []
        written = 0
        corrupt = 0
        for number, (entry, (label, _)) in enumerate(zip(images, parts, strict=True)):
            target = dest / f"{number:07d}{PurePosixPath(entry.filename).suffix.lower()}"
            with target.open("wb") as out:
                for chunk in _member_chunks(archive, entry, name):
                    written += len(chunk)
                    if written > max_expanded_bytes:
                        raise DatasetRejected(
                            f"{name} unpacks past the {max_expanded_bytes:,}-byte limit (its headers understate its size)."
                        )
                    out.write(chunk)
            try:
                load_image(target)
            except DatasetRejected as error:
                skipped.append({"file": entry.filename, "reason": str(error)})
                corrupt += 1
                target.unlink()
                continue
            files.append((target, label))
    if corrupt > MAX_CORRUPT_FRACTION * len(images):
        raise DatasetRejected(
            f"{corrupt} of {len(images)} images in {name} cannot be decoded; most of the images are unreadable."
        )
    counts: dict[str, int] = {}
    for _, label in files:
        counts[label] = counts.get(label, 0) + 1
    classes = sorted(counts)
    if len(classes) < 2:
        only = classes[0] if classes else "?"
        raise DatasetRejected(
            f"{name} has only one class {only!r}; image classification needs at least two class folders."
        )
    small = {label: count for label, count in counts.items() if count < MIN_IMAGES_PER_CLASS}
    if small:
        shown = ", ".join(f"{label!r}: {count}" for label, count in sorted(small.items()))
        raise DatasetRejected(
            f"too few readable images in class(es) {shown}; each class needs at least {MIN_IMAGES_PER_CLASS}."
        )
    return ImageDataset(dest, classes, files, skipped, ignored)


def split_images(
    dataset: ImageDataset, out: Path, *, validation: float, test: float, seed: int
) -> dict[str, dict[str, int]]:
    labels = [label for _, label in dataset.files]
    everything = np.arange(len(labels))
    rest, test_rows = train_test_split(
        everything, test_size=test, random_state=seed, stratify=labels
    )
    train_rows, valid_rows = train_test_split(
        rest,
        test_size=validation / (1 - test),
        random_state=seed,
        stratify=[labels[i] for i in rest],
    )
    counts: dict[str, dict[str, int]] = {}
    for split, rows in (("train", train_rows), ("validation", valid_rows), ("test", test_rows)):
        counts[split] = {label: 0 for label in dataset.classes}
        for row in sorted(rows):
            path, label = dataset.files[row]
            folder = out / split / label
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, folder / path.name)
            counts[split][label] += 1
    return counts


class ImageModel:
    """The saved image pipeline: classes, input size and ResNet-18 weights as bytes.

    Weights are kept as a serialized state dict, not a torch module, so the pickle loads with
    another torch version (2.14 here, 2.5 in the SageMaker image).
    """

    kind = "image"
    algorithm = "resnet18"

    def __init__(self, schema: Any, image_size: int, weights: bytes) -> None:
        self.schema = schema
        self.classes: list[str] = list(schema.classes or [])
        self.image_size = image_size
        self.weights = weights
        self._network: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "classes": self.classes,
            "image_size": self.image_size,
            "weights": self.weights,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._network = None

    def _module(self) -> Any:
        import torch

        if self._network is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
            network = _resnet(len(self.classes))
            network.load_state_dict(
                torch.load(io.BytesIO(self.weights), weights_only=True, map_location=device)
            )
            self._network = network.to(device).eval()
        return self._network

    def predict_proba(self, images: list[Image.Image]) -> np.ndarray:
        import torch

        network = self._module()
        device = next(network.parameters()).device
        transform = _transform(self.image_size, train=False)
        out = []
        with torch.no_grad():
            for start in range(0, len(images), 64):
                batch = torch.stack(
                    [transform(image.convert("RGB")) for image in images[start : start + 64]]
                ).to(device)
                out.append(torch.softmax(network(batch).float(), dim=1).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.classes)))


def _resnet(classes: int) -> Any:
    from torchvision.models import resnet18

    return resnet18(weights=None, num_classes=classes)


def _transform(size: int, train: bool) -> Any:
    from torchvision import transforms

    steps: list[Any] = [transforms.Resize((size, size))]
    if train:
        steps.append(transforms.RandomHorizontalFlip())
    steps += [transforms.ToTensor(), transforms.Normalize(MEAN, STD)]
    return transforms.Compose(steps)


def class_images(folder: Path, classes: list[str]) -> list[tuple[Path, int]]:
    """(image, class index) for every image under <folder>/<class>/, classes in the given order."""
    return [
        (path, index)
        for index, label in enumerate(classes)
        if (folder / label).is_dir()
        for path in sorted((folder / label).iterdir())
        if path.suffix.lower() in IMAGE_SUFFIXES
    ]


def train_resnet18(
    train_dir: Path,
    validation_dir: Path,
    *,
    schema: Any,
    epochs: int = 10,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    image_size: int = 64,
    seed: int = 42,
    weights_file: Path | None = None,
    use_gpu: bool | None = None,
    on_epoch: Callable[[int, int, dict[str, float]], None] | None = None,
) -> tuple[ImageModel, list[dict[str, float]]]:
    import torch
    from torch.utils.data import DataLoader, Dataset

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    gpu = torch.cuda.is_available() if use_gpu is None else use_gpu
    device = torch.device("cuda" if gpu else "cpu")
    if not gpu:
        torch.set_num_threads(os.cpu_count() or 1)
    classes = list(schema.classes or [])
    network = _resnet(len(classes))
    if weights_file is not None:
        try:
            state = torch.load(weights_file, weights_only=True, map_location="cpu")
            own = network.state_dict()
            usable = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
            if not usable or not any(k.startswith("conv1") for k in usable):
                raise ValueError("no ResNet-18 layers match")
            network.load_state_dict(usable, strict=False)
        except Exception as error:
            raise JobFailed(
                f"the weights file {weights_file.name} is not a usable ResNet-18 state dict: {error}"
            ) from error
    network = network.to(device)

    class Folder(Dataset):
        def __init__(self, items: list[tuple[Path, int]], train: bool) -> None:
            self.items, self.transform = items, _transform(image_size, train)

        def __len__(self) -> int:
            return len(self.items)

        def __getitem__(self, index: int) -> tuple[Any, int]:
            path, label = self.items[index]
            return self.transform(load_image(path)), label

    loaders = {
        name: DataLoader(
            Folder(class_images(folder, classes), name == "train"),
            batch_size=batch_size,
            shuffle=name == "train",
            num_workers=2 if gpu else 0,
            generator=torch.Generator().manual_seed(seed),
        )
        for name, folder in (("train", train_dir), ("validation", validation_dir))
    }
    optimizer = torch.optim.Adam(network.parameters(), lr=learning_rate)
    scaler = torch.amp.GradScaler("cuda", enabled=gpu)
    loss_fn = torch.nn.CrossEntropyLoss()
    history: list[dict[str, float]] = []
    best_loss, best_state = float("inf"), None
    for epoch in range(1, epochs + 1):
        network.train()
        total, seen = 0.0, 0
        for images, labels in loaders["train"]:
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            with torch.autocast(device.type, dtype=torch.float16, enabled=gpu):
                loss = loss_fn(network(images), labels)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            total, seen = total + float(loss.detach()) * len(labels), seen + len(labels)
        network.eval()
        valid_loss, correct, count = 0.0, 0, 0
        with torch.no_grad(), torch.autocast(device.type, dtype=torch.float16, enabled=gpu):
            for images, labels in loaders["validation"]:
                images, labels = images.to(device), labels.to(device)
                logits = network(images).float()
                valid_loss += float(loss_fn(logits, labels)) * len(labels)
                correct += int((logits.argmax(1) == labels).sum())
                count += len(labels)
        record = {
            "epoch": epoch,
            "train_loss": total / max(seen, 1),
            "validation_loss": valid_loss / max(count, 1),
            "validation_accuracy": correct / max(count, 1),
        }
        history.append(record)
        if record["validation_loss"] < best_loss:
            best_loss = record["validation_loss"]
            best_state = {k: v.detach().cpu().clone() for k, v in network.state_dict().items()}
        if on_epoch:
            on_epoch(epoch, epochs, record)
    buffer = io.BytesIO()
    torch.save(best_state, buffer)
    return ImageModel(schema, image_size, buffer.getvalue()), history
