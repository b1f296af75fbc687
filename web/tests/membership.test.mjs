// The browser's verifier on a certificate whose consortium changed: a fourth member added and
// one of the genesis members removed, each by a quorum's approvals. The fixture is a real
// certificate from tests/consortium_test.cpp (JIANCANG_MEMBERSHIP_CERTIFICATE_OUT), and CliTest
// keeps `jiancang verify` accepting it, so both verifiers are judged on the same document.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { verifyCertificate } from '../src/shared/certificate.js';

const genuine = JSON.parse(readFileSync(new URL('./fixtures/membership-certificate.json', import.meta.url)));
const copy = () => structuredClone(genuine);

test('a certificate signed by members that joined after the genesis verifies', () => {
  const result = verifyCertificate(copy());
  assert.equal(result.ok, true, JSON.stringify(result.failure));
  const membership = result.checks.find((check) => check.key === 'membership');
  assert.deepEqual(membership.params, { changes: 2, members: 3, names: 'm0, m1, m3' });
  assert.deepEqual(
    result.members.map((m) => m.name),
    ['m0', 'm1', 'm3'],
  );
});

test('without its membership history the new member is a stranger', () => {
  const doc = copy();
  delete doc.membership;
  assert.equal(verifyCertificate(doc).failure.code, 'attestation-not-member');
});

test('a change whose approvals were altered, dropped or reordered is refused', () => {
  const flipped = copy();
  const change = flipped.membership[0].change;
  flipped.membership[0].change = change.slice(0, -1) + (change.endsWith('0') ? '1' : '0');
  assert.equal(verifyCertificate(flipped).failure.code, 'certificate-membership');

  const firstOnly = copy();
  firstOnly.membership = firstOnly.membership.slice(1);  // the removal, without the addition
  assert.equal(verifyCertificate(firstOnly).failure.code, 'certificate-membership');

  const reordered = copy();
  reordered.membership.reverse();
  assert.equal(verifyCertificate(reordered).failure.code, 'certificate-membership');

  const late = copy();
  late.membership[1].height = late.state.height;
  assert.equal(verifyCertificate(late).failure.code, 'certificate-membership');
});

test('a displayed membership field that differs from the change is refused', () => {
  const renamed = copy();
  renamed.membership[0].name = 'notary';
  assert.equal(verifyCertificate(renamed).failure.code, 'certificate-display-mismatch');
  const relabelled = copy();
  relabelled.membership[1].action = 'remove-admin';
  assert.equal(verifyCertificate(relabelled).failure.code, 'certificate-display-mismatch');
});

test('every single-byte change of a membership change fails the check', () => {
  for (const index of [0, 1]) {
    const hex = genuine.membership[index].change;
    for (let at = 0; at < hex.length; at += 2) {
      const doc = copy();
      const byte = (parseInt(hex.slice(at, at + 2), 16) ^ 0x01).toString(16).padStart(2, '0');
      doc.membership[index].change = hex.slice(0, at) + byte + hex.slice(at + 2);
      assert.equal(verifyCertificate(doc).ok, false, `change ${index}, byte ${at / 2}`);
    }
  }
});
