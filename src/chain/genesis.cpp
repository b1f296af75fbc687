#include <chain/genesis.h>

#include <set>

#include <chain/codec_internal.h>

namespace jiancang::chain {

void RoleGrant::encodeTo(core::Writer& writer) const {
  writer.fixed(account.view());
  writer.varint(roles);
}

RoleGrant RoleGrant::decodeFrom(core::Reader& reader) {
  RoleGrant grant;
  grant.account = codec::readFixed<Address>(reader);
  grant.roles = static_cast<std::uint32_t>(reader.varintAtMost(kAllRoles, "roles"));
  return grant;
}

void Genesis::encodeTo(core::Writer& writer) const {
  writer.string(chainName);
  writer.u8(static_cast<std::uint8_t>(suite));
  codec::writeTime(writer, timestamp);
  codec::writeList(writer, members);
  codec::writeList(writer, roleGrants);
}

Genesis Genesis::decodeFrom(core::Reader& reader) {
  Genesis genesis;
  genesis.chainName = reader.string(limits::kMaxNameBytes, "chain name");
  auto suite = core::suiteFromByte(reader.u8());
  if (!suite && !reader.failed()) reader.fail(suite.status());
  if (suite) genesis.suite = *suite;
  genesis.timestamp = codec::readTime(reader);
  genesis.members = codec::readList<Member>(reader, limits::kMaxMembers, "members");
  genesis.roleGrants = codec::readList<RoleGrant>(reader, 1024, "role grants");
  return genesis;
}

core::Status checkGenesis(const Genesis& genesis) {
  auto invalid = [](std::string reason, std::string message) {
    return core::invalidArgument(std::move(reason), std::move(message));
  };
  if (genesis.chainName.empty() || genesis.chainName.size() > limits::kMaxNameBytes ||
      !core::isValidUtf8(genesis.chainName)) {
    return invalid("chain-name-invalid", "the chain name must be 1 to 64 bytes of UTF-8");
  }
  if (genesis.members.empty() || genesis.members.size() > limits::kMaxMembers) {
    return invalid("members-invalid", "a consortium has 1 to 64 members");
  }
  std::set<core::PublicKey> keys;
  for (const Member& member : genesis.members) {
    if (member.key.suite() != genesis.suite) {
      return invalid("member-wrong-suite", "member " + member.name + "'s key is not " +
                                               std::string(core::suiteName(genesis.suite)));
    }
    if (member.name.empty() || member.name.size() > limits::kMaxNameBytes ||
        !core::isValidUtf8(member.name)) {
      return invalid("member-name-invalid", "every member needs a name of 1 to 64 bytes");
    }
    if (!keys.insert(member.key).second)
      return invalid("member-duplicate", "a key is listed twice");
  }
  std::set<Address> accounts;
  bool anyAdmin = false;
  for (const RoleGrant& grant : genesis.roleGrants) {
    if (grant.roles == 0 || (grant.roles & ~kAllRoles) != 0) {
      return invalid("roles-invalid", "a role grant names no role or an unknown one");
    }
    if (!accounts.insert(grant.account).second) {
      return invalid("role-grant-duplicate", "an address is granted roles twice");
    }
    anyAdmin = anyAdmin || (grant.roles & kRoleAdmin) != 0;
  }
  if (!anyAdmin) return invalid("admin-missing", "genesis must name at least one admin");
  return {};
}

ChainParameters chainParametersOf(const Genesis& genesis) {
  Bytes encoded = core::encode(genesis);
  const core::CryptoSuite& suite = core::cryptoSuite(genesis.suite);
  core::ChainId id(suite.hash({core::asBytes("jiancang/genesis/v1"), encoded}).array());
  return ChainParameters{id, genesis.suite};
}

}  // namespace jiancang::chain
