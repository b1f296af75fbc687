#include <chain/sparse_merkle.h>

#include <algorithm>

#include <chain/codec_internal.h>

namespace jiancang::chain {
namespace {

constexpr std::uint8_t kLeafPrefix = 0x00;
constexpr std::uint8_t kInternalPrefix = 0x01;
constexpr std::uint8_t kKeyPrefix = 0x02;
constexpr std::uint8_t kValuePrefix = 0x03;
constexpr std::size_t kMaxDepth = 256;

bool bitAt(const Hash256& keyHash, std::size_t depth) {
  return (keyHash.array()[depth / 8] >> (7 - depth % 8) & 1) != 0;
}

// A subtree during an update: its hash and, when known, what it is. A single leaf carries its
// key hash, so the update can tell whether a key replaces it or splits it without fetching it.
struct Subtree {
  enum class Kind : std::uint8_t { kUnknown, kEmpty, kLeaf, kInternal };
  Hash256 hash;
  Kind kind = Kind::kUnknown;
  Hash256 leafKey;  // kLeaf only

  static Subtree empty() { return {Hash256(), Kind::kEmpty, {}}; }
  static Subtree leaf(const Hash256& hash, const Hash256& key) { return {hash, Kind::kLeaf, key}; }
  // A child as its parent describes it.
  static Subtree child(const Hash256& hash, const std::optional<Hash256>& leafKey) {
    if (hash.isZero()) return empty();
    if (leafKey) return leaf(hash, *leafKey);
    return {hash, Kind::kInternal, {}};
  }
  bool isEmpty() const { return hash.isZero(); }
};

class TreeUpdater {
 public:
  TreeUpdater(const core::CryptoSuite& suite, const MerkleNodeSource& source,
              std::size_t updateCount)
      : suite_(suite), source_(source) {
    // About one leaf and the unshared part of a path per update.
    newNodes_.reserve(updateCount * 12);
  }

  // Applies `updates` (sorted by key hash, sharing `depth` leading bits) to `node`.
  std::optional<Subtree> update(Subtree node, std::size_t depth, std::span<MerkleUpdate> updates) {
    if (updates.empty()) return node;
    if (node.isEmpty()) return build(depth, updates, std::nullopt);
    if (node.kind == Subtree::Kind::kLeaf) return build(depth, updates, node);
    // Only internal nodes of the old tree (and an old root of unknown kind) are fetched.
    std::optional<MerkleNode> stored = source_.findNode(node.hash);
    if (!stored) return std::nullopt;
    if (stored->isLeaf) return build(depth, updates, Subtree::leaf(node.hash, stored->first));
    auto split = splitByBit(updates, depth);
    auto left = update(Subtree::child(stored->first, stored->firstLeafKey), depth + 1,
                       updates.first(split));
    if (!left) return std::nullopt;
    auto right = update(Subtree::child(stored->second, stored->secondLeafKey), depth + 1,
                        updates.subspan(split));
    if (!right) return std::nullopt;
    return join(*left, *right);
  }

  MerkleNodeList takeNodes() { return std::move(newNodes_); }

 private:
  static std::size_t splitByBit(std::span<MerkleUpdate> updates, std::size_t depth) {
    auto firstRight =
        std::partition_point(updates.begin(), updates.end(),
                             [&](const MerkleUpdate& u) { return !bitAt(u.keyHash, depth); });
    return static_cast<std::size_t>(firstRight - updates.begin());
  }

  // Builds the subtree at `depth` from scratch out of `updates` plus an existing leaf, if any
  // (unless an update replaces or deletes that leaf's key). A surviving leaf keeps its hash: a
  // leaf's hash does not depend on where it sits.
  std::optional<Subtree> build(std::size_t depth, std::span<MerkleUpdate> updates,
                               const std::optional<Subtree>& existingLeaf) {
    std::size_t live = 0;
    const MerkleUpdate* onlyUpdate = nullptr;
    bool existingSurvives = existingLeaf.has_value();
    for (const MerkleUpdate& u : updates) {
      if (existingLeaf && u.keyHash == existingLeaf->leafKey) existingSurvives = false;
      if (u.valueHash) {
        ++live;
        onlyUpdate = &u;
      }
    }
    if (existingSurvives) ++live;
    if (live == 0) return Subtree::empty();
    if (live == 1) {
      if (existingSurvives) return existingLeaf;
      return makeLeaf(onlyUpdate->keyHash, *onlyUpdate->valueHash);
    }
    if (depth >= kMaxDepth) return std::nullopt;  // two distinct 256-bit keys cannot get here
    auto split = splitByBit(updates, depth);
    std::optional<Subtree> leftLeaf;
    std::optional<Subtree> rightLeaf;
    if (existingSurvives) {
      (bitAt(existingLeaf->leafKey, depth) ? rightLeaf : leftLeaf) = existingLeaf;
    }
    auto left = build(depth + 1, updates.first(split), leftLeaf);
    auto right = build(depth + 1, updates.subspan(split), rightLeaf);
    if (!left || !right) return std::nullopt;
    return join(*left, *right);
  }

  Subtree makeLeaf(const Hash256& keyHash, const Hash256& valueHash) {
    Hash256 hash = merkleLeafHash(suite_, keyHash, valueHash);
    newNodes_.emplace_back(hash, MerkleNode{true, keyHash, valueHash, {}, {}});
    return Subtree::leaf(hash, keyHash);
  }

  // An internal node over two children; a lone leaf moves up instead (compression).
  std::optional<Subtree> join(Subtree left, Subtree right) {
    if (left.isEmpty() && right.isEmpty()) return Subtree::empty();
    if (left.isEmpty() || right.isEmpty()) {
      Subtree& only = left.isEmpty() ? right : left;
      if (!resolveKind(only)) return std::nullopt;
      if (only.kind == Subtree::Kind::kLeaf) return only;
    }
    Hash256 hash =
        suite_.hash({core::ByteView(&kInternalPrefix, 1), left.hash.view(), right.hash.view()});
    newNodes_.emplace_back(
        hash, MerkleNode{false, left.hash, right.hash, leafKeyOf(left), leafKeyOf(right)});
    return Subtree{hash, Subtree::Kind::kInternal, {}};
  }

  static std::optional<Hash256> leafKeyOf(const Subtree& subtree) {
    if (subtree.kind == Subtree::Kind::kLeaf) return subtree.leafKey;
    return std::nullopt;
  }

  // Learns what an old root of unknown kind is (the only subtree that arrives unknown).
  bool resolveKind(Subtree& subtree) const {
    if (subtree.kind != Subtree::Kind::kUnknown) return true;
    auto node = source_.findNode(subtree.hash);
    if (!node) return false;
    subtree = node->isLeaf ? Subtree::leaf(subtree.hash, node->first)
                           : Subtree{subtree.hash, Subtree::Kind::kInternal, {}};
    return true;
  }

  const core::CryptoSuite& suite_;
  const MerkleNodeSource& source_;
  MerkleNodeList newNodes_;
};

}  // namespace

std::optional<MerkleNode> MemoryMerkleNodes::findNode(const Hash256& hash) const {
  if (auto found = internal_.find(hash); found != internal_.end()) return found->second;
  if (auto found = leaves_.find(hash); found != leaves_.end()) return found->second;
  return std::nullopt;
}

void MemoryMerkleNodes::insert(const MerkleNodeList& nodes) {
  for (const auto& [hash, node] : nodes) (node.isLeaf ? leaves_ : internal_).emplace(hash, node);
}

core::Bytes encodeMerkleNode(const MerkleNode& node) {
  core::Writer writer;
  if (node.isLeaf) {
    writer.u8(0);
    writer.fixed(node.first.view());
    writer.fixed(node.second.view());
    return std::move(writer).take();
  }
  writer.u8(
      static_cast<std::uint8_t>(1 | (node.firstLeafKey ? 2 : 0) | (node.secondLeafKey ? 4 : 0)));
  writer.fixed(node.first.view());
  writer.fixed(node.second.view());
  if (node.firstLeafKey) writer.fixed(node.firstLeafKey->view());
  if (node.secondLeafKey) writer.fixed(node.secondLeafKey->view());
  return std::move(writer).take();
}

std::optional<MerkleNode> decodeMerkleNode(core::ByteView bytes) {
  core::Reader reader(bytes);
  std::uint8_t kind = reader.u8();
  if (kind > 7 || (kind != 0 && (kind & 1) == 0)) return std::nullopt;
  MerkleNode node;
  node.isLeaf = kind == 0;
  node.first = codec::readFixed<Hash256>(reader);
  node.second = codec::readFixed<Hash256>(reader);
  if ((kind & 2) != 0) node.firstLeafKey = codec::readFixed<Hash256>(reader);
  if ((kind & 4) != 0) node.secondLeafKey = codec::readFixed<Hash256>(reader);
  if (!reader.finish().isOk()) return std::nullopt;
  return node;
}

Hash256 merkleKeyHash(const core::CryptoSuite& suite, core::ByteView key) {
  return suite.hash({core::ByteView(&kKeyPrefix, 1), key});
}

Hash256 merkleValueHash(const core::CryptoSuite& suite, core::ByteView value) {
  return suite.hash({core::ByteView(&kValuePrefix, 1), value});
}

Hash256 merkleLeafHash(const core::CryptoSuite& suite, const Hash256& keyHash,
                       const Hash256& valueHash) {
  return suite.hash({core::ByteView(&kLeafPrefix, 1), keyHash.view(), valueHash.view()});
}

std::optional<MerkleUpdateResult> updateMerkleTree(const core::CryptoSuite& suite,
                                                   const MerkleNodeSource& source,
                                                   const Hash256& root,
                                                   std::vector<MerkleUpdate> updates) {
  std::sort(updates.begin(), updates.end(),
            [](const MerkleUpdate& a, const MerkleUpdate& b) { return a.keyHash < b.keyHash; });
  TreeUpdater updater(suite, source, updates.size());
  Subtree start = root.isZero() ? Subtree::empty() : Subtree{root, Subtree::Kind::kUnknown, {}};
  auto result = updater.update(start, 0, updates);
  if (!result) return std::nullopt;
  return MerkleUpdateResult{result->hash, updater.takeNodes()};
}

std::optional<MerkleProof> proveMerkleKey(const MerkleNodeSource& source, const Hash256& root,
                                          const Hash256& keyHash) {
  MerkleProof proof;
  Hash256 current = root;
  for (std::size_t depth = 0; !current.isZero(); ++depth) {
    auto node = source.findNode(current);
    if (!node || depth > kMaxDepth) return std::nullopt;
    if (node->isLeaf) {
      proof.terminalLeaf = node;
      break;
    }
    bool right = bitAt(keyHash, depth);
    proof.siblings.push_back(right ? node->first : node->second);
    current = right ? node->second : node->first;
  }
  return proof;
}

core::Status verifyMerkleProof(const core::CryptoSuite& suite, const Hash256& root,
                               const Hash256& keyHash, const std::optional<Hash256>& valueHash,
                               const MerkleProof& proof) {
  auto failure = [](std::string reason, std::string message) {
    return core::Status(core::ErrorCode::kCorruption, std::move(reason), std::move(message));
  };
  std::size_t depth = proof.siblings.size();
  if (depth > kMaxDepth) return failure("proof-too-deep", "the proof has more than 256 levels");
  Hash256 hash;  // empty slot
  if (proof.terminalLeaf) {
    const MerkleNode& leaf = *proof.terminalLeaf;
    if (!leaf.isLeaf) return failure("proof-malformed", "the proof ends in a non-leaf");
    if (leaf.first == keyHash) {
      if (!valueHash) return failure("proof-key-present", "the key is present, not absent");
      if (leaf.second != *valueHash) {
        return failure("proof-value-mismatch", "the proven value differs from the claimed one");
      }
    } else {
      if (valueHash)
        return failure("proof-key-absent", "the proof shows another key, not this one");
      // Another key's leaf proves absence only if it sits on this key's path.
      for (std::size_t i = 0; i < depth; ++i) {
        if (bitAt(leaf.first, i) != bitAt(keyHash, i)) {
          return failure("proof-malformed", "the proof's leaf is not on the key's path");
        }
      }
    }
    hash = merkleLeafHash(suite, leaf.first, leaf.second);
  } else if (valueHash) {
    return failure("proof-key-absent", "the proof ends in an empty slot: the key is absent");
  }
  for (std::size_t i = depth; i-- > 0;) {
    const Hash256& sibling = proof.siblings[i];
    hash = bitAt(keyHash, i)
               ? suite.hash({core::ByteView(&kInternalPrefix, 1), sibling.view(), hash.view()})
               : suite.hash({core::ByteView(&kInternalPrefix, 1), hash.view(), sibling.view()});
  }
  if (hash != root)
    return failure("proof-root-mismatch", "the proof does not lead to the state root");
  return {};
}

void MerkleProof::encodeTo(core::Writer& writer) const {
  writer.count(siblings.size());
  for (const Hash256& sibling : siblings) writer.fixed(sibling.view());
  writer.boolean(terminalLeaf.has_value());
  if (terminalLeaf) {
    writer.fixed(terminalLeaf->first.view());
    writer.fixed(terminalLeaf->second.view());
  }
}

MerkleProof MerkleProof::decodeFrom(core::Reader& reader) {
  MerkleProof proof;
  std::size_t count = reader.count(kMaxDepth, "proof siblings");
  proof.siblings.reserve(count);
  for (std::size_t i = 0; i < count && !reader.failed(); ++i) {
    proof.siblings.push_back(codec::readFixed<Hash256>(reader));
  }
  if (reader.boolean()) {
    MerkleNode leaf{
        true, codec::readFixed<Hash256>(reader), codec::readFixed<Hash256>(reader), {}, {}};
    proof.terminalLeaf = leaf;
  }
  return proof;
}

}  // namespace jiancang::chain
