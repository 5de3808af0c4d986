"""Reading the tables users drop: CSV as people actually write it, and Parquet.

CSV is read with Arrow's multi-threaded reader into typed, compact columns; the delimiter is
sniffed (comma, semicolon, tab, pipe), fields may be quoted and span lines, the text may be
UTF-8 with or without a byte-order mark, or UTF-16 with one or without one (recognised by the
NUL byte in every other position that mostly-ASCII UTF-16 text has), and these cells count as
missing: empty, NA, N/A, NaN, ?, null, None, #N/A. Header names are cleaned (whitespace and
BOM stripped, blanks named ``column_<n>``, duplicates suffixed ``.2``, ``.3``). Rows with the
wrong number of fields are skipped and counted when they are rare, and the file is rejected
when they are not, naming the first such line.

Spreadsheet workbooks and JSON are refused with what to export instead. A library's error on
a damaged file (a truncated Parquet file, say) rejects the dataset by its file name, never a
path (see ``errors.reading_user_data``).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .errors import DatasetRejected, clean_message, reading_user_data

MISSING_MARKERS = ["", "NA", "N/A", "n/a", "NaN", "nan", "?", "null", "NULL", "None", "#N/A"]
DELIMITERS = ",;\t|"
SNIFF_BYTES = 64 * 1024
# Rows whose field count differs from the header: skipped while they are at most this share.
MAX_MALFORMED_ROW_FRACTION = 0.01
# Malformed rows whose text is kept to find the first one's line for the message.
KEPT_MALFORMED_ROWS = 1000
# UTF-16 without a byte-order mark: share of NUL bytes at one parity (the high byte of ASCII
# characters) above which, with almost none at the other, the text is read as UTF-16.
UTF16_NUL_SHARE = 0.4
UTF16_OTHER_NUL_SHARE = 0.05
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")
REEXPORT = "Re-export the table as CSV (UTF-8) or Parquet and drop it again."

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
    """'csv', 'parquet', 'zip', 'spreadsheet' or 'json', from the suffix, or from the content
    when the suffix is odd."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix == ".zip":
        return "zip"
    if suffix in SPREADSHEET_SUFFIXES:
        return "spreadsheet"
    if suffix in JSON_SUFFIXES:
        return "json"
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
    if kind == "spreadsheet":
        raise _spreadsheet_rejected(path.name)
    if kind == "json":
        raise _json_rejected(path.name)
    if kind == "zip":
        raise DatasetRejected(f"{path.name} is a zip archive, not a table.")
    with reading_user_data(path.name, REEXPORT):
        return _read_parquet(path) if kind == "parquet" else _read_csv(path)


def _spreadsheet_rejected(name: str) -> DatasetRejected:
    return DatasetRejected(
        f"{name} is a spreadsheet workbook; modeldrop reads CSV and Parquet tables. Export the "
        "sheet as CSV (in Excel: File > Save As > CSV UTF-8) and drop that file."
    )


def _json_rejected(name: str) -> DatasetRejected:
    return DatasetRejected(
        f"{name} holds JSON; modeldrop trains on CSV and Parquet tables (JSON lines are for "
        "batch predictions). Write the rows as CSV with a header row, or as Parquet, and drop "
        "that file."
    )


def _read_parquet(path: Path) -> tuple[pa.Table, ReadInfo]:
    try:
        table = pq.read_table(path)
    except MemoryError:
        raise
    except (pa.ArrowException, OSError) as error:
        # Arrow names the file by its full path; the user knows it by its name.
        detail = re.sub(r"^Could not open Parquet input source '[^']*': ", "", str(error))
        raise DatasetRejected(
            f"{path.name} is not a readable Parquet file: {clean_message(detail)} The file may "
            "be truncated or damaged; re-export it, or drop a CSV."
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


def _utf16_without_bom(head: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when the bytes look like UTF-16 text without a byte-order
    mark: each ASCII character (digits, delimiters, most names) has a NUL high byte."""
    sample = head[: len(head) - len(head) % 2]
    if len(sample) < 4:
        return None
    even = sample[0::2].count(0) / (len(sample) // 2)
    odd = sample[1::2].count(0) / (len(sample) // 2)
    if odd > UTF16_NUL_SHARE and even < UTF16_OTHER_NUL_SHARE:
        return "utf-16-le"
    if even > UTF16_NUL_SHARE and odd < UTF16_OTHER_NUL_SHARE:
        return "utf-16-be"
    return None


def _detect_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if head.startswith(tuple(_MAGIC)):
        return "utf-8"  # a known binary format, which _binary_kind names
    return _utf16_without_bom(head) or "utf-8"


def _guessed_utf16(encoding: str) -> str:
    """Why the text was read as UTF-16 when it has no byte-order mark, else ''."""
    if not encoding.startswith("utf-16-"):
        return ""
    order = "little" if encoding.endswith("le") else "big"
    return (
        f" It looks like UTF-16 ({order}-endian) without a byte-order mark (every other byte "
        "is NUL), so it was read as that."
    )


def _check_text(path: Path, name: str, encoding: str) -> None:
    """Decodes the whole file once so a bad byte is reported with its line, not as a crash."""
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    decoder = codecs.getincrementaldecoder(codec)()
    unit = "UTF-8" if codec == "utf-8" else "UTF-16"
    guessed = _guessed_utf16(encoding)
    offset = 0
    line = 1
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            try:
                line += decoder.decode(chunk).count("\n")
            except UnicodeDecodeError as error:
                start = max(0, min(error.start, len(chunk) - 1))
                line += chunk[:start].decode(codec, errors="ignore").count("\n")
                raise DatasetRejected(
                    f"{name} is not valid {unit} text: byte 0x{chunk[start]:02x} at offset "
                    f"{offset + start} (line {line}) cannot be decoded.{guessed} modeldrop "
                    "reads CSV files as UTF-8 (with or without a byte-order mark) or UTF-16; "
                    f"tried {codec}. Re-save the file as UTF-8 (in Excel: CSV UTF-8)."
                ) from None
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise DatasetRejected(
                f"{name} is not valid {unit} text: it ends in the middle of a character, so "
                f"the file may be cut short.{guessed} Re-save the file as UTF-8."
            ) from None


def _looks_like_json(sample: str) -> bool:
    start = sample.lstrip()
    first_line = start.split("\n", 1)[0].strip()
    if first_line.startswith("{") and first_line.endswith("}"):
        return True  # JSON lines, or one object
    return start.startswith("[") and start[1:].lstrip()[:1] in ("{", "[")


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


def unique_names(raw: list[str]) -> tuple[list[str], dict[str, str]]:
    """Header names as training knows them (inference cleans a request's header the same way)."""
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
    names, renamed = unique_names([str(name) for name in table.column_names])
    return table.rename_columns(names), renamed


def _first_malformed(
    path: Path, codec: str, rows: list[pacsv.InvalidRow]
) -> tuple[int | None, pacsv.InvalidRow]:
    """The malformed row that comes first in the file, and its line number.

    Arrow's parallel reader numbers rows only when values cannot hold newlines; otherwise the
    line is found by the row's text (its first line, as quoted values may span several).
    """
    numbered = [row for row in rows if row.number is not None]
    if numbered:
        first = min(numbered, key=lambda row: row.number)
        return first.number, first
    by_text: dict[str, pacsv.InvalidRow] = {}
    for row in rows:
        by_text.setdefault((row.text.splitlines() or [""])[0], row)
    with path.open(encoding=codec, newline="", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            found = by_text.get(line.rstrip("\r\n").lstrip("\ufeff"))
            if found is not None:
                return number, found
    return None, rows[0]


def _malformed_reason(row: pacsv.InvalidRow, line: int | None, delimiter: str) -> str:
    text = row.text if len(row.text) <= 60 else row.text[:60] + "…"
    where = f"line {line}" if line is not None else "a row"
    reason = (
        f"{where} has {row.actual_columns} field(s) where {row.expected_columns} were expected "
        f"({text!r})"
    )
    for other in DELIMITERS.replace(delimiter, ""):
        fields = next(csv.reader([row.text], delimiter=other), [])
        if len(fields) == row.expected_columns:
            reason += (
                f"; that row splits into {row.expected_columns} fields at {other!r}, so the "
                f"file seems to mix {delimiter!r} and {other!r} as delimiters"
            )
            break
    return reason


def _read_csv(path: Path) -> tuple[pa.Table, ReadInfo]:
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    encoding = _detect_encoding(head)
    utf16 = encoding.startswith("utf-16")
    binary = None if utf16 else _binary_kind(head)
    if binary:
        raise DatasetRejected(
            f"{path.name} is named like a text table but holds {binary}. Drop a CSV text file, "
            "a Parquet file (.parquet) or a zip of images (.zip)."
        )
    _check_text(path, path.name, encoding)
    sample = head.decode(encoding, errors="ignore").lstrip("\ufeff")
    if utf16 and _binary_kind(sample.encode("utf-8", errors="replace")):
        raise DatasetRejected(
            f"{path.name} is named like a text table but holds binary data (it decodes as "
            "UTF-16 into control characters). Drop a CSV text file saved as UTF-8."
        )
    if not sample.strip():
        raise DatasetRejected(f"{path.name} holds only blank lines.")
    if _looks_like_json(sample):
        raise _json_rejected(path.name)
    delimiter = _sniff_delimiter(sample, path.suffix.lower())
    names, renamed = unique_names(_header(sample, delimiter))

    malformed: list[pacsv.InvalidRow] = []
    malformed_count = 0

    def skip_malformed(row: pacsv.InvalidRow) -> str:
        nonlocal malformed_count
        malformed_count += 1
        if len(malformed) < KEPT_MALFORMED_ROWS:
            malformed.append(row)
        return "skip"

    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                column_names=names,
                skip_rows=1,
                encoding=encoding if utf16 else "utf8",
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
        raise DatasetRejected(
            f"{path.name} could not be parsed as CSV: {clean_message(str(error))}"
        ) from error
    if table.num_rows == 0 and not malformed_count:
        raise DatasetRejected(
            f"{path.name} has a header ({', '.join(names[:8])}) but no data rows."
        )
    total = table.num_rows + malformed_count
    if malformed_count > MAX_MALFORMED_ROW_FRACTION * total:
        line, first = _first_malformed(path, encoding, malformed)
        raise DatasetRejected(
            f"{path.name}: {malformed_count} of {total} rows do not have the header's "
            f"{len(names)} fields (delimiter {delimiter!r}); the first: "
            f"{_malformed_reason(first, line, delimiter)}. Check the delimiter and quoting, "
            "or fix those rows."
        )
    info = ReadInfo(
        "csv",
        encoding=encoding,
        delimiter=delimiter,
        rows=table.num_rows,
        malformed_rows_skipped=malformed_count,
        renamed_columns=renamed,
    )
    return table, info
