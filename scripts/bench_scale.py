#!/usr/bin/env python3
"""The Python side of scripts/bench_scale.sh's table: a 1-H-1 tanh net, Adagrad lr 0.01, MSE,
full batch, x = y = 0..N-1, trained by the textbook loop (one model) and as a functorch
vmap(grad) ensemble of K models (stacked parameters, one vectorized gradient and one Adagrad
update for all K per epoch). Each measurement runs at least --min-seconds and 20 epochs: a
20-epoch pilot sizes the run. Prints one JSON object per line:
  {"n": N, "h": H, "way": "python_loop" | "functorch_vmap", "threads": T, "models": K,
   "epochs": E, "us_per_model_epoch": X}"""
import argparse
import json
import math
import time

import torch
from functorch import combine_state_for_ensemble, grad, vmap
from functorch import make_functional  # noqa: F401  (1.13: combine_state needs it imported)

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
    nets = []
    for seed in range(models):
        torch.manual_seed(seed)
        nets.append(make_net(hidden))
    fmodel, params, buffers = combine_state_for_ensemble(nets)
    params = [p.detach() for p in params]
    sums = [torch.zeros_like(p) for p in params]

    def loss_of(p, b, xs, ys):
        return ((fmodel(p, b, xs) - ys) ** 2).mean()

    gradients = vmap(grad(loss_of), in_dims=(0, 0, None, None))

    def step():
        grads = gradients(params, buffers, x, y)
        for p, s, g in zip(params, sums, grads):  # Adagrad, as torch.optim's
            s.addcmul_(g, g)
            p.addcdiv_(g, s.sqrt().add_(1e-10), value=-LR)

    with torch.no_grad():
        for _ in range(5):  # the first calls trace and allocate: not what a long run costs
            step()
        start = time.perf_counter()
        for _ in range(epochs):
            step()
    return time.perf_counter() - start


def measured(run, min_seconds):
    """(epochs, seconds) of a run of at least min_seconds and 20 epochs."""
    pilot = run(20)
    epochs = max(20, math.ceil(20 * min_seconds / max(pilot, 1e-9) * 1.1))
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
