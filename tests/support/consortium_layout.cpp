#include "support/consortium_layout.h"

#include <fstream>

#include <app/key_file.h>

#include "support/node_harness.h"
#include "support/processes.h"

namespace jiancang::testing {

namespace fs = std::filesystem;

bool writeConsortium(const fs::path& directory, const ConsortiumSettings& settings,
                     const core::PublicKey& admin, const std::vector<std::string>& etcdUrls,
                     ConsortiumLayout* layout, std::string* error) {
  layout->directory = directory;
  layout->ports.clear();
  std::string genesis = "genesis --name consortium-test";
  const std::size_t nodes = settings.members + settings.joining;
  for (std::size_t i = 0; i < nodes; ++i) {
    fs::create_directories(layout->memberDirectory(i));
    const fs::path key = layout->memberDirectory(i) / "member.key";
    if (core::Status written = app::writeKeyFile(key, testKey("member" + std::to_string(i)));
        !written.isOk()) {
      *error = written.message();
      return false;
    }
    if (i < settings.members) genesis += " --member m" + std::to_string(i) + "=" + key.string();
    layout->ports.push_back(freePort());
  }
  genesis += " --admin " + admin.hex() + " --out " + (directory / "genesis.hex").string();
  auto [code, output] = runJiancang(genesis);
  if (code != 0) {
    *error = "jiancang genesis failed:\n" + output;
    return false;
  }
  for (std::size_t i = 0; i < nodes; ++i) {
    std::ofstream config(layout->config(i));
    config << "name = \"m" << i << "\"\n"
           << "data = \"data\"\n"
           << "listen = \"127.0.0.1:" << layout->ports[i] << "\"\n"
           << "genesis = \"../genesis.hex\"\n"
           << "member_key = \"member.key\"\n"
           << "block_interval_ms = " << settings.blockIntervalMs << "\n"
           << "lease_ttl_s = " << settings.leaseTtlSeconds << "\n"
           << "blocks_kept_in_etcd = " << settings.blocksKeptInEtcd << "\n"
           << "password_ops = 1\npassword_memory_mib = 8\n"
           << "etcd = [";
    for (std::size_t e = 0; e < etcdUrls.size(); ++e)
      config << (e ? ", " : "") << '"' << etcdUrls[e] << '"';
    config << "]\npeers = [";
    bool first = true;
    for (std::size_t j = 0; j < nodes; ++j) {
      if (j == i) continue;
      config << (first ? "" : ", ") << "\"http://127.0.0.1:" << layout->ports[j] << '"';
      first = false;
    }
    config << "]\n";
    if (!config) {
      *error = "cannot write " + layout->config(i).string();
      return false;
    }
  }
  return true;
}

}  // namespace jiancang::testing
