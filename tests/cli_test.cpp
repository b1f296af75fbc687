// Runs the real jiancang binary and checks what a user sees.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace {

struct CommandRun {
  int exitCode = -1;
  std::string output;  // stdout and stderr together
};

CommandRun runJiancang(const std::string& arguments) {
  std::string command = std::string(JIANCANG_BINARY) + " " + arguments + " 2>&1";
  CommandRun result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer{};
  std::size_t read = 0;
  while ((read = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    result.output.append(buffer.data(), read);
  }
  int status = ::pclose(pipe);
  result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() /
                 ("jiancang-cli-" + std::to_string(::getpid()) + "-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(directory_);
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  std::string path(const std::string& name) const { return (directory_ / name).string(); }

  std::filesystem::path directory_;
};

TEST_F(CliTest, PrintsVersion) {
  CommandRun result = runJiancang("--version");
  EXPECT_EQ(result.exitCode, 0);
  EXPECT_EQ(result.output.rfind("jiancang 0.", 0), 0u) << result.output;
}

TEST_F(CliTest, HelpListsSubcommands) {
  for (const char* arguments : {"--help", ""}) {
    CommandRun result = runJiancang(arguments);
    EXPECT_EQ(result.exitCode, 0) << arguments;
    EXPECT_NE(result.output.find("keygen"), std::string::npos) << result.output;
  }
}

TEST_F(CliTest, KeygenWritesAnOwnerOnlyKeyFileForEachSuite) {
  for (const char* suite : {"ed25519", "sm2"}) {
    std::string file = path(std::string(suite) + ".key");
    CommandRun result = runJiancang(std::string("keygen --suite ") + suite + " --out " + file);
    ASSERT_EQ(result.exitCode, 0) << result.output;
    struct stat info {};
    ASSERT_EQ(::stat(file.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600u);

    std::ifstream in(file);
    std::stringstream content;
    content << in.rdbuf();
    std::string text = content.str();
    EXPECT_NE(text.find(std::string("\"suite\": \"") + suite + "\""), std::string::npos) << text;
    // The secret goes to the file only, never to the terminal.
    auto at = text.find("\"secret_key\": \"");
    ASSERT_NE(at, std::string::npos);
    std::string secret = text.substr(at + 15, 64);
    EXPECT_EQ(result.output.find(secret), std::string::npos);
    EXPECT_NE(result.output.find("address:"), std::string::npos);
  }
}

TEST_F(CliTest, KeygenDefaultsToEd25519) {
  CommandRun result = runJiancang("keygen --out -");
  ASSERT_EQ(result.exitCode, 0) << result.output;
  EXPECT_NE(result.output.find("\"suite\": \"ed25519\""), std::string::npos) << result.output;
}

TEST_F(CliTest, KeygenRefusesToOverwrite) {
  std::string file = path("member.key");
  ASSERT_EQ(runJiancang("keygen --out " + file).exitCode, 0);
  std::ifstream before(file);
  std::stringstream original;
  original << before.rdbuf();
  CommandRun again = runJiancang("keygen --out " + file);
  EXPECT_NE(again.exitCode, 0);
  EXPECT_NE(again.output.find("already exists"), std::string::npos) << again.output;
  std::ifstream after(file);
  std::stringstream now;
  now << after.rdbuf();
  EXPECT_EQ(now.str(), original.str());
}

TEST_F(CliTest, KeygenExplainsBadArguments) {
  CommandRun badSuite = runJiancang("keygen --suite rsa --out " + path("x.key"));
  EXPECT_NE(badSuite.exitCode, 0);
  EXPECT_NE(badSuite.output.find("rsa"), std::string::npos) << badSuite.output;
  EXPECT_FALSE(std::filesystem::exists(path("x.key")));

  CommandRun noOut = runJiancang("keygen");
  EXPECT_NE(noOut.exitCode, 0);
  EXPECT_NE(noOut.output.find("--out"), std::string::npos) << noOut.output;

  CommandRun missingDirectory = runJiancang("keygen --out " + path("no/such/dir/k.key"));
  EXPECT_EQ(missingDirectory.exitCode, 1);
  EXPECT_NE(missingDirectory.output.find("cannot create"), std::string::npos)
      << missingDirectory.output;

  CommandRun unknown = runJiancang("frobnicate");
  EXPECT_NE(unknown.exitCode, 0);
}

// The certificate the browser's verifier is tested on (web/tests/membership.test.mjs): a real
// one from a consortium that added and removed a member. Both verifiers must accept it.
TEST_F(CliTest, VerifyFollowsTheMembershipHistoryOfACertificate) {
  const std::string fixture =
      std::string(JIANCANG_SOURCE_DIR) + "/web/tests/fixtures/membership-certificate.json";
  CommandRun genuine = runJiancang("verify '" + fixture + "'");
  EXPECT_EQ(genuine.exitCode, 0) << genuine.output;
  EXPECT_NE(genuine.output.find("2 membership change(s) since the genesis"), std::string::npos)
      << genuine.output;

  std::ifstream in(fixture);
  std::stringstream text;
  text << in.rdbuf();
  std::string document = text.str();
  // Without the history (the document's keys are sorted: "proofs" follows it), the member
  // added since the genesis is unexplained.
  const std::size_t history = document.find("\"membership\":[");
  ASSERT_NE(history, std::string::npos);
  const std::size_t end = document.find(']', history);
  std::string without = document.substr(0, history) + document.substr(end + 2);
  std::ofstream(path("without.json")) << without;
  CommandRun stranger = runJiancang("verify '" + path("without.json") + "'");
  EXPECT_NE(stranger.exitCode, 0);
  EXPECT_NE(stranger.output.find("is not a member"), std::string::npos) << stranger.output;
}

CommandRun membershipCommand(const std::string& arguments) {
  return runJiancang("membership " + arguments);
}

TEST_F(CliTest, MembershipCommandsExplainBadArguments) {
  CommandRun noSubcommand = membershipCommand("");
  EXPECT_NE(noSubcommand.exitCode, 0);
  EXPECT_NE(noSubcommand.output.find("subcommand is required"), std::string::npos)
      << noSubcommand.output;
  CommandRun help = membershipCommand("--help");
  EXPECT_EQ(help.exitCode, 0);
  EXPECT_NE(help.output.find("approve"), std::string::npos) << help.output;
  EXPECT_NE(help.output.find("submit"), std::string::npos) << help.output;
  CommandRun noNode = membershipCommand("approve --remove ab --key x.key");
  EXPECT_NE(noNode.exitCode, 0);
  EXPECT_NE(noNode.output.find("--node"), std::string::npos) << noNode.output;
  // Nobody listens on port 1: the command says which node it could not reach.
  CommandRun unreachable =
      membershipCommand("approve --node http://127.0.0.1:1 --remove ab --key x.key");
  EXPECT_EQ(unreachable.exitCode, 1);
  EXPECT_NE(unreachable.output.find("127.0.0.1:1"), std::string::npos) << unreachable.output;
}

}  // namespace
