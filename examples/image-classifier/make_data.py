"""Writes a tiny image data set as a zip: ``shapes/circles/*.png`` and ``shapes/squares/*.png``.

    python make_data.py /tmp/shapes.zip [--per-class 30] [--size 32] [--seed 7]

Circles are drawn on a light background and squares on a dark one, so a small network learns
the difference in a few epochs on a CPU. Nothing is downloaded; the same seed writes the same
bytes.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import zipfile
from pathlib import Path

from PIL import Image, ImageDraw

# A fixed timestamp keeps the zip byte-for-byte the same from one run to the next.
ZIP_TIME = (2024, 1, 1, 0, 0, 0)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="the zip file to write")
    parser.add_argument("--per-class", type=int, default=30)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args(argv)


def random_colour(rng: random.Random) -> tuple[int, int, int]:
    return (rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255))


def draw(shape: str, size: int, rng: random.Random) -> bytes:
    if shape == "circles":
        background = tuple(rng.randint(190, 255) for _ in range(3))
    else:
        background = tuple(rng.randint(0, 60) for _ in range(3))
    image = Image.new("RGB", (size, size), background)
    extent = rng.randint(size // 3, size * 3 // 4)
    left = rng.randint(0, size - extent)
    top = rng.randint(0, size - extent)
    box = (left, top, left + extent, top + extent)
    if shape == "circles":
        ImageDraw.Draw(image).ellipse(box, fill=random_colour(rng))
    else:
        ImageDraw.Draw(image).rectangle(box, fill=random_colour(rng))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def main(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(args.output, "w", zipfile.ZIP_DEFLATED) as archive:
        for shape in ("circles", "squares"):
            for index in range(args.per_class):
                member = zipfile.ZipInfo(f"shapes/{shape}/{shape[:-1]}-{index:03d}.png", ZIP_TIME)
                archive.writestr(member, draw(shape, args.size, rng))
    print(f"wrote {2 * args.per_class} images ({args.size}x{args.size}) to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(parse_args(sys.argv[1:])))
