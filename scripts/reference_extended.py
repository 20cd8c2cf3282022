#!/usr/bin/env python3
"""Python PyTorch reference for fitreel's settings beyond the seed's: wider nets, other
activations, other optimizers. It follows the parity contract of
../shared/reference/seed_reference.py exactly (manual_seed, then the data, then the layers
constructed first to last), and prints the same JSON document, plus the settings it used.
Run it with Debian's /usr/bin/python3 (python3-torch); scripts/make-goldens.sh calls it.

The training set-up (TrainOptions) too, as a plain PyTorch loop: the loss (--loss), the
optimizer's settings (--momentum, --weight-decay, --nesterov, --betas, ...), a learning-rate
schedule (--lr-schedule, scheduler.step() after every epoch), mini-batches (--batch-size: a
DataLoader(TensorDataset(x, y), batch_size, shuffle=True) made after the model and the
optimizer; the epoch's loss is the mean of its batches' loss.item()), and checkpoints
(--save, --save-at, --load: {"model", "optimizer", "epoch", "rng_state"}, as fitreel's
save_checkpoint(model, state, path) writes them). Without these options the output is what it
always was, byte for byte.
"""
import argparse
import json
import pickle
import sys
import warnings

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


def make_loss(a):
    if a.loss == "l1":
        return nn.L1Loss()
    if a.loss == "huber":
        return nn.HuberLoss(delta=a.huber_delta)
    return nn.MSELoss()


def optimizer_settings(a):
    """The keyword arguments given on the command line (none: the optimizer's defaults)."""
    given = {}
    if a.weight_decay is not None:
        given["weight_decay"] = a.weight_decay
    if a.optimizer == "sgd":
        if a.momentum is not None:
            given["momentum"] = a.momentum
        if a.dampening is not None:
            given["dampening"] = a.dampening
        if a.nesterov:
            given["nesterov"] = True
    elif a.momentum is not None or a.nesterov or a.dampening is not None:
        sys.exit("--momentum, --dampening and --nesterov are SGD's")
    if a.optimizer == "adam":
        if a.betas is not None:
            b1, b2 = (float(b) for b in a.betas.split(","))
            given["betas"] = (b1, b2)
        if a.amsgrad:
            given["amsgrad"] = True
    elif a.betas is not None or a.amsgrad:
        sys.exit("--betas and --amsgrad are Adam's")
    if a.optimizer == "adagrad":
        if a.lr_decay is not None:
            given["lr_decay"] = a.lr_decay
    elif a.lr_decay is not None:
        sys.exit("--lr-decay is Adagrad's")
    if a.eps is not None:
        given["eps"] = a.eps
    return given


def make_scheduler(spec, opt):
    """step:SIZE:GAMMA, exp:GAMMA or cosine:TMAX[:ETA_MIN]."""
    kind, *values = spec.split(":")
    if kind == "step" and len(values) == 2:
        return optim.lr_scheduler.StepLR(opt, step_size=int(values[0]), gamma=float(values[1]))
    if kind == "exp" and len(values) == 1:
        return optim.lr_scheduler.ExponentialLR(opt, gamma=float(values[0]))
    if kind == "cosine" and len(values) in (1, 2):
        eta_min = float(values[1]) if len(values) == 2 else 0.0
        return optim.lr_scheduler.CosineAnnealingLR(opt, T_max=int(values[0]), eta_min=eta_min)
    sys.exit("--lr-schedule: give step:SIZE:GAMMA, exp:GAMMA or cosine:TMAX[:ETA_MIN]")


def save(path, model, opt, epoch, prefix):
    state = {prefix + k: v for k, v in model.state_dict().items()}
    torch.save({"model": state, "optimizer": opt.state_dict(), "epoch": epoch,
                "rng_state": torch.get_rng_state()}, path)


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
    p.add_argument("--loss", default="mse", choices=["mse", "l1", "huber"])
    p.add_argument("--huber-delta", type=float, default=1.0)
    p.add_argument("--batch-size", type=int, default=0,
                   help="samples per step, shuffled each epoch by a DataLoader (0: full batch)")
    p.add_argument("--momentum", type=float)
    p.add_argument("--dampening", type=float)
    p.add_argument("--nesterov", action="store_true")
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--betas", help="adam: B1,B2")
    p.add_argument("--amsgrad", action="store_true")
    p.add_argument("--lr-decay", type=float)
    p.add_argument("--eps", type=float)
    p.add_argument("--lr-schedule", help="step:SIZE:GAMMA, exp:GAMMA or cosine:TMAX[:ETA_MIN]")
    p.add_argument("--save", help="write a checkpoint (model, optimizer, epoch, rng_state)")
    p.add_argument("--save-at", type=int,
                   help="with --save: after this many epochs of this run (default: at the end)")
    p.add_argument("--load", help="start from this checkpoint (fitreel's or --save's)")
    p.add_argument("--every-loss", action="store_true", help="also list every epoch's loss")
    a = p.parse_args()
    hidden = [int(h) for h in a.hidden.split(",")]
    if a.batch_size < 0:
        sys.exit("--batch-size must be >= 0")
    if a.save_at is not None and (a.save is None or not 1 <= a.save_at <= a.epochs):
        sys.exit("--save-at needs --save and an epoch from 1 to --epochs")

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
    settings = optimizer_settings(a)
    opt = OPTIMIZERS[a.optimizer](model.parameters(), lr=a.lr, **settings)
    start = 0
    if a.load:
        # A fitreel checkpoint names a line model's parameters "0.weight" (its Sequential);
        # Python's nn.Linear(1, 1) here calls them "weight".
        try:
            saved = torch.load(a.load, weights_only=True)
        except pickle.UnpicklingError:
            # PyTorch 1.13's weights-only reader lacks BINFLOAT, the opcode of every float in
            # an optimizer.state_dict() (its own too); 2.0 reads it. These files are the tests'.
            if int(torch.__version__.split(".")[0]) >= 2:
                raise
            saved = torch.load(a.load)
        state = saved["model"] if "model" in saved else saved
        if a.demo == "line":
            state = {k[2:] if k.startswith("0.") else k: v for k, v in state.items()}
        model.load_state_dict(state)
        if saved.get("optimizer") is not None:
            opt.load_state_dict(saved["optimizer"])
        if saved.get("rng_state") is not None:
            torch.set_rng_state(saved["rng_state"])
        start = int(saved.get("epoch") or 0)
        out["start_epoch"] = start
    out["initial_params"] = params(model)
    if a.loss != "mse":
        out["loss"] = a.loss
        if a.loss == "huber":
            out["huber_delta"] = a.huber_delta
    if settings:
        out["optimizer_settings"] = {k: list(v) if isinstance(v, tuple) else v
                                     for k, v in settings.items()}
    scheduler = None
    if a.lr_schedule:
        out["lr_schedule"] = a.lr_schedule
        # A resumed run's scheduler stands where the straight run's stood: made over the
        # initial rate, then stepped once per epoch already done.
        for group in opt.param_groups:
            group["lr"] = a.lr
        scheduler = make_scheduler(a.lr_schedule, opt)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "lr_scheduler.step() before optimizer.step()"
            for _ in range(start):
                scheduler.step()
    loader = None
    if a.batch_size > 0:
        out["batch_size"] = a.batch_size
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xt, yt),
                                             batch_size=a.batch_size, shuffle=True)
    loss_fn = make_loss(a)
    marks = sorted({e for e in (0, 1, 2, 10, 100, 1000, a.epochs - 1) if 0 <= e < a.epochs})
    losses, rates, every = {}, {}, []
    for e in range(a.epochs):
        rate = opt.param_groups[0]["lr"]
        if loader is None:
            opt.zero_grad()
            loss = loss_fn(model(xt), yt)
            loss.backward()
            opt.step()
            value = loss.item()
        else:
            batch_losses = []
            for xb, yb in loader:
                opt.zero_grad()
                loss = loss_fn(model(xb), yb)
                loss.backward()
                opt.step()
                batch_losses.append(loss.item())
            value = sum(batch_losses) / len(batch_losses)
        if scheduler is not None:
            scheduler.step()
        if e in marks:
            losses[str(e)] = value
            rates[str(e)] = rate
        if a.every_loss:
            every.append(value)
        if a.save is not None and e + 1 == (a.save_at or a.epochs):
            # The line's nn.Linear as fitreel's Sequential(Linear) names it.
            save(a.save, model, opt, start + e + 1, "0." if a.demo == "line" else "")
    out["final_params"] = params(model)
    out["loss_at_epoch"] = losses
    if scheduler is not None:
        out["rates"] = rates
    if a.every_loss:
        out["losses"] = every
    if a.demo == "line":
        with torch.no_grad():
            out["test_mse"] = nn.MSELoss()(model(x[test].view(-1, 1)),
                                           y[test].view(-1, 1)).item()
            if a.loss != "mse":
                out["test_loss"] = loss_fn(model(x[test].view(-1, 1)), y[test].view(-1, 1)).item()
    out["torch_version"] = torch.__version__
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
