#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/store/db.h"

namespace voisinage {

struct Member {
  int64_t id = 0;
  std::string display_name;
  std::string email;  ///< may be empty: residents who joined with a code need not give one
  std::string role;
  std::string neighbourhood;  ///< slug, or empty
  bool from_town_file = false;
  std::string created_at;
  std::string updated_at;
  std::string removed_at;  ///< empty while the member is active
};

struct NewMember {
  std::string display_name;
  std::string email;
  std::string role = "resident";
  std::string neighbourhood;  ///< slug, optional
  bool from_town_file = false;
};

/// Validates and inserts a member (no transaction of its own). Throws Error on a taken e-mail, an unknown
/// role or neighbourhood.
Member InsertMember(Db& db, const NewMember& member);

/// InsertMember in its own transaction.
Member AddMember(Db& db, const NewMember& member);

struct MemberFilter {
  std::string role;
  std::string neighbourhood;
  bool include_removed = false;
};

std::vector<Member> ListMembers(Db& db, const MemberFilter& filter);

/// The member designated by `ref`: a numeric id, "#id", or an e-mail address. Throws Error when unknown.
Member FindMember(Db& db, const std::string& ref);

/// Changes a member's role; returns the member as stored.
Member SetMemberRole(Db& db, const std::string& ref, const std::string& role);

/// Marks a member as removed: they can no longer sign in; what they wrote stays. Throws when already removed.
Member RemoveMember(Db& db, const std::string& ref);

nlohmann::json ToJson(const Member& member);

}  // namespace voisinage
