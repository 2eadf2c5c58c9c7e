#!/usr/bin/python3
"""Groups the silent-output audit's per-file matrix (target/audit/matrix.md) into the README's
table: one row per kind of source, each cell the counts of each result ("24 ok <=6e-07",
"4 refused (3)"), the worst error of the ok cells shown.

Run: /usr/bin/python3 tests/audit_table.py target/audit/matrix.md
"""
import re
import sys
from collections import OrderedDict

GROUPS = [
    ("Caffe nets (corpus)", lambda s: s.startswith("corpus/caffe/")),
    ("Keras tfkeras cnn2d_*", lambda s: "corpus/keras/tfkeras/" in s),
    ("Keras other (corpus: 12net, cnn_batch_norm, activations, weights/)", lambda s: s.startswith("corpus/keras/")),
    ("ONNX light_* (VGG19, SqueezeNet, ResNet50, Inception v1)", lambda s: "corpus/onnx/light/" in s),
    ("ONNX other (corpus: output_cnn_mnist)", lambda s: s.startswith("corpus/onnx/")),
    ("fixtures/fuzz: seed copies of corpus files", lambda s: s.startswith("fixtures/fuzz/")),
    ("fixtures (ONNX, Keras, Caffe)", lambda s: s.startswith("fixtures/")),
]

rows = [l for l in open(sys.argv[1]) if l.startswith("| ") and not l.startswith("| source")]
header = [c.strip() for c in open(sys.argv[1]).readline().strip().strip("|").split("|")]
groups = OrderedDict((g, []) for g, _ in GROUPS)
for l in rows:
    cells = [c.strip() for c in l.strip().strip("|").split("|")]
    for g, test in GROUPS:
        if test(cells[0]):
            groups[g].append(cells)
            break


def summary(values):
    counts = OrderedDict()
    worst = {}
    for v in values:
        m = re.match(r"ok (\d\.\de[-+]\d+|\d+e[-+]\d+)$", v)
        if m:
            key = "ok"
            worst[key] = max(worst.get(key, 0.0), float(m.group(1)))
        elif v.startswith("ok"):
            key = "ok (graft only)"
        elif v.startswith("refused"):
            key = re.match(r"refused \((\d)", v) and "refused (%s)" % re.match(r"refused \((\d)", v).group(1) or "refused"
        elif v.startswith("n/a"):
            key = "n/a"
        elif v == "":
            key = "-"
        else:
            key = v.split(" ")[0]
        counts[key] = counts.get(key, 0) + 1
    parts = []
    for k, n in counts.items():
        parts.append("%d %s" % (n, k + (" ≤%.0e" % worst[k] if k in worst else "")))
    return ", ".join(parts)


print("| sources (files) | " + " | ".join(header[1:]) + " |")
print("|---" * len(header) + "|")
for g, cells in groups.items():
    if not cells:
        continue
    print("| %s (%d) | " % (g, len(cells)) + " | ".join(summary([c[i] if i < len(c) else "" for c in cells]) for i in range(1, len(header))) + " |")
