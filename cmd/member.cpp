// voisinage member add|list|show|role|remove; export and erase are in cmd/member_privacy.cpp.

#include "lib/town/member.h"
#include "cmd/cli.h"
#include "lib/town/validation.h"

namespace voisinage {

void SetupMemberPrivacy(CLI::App& group, Invocation& invocation);  // cmd/member_privacy.cpp

namespace member_command {

struct AddOptions {
  NewMember member;
  bool json = false;
};
struct ListOptions {
  MemberFilter filter;
  bool json = false;
};
struct ShowOptions {
  std::string member;
  bool json = false;
};
struct RoleOptions {
  std::string member, role;
  bool json = false;
};
struct RemoveOptions {
  std::string member;
};

void PrintMember(const Member& m) {
  PrintTable({"FIELD", "VALUE"}, {{"id", "#" + std::to_string(m.id)},
                                  {"name", m.display_name},
                                  {"e-mail", m.email.empty() ? "none" : m.email},
                                  {"role", m.role},
                                  {"neighbourhood", m.neighbourhood.empty() ? "none" : m.neighbourhood},
                                  {"managed by", m.from_town_file ? "town file (staff)" : "command line"},
                                  {"status", m.removed_at.empty() ? "active" : "removed on " + m.removed_at},
                                  {"joined", m.created_at}});
}

int RunAdd(const AddOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  Member m = AddMember(db, options.member);
  if (options.json)
    PrintJson(ToJson(m));
  else
    Say(invocation, fmt::format("added member #{} ({}, {})", m.id, Printable(m.display_name), m.role));
  return 0;
}

int RunList(const ListOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  std::vector<Member> members = ListMembers(db, options.filter);
  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const Member& m : members) out.push_back(ToJson(m));
    PrintJson(out);
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const Member& m : members)
    rows.push_back({"#" + std::to_string(m.id), m.display_name, m.email, m.role, m.neighbourhood,
                    m.removed_at.empty() ? "active" : "removed"});
  PrintTable({"ID", "NAME", "E-MAIL", "ROLE", "NEIGHBOURHOOD", "STATUS"}, rows);
  return 0;
}

int RunShow(const ShowOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  Member m = FindMember(db, options.member);
  options.json ? PrintJson(ToJson(m)) : PrintMember(m);
  return 0;
}

int RunRole(const RoleOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  Member m = SetMemberRole(db, options.member, options.role);
  if (options.json)
    PrintJson(ToJson(m));
  else
    Say(invocation, fmt::format("member #{} is now {}", m.id, m.role));
  return 0;
}

int RunRemove(const RemoveOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  Member m = RemoveMember(db, options.member);
  Say(invocation, fmt::format("removed member #{}: they can no longer sign in; what they wrote stays", m.id));
  return 0;
}

}  // namespace member_command

void SetupMember(CLI::App& app, Invocation& invocation) {
  using namespace member_command;
  CLI::App* group = app.add_subcommand("member", "Add and manage members and their roles");
  group->require_subcommand(1);
  const std::string roles = fmt::format("{}", fmt::join(Roles(), "|"));

  auto add = std::make_shared<AddOptions>();
  CLI::App* a = group->add_subcommand("add", "Add a member");
  a->add_option("--name", add->member.display_name, "Display name")->option_text("NAME")->required();
  a->add_option("--email", add->member.email, "E-mail address (unique)")->option_text("EMAIL");
  a->add_option("--role", add->member.role, "Role (default resident)")->option_text(roles);
  a->add_option("--neighbourhood", add->member.neighbourhood, "Neighbourhood slug")->option_text("SLUG");
  AddJsonFlag(a, add->json);
  OnRun(a, invocation, add, RunAdd);

  auto list = std::make_shared<ListOptions>();
  CLI::App* l = group->add_subcommand("list", "List members");
  l->add_option("--role", list->filter.role, "Only this role")->option_text("ROLE");
  l->add_option("--neighbourhood", list->filter.neighbourhood, "Only this neighbourhood")
      ->option_text("SLUG");
  l->add_flag("--all", list->filter.include_removed, "Include removed members");
  AddJsonFlag(l, list->json);
  OnRun(l, invocation, list, RunList);

  auto show = std::make_shared<ShowOptions>();
  CLI::App* s = group->add_subcommand("show", "Show one member");
  s->add_option("member", show->member, "Member id (12 or #12) or e-mail")->required();
  AddJsonFlag(s, show->json);
  OnRun(s, invocation, show, RunShow);

  auto role = std::make_shared<RoleOptions>();
  CLI::App* r = group->add_subcommand("role", "Change a member's role");
  r->add_option("member", role->member, "Member id or e-mail")->required();
  r->add_option("role", role->role, "New role: " + roles)->required();
  AddJsonFlag(r, role->json);
  OnRun(r, invocation, role, RunRole);

  auto remove = std::make_shared<RemoveOptions>();
  CLI::App* rm = group->add_subcommand("remove", "Remove a member (they can no longer sign in)");
  rm->add_option("member", remove->member, "Member id or e-mail")->required();
  OnRun(rm, invocation, remove, RunRemove);

  SetupMemberPrivacy(*group, invocation);
}

}  // namespace voisinage
