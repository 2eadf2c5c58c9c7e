"""Writes converters/keras/java/graft/keras/Keras3Defaults.java: for every layer class graft's
Keras 3 writer emits, the layer entry real Keras 3.15.1 writes in a .keras config.json (module,
class_name, config with every default in Keras's key order, registered_name, whether a
build_config follows, the call's kwargs in inbound_nodes), and the model entry around them.

Dev time only (CI never runs it; the Java file is committed):
  python3 -m venv VENV
  VENV/bin/pip install --no-index --find-links /opt/pypi/files keras==3.15.1 jax jaxlib
  KERAS_BACKEND=jax VENV/bin/python make_keras3_defaults.py
"""
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402
from keras import layers as L  # noqa: E402

assert keras.__version__ == "3.15.1", keras.__version__

ONE = {
    "Conv2D": lambda: L.Conv2D(2, 3),
    "Conv2DTranspose": lambda: L.Conv2DTranspose(2, 3),
    "DepthwiseConv2D": lambda: L.DepthwiseConv2D(3),
    "SeparableConv2D": lambda: L.SeparableConv2D(2, 3),
    "Dense": lambda: L.Dense(2),
    "BatchNormalization": lambda: L.BatchNormalization(),
    "Activation": lambda: L.Activation("relu"),
    "ReLU": lambda: L.ReLU(),
    "LeakyReLU": lambda: L.LeakyReLU(),
    "PReLU": lambda: L.PReLU(),
    "ELU": lambda: L.ELU(),
    "Softmax": lambda: L.Softmax(),
    "MaxPooling2D": lambda: L.MaxPooling2D(2),
    "AveragePooling2D": lambda: L.AveragePooling2D(2),
    "GlobalMaxPooling2D": lambda: L.GlobalMaxPooling2D(),
    "GlobalAveragePooling2D": lambda: L.GlobalAveragePooling2D(),
    "Flatten": lambda: L.Flatten(),
    "Reshape": lambda: L.Reshape((8, 8, 4)),
    "Permute": lambda: L.Permute((1, 2, 3)),
    "ZeroPadding2D": lambda: L.ZeroPadding2D(),
    "Cropping2D": lambda: L.Cropping2D(),
    "UpSampling2D": lambda: L.UpSampling2D(),
    "Dropout": lambda: L.Dropout(0.5),
    "SpatialDropout2D": lambda: L.SpatialDropout2D(0.5),
    "GaussianNoise": lambda: L.GaussianNoise(0.1),
    "GaussianDropout": lambda: L.GaussianDropout(0.1),
    "AlphaDropout": lambda: L.AlphaDropout(0.1),
    "Rescaling": lambda: L.Rescaling(1.0 / 255),
    "Normalization": lambda: L.Normalization(axis=-1),
}
TWO = {
    "Add": L.Add, "Subtract": L.Subtract, "Multiply": L.Multiply, "Average": L.Average,
    "Maximum": L.Maximum, "Minimum": L.Minimum, "Concatenate": L.Concatenate,
}


def serialized(model):
    return keras.saving.serialize_keras_object(model)


def entry(e):
    """The class's template: everything but the layer's name, inputs and build shapes."""
    return {
        "module": e["module"],
        "class_name": e["class_name"],
        "config": e["config"],
        "registered_name": e["registered_name"],
        "keys": list(e.keys()),
        "kwargs": e["inbound_nodes"][0]["kwargs"] if e["inbound_nodes"] else {},
    }


def main(out):
    classes = {}
    for cls, make in ONE.items():
        i = keras.Input((8, 8, 4))
        m = keras.Model(i, make()(i))
        s = serialized(m)
        classes["InputLayer"] = entry(s["config"]["layers"][0])
        classes[cls] = entry(s["config"]["layers"][1])
        model = {k: v for k, v in s.items() if k != "config"}
        model["config_keys"] = list(s["config"].keys())
        model["keys"] = list(s.keys())
    for cls, make in TWO.items():
        a, b = keras.Input((8, 8, 4)), keras.Input((8, 8, 4))
        m = keras.Model([a, b], make()([a, b]))
        classes[cls] = entry(serialized(m)["config"]["layers"][2])
    doc = {"keras_version": keras.__version__, "model": model, "classes": classes}
    text = json.dumps(doc, indent=None, separators=(",", ":"))
    java = f'''package graft.keras;

/**
 * What Keras 3.15.1 writes in a {{@code .keras}} config.json, per layer class: module, class_name,
 * the config with every default in Keras's key order, registered_name, the entry's keys (whether a
 * build_config follows) and the call kwargs of its inbound node; and the model entry's keys.
 * Generated from real Keras 3.15.1 by converters/keras/keras3/make_keras3_defaults.py (do not
 * edit; rerun the script). For the .keras writer (not yet written).
 */
final class Keras3Defaults {{
    private Keras3Defaults() {{
    }}

    /** The generated JSON document. */
    static final String JSON = {json.dumps(text)};
}}
'''
    with open(out, "w") as f:
        f.write(java)


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "java", "graft", "keras", "Keras3Defaults.java"))
