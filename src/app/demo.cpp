#include <app/demo.h>

#include <array>

#include <app/demo_media.h>

namespace jiancang::app {
namespace {

using core::Status;

constexpr std::string_view kIssuerPhone = "13100000001";

// The demo's own passwords, printed at start: demo data is for trying the platform, never for
// production (the operator's one-time password stays random).
const std::vector<DemoAccount>& demoAccounts() {
  static const std::vector<DemoAccount> accounts = {
      {"issuer", std::string(kIssuerPhone), "demo issuer 2026"},
      {"reviewer", "13100000002", "demo reviewer 2026"},
      {"collector", "13100000003", "demo collector 2026"},
  };
  return accounts;
}

// GB 11643's check character over the first 17 digits.
std::string residentIdNumber(const std::string& first17) {
  static constexpr std::array<int, 17> kWeights = {7, 9, 10, 5,  8, 4, 2, 1, 6,
                                                   3, 7, 9,  10, 5, 8, 4, 2};
  int sum = 0;
  for (std::size_t i = 0; i < kWeights.size(); ++i) sum += (first17[i] - '0') * kWeights[i];
  return first17 + "10X98765432"[sum % 11];
}

struct Work {
  std::string title;
  std::string description;
  core::Bytes bytes;
  std::uint64_t cap;
};

template <typename T>
Status failed(std::string_view step, const core::Result<T>& result) {
  return {result.status().code(), result.status().reason(),
          "demo: " + std::string(step) + ": " + result.status().message()};
}

}  // namespace

core::Result<std::vector<DemoAccount>> seedDemo(
    DemoPlatform platform, const std::function<void(std::string_view)>& progress) {
  auto existing = platform.accounts.users(kIssuerPhone, 0, 1);
  if (!existing) return existing.status();
  if (!existing->empty()) return demoAccounts();

  auto operators = platform.accounts.users(platform.operatorPhone, 0, 1);
  if (!operators || operators->empty()) {
    return core::failedPrecondition("demo-no-operator", "demo: the first operator is missing");
  }
  const std::int64_t operatorId = operators->front().id;

  progress("demo accounts");
  std::vector<std::int64_t> ids;
  for (const DemoAccount& account : demoAccounts()) {
    auto user = platform.accounts.registerCollector(account.phone, account.password);
    if (!user) return failed("account " + account.phone, user);
    ids.push_back(user->id);
  }
  const std::int64_t issuerId = ids[0];
  const std::int64_t reviewerId = ids[1];
  const std::int64_t collectorId = ids[2];
  auto reviewer = platform.accounts.setRoles(operatorId, reviewerId,
                                             platform::kRoleCollector | platform::kRoleReviewer);
  if (!reviewer) return failed("reviewer role", reviewer);
  auto verified = platform.accounts.verifyIdentity(
      collectorId, {"演示藏家", residentIdNumber("11010519900307001")});
  if (!verified) return failed("collector identity", verified);

  progress("demo issuer (its licence registered on chain)");
  auto licence = platform.media.upload(operatorId, demoLicencePng());
  if (!licence) return failed("licence", licence);
  auto issuer =
      platform.catalog.onboardIssuer(operatorId, issuerId, "鉴藏演示馆", {licence->sha256});
  if (!issuer) return failed("issuer", issuer);

  const std::vector<Work> works = {
      {"青绿山水 · 千里",
       "以青绿山水为灵感，由 jiancang 程序生成的山峦与落日。限量发行，每份附链上证书。",
       demoLandscapePng(768), 1000},
      {"流光", "三道光环循环流转的动态作品（动画 WebP）。", demoAnimationWebp(256, 24), 500},
      {"青铜鼎 · 三维", "车床式生成的青铜鼎三维模型（glTF），可在藏品页旋转查看。", demoVesselGlb(),
       300},
  };
  std::vector<platform::SeriesDraft> published;
  for (const Work& work : works) {
    progress("demo series \"" + work.title + "\" (drafted, reviewed, published on chain)");
    auto media = platform.media.upload(issuerId, work.bytes);
    if (!media) return failed("media for " + work.title, media);
    platform::SeriesFields fields;
    fields.title = work.title;
    fields.description = work.description;
    fields.media = media->sha256;
    fields.editionCap = work.cap;
    fields.royaltyBasisPoints = 500;
    fields.policy.transferable = true;
    fields.policy.holdBeforeFirstTransferMillis = std::uint64_t{24} * 3'600'000;
    fields.policy.holdBetweenTransfersMillis = std::uint64_t{24} * 3'600'000;
    fields.rights = {chain::RightDefinition{1, "线下展览入场", 1}};
    auto draft = platform.catalog.draft(issuerId, fields);
    if (!draft) return failed("draft of " + work.title, draft);
    if (auto submitted = platform.catalog.submitForReview(issuerId, draft->id); !submitted) {
      return failed("review of " + work.title, submitted);
    }
    if (auto approved = platform.catalog.review(reviewerId, draft->id, true, ""); !approved) {
      return failed("approval of " + work.title, approved);
    }
    auto series = platform.catalog.publish(issuerId, draft->id);
    if (!series) return failed("publication of " + work.title, series);
    published.push_back(*series);
  }

  // A blind box over the three works, with its odds published on chain before any box sells:
  // 60 landscapes, 30 animations, 10 vessels in 100 boxes.
  progress("demo blind box (contents and H(seed) committed on chain)");
  auto boxMedia = platform.media.upload(issuerId, demoBoxPng(512));
  if (!boxMedia) return failed("blind-box media", boxMedia);
  platform::SeriesFields boxFields;
  boxFields.title = "鉴藏盲盒 · 第一弹";
  boxFields.description =
      "100 个盒子：60 个青绿山水、30 个流光、10 个青铜鼎。开售前内容与种子哈希已上链，"
      "售罄后公布种子，任何人都能复算每个盒子里是什么。";
  boxFields.media = boxMedia->sha256;
  boxFields.editionCap = 100;
  boxFields.royaltyBasisPoints = 500;
  boxFields.policy.transferable = true;
  boxFields.policy.holdBeforeFirstTransferMillis = std::uint64_t{24} * 3'600'000;
  boxFields.policy.holdBetweenTransfersMillis = std::uint64_t{24} * 3'600'000;
  boxFields.blindBox = {
      {published[0].id, 60, 0}, {published[1].id, 30, 0}, {published[2].id, 10, 0}};
  boxFields.revealDeadline = platform.clock.now() + std::chrono::hours(24 * 40);
  auto boxDraft = platform.catalog.draft(issuerId, boxFields);
  if (!boxDraft) return failed("draft of the blind box", boxDraft);
  if (auto submitted = platform.catalog.submitForReview(issuerId, boxDraft->id); !submitted) {
    return failed("review of the blind box", submitted);
  }
  if (auto approved = platform.catalog.review(reviewerId, boxDraft->id, true, ""); !approved) {
    return failed("approval of the blind box", approved);
  }
  auto box = platform.catalog.publish(issuerId, boxDraft->id);
  if (!box) return failed("publication of the blind box", box);
  published.push_back(*box);

  progress("demo drops and announcements");
  const core::Timestamp now = platform.clock.now();
  struct DropPlan {
    std::size_t work;
    std::string title;
    std::int64_t priceFen;
    std::uint64_t stock;
    core::Duration startsIn;
  };
  const std::vector<DropPlan> plans = {
      {0, "青绿山水 · 千里 首发", 1990, 200, -std::chrono::minutes(1)},
      {1, "流光 · 限时发售", 990, 100, std::chrono::minutes(10)},
      {2, "青铜鼎 · 三维 首发", 2990, 50, -std::chrono::minutes(1)},
      {3, "鉴藏盲盒 · 第一弹", 1290, 100, -std::chrono::minutes(1)},
  };
  for (const DropPlan& plan : plans) {
    platform::DropFields fields;
    fields.seriesDraftId = published[plan.work].id;
    fields.title = plan.title;
    fields.price = core::Fen(plan.priceFen);
    fields.stock = plan.stock;
    fields.perIdentityLimit = 2;
    fields.startsAt = now + plan.startsIn;
    fields.endsAt = now + std::chrono::hours(24 * 30);
    auto drop = platform.drops.create(operatorId, fields);
    if (!drop) return failed("drop " + plan.title, drop);
  }
  // The demo collector starts with one copy of the landscape, so a certificate can be opened at
  // once: an airdrop (空投), minted by the node's minter within seconds of the start.
  platform::AirdropFields gift;
  gift.seriesDraftId = published[0].id;
  gift.title = "青绿山水 · 千里 新人空投";
  gift.phones = {demoAccounts()[2].phone};
  auto airdrop = platform.drops.airdrop(operatorId, gift);
  if (!airdrop) return failed("airdrop", airdrop);
  auto pinned = platform.support.announce(
      operatorId, "欢迎来到鉴藏演示",
      "这是 jiancang --demo "
      "生成的演示平台：三件作品、一个公示概率的盲盒、三场正在发售的活动和一场倒计时发售。"
      "用演示藏家账号登录即可排队、购买、在沙箱中支付，并在证书页亲自验证链上签名。",
      true);
  if (!pinned) return failed("announcement", pinned);
  auto notice = platform.support.announce(
      operatorId, "关于转赠",
      "演示藏品到账 24 小时后可转赠给其他已实名认证的用户，转赠记录永久上链。", false);
  if (!notice) return failed("announcement", notice);
  return demoAccounts();
}

}  // namespace jiancang::app
