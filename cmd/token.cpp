// voisinage token create|list|revoke: bearer tokens for the API and Open311's api_key.

#include <iostream>

#include "cmd/cli.h"
#include "lib/auth/token.h"
#include "lib/clock.h"

namespace voisinage {

namespace token_command {

struct CreateOptions {
  std::string member, label, expires;
  bool json = false;
};
struct ListOptions {
  std::string member;
  bool json = false;
};
struct RevokeOptions {
  int64_t id = 0;
};

int RunCreate(const CreateOptions& options, Invocation& invocation) {
  std::optional<std::chrono::seconds> valid_for;
  if (!options.expires.empty()) valid_for = ParseDuration(options.expires);
  Db db = OpenDb(invocation);
  const NewToken created = CreateToken(db, options.member, options.label, valid_for);
  if (options.json) {
    nlohmann::json out = ToJson(created.token);
    out["token"] = created.secret;
    PrintJson(out);
    return 0;
  }
  // The token on stdout alone, so that scripts can capture it; the explanation on stderr.
  std::cout << created.secret << "\n";
  if (!invocation.global.quiet)
    std::cerr << fmt::format("token {} for member #{} ({}){}: shown once, store it now\n", created.token.id,
                             created.token.member_id, Printable(created.token.member_name),
                             created.token.expires_at.empty() ? "" : ", expires " + created.token.expires_at);
  return 0;
}

int RunList(const ListOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  const std::vector<ApiToken> tokens = ListTokens(db, options.member);
  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const ApiToken& t : tokens) out.push_back(ToJson(t));
    PrintJson(out);
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const ApiToken& t : tokens)
    rows.push_back({std::to_string(t.id), "#" + std::to_string(t.member_id), Printable(t.member_name),
                    t.member_role, Printable(t.label), t.status, t.created_at,
                    t.expires_at.empty() ? "never" : t.expires_at});
  PrintTable({"ID", "MEMBER", "NAME", "ROLE", "LABEL", "STATUS", "CREATED", "EXPIRES"}, rows);
  return 0;
}

int RunRevoke(const RevokeOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  const ApiToken t = RevokeToken(db, options.id);
  Say(invocation, fmt::format("revoked token {} of member #{}", t.id, t.member_id));
  return 0;
}

}  // namespace token_command

void SetupToken(CLI::App& app, Invocation& invocation) {
  using namespace token_command;
  CLI::App* group = app.add_subcommand("token", "API tokens: create (shown once), list, revoke");
  group->require_subcommand(1);

  auto create = std::make_shared<CreateOptions>();
  CLI::App* c = group->add_subcommand("create", "Create a token for a member and print it once");
  c->add_option("--member", create->member, "The member it acts for (id or e-mail)")
      ->option_text("MEMBER")
      ->required();
  c->add_option("--label", create->label, "What it is for, e.g. the app or the script using it")
      ->option_text("TEXT");
  c->add_option("--expires", create->expires, "Validity, e.g. 90d, 12h (default: never)")
      ->option_text("DURATION");
  AddJsonFlag(c, create->json);
  OnRun(c, invocation, create, RunCreate);

  auto list = std::make_shared<ListOptions>();
  CLI::App* l = group->add_subcommand("list", "List tokens (never the tokens themselves)");
  l->add_option("--member", list->member, "Only this member's")->option_text("MEMBER");
  AddJsonFlag(l, list->json);
  OnRun(l, invocation, list, RunList);

  auto revoke = std::make_shared<RevokeOptions>();
  CLI::App* r = group->add_subcommand("revoke", "Revoke a token at once");
  r->add_option("id", revoke->id, "Token id (see 'token list')")->required();
  OnRun(r, invocation, revoke, RunRevoke);
}

}  // namespace voisinage
