// SM3 against the examples of GB/T 32905 itself; SM2 verification against signatures made by the
// node are checked end to end in demo.test.mjs (a certificate of an SM2 chain).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sm3, sm2Verify } from '../src/shared/sm2.js';

const hex = (bytes) => Buffer.from(bytes).toString('hex');

test('SM3 gives the standard example digests', () => {
  assert.equal(hex(sm3(Buffer.from('abc'))), '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
  assert.equal(
    hex(sm3(Buffer.from('abcd'.repeat(16)))),
    'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732',
  );
  // The same bytes in several parts hash as one.
  assert.equal(hex(sm3(Buffer.from('ab'), Buffer.from('c'))), hex(sm3(Buffer.from('abc'))));
  assert.equal(hex(sm3(new Uint8Array(0))), '1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b');
});

test('SM2 refuses malformed keys and out-of-range signatures', () => {
  const offCurve = new Uint8Array(65);
  offCurve[0] = 4;
  offCurve[64] = 1;
  assert.equal(sm2Verify(offCurve, Buffer.from('m'), new Uint8Array(64).fill(1)), false);
  assert.equal(sm2Verify(new Uint8Array(10), Buffer.from('m'), new Uint8Array(64)), false);
});
