#!/usr/bin/env python3
"""K models of the seed's demos trained in Python, for scripts/bench.sh to set beside fitreel's
batched sweep: one after another (the textbook loop) and as a functorch vmap(grad) ensemble
(stacked parameters, one vectorized gradient and one Adagrad update for all K per epoch).
Prints one line per (demo, K, way): "demo K way us_per_model_epoch"."""
import argparse
import time

import torch
from functorch import combine_state_for_ensemble, grad, vmap
from functorch import make_functional  # noqa: F401  (1.13: combine_state needs it imported)


def demo_data(demo, n=100):
    x = torch.arange(n, dtype=torch.float32).view(-1, 1)
    if demo == "line":
        return x, -0.5 * x + 2 + (torch.rand(n, 1) * 10 - 5)
    return x, x.clone()


def make_model(demo):
    if demo == "line":
        return torch.nn.Linear(1, 1)
    return torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.Sigmoid(), torch.nn.Linear(2, 1))


def one_after_another(demo, k, epochs, lr):
    x, y = demo_data(demo)
    start = time.perf_counter()
    for seed in range(k):
        torch.manual_seed(seed)
        model = make_model(demo)
        optimizer = torch.optim.Adagrad(model.parameters(), lr=lr)
        loss_fn = torch.nn.MSELoss()
        for _ in range(epochs):
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
    return (time.perf_counter() - start) / (k * epochs)


def vmap_adagrad_seconds(nets, x, y, epochs, lr, warmup=20):
    """Seconds that `epochs` epochs of the nets take as one functorch vmap(grad) ensemble with
    Adagrad (after `warmup` epochs: the first calls trace and allocate, not what a long run
    costs)."""
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
            p.addcdiv_(g, s.sqrt().add_(1e-10), value=-lr)

    with torch.no_grad():
        for _ in range(warmup):
            step()
        start = time.perf_counter()
        for _ in range(epochs):
            step()
    return time.perf_counter() - start


def seeded_models(make, k):
    """k models, model i drawn by make() right after torch.manual_seed(i)."""
    models = []
    for seed in range(k):
        torch.manual_seed(seed)
        models.append(make())
    return models


def vmap_ensemble(demo, k, epochs, lr):
    x, y = demo_data(demo)
    models = seeded_models(lambda: make_model(demo), k)
    return vmap_adagrad_seconds(models, x, y, epochs, lr) / (k * epochs)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--loop-epochs", type=int, default=200, help="the slow loop runs fewer")
    parser.add_argument("--sizes", default="16,64")
    args = parser.parse_args()
    torch.set_num_threads(2)
    for demo, lr in (("net", 0.1), ("line", 0.01)):
        for k in (int(s) for s in args.sizes.split(",")):
            loop = one_after_another(demo, k, args.loop_epochs, lr)
            ensemble = vmap_ensemble(demo, k, args.epochs, lr)
            print(f"{demo} {k} python_loop {loop * 1e6:.2f}")
            print(f"{demo} {k} functorch_vmap {ensemble * 1e6:.2f}")


if __name__ == "__main__":
    main()
