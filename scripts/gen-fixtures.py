#!/usr/bin/env python3
"""Writes the checkpoint fixtures in src/formats/fixtures/ with the real libraries, and the facts
the tests compare against (src/formats/fixtures/expected.json), so that CI needs no Python.

Rerun (offline, from the image's local wheel store; needs `npm ci` done, for tsc):

    python3 -m venv /tmp/fx-venv
    /tmp/fx-venv/bin/pip install --no-index --find-links /opt/pypi/files \
        --find-links /opt/pypi-more/files --find-links /opt/wheels \
        torch==2.13.0+cpu safetensors numpy onnx gguf transformers
    /tmp/fx-venv/bin/python scripts/gen-fixtures.py

Steps: (1) write every fixture with torch / safetensors / transformers / onnx / gguf / numpy and
record, per tensor, dtype, shape, the sha256 of its decoded bytes (little-endian, C order; GGUF
quantized: the blocks) and a few values; (2) compile src/formats with the project's tsc into a
temporary folder and run writeWithTensors on each fixture, reversing the element order of the
tensors listed in REPLACE and zero-filling those in ZERO; (3) load every written file with the
library that wrote the source (zip CRCs checked, onnx.checker run), check that exactly those
tensors changed (tied weights with them), and record the facts. `--no-written` skips (2) and (3).
Torch files differ from run to run (serialization id), so rerunning rewrites all of them.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections import OrderedDict
from pathlib import Path

import gguf
import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from safetensors import safe_open
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "formats" / "fixtures"
facts = {}

# Tensors whose element order writeWithTensors reverses in step 2, per fixture.
REPLACE = {
    "torch/state.pt": ["embed.weight", "view", "transposed", "bf16", "mask", "block.attn.q.weight", "u16"],
    "safetensors/meta.safetensors": ["f32", "bf16", "bool", "i64"],
    "onnx/model.onnx": ["w_raw", "w_float", "w_f16", "w_bool", "w_bf16"],
    "onnx/external.onnx": ["w_typed"],
    "gguf/model.gguf": ["f32", "q8_0", "q4_0", "tq2_0"],
    "gguf/aligned64.gguf": ["f16"],
    "npy/c.npy": [""],
    "npy/fortran.npy": [""],
    "npy/big-endian.npy": [""],
    "npy/be-fortran.npy": [""],
    "npz/stored.npz": ["c_order", "fortran", "big_endian"],
    "npz/compressed.npz": ["c_order", "fortran", "zeros"],
}
# Tensors it fills with zero bytes instead: their ONNX varints get shorter, so the TensorProto,
# GraphProto and ModelProto lengths must follow.
ZERO = {
    "onnx/model.onnx": ["w_int64", "w_int32", "w_u64", "w_i8"],
    "npz/compressed.npz": ["be_fortran"],
}


def sha(b):
    return hashlib.sha256(b).hexdigest()


def file_sha(path):
    return sha(Path(path).read_bytes())


def values_of(flat):
    """A few elements as JSON numbers (floats as Python floats, NaN never occurs here)."""
    return [v.item() if hasattr(v, "item") else v for v in flat[:4]]


# ---------------------------------------------------------------- torch


def torch_bytes(t):
    t = t.detach().contiguous().reshape(-1)
    return t.view(torch.uint8).numpy().tobytes() if t.numel() else b""


def torch_values(t):
    flat = t.detach().reshape(-1)[:4]
    if flat.dtype in (torch.bfloat16, torch.float16, torch.float8_e4m3fn):
        flat = flat.float()
    if flat.dtype == torch.uint16:
        flat = flat.to(torch.int32)
    return flat.tolist()


TORCH_DTYPES = {
    torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
    torch.bool: "BOOL", torch.uint16: "U16", torch.float8_e4m3fn: "F8_E4M3",
}


def torch_facts(flat):
    return [
        {"name": k, "dtype": TORCH_DTYPES[t.dtype], "shape": list(t.shape),
         "sha256": sha(torch_bytes(t)), "values": torch_values(t)}
        for k, t in flat.items()
    ]


def flatten_torch(obj, prefix=""):
    out = OrderedDict()
    items = obj.items() if isinstance(obj, dict) else enumerate(obj)
    for k, v in items:
        name = f"{prefix}{k}"
        if isinstance(v, torch.Tensor):
            out[name] = v
        elif isinstance(v, dict) or (isinstance(v, (list, tuple)) and any(isinstance(x, torch.Tensor) for x in v)):
            out.update(flatten_torch(v, name + "."))
    return out


class Evil:
    """What a malicious checkpoint does: pickle a call of os.system."""

    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/mlvc-pwned",))


class EvilEval:
    def __reduce__(self):
        return (eval, ("__import__('os').system('echo pwned')",))


def gen_torch():
    d = OUT / "torch"
    d.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(0)
    emb = torch.randn(6, 4, generator=g)
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    sd = OrderedDict()
    sd["embed.weight"] = emb
    sd["lm_head.weight"] = emb  # tied: one storage, two names
    sd["f16"] = torch.randn(3, 5, generator=g).half()
    sd["bf16"] = torch.randn(2, 3, 4, generator=g).bfloat16()
    sd["f64"] = torch.randn(2, 2, generator=g, dtype=torch.float64)
    sd["i64"] = torch.arange(-5, 5, dtype=torch.int64)
    sd["i32"] = torch.tensor([-7, 0, 7], dtype=torch.int32)
    sd["i16"] = torch.tensor([-300, 300], dtype=torch.int16)
    sd["i8"] = torch.tensor([-1, 1, 127], dtype=torch.int8)
    sd["u8"] = torch.tensor([0, 200, 255], dtype=torch.uint8)
    sd["mask"] = torch.tensor([True, False, True, True])
    sd["u16"] = torch.tensor([1, 2, 65535], dtype=torch.uint16)
    sd["f8"] = torch.tensor([0.5, -2.0, 448.0]).to(torch.float8_e4m3fn)
    sd["view"] = base[1:, ::2]  # storage offset 6, strides (6, 2): not contiguous
    sd["transposed"] = torch.randn(3, 5, generator=g).t()
    sd["scalar"] = torch.tensor(3.5)
    sd["empty"] = torch.zeros(0, 3)
    sd["param"] = torch.nn.Parameter(torch.randn(2, 2, generator=g))
    sd["block"] = {"attn": {"q.weight": torch.randn(2, 2, generator=g), "k.weight": torch.randn(2, 2, generator=g)},
                   "norm": [torch.ones(2), torch.zeros(2)]}
    sd["epoch"] = 3
    sd["name"] = "tiny"
    sd["lr"] = 1e-3
    sd["betas"] = (0.9, 0.999)
    sd["flags"] = {"ema": True, "note": None}
    sd["size"] = torch.Size([2, 3])
    sd["dtype"] = torch.float16
    sd["device"] = torch.device("cpu")
    sd["raw"] = b"\x00\x01"
    torch.save(sd, d / "state.pt")
    loaded = torch.load(d / "state.pt", weights_only=True)
    assert loaded["view"].storage_offset() == 6 and not loaded["view"].is_contiguous()
    assert loaded["embed.weight"].untyped_storage().data_ptr() == loaded["lm_head.weight"].untyped_storage().data_ptr()
    facts["torch/state.pt"] = {
        "format": "pytorch", "tensors": torch_facts(flatten_torch(loaded)),
        "tied": [["embed.weight", "lm_head.weight"]],
        "metadata": {"epoch": 3, "name": "tiny", "lr": 1e-3, "betas": [0.9, 0.999], "flags.ema": True,
                     "flags.note": None, "size": [2, 3], "dtype": "torch.float16", "device": "cpu",
                     "raw": {"$bytes": "AAE="}},
    }

    small = {"w": torch.ones(2, 2)}
    torch.save(small, d / "legacy.pt", _use_new_zipfile_serialization=False)
    facts["torch/legacy.pt"] = {"error": "legacy"}

    for name, evil, global_name in [("malicious.pt", Evil(), "posix.system"), ("eval.pt", EvilEval(), "builtins.eval")]:
        torch.save({"w": torch.ones(2), "payload": evil}, d / name)
        try:
            torch.load(d / name, weights_only=True)
            raise AssertionError("torch loaded a malicious pickle")
        except Exception as err:  # torch refuses it too; that is the point
            assert global_name.split(".")[1] in str(err), err
        facts[f"torch/{name}"] = {"error": "refused", "global": global_name}


# ---------------------------------------------------------------- safetensors


def gen_safetensors():
    d = OUT / "safetensors"
    d.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(1)
    tensors = {
        "f32": torch.randn(3, 4, generator=g),
        "f16": torch.randn(5, generator=g).half(),
        "bf16": torch.randn(2, 3, generator=g).bfloat16(),
        "f64": torch.randn(2, generator=g, dtype=torch.float64),
        "i64": torch.tensor([-1, 2, -3], dtype=torch.int64),
        "i32": torch.tensor([5, -6], dtype=torch.int32),
        "i16": torch.tensor([7], dtype=torch.int16),
        "i8": torch.tensor([-8, 8], dtype=torch.int8),
        "u8": torch.tensor([9, 250], dtype=torch.uint8),
        "bool": torch.tensor([True, False, False]),
        "f8": torch.tensor([1.0, -0.25]).to(torch.float8_e4m3fn),
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 3),
    }
    save_file(tensors, d / "meta.safetensors", metadata={"format": "pt", "author": "mlvc fixtures"})
    with safe_open(d / "meta.safetensors", "pt") as f:
        loaded = {k: f.get_tensor(k) for k in f.keys()}
        meta = f.metadata()
    facts["safetensors/meta.safetensors"] = {"format": "safetensors", "tensors": torch_facts(loaded), "metadata": meta}

    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=32, n_positions=16, n_embd=8, n_layer=2, n_head=2, bos_token_id=0, eos_token_id=0))
    tmp = Path(tempfile.mkdtemp())
    model.save_pretrained(tmp, max_shard_size="4KB", safe_serialization=True)
    shard_dir = d / "sharded"
    shutil.rmtree(shard_dir, ignore_errors=True)
    shard_dir.mkdir()
    index = json.loads((tmp / "model.safetensors.index.json").read_text())
    shutil.copy(tmp / "model.safetensors.index.json", shard_dir)
    for shard in sorted(set(index["weight_map"].values())):
        shutil.copy(tmp / shard, shard_dir)
        with safe_open(shard_dir / shard, "pt") as f:
            loaded = {k: f.get_tensor(k) for k in f.keys()}
            meta = f.metadata()
        facts[f"safetensors/sharded/{shard}"] = {"format": "safetensors", "tensors": torch_facts(loaded), "metadata": meta}
    facts["safetensors/sharded/model.safetensors.index.json"] = {"index": index}
    shutil.rmtree(tmp)


# ---------------------------------------------------------------- onnx

ONNX_DTYPES = {TensorProto.FLOAT: "F32", TensorProto.FLOAT16: "F16", TensorProto.INT64: "I64",
               TensorProto.INT32: "I32", TensorProto.DOUBLE: "F64", TensorProto.UINT64: "U64",
               TensorProto.BOOL: "BOOL", TensorProto.BFLOAT16: "BF16", TensorProto.INT8: "I8"}


def onnx_facts(model, base_dir):
    out = []
    for init in model.graph.initializer:
        arr = numpy_helper.to_array(init, base_dir=str(base_dir))
        if init.data_type == TensorProto.BFLOAT16:
            raw = arr.view(np.uint16).astype("<u2").tobytes() if arr.dtype != np.uint16 else arr.astype("<u2").tobytes()
            vals = (arr.view(np.uint16).astype(np.uint32) << 16).view(np.float32).reshape(-1)[:4].tolist()
        else:
            raw = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes()
            vals = values_of(arr.reshape(-1))
        out.append({"name": init.name, "dtype": ONNX_DTYPES[init.data_type], "shape": list(init.dims),
                    "sha256": sha(raw), "values": vals})
    return out


def onnx_model(inits):
    nodes, outputs = [], []
    for t in inits:
        nodes.append(helper.make_node("Identity", [t.name], [f"out_{t.name}"]))
        outputs.append(helper.make_tensor_value_info(f"out_{t.name}", t.data_type, list(t.dims)))
    graph = helper.make_graph(nodes, "fixture", [], outputs, initializer=inits)
    model = helper.make_model(graph, producer_name="mlvc-fixtures", producer_version="1",
                              opset_imports=[helper.make_opsetid("", 17)], doc_string="a tiny model")
    model.ir_version = 8
    helper.set_model_props(model, {"purpose": "test"})
    onnx.checker.check_model(model)
    return model


def gen_onnx():
    d = OUT / "onnx"
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2)
    f16 = rng.standard_normal(4).astype(np.float16)
    bf16_bits = (rng.standard_normal(3).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
    inits = [
        numpy_helper.from_array(rng.standard_normal((2, 3)).astype(np.float32), "w_raw"),
        numpy_helper.from_array(rng.standard_normal(5).astype(np.float16), "w_f16_raw"),
        helper.make_tensor("w_float", TensorProto.FLOAT, [2, 3], rng.standard_normal(6).astype(np.float32).tolist()),
        helper.make_tensor("w_int64", TensorProto.INT64, [4], [-(2**40), -1, 0, 2**40]),
        helper.make_tensor("w_int32", TensorProto.INT32, [3], [-5, 0, 70000]),
        helper.make_tensor("w_f16", TensorProto.FLOAT16, [4], f16),
        helper.make_tensor("w_double", TensorProto.DOUBLE, [2], [1.5, -2.25]),
        helper.make_tensor("w_u64", TensorProto.UINT64, [2], [1, 2**63 + 5]),
        helper.make_tensor("w_bool", TensorProto.BOOL, [3], [True, False, False]),
        helper.make_tensor("w_bf16", TensorProto.BFLOAT16, [3], bf16_bits.tolist()),
        helper.make_tensor("w_i8", TensorProto.INT8, [3], [-128, 0, 127]),
    ]
    for t in inits[2:]:
        assert not t.HasField("raw_data"), t.name  # typed fields, as intended
    model = onnx_model(inits)
    onnx.save_model(model, d / "model.onnx")
    loaded = onnx.load(d / "model.onnx")
    facts["onnx/model.onnx"] = {
        "format": "onnx", "tensors": onnx_facts(loaded, d),
        "metadata": {"ir_version": 8, "producer_name": "mlvc-fixtures", "producer_version": "1",
                     "doc_string": "a tiny model", "graph_name": "fixture",
                     "opset_import": [{"domain": "", "version": 17}], "metadata_props": {"purpose": "test"}},
    }

    ext = [numpy_helper.from_array(rng.standard_normal((4, 4)).astype(np.float32), "w_ext_a"),
           numpy_helper.from_array(np.arange(6, dtype=np.int64).reshape(2, 3), "w_ext_b"),
           helper.make_tensor("w_typed", TensorProto.FLOAT, [3], [1.0, 2.0, 3.0])]
    model = onnx_model(ext)
    onnx.save_model(model, d / "external.onnx", save_as_external_data=True, all_tensors_to_one_file=True,
                    location="external.data", size_threshold=0)
    loaded = onnx.load(d / "external.onnx", load_external_data=False)
    locs = [i.name for i in loaded.graph.initializer if i.data_location == TensorProto.EXTERNAL]
    assert locs == ["w_ext_a", "w_ext_b"], locs
    facts["onnx/external.onnx"] = {"format": "onnx", "tensors": onnx_facts(loaded, d), "external": {n: "external.data" for n in locs}}


# ---------------------------------------------------------------- gguf


def gguf_facts(path):
    reader = gguf.GGUFReader(path)
    out = []
    for t in reader.tensors:
        qt = gguf.GGMLQuantizationType(t.tensor_type)
        data = np.ascontiguousarray(t.data)
        shape = [int(x) for x in reversed(t.shape.tolist())]
        entry = {"name": t.name, "dtype": qt.name, "shape": shape, "sha256": sha(data.tobytes()),
                 "nbytes": int(t.n_bytes)}
        if qt in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16):
            entry["values"] = values_of(data.reshape(-1).astype(np.float64))
        out.append(entry)
    return out


def gen_gguf():
    d = OUT / "gguf"
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(3)
    w = gguf.GGUFWriter(d / "model.gguf", "llama")
    w.add_uint8("t.u8", 7)
    w.add_int8("t.i8", -3)
    w.add_uint16("t.u16", 65000)
    w.add_int16("t.i16", -32000)
    w.add_uint32("t.u32", 4_000_000_000)
    w.add_int32("t.i32", -2_000_000_000)
    w.add_float32("t.f32", 1.5)
    w.add_uint64("t.u64", 2**40)
    w.add_int64("t.i64", -(2**40))
    w.add_float64("t.f64", 0.125)
    w.add_bool("t.bool", True)
    w.add_string("t.str", "héllo")
    w.add_array("t.ints", [1, 2, 3])
    w.add_array("t.strs", ["a", "bc"])
    w.add_array("t.long", list(range(100)))
    w.add_tensor("f32", rng.standard_normal((4, 8)).astype(np.float32))
    w.add_tensor("f16", rng.standard_normal((2, 8)).astype(np.float16))
    for name, qt, shape in [("q8_0", gguf.GGMLQuantizationType.Q8_0, (2, 64)),
                            ("q4_0", gguf.GGMLQuantizationType.Q4_0, (3, 32)),
                            ("q5_1", gguf.GGMLQuantizationType.Q5_1, (1, 64)),
                            # gguf-py cannot quantize to K-quants; TQ2_0 has their 256-element blocks
                            ("tq2_0", gguf.GGMLQuantizationType.TQ2_0, (2, 256))]:
        q = gguf.quants.quantize(rng.standard_normal(shape).astype(np.float32), qt)
        w.add_tensor(name, q, raw_dtype=qt)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    facts["gguf/model.gguf"] = {
        "format": "gguf", "tensors": gguf_facts(d / "model.gguf"),
        "metadata": {"general.architecture": "llama", "t.u8": 7, "t.i8": -3, "t.u16": 65000, "t.i16": -32000,
                     "t.u32": 4_000_000_000, "t.i32": -2_000_000_000, "t.f32": 1.5, "t.u64": 2**40,
                     "t.i64": -(2**40), "t.f64": 0.125, "t.bool": True, "t.str": "héllo", "t.ints": [1, 2, 3],
                     "t.strs": ["a", "bc"]},
        "summarized": {"t.long": {"type": "ARRAY", "items": "INT32", "length": 100}},
    }

    w = gguf.GGUFWriter(d / "aligned64.gguf", "llama")
    w.add_custom_alignment(64)
    w.add_tensor("a", np.arange(3, dtype=np.float32))
    w.add_tensor("f16", rng.standard_normal(5).astype(np.float16))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    facts["gguf/aligned64.gguf"] = {"format": "gguf", "tensors": gguf_facts(d / "aligned64.gguf"), "alignment": 64}


# ---------------------------------------------------------------- numpy

NP_DTYPES = {"f2": "F16", "f4": "F32", "f8": "F64", "i1": "I8", "i2": "I16", "i4": "I32", "i8": "I64",
             "u1": "U8", "u2": "U16", "u4": "U32", "u8": "U64", "b1": "BOOL"}


def np_fact(name, a):
    le = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<"))
    return {"name": name, "dtype": NP_DTYPES[a.dtype.str[1:]], "shape": list(a.shape),
            "sha256": sha(le.tobytes()), "values": values_of(le.reshape(-1))}


def np_arrays():
    rng = np.random.default_rng(4)
    return OrderedDict([
        ("c_order", (rng.standard_normal((3, 4)) * 0.5).astype(np.float32)),
        ("fortran", np.asfortranarray(np.arange(6, dtype=np.float64).reshape(2, 3))),
        ("big_endian", (np.arange(5) * -3).astype(">i2")),
        ("be_fortran", np.asfortranarray(rng.standard_normal((2, 3)).astype(">f8"))),
        ("mask", np.array([True, False, True])),
        ("half", rng.standard_normal(3).astype(np.float16)),
        ("u64", np.array([0, 2**64 - 1], dtype=np.uint64)),
        ("scalar", np.array(7, dtype=np.int8)),
        ("empty", np.zeros((0, 3), dtype=np.float32)),
        ("zeros", np.zeros((64, 64), dtype=np.float32)),
    ])


def gen_numpy():
    d = OUT / "npy"
    d.mkdir(parents=True, exist_ok=True)
    arrays = np_arrays()
    files = {"c.npy": "c_order", "fortran.npy": "fortran", "big-endian.npy": "big_endian",
             "be-fortran.npy": "be_fortran", "bool.npy": "mask", "f16.npy": "half", "u64.npy": "u64",
             "scalar.npy": "scalar", "empty.npy": "empty"}
    for file, key in files.items():
        np.save(d / file, arrays[key])
    for version in [(2, 0), (3, 0)]:
        with open(d / f"v{version[0]}.npy", "wb") as f:
            np.lib.format.write_array(f, arrays["c_order"], version=version)
        files[f"v{version[0]}.npy"] = "c_order"
    for file, key in files.items():
        a = np.load(d / file)
        assert a.dtype == arrays[key].dtype and a.flags.f_contiguous == arrays[key].flags.f_contiguous
        facts[f"npy/{file}"] = {"format": "npy", "tensors": [np_fact("", a)]}

    d = OUT / "npz"
    d.mkdir(parents=True, exist_ok=True)
    stored = OrderedDict((k, arrays[k]) for k in ["c_order", "fortran", "big_endian", "mask", "empty"])
    np.savez(d / "stored.npz", **stored)
    np.savez_compressed(d / "compressed.npz", **{k: arrays[k] for k in ["c_order", "fortran", "be_fortran", "zeros", "scalar"]})
    for file in ["stored.npz", "compressed.npz"]:
        with np.load(d / file) as z:
            facts[f"npz/{file}"] = {"format": "npz", "tensors": [np_fact(k, z[k]) for k in z.files]}


# ---------------------------------------------------------------- plain pickles, protocols 0-5

PICKLE_VALUE = {"int": 1, "neg": -2, "big": 2**70, "float": 1.5, "str": "h\u00e9llo \u2713", "bytes": b"\x00\xff",
                "list": [1, [2, 3]], "tuple": (1, "a"), "none": None, "bool": [True, False],
                "nested": {"a": {"b": 1}}, "set": {1, 2}, 7: "int key"}


def plain(v):
    """The JSON the tests turn an unpickled value into."""
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        return [plain(x) for x in v]
    if isinstance(v, bytes):
        return {"bytes": v.hex()}
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 2**53:
        return str(v)
    return v


def gen_pickles():
    import pickle

    d = OUT / "pickle"
    d.mkdir(parents=True, exist_ok=True)
    for protocol in range(6):
        (d / f"protocol-{protocol}.pkl").write_bytes(pickle.dumps(PICKLE_VALUE, protocol=protocol))
        facts[f"pickle/protocol-{protocol}.pkl"] = {"value": plain(PICKLE_VALUE)}


# ---------------------------------------------------------------- written copies


def reversed_items(raw, item):
    return np.frombuffer(raw, dtype=f"V{item}")[::-1].tobytes() if raw else raw


def load_written(rel, path):
    """Decoded bytes of every tensor of a written file, loaded by the library that wrote the source."""
    if rel.endswith(".pt"):
        assert zipfile.ZipFile(path).testzip() is None, "bad CRC"
        return {k: sha(torch_bytes(t)) for k, t in flatten_torch(torch.load(path, weights_only=True)).items()}
    if rel.endswith(".safetensors"):
        with safe_open(path, "pt") as f:
            return {k: sha(torch_bytes(f.get_tensor(k))) for k in f.keys()}
    if rel.endswith(".onnx"):
        onnx.checker.check_model(str(path))
        return {t["name"]: t["sha256"] for t in onnx_facts(onnx.load(path, load_external_data=False), Path(path).parent)}
    if rel.endswith(".gguf"):
        return {t["name"]: t["sha256"] for t in gguf_facts(path)}
    if rel.endswith(".npy"):
        return {"": np_fact("", np.load(path))["sha256"]}
    assert zipfile.ZipFile(path).testzip() is None, "bad CRC"
    with np.load(path) as z:
        return {k: np_fact(k, z[k])["sha256"] for k in z.files}


def item_size(fact):
    if "nbytes" in fact and fact["dtype"] not in ("F32", "F16"):
        return gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType[fact["dtype"]]][1]
    return {"F64": 8, "I64": 8, "U64": 8, "F32": 4, "I32": 4, "U32": 4, "F16": 2, "BF16": 2, "I16": 2,
            "U16": 2}.get(fact["dtype"], 1)


def original_bytes(rel, name):
    path = OUT / rel
    if rel.endswith(".pt"):
        return torch_bytes(flatten_torch(torch.load(path, weights_only=True))[name])
    if rel.endswith(".safetensors"):
        with safe_open(path, "pt") as f:
            return torch_bytes(f.get_tensor(name))
    if rel.endswith(".onnx"):
        init = next(i for i in onnx.load(path, load_external_data=False).graph.initializer if i.name == name)
        arr = numpy_helper.to_array(init, base_dir=str(path.parent))
        return np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes()
    if rel.endswith(".gguf"):
        t = next(t for t in gguf.GGUFReader(path).tensors if t.name == name)
        return np.ascontiguousarray(t.data).tobytes()
    a = np.load(path) if rel.endswith(".npy") else np.load(path)[name]
    return np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes()


NODE_WRITER = r"""
import { readFileSync } from 'node:fs'
const { readLayout, readTensor, writeWithTensors, itemSize } = await import(process.argv[1])
for (const p of JSON.parse(readFileSync(process.argv[2], 'utf8'))) {
  const layout = await readLayout(p.src)
  const map = new Map()
  for (const name of p.zero) map.set(name, new Uint8Array(layout.tensors.find((x) => x.name === name).nbytes))
  for (const name of p.replace) {
    const t = layout.tensors.find((x) => x.name === name)
    const parts = []
    for await (const b of readTensor(p.src, t)) parts.push(b)
    const bytes = Buffer.concat(parts)
    const item = itemSize(t)
    const out = Buffer.alloc(bytes.length)
    const n = bytes.length / item
    for (let i = 0; i < n; i++) bytes.copy(out, (n - 1 - i) * item, i * item, (i + 1) * item)
    map.set(name, out)
  }
  await writeWithTensors(p.src, layout, map, p.out)
}
"""


def gen_written():
    # Inside the repository, so that the compiled modules resolve node_modules.
    build = Path(tempfile.mkdtemp(dir=ROOT, prefix=".fixtures-build-"))
    work = Path(tempfile.mkdtemp())
    try:
        write_and_check(build, work)
    finally:
        shutil.rmtree(build)
        shutil.rmtree(work)


def write_and_check(build, work):
    subprocess.run(["npx", "tsc", "--ignoreConfig", "--outDir", str(build), "--rootDir", str(ROOT),
                    "--module", "nodenext", "--target", "es2022", "--lib", "es2023", "--types", "node",
                    "--skipLibCheck", "--allowImportingTsExtensions", "--rewriteRelativeImportExtensions",
                    str(ROOT / "src/formats/index.ts")], cwd=ROOT, check=True)
    plan = []
    for rel, names in REPLACE.items():
        out = work / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        if rel == "onnx/external.onnx":
            shutil.copy(OUT / "onnx/external.data", out.parent)
        plan.append({"src": str(OUT / rel), "out": str(out), "replace": names, "zero": ZERO.get(rel, [])})
    (work / "plan.json").write_text(json.dumps(plan))
    subprocess.run(["node", "--input-type=module", "-e", NODE_WRITER, str(build / "src/formats/index.js"),
                    str(work / "plan.json")], cwd=ROOT, check=True)
    for rel, names in REPLACE.items():
        out = work / rel
        loaded = load_written(rel, out)
        tensors = {t["name"]: t for t in facts[rel]["tensors"]}
        changed = set(names)
        for group in facts[rel].get("tied", []):
            if changed & set(group):
                changed |= set(group)
        zero = set(ZERO.get(rel, []))
        for name, digest in loaded.items():
            t = tensors[name]
            if name in zero:
                want = sha(bytes(len(original_bytes(rel, name))))
            elif name in changed:  # tied names hold the same bytes, so each reverses its own
                want = sha(reversed_items(original_bytes(rel, name), item_size(t)))
            else:
                want = t["sha256"]
            assert digest == want, f"{rel}: tensor {name} after writing: {digest} != {want}"
        assert all(loaded[n] != tensors[n]["sha256"] for n in names + sorted(zero) if n not in ("zeros",)), rel
        facts[rel]["written"] = {"replace": names, "zero": sorted(zero), "sha256": file_sha(out), "tensors": loaded}


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    gen_torch()
    gen_safetensors()
    gen_onnx()
    gen_gguf()
    gen_numpy()
    gen_pickles()
    if "--no-written" not in sys.argv:
        gen_written()
    for rel in facts:
        if (OUT / rel).exists():
            facts[rel]["size"] = (OUT / rel).stat().st_size
            facts[rel]["file_sha256"] = file_sha(OUT / rel)
    (OUT / "expected.json").write_text(json.dumps(facts, indent=1, sort_keys=True) + "\n")
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {len(facts)} fixtures, {total} bytes, to {OUT}")
    assert total < 1_000_000, "fixtures must stay well under 1 MB"


if __name__ == "__main__":
    sys.exit(main())
