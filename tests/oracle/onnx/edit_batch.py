"""Edits ONNX files with the onnx package (not graft) for graft's audit, many in one Python start.

usage: edit_batch.py JOBS.json

JOBS.json is a list of {"model": IN.onnx, "out": OUT.onnx, "tensors": {NAME: FILE.npy, ...},
"output": VALUE}. Each job loads IN.onnx, replaces the initializers named in "tensors" by the
arrays (same name, dtype and element count, or the job fails; a flat array takes the
initializer's shape), and, when "output" is given, makes that
value the graph's only output (its type from onnx.shape_inference, else float of unknown shape).
A job that cannot be done gets OUT.onnx.error.txt holding the reason instead.
"""
import json
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, shape_inference


def edit(job):
    m = onnx.load(job["model"])
    tensors = job.get("tensors") or {}
    inits = {t.name: t for t in m.graph.initializer}
    for name, path in tensors.items():
        if name not in inits:
            raise ValueError("no initializer '%s' in %s" % (name, job["model"]))
        old = numpy_helper.to_array(inits[name])
        new = np.load(path)
        if new.size == old.size and new.dtype == old.dtype:
            new = new.reshape(old.shape)  # checkpoints may hold tensors flat
        if old.shape != new.shape or old.dtype != new.dtype:
            raise ValueError("initializer '%s' is %s %s, the array %s %s" % (name, old.dtype, old.shape, new.dtype, new.shape))
        inits[name].CopyFrom(numpy_helper.from_array(new, name))
    value = job.get("output")
    if value:
        typed = {v.name: v for v in list(m.graph.output) + list(m.graph.value_info) + list(m.graph.input)}
        if value not in typed:
            try:
                inferred = shape_inference.infer_shapes(m)
                typed.update({v.name: v for v in inferred.graph.value_info})
            except Exception:
                pass
        vi = typed.get(value) or helper.make_tensor_value_info(value, onnx.TensorProto.FLOAT, None)
        del m.graph.output[:]
        m.graph.output.append(vi)
    onnx.save(m, job["out"])


def main():
    with open(sys.argv[1]) as f:
        jobs = json.load(f)
    for job in jobs:
        try:
            edit(job)
        except Exception as e:  # the reason is data for the caller
            with open(job["out"] + ".error.txt", "w") as f:
                f.write(str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__)


if __name__ == "__main__":
    main()
