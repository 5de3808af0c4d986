"""The image path: a zip of class folders → preprocess → ResNet-18 → evaluate → inference."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import OptMl
from modeldrop_ml import inference
from PIL import Image
from sklearn.datasets import load_digits


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).resize((32, 32)).save(buffer, format="PNG")
    return buffer.getvalue()


def digits_zip(
    per_class: int = 30, classes: tuple[int, ...] = (0, 1, 2), wrapper: str = ""
) -> bytes:
    """Digits bundled with scikit-learn, as a zip of <class>/<n>.png (class names non-ASCII too)."""
    digits = load_digits()
    names = {0: "zéro", 1: "one", 2: "two"}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for digit in classes:
            rows = np.flatnonzero(digits.target == digit)[:per_class]
            for number, row in enumerate(rows):
                archive.writestr(
                    f"{wrapper}{names[digit]}/{number}.png", _png(digits.images[row] * 16)
                )
        archive.writestr(f"{wrapper}.DS_Store", b"clutter")
        archive.writestr("__MACOSX/._x", b"clutter")
    return buffer.getvalue()


def _zip(entries: dict[str, bytes], symlink: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = 0o120777 << 16
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def _square(value: int) -> bytes:
    return _png(np.full((8, 8, 3), value))


@pytest.mark.slow
def test_a_zip_of_digits_trains_a_resnet_that_beats_chance_and_serves_images(
    opt_ml: OptMl, tmp_path: Path
) -> None:
    opt_ml.drop("digits.zip", digits_zip(wrapper="digits/"))

    assert opt_ml.preprocess().code == 0
    profile = opt_ml.profile()
    assert profile["target"]["classes"] == ["one", "two", "zéro"]
    assert profile["splits"]["test"] == 14
    assert len(profile["files_ignored"]) == 2
    transform_inputs = [p for p in (opt_ml.processed / "transform").rglob("*") if p.is_file()]
    assert len(transform_inputs) == 14  # the test images and nothing else (no dataset.json)
    assert all(p.suffix == ".png" for p in transform_inputs)
    result = opt_ml.train(hyperparameters={"epochs": "6", "image_size": "32", "batch_size": "16"})
    assert result.code == 0, result.failure
    assert opt_ml.evaluate().code == 0

    found = opt_ml.evaluation_json()["multiclass_classification_metrics"]
    assert found["accuracy"]["value"] > 0.6  # chance is 0.33
    history = json.loads((opt_ml.model / "history.json").read_text())
    assert len(history["epochs"]) == 6
    image = next((opt_ml.processed / "test" / "one").iterdir()).read_bytes()
    model = inference.model_fn(str(opt_ml.model))
    record = json.loads(
        inference.output_fn(
            inference.predict_fn(inference.input_fn(image, "image/png"), model), None
        )
    )
    assert set(record["probabilities"]) == {"one", "two", "zéro"}


@pytest.mark.parametrize(
    ("entries", "symlink", "message"),
    [
        ({"cats/a.png": b"x", "../evil.png": b"x"}, None, "'../evil.png', which points outside"),
        ({"/abs/a.png": b"x"}, None, "points outside the archive"),
        ({"cats/a.png": b"x"}, "cats/link.png", "symbolic link"),
        ({"notes.csv": b"a,b\n", "readme.txt": b"hi"}, None, "holds no .jpg/.jpeg/.png images"),
        ({f"cats/{i}.png": _square(i) for i in range(6)}, None, "only one class 'cats'"),
        ({f"{i}.png": _square(i) for i in range(6)}, None, "one folder per class"),
        (
            {
                **{f"cats/{i}.png": _square(i) for i in range(6)},
                **{f"dogs/{i}.png": _square(i) for i in range(3)},
            },
            None,
            "'dogs': 3",
        ),
        (
            {
                **{f"cats/{i}.png": b"broken" for i in range(6)},
                **{f"dogs/{i}.png": _square(i) for i in range(5)},
            },
            None,
            "cannot be decoded",
        ),
    ],
)
def test_bad_zips_are_rejected_with_the_reason(
    opt_ml: OptMl, entries: dict, symlink: str | None, message: str
) -> None:
    opt_ml.drop("images.zip", _zip(entries, symlink))

    result = opt_ml.preprocess()

    assert result.code == 1
    assert message in (result.failure or "")


def test_a_few_corrupt_images_are_skipped_and_counted(opt_ml: OptMl) -> None:
    entries = {
        **{f"cats/{i}.png": _square(i) for i in range(7)},
        **{f"dogs/{i}.png": _square(200 + i) for i in range(7)},
    }
    entries["dogs/broken.png"] = b"\x89PNG truncated"
    opt_ml.drop("pets.zip", _zip(entries))

    assert opt_ml.preprocess().code == 0
    skipped = opt_ml.profile()["images_skipped"]
    assert [item["file"] for item in skipped] == ["dogs/broken.png"]
    assert skipped[0]["reason"] == (
        "the image cannot be decoded: it is not a JPEG or PNG image Pillow recognises"
    )


def test_a_zip_that_unpacks_past_the_cap_is_rejected(
    opt_ml: OptMl, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modeldrop_ml import vision

    monkeypatch.setattr(vision, "MAX_ZIP_EXPANDED_BYTES", 10_000)
    opt_ml.drop("big.zip", _zip({"a/x.png": bytes(20_000), "b/y.png": bytes(10)}))

    result = opt_ml.preprocess()

    assert result.code == 1
    assert (
        result.failure
        == "big.zip would unpack to 20,010 bytes, over the 10,000-byte limit; drop fewer or smaller images."
    )


def test_a_file_that_is_not_a_zip_is_rejected(opt_ml: OptMl) -> None:
    opt_ml.drop("images.zip", b"this is not a zip at all")

    result = opt_ml.preprocess()

    assert result.code == 1
    assert "not a valid zip archive" in (result.failure or "")


def _pets_zip() -> bytes:
    return _zip(
        {
            **{f"cats/{i}.png": _square(i) for i in range(6)},
            **{f"dogs/{i}.png": _square(200 + i) for i in range(6)},
        }
    )


def _patched(data: bytes, signature: bytes, offset: int, value: bytes, nth: int = 0) -> bytes:
    """The zip with ``value`` written at ``offset`` into its nth header with ``signature``."""
    out = bytearray(data)
    at = -1
    for _ in range(nth + 1):
        at = out.index(signature, at + 1)
    out[at + offset : at + offset + len(value)] = value
    return bytes(out)


CENTRAL, LOCAL = b"PK\x01\x02", b"PK\x03\x04"


@pytest.mark.parametrize(
    ("corrupt", "member"),
    [
        # the central directory understates the first member's size
        (lambda data: _patched(data, CENTRAL, 24, (5).to_bytes(4, "little")), "cats/0.png"),
        # and its compressed size
        (lambda data: _patched(data, CENTRAL, 20, (10).to_bytes(4, "little")), "cats/0.png"),
        # a byte of the first member's data is flipped
        (lambda data: _patched(data, LOCAL, 40, b"\xff\xff"), "cats/0.png"),
        # the second member's local header is damaged
        (lambda data: _patched(data, LOCAL, 0, b"XXXX", nth=1), "cats/1.png"),
    ],
)
def test_a_zip_whose_headers_lie_is_bad_input_naming_the_member(
    opt_ml: OptMl, corrupt, member: str
) -> None:
    opt_ml.drop("pets.zip", corrupt(_pets_zip()))

    result = opt_ml.preprocess()

    assert result.code == 1, result.failure
    assert (result.failure or "").startswith(
        f"pets.zip is corrupt or truncated: its member {member!r} cannot be unpacked"
    )
    assert "modeldrop bug" not in (result.failure or "")


def test_a_zip_with_an_unknown_compression_method_says_how_to_re_create_it(opt_ml: OptMl) -> None:
    data = _patched(_pets_zip(), LOCAL, 8, (99).to_bytes(2, "little"))
    opt_ml.drop("pets.zip", _patched(data, CENTRAL, 10, (99).to_bytes(2, "little")))

    result = opt_ml.preprocess()

    assert result.code == 1
    assert "stores 'cats/0.png' with a compression method modeldrop cannot unpack" in (
        result.failure or ""
    )


def test_a_truncated_zip_is_bad_input(opt_ml: OptMl) -> None:
    data = _pets_zip()
    opt_ml.drop("pets.zip", data[: len(data) // 2])

    result = opt_ml.preprocess()

    assert result.code == 1
    assert (result.failure or "").startswith(
        "pets.zip is not a valid zip archive, or it is truncated"
    )


def test_images_pillow_refuses_as_decompression_bombs_are_unreadable_not_a_bug(
    opt_ml: OptMl, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)  # every 32x32 image is over twice that
    opt_ml.drop("pets.zip", _pets_zip())

    result = opt_ml.preprocess()

    assert result.code == 1
    assert "12 of 12 images in pets.zip cannot be decoded" in (result.failure or "")


def test_an_undecodable_image_request_is_invalid_input_without_object_reprs() -> None:
    with pytest.raises(inference.InvalidInput) as raised:
        inference.input_fn(b"\x89PNG not really", "image/png")

    assert "cannot be decoded" in str(raised.value)
    assert "object at 0x" not in str(raised.value)
