"""Builds sourcedir.tar.gz, the code SageMaker jobs run, byte-for-byte reproducibly.

The archive holds the entry points (bootstrap.py, train.py, inference.py), the modeldrop_ml
package and requirements.txt (a copy of requirements-cloud.txt, the name the training and
inference toolkits install from). Entries are sorted with fixed times and owners, so the same
code always gives the same sha256 and can be stored content-addressed at
``code/<sha256>/sourcedir.tar.gz``.

    python -m modeldrop_ml.sourcedir --out build/sourcedir.tar.gz   # prints the sha256
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import tarfile
from pathlib import Path

ML_DIR = Path(__file__).resolve().parent.parent
ENTRY_POINTS = ("bootstrap.py", "train.py", "inference.py")


def source_files(ml_dir: Path = ML_DIR) -> dict[str, bytes]:
    files = {name: (ml_dir / name).read_bytes() for name in ENTRY_POINTS}
    files["requirements.txt"] = (ml_dir / "requirements-cloud.txt").read_bytes()
    package = ml_dir / "modeldrop_ml"
    for path in sorted(package.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".json") and "__pycache__" not in path.parts:
            files[path.relative_to(ml_dir).as_posix()] = path.read_bytes()
    return files


def build(out: Path, ml_dir: Path = ML_DIR) -> str:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(source_files(ml_dir).items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    archive = gzip.compress(buffer.getvalue(), mtime=0)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(archive)
    return hashlib.sha256(archive).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(prog="sourcedir")
    parser.add_argument("--out", type=Path, required=True)
    print(build(parser.parse_args().out))


if __name__ == "__main__":
    main()
