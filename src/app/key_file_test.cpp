#include <app/key_file.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace jiancang::app {
namespace {

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() /
                 ("jiancang-keyfile-" + std::to_string(::getpid()) + "-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(directory_);
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  std::filesystem::path directory_;
};

TEST_F(KeyFileTest, WritesOwnerOnlyAndReadsBack) {
  for (core::SuiteId suite : {core::SuiteId::kEd25519Sha256, core::SuiteId::kSm2Sm3}) {
    auto path = directory_ / (std::string(core::suiteName(suite)) + ".key");
    core::KeyPair pair = core::cryptoSuite(suite).generateKeyPair();
    ASSERT_TRUE(writeKeyFile(path, pair).isOk());
    struct stat info {};
    ASSERT_EQ(::stat(path.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600u);
    auto read = readKeyFile(path);
    ASSERT_TRUE(read.ok()) << read.status().toString();
    EXPECT_EQ(read->publicKey, pair.publicKey);
  }
}

TEST_F(KeyFileTest, NeverOverwrites) {
  auto path = directory_ / "member.key";
  auto& suite = core::cryptoSuite(core::SuiteId::kEd25519Sha256);
  ASSERT_TRUE(writeKeyFile(path, suite.generateKeyPair()).isOk());
  EXPECT_EQ(writeKeyFile(path, suite.generateKeyPair()).reason(), "key-file-exists");
}

TEST_F(KeyFileTest, RefusesFilesOthersCanRead) {
  auto path = directory_ / "member.key";
  ASSERT_TRUE(
      writeKeyFile(path, core::cryptoSuite(core::SuiteId::kSm2Sm3).generateKeyPair()).isOk());
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  EXPECT_EQ(readKeyFile(path).status().reason(), "key-file-permissions");
}

TEST_F(KeyFileTest, RefusesMismatchedOrMalformedFiles) {
  auto path = directory_ / "member.key";
  auto& suite = core::cryptoSuite(core::SuiteId::kEd25519Sha256);
  std::string text = keyFileText(suite.generateKeyPair());
  std::string otherPublic = suite.generateKeyPair().publicKey.hex();
  auto at = text.find("\"public_key\": \"") + 15;
  text.replace(at, otherPublic.size(), otherPublic);
  for (const std::string& content : {text, std::string("not json"), std::string("{}")}) {
    std::filesystem::remove(path);
    {
      std::ofstream out(path);
      out << content;
    }
    ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
    EXPECT_EQ(readKeyFile(path).status().reason(), "key-file-malformed") << content;
  }
}

}  // namespace
}  // namespace jiancang::app
