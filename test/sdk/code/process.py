"""A processing script as an SDK user writes one: summarises the CSV files it is given."""

import argparse
import os

import pandas as pd


def parse_args(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--input-dir", default="/opt/ml/processing/input")
    parser.add_argument("--output-dir", default="/opt/ml/processing/output")
    return parser.parse_args(argv)


def main(args):
    frame = pd.concat(
        pd.read_csv(os.path.join(args.input_dir, name))
        for name in sorted(os.listdir(args.input_dir))
        if name.endswith(".csv")
    )
    frame.describe().to_csv(os.path.join(args.output_dir, "summary.csv"))
    print(f"summarised {len(frame)} rows")


if __name__ == "__main__":
    main(parse_args())
