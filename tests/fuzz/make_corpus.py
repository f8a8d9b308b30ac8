#!/usr/bin/env python3
"""Writes the small seed corpora of the fuzz targets into tests/fuzz/corpus/ (committed; rerun
after changing a builder). Seeds are valid inputs of each reader, so mutations start deep."""
import os
import struct
import sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
sys.path.insert(0, os.path.join(root, "tests", "hostile"))
import hostile as h  # noqa: E402


def put(kind, name, data):
    d = os.path.join(here, "corpus", kind)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


graph, tensors = h.small_model()
model = h.lqm(graph, tensors)
for kind in ("lqm", "lqm_network", "sim_workload", "safetensors"):
    put(kind, "small_conv_linear.lqm", model)
# attention-style float ops and a matmul
g2 = {"model": {"name": "attn", "input_shape": [2, 4]}, "inputs": ["x"], "outputs": ["y"],
      "layers": [{"name": "r", "op": "reshape", "inputs": ["x"], "outputs": ["a"], "attrs": {"shape": [1, 2, 4]}},
                 {"name": "p", "op": "permute", "inputs": ["a"], "outputs": ["b"], "attrs": {"dims": [0, 2, 1]}},
                 {"name": "mm", "op": "matmul", "inputs": ["a", "b"], "outputs": ["c"], "attrs": {"heads": 1, "k": 4, "n": 2},
                  "operands": {"a": {"format": "U", "bits": 8, "scale": "s", "zero_point": "z"},
                               "b": {"format": "U", "bits": 8, "scale": "s", "zero_point": "z"}}},
                 {"name": "sm", "op": "softmax", "inputs": ["c"], "outputs": ["d"]},
                 {"name": "rl", "op": "roll", "inputs": ["d"], "outputs": ["e"], "attrs": {"shifts": [1], "dims": [2]}},
                 {"name": "sl", "op": "slice", "inputs": ["e"], "outputs": ["y"], "attrs": {"dim": 1, "start": 0, "end": 2, "step": 1}}]}
attn = h.lqm(g2, [("s", "F32", [1], h.f32(0.1)), ("z", "I32", [1], h.i32(0))])
for kind in ("lqm", "lqm_network", "sim_workload"):
    put(kind, "attention_ops.lqm", attn)
put("checkpoint", "state_dict.pt", h.torch_zip(h.state_dict_pickle([("w", "0", 6, [2, 3], [3, 1]), ("b", "0", 6, [3], [0])]),
                                                 [("0", h.f32(1, 2, 3, 4, 5, 6))]))
put("pickle", "state_dict.pkl", h.state_dict_pickle([("w", "0", 6, [2, 3], [3, 1])]))
put("dataset", "idx", b"\x01" + struct.pack(">IIII", 0x803, 2, 2, 2) + bytes(range(8)))
put("dataset", "jpeg", b"\x00" + h.jpeg_header(8, 8))
put("dataset", "cifar_csv", b"\x02a.bin,10,3\n")
put("dataset", "image_list", b"\x03# search images\na.bin\n")
for name in sorted(os.listdir(os.path.join(root, "configs", "hw"))):
    put("hw_config", name, open(os.path.join(root, "configs", "hw", name), "rb").read())
