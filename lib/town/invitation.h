#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/store/db.h"
#include "lib/town/member.h"

namespace voisinage {

/// The characters of an invitation code: no 0/O, 1/I/L, so a code read aloud or typed from paper is
/// unambiguous.
inline constexpr std::string_view kInvitationAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// A code as printed once at creation; only its keyed hash is stored.
struct NewInvitation {
  int64_t id = 0;
  std::string code;  ///< "XXXX-XXXX"
  std::string neighbourhood_slug;
  std::string neighbourhood_name;
  std::string expires_at;
};

/// Creates `count` (1..1000) single-use codes for an active neighbourhood, valid for `valid_for`, and hands
/// them to `deliver` before committing: if `deliver` throws (the sheet cannot be written...), no code is
/// created. The codes are never retrievable again.
std::vector<NewInvitation> CreateInvitations(
    Db& db, const std::string& neighbourhood, int count, std::chrono::seconds valid_for,
    const std::function<void(const std::vector<NewInvitation>&)>& deliver);

struct Invitation {
  int64_t id = 0;
  std::string neighbourhood;
  std::string created_at;
  std::string expires_at;
  std::string status;  ///< unused | used | expired | revoked
  std::string used_at;
  int64_t used_by = 0;
};

struct InvitationFilter {
  std::string neighbourhood;
  std::string status;  ///< empty for all
};

std::vector<Invitation> ListInvitations(Db& db, const InvitationFilter& filter);

/// Revokes an unused invitation. Throws Error when unknown, used or already revoked.
Invitation RevokeInvitation(Db& db, int64_t id);

/// Redeems a code: creates a resident of the code's neighbourhood and marks the code used, in one
/// transaction. The code is matched ignoring case, spaces and dashes. Throws Error (never echoing the code)
/// when the code is unknown, used, revoked or expired. `before_commit` runs inside the transaction (joining
/// through the API creates the member's token with it).
Member RedeemInvitation(Db& db, const std::string& code, const std::string& display_name,
                        const std::string& email,
                        const std::function<void(const Member&)>& before_commit = nullptr);

/// Upper-cases a typed code and drops spaces and dashes ("abcd efgh" → "ABCDEFGH").
std::string NormaliseInvitationCode(const std::string& code);

/// The printable French sheet (templates/invitations.html.mustache): one tear-off slip per code with the
/// neighbourhood's name and how to join. All codes must belong to one neighbourhood.
std::string RenderInvitationSheet(Db& db, const std::vector<NewInvitation>& invitations);

/// The codes as CSV for a mail merge: header then one row per code.
std::string InvitationsCsv(const std::vector<NewInvitation>& invitations);

nlohmann::json ToJson(const Invitation& invitation);
nlohmann::json ToJson(const NewInvitation& invitation);

}  // namespace voisinage
