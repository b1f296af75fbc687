#include <app/consortium.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include <toml++/toml.h>
#include <nlohmann/json.hpp>

#include <app/key_file.h>
#include <app/node.h>
#include <chain/transaction.h>
#include <core/clock.h>
#include <ordering/peer_http.h>

namespace jiancang::app {
namespace {

namespace fs = std::filesystem;

int fail(std::string_view command, const std::string& message, int code = 1) {
  std::cerr << "jiancang " << command << ": " << message << "\n";
  return code;
}

// A public key given as hex, or as a key file (only its public half is read).
core::Result<core::PublicKey> publicKeyFrom(const std::string& text, core::SuiteId suite) {
  std::string hex = text;
  std::error_code error;
  if (fs::is_regular_file(text, error)) {
    std::ifstream in(text);
    nlohmann::json document = nlohmann::json::parse(in, nullptr, false);
    if (!document.is_object() || !document["public_key"].is_string()) {
      return core::invalidArgument("bad-key", text + " is not a jiancang key file");
    }
    hex = document["public_key"].get<std::string>();
  }
  auto bytes = core::fromHex(hex);
  if (!bytes)
    return core::invalidArgument("bad-key", "'" + text + "' is neither a key file nor hex");
  auto key = core::cryptoSuite(suite).parsePublicKey(*bytes);
  if (!key) {
    return core::invalidArgument("bad-key", "'" + text + "' is not a " +
                                                std::string(core::suiteName(suite)) +
                                                " public key: " + key.status().message());
  }
  return *key;
}

std::string readText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

core::Result<chain::Genesis> readGenesis(const fs::path& path) {
  std::error_code error;
  if (!fs::is_regular_file(path, error)) {
    return core::notFound("no-genesis", "cannot read the genesis file " + path.string());
  }
  std::string text = readText(path);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  auto bytes = core::fromHex(text);
  if (!bytes) {
    return core::invalidArgument("bad-genesis", path.string() + " is not a hex genesis");
  }
  auto genesis = core::decode<chain::Genesis>(*bytes);
  if (!genesis) {
    return core::invalidArgument("bad-genesis", path.string() + ": " + genesis.status().message());
  }
  if (core::Status checked = chain::checkGenesis(*genesis); !checked.isOk()) {
    return checked;
  }
  return *genesis;
}

}  // namespace

int runGenesis(const GenesisOptions& options) {
  auto suite = core::parseSuiteName(options.suite);
  if (!suite) return fail("genesis", suite.status().message(), 2);
  chain::Genesis genesis;
  genesis.chainName = options.chainName;
  genesis.suite = *suite;
  genesis.timestamp = core::SystemClock().now();
  for (const std::string& member : options.members) {
    auto equals = member.find('=');
    if (equals == std::string::npos || equals == 0) {
      return fail("genesis", "--member wants NAME=KEY, not '" + member + "'", 2);
    }
    auto key = publicKeyFrom(member.substr(equals + 1), *suite);
    if (!key) return fail("genesis", key.status().message(), 2);
    genesis.members.push_back(chain::Member{member.substr(0, equals), *key});
  }
  for (const std::string& admin : options.admins) {
    auto key = publicKeyFrom(admin, *suite);
    if (!key) return fail("genesis", key.status().message(), 2);
    genesis.roleGrants.push_back(
        {core::addressOf(*key),
         chain::kRoleAdmin | chain::kRoleGovernance | chain::kRoleVerifier | chain::kRoleMarket});
  }
  if (core::Status checked = chain::checkGenesis(genesis); !checked.isOk()) {
    return fail("genesis", checked.message(), 2);
  }
  std::error_code error;
  if (fs::exists(options.out, error)) {
    return fail("genesis", options.out.string() + " already exists; a genesis is never replaced");
  }
  std::ofstream out(options.out);
  out << core::toHex(core::encode(genesis)) << "\n";
  out.close();
  if (!out) return fail("genesis", "cannot write " + options.out.string());
  chain::ChainParameters parameters = chain::chainParametersOf(genesis);
  std::cout << "wrote the genesis of \"" << genesis.chainName << "\" to " << options.out.string()
            << "\n  chain id " << parameters.chainId.hex() << "\n  " << genesis.members.size()
            << " members, quorum " << chain::ConsortiumRecord{genesis.members, 0}.quorum() << ":";
  for (const chain::Member& member : genesis.members) std::cout << " " << member.name;
  std::cout << "\n  give every member this same file\n";
  return 0;
}

int runNode(const fs::path& configPath) {
  toml::table config;
  try {
    config = toml::parse_file(configPath.string());
  } catch (const toml::parse_error& error) {
    std::ostringstream where;
    where << error.source().begin;
    return fail("node",
                configPath.string() + " " + where.str() + ": " + std::string(error.description()),
                2);
  }
  // Paths in the file are relative to the file.
  const fs::path base = configPath.has_parent_path() ? configPath.parent_path() : fs::path(".");
  auto path = [&](std::string_view name, std::string fallback) -> fs::path {
    fs::path value = config[name].value_or(fallback);
    return value.is_absolute() ? value : base / value;
  };
  auto strings = [&](std::string_view name) {
    std::vector<std::string> out;
    if (const toml::array* list = config[name].as_array()) {
      for (const auto& item : *list) {
        if (auto text = item.value<std::string>()) out.push_back(*text);
      }
    }
    return out;
  };
  static const char* const kKnown[] = {"name",
                                       "data",
                                       "listen",
                                       "advertise_url",
                                       "genesis",
                                       "member_key",
                                       "etcd",
                                       "peers",
                                       "block_interval_ms",
                                       "lease_ttl_s",
                                       "blocks_kept_in_etcd",
                                       "database",
                                       "operator_phone",
                                       "http_threads",
                                       "password_ops",
                                       "password_memory_mib"};
  for (const auto& [name, value] : config) {
    if (std::find(std::begin(kKnown), std::end(kKnown), name.str()) == std::end(kKnown)) {
      return fail("node", configPath.string() + ": unknown key '" + std::string(name.str()) + "'",
                  2);
    }
  }

  UpOptions options;
  options.dataDirectory = path("data", "jiancang-data");
  options.listen = config["listen"].value_or(std::string("127.0.0.1:8080"));
  options.database = config["database"].value_or(std::string());
  options.operatorPhone = config["operator_phone"].value_or(options.operatorPhone);
  options.httpThreads = config["http_threads"].value_or(2u);
  options.passwordOpsLimit = config["password_ops"].value_or(options.passwordOpsLimit);
  options.passwordMemoryMiB = config["password_memory_mib"].value_or(options.passwordMemoryMiB);
  ordering::EtcdOrdererOptions ordering;
  ordering.memberName = config["name"].value_or(std::string());
  ordering.advertiseUrl = config["advertise_url"].value_or("http://" + options.listen);
  ordering.etcdEndpoints = strings("etcd");
  ordering.peerUrls = strings("peers");
  ordering.blockInterval = std::chrono::milliseconds(config["block_interval_ms"].value_or(20));
  ordering.leaseTtl = std::chrono::seconds(config["lease_ttl_s"].value_or(2));
  ordering.blocksKeptInEtcd = config["blocks_kept_in_etcd"].value_or(std::uint64_t{1000});
  if (ordering.memberName.empty()) return fail("node", "the config needs name = \"...\"", 2);
  if (ordering.etcdEndpoints.empty()) {
    return fail("node", "the config needs etcd = [\"http://HOST:PORT\", ...]", 2);
  }
  if (ordering.leaseTtl.count() < 1) return fail("node", "lease_ttl_s must be at least 1", 2);

  auto genesis = readGenesis(path("genesis", "genesis.hex"));
  if (!genesis) return fail("node", genesis.status().message());
  auto member = readKeyFile(path("member_key", "member.key"));
  if (!member) return fail("node", member.status().message());

  sigset_t signals = prepareProcess();
  const fs::path& data = options.dataDirectory;
  std::error_code error;
  const bool fresh = !fs::exists(data / "ledger", error);
  if (core::Status prepared = prepareDataDirectory(data); !prepared.isOk()) {
    return fail("node", prepared.message());
  }
  bool adminCreated = false;
  auto admin = loadOrCreateKey(data / "keys" / "admin.key", genesis->suite, &adminCreated);
  if (!admin) return fail("node", admin.status().message());
  auto ledger = ledger::Ledger::open(data / "ledger", *genesis);
  if (!ledger) return fail("node", ledger.status().message());

  core::SystemClock clock;
  std::cout << "member " << ordering.memberName << " of chain "
            << (*ledger)->parameters().chainId.hex() << " at height " << (*ledger)->head().height
            << ": catching up through etcd " << ordering.etcdEndpoints.front() << "\n"
            << std::flush;
  auto orderer = ordering::EtcdOrderer::start(**ledger, std::move(member).value(), clock, ordering);
  if (!orderer) return fail("node", orderer.status().message());
  return serve(
      ServeSetup{"node", options, **ledger, **orderer, *admin, orderer->get(), fresh, adminCreated},
      signals);
}

// ---- membership changes --------------------------------------------------------------------

namespace {

// What a membership change needs to know of the chain, read from one member's API.
struct ConsortiumView {
  chain::ChainParameters parameters;
  std::uint64_t membershipVersion = 0;
  std::vector<chain::Member> members;
};

core::Result<nlohmann::json> getJson(const std::string& url) {
  auto answer = ordering::peerRequest(url, {}, {}, std::chrono::seconds(10));
  if (!answer) return answer.status();
  nlohmann::json body = nlohmann::json::parse(answer->body, nullptr, false);
  if (answer->status != 200 || !body.is_object()) {
    return core::Status(
        core::ErrorCode::kUnavailable, "node-answer",
        url + " answered " + std::to_string(answer->status) + ": " + answer->body.substr(0, 300));
  }
  return body;
}

core::Result<ConsortiumView> readConsortium(std::string node, const fs::path& pinnedGenesis) {
  while (!node.empty() && node.back() == '/') node.pop_back();
  if (node.empty()) return core::invalidArgument("no-node", "--node wants a member's API URL");
  try {
    auto chainInfo = getJson(node + "/api/v1/chain");
    if (!chainInfo) return chainInfo.status();
    auto genesisBytes = core::fromHex((*chainInfo)["genesis"].get<std::string>());
    if (!genesisBytes) return core::invalidArgument("bad-answer", "the node's genesis is not hex");
    auto genesis = core::decode<chain::Genesis>(*genesisBytes);
    if (!genesis) return genesis.status();
    if (!pinnedGenesis.empty()) {
      // Signing for whatever chain a node names would let a lying node collect an approval for
      // another chain that has this member: the member's own copy of the genesis decides.
      auto pinned = readGenesis(pinnedGenesis);
      if (!pinned) return pinned.status();
      if (chain::chainParametersOf(*pinned).chainId != chain::chainParametersOf(*genesis).chainId) {
        return core::failedPrecondition(
            "other-chain", node + " serves another chain than " + pinnedGenesis.string());
      }
    }
    auto status = getJson(node + "/api/v1/consortium");
    if (!status) return status.status();
    ConsortiumView view{chain::chainParametersOf(*genesis),
                        (*status)["membership_version"].get<std::uint64_t>(),
                        {}};
    for (const nlohmann::json& member : (*status)["members"]) {
      auto key = publicKeyFrom(member["key"].get<std::string>(), view.parameters.suite);
      if (!key) return key.status();
      view.members.push_back({member["name"].get<std::string>(), *key});
    }
    return view;
  } catch (const nlohmann::json::exception&) {
    return core::invalidArgument("bad-answer",
                                 node + " did not answer as a jiancang consortium member");
  }
}

// The change named by --add/--name or --remove; `action` and `key` of ChangeMembership.
core::Result<chain::ChangeMembership> describedChange(const MembershipOptions& options,
                                                      const ConsortiumView& view) {
  if (options.add.empty() == options.remove.empty()) {
    return core::invalidArgument("bad-change", "give either --add KEY --name NAME or --remove KEY");
  }
  chain::ChangeMembership change;
  if (!options.add.empty()) {
    if (options.name.empty()) return core::invalidArgument("bad-change", "--add needs --name");
    auto key = publicKeyFrom(options.add, view.parameters.suite);
    if (!key) return key.status();
    change = {chain::MembershipAction::kAddMember, *key, options.name, {}};
  } else {
    auto key = publicKeyFrom(options.remove, view.parameters.suite);
    if (!key) return key.status();
    change = {chain::MembershipAction::kRemoveMember, *key, {}, {}};
  }
  return change;
}

std::string describe(const chain::ChangeMembership& change, const ConsortiumView& view) {
  std::string what = change.action == chain::MembershipAction::kAddMember
                         ? "adding member \"" + change.name + "\" (" + change.key.hex() + ")"
                         : "removing member " + change.key.hex();
  return what + " at membership version " + std::to_string(view.membershipVersion) + " of chain " +
         view.parameters.chainId.hex();
}

const chain::Member* memberWithKey(const ConsortiumView& view, const core::PublicKey& key) {
  for (const chain::Member& member : view.members) {
    if (member.key == key) return &member;
  }
  return nullptr;
}

}  // namespace

int runMembershipApprove(const MembershipOptions& options) {
  constexpr std::string_view kCommand = "membership approve";
  auto view = readConsortium(options.node, options.genesis);
  if (!view) return fail(kCommand, view.status().message());
  auto change = describedChange(options, *view);
  if (!change) return fail(kCommand, change.status().message(), 2);
  auto key = readKeyFile(options.key);
  if (!key) return fail(kCommand, key.status().message(), 2);
  const chain::Member* approver = memberWithKey(*view, key->publicKey);
  if (approver == nullptr) {
    return fail(kCommand, "key " + key->publicKey.hex() +
                              " is not a member of the consortium: its approval would not count");
  }
  core::Bytes message = chain::membershipChangeMessage(
      view->parameters.chainId, view->membershipVersion, change->action, change->key, change->name);
  core::Signature signature = view->parameters.crypto().sign(key->secretKey, message);
  std::cerr << approver->name << " approves " << describe(*change, *view) << ".\n"
            << "Send the line below to whoever submits the change; it is valid only until the "
               "membership changes.\n";
  std::cout << key->publicKey.hex() << ":" << signature.hex() << "\n";
  return 0;
}

int runMembershipSubmit(const MembershipOptions& options) {
  constexpr std::string_view kCommand = "membership submit";
  auto view = readConsortium(options.node, options.genesis);
  if (!view) return fail(kCommand, view.status().message());
  auto change = describedChange(options, *view);
  if (!change) return fail(kCommand, change.status().message(), 2);
  // Each approval checked here first, so a wrong one is named before anything is sent.
  const core::Bytes message = chain::membershipChangeMessage(
      view->parameters.chainId, view->membershipVersion, change->action, change->key, change->name);
  for (const std::string& line : options.approvals) {
    auto colon = line.find(':');
    auto memberKey = publicKeyFrom(line.substr(0, colon), view->parameters.suite);
    auto signature = colon == std::string::npos
                         ? core::Result<core::Signature>(core::invalidArgument("x", "x"))
                         : core::Signature::fromHex(line.substr(colon + 1));
    if (!memberKey || !signature) {
      return fail(kCommand, "an approval is MEMBER_KEY:SIGNATURE in hex, not '" + line + "'", 2);
    }
    const chain::Member* member = memberWithKey(*view, *memberKey);
    if (member == nullptr) {
      return fail(kCommand, "approval by " + memberKey->hex() + ": not a member", 2);
    }
    if (!view->parameters.crypto().verify(*memberKey, message, *signature)) {
      return fail(kCommand,
                  "the approval by " + member->name + " does not sign " + describe(*change, *view) +
                      " (signed another change or version?)",
                  2);
    }
    change->approvals.push_back({*memberKey, *signature});
  }
  const std::size_t quorum = chain::ConsortiumRecord{view->members, 0}.quorum();
  if (change->approvals.size() < quorum) {
    return fail(kCommand,
                std::to_string(change->approvals.size()) + " approvals; " + std::to_string(quorum) +
                    " of the " + std::to_string(view->members.size()) + " members must approve",
                2);
  }
  if (core::Status checked = change->check(); !checked.isOk()) {
    return fail(kCommand, checked.message(), 2);
  }
  auto sender = readKeyFile(options.key);
  if (!sender) return fail(kCommand, sender.status().message(), 2);
  std::string node = options.node;
  while (!node.empty() && node.back() == '/') node.pop_back();
  auto account = getJson(node + "/api/v1/accounts/" + core::addressOf(sender->publicKey).hex());
  if (!account) return fail(kCommand, account.status().message());
  chain::Transaction transaction{view->parameters.chainId, sender->publicKey,
                                 (*account).value("nonce", std::uint64_t{0}), *change};
  chain::SignedTransaction signedTransaction =
      chain::signTransaction(view->parameters, std::move(transaction), sender->secretKey);
  std::string body =
      nlohmann::json{{"transaction", core::toHex(core::encode(signedTransaction))}}.dump();
  auto answer = ordering::peerRequest(node + "/api/v1/transactions", body, "application/json",
                                      std::chrono::seconds(30));
  if (!answer) return fail(kCommand, answer.status().message());
  nlohmann::json result = nlohmann::json::parse(answer->body, nullptr, false);
  if (answer->status != 200 || !result.is_object()) {
    std::string reason = result.is_object() ? result.value("code", std::string()) + ": " +
                                                  result.value("message", std::string())
                                            : answer->body.substr(0, 300);
    return fail(kCommand,
                "the node answered " + std::to_string(answer->status) + " (" + reason + ")");
  }
  const nlohmann::json& receipt = result["receipt"];
  if (!receipt.value("ok", false)) {
    return fail(kCommand, "the change was refused in block " + result["height"].dump() + ": " +
                              receipt.value("code", std::string()) + ": " +
                              receipt.value("message", std::string()));
  }
  std::cout << describe(*change, *view) << ": committed in block " << result["height"].dump()
            << "; the new membership signs from block " << result["height"].get<std::uint64_t>() + 1
            << "\n";
  return 0;
}

}  // namespace jiancang::app
