// A consortium laid out on disk as its members would set it up: one key per member, the
// genesis made by `jiancang genesis`, and one node.toml per member pointing at an etcd cluster
// and at the other members. Shared by tests/consortium_test and bench/consortium_tps.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <core/crypto.h>

namespace jiancang::testing {

struct ConsortiumLayout {
  std::filesystem::path directory;
  std::vector<unsigned short> ports;  // member i's API port (127.0.0.1)

  std::filesystem::path memberDirectory(std::size_t i) const {
    return directory / ("m" + std::to_string(i));
  }
  std::filesystem::path dataDirectory(std::size_t i) const { return memberDirectory(i) / "data"; }
  std::filesystem::path config(std::size_t i) const { return memberDirectory(i) / "node.toml"; }
};

struct ConsortiumSettings {
  std::size_t members = 3;
  // Nodes after the members (m<members>...): keys and configs, but not in the genesis, as an
  // organisation that joins later by a membership change sets up.
  std::size_t joining = 0;
  std::uint64_t blocksKeptInEtcd = 1000;
  int blockIntervalMs = 5;
  int leaseTtlSeconds = 1;
};

// Node i is named m<i> and keyed testKey("member<i>"); every node lists every other as a peer.
// False, with the reason, on failure.
bool writeConsortium(const std::filesystem::path& directory, const ConsortiumSettings& settings,
                     const core::PublicKey& admin, const std::vector<std::string>& etcdUrls,
                     ConsortiumLayout* layout, std::string* error);

}  // namespace jiancang::testing
