// voisinage invite create|list|revoke|redeem: single-use invitation codes for a neighbourhood.

#include <filesystem>

#include "cmd/cli.h"
#include "lib/atomic_file.h"
#include "lib/clock.h"
#include "lib/town/invitation.h"

namespace voisinage {

namespace invite_command {

struct CreateOptions {
  std::string neighbourhood;
  int count = 1;
  std::string expires = "30d";
  std::string format = "csv";
  std::string output;
};
struct ListOptions {
  InvitationFilter filter;
  bool json = false;
};
struct RevokeOptions {
  int64_t id = 0;
};
struct RedeemOptions {
  std::string code, name, email;
  bool json = false;
};

int RunCreate(const CreateOptions& options, Invocation& invocation) {
  const std::chrono::seconds valid_for = ParseDuration(options.expires);
  std::error_code ec;
  // The codes of an earlier sheet can never be printed again: never write over one.
  if (!options.output.empty() && options.output != "-" && std::filesystem::exists(options.output, ec))
    throw Error(fmt::format("'{}' already exists", options.output),
                "choose a new file name; no code was created");
  Db db = OpenDb(invocation);
  auto deliver = [&](const std::vector<NewInvitation>& created) {
    std::string out;
    if (options.format == "html") {
      out = RenderInvitationSheet(db, created);
    } else if (options.format == "json") {
      nlohmann::json list = nlohmann::json::array();
      for (const NewInvitation& i : created) list.push_back(ToJson(i));
      out = list.dump(2) + "\n";
    } else {
      out = InvitationsCsv(created);
    }
    if (options.output.empty() || options.output == "-") {
      std::cout << out << std::flush;
      if (!std::cout) throw Error("cannot write the codes to standard output: no code was created");
    } else {
      WriteFileAtomically(options.output, out);
    }
  };
  std::vector<NewInvitation> created =
      CreateInvitations(db, options.neighbourhood, options.count, valid_for, deliver);
  if (!options.output.empty() && options.output != "-" && !invocation.global.quiet)
    std::cerr << fmt::format("wrote {} invitation code(s) for '{}' to '{}'\n", created.size(),
                             created.front().neighbourhood_slug, options.output);
  return 0;
}

int RunList(const ListOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  std::vector<Invitation> all = ListInvitations(db, options.filter);
  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const Invitation& i : all) out.push_back(ToJson(i));
    PrintJson(out);
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const Invitation& i : all)
    rows.push_back({std::to_string(i.id), i.neighbourhood, i.status, i.created_at, i.expires_at,
                    i.used_by ? "#" + std::to_string(i.used_by) : ""});
  PrintTable({"ID", "NEIGHBOURHOOD", "STATUS", "CREATED", "EXPIRES", "USED BY"}, rows);
  return 0;
}

int RunRevoke(const RevokeOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  Invitation i = RevokeInvitation(db, options.id);
  Say(invocation, fmt::format("revoked invitation {} ({})", i.id, i.neighbourhood));
  return 0;
}

int RunRedeem(const RedeemOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  Member m = RedeemInvitation(db, options.code, options.name, options.email);
  if (options.json)
    PrintJson(ToJson(m));
  else
    Say(invocation,
        fmt::format("welcome, {}: member #{} of '{}'", Printable(m.display_name), m.id, m.neighbourhood));
  return 0;
}

}  // namespace invite_command

void SetupInvite(CLI::App& app, Invocation& invocation) {
  using namespace invite_command;
  CLI::App* group = app.add_subcommand("invite", "Create, list, revoke and redeem invitation codes");
  group->require_subcommand(1);

  auto create = std::make_shared<CreateOptions>();
  CLI::App* c = group->add_subcommand("create", "Create single-use invitation codes (printed once)");
  c->add_option("--neighbourhood", create->neighbourhood, "Neighbourhood the codes join")
      ->option_text("SLUG")
      ->required();
  c->add_option("--count", create->count, "How many codes (1 to 1000, default 1)")
      ->option_text("N")
      ->check(CLI::Range(1, 1000));
  c->add_option("--expires", create->expires, "Validity, e.g. 30d, 2w, 48h (default 30d)")
      ->option_text("DURATION");
  c->add_option("--format", create->format, "csv for a mail merge, html for a printable sheet, or json")
      ->option_text("csv|html|json")
      ->check(CLI::IsMember({"csv", "html", "json"}));
  c->add_option("-o,--output", create->output, "Write to FILE instead of standard output")
      ->option_text("FILE");
  OnRun(c, invocation, create, RunCreate);

  auto list = std::make_shared<ListOptions>();
  CLI::App* l = group->add_subcommand("list", "List invitations (never their codes)");
  l->add_option("--neighbourhood", list->filter.neighbourhood, "Only this neighbourhood")
      ->option_text("SLUG");
  l->add_option("--status", list->filter.status, "Only this status")
      ->option_text("unused|used|expired|revoked")
      ->check(CLI::IsMember({"unused", "used", "expired", "revoked"}));
  AddJsonFlag(l, list->json);
  OnRun(l, invocation, list, RunList);

  auto revoke = std::make_shared<RevokeOptions>();
  CLI::App* r = group->add_subcommand("revoke", "Revoke an unused invitation");
  r->add_option("id", revoke->id, "Invitation id, from 'invite list'")->required();
  OnRun(r, invocation, revoke, RunRevoke);

  auto redeem = std::make_shared<RedeemOptions>();
  CLI::App* rd =
      group->add_subcommand("redeem", "Redeem a code for a resident (e.g. at the town hall's counter)");
  rd->add_option("code", redeem->code, "The invitation code, as printed")->required();
  rd->add_option("--name", redeem->name, "The new member's display name")->option_text("NAME")->required();
  rd->add_option("--email", redeem->email, "Their e-mail address, optional")->option_text("EMAIL");
  AddJsonFlag(rd, redeem->json);
  OnRun(rd, invocation, redeem, RunRedeem);
}

}  // namespace voisinage
