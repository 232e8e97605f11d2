"""The Open Inference Protocol's REST JSON body, read and written the way a Python user would:
json + numpy, one FP32 input and FP32 outputs. Shared by both peers so they do the same work."""

import json

import numpy as np


def decode_input(body: bytes) -> tuple[str, np.ndarray]:
    """Returns the first input's name and its data as a float32 array of the declared shape."""
    request = json.loads(body)
    tensor = request["inputs"][0]
    data = np.asarray(tensor["data"], dtype=np.float32).reshape(tensor["shape"])
    return tensor["name"], data


def encode_outputs(model: str, names: list[str], arrays: list[np.ndarray]) -> bytes:
    """The OIP JSON response of one request (its rows of each output)."""
    outputs = [
        {"name": name, "datatype": "FP32", "shape": list(array.shape), "data": array.ravel().tolist()}
        for name, array in zip(names, arrays)
    ]
    return json.dumps({"model_name": model, "model_version": "1", "outputs": outputs}).encode()
