#!/usr/bin/env python3
"""Writes merged-LoRA fixtures for src/tensors/lowrank.test.ts (committed; CI does not run this).

    python3 -m venv /tmp/lr-venv
    /tmp/lr-venv/bin/pip install --no-index --find-links /opt/pypi/files \
        --find-links /opt/pypi-more/files --find-links /opt/wheels torch==2.13.0+cpu numpy
    /tmp/lr-venv/bin/python scripts/gen-lowrank-fixtures.py

Each case is a base weight matrix and its fine-tune with a rank-r LoRA adapter merged in by torch,
the way PEFT's merge_and_unload does it (W += (B @ A) * alpha / r), as raw little-endian element
bytes (lowrank-NAME-base.bin, lowrank-NAME-merged.bin), listed in lowrank.json:

- f32: an F32 model merged in F32;
- bf16-upcast: a BF16 model merged in F32 and cast back to BF16 (base.float() + delta, rounded);
- bf16-inplace: a BF16 model merged in BF16 (the delta itself rounded to BF16 before the add).

Deterministic: a fixed torch seed, CPU kernels.
"""

import json
import os

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src', 'tensors', 'fixtures')
ROWS, COLS, RANK, ALPHA = 128, 160, 4, 8


def raw(t):
    """Little-endian element bytes in C order (bfloat16 through its int16 view)."""
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().astype(t.numpy().dtype.newbyteorder('<')).tobytes()


def adapter(gen):
    # PEFT initialises A like a linear layer and B at zero; after training B is small but not zero.
    a = torch.randn(RANK, COLS, generator=gen) / COLS**0.5
    b = torch.randn(ROWS, RANK, generator=gen) * 0.002
    return a, b


def main():
    gen = torch.Generator().manual_seed(1234)
    w = torch.randn(ROWS, COLS, generator=gen) * 0.02
    a, b = adapter(gen)
    scale = ALPHA / RANK
    cases = {}
    cases['f32'] = ('F32', w, w + (b @ a) * scale)
    w16 = w.bfloat16()
    cases['bf16-upcast'] = ('BF16', w16, (w16.float() + (b @ a) * scale).bfloat16())
    cases['bf16-inplace'] = ('BF16', w16, w16 + (b.bfloat16() @ a.bfloat16()) * scale)
    listed = []
    for name, (dtype, base, merged) in cases.items():
        with open(os.path.join(OUT, f'lowrank-{name}-base.bin'), 'wb') as f:
            f.write(raw(base))
        with open(os.path.join(OUT, f'lowrank-{name}-merged.bin'), 'wb') as f:
            f.write(raw(merged))
        changed = (base.float() != merged.float()).float().mean().item()
        listed.append({'name': name, 'dtype': dtype, 'rows': ROWS, 'cols': COLS, 'rank': RANK,
                       'changed': round(changed, 4)})
    with open(os.path.join(OUT, 'lowrank.json'), 'w') as f:
        json.dump(listed, f, indent=2)
        f.write('\n')


if __name__ == '__main__':
    main()
