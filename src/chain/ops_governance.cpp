// Freezes, roles and consortium membership.
#include <algorithm>
#include <set>

#include <chain/attestation.h>
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
  if (Status changed = applyMembershipChange(context.chain, *consortium, op); !changed.isOk()) {
    return changed;
  }
  AccountRecord account = context.account(core::addressOf(op.key));
  switch (op.action) {
    case MembershipAction::kAddMember:
    case MembershipAction::kRemoveMember:
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
  context.save(state_keys::consortium(), *consortium);
  return {};
}

}  // namespace jiancang::chain::detail
