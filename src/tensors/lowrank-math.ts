/**
 * Small dense linear algebra for finding low-rank factors: symmetric eigen-decomposition (cyclic
 * Jacobi) and the inverse of a small symmetric positive-definite matrix. Matrices are row-major
 * Float64Arrays of n × n; n stays below a hundred here, so O(n³) is a few milliseconds.
 */

export interface Eigen {
  /** Eigenvalues, largest first. */
  values: Float64Array
  /** Column k of this n × n matrix is the eigenvector of values[k]. */
  vectors: Float64Array
}

/** Rotates rows/columns p and q of `a` (and the columns of `v`) to zero a[p][q]. */
function rotate(a: Float64Array, v: Float64Array, n: number, p: number, q: number): void {
  const apq = a[p * n + q] as number
  if (apq === 0) return
  const theta = ((a[q * n + q] as number) - (a[p * n + p] as number)) / (2 * apq)
  const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1))
  const c = 1 / Math.sqrt(t * t + 1)
  const s = t * c
  for (let k = 0; k < n; k++) {
    const kp = a[k * n + p] as number
    const kq = a[k * n + q] as number
    a[k * n + p] = c * kp - s * kq
    a[k * n + q] = s * kp + c * kq
  }
  for (let k = 0; k < n; k++) {
    const pk = a[p * n + k] as number
    const qk = a[q * n + k] as number
    a[p * n + k] = c * pk - s * qk
    a[q * n + k] = s * pk + c * qk
  }
  for (let k = 0; k < n; k++) {
    const kp = v[k * n + p] as number
    const kq = v[k * n + q] as number
    v[k * n + p] = c * kp - s * kq
    v[k * n + q] = s * kp + c * kq
  }
}

function offDiagonal(a: Float64Array, n: number): { off: number; diag: number } {
  let off = 0
  let diag = 0
  for (let p = 0; p < n; p++) {
    diag += (a[p * n + p] as number) ** 2
    for (let q = p + 1; q < n; q++) off += (a[p * n + q] as number) ** 2
  }
  return { off, diag }
}

/** Eigenvalues and eigenvectors of the symmetric n × n matrix `m` (left unchanged). */
export function symmetricEigen(m: Float64Array, n: number): Eigen {
  const a = Float64Array.from(m)
  const v = new Float64Array(n * n)
  for (let i = 0; i < n; i++) v[i * n + i] = 1
  for (let sweep = 0; sweep < 50; sweep++) {
    const { off, diag } = offDiagonal(a, n)
    if (off <= 1e-30 * diag || off === 0) break
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) rotate(a, v, n, p, q)
  }
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (x, y) => (a[y * n + y] as number) - (a[x * n + x] as number),
  )
  const values = new Float64Array(n)
  const vectors = new Float64Array(n * n)
  order.forEach((from, to) => {
    values[to] = a[from * n + from] as number
    for (let k = 0; k < n; k++) vectors[k * n + to] = v[k * n + from] as number
  })
  return { values, vectors }
}

/**
 * The inverse of a symmetric positive-definite n × n matrix, or undefined when it is singular to
 * working precision (Gauss-Jordan with partial pivoting).
 */
export function invert(m: Float64Array, n: number): Float64Array | undefined {
  const a = Float64Array.from(m)
  const inv = new Float64Array(n * n)
  for (let i = 0; i < n; i++) inv[i * n + i] = 1
  let scale = 0
  for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(a[i * n + i] as number))
  for (let c = 0; c < n; c++) {
    let p = c
    for (let r = c + 1; r < n; r++) {
      if (Math.abs(a[r * n + c] as number) > Math.abs(a[p * n + c] as number)) p = r
    }
    const pivot = a[p * n + c] as number
    if (!(Math.abs(pivot) > scale * 1e-13)) return undefined
    if (p !== c) swapRows(a, inv, n, p, c)
    for (let k = 0; k < n; k++) {
      a[c * n + k] = (a[c * n + k] as number) / pivot
      inv[c * n + k] = (inv[c * n + k] as number) / pivot
    }
    for (let r = 0; r < n; r++) {
      const f = a[r * n + c] as number
      if (r === c || f === 0) continue
      for (let k = 0; k < n; k++) {
        a[r * n + k] = (a[r * n + k] as number) - f * (a[c * n + k] as number)
        inv[r * n + k] = (inv[r * n + k] as number) - f * (inv[c * n + k] as number)
      }
    }
  }
  return inv
}

function swapRows(a: Float64Array, b: Float64Array, n: number, p: number, q: number): void {
  for (let k = 0; k < n; k++) {
    const t = a[p * n + k] as number
    a[p * n + k] = a[q * n + k] as number
    a[q * n + k] = t
    const u = b[p * n + k] as number
    b[p * n + k] = b[q * n + k] as number
    b[q * n + k] = u
  }
}
