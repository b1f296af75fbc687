// The SM2/SM3 suite for the in-browser certificate check (docs/FORMATS.md, "Keys, signatures,
// addresses"): SM3 hashing (GB/T 32905) and SM2 signature verification (GB/T 32918) with the
// default signer id 1234567812345678, over the curve arithmetic of @noble/curves. No library on
// npm does SM2 verification over noble's audited field and point code, so these few lines are
// written here; sm3() is checked against the standard's own examples (web/tests/sm.test.mjs).
import { weierstrassN } from '@noble/curves/abstract/weierstrass';

const IV = [0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600, 0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e];
const rotl = (x, n) => ((x << (n & 31)) | (x >>> ((32 - (n & 31)) & 31))) >>> 0;
const p0 = (x) => (x ^ rotl(x, 9) ^ rotl(x, 17)) >>> 0;
const p1 = (x) => (x ^ rotl(x, 15) ^ rotl(x, 23)) >>> 0;

export function sm3(...parts) {
  const length = parts.reduce((n, part) => n + part.length, 0);
  const padded = new Uint8Array(Math.ceil((length + 9) / 64) * 64);
  let at = 0;
  for (const part of parts) {
    padded.set(part, at);
    at += part.length;
  }
  padded[length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor((length * 8) / 0x100000000));
  view.setUint32(padded.length - 4, (length * 8) >>> 0);
  const v = [...IV];
  const w = new Array(68);
  const w1 = new Array(64);
  for (let block = 0; block < padded.length; block += 64) {
    for (let j = 0; j < 16; j += 1) w[j] = view.getUint32(block + 4 * j);
    for (let j = 16; j < 68; j += 1) {
      w[j] = (p1(w[j - 16] ^ w[j - 9] ^ rotl(w[j - 3], 15)) ^ rotl(w[j - 13], 7) ^ w[j - 6]) >>> 0;
    }
    for (let j = 0; j < 64; j += 1) w1[j] = (w[j] ^ w[j + 4]) >>> 0;
    let [a, b, c, d, e, f, g, h] = v;
    for (let j = 0; j < 64; j += 1) {
      const t = j < 16 ? 0x79cc4519 : 0x7a879d8a;
      const ss1 = rotl((rotl(a, 12) + e + rotl(t, j % 32)) >>> 0, 7);
      const ss2 = (ss1 ^ rotl(a, 12)) >>> 0;
      const ff = j < 16 ? a ^ b ^ c : (a & b) | (a & c) | (b & c);
      const gg = j < 16 ? e ^ f ^ g : (e & f) | (~e & g);
      const tt1 = (ff + d + ss2 + w1[j]) >>> 0;
      const tt2 = (gg + h + ss1 + w[j]) >>> 0;
      d = c;
      c = rotl(b, 9);
      b = a;
      a = tt1;
      h = g;
      g = rotl(f, 19);
      f = e;
      e = p0(tt2);
    }
    [a, b, c, d, e, f, g, h].forEach((word, i) => {
      v[i] = (v[i] ^ word) >>> 0;
    });
  }
  const out = new Uint8Array(32);
  const outView = new DataView(out.buffer);
  v.forEach((word, i) => outView.setUint32(4 * i, word));
  return out;
}

const CURVE = {
  p: 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn,
  a: 0xfffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffcn,
  b: 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n,
  n: 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n,
  h: 1n,
  Gx: 0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7n,
  Gy: 0xbc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0n,
};
let Point = null;
const point = () => (Point ??= weierstrassN(CURVE));

const bytes32 = (value) => {
  const out = new Uint8Array(32);
  let rest = value;
  for (let i = 31; i >= 0; i -= 1) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
};
const toBigInt = (bytes) => bytes.reduce((value, byte) => (value << 8n) | BigInt(byte), 0n);
const DEFAULT_ID = new TextEncoder().encode('1234567812345678');

// Verifies an SM2 signature (r ‖ s, 32 bytes each) by the uncompressed key (0x04 ‖ x ‖ y) over
// `message`: e = SM3(Z ‖ M), then (x1, y1) = s·G + (r + s)·P and r = (e + x1) mod n.
export function sm2Verify(key, message, signature) {
  try {
    const Curve = point();
    const P = Curve.fromBytes(key); // refuses a point off the curve
    const r = toBigInt(signature.slice(0, 32));
    const s = toBigInt(signature.slice(32, 64));
    const { n } = CURVE;
    if (r < 1n || r >= n || s < 1n || s >= n) return false;
    const entl = Uint8Array.of(0, DEFAULT_ID.length * 8);
    const z = sm3(
      entl,
      DEFAULT_ID,
      bytes32(CURVE.a),
      bytes32(CURVE.b),
      bytes32(CURVE.Gx),
      bytes32(CURVE.Gy),
      key.slice(1, 33),
      key.slice(33, 65),
    );
    const e = toBigInt(sm3(z, message));
    const t = (r + s) % n;
    if (t === 0n) return false;
    const sum = Curve.BASE.multiply(s).add(P.multiply(t));
    if (sum.equals(Curve.ZERO)) return false;
    return (e + sum.toAffine().x) % n === r;
  } catch {
    return false;
  }
}
