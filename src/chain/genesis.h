// Genesis: the consortium's founding document. Every member holds the same bytes; the chain id
// is their hash, so a chain cannot be confused with another one.
#pragma once

#include <chain/transaction.h>

namespace jiancang::chain {

struct RoleGrant {
  Address account;
  std::uint32_t roles = 0;
  void encodeTo(core::Writer& writer) const;
  static RoleGrant decodeFrom(core::Reader& reader);
  friend bool operator==(const RoleGrant&, const RoleGrant&) = default;
};

struct Genesis {
  static constexpr std::uint8_t kEncodingVersion = 1;
  static constexpr std::string_view kEncodingName = "genesis";
  std::string chainName;
  core::SuiteId suite = core::SuiteId::kEd25519Sha256;
  Timestamp timestamp;
  std::vector<Member> members;        // they sign blocks and approve membership changes
  std::vector<RoleGrant> roleGrants;  // the first admins, governance, verifier and market keys

  void encodeTo(core::Writer& writer) const;
  static Genesis decodeFrom(core::Reader& reader);
  friend bool operator==(const Genesis&, const Genesis&) = default;
};

core::Status checkGenesis(const Genesis& genesis);
// Chain id = suite hash of ("jiancang/genesis/v1" ‖ canonical genesis).
ChainParameters chainParametersOf(const Genesis& genesis);

}  // namespace jiancang::chain
