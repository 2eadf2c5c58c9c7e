#!/usr/bin/python3
"""Writes converters/onnx/java/graft/onnx/OpSchemaTable.java: the signature of every version of
every default-domain ONNX op up to opset 21 (inputs with their type variable and optional or
variadic marks, attribute names with a required mark, allowed element types per type variable).

Opsets 1..17 come from the installed onnx package's own schemas (Debian python3-onnx 1.12
knows opsets up to 17). Versions 18..21 are not in that package: they are written below by hand
from the ONNX operator changelog, each as a change of the op's previous version; ONNX Runtime,
which loads every model graft writes in the tests, checks them independently.

Run: /usr/bin/python3 converters/onnx/schemas/make_op_schemas.py
"""
import os

import onnx.defs as defs

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "java", "graft", "onnx", "OpSchemaTable.java")
OPT = {0: "", 1: "?", 2: "*"}


def short(t):
    return t[len("tensor("):-1] if t.startswith("tensor(") and t.count("(") == 1 else t.replace(" ", "")


table = {}
for s in defs.get_all_schemas_with_history():
    if s.domain != "" or s.since_version > 17:
        continue
    ins = [p.name + ":" + short(p.typeStr) + OPT[int(p.option)] for p in s.inputs]
    outs = [p.name + ":" + short(p.typeStr) + OPT[int(p.option)] for p in s.outputs]
    attrs = sorted(k + ("!" if a.required else "") for k, a in s.attributes.items())
    types = {t.type_param_str: sorted(short(x) for x in t.allowed_type_strs) for t in s.type_constraints}
    table[(s.name, s.since_version)] = (ins, attrs, types, bool(s.deprecated), outs)


def latest(op):
    return max(v for (o, v) in table if o == op)


def bump(op, version, inputs=None, add=(), remove=(), types=None):
    """A new version of op: its previous signature with the given changes."""
    ins, attrs, ty, _, outs = table[(op, latest(op))]
    attrs = sorted((set(attrs) - set(remove)) | set(add))
    ty = dict(ty)
    ty.update(types or {})
    table[(op, version)] = (list(inputs or ins), attrs, ty, False, outs)


def new(op, version, inputs, attrs, types):
    table[(op, version)] = (inputs, sorted(attrs), types, False, [])


# Opset 18.
for r in ["ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin",
          "ReduceProd", "ReduceSumSquare"]:
    bump(r, 18, inputs=["data:T", "axes:int64?"], add=["noop_with_empty_axes"], remove=["axes"])
bump("Pad", 18, inputs=["data:T", "pads:int64", "constant_value:T?", "axes:Tind?"],
     types={"Tind": ["int32", "int64"]})
bump("Resize", 18, add=["antialias", "axes", "keep_aspect_ratio_policy"])
bump("Split", 18, add=["num_outputs"])
bump("ScatterElements", 18)
bump("ScatterND", 18)
bump("LpPool", 18, add=["ceil_mode"])
bump("OptionalHasElement", 18)
bump("OptionalGetElement", 18)
for b in ["BitwiseAnd", "BitwiseOr", "BitwiseXor"]:
    new(b, 18, ["A:T", "B:T"], [], {"T": ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]})
new("BitwiseNot", 18, ["X:T"], [], {"T": ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]})
new("CenterCropPad", 18, ["input_data:T", "shape:Tind"], ["axes"], {"T": [], "Tind": ["int32", "int64"]})
new("Col2Im", 18, ["input:T", "image_shape:int64", "block_shape:int64"], ["dilations", "pads", "strides"], {"T": []})
new("Mish", 18, ["X:T"], [], {"T": ["float16", "float", "double"]})
new("GroupNormalization", 18, ["X:T", "scale:T", "bias:T"], ["epsilon", "num_groups!"], {"T": ["float16", "float", "double", "bfloat16"]})
# Opset 19.
bump("AveragePool", 19, add=["dilations"])
bump("Cast", 19, add=["saturate"])
bump("CastLike", 19, add=["saturate"])
bump("QuantizeLinear", 19, add=["saturate"])
for o in ["Constant", "DequantizeLinear", "Equal", "Identity", "If", "Loop", "Scan", "Pad", "Reshape", "Resize",
          "Shape", "Size"]:
    bump(o, 19)
new("DeformConv", 19, ["X:T", "W:T", "offset:T", "B:T?", "mask:T?"],
    ["dilations", "group", "kernel_shape", "offset_group", "pads", "strides"], {"T": ["float16", "float", "double"]})
# Opset 20.
bump("DFT", 20, inputs=["input:T1", "dft_length:T2?", "axis:int64?"], remove=["axis"])
for o in ["ConstantOfShape", "GridSample", "IsInf", "IsNaN", "ReduceMax", "ReduceMin"]:
    bump(o, 20)
new("Gelu", 20, ["X:T"], ["approximate"], {"T": ["float16", "float", "double", "bfloat16"]})
new("AffineGrid", 20, ["theta:T1", "size:T2"], ["align_corners"], {"T1": [], "T2": ["int64"]})
new("ImageDecoder", 20, ["encoded_stream:T1"], ["pixel_format"], {"T1": ["uint8"], "T2": ["uint8"]})
new("RegexFullMatch", 20, ["X:T1"], ["pattern"], {"T1": ["string"], "T2": ["bool"]})
new("StringConcat", 20, ["X:T", "Y:T"], [], {"T": ["string"]})
new("StringSplit", 20, ["X:T1"], ["delimiter", "maxsplit"], {"T1": ["string"], "T2": ["string"], "T3": ["int64"]})
# Opset 21.
bump("DequantizeLinear", 21, add=["block_size"])
bump("QuantizeLinear", 21, add=["block_size", "output_dtype"])
bump("GroupNormalization", 21, add=["stash_type"])
for o in ["Cast", "CastLike", "Constant", "ConstantOfShape", "Flatten", "Identity", "If", "Loop", "Pad",
          "QLinearMatMul", "Reshape", "Scan", "Shape", "Size", "Squeeze", "Transpose", "Unsqueeze"]:
    bump(o, 21)

lines = []
for (op, v) in sorted(table):
    ins, attrs, types, dep, outs = table[(op, v)]
    ty = ";".join(k + "=" + ",".join(x) for k, x in sorted(types.items()))
    lines.append(f"{op} {v}{' deprecated' if dep else ''} | {' '.join(ins)} | {' '.join(attrs)} | {ty} | {' '.join(outs)}")

with open(out, "w") as f:
    f.write("package graft.onnx;\n\n")
    f.write("/** Generated by converters/onnx/schemas/make_op_schemas.py: do not edit. Read by {@link OpSchemas}. */\n")
    f.write("final class OpSchemaTable {\n    private OpSchemaTable() {\n    }\n\n")
    f.write("    /** One line per op version: NAME SINCE [deprecated] | inputs | attributes | type constraints | outputs. */\n")
    f.write("    static final String[] LINES = {\n")
    for l in lines:
        f.write('        "' + l.replace("\\", "\\\\").replace('"', '\\"') + '",\n')
    f.write("    };\n}\n")
print(len(lines), "op versions written to", os.path.normpath(out))
