#include <app/consortium.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include <toml++/toml.h>
#include <nlohmann/json.hpp>

#include <app/key_file.h>
#include <app/node.h>
#include <core/clock.h>

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

}  // namespace jiancang::app
