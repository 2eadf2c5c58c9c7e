"""PyTorch side of bench/modern_train_step_vs_torch.sh (issue #16). Two fine-tuning steps, SGD
momentum 0.9, lr 0.01, mean cross-entropy, BatchNormalization frozen (BN modules in eval(): running
statistics in the forward pass, none updated; gamma and beta still train), everything else in
train() (MobileNetV2's Dropout(0.2) on):
  resnet50_stage5  Keras ResNet50's stage 5 (conv5_block1..3: Keras's v1 bottlenecks, the stride on
                   the first 1x1 convolution and on the shortcut, biased convolutions, BN epsilon
                   1.001e-5) + a new head (GlobalAveragePool + Dense 5), batch 8, on cached
                   conv4_block6_out tensors (8, 1024, 14, 14), fixed across steps
  mobilenet_v2     torchvision mobilenet_v2 (5 classes), whole network trainable, batch 8, 224x224
Writes each as OUT/NAME.onnx with onnx.helper from the module's own tensors (torch.onnx.export
in eval mode folds BatchNormalization into the convolutions, in training mode it exports batch
statistics: neither is the step measured here), then times torch's own steps.
Usage: modern_train_step_torch.py OUTDIR STEPS   (prints 'NAME ms_per_step')"""
import os
import sys
import time

import numpy as np
import onnx
import torch
import torchvision
from onnx import TensorProto, helper, numpy_helper
from torch import nn

torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
out, steps = sys.argv[1], int(sys.argv[2])


class Block(nn.Module):
    """Keras ResNet50 v1 bottleneck (stack1's block): 1x1 (stride s) -> 3x3 same -> 1x1 (4x)."""

    def __init__(self, cin, filters, stride, shortcut):
        super().__init__()
        self.c1 = nn.Conv2d(cin, filters, 1, stride)
        self.b1 = nn.BatchNorm2d(filters, eps=1.001e-5)
        self.c2 = nn.Conv2d(filters, filters, 3, 1, 1)
        self.b2 = nn.BatchNorm2d(filters, eps=1.001e-5)
        self.c3 = nn.Conv2d(filters, 4 * filters, 1)
        self.b3 = nn.BatchNorm2d(4 * filters, eps=1.001e-5)
        self.c0 = nn.Conv2d(cin, 4 * filters, 1, stride) if shortcut else None
        self.b0 = nn.BatchNorm2d(4 * filters, eps=1.001e-5) if shortcut else None

    def forward(self, x):
        s = self.b0(self.c0(x)) if self.c0 is not None else x
        y = torch.relu(self.b1(self.c1(x)))
        y = torch.relu(self.b2(self.c2(y)))
        return torch.relu(s + self.b3(self.c3(y)))


class Stage5(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.Sequential(Block(1024, 512, 2, True), Block(2048, 512, 1, False), Block(2048, 512, 1, False))
        self.fc = nn.Linear(2048, 5)

    def forward(self, x):
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(self.blocks(x), 1), 1))


class Onnx:
    """Nodes and initializers written from torch modules, by their state_dict names."""

    def __init__(self, model):
        self.nodes = []
        self.names = {m: n for n, m in model.named_modules()}
        self.count = 0

    def node(self, op, inputs, **attrs):
        self.count += 1
        y = "t%d" % self.count
        self.nodes.append(helper.make_node(op, inputs, [y], name="%s_%d" % (op, self.count), **attrs))
        return y

    def conv(self, m, x):
        n = self.names[m]
        ins = [x, n + ".weight"] + ([n + ".bias"] if m.bias is not None else [])
        k = m.kernel_size
        return self.node("Conv", ins, kernel_shape=list(k), strides=list(m.stride), group=m.groups,
                         pads=[m.padding[0], m.padding[1], m.padding[0], m.padding[1]])

    def bn(self, m, x):
        n = self.names[m]
        return self.node("BatchNormalization", [x, n + ".weight", n + ".bias", n + ".running_mean", n + ".running_var"],
                         epsilon=m.eps, momentum=1 - m.momentum)

    def module(self, m, x):
        from torchvision.models.mobilenetv2 import InvertedResidual
        if isinstance(m, nn.Sequential):
            for c in m:
                x = self.module(c, x)
            return x
        if isinstance(m, InvertedResidual):
            y = self.module(m.conv, x)
            return self.node("Add", [x, y]) if m.use_res_connect else y
        if isinstance(m, Block):
            s = self.bn(m.b0, self.conv(m.c0, x)) if m.c0 is not None else x
            y = self.node("Relu", [self.bn(m.b1, self.conv(m.c1, x))])
            y = self.node("Relu", [self.bn(m.b2, self.conv(m.c2, y))])
            return self.node("Relu", [self.node("Add", [s, self.bn(m.b3, self.conv(m.c3, y))])])
        if isinstance(m, nn.Conv2d):
            return self.conv(m, x)
        if isinstance(m, nn.BatchNorm2d):
            return self.bn(m, x)
        if isinstance(m, nn.ReLU6):
            return self.node("Clip", [x, "zero", "six"])
        if isinstance(m, nn.ReLU):
            return self.node("Relu", [x])
        if isinstance(m, nn.Dropout):
            return self.node("Dropout", [x, "dropout_ratio"])
        if isinstance(m, nn.Linear):
            return self.node("Gemm", [x, self.names[m] + ".weight", self.names[m] + ".bias"], transB=1)
        raise SystemExit("no ONNX spelling here for %s" % type(m).__name__)

    def pool_flatten(self, x):
        return self.node("Flatten", [self.node("GlobalAveragePool", [x])], axis=1)


def write(model, body, path, shape):
    w = Onnx(model)
    y = body(w)
    w.nodes.append(helper.make_node("Identity", [y], ["logits"], name="logits"))
    inits = [numpy_helper.from_array(v.detach().numpy().astype(np.float32), k) for k, v in model.state_dict().items()
             if not k.endswith("num_batches_tracked")]
    inits += [numpy_helper.from_array(np.array(v, np.float32), k) for k, v in (("zero", 0), ("six", 6), ("dropout_ratio", 0.2))]
    g = helper.make_graph(w.nodes, "step", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N"] + list(shape[1:]))],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 5])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(m)
    onnx.save(m, path)


def randomize_bn(model):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.7, 1.3)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)


torch.manual_seed(0)
stage5 = Stage5()
mnv2 = torchvision.models.mobilenet_v2(weights=None, num_classes=5)
cases = [("resnet50_stage5", stage5, lambda w: w.module(stage5.fc, w.pool_flatten(w.module(stage5.blocks, "x"))), (8, 1024, 14, 14)),
         ("mobilenet_v2", mnv2, lambda w: w.module(mnv2.classifier, w.pool_flatten(w.module(mnv2.features, "x"))), (8, 3, 224, 224))]
which = set(os.environ.get("BENCH_MODELS", "resnet50_stage5 mobilenet_v2").split())
for name, model, body, shape in cases:
    if name not in which:
        continue
    randomize_bn(model)
    write(model, body, "%s/%s.onnx" % (out, name), shape)
    model.train()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()
    x = torch.randn(*shape)  # the cached trunk output (stage 5) or the image batch: fixed across steps
    y = torch.randint(0, 5, (shape[0],))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    for _ in range(2):
        step()
    t = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        t.append((time.perf_counter() - t0) * 1000)
    print("%s %.3f" % (name, float(np.median(t))))
