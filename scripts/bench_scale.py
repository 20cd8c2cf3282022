#!/usr/bin/env python3
"""The Python side of scripts/bench_scale.sh's table: a 1-H-1 tanh net, Adagrad lr 0.01, MSE,
full batch, x = y = 0..N-1, trained by the textbook loop (one model) and as a functorch
vmap(grad) ensemble of K models (stacked parameters, one vectorized gradient and one Adagrad
update for all K per epoch). Each measurement runs at least --min-seconds and 20 epochs: a
3-epoch pilot sizes the run. Prints one JSON object per line:
  {"n": N, "h": H, "way": "python_loop" | "functorch_vmap", "threads": T, "models": K,
   "epochs": E, "us_per_model_epoch": X}"""
import argparse
import json
import math
import time

import torch

from bench_ensemble import seeded_models, vmap_adagrad_seconds  # as scripts/bench.sh's

LR = 0.01


def make_net(hidden):
    return torch.nn.Sequential(torch.nn.Linear(1, hidden), torch.nn.Tanh(),
                               torch.nn.Linear(hidden, 1))


def data(n):
    x = torch.arange(n, dtype=torch.float32).view(-1, 1)
    return x, x.clone()


def loop_seconds(n, hidden, epochs):
    x, y = data(n)
    torch.manual_seed(0)
    model = make_net(hidden)
    optimizer = torch.optim.Adagrad(model.parameters(), lr=LR)
    loss_fn = torch.nn.MSELoss()
    start = time.perf_counter()
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def vmap_seconds(n, hidden, models, epochs):
    x, y = data(n)
    nets = seeded_models(lambda: make_net(hidden), models)
    return vmap_adagrad_seconds(nets, x, y, epochs, LR, warmup=2)


def measured(run, min_seconds):
    """(epochs, seconds) of a run of at least min_seconds and 20 epochs; a 3-epoch pilot sizes it
    (an epoch of 32 nets on 100000 points takes seconds)."""
    pilot = run(3)
    epochs = max(20, math.ceil(3 * min_seconds / max(pilot, 1e-9) * 1.1))
    return epochs, run(epochs)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", default="100x2,1600x16,10000x64,100000x16", help="NxH,...")
    parser.add_argument("--models", type=int, default=32)
    parser.add_argument("--threads", default="1",
                        help="LibTorch threads, comma-separated; 0 is LibTorch's default")
    parser.add_argument("--min-seconds", type=float, default=2.0)
    args = parser.parse_args()
    default_threads = torch.get_num_threads()
    for threads in (int(t) for t in args.threads.split(",")):
        torch.set_num_threads(threads or default_threads)
        for row in args.rows.split(","):
            n, hidden = (int(v) for v in row.split("x"))
            for way, models, run in (
                    ("python_loop", 1, lambda e: loop_seconds(n, hidden, e)),
                    ("functorch_vmap", args.models,
                     lambda e: vmap_seconds(n, hidden, args.models, e))):
                epochs, seconds = measured(run, args.min_seconds)
                print(json.dumps({"n": n, "h": hidden, "way": way, "threads": threads,
                                  "models": models, "epochs": epochs,
                                  "us_per_model_epoch": seconds * 1e6 / (models * epochs)}),
                      flush=True)


if __name__ == "__main__":
    main()
