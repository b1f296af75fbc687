// Checks a jiancang certificate in the browser, as `jiancang verify` does on the command line
// (src/ledger/certificate.cpp; the formats are docs/FORMATS.md): trusting nothing but the
// members' keys in the certificate's own genesis, whose hash is the chain id (and the membership
// changes since, each approved by a quorum of the members before it), in either suite
// (Ed25519 with SHA-256, or SM2 with SM3: sm2.js). It decodes the
// canonical encodings itself, recomputes every hash, checks the members' signatures and both
// Merkle proofs, and finally rebuilds the whole document from the proven parts so that no
// displayed field can lie. Each step that passes is reported for people; the first that fails
// stops the check with its reason.
import { sha256 } from '@noble/hashes/sha256';
import { ed25519 } from '@noble/curves/ed25519';
import { sm2Verify, sm3 } from './sm2.js';

const FORMAT = 'jiancang-certificate/1';
const ED25519 = 1;
const SM2 = 2;

export class CertificateError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

const fail = (code, message) => {
  throw new CertificateError(code, message);
};

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

function fromHex(hex, what) {
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || /[^0-9a-f]/.test(hex)) {
    fail('certificate-malformed', `${what} is not lowercase hex`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i += 1) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const equalBytes = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

// The canonical encoding's reader: exactly one encoding per value, anything else refused.
class Reader {
  constructor(bytes, what) {
    this.bytes = bytes;
    this.at = 0;
    this.what = what;
  }
  refuse(message) {
    fail('certificate-malformed', `${this.what} does not decode: ${message} at offset ${this.at}`);
  }
  u8() {
    if (this.at >= this.bytes.length) this.refuse('truncated');
    return this.bytes[this.at++];
  }
  varint() {
    let value = 0n;
    for (let i = 0; i < 10; i += 1) {
      const byte = this.u8();
      if (i === 9 && byte > 1) this.refuse('varint overflow');
      value |= BigInt(byte & 0x7f) << BigInt(7 * i);
      if ((byte & 0x80) === 0) {
        if (i > 0 && byte === 0) this.refuse('non-minimal varint');
        return value;
      }
    }
    return this.refuse('varint overflow');
  }
  number() {
    const value = this.varint();
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) this.refuse('number too large to show');
    return Number(value);
  }
  signed() {
    const raw = this.varint();
    const value = raw & 1n ? -((raw + 1n) >> 1n) : raw >> 1n;
    return Number(value);
  }
  boolean() {
    const byte = this.u8();
    if (byte > 1) this.refuse('invalid bool');
    return byte === 1;
  }
  fixed(length) {
    if (this.at + length > this.bytes.length) this.refuse('truncated');
    const out = this.bytes.slice(this.at, this.at + length);
    this.at += length;
    return out;
  }
  bytesField() {
    const length = this.number();
    if (length > this.bytes.length - this.at) this.refuse('length beyond the end');
    return this.fixed(length);
  }
  string() {
    try {
      return textDecoder.decode(this.bytesField());
    } catch (error) {
      if (error instanceof CertificateError) throw error;
      return this.refuse('invalid UTF-8');
    }
  }
  list(read) {
    const count = this.number();
    if (count > this.bytes.length - this.at) this.refuse('more items than bytes');
    return Array.from({ length: count }, () => read(this));
  }
  optional(read) {
    return this.boolean() ? read(this) : null;
  }
  version(what) {
    if (this.u8() !== 1) this.refuse(`unknown ${what} version`);
  }
  finish() {
    if (this.at !== this.bytes.length) this.refuse(`${this.bytes.length - this.at} trailing bytes`);
  }
}

function decodeMembershipChange(hex, what) {
  const reader = new Reader(fromHex(hex, what), what);
  const change = readMembershipChange(reader);
  reader.finish();
  return change;
}

// Decodes one top-level value: its version byte, its fields, nothing after.
function decodeTop(hex, what, read) {
  const reader = new Reader(fromHex(hex, what), what);
  reader.version(what);
  const value = read(reader);
  reader.finish();
  return value;
}

const readPublicKey = (r) => {
  const suite = r.u8();
  if (suite !== ED25519 && suite !== SM2) r.refuse(`unknown suite ${suite}`);
  return { suite, bytes: r.fixed(suite === ED25519 ? 32 : 65) };
};
const encodePublicKey = (key) => concat(Uint8Array.of(key.suite), key.bytes);

const readGenesis = (r) => ({
  chainName: r.string(),
  suite: r.u8(),
  timestamp: r.signed(),
  members: r.list((m) => ({ name: m.string(), key: readPublicKey(m) })),
  roleGrants: r.list((g) => ({ account: g.fixed(20), roles: g.number() })),
});

const readHeader = (r) => ({
  chainId: r.fixed(32),
  height: r.number(),
  previousHash: r.fixed(32),
  timestamp: r.signed(),
  transactionCount: r.number(),
  transactionsRoot: r.fixed(32),
  previousStateRoot: r.fixed(32),
});

const readAttestation = (r) => ({
  height: r.number(),
  blockHash: r.fixed(32),
  stateRoot: r.fixed(32),
  member: readPublicKey(r),
  signature: r.fixed(64),
});

const ACTIONS = { 1: 'add-member', 2: 'remove-member', 3: 'add-admin', 4: 'remove-admin' };
const MAX_MEMBERS = 64;

// A membership change as its transaction holds it (no version byte).
const readMembershipChange = (r) => {
  const action = r.number();
  if (!ACTIONS[action]) r.refuse(`unknown membership action ${action}`);
  return {
    action,
    key: readPublicKey(r),
    name: r.string(),
    approvals: r.list((a) => ({ member: readPublicKey(a), signature: a.fixed(64) })),
  };
};

const readStateProof = (r) => ({
  key: r.bytesField(),
  value: r.optional((v) => v.bytesField()),
  siblings: r.list((s) => s.fixed(32)),
  leaf: r.optional((l) => ({ keyHash: l.fixed(32), valueHash: l.fixed(32) })),
});

const readTokenRecord = (r) => ({
  owner: r.fixed(20),
  mintedAt: r.signed(),
  lastTransferAt: r.signed(),
  transferCount: r.number(),
  burned: r.boolean(),
  frozen: r.boolean(),
  frozenReason: r.string(),
  rightUsesLeft: r.list((u) => u.number()),
});

const readSeriesRecord = (r) => ({
  id: r.number(),
  issuer: r.fixed(20),
  title: r.string(),
  mediaHash: r.fixed(32),
  mediaType: r.string(),
  metadataHash: r.fixed(32),
  licenceHash: r.fixed(32),
  editionCap: r.number(),
  creator: r.fixed(20),
  royaltyBasisPoints: r.number(),
  policyVersions: r.list((p) => ({
    version: p.number(),
    effectiveFromHeight: p.number(),
    transferable: p.boolean(),
    holdBeforeFirstTransfer: p.number(),
    holdBetweenTransfers: p.number(),
    tradable: p.boolean(),
    priceCeiling: p.signed(),
  })),
  rights: r.list((g) => ({ id: g.number(), kind: g.string(), uses: g.number() })),
  minted: r.number(),
  burned: r.number(),
  reserved: r.number(),
  isBlindBox: r.boolean(),
  createdAt: r.signed(),
});

function varintBytes(value) {
  const out = [];
  let rest = BigInt(value);
  do {
    let byte = Number(rest & 0x7fn);
    rest >>= 7n;
    if (rest > 0n) byte |= 0x80;
    out.push(byte);
  } while (rest > 0n);
  return Uint8Array.from(out);
}

function bigEndian64(value) {
  const out = new Uint8Array(8);
  let rest = BigInt(value);
  for (let i = 7; i >= 0; i -= 1) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}

function suiteOf(number) {
  if (number === ED25519) {
    return {
      name: 'ed25519',
      hash: (...parts) => sha256(concat(...parts)),
      verify: (key, message, signature) => {
        try {
          return ed25519.verify(signature, message, key.bytes, { zip215: false });
        } catch {
          return false;
        }
      },
    };
  }
  if (number === SM2) {
    return {
      name: 'sm2',
      hash: (...parts) => sm3(...parts),
      verify: (key, message, signature) => sm2Verify(key.bytes, message, signature),
    };
  }
  return fail('certificate-malformed', `unknown crypto suite ${number}`);
}

const bitAt = (hash, i) => (hash[i >> 3] >> (7 - (i & 7))) & 1;

function verifyStateProof(suite, root, proof, expectedKey, what) {
  if (!equalBytes(proof.key, expectedKey)) fail('certificate-wrong-key', `the ${what} proof is for another key`);
  if (!proof.value) fail('proof-entry-absent', `the ${what} record does not exist under this root`);
  const keyHash = suite.hash(Uint8Array.of(0x02), proof.key);
  const valueHash = suite.hash(Uint8Array.of(0x03), proof.value);
  const depth = proof.siblings.length;
  if (depth > 256) fail('proof-too-deep', 'the proof has more than 256 levels');
  if (!proof.leaf) fail('proof-key-absent', `the ${what} proof ends in an empty slot`);
  if (!equalBytes(proof.leaf.keyHash, keyHash)) fail('proof-key-absent', `the ${what} proof shows another key`);
  if (!equalBytes(proof.leaf.valueHash, valueHash)) {
    fail('proof-value-mismatch', `the proven ${what} record differs from the one shown`);
  }
  let hash = suite.hash(Uint8Array.of(0x00), keyHash, valueHash);
  for (let i = depth - 1; i >= 0; i -= 1) {
    const sibling = proof.siblings[i];
    hash = bitAt(keyHash, i)
      ? suite.hash(Uint8Array.of(0x01), sibling, hash)
      : suite.hash(Uint8Array.of(0x01), hash, sibling);
  }
  if (!equalBytes(hash, root)) fail('proof-root-mismatch', `the ${what} proof does not lead to the state root`);
}

const sameKey = (a, b) => a.suite === b.suite && equalBytes(a.bytes, b.bytes);
const quorumOf = (count) => Math.floor((count * 2) / 3) + 1;

// The chain's own rule (chain::applyMembershipChange): a quorum of distinct current members
// approve the change at the current version; then the member is added or removed. Returns the
// members after it; the version is the change's position in the history.
function applyMembershipChange(suite, chainSuite, chainId, members, version, change) {
  const domain = textEncoder.encode('jiancang/membership-change/v1');
  const name = textEncoder.encode(change.name);
  const message = concat(
    varintBytes(domain.length),
    domain,
    chainId,
    varintBytes(version),
    varintBytes(change.action),
    encodePublicKey(change.key),
    varintBytes(name.length),
    name,
  );
  const approvers = new Set();
  for (const approval of change.approvals) {
    if (!members.some((m) => sameKey(m.key, approval.member))) return 'an approval comes from a non-member key';
    if (!suite.verify(approval.member, message, approval.signature)) {
      return "a member's approval signature does not verify";
    }
    approvers.add(toHex(approval.member.bytes));
  }
  const quorum = quorumOf(members.length);
  if (approvers.size < quorum) return `${approvers.size} approvals, ${quorum} of ${members.length} members needed`;
  const existing = members.findIndex((m) => sameKey(m.key, change.key));
  if (change.action === 1) {
    if (change.key.suite !== chainSuite) return "a member's key must use the chain's crypto suite";
    if (existing >= 0) return 'the key is a member already';
    if (members.length >= MAX_MEMBERS) return `a consortium has at most ${MAX_MEMBERS} members`;
    members.push({ name: change.name, key: change.key });
  } else if (change.action === 2) {
    if (existing < 0) return 'the key is not a member';
    if (members.length === 1) return 'the last member cannot be removed';
    members.splice(existing, 1);
  }
  return null;
}

export function serialLabel(serial, cap) {
  return `#${String(serial).padStart(String(cap).length, '0')}/${cap}`;
}

// Order-insensitive for objects, as the node compares documents.
function sameJson(a, b) {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => sameJson(v, b[i]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && sameJson(a[k], b[k]));
  }
  return a === b;
}

// Returns {ok: true, checks: [{key, params}], chainId, token, owner, height} when every check
// passes, or {ok: false, checks (those that passed), failure: {code, message}}. `checks` are
// i18n keys under `certificate.checks` with their parameters, so the page says them in the
// reader's language.
export function verifyCertificate(document, expectedChainId = '') {
  const checks = [];
  const result = { ok: false, checks };
  try {
    const doc = typeof document === 'string' ? JSON.parse(document) : document;
    if (!doc || typeof doc !== 'object' || doc.format !== FORMAT) {
      fail('certificate-format', `not a ${FORMAT} document`);
    }
    // 1. The chain: its id is the hash of its genesis, which names the members.
    const genesisHex = doc.chain?.genesis;
    const genesis = decodeTop(genesisHex, 'chain.genesis', readGenesis);
    const suite = suiteOf(genesis.suite);
    const genesisBytes = fromHex(genesisHex, 'chain.genesis');
    const chainId = suite.hash(textEncoder.encode('jiancang/genesis/v1'), genesisBytes);
    result.chainId = toHex(chainId);
    if (doc.chain.id !== result.chainId) fail('certificate-chain-id', 'chain.id is not the hash of chain.genesis');
    if (expectedChainId && expectedChainId !== result.chainId) {
      fail('certificate-other-chain', `the certificate is for chain ${result.chainId}, not ${expectedChainId}`);
    }
    checks.push({ key: 'chain', params: { id: result.chainId, name: genesis.chainName, members: genesis.members.length } });

    // 2. The block: its hash follows from its header.
    const headerHex = doc.state?.header;
    const header = decodeTop(headerHex, 'state.header', readHeader);
    if (!equalBytes(header.chainId, chainId)) fail('certificate-header-chain', 'the block header belongs to another chain');
    const blockHash = suite.hash(textEncoder.encode('jiancang/block/v1'), fromHex(headerHex, 'state.header'));
    if (doc.state.block_hash !== toHex(blockHash) || doc.state.height !== header.height) {
      fail('certificate-block-hash', 'state.block_hash or state.height does not match the block header');
    }
    result.height = header.height;
    checks.push({ key: 'block', params: { height: header.height, hash: toHex(blockHash) } });

    // 3. The members who sign that block: the genesis members, changed by each membership
    //    change before it, each approved by a quorum of the members before it.
    const members = genesis.members.map((m) => ({ ...m }));
    const names = new Map(genesis.members.map((m) => [toHex(m.key.bytes), m.name]));
    const history = doc.membership === undefined ? [] : doc.membership;
    if (!Array.isArray(history)) fail('certificate-malformed', 'membership is not a list');
    const changes = history.map((entry, i) => {
      const change = decodeMembershipChange(entry?.change, `membership change ${i + 1}`);
      const previous = i > 0 ? history[i - 1].height : 0;
      if (!Number.isSafeInteger(entry.height) || entry.height >= header.height || entry.height < previous) {
        fail('certificate-membership', `the membership changes are not in block order before block ${header.height}`);
      }
      const refused = applyMembershipChange(suite, genesis.suite, chainId, members, i, change);
      if (refused) {
        fail(
          'certificate-membership',
          `membership change ${i + 1} (block ${entry.height}) does not follow from the members before it: ${refused}`,
        );
      }
      if (change.action === 1) names.set(toHex(change.key.bytes), change.name);
      return change;
    });
    if (changes.length > 0) {
      checks.push({
        key: 'membership',
        params: { changes: changes.length, members: members.length, names: members.map((m) => m.name).join(', ') },
      });
    }

    // 4. The members' signatures on (height, block hash, state root).
    const root = fromHex(doc.state.state_root, 'state.state_root');
    if (root.length !== 32) fail('certificate-malformed', 'state.state_root is not 32 bytes');
    const message = concat(
      varintBytes(textEncoder.encode('jiancang/attestation/v1').length),
      textEncoder.encode('jiancang/attestation/v1'),
      chainId,
      varintBytes(header.height),
      blockHash,
      root,
    );
    const quorum = quorumOf(members.length);
    const signers = [];
    const attestations = (doc.attestations ?? []).map((entry) =>
      decodeTop(entry.attestation, 'attestation', readAttestation),
    );
    for (const attestation of attestations) {
      const member = members.find((m) => sameKey(m.key, attestation.member));
      if (!member) fail('attestation-not-member', `key ${toHex(attestation.member.bytes)} is not a member`);
      if (signers.includes(member.name)) fail('attestation-duplicate', `member ${member.name} signed twice`);
      if (
        attestation.height !== header.height ||
        !equalBytes(attestation.blockHash, blockHash) ||
        !equalBytes(attestation.stateRoot, root)
      ) {
        fail('attestation-other-block', `member ${member.name} signed another height, block or root`);
      }
      if (!suite.verify(attestation.member, message, attestation.signature)) {
        fail('attestation-bad-signature', `member ${member.name}'s signature does not verify`);
      }
      signers.push(member.name);
    }
    if (signers.length < quorum) {
      fail('attestation-no-quorum', `${signers.length} of ${members.length} members signed; the quorum is ${quorum}`);
    }
    checks.push({
      key: 'signatures',
      params: { signed: signers.length, members: members.length, quorum, root: toHex(root), names: signers.join(', ') },
    });

    // 5. The token: its record is proven under that root and names the holder.
    const token = doc.token ?? {};
    const tokenKey = concat(Uint8Array.of(0x74), bigEndian64(token.series), bigEndian64(token.serial));
    const tokenProof = decodeTop(doc.proofs?.token, 'proofs.token', readStateProof);
    verifyStateProof(suite, root, tokenProof, tokenKey, 'token');
    const tokenRecord = decodeTop(toHex(tokenProof.value), 'token record', readTokenRecord);
    if (tokenRecord.burned) fail('token-burned', `token ${token.id} was burned`);
    if (toHex(tokenRecord.owner) !== token.owner) {
      fail('owner-mismatch', `token ${token.id} is held by ${toHex(tokenRecord.owner)}, not ${token.owner}`);
    }
    result.token = `${token.series}#${token.serial}`;
    result.owner = token.owner;
    checks.push({ key: 'token', params: { token: result.token, owner: result.owner } });

    // 6. The series: its supply and the hashes of its media and licence.
    const seriesKey = concat(Uint8Array.of(0x73), bigEndian64(token.series));
    const seriesProof = decodeTop(doc.proofs?.series, 'proofs.series', readStateProof);
    verifyStateProof(suite, root, seriesProof, seriesKey, 'series');
    const series = decodeTop(toHex(seriesProof.value), 'series record', readSeriesRecord);
    if (series.minted > series.editionCap) fail('supply-over-cap', 'the proven state breaks the cap');
    checks.push({
      key: 'series',
      params: {
        id: token.series,
        title: series.title,
        cap: series.editionCap,
        minted: series.minted,
        burned: series.burned,
        media: toHex(series.mediaHash),
        licence: toHex(series.licenceHash),
      },
    });

    // 7. Every displayed field: the document must be exactly what its proven parts say.
    const expected = {
      format: FORMAT,
      chain: { id: result.chainId, name: genesis.chainName, suite: suite.name, genesis: genesisHex },
      token: {
        id: `${token.series}#${token.serial}`,
        series: token.series,
        serial: token.serial,
        label: serialLabel(token.serial, series.editionCap),
        owner: toHex(tokenRecord.owner),
        minted_at: tokenRecord.mintedAt,
        transfer_count: tokenRecord.transferCount,
        frozen: tokenRecord.frozen,
      },
      series: {
        id: token.series,
        title: series.title,
        issuer: toHex(series.issuer),
        edition_cap: series.editionCap,
        minted: series.minted,
        burned: series.burned,
        media_hash: toHex(series.mediaHash),
        media_type: series.mediaType,
        metadata_hash: toHex(series.metadataHash),
        licence_hash: toHex(series.licenceHash),
      },
      state: {
        height: header.height,
        block_hash: toHex(blockHash),
        state_root: toHex(root),
        timestamp: header.timestamp,
        header: headerHex,
      },
      proofs: { token: doc.proofs.token, series: doc.proofs.series },
      attestations: attestations.map((attestation, i) => ({
        member: names.get(toHex(attestation.member.bytes)),
        key: toHex(attestation.member.bytes),
        attestation: doc.attestations[i].attestation,
      })),
    };
    if (changes.length > 0) {
      expected.membership = changes.map((change, i) => ({
        height: history[i].height,
        action: ACTIONS[change.action],
        key: toHex(change.key.bytes),
        change: history[i].change,
        ...(change.action === 1 ? { name: change.name } : {}),
      }));
    }
    if (!sameJson(expected, doc)) {
      fail('certificate-display-mismatch', 'a field differs from what the proven records and signatures say');
    }
    checks.push({ key: 'fields', params: {} });
    result.ok = true;
    result.series = series;
    result.tokenRecord = tokenRecord;
    result.members = members.map((m) => ({ name: m.name, key: toHex(m.key.bytes), signed: signers.includes(m.name) }));
  } catch (error) {
    result.failure =
      error instanceof CertificateError
        ? { code: error.code, message: error.message }
        : { code: 'certificate-malformed', message: `a field is missing or of the wrong type: ${error.message}` };
  }
  return result;
}
