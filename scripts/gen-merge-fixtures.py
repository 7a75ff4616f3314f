#!/usr/bin/env python3
"""Writes the merge fixtures in src/checkpoint/fixtures/merge/ with the real libraries, merges
them with mlvc, and checks that those libraries load mlvc's results with the right values, so that
CI (src/checkpoint/merge-fixtures.test.ts, no Python) only has to check that mlvc still writes the
same files.

Rerun (offline; the venv of scripts/gen-fixtures.py; `npm run build` first, mlvc runs from dist/):

    /tmp/fx-venv/bin/python scripts/gen-merge-fixtures.py

Per format (safetensors, PyTorch zip, npz, npy, ONNX, GGUF): (1) base, ours and theirs written by
the library: tensors w, h (and e, bf16, where the format has it) changed differently on both sides,
b changed on theirs only, u on ours only, i (integers) unchanged; per-version metadata. (2) mlvc
stores the three in a fresh store, merges them with `average` and writes the result (merged.*).
(3) The library loads merged.* (onnx.checker too): every tensor must equal the reference — the
float64 mean of ours and theirs rounded once to the dtype (torch / NumPy conversions, round to
nearest even) for w, h, e; theirs' b; ours' u; i — and the metadata must be ours'. (4) expected.json
records the merged file's sha256 and each tensor's decoded bytes' sha256 (little-endian, C order).
Torch files differ from run to run (serialization id), so rerunning rewrites them and expected.json.
"""

import hashlib
import json
import shutil
import subprocess
import tempfile
from collections import OrderedDict
from pathlib import Path

import gguf
import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper
from safetensors import safe_open
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "checkpoint" / "fixtures" / "merge"
SIDES = ("base", "ours", "theirs")


def versions():
    """The three versions of every tensor, as torch tensors (the formats convert them)."""
    g = torch.Generator().manual_seed(5)
    base = OrderedDict(
        w=torch.randn(16, 8, generator=g),
        h=torch.randn(24, generator=g).half(),
        e=torch.randn(12, generator=g).bfloat16(),
        b=torch.randn(8, generator=g),
        u=torch.randn(8, generator=g),
        i=torch.arange(-2, 2, dtype=torch.int64),
    )

    def changed(names):
        out = OrderedDict()
        for name, t in base.items():
            out[name] = (t.double() + 0.01 * torch.randn(t.shape, generator=g, dtype=torch.float64)).to(t.dtype) \
                if name in names else t.clone()
        return out

    return {"base": base, "ours": changed({"w", "h", "e", "u"}), "theirs": changed({"w", "h", "e", "b"})}


def expected(v):
    ours, theirs = v["ours"], v["theirs"]
    out = OrderedDict()
    for name in ours:
        if name in ("w", "h", "e"):
            out[name] = ((ours[name].double() + theirs[name].double()) / 2).to(ours[name].dtype)
        else:
            out[name] = (theirs if name == "b" else ours)[name]
    return out


def raw(t):
    """Decoded bytes: little-endian, C order (bf16 as its bits)."""
    if isinstance(t, torch.Tensor):
        t = t.contiguous()
        return (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()
    return np.ascontiguousarray(t).astype(t.dtype.newbyteorder("<")).tobytes()


def count(t):
    return t.numel() if isinstance(t, torch.Tensor) else t.size


def sha(b):
    return hashlib.sha256(b).hexdigest()


def np_of(tensors, names):
    return OrderedDict((n, tensors[n].numpy()) for n in names)


# Per format: the tensors it holds, how a version is written, how a file is loaded back (tensors
# as torch tensors or NumPy arrays, and its metadata).

def write_safetensors(path, tensors, label):
    save_file(dict(tensors), path, metadata={"version": label})


def load_safetensors(path):
    with safe_open(path, "pt") as f:
        return {k: f.get_tensor(k) for k in f.keys()}, f.metadata()


def write_torch(path, tensors, label):
    sd = OrderedDict(tensors)
    sd["step"] = {"base": 1, "ours": 2, "theirs": 3}[label]
    torch.save(sd, path)


def load_torch(path):
    sd = torch.load(path, weights_only=True)
    return {k: v for k, v in sd.items() if isinstance(v, torch.Tensor)}, {"step": sd["step"]}


NP_NAMES = ["w", "h", "b", "u", "i"]


def write_npz(path, tensors, label):
    np.savez(path, **np_of(tensors, NP_NAMES))


def load_npz(path):
    with np.load(path) as z:
        return {k: z[k] for k in z.files}, {}


def write_npy(path, tensors, label):
    np.save(path, tensors["w"].numpy())


def load_npy(path):
    return {"": np.load(path)}, {}


def write_onnx(path, tensors, label):
    inits = [numpy_helper.from_array(a, n) for n, a in np_of(tensors, NP_NAMES).items()]
    nodes = [helper.make_node("Identity", [t.name], [f"out_{t.name}"]) for t in inits]
    outputs = [helper.make_tensor_value_info(f"out_{t.name}", t.data_type, list(t.dims)) for t in inits]
    graph = helper.make_graph(nodes, "merge-fixture", [], outputs, initializer=inits)
    model = helper.make_model(graph, producer_name="mlvc-fixtures", producer_version="1",
                              opset_imports=[helper.make_opsetid("", 17)], doc_string=label)
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def load_onnx(path):
    model = onnx.load(path)
    onnx.checker.check_model(model)
    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}, {"doc": model.doc_string}


GGUF_NAMES = ["w", "h", "b", "u"]


def write_gguf(path, tensors, label):
    w = gguf.GGUFWriter(path, "llama")
    w.add_string("general.name", label)
    for name, a in np_of(tensors, GGUF_NAMES).items():
        w.add_tensor(name, a)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def load_gguf(path):
    reader = gguf.GGUFReader(path)
    field = reader.fields["general.name"]
    name = bytes(field.parts[field.data[0]]).decode()
    return {t.name: np.ascontiguousarray(t.data) for t in reader.tensors}, {"general.name": name}


FORMATS = {
    "safetensors": ("model.safetensors", write_safetensors, load_safetensors, ["w", "h", "e", "b", "u", "i"],
                    {"version": "ours"}),
    "torch": ("model.pt", write_torch, load_torch, ["w", "h", "e", "b", "u", "i"], {"step": 2}),
    "npz": ("model.npz", write_npz, load_npz, NP_NAMES, {}),
    "npy": ("model.npy", write_npy, load_npy, [""], {}),
    "onnx": ("model.onnx", write_onnx, load_onnx, NP_NAMES, {"doc": "ours"}),
    "gguf": ("model.gguf", write_gguf, load_gguf, GGUF_NAMES, {"general.name": "ours"}),
}

MERGE = """
const [root, dir, file, tmp] = process.argv.slice(2)
const { materialize, openStore } = await import(`${root}/dist/src/store/index.js`)
const { ingestCheckpoint, mergeCheckpoints, parseStrategy, tensorDeltas } =
  await import(`${root}/dist/src/checkpoint/index.js`)
const store = await openStore(tmp, { create: true })
const ids = {}
for (const side of ['base', 'ours', 'theirs']) {
  const stored = await ingestCheckpoint(store, `${dir}/${side}.${file}`, undefined)
  if (!stored.meta) throw new Error(`${side}.${file} was not read as a checkpoint: ${stored.note}`)
  ids[side] = stored.id
}
const average = parseStrategy('average', 'fixtures')
const outcome = await mergeCheckpoints(store, { ...ids, path: file, choose: () => average })
if (!outcome.result) throw new Error(JSON.stringify(outcome.conflicts))
await store.commit()
await materialize(store, outcome.result.id, `${dir}/merged.${file}`, { deltas: tensorDeltas() })
await store.close()
"""


def merge_with_mlvc(d, file):
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "merge.mjs"
        script.write_text(MERGE)
        subprocess.run(["node", str(script), str(ROOT), str(d), file, f"{tmp}/store"], check=True)


def main():
    v = versions()
    want = expected(v)
    facts = {}
    shutil.rmtree(OUT, ignore_errors=True)
    for fmt, (file, write, load, names, metadata) in FORMATS.items():
        d = OUT / fmt
        d.mkdir(parents=True)
        ext = file.split(".", 1)[1]
        for side in SIDES:
            write(d / f"{side}.{ext}", v[side], side)
        merge_with_mlvc(d, ext)
        loaded, meta = load(d / f"merged.{ext}")
        assert meta == metadata, (fmt, meta)
        tensors = {}
        for name in names:
            reference = want[name or "w"]
            if not isinstance(loaded[name], torch.Tensor):
                reference = reference.numpy()
            got = raw(loaded[name])
            assert got == raw(reference), (fmt, name)
            # GGUF lists dimensions innermost first; the element count must agree everywhere.
            assert count(loaded[name]) == count(reference), (fmt, name)
            tensors[name] = sha(got)
        assert sorted(loaded) == sorted(names), (fmt, sorted(loaded))
        merged = d / f"merged.{ext}"
        facts[fmt] = {"file": f"{fmt}/%s.{ext}", "merged_sha256": sha(merged.read_bytes()), "tensors": tensors}
        print(f"{fmt}: the library loads mlvc's merge; every tensor and the metadata as expected")
    (OUT / "expected.json").write_text(json.dumps(facts, indent=1) + "\n")


if __name__ == "__main__":
    main()
