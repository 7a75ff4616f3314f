#!/usr/bin/env python3
"""Writes the reference fixtures of src/tensors/ (committed; CI does not run this).

    python3 -m venv /tmp/tn-venv
    /tmp/tn-venv/bin/pip install --no-index --find-links /opt/pypi/files --find-links /opt/pypi-more/files numpy ml_dtypes
    /tmp/tn-venv/bin/python scripts/gen-tensor-fixtures.py

Independent of the TypeScript code: values come from NumPy (float64) and ml_dtypes, rounding to
narrow floats from an exact rational computation (fractions.Fraction), checked here against NumPy's
float16 and against ml_dtypes on inputs where ml_dtypes rounds once (from float32; from float64 it
rounds twice, through float32). The delta format is re-implemented from its specification.
Deterministic: the same files on every run.
"""

import hashlib
import json
import math
import os
from fractions import Fraction

import ml_dtypes
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src', 'tensors', 'fixtures')
rng = np.random.default_rng(20240611)

# name: (numpy dtype for storage, mantissa bits, exponent bits, bias, has infinities, canonical NaN)
MINI = {
    'F16': (np.float16, 10, 5, 15, True, 0x7E00),
    'BF16': (ml_dtypes.bfloat16, 7, 8, 127, True, 0x7FC0),
    'F8_E4M3': (ml_dtypes.float8_e4m3fn, 3, 4, 7, False, 0x7F),
    'F8_E5M2': (ml_dtypes.float8_e5m2, 2, 5, 15, True, 0x7E),
}
NP = {
    'F64': np.float64, 'F32': np.float32, 'I64': np.int64, 'I32': np.int32, 'I16': np.int16,
    'I8': np.int8, 'U64': np.uint64, 'U32': np.uint32, 'U16': np.uint16, 'U8': np.uint8,
    'BOOL': np.bool_,
}
for name, spec in MINI.items():
    NP[name] = spec[0]
UINT = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def write(name, data):
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(data)


def write_json(name, value):
    with open(os.path.join(OUT, name), 'w') as f:
        json.dump(value, f, indent=1, sort_keys=True)
        f.write('\n')


# ---- exact rounding to a narrow float (round to nearest, ties to even) -------------------------

def round_mini(x, fmt):
    _, p, ebits, bias, infinities, nan = MINI[fmt]
    if math.isnan(x):
        return nan
    sign = (1 << (p + ebits)) if math.copysign(1.0, x) < 0 else 0
    expmax = (1 << ebits) - 1
    overflow = (expmax << p) if infinities else ((expmax << p) | ((1 << p) - 1))
    over = overflow if infinities else nan
    if math.isinf(x):
        return over | sign
    a = Fraction(abs(x))
    if a == 0:
        return sign
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if Fraction(2) ** e > a:
        e -= 1
    e = max(e, 1 - bias)
    t = a / Fraction(2) ** (e - p)
    n = t.numerator // t.denominator
    rest = t - n
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and n % 2 == 1):
        n += 1
    bits = ((e + bias - 1) << p) + n  # e = emin gives exponent field 0 (subnormal) or 1
    if bits >= overflow:
        return over | sign
    return bits | sign


def round_array(values, fmt):
    return np.array([round_mini(float(v), fmt) for v in values], dtype=np.uint16)


def mini_value(bits, fmt):
    return float(np.array([bits], dtype=UINT[np.dtype(MINI[fmt][0]).itemsize]).view(MINI[fmt][0])[0])


def canonical_f64_bytes(values):
    v = np.asarray(values, dtype=np.float64).copy()
    b = v.view(np.uint64)
    b[np.isnan(v)] = np.uint64(0x7FF8000000000000)
    return b.astype('<u8').tobytes()


def gen_minifloat():
    decode = {}
    for fmt, (dt, p, ebits, _, _, _) in MINI.items():
        width = 1 + ebits + p
        bits = np.arange(1 << width, dtype=UINT[np.dtype(dt).itemsize])
        decode[fmt] = hashlib.sha256(canonical_f64_bytes(bits.view(dt).astype(np.float64))).hexdigest()
    write_json('minifloat.json', {'decodeSha256': decode})

    for fmt, (dt, p, ebits, bias, infinities, nan) in MINI.items():
        width = 1 + ebits + p
        size = np.dtype(dt).itemsize
        finite = [b for b in range(1 << width) if math.isfinite(mini_value(b, fmt))]
        picks = rng.choice(finite, size=min(300, len(finite)), replace=False)
        inputs = []
        for b in picks:
            v = mini_value(int(b), fmt)
            inputs.append(v)
            mag = int(b) & ((1 << (width - 1)) - 1)
            if mag + 1 < (1 << (width - 1)):
                w = mini_value(int(b) + 1, fmt)
                if math.isfinite(w):
                    mid = float((Fraction(v) + Fraction(w)) / 2)  # exact in float64
                    inputs += [mid, math.nextafter(mid, math.inf), math.nextafter(mid, -math.inf)]
        largest = max(mini_value(b, fmt) for b in finite)
        emax = (1 << ebits) - (2 if infinities else 1) - bias
        ulp_top = 2.0 ** (emax - p)
        tiny = 2.0 ** (1 - bias - p)
        inputs += [largest, largest + ulp_top / 2, math.nextafter(largest + ulp_top / 2, 0),
                   largest + ulp_top, largest + 1.5 * ulp_top, largest + 1.9 * ulp_top, largest * 4, tiny, tiny / 2, math.nextafter(tiny / 2, 1),
                   tiny / 4, 5e-324, -5e-324, 2.2250738585072014e-308, 0.0, -0.0, math.inf,
                   -math.inf, math.nan, 1e300, -1e300]
        inputs += list((rng.choice([-1, 1], 400) * np.exp2(rng.uniform(-bias - p - 4, bias + 4, 400))))
        inputs += list(rng.normal(0, 1, 100))
        inputs = np.array(inputs, dtype=np.float64)
        expected = round_array(inputs, fmt)
        # Cross-checks of the exact reference against the libraries.
        if fmt == 'F16':
            lib = inputs.astype(np.float16).view(np.uint16)
            ok = np.isnan(inputs) | (lib == expected)
            assert ok.all(), inputs[~ok]
        as32 = inputs.astype(np.float32)
        once = as32.astype(np.float64) == inputs
        lib = as32[once].astype(dt).view(UINT[size]).astype(np.uint16)
        ok = np.isnan(inputs[once]) | (lib == expected[once])
        assert ok.all(), (fmt, inputs[once][~ok], lib[~ok], expected[once][~ok])
        write(f'round-{fmt}.bin', inputs.astype('<f8').tobytes() + expected.astype('<u2').tobytes())


# ---- statistics ---------------------------------------------------------------------------------

def as_f64(arr):
    return arr.astype(np.float64)


def stats_of(arr):
    x = as_f64(arr)
    fin = x[np.isfinite(x)]
    none = fin.size == 0
    return {
        'count': int(x.size),
        'mean': None if none else float(fin.mean()),
        'std': None if none else float(fin.std()),
        'min': None if none else float(fin.min()),
        'max': None if none else float(fin.max()),
        'l2': float(np.sqrt(np.sum(fin * fin))),
        'nan': int(np.isnan(x).sum()),
        'posInf': int((x == np.inf).sum()),
        'negInf': int((x == -np.inf).sum()),
        'zeros': int((x == 0).sum()),
    }


def gen_stats():
    cases = []

    def add(name, dtype, arr):
        arr = np.ascontiguousarray(arr.astype(NP[dtype]))
        write(f'stats-{name}.bin', arr.tobytes())
        cases.append({'name': name, 'dtype': dtype, 'file': f'stats-{name}.bin', 'expected': stats_of(arr)})

    add('f32-normal', 'F32', rng.normal(1e-3, 2e-2, 4096))
    add('f64-offset', 'F64', 1e6 + rng.normal(0, 1, 2048))
    special = rng.normal(0, 3, 2048)
    special[rng.choice(2048, 40, replace=False)] = rng.uniform(-1e-6, 1e-6, 40)  # subnormal in f16
    special[[3, 99, 700]] = np.nan
    special[[5, 1000]] = np.inf
    special[[7]] = -np.inf
    special[10:20] = 0.0
    special[20:25] = -0.0
    add('f16-special', 'F16', special)
    add('bf16-normal', 'BF16', rng.normal(-0.5, 0.1, 4096).astype(np.float32))
    add('i32', 'I32', rng.integers(-(2**31), 2**31 - 1, 1024))
    add('u8', 'U8', rng.integers(0, 256, 1024))
    add('bool', 'BOOL', rng.random(1000) < 0.3)
    big = rng.integers(-(2**62), 2**62, 256, dtype=np.int64)
    big[:8] = [2**63 - 1, -(2**63), 2**53 + 1, -(2**53) - 1, 0, 1, -1, 2**62 + 12345]
    add('i64-big', 'I64', big)
    add('u64-big', 'U64', rng.integers(2**63, 2**64 - 1, 128, dtype=np.uint64, endpoint=True))
    add('f8e4m3-all', 'F8_E4M3', np.arange(256, dtype=np.uint8).view(ml_dtypes.float8_e4m3fn))
    add('f8e5m2-all', 'F8_E5M2', np.arange(256, dtype=np.uint8).view(ml_dtypes.float8_e5m2))
    add('f32-empty', 'F32', np.zeros(0))
    add('f32-all-nan', 'F32', np.full(4, np.nan))
    write_json('stats.json', cases)


# ---- diff statistics and deltas ---------------------------------------------------------------

MAX_RUN = 4096


def varint(v):
    out = bytearray()
    while v >= 128:
        out.append((v & 127) | 128)
        v >>= 7
    out.append(v)
    return bytes(out)


def encode_delta(old, new, size):
    n = len(old) // size
    same = [old[i * size:(i + 1) * size] == new[i * size:(i + 1) * size] for i in range(n)]
    out = bytearray(b'mlvd' + bytes([1, size])) + varint(n)
    i = last_end = changed = 0
    while i < n:
        if same[i]:
            i += 1
            continue
        j = i
        while j < n and j - i < MAX_RUN and not same[j]:
            j += 1
        run = j - i
        out += varint(1 + 2 * (i - last_end) + (1 if run > 1 else 0))
        if run > 1:
            out += varint(run - 2)
        out += new[i * size:j * size]
        changed += run
        last_end = i = j
    return bytes(out + varint(0) + varint(changed)), changed


def diff_of(a, b):
    x, y = as_f64(a), as_f64(b)
    m = np.isfinite(x) & np.isfinite(y)
    d = y[m] - x[m]
    na, nb = np.sqrt(np.sum(x[m] ** 2)), np.sqrt(np.sum(y[m] ** 2))
    l2 = float(np.sqrt(np.sum(d * d)))
    size = a.dtype.itemsize
    ua, ub = a.view(UINT[size]), b.view(UINT[size])
    delta, changed = encode_delta(a.tobytes(), b.tobytes(), size)
    assert changed == int((ua != ub).sum())
    cos = None if na == 0 or nb == 0 else float(np.clip(np.dot(x[m], y[m]) / (na * nb), -1, 1))
    return {
        'count': int(a.size),
        'changed': changed,
        'changedFraction': changed / a.size if a.size else 0.0,
        'l2Delta': l2,
        'relChange': 0.0 if l2 == 0 else (math.inf if na == 0 else float(l2 / na)),
        'maxAbsDelta': float(np.abs(d).max()) if d.size else 0.0,
        'cosine': cos,
        'nonFinite': int((~m).sum()),
        'deltaBytes': len(delta),
        'fullBytes': int(a.nbytes),
    }, delta


def gen_diff():
    cases = []

    def add(name, dtype, a, b):
        a = np.ascontiguousarray(a.astype(NP[dtype]) if a.dtype != NP[dtype] else a)
        b = np.ascontiguousarray(b.astype(NP[dtype]) if b.dtype != NP[dtype] else b)
        expected, delta = diff_of(a, b)
        write(f'diff-{name}-a.bin', a.tobytes())
        write(f'diff-{name}-b.bin', b.tobytes())
        write(f'diff-{name}.delta', delta)
        cases.append({'name': name, 'dtype': dtype, 'a': f'diff-{name}-a.bin',
                      'b': f'diff-{name}-b.bin', 'delta': f'diff-{name}.delta',
                      'expected': expected})

    a = rng.normal(0, 0.05, 4096).astype(np.float32)
    b = a.copy()
    idx = rng.choice(4096, 41, replace=False)
    b[idx] += rng.normal(0, 0.01, 41).astype(np.float32)
    b[100:110] *= np.float32(1.5)
    a[200] = np.nan
    b[200] = np.nan  # unchanged NaN: left out of the norms, not changed
    bits_b = b.view(np.uint32)
    a[300] = np.nan
    bits_b[300] = 0x7FC00001  # another NaN payload: changed
    a[400] = 0.0
    b[400] = -0.0  # changed bitwise, Δ = 0
    a[500] = b[500] = np.inf  # unchanged infinity: left out of the norms
    b[501] = -np.inf  # a finite value becomes -inf: changed, left out of the norms
    add('f32-sparse', 'F32', a, b)

    a = rng.normal(0, 1, 9000).astype(np.float32).astype(ml_dtypes.bfloat16)
    b = a.copy()
    b[1000:6500] = (b[1000:6500].astype(np.float32) * 1.01).astype(ml_dtypes.bfloat16)
    b[7000:9000:7] = (b[7000:9000:7].astype(np.float32) + 0.5).astype(ml_dtypes.bfloat16)
    add('bf16-runs', 'BF16', a, b)

    a = rng.integers(0, 128, 300).astype(np.uint8)
    add('u8-all', 'U8', a, a + np.uint8(1))
    a = rng.normal(0, 1, 100)
    add('f64-same', 'F64', a, a.copy())
    add('f16-empty', 'F16', np.zeros(0, np.float16), np.zeros(0, np.float16))
    a = rng.integers(-(2**40), 2**40, 200, dtype=np.int64)
    b = a.copy()
    b[::50] += 3
    add('i64-sparse', 'I64', a, b)
    write_json('diff.json', cases)


# ---- merges -----------------------------------------------------------------------------------

def to_dtype_bits(values, dtype):
    """Rounds float64 results to the dtype (ties to even), as element bytes."""
    if dtype == 'F64':
        return values.astype('<f8').tobytes()
    if dtype == 'F32':
        return values.astype('<f4').tobytes()
    if dtype == 'F16':
        bits = values.astype(np.float16).view(np.uint16)
        assert (bits == round_array(values, 'F16')).all()
        return bits.astype('<u2').tobytes()
    bits = round_array(values, dtype)
    return bits.astype('<u2' if dtype == 'BF16' else 'u1').tobytes()


def ties_ref(base, ours, theirs, density, lam):
    n = base.size
    k = int(density * n)

    def trim(tau):
        mag = np.abs(tau)
        if k == 0:
            return np.zeros_like(tau)
        threshold = np.sort(mag)[n - k]  # the k-th largest; ties with it are kept
        return np.where(mag >= threshold, tau, 0.0)

    t = np.stack([trim(ours - base), trim(theirs - base)])
    gamma = np.sign(t.sum(axis=0))
    agree = (np.sign(t) == gamma) & (gamma != 0)
    merged = np.where(agree, t, 0.0).sum(axis=0) / np.maximum(agree.sum(axis=0), 1)
    return base + lam * merged


STRATEGIES = [
    ('average', {}, lambda b, o, t: 0.5 * o + 0.5 * t),
    ('average', {'weights': {'ours': 3, 'theirs': 1}}, lambda b, o, t: (3 / 4) * o + (1 / 4) * t),
    ('taskArithmetic', {}, lambda b, o, t: b + 1.0 * (o - b) + 1.0 * (t - b)),
    ('taskArithmetic', {'lambda': {'ours': 0.5, 'theirs': 0.8}},
     lambda b, o, t: b + 0.5 * (o - b) + 0.8 * (t - b)),
    ('ties', {'density': 0.2, 'lambda': 1}, lambda b, o, t: ties_ref(b, o, t, 0.2, 1.0)),
    ('ties', {'density': 0.5, 'lambda': 0.7}, lambda b, o, t: ties_ref(b, o, t, 0.5, 0.7)),
    ('ties', {'density': 1, 'lambda': 1}, lambda b, o, t: ties_ref(b, o, t, 1.0, 1.0)),
]


def gen_merge():
    cases = []
    for dtype, n, scale in [('F32', 1024, 0.02), ('F16', 1024, 0.02), ('BF16', 1024, 0.02),
                            ('F64', 256, 0.02), ('F8_E4M3', 256, 1.0)]:
        dt = NP[dtype]
        base = rng.normal(0, scale * 5, n)
        # Task vectors: sparse, with repeated magnitudes (ties at the threshold), same-sign and
        # opposite-sign overlaps, and exact cancellations.
        step = scale / 8
        d_ours = np.where(rng.random(n) < 0.6, rng.integers(-8, 9, n) * step, 0.0)
        d_theirs = np.where(rng.random(n) < 0.6, rng.integers(-8, 9, n) * step, 0.0)
        cancel = rng.random(n) < 0.1
        d_theirs[cancel] = -d_ours[cancel]
        sides = {}
        for side, v in [('base', base), ('ours', base + d_ours), ('theirs', base + d_theirs)]:
            stored = v.astype(dt)
            if dtype == 'BF16' or dtype.startswith('F8'):
                stored = v.astype(np.float32).astype(dt)
            write(f'merge-{dtype}-{side}.bin', stored.tobytes())
            sides[side] = stored.astype(np.float64)
        results = []
        for i, (strategy, options, fn) in enumerate(STRATEGIES):
            out = fn(sides['base'], sides['ours'], sides['theirs'])
            name = f'merge-{dtype}-{strategy}-{i}.bin'
            write(name, to_dtype_bits(out, dtype))
            results.append({'strategy': strategy, 'options': options, 'file': name})
        cases.append({'dtype': dtype, 'elements': n, 'base': f'merge-{dtype}-base.bin',
                      'ours': f'merge-{dtype}-ours.bin', 'theirs': f'merge-{dtype}-theirs.bin',
                      'results': results})
    write_json('merge.json', cases)


def main():
    os.makedirs(OUT, exist_ok=True)
    np.seterr(all='ignore')  # overflow to inf and NaN casts are intended
    gen_minifloat()
    gen_stats()
    gen_diff()
    gen_merge()
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f'wrote {len(os.listdir(OUT))} files, {total} bytes, to {os.path.normpath(OUT)}')


if __name__ == '__main__':
    main()
