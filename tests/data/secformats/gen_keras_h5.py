"""Generates the Keras HDF5 fixtures of tests/test_secformats_tf.py with the real Keras and h5py.

Run with benchmarks/work/fixturegen/bin/python (keras 3.15.1, h5py 3.16.0, torch backend):
    cd tests/data/secformats && ../../../benchmarks/work/fixturegen/bin/python gen_keras_h5.py
Each file's model_config attribute is rewritten by h5py only (what keras.models.load_model reads):
- lambda_spaced.h5: a Lambda layer, JSON re-spaced (", " -> " , ", ": " -> " : ")
- lambda_escaped.h5: "Lambda" spelt "L\\u0061mbda" (json.loads reads the same config)
- posix_activation.h5: a Dense activation resolved from module "posix" (function "system")
- benign_dense.h5: the plain model as Keras saves it
"""

import json
import os

os.environ["KERAS_BACKEND"] = "torch"
import h5py  # noqa: E402
import keras  # noqa: E402

plain = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, name="d")])
plain.save("benign_dense.h5")
lam = keras.Sequential([keras.Input((2,)), keras.layers.Lambda(lambda x: x * 2, name="lam"), keras.layers.Dense(1)])
lam.save("_lambda.h5")


def rewrite(src, dst, fn):
    """A fresh file (HDF5 keeps a replaced attribute's old bytes in free space: a copy would still hold the
    original spelling), every group and attribute copied, model_config rewritten."""
    with h5py.File(src) as s, h5py.File(dst, "w") as d:
        for k, v in s.attrs.items():
            if k == "model_config":
                v = fn(v.decode() if isinstance(v, bytes) else v)
                assert json.loads(v) is not None
                v = v.encode()
            d.attrs[k] = v
        for name in s:
            s.copy(s[name], d, name=name)


rewrite("_lambda.h5", "lambda_spaced.h5", lambda c: json.dumps(json.loads(c), separators=(" , ", " : ")))
rewrite("_lambda.h5", "lambda_escaped.h5", lambda c: c.replace('"Lambda"', '"L\\u0061mbda"'))


def posix(c):
    doc = json.loads(c)
    for layer in doc["config"]["layers"]:
        if layer["class_name"] == "Dense":
            layer["config"]["activation"] = {"module": "posix", "class_name": "function", "config": "system",
                                             "registered_name": "function"}
    return json.dumps(doc)


rewrite("benign_dense.h5", "posix_activation.h5", posix)
os.remove("_lambda.h5")
for name in ("lambda_spaced.h5", "lambda_escaped.h5"):
    m = keras.models.load_model(name, safe_mode=False)  # proves Keras builds the Lambda from the rewritten config
    assert any(type(layer).__name__ == "Lambda" for layer in m.layers), name
    raw = open(name, "rb").read()
    assert b'"class_name": "Lambda"' not in raw and b'"class_name":"Lambda"' not in raw, name  # no old spelling left
print("versions: keras", keras.__version__, "h5py", h5py.__version__)

# dense_attrs.h5: Keras' model_config among 20 attributes of a libver='latest' file, so HDF5 keeps them in a
# fractal heap (dense attribute storage, signature FRHP); the test marks that heap as filtered (compressed).
with h5py.File("benign_dense.h5") as s, h5py.File("dense_attrs.h5", "w", libver="latest") as d:
    for k, v in s.attrs.items():
        d.attrs[k] = v
    for i in range(20):
        d.attrs[f"extra_{i}"] = i
    for name in s:
        s.copy(s[name], d, name=name)
assert b"FRHP" in open("dense_attrs.h5", "rb").read()
