#include <app/node.h>

#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <sys/resource.h>
#include <sys/stat.h>

#include <api/commerce_api.h>
#include <api/http_server.h>
#include <api/node_api.h>
#include <api/platform_api.h>
#include <api/web_assets.h>
#include <app/demo.h>
#include <app/key_file.h>
#include <app/web_bundle.h>
#include <ledger/certificate.h>
#include <ordering/solo_orderer.h>
#include <platform/accounts.h>
#include <platform/catalog.h>
#include <platform/database.h>
#include <platform/drops.h>
#include <platform/minter.h>
#include <platform/payments.h>
#include <platform/support.h>

namespace jiancang::app {
namespace {

namespace fs = std::filesystem;

int fail(std::string_view command, const std::string& message, int code = 1) {
  std::cerr << "jiancang " << command << ": " << message << "\n";
  return code;
}

}  // namespace

core::Result<core::KeyPair> loadOrCreateKey(const fs::path& path, core::SuiteId suite,
                                            bool* created) {
  *created = false;
  std::error_code error;
  if (fs::exists(path, error)) return readKeyFile(path);
  core::KeyPair pair = core::cryptoSuite(suite).generateKeyPair();
  if (core::Status status = writeKeyFile(path, pair); !status.isOk()) return status;
  *created = true;
  return pair;
}

namespace {

// The sale's background work, each on a thread of its own so that none waits for another:
// unpaid orders past their deadline give their stock back; the sandbox provider delivers its
// callbacks (at once again while a full batch was due); paid orders are minted; lotteries past
// their end are committed and drawn on chain.
class CommerceWorker {
 public:
  CommerceWorker(platform::Drops& drops, platform::WaitingRoom& waitingRoom,
                 platform::Lotteries& lotteries, platform::SandboxPayments& sandbox,
                 platform::Minter& minter) {
    loop([&drops, &waitingRoom] {
      // Waiting rooms are drawn at their drop's start (or by the first to join after it).
      report("drawing queues", waitingRoom.drawDue().status());
      report("expiring orders", drops.expireDue().status());
      return false;
    });
    loop([&sandbox] {
      auto delivered = sandbox.deliverDue(
          [](const std::string& url, const std::string& body, const std::string& signature) {
            return api::postTo(url, body, {{platform::kSandboxSignatureHeader, signature}},
                               std::chrono::seconds(5)) == 200;
          });
      report("payment callbacks", delivered.status());
      return delivered.ok() && delivered->acknowledged > 0 &&
             static_cast<std::size_t>(delivered->due) >= platform::SandboxOptions().deliveryBatch;
    });
    loop([&minter] {
      auto minted = minter.runOnce();
      report("minting", minted.status());
      return minted.ok() && *minted > 0;
    });
    // Lotteries wait for the chain between their steps: on a thread of their own.
    loop([&lotteries] {
      report("drawing lotteries", lotteries.runDue().status());
      return false;
    });
  }
  ~CommerceWorker() { stop(); }
  CommerceWorker(const CommerceWorker&) = delete;
  CommerceWorker& operator=(const CommerceWorker&) = delete;

  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

 private:
  static void report(const char* what, const core::Status& status) {
    if (!status.isOk()) std::cerr << what << ": " << status.reason() << "\n";
  }

  // Runs `round` until stopped: again at once when it says there is more, else after 200 ms.
  void loop(std::function<bool()> round) {
    threads_.emplace_back([this, round = std::move(round)] {
      for (;;) {
        const bool more = round();
        std::unique_lock lock(mutex_);
        if (stopping_) return;
        if (!more &&
            wake_.wait_for(lock, std::chrono::milliseconds(200), [&] { return stopping_; })) {
          return;
        }
      }
    });
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

bool parseListen(const std::string& listen, std::string* host, unsigned short* port) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  *host = listen.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  try {
    std::size_t used = 0;
    unsigned long value = std::stoul(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1 || value > 65535) return false;
    *port = static_cast<unsigned short>(value);
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

}  // namespace

sigset_t prepareProcess() {
  // Every connection is a file: allow as many as the system lets this process have (the usual
  // soft limit of 1,024 would cap a node at about a thousand clients).
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

core::Status prepareDataDirectory(const fs::path& data) {
  std::error_code error;
  fs::create_directories(data / "keys", error);
  if (error) {
    return core::Status(core::ErrorCode::kIoError, "data-directory",
                        "cannot create " + (data / "keys").string() + ": " + error.message());
  }
  ::chmod(data.c_str(), 0700);
  ::chmod((data / "keys").c_str(), 0700);
  return {};
}

int serve(const ServeSetup& setup, const sigset_t& signals) {
  const UpOptions& options = setup.options;
  const std::string_view command = setup.command;
  ledger::Ledger& ledgerRef = setup.ledger;
  auto* ledger = &ledgerRef;
  auto& orderer = setup.orderer;
  const core::KeyPair* admin = &setup.admin;
  const bool fresh = setup.fresh;
  const fs::path& data = options.dataDirectory;
  core::SystemClock clock;
  // The front-end embedded at build time; a pack that does not read is a build fault.
  auto webAssets = api::WebAssets::fromPack(embeddedWebPack());
  if (!webAssets) return fail(command, webAssets.status().message());
  std::string host;
  unsigned short port = 0;
  if (!parseListen(options.listen, &host, &port)) {
    return fail(command, "listen wants HOST:PORT, for example 127.0.0.1:8080", 2);
  }
  const chain::Genesis& chainGenesis = ledger->genesis();
  api::NodeApiOptions nodeOptions;
  nodeOptions.consortium = setup.consortium;
  api::NodeApi nodeApi(*ledger, orderer, nodeOptions);

  // The platform: its database, the master key its secrets are sealed under, the accounts.
  auto masterKey = platform::MasterKey::loadOrCreate(data / "keys" / "platform.key");
  if (!masterKey) return fail(command, masterKey.status().message());
  core::Result<std::unique_ptr<platform::Database>> database =
      options.database.empty()
          ? platform::openSqlite(platform::SqliteOptions{(data / "platform.db").string()})
          : platform::openPostgres(platform::PostgresOptions{options.database});
  if (!database) return fail(command, database.status().message());
  if (core::Status migrated = platform::migrate(**database); !migrated.isOk()) {
    return fail(command, migrated.message());
  }
  if (core::Status bound = platform::bindMasterKey(**database, *masterKey); !bound.isOk()) {
    return fail(command, bound.message());
  }
  platform::LocalIdentityVerifier identityVerifier;
  platform::AccountsOptions accountsOptions;
  accountsOptions.passwordOpsLimit = options.passwordOpsLimit;
  accountsOptions.passwordMemoryLimit = options.passwordMemoryMiB << 20;
  platform::Accounts accounts(**database, *masterKey, core::cryptoSuite(chainGenesis.suite),
                              identityVerifier, clock, accountsOptions);
  auto operatorPassword = accounts.ensureOperator(options.operatorPhone);
  if (!operatorPassword) return fail(command, operatorPassword.status().message());
  api::PlatformApiOptions platformOptions;
  platformOptions.secureCookies = options.secureCookies;
  platform::DiskMediaStore mediaStore(options.mediaDirectory.empty() ? data / "media"
                                                                     : options.mediaDirectory);
  platform::MediaLibrary media(**database, mediaStore, clock);
  platform::ChainWriter chainWriter(*ledger, orderer);
  platform::Catalog catalog(**database, accounts, media, chainWriter, *admin, clock);
  platform::Support support(**database, accounts, clock);
  platform::Gifts gifts(accounts, chainWriter);
  api::PlatformApi platformApi(accounts, media, catalog, support, gifts, platformOptions);
  // Selling: drops and orders, the sandbox payment provider, minting what was paid for.
  auto sandbox = platform::SandboxPayments::open(**database, clock, {});
  if (!sandbox) return fail(command, sandbox.status().message());
  platform::WaitingRoom waitingRoom(**database, accounts, core::cryptoSuite(chainGenesis.suite),
                                    clock);
  platform::Drops drops(**database, accounts, catalog, **sandbox, waitingRoom, *ledger, clock);
  std::unique_ptr<platform::StockGate> stockGate;
  if (!options.stockRedis.empty()) {
    auto connected = platform::connectRedisStockGate(options.stockRedis);
    if (!connected) {
      orderer.shutdown();
      return fail(command, connected.status().message());
    }
    stockGate = std::move(connected).value();
    drops.useStockGate(stockGate.get());
  }
  platform::Minter minter(**database, accounts, drops, *ledger, orderer, clock);
  platform::Lotteries lotteries(**database, accounts, *ledger, orderer, clock);
  platform::BlindBoxes blindBoxes(**database, accounts, catalog, drops, chainWriter, clock);
  api::CommerceApi commerceApi(accounts, drops, waitingRoom, lotteries, blindBoxes, **sandbox);

  std::FILE* accessLog = std::fopen((data / "access.log").c_str(), "a");

  api::HttpServerOptions serverOptions;
  serverOptions.address = host;
  serverOptions.port = port;
  serverOptions.threads = options.httpThreads;
  serverOptions.accessLog = accessLog;
  serverOptions.requestTimeout = std::chrono::milliseconds(options.requestTimeoutMillis);
  serverOptions.limitsFor = api::PlatformApi::limitsFor;
  api::HttpServer server(
      serverOptions,
      [&](const std::shared_ptr<api::Exchange>& exchange) {
        if (api::PlatformApi::handles(exchange->request().path)) {
          platformApi.handle(exchange);
        } else if (api::CommerceApi::handles(exchange->request().path)) {
          commerceApi.handle(exchange);
        } else if (api::WebAssets::handles(exchange->request().path)) {
          exchange->respond(webAssets->answer(exchange->request()));
        } else {
          nodeApi.handle(exchange);
        }
      },
      [&](const api::HttpRequest& request, unsigned status, std::chrono::microseconds elapsed) {
        nodeApi.observe(request, status, elapsed);
      });
  std::string listenError;
  if (!server.start(&listenError)) {
    orderer.shutdown();
    if (accessLog != nullptr) std::fclose(accessLog);
    return fail(command, listenError);
  }

  ledger::Head head = ledger->head();
  std::string shownHost = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  // The sandbox provider calls back through the loopback interface whatever was listened on.
  std::string callbackHost = host == "0.0.0.0" ? "127.0.0.1" : host == "::" ? "[::1]" : shownHost;
  (*sandbox)->setBaseUrl("http://" + callbackHost + ":" + std::to_string(server.port()));
  CommerceWorker commerceWorker(drops, waitingRoom, lotteries, **sandbox, minter);

  // Stops everything in order: nothing new comes in, the workers finish, what is queued commits.
  auto shutdown = [&] {
    server.stop();
    platformApi.stop();
    commerceApi.stop();
    commerceWorker.stop();
    nodeApi.closeStreams();
    orderer.shutdown();
    if (accessLog != nullptr) std::fclose(accessLog);
  };

  std::vector<DemoAccount> demoAccounts;
  if (options.demo) {
    auto seeded = seedDemo({accounts, media, catalog, drops, support, clock, options.operatorPhone},
                           [](std::string_view step) { std::cout << "seeding " << step << "\n"; });
    if (!seeded) {
      shutdown();
      return fail(command, seeded.status().message());
    }
    demoAccounts = std::move(seeded).value();
    head = ledger->head();
  }

  std::cout << (fresh ? "created" : "opened") << " chain " << ledger->parameters().chainId.hex()
            << " (\"" << chainGenesis.chainName << "\", " << core::suiteName(chainGenesis.suite)
            << ") at height " << head.height << " in " << data.string() << "\n";
  if (setup.keysCreated) {
    std::cout << "keys (mode 0600): " << (data / "keys").string()
              << (setup.consortium == nullptr
                      ? "/member.key signs blocks, admin.key registers issuers\n"
                      : "/admin.key registers issuers once the chain grants it the admin role\n");
  }
  if (operatorPassword->has_value()) {
    // Printed once, never stored in clear or logged: the operator must change it at first login.
    std::cout << "operator account: " << options.operatorPhone << " with one-time password "
              << **operatorPassword << " (it must be changed at first login)\n";
  }
  std::string base = "http://" + shownHost + ":" + std::to_string(server.port());
  std::cout << "jiancang is serving on " << base << "/\n"
            << "  storefront  " << base << "/\n"
            << "  console     " << base << "/console/\n"
            << "  explorer    " << base << "/explorer/\n"
            << "  API         " << base << "/api/v1/chain\n";
  for (const DemoAccount& account : demoAccounts) {
    std::cout << "  demo " << account.role << ": " << account.phone << " / " << account.password
              << "\n";
  }
  std::cout << "  stop with Ctrl-C\n" << std::flush;

  int signal = 0;
  sigwait(&signals, &signal);
  std::cout << "\n" << (signal == SIGINT ? "SIGINT" : "SIGTERM") << ": stopping..." << std::flush;
  shutdown();
  head = ledger->head();
  std::cout << " stopped cleanly at height " << head.height << "\n";
  return 0;
}

int runUp(const UpOptions& options) {
  auto suite = core::parseSuiteName(options.suite);
  if (!suite) return fail("up", suite.status().message(), 2);
  std::string host;
  unsigned short port = 0;
  if (!parseListen(options.listen, &host, &port)) {
    return fail("up", "--listen wants HOST:PORT, for example 127.0.0.1:8080", 2);
  }

  // Signals are taken synchronously by serve(); every thread started below inherits the mask,
  // so none of them is interrupted.
  sigset_t signals = prepareProcess();

  const fs::path& data = options.dataDirectory;
  std::error_code error;
  bool fresh = !fs::exists(data / "ledger", error);
  if (core::Status prepared = prepareDataDirectory(data); !prepared.isOk()) {
    return fail("up", prepared.message());
  }

  bool memberCreated = false;
  bool adminCreated = false;
  auto member = loadOrCreateKey(data / "keys" / "member.key", *suite, &memberCreated);
  if (!member) return fail("up", member.status().message());
  auto admin = loadOrCreateKey(data / "keys" / "admin.key", *suite, &adminCreated);
  if (!admin) return fail("up", admin.status().message());

  std::optional<chain::Genesis> genesis;
  if (fresh) {
    chain::Genesis created;
    created.chainName = options.chainName;
    created.suite = *suite;
    created.timestamp = core::SystemClock().now();
    created.members = {chain::Member{"local", member->publicKey}};
    created.roleGrants = {
        {core::addressOf(admin->publicKey),
         chain::kRoleAdmin | chain::kRoleGovernance | chain::kRoleVerifier | chain::kRoleMarket}};
    genesis = created;
  }
  auto ledger = ledger::Ledger::open(data / "ledger", genesis);
  if (!ledger) return fail("up", ledger.status().message());
  const chain::Genesis& chainGenesis = (*ledger)->genesis();
  if (chainGenesis.members.size() != 1 || chainGenesis.members[0].key != member->publicKey) {
    return fail("up",
                "this ledger's chain has other members; a consortium member runs `jiancang node`");
  }

  core::SystemClock clock;
  ordering::SoloOrdererOptions ordererOptions;
  ordererOptions.blockInterval = std::chrono::milliseconds(options.blockIntervalMillis);
  ordererOptions.mempool.perAccount = options.accountQuota;
  ordererOptions.mempool.perPrivilegedAccount = options.issuerQuota;
  ordererOptions.mempool.capacity = options.mempoolCapacity;
  ordering::SoloOrderer orderer(**ledger, std::move(member).value(), clock, ordererOptions);
  return serve(ServeSetup{"up", options, **ledger, orderer, *admin, nullptr, fresh,
                          memberCreated || adminCreated},
               signals);
}

int runCheck(const fs::path& dataDirectory) {
  auto ledger = ledger::Ledger::open(dataDirectory / "ledger", std::nullopt);
  if (!ledger) return fail("check", ledger.status().message());
  ledger::Head head = (*ledger)->head();
  std::cerr << "checking " << head.height << " blocks of chain "
            << (*ledger)->parameters().chainId.hex() << "\n";
  std::uint64_t lastShown = 0;
  core::Status status = (*ledger)->check([&](std::uint64_t done, std::uint64_t total) {
    if (done == total || done - lastShown >= 1000) {
      std::cerr << "  " << done << "/" << total << " blocks replayed\r" << std::flush;
      lastShown = done;
    }
  });
  std::cerr << "\n";
  if (!status.isOk()) return fail("check", status.reason() + ": " + status.message());
  std::cout << "ok: " << head.height << " blocks replayed from genesis; hash chain, receipts, "
            << "attestations and every state entry agree; state root " << head.stateRoot.hex()
            << "\n";
  return 0;
}

int runVerify(const fs::path& certificate, const std::string& chainId) {
  std::error_code error;
  auto size = fs::file_size(certificate, error);
  if (error) return fail("verify", "cannot read " + certificate.string() + ": " + error.message());
  if (size > (std::uintmax_t{16} << 20))
    return fail("verify", "the file is over 16 MiB: not a certificate");
  std::ifstream in(certificate, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  ledger::CertificateReport report;
  core::Status status = ledger::verifyCertificate(text.str(), chainId, &report);
  for (const std::string& check : report.checks) std::cout << "  ok  " << check << "\n";
  if (!status.isOk()) {
    std::cout << "  FAIL " << status.reason() << ": " << status.message() << "\n";
    std::cout << "the certificate is NOT valid\n";
    return 1;
  }
  std::cout << "valid: token " << report.token << " is held by " << report.owner << " at height "
            << report.height << " of chain " << report.chainId << "\n";
  if (chainId.empty()) {
    std::cout << "(compare the chain id with the one the platform publishes, or pass --chain-id)\n";
  }
  return 0;
}

}  // namespace jiancang::app
