"""Processing step: unpack a dropped zip of images, one folder per class, and split it.

The zip holds ``<class>/<image>`` (``cats/x.png``, ``dogs/y.jpg``), optionally inside wrapper
folders: an image's label is the name of the folder it is in. Writes

    <images>/metadata.csv   path,label,width,height,split (split is train or test)
    <images>/<path>         every image, at its path inside the zip
    <batch>/<path>          the test images only, one file each, for batch transform

The split is a seeded hash of each image's path, so the same zip always splits the same way
and adding images never moves old ones between train and test.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import sys
import zipfile
from pathlib import Path, PurePosixPath

from PIL import Image, UnidentifiedImageError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}
MAX_EXPANDED_BYTES = 1024**3
FAILURE_FILE = Path("/opt/ml/output/message")  # SageMaker shows it as the job's ExitMessage


class Failure(Exception):
    """A problem with the data the user can fix; its text is the job's failure reason."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Unpack and split a zip of images.")
    parser.add_argument("--input", type=Path, default=Path("/opt/ml/processing/input/raw"))
    parser.add_argument("--images", type=Path, default=Path("/opt/ml/processing/output/images"))
    parser.add_argument("--batch", type=Path, default=Path("/opt/ml/processing/output/batch"))
    parser.add_argument("--test-fraction", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args(argv)


def find_zip(folder: Path) -> Path:
    zips = sorted(path for path in folder.rglob("*") if path.suffix.lower() == ".zip")
    if len(zips) != 1:
        found = ", ".join(path.name for path in sorted(folder.rglob("*"))) or "nothing"
        raise Failure(f"expected one .zip of images in {folder}, found {found}")
    return zips[0]


def image_members(archive: zipfile.ZipFile) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """The image entries worth reading, each with a safe relative path."""
    members = []
    for member in archive.infolist():
        path = PurePosixPath(member.filename)
        is_link = (member.external_attr >> 16) & 0o170000 == 0o120000
        if member.is_dir() or is_link or path.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        if path.is_absolute() or ".." in path.parts or len(path.parts) < 2:
            continue  # outside the folder, or not in a class folder: no label
        if path.parts[0] == "__MACOSX" or any(part.startswith(".") for part in path.parts):
            continue  # Finder's resource forks and hidden files
        members.append((member, path))
    if sum(member.file_size for member, _ in members) > MAX_EXPANDED_BYTES:
        raise Failure(f"the zip's images unpack to more than {MAX_EXPANDED_BYTES} bytes")
    return members


def is_test(path: PurePosixPath, seed: int, test_fraction: float) -> bool:
    digest = hashlib.sha256(f"{seed}:{path}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < test_fraction


def main(args: argparse.Namespace) -> int:
    source = find_zip(args.input)
    rows, unreadable = [], []
    with zipfile.ZipFile(source) as archive:
        for member, path in image_members(archive):
            data = archive.read(member)
            try:
                with Image.open(io.BytesIO(data)) as image:
                    image.load()
                    width, height = image.size
            except (UnidentifiedImageError, OSError):
                unreadable.append(str(path))
                continue
            split = "test" if is_test(path, args.seed, args.test_fraction) else "train"
            targets = [args.images] + ([args.batch] if split == "test" else [])
            for folder in targets:
                (folder / path).parent.mkdir(parents=True, exist_ok=True)
                (folder / path).write_bytes(data)
            rows.append(
                {
                    "path": str(path),
                    "label": path.parts[-2],
                    "width": width,
                    "height": height,
                    "split": split,
                }
            )
    labels = sorted({row["label"] for row in rows})
    if len(labels) < 2:
        raise Failure(
            f"{source.name} holds {len(rows)} readable images in {len(labels)} class folder(s)"
            f" ({', '.join(labels) or 'none'}); put each class's images in a folder of its own"
        )
    splits = {split: sum(row["split"] == split for row in rows) for split in ("train", "test")}
    if not all(splits.values()):
        raise Failure(
            f"the split left a side empty ({splits}); add images or change --test-fraction"
        )
    args.images.mkdir(parents=True, exist_ok=True)
    with (args.images / "metadata.csv").open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=["path", "label", "width", "height", "split"])
        writer.writeheader()
        writer.writerows(rows)
    print(
        f"{len(rows)} images in {len(labels)} classes ({', '.join(labels)}):"
        f" {splits['train']} train, {splits['test']} test;"
        f" {len(unreadable)} unreadable skipped{': ' + ', '.join(unreadable[:5]) if unreadable else ''}"
    )
    return 0


def run(argv: list[str]) -> int:
    try:
        return main(parse_args(argv))
    except Failure as failure:
        print(f"extract failed: {failure}", file=sys.stderr)
        try:
            FAILURE_FILE.parent.mkdir(parents=True, exist_ok=True)
            FAILURE_FILE.write_text(str(failure), encoding="utf-8")
        except OSError:
            pass  # outside a container there may be no /opt/ml to write to
        return 1


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
