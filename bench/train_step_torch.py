"""PyTorch side of bench/train_step_vs_torch.sh: builds the two benchmark models, exports them to
ONNX (in training mode, so Dropout stays in the graph) for graft, and times torch's own SGD
steps (momentum 0.9, dropout on) on the same shapes.
  head:   Flatten(512x7x7 = 25088) -> Dense 256 relu -> Dropout 0.5 -> Dense 2, batch 32
  block5: VGG16 block5 (3 x conv3x3 512 + relu, maxpool) + that head, batch 8, 14x14x512 input
Usage: train_step_torch.py OUTDIR STEPS  (prints 'NAME ms_per_step')"""
import sys
import time

import torch
from torch import nn

torch.manual_seed(0)
torch.set_num_threads(int(__import__("os").environ.get("BENCH_THREADS", "2")))
out, steps = sys.argv[1], int(sys.argv[2])


def head():
    return nn.Sequential(nn.Flatten(), nn.Linear(25088, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 2))


def block5():
    layers = []
    for _ in range(3):
        layers += [nn.Conv2d(512, 512, 3, padding=1), nn.ReLU()]
    layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers, head())


for name, model, shape in [("head", head(), (32, 512, 7, 7)), ("block5", block5(), (8, 512, 14, 14))]:
    model.train()
    x = torch.randn(*shape)
    y = torch.randint(0, 2, (shape[0],))
    torch.onnx.export(model, x, "%s/%s.onnx" % (out, name), opset_version=13, input_names=["input"],
                      output_names=["logits"], training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False,
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    for _ in range(2):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    print("%s %.3f" % (name, (time.perf_counter() - t0) / steps * 1000))
