"""Reading the tables users drop: CSV as people actually write it, and Parquet.

CSV is read with Arrow's multi-threaded reader into typed, compact columns; the delimiter is
sniffed (comma, semicolon, tab, pipe), fields may be quoted and span lines, the text may be
UTF-8 with or without a byte-order mark or UTF-16 with one, and these cells count as missing:
empty, NA, N/A, NaN, ?, null, None, #N/A. Header names are cleaned (whitespace and BOM
stripped, blanks named ``column_<n>``, duplicates suffixed ``.2``, ``.3``). Rows with the wrong
number of fields are skipped and counted when they are rare, and the file is rejected when
they are not.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .errors import DatasetRejected

MISSING_MARKERS = ["", "NA", "N/A", "n/a", "NaN", "nan", "?", "null", "NULL", "None", "#N/A"]
DELIMITERS = ",;\t|"
SNIFF_BYTES = 64 * 1024
# Rows whose field count differs from the header: skipped while they are at most this share.
MAX_MALFORMED_ROW_FRACTION = 0.01

_MAGIC = {
    b"PK\x03\x04": "a zip archive",
    b"PAR1": "a Parquet file",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x1f\x8b": "a gzip archive",
    b"\xd0\xcf\x11\xe0": "an old Excel/Office document",
    b"SQLite format 3": "an SQLite database",
}


@dataclass
class ReadInfo:
    """How a table was read, for the profile."""

    format: str
    encoding: str | None = None
    delimiter: str | None = None
    rows: int = 0
    malformed_rows_skipped: int = 0
    renamed_columns: dict[str, str] = field(default_factory=dict)


def dataset_format(path: Path) -> str:
    """'csv', 'parquet' or 'zip', from the suffix, or from the content when the suffix is odd."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix == ".zip":
        return "zip"
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    return "csv"


def read_table(path: Path) -> tuple[pa.Table, ReadInfo]:
    if path.stat().st_size == 0:
        raise DatasetRejected(f"{path.name} is empty (0 bytes). Drop a file that holds data.")
    kind = dataset_format(path)
    if kind == "parquet":
        return _read_parquet(path)
    if kind == "csv":
        return _read_csv(path)
    raise DatasetRejected(f"{path.name} is a zip archive, not a table.")


def _read_parquet(path: Path) -> tuple[pa.Table, ReadInfo]:
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise DatasetRejected(
            f"{path.name} is not a readable Parquet file ({error}). Re-export it, or drop a CSV."
        ) from error
    table, renamed = _clean_names(table)
    if table.num_columns == 0:
        raise DatasetRejected(f"{path.name} is a Parquet file with no columns.")
    if table.num_rows == 0:
        raise DatasetRejected(f"{path.name} has columns but no rows of data.")
    return table, ReadInfo("parquet", rows=table.num_rows, renamed_columns=renamed)


def _binary_kind(head: bytes) -> str | None:
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return kind
    if b"\x00" in head:
        return "binary data"
    controls = sum(1 for byte in head if byte < 9 or 13 < byte < 32)
    if head and controls / len(head) > 0.05:
        return "binary data"
    return None


def _detect_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8"


def _check_utf8(path: Path, name: str) -> None:
    """Decodes the whole file once so a bad byte is reported with its line, not as a crash."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    line = 1
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                bad = offset + error.start
                line += chunk[: error.start].count(b"\n")
                raise DatasetRejected(
                    f"{name} is not valid UTF-8 text: byte 0x{chunk[error.start]:02x} at offset "
                    f"{bad} (line {line}) cannot be decoded. modeldrop reads CSV files as UTF-8 "
                    "(with or without a byte-order mark) or UTF-16 with a byte-order mark; tried "
                    "utf-8. Re-save the file as UTF-8 (in Excel: CSV UTF-8)."
                ) from None
            line += chunk.count(b"\n")
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise DatasetRejected(
                f"{name} is not valid UTF-8 text: it ends in the middle of a character. "
                "Re-save the file as UTF-8."
            ) from None


def _sniff_delimiter(sample: str, suffix: str) -> str:
    lines = sample.splitlines()[:50]
    if len(lines) > 1 and not sample.endswith("\n"):
        lines = lines[:-1]  # the last line of the sample may be cut short
    text = "\n".join(lines)
    try:
        return csv.Sniffer().sniff(text, delimiters=DELIMITERS).delimiter
    except csv.Error:
        pass
    if suffix == ".tsv":
        return "\t"
    first = lines[0] if lines else ""
    counts = {delimiter: first.count(delimiter) for delimiter in DELIMITERS}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] > 0 else ","


def _header(sample: str, delimiter: str) -> list[str]:
    reader = csv.reader(io.StringIO(sample), delimiter=delimiter)
    for row in reader:
        return row
    return []


def _unique_names(raw: list[str]) -> tuple[list[str], dict[str, str]]:
    names: list[str] = []
    renamed: dict[str, str] = {}
    seen: set[str] = set()
    for position, original in enumerate(raw, start=1):
        name = original.replace("\ufeff", "").strip() or f"column_{position}"
        base, copy = name, 1
        while name in seen:
            copy += 1
            name = f"{base}.{copy}"
        seen.add(name)
        names.append(name)
        if name != original:
            renamed[original if original.strip() else f"(blank #{position})"] = name
    return names, renamed


def _clean_names(table: pa.Table) -> tuple[pa.Table, dict[str, str]]:
    names, renamed = _unique_names([str(name) for name in table.column_names])
    return table.rename_columns(names), renamed


def _read_csv(path: Path) -> tuple[pa.Table, ReadInfo]:
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    encoding = _detect_encoding(head)
    binary = None if encoding == "utf-16" else _binary_kind(head)
    if binary:
        raise DatasetRejected(
            f"{path.name} is named like a text table but holds {binary}. Drop a CSV text file, "
            "a Parquet file (.parquet) or a zip of images (.zip)."
        )
    if encoding != "utf-16":
        _check_utf8(path, path.name)
    sample = head.decode(encoding, errors="ignore").lstrip("\ufeff")
    if not sample.strip():
        raise DatasetRejected(f"{path.name} holds only blank lines.")
    delimiter = _sniff_delimiter(sample, path.suffix.lower())
    names, renamed = _unique_names(_header(sample, delimiter))

    malformed: list[str] = []

    def skip_malformed(row: pacsv.InvalidRow) -> str:
        malformed.append(
            f"line {row.number}: expected {row.expected_columns} fields, got {row.actual_columns}"
        )
        return "skip"

    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                column_names=names,
                skip_rows=1,
                encoding="utf-16" if encoding == "utf-16" else "utf8",
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                newlines_in_values=True,
                invalid_row_handler=skip_malformed,
            ),
            convert_options=pacsv.ConvertOptions(
                null_values=MISSING_MARKERS,
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as error:
        raise DatasetRejected(f"{path.name} could not be parsed as CSV: {error}") from error
    if table.num_rows == 0 and not malformed:
        raise DatasetRejected(
            f"{path.name} has a header ({', '.join(names[:8])}) but no data rows."
        )
    total = table.num_rows + len(malformed)
    if len(malformed) > MAX_MALFORMED_ROW_FRACTION * total:
        raise DatasetRejected(
            f"{path.name}: {len(malformed)} of {total} rows do not have the header's "
            f"{len(names)} fields (delimiter {delimiter!r}); first: {malformed[0]}. Check the "
            "delimiter and quoting, or fix those rows."
        )
    info = ReadInfo(
        "csv",
        encoding=encoding,
        delimiter=delimiter,
        rows=table.num_rows,
        malformed_rows_skipped=len(malformed),
        renamed_columns=renamed,
    )
    return table, info
