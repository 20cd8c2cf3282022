#!/usr/bin/env python3
"""Python PyTorch reference for fitreel's settings beyond the seed's: wider nets, other
activations, other optimizers. It follows the parity contract of
../shared/reference/seed_reference.py exactly (manual_seed, then the data, then the layers
constructed first to last), and prints the same JSON document, plus the settings it used.
Run it with Debian's /usr/bin/python3 (python3-torch); scripts/make-goldens.sh calls it.
"""
import argparse
import json
import sys

import torch
import torch.nn as nn
import torch.optim as optim

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}
OPTIMIZERS = {"adagrad": optim.Adagrad, "sgd": optim.SGD, "adam": optim.Adam}


def line_data(seed, n):
    torch.manual_seed(seed)
    x = torch.arange(n, dtype=torch.float32)
    noise = torch.rand(n) * 10 - 5
    y = -0.5 * x + 2 + noise
    perm = torch.randperm(n)
    n_test = int(0.2 * n)
    return x, y, torch.sort(perm[n_test:]).values, perm[:n_test]


def build_net(hidden, activation):
    layers, inputs = [], 1
    for width in hidden:  # one layer at a time: each draws its weight, then its bias
        layers.append(nn.Linear(inputs, width))
        layers.append(ACTIVATIONS[activation]())
        inputs = width
    layers.append(nn.Linear(inputs, 1))
    return nn.Sequential(*layers)


def params(model):
    return [p.detach().flatten().tolist() for p in model.parameters()]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("demo", choices=["line", "net"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--points", type=int, default=100)
    p.add_argument("--epochs", type=int, required=True)
    p.add_argument("--lr", type=float, required=True)
    p.add_argument("--hidden", default="2", help="net: hidden layer sizes, e.g. 8,4")
    p.add_argument("--activation", default="sigmoid", choices=sorted(ACTIVATIONS))
    p.add_argument("--optimizer", default="adagrad", choices=sorted(OPTIMIZERS))
    a = p.parse_args()
    hidden = [int(h) for h in a.hidden.split(",")]

    out = {"demo": a.demo, "seed": a.seed, "points": a.points, "epochs": a.epochs, "lr": a.lr,
           "optimizer": a.optimizer}
    if a.demo == "line":
        x, y, train, test = line_data(a.seed, a.points)
        model = nn.Linear(1, 1)
        xt, yt = x[train].view(-1, 1), y[train].view(-1, 1)
        out.update(train_indices=train.tolist(), test_indices=test.tolist(), y=y.tolist())
    else:
        torch.manual_seed(a.seed)
        xt = yt = torch.arange(a.points, dtype=torch.float32).view(-1, 1)
        model = build_net(hidden, a.activation)
        out.update(hidden=hidden, activation=a.activation)
    out["initial_params"] = params(model)
    opt = OPTIMIZERS[a.optimizer](model.parameters(), lr=a.lr)
    loss_fn = nn.MSELoss()
    marks = sorted({e for e in (0, 1, 2, 10, 100, 1000, a.epochs - 1) if 0 <= e < a.epochs})
    losses = {}
    for e in range(a.epochs):
        opt.zero_grad()
        loss = loss_fn(model(xt), yt)
        loss.backward()
        opt.step()
        if e in marks:
            losses[str(e)] = loss.item()
    out["final_params"] = params(model)
    out["loss_at_epoch"] = losses
    if a.demo == "line":
        with torch.no_grad():
            out["test_mse"] = loss_fn(model(x[test].view(-1, 1)), y[test].view(-1, 1)).item()
    out["torch_version"] = torch.__version__
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
