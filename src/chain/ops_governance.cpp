// Freezes, roles and consortium membership.
#include <algorithm>
#include <set>

#include <chain/executor_internal.h>

namespace jiancang::chain::detail {

Status apply(TxContext& context, const SetFrozen& op) {
  if (Status status = context.requireRole(kRoleGovernance, "governance"); !status.isOk()) {
    return status;
  }
  if (op.target == FreezeTarget::kToken) {
    auto token = context.liveToken(op.token);
    if (!token) return token.status();
    if (token->frozen == op.frozen) {
      return refused("freeze-no-change", "token " + op.token.toString() + " is already " +
                                             (op.frozen ? "frozen" : "unfrozen"));
    }
    token->frozen = op.frozen;
    token->frozenReason = op.reason;
    context.save(state_keys::token(op.token), *token);
    return {};
  }
  AccountRecord account = context.account(op.address);
  if (account.frozen == op.frozen) {
    return refused("freeze-no-change", "address " + op.address.hex() + " is already " +
                                           (op.frozen ? "frozen" : "unfrozen"));
  }
  account.frozen = op.frozen;
  account.frozenReason = op.reason;
  context.save(state_keys::account(op.address), account);
  return {};
}

Status apply(TxContext& context, const GrantRoles& op) {
  if (Status status = context.requireRole(kRoleAdmin, "admin"); !status.isOk()) return status;
  AccountRecord account = context.account(op.account);
  account.roles = (account.roles & kRoleAdmin) | op.roles;
  context.save(state_keys::account(op.account), account);
  return {};
}

Status apply(TxContext& context, const ChangeMembership& op) {
  auto consortium = context.load<ConsortiumRecord>(state_keys::consortium());
  if (!consortium) return missing("consortium-missing", "the chain has no consortium record");
  Bytes message = membershipChangeMessage(context.chain.chainId, consortium->membershipVersion,
                                          op.action, op.key, op.name);
  std::set<core::PublicKey> approvers;
  for (const MembershipApproval& approval : op.approvals) {
    bool isMember = std::any_of(consortium->members.begin(), consortium->members.end(),
                                [&](const Member& m) { return m.key == approval.member; });
    if (!isMember) return denied("approver-not-member", "an approval comes from a non-member key");
    if (!context.chain.crypto().verify(approval.member, message, approval.signature)) {
      return denied("approval-bad-signature",
                    "a member's approval signature does not verify "
                    "(approvals sign the current membership version)");
    }
    approvers.insert(approval.member);
  }
  if (approvers.size() < consortium->quorum()) {
    return denied("quorum-not-reached", std::to_string(approvers.size()) + " approvals, " +
                                            std::to_string(consortium->quorum()) + " of " +
                                            std::to_string(consortium->members.size()) +
                                            " members needed");
  }
  auto memberWithKey = std::find_if(consortium->members.begin(), consortium->members.end(),
                                    [&](const Member& m) { return m.key == op.key; });
  AccountRecord account = context.account(core::addressOf(op.key));
  switch (op.action) {
    case MembershipAction::kAddMember:
      if (op.key.suite() != context.chain.suite) {
        return refused("member-wrong-suite", "a member's key must use the chain's crypto suite");
      }
      if (memberWithKey != consortium->members.end()) {
        return refused("member-exists", "the key is a member already");
      }
      if (consortium->members.size() >= limits::kMaxMembers) {
        return refused("members-full", "a consortium has at most " +
                                           std::to_string(limits::kMaxMembers) + " members");
      }
      consortium->members.push_back(Member{op.name, op.key});
      break;
    case MembershipAction::kRemoveMember:
      if (memberWithKey == consortium->members.end()) {
        return missing("member-not-found", "the key is not a member");
      }
      if (consortium->members.size() == 1) {
        return refused("last-member", "the last member cannot be removed");
      }
      consortium->members.erase(memberWithKey);
      break;
    case MembershipAction::kAddAdmin:
      if ((account.roles & kRoleAdmin) != 0)
        return refused("admin-exists", "the key is an admin already");
      account.roles |= kRoleAdmin;
      context.save(state_keys::account(core::addressOf(op.key)), account);
      break;
    case MembershipAction::kRemoveAdmin:
      if ((account.roles & kRoleAdmin) == 0)
        return missing("admin-not-found", "the key is not an admin");
      account.roles &= ~static_cast<std::uint32_t>(kRoleAdmin);
      context.save(state_keys::account(core::addressOf(op.key)), account);
      break;
  }
  ++consortium->membershipVersion;
  context.save(state_keys::consortium(), *consortium);
  return {};
}

}  // namespace jiancang::chain::detail
