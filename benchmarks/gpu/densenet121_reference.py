#!/usr/bin/env python3
"""PyTorch's DenseNet-121 training step, the reference `podgap run train --proxy densenet121` is
compared with (benchmarks/gpu/README.md): torchvision's densenet121 with CheXNet's 14-class head
(27.9 MB of float32 gradients), synthetic 224x224 images, SGD, one GPU. Prints one JSON line.

    python3 benchmarks/gpu/densenet121_reference.py --batch 64 --precision tf32

fp32: plain float32 (TF32 off for matmuls and convolutions); tf32: TF32 tensor cores on
(torch.backends.{cuda.matmul,cudnn}.allow_tf32); bf16: autocast to bfloat16, float32 weights,
as podgap's bf16 keeps float32 storage.
"""
import argparse
import json
import statistics
import time

import torch
import torchvision


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--precision", choices=["fp32", "tf32", "bf16"], default="tf32")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--classes", type=int, default=14)
    args = parser.parse_args()

    torch.backends.cuda.matmul.allow_tf32 = args.precision == "tf32"
    torch.backends.cudnn.allow_tf32 = args.precision == "tf32"
    torch.backends.cudnn.benchmark = True
    device = torch.device("cuda")
    model = torchvision.models.densenet121(num_classes=args.classes).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_function = torch.nn.BCEWithLogitsLoss()
    images = torch.randn(args.batch, 3, 224, 224, device=device)
    labels = (torch.rand(args.batch, args.classes, device=device) > 0.5).float()
    parameters = sum(p.numel() for p in model.parameters() if p.requires_grad)

    def step():
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=args.precision == "bf16"):
            loss = loss_function(model(images), labels)
        loss.backward()
        optimizer.step()
        return loss

    for _ in range(args.warmup):
        step()
    torch.cuda.synchronize()
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        step()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(json.dumps({
        "reference": "pytorch densenet121", "torch": torch.__version__, "gpu": torch.cuda.get_device_name(device),
        "batch": args.batch, "precision": args.precision, "steps": args.steps,
        "step_ms": round(median * 1e3, 3), "images_per_second": round(args.batch / median, 1),
        "parameters": parameters, "gradient_bytes": parameters * 4,
    }))


if __name__ == "__main__":
    main()
