"""A PyTorch training script in SageMaker script mode, as an SDK user writes one."""

import argparse
import os
import sys

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def parse_args(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR"))
    parser.add_argument("--training", default=os.environ.get("SM_CHANNEL_TRAINING"))
    return parser.parse_args(argv)


def main(args):
    rows = np.loadtxt(os.path.join(args.training, "train.csv"), delimiter=",", skiprows=1)
    features = torch.tensor(rows[:, :-1], dtype=torch.float32)
    target = torch.tensor(rows[:, -1:], dtype=torch.float32)
    torch.manual_seed(0)
    model = nn.Linear(features.shape[1], 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.BCEWithLogitsLoss()
    batches = DataLoader(TensorDataset(features, target), batch_size=args.batch_size)
    for epoch in range(1, args.epochs + 1):
        total = 0.0
        for x, y in batches:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(x)
        print(f"epoch={epoch} loss={total / len(features):.4f}")
    torch.save(model.state_dict(), os.path.join(args.model_dir, "model.pth"))


if __name__ == "__main__":
    # The training toolkit passes the hyperparameters as arguments; echoed so the log shows them.
    print("arguments: " + " ".join(sys.argv[1:]), flush=True)
    main(parse_args(sys.argv[1:]))
