"""Peer: PyTorch (and NumPy for SGEMM), run by bench/run.ts as `python3 torch_bench.py '<case JSON>'`.

Mirrors bench/common.ts: the same workloads (LeNet-5 and the ConvNetJS CIFAR-10 net trained with SGD +
momentum on one fixed random batch of 64, a ResNet-18 training step, ResNet-18/50 inference at 224x224 or
the case's "size", random weights, float32 matmul), the same timing policy (warm-up runs, then timed runs
until the budget is spent, median), and the same result line. Threads are set by the caller through OMP_NUM_THREADS / OPENBLAS_NUM_THREADS before
this interpreter starts, and again with torch.set_num_threads.
"""

import json
import statistics
import sys
import time

RESULT_PREFIX = "BENCH_RESULT "
LR = 0.01
MOMENTUM = 0.9


def emit(result):
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def time_it(fn, spec):
    for _ in range(spec["warmup"]):
        t0 = time.perf_counter()
        fn()
        dt = (time.perf_counter() - t0) * 1000
        if dt > spec["maxRunMs"]:
            raise TimeoutError("one run takes %.1f s" % (dt / 1000))
    times = []
    start = time.perf_counter()
    budget = spec["budgetMs"] / 1000
    while len(times) < spec["minReps"] or time.perf_counter() - start < budget:
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
        if len(times) >= 2 and time.perf_counter() - start > 3 * budget:
            break
    return statistics.median(times), len(times)


def training_net(nn, task):
    if task == "lenet":
        return nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(400, 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, 10),
        ), (1, 28, 28)
    return nn.Sequential(
        nn.Conv2d(3, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 20, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(20, 20, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(320, 10),
    ), (3, 32, 32)


def training(torch, spec):
    nn = torch.nn
    if spec["task"] == "resnet18-train":
        model, note = resnet(torch, 18)
        size = spec.get("size", 224)
        c, h, w = 3, size, size
    else:
        (model, (c, h, w)), note = training_net(nn, spec["task"]), None
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = nn.CrossEntropyLoss()
    b = spec["batch"]
    x = torch.rand(b, c, h, w)
    y = torch.randint(0, 10, (b,))

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    ms, reps = time_it(step, spec)
    result = {"value": b * 1000 / ms, "unit": "img/s", "reps": reps}
    if note:
        result["note"] = note
    return result


def hand_resnet(nn, depth):
    """torchvision's ResNet layout, for interpreters without torchvision."""

    class Block(nn.Module):
        def __init__(self, cin, planes, stride, bottleneck):
            super().__init__()
            out = planes * (4 if bottleneck else 1)
            if bottleneck:
                layers = [nn.Conv2d(cin, planes, 1, bias=False), nn.BatchNorm2d(planes), nn.ReLU(),
                          nn.Conv2d(planes, planes, 3, stride, 1, bias=False), nn.BatchNorm2d(planes), nn.ReLU(),
                          nn.Conv2d(planes, out, 1, bias=False), nn.BatchNorm2d(out)]
            else:
                layers = [nn.Conv2d(cin, planes, 3, stride, 1, bias=False), nn.BatchNorm2d(planes), nn.ReLU(),
                          nn.Conv2d(planes, planes, 3, 1, 1, bias=False), nn.BatchNorm2d(planes)]
            self.body = nn.Sequential(*layers)
            self.down = None
            if stride != 1 or cin != out:
                self.down = nn.Sequential(nn.Conv2d(cin, out, 1, stride, bias=False), nn.BatchNorm2d(out))
            self.relu = nn.ReLU()

        def forward(self, x):
            return self.relu(self.body(x) + (self.down(x) if self.down is not None else x))

    bottleneck = depth == 50
    counts = [3, 4, 6, 3] if bottleneck else [2, 2, 2, 2]
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for stage, (planes, n) in enumerate(zip([64, 128, 256, 512], counts)):
        for i in range(n):
            layers.append(Block(cin, planes, 2 if i == 0 and stage > 0 else 1, bottleneck))
            cin = planes * (4 if bottleneck else 1)
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 1000)]
    return nn.Sequential(*layers)


def resnet(torch, depth):
    """torchvision's ResNet (random weights), or the same layout by hand without torchvision; and a note."""
    try:
        import torchvision

        return getattr(torchvision.models, "resnet%d" % depth)(), None
    except ImportError:
        return hand_resnet(torch.nn, depth), "torchvision missing: hand-built ResNet"


def inference(torch, spec):
    model, note = resnet(torch, 18 if spec["task"] == "resnet18" else 50)
    model.eval()
    b = spec["batch"]
    size = spec.get("size", 224)
    x = torch.rand(b, 3, size, size)
    mode = getattr(torch, "inference_mode", torch.no_grad)

    def run():
        with mode():
            return model(x)

    ms, reps = time_it(run, spec)
    result = {"value": ms, "unit": "ms", "reps": reps} if b == 1 else {"value": b * 1000 / ms, "unit": "img/s", "reps": reps}
    if note:
        result["note"] = note
    return result


def sgemm(spec, matmul, make):
    values = {}
    for m, n, k in spec["shapes"]:
        a, b = make(m, k), make(k, n)
        ms, _ = time_it(lambda: matmul(a, b), spec)
        values["%dx%dx%d" % (m, n, k)] = 2 * m * n * k / (ms * 1e6)
    return {"values": values, "unit": "GFLOP/s"}


def openblas_core(np):
    """The kernel family NumPy's bundled OpenBLAS picked (e.g. SkylakeX = AVX-512, Haswell = AVX2), or None."""
    import ctypes
    import glob
    import os

    for lib in glob.glob(os.path.join(os.path.dirname(np.__file__), "..", "numpy.libs", "*openblas*")):
        handle = ctypes.CDLL(lib)
        for name in ("scipy_openblas_get_corename64_", "openblas_get_corename64_", "openblas_get_corename"):
            fn = getattr(handle, name, None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                return fn().decode()
    return None


def main():
    spec = json.loads(sys.argv[1])
    if spec["impl"] == "numpy":
        import numpy as np

        rng = np.random.default_rng(1)
        result = sgemm(spec, np.matmul, lambda r, c: rng.random((r, c), dtype=np.float32))
        core = openblas_core(np)
        if core:
            result["note"] = "OpenBLAS %s kernels" % core
        result["actualThreads"] = spec["threads"]
        return emit(result)
    try:
        import torch
    except ImportError:
        return emit({"skip": "PyTorch is not installed for %s" % sys.executable})
    torch.set_num_threads(spec["threads"])
    torch.manual_seed(0)
    if spec["task"] == "sgemm":
        result = sgemm(spec, torch.mm, lambda r, c: torch.rand(r, c))
    elif spec["task"] in ("lenet", "cifar", "resnet18-train"):
        result = training(torch, spec)
    else:
        result = inference(torch, spec)
    result["actualThreads"] = torch.get_num_threads()
    result["note"] = ((result.get("note") or "") + " torch %s" % torch.__version__).strip()
    emit(result)


if __name__ == "__main__":
    try:
        main()
    except TimeoutError as e:
        emit({"skip": "too slow: %s" % e})
    except Exception as e:  # a peer failing must not stop the benchmark
        emit({"skip": "failed: %s" % str(e).splitlines()[0][:200] if str(e) else type(e).__name__})
