"""Oracle for graft's op catalogue (OpCatalogueTest): the ONNX package's own operator schemas.
Prints, as JSON, for each op type named on the command line, its attributes at opset 17 (the
semantics graft's IR keeps): type, required, and the default value when the schema has one."""
import json
import sys

import onnx.defs
from onnx import AttributeProto, helper

out = {}
for op in sys.argv[1:]:
    s = onnx.defs.get_schema(op, 17)
    attrs = {}
    for name, a in s.attributes.items():
        d = None
        if a.default_value is not None and a.default_value.type != AttributeProto.UNDEFINED:
            v = helper.get_attribute_value(a.default_value)
            d = v.decode() if isinstance(v, bytes) else v
        attrs[name] = {"type": AttributeProto.AttributeType.Name(a.type), "required": bool(a.required), "default": d}
    out[op] = attrs
print(json.dumps(out))
