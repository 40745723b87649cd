#!/usr/bin/env bash
# The voisinage API with curl, step by step, against a running `voisinage serve`: the JSON API under /api/v1
# (what a resident's app does) and Open311 GeoReport v2 under /open311/v2 (what a civic-tech client does).
# Every request is an ordinary `curl -fsS` command to copy; the script stops at the first one that fails.
#
# Usage: examples/api.sh BASE_URL DB
#   BASE_URL  the URL that `voisinage serve` printed, e.g. http://127.0.0.1:8080
#   DB        the database that server serves: the script uses the command line on it, as the town hall would,
#             to print invitation codes, create a token, and answer a grievance
#
# The voisinage binary is $VOISINAGE if set, else `voisinage` on the PATH, else build/cmd/voisinage of this
# repository. $NEIGHBOURHOOD (a slug) and $CATEGORY (a grievance category's code) choose what the examples use.
# Needs bash, curl and python3 (to read fields out of the JSON responses).
#
# It writes to the database (two new residents, posts, a report, grievances): run it on a demo or scratch
# database, never on a real town's. For instance:
#   build/cmd/voisinage --db /tmp/api-demo.db init --from examples/thomery.yaml
#   build/cmd/voisinage --db /tmp/api-demo.db serve &          # prints: serving on http://127.0.0.1:8080 ...
#   examples/api.sh http://127.0.0.1:8080 /tmp/api-demo.db
# or, while scripts/demo serves the example town: examples/api.sh http://127.0.0.1:8080 build/demo/thomery.db
#
# Everything is described in voisinage-serve(1) and voisinage-token(1): man -l man/voisinage-serve.1
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 BASE_URL DB   (e.g. $0 http://127.0.0.1:8080 /tmp/api-demo.db)" >&2
  exit 2
fi
base=${1%/}
db=$2
api=$base/api/v1
open311=$base/open311/v2

if [ -z "${VOISINAGE:-}" ]; then
  if command -v voisinage >/dev/null; then VOISINAGE=voisinage; else VOISINAGE=$(dirname "$0")/../build/cmd/voisinage; fi
fi
trap 'echo "api.sh: the command at line $LINENO failed: stopping here" >&2' ERR

# --- Helpers ---------------------------------------------------------------------------------------------------

# The town hall's side: the command line on the same database, at the same time as the server.
v() { "$VOISINAGE" --db "$db" -q "$@"; }

step() { printf '\n=== %s\n' "$*"; }

# Pretty-prints the JSON on standard input.
show() { python3 -m json.tool --no-ensure-ascii; }

# Prints one field of the JSON on standard input: `field token`, `field member.id`, `field 0.service_request_id`
# (numbers index arrays). Strings are printed bare, null as nothing, anything else as JSON.
field() {
  python3 -c '
import json, sys
value = json.load(sys.stdin)
for key in sys.argv[1].split("."):
    value = value[int(key)] if isinstance(value, list) else value[key]
print("" if value is None else value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
' "$1"
}

# One line per post of a feed page (or per reply of a post): id, kind, author, title or the start of the body.
posts() {
  python3 -c '
import json, sys
data = json.load(sys.stdin)
for p in data.get("posts", data.get("replies", [])):
    text = p["title"] or p["body"].replace("\n", " ")[:50]
    print("  #%-5s %-12s %-20s %s" % (p["id"], p["kind"], p["author"]["display_name"], text))
'
}

# Runs curl without -f, for a request that should fail: prints the status and the body, and fails unless the
# status is the expected one: `expect 401 [curl options...] URL`.
expect() {
  local want=$1 response
  shift
  response=$(curl -sS -w '\n%{http_code}' "$@")
  echo "HTTP ${response##*$'\n'}: ${response%$'\n'*}"
  [ "${response##*$'\n'}" = "$want" ]
}

json=(-H 'Content-Type: application/json')

# --- Public reads: no token -------------------------------------------------------------------------------------

step "GET /api/v1/health: is the server up, and on which schema?"
curl -fsS "$api/health" | show

step "GET /api/v1/town: the town's identity"
curl -fsS "$api/town" | show

step "GET /api/v1/neighbourhoods: the neighbourhoods (quartiers) and their member counts"
neighbourhoods=$(curl -fsS "$api/neighbourhoods")
echo "$neighbourhoods" | show
# The neighbourhood used below: $NEIGHBOURHOOD, else the one with the most members (the first when none has).
slug=${NEIGHBOURHOOD:-$(echo "$neighbourhoods" |
  python3 -c 'import json, sys; print(max(json.load(sys.stdin)["neighbourhoods"], key=lambda n: n["members"])["slug"])')}
echo "(using the neighbourhood '$slug')"

# --- Joining with an invitation code -----------------------------------------------------------------------------

step "The town hall prints two invitation codes for '$slug' (voisinage invite create)"
codes=$(v invite create --neighbourhood "$slug" --count 2 | tail -n +2 | cut -d, -f1)
code1=$(echo "$codes" | sed -n 1p)
code2=$(echo "$codes" | sed -n 2p)
echo "$code1 $code2"

step "POST /api/v1/join: two residents redeem their codes; each gets a member and a token (shown this once)"
joined=$(curl -fsS "${json[@]}" -d "{\"code\": \"$code1\", \"display_name\": \"Camille Dupont\"}" "$api/join")
echo "$joined" | show
camille=$(echo "$joined" | field token)
echo "Camille Dupont is member #$(echo "$joined" | field member.id)"
# A code works in any case and without its dash.
code2=$(echo "$code2" | tr -d - | tr '[:upper:]' '[:lower:]')
joined=$(curl -fsS "${json[@]}" -d "{\"code\": \"$code2\", \"display_name\": \"Dominique Martin\"}" "$api/join")
dominique=$(echo "$joined" | field token)
echo "Dominique Martin is member #$(echo "$joined" | field member.id)"

# From now on, every request that acts for a member sends its token as a bearer token.
as_camille=(-H "Authorization: Bearer $camille")
as_dominique=(-H "Authorization: Bearer $dominique")

step "Without a token, a member's request is refused: 401 and the API's error shape"
expect 401 "$api/neighbourhoods/$slug/posts"

# --- A token from the command line -------------------------------------------------------------------------------

step "The town hall creates a token for a staff member (voisinage token create), valid for one hour"
staff_id=""
for role in townhall moderator admin; do
  staff_id=$(v member list --role "$role" --json | python3 -c 'import json, sys; m = json.load(sys.stdin); print(m[0]["id"] if m else "")')
  [ -n "$staff_id" ] && break
done
[ -n "$staff_id" ] || { echo "api.sh: the town has no townhall, moderator or admin member" >&2; exit 1; }
# Without --json, the token alone is printed on standard output; with it, an object with the token and its id.
created=$(v token create --member "$staff_id" --label "examples/api.sh" --expires 1h --json)
staff=$(echo "$created" | field token)
staff_token_id=$(echo "$created" | field id)
echo "token $staff_token_id for member #$staff_id, expires $(echo "$created" | field expires_at): ${staff:0:8}..."
echo "(shown once: the database keeps only a keyed hash of it; 'voisinage token list' never shows it)"
as_staff=(-H "Authorization: Bearer $staff")

# --- Posting -----------------------------------------------------------------------------------------------------

step "POST /api/v1/posts: Camille offers to lend a drill (201; the verdict of the town's word rules)"
posted=$(curl -fsS "${as_camille[@]}" "${json[@]}" \
  -d '{"kind": "offer", "subkind": "lend", "title": "Prête perceuse",
       "body": "Je prête ma perceuse le week-end, passez me voir."}' "$api/posts")
echo "$posted" | show
post_id=$(echo "$posted" | field post.id)
# "verdict" is published, flagged (published, and a case opened for the moderators) or censored; a post held
# for review by a word rule gets 202 and "held"; a post refused by a rule, 422 and the code "blocked".

step "POST /api/v1/posts: three more, an event with its date among them"
curl -fsS "${as_camille[@]}" "${json[@]}" \
  -d '{"kind": "event", "title": "Fête des voisins", "event_at": "2027-06-05",
       "event_place": "Place de la mairie", "body": "Apportez un plat à partager !"}' "$api/posts" | field verdict
curl -fsS "${as_dominique[@]}" "${json[@]}" \
  -d '{"kind": "request", "subkind": "help", "body": "Un coup de main pour porter une armoire samedi ?"}' \
  "$api/posts" | field verdict
curl -fsS "${as_dominique[@]}" "${json[@]}" -d '{"body": "Bonjour à tous, nouvelle arrivée dans le quartier."}' \
  "$api/posts" | field verdict

step "POST /api/v1/posts/$post_id/replies: Dominique answers Camille's offer"
curl -fsS "${as_dominique[@]}" "${json[@]}" -d '{"body": "Merci ! Je passe samedi matin."}' \
  "$api/posts/$post_id/replies" | field verdict

# --- The feed, page by page --------------------------------------------------------------------------------------

step "GET /api/v1/neighbourhoods/$slug/posts: the feed, newest first, 2 posts a page (at most 3 pages here)"
cursor=""
for page in 1 2 3; do
  feed=$(curl -fsS "${as_camille[@]}" "$api/neighbourhoods/$slug/posts?limit=2${cursor:+&cursor=$cursor}")
  echo "page $page:"
  echo "$feed" | posts
  cursor=$(echo "$feed" | field next_cursor)
  # next_cursor is the id to pass as ?cursor= for the next page; null on the last page.
  [ -n "$cursor" ] || { echo "(last page)"; break; }
done

step "GET /api/v1/posts/$post_id: one post with its replies"
post=$(curl -fsS "${as_camille[@]}" "$api/posts/$post_id")
echo "$post" | field title
echo "$post" | posts

# --- Reporting ---------------------------------------------------------------------------------------------------

step "POST /api/v1/reports: Dominique reports a post to the moderators (201; the case is theirs)"
curl -fsS "${as_dominique[@]}" "${json[@]}" \
  -d "{\"target\": \"post:$post_id\", \"reason\": \"off_topic\", \"details\": \"Exemple de signalement.\"}" \
  "$api/reports" | show
# The moderators see it in `voisinage mod queue`. A report with the reason "illegal" is a legal notice: it also
# needs notifier_name, notifier_email, details and "good_faith": true.

# --- The directory -----------------------------------------------------------------------------------------------

step "GET /api/v1/directory?q=epicerie: search the shops and associations (accents and case ignored)"
# Empty until shops and associations are imported (voisinage import merchants|associations; scripts/demo does).
curl -fsS -G --data-urlencode "q=epicerie" -d limit=5 "$api/directory" \
  | python3 -c 'import json, sys; [print("  %-12s %s (%s)" % (e["kind"], e["name"], e["address"])) for e in json.load(sys.stdin)["entries"]]'
step "GET /api/v1/directory?kind=association&limit=3: the first associations, by name"
curl -fsS "$api/directory?kind=association&limit=3" \
  | python3 -c 'import json, sys; [print("  " + e["name"]) for e in json.load(sys.stdin)["entries"]]'

# --- A grievance and its status ----------------------------------------------------------------------------------

step "GET /open311/v2/services.json: the town's grievance categories (their codes are the 'category' below)"
services=$(curl -fsS "$open311/services.json")
echo "$services" | python3 -c 'import json, sys; [print("  %-20s %-15s %s" % (s["service_code"], s["group"], s["service_name"])) for s in json.load(sys.stdin)]'
# The category used below: $CATEGORY, else street lighting when the town has it, else the first one.
category=${CATEGORY:-$(echo "$services" |
  python3 -c 'import json, sys; codes = [s["service_code"] for s in json.load(sys.stdin)]; print("eclairage_public" if "eclairage_public" in codes else codes[0])')}

step "POST /api/v1/grievances: Camille reports a problem to the town hall (category '$category')"
added=$(curl -fsS "${as_camille[@]}" "${json[@]}" \
  -d "{\"category\": \"$category\", \"title\": \"Lampadaire éteint place de la Mairie\",
       \"description\": \"Il reste éteint depuis une semaine (exemple).\",
       \"address\": \"1 place de la Mairie\", \"lat\": 48.4085, \"lon\": 2.7860}" "$api/grievances")
echo "$added" | show
reference=$(echo "$added" | field grievance.reference)

step "The town hall answers it (voisinage grievance respond): a new grievance becomes open"
v grievance respond "$reference" "Merci, les services de la mairie vont regarder."
echo "answered $reference"

step "GET /api/v1/grievances/$reference: its status, for anyone who has the reference (no token needed)"
curl -fsS "$api/grievances/$reference" | python3 -c '
import json, sys
g = json.load(sys.stdin)
print("  %s: %s (%s)" % (g["reference"], g["status"], g["status_label"]))
for e in g["events"]:
    print("  %s  %-8s %s -> %s  %s" % (e["at"], e["kind"], e["old_status"] or "-", e["new_status"], e["note"]))'

step "The same with the staff token: every field (reporter, contact, assignee, internal events with their actor)"
curl -fsS "${as_staff[@]}" "$api/grievances/$reference" | python3 -c '
import json, sys
g = json.load(sys.stdin)
print(json.dumps({k: g[k] for k in ("reference", "status", "reporter", "contact", "assignee")}, ensure_ascii=False, indent=2))
print("  %d event(s), by %s" % (len(g["events"]), ", ".join(sorted({e["actor"] for e in g["events"]}))))'

# --- Open311 GeoReport v2 ----------------------------------------------------------------------------------------

step "GET /open311/v2/services/$category.xml: one service's definition, in XML"
curl -fsS "$open311/services/$category.xml"

step "POST /open311/v2/requests.json: a service request, form-encoded, the token as api_key (201)"
created=$(curl -fsS -d "api_key=$dominique" -d "service_code=$category" -d lat=48.4079 -d long=2.7841 \
  --data-urlencode "description=Signalé par un client Open311 (exemple).
Deuxième ligne de détails." "$open311/requests.json")
echo "$created" | show
request_id=$(echo "$created" | field 0.service_request_id)

step "GET /open311/v2/requests/$request_id.json: that request (status open|closed, dates with the town's offset)"
curl -fsS "$open311/requests/$request_id.json" | show

step "GET /open311/v2/requests.json?status=open: the open requests of the last 90 days, 5 a page"
curl -fsS "$open311/requests.json?status=open&page_size=5&page=1" \
  | python3 -c 'import json, sys; [print("  %s  %-6s %-18s %s" % (r["service_request_id"], r["status"], r["service_code"], r["requested_datetime"])) for r in json.load(sys.stdin)]'

step "GET /open311/v2/requests.xml: the last week's requests of '$category', in XML (2 a page)"
# Dates are ISO 8601 with a zone, at most 90 days apart; --data-urlencode sends the '+' of an offset as %2B.
start=$(date +%Y-%m-%dT%H:%M:%S%:z -d '7 days ago')
end=$(date +%Y-%m-%dT%H:%M:%S%:z -d '1 minute')
curl -fsS -G --data-urlencode "start_date=$start" --data-urlencode "end_date=$end" \
  -d "service_code=$category" -d page_size=2 "$open311/requests.xml"

step "Open311 errors are arrays of {code, description}: a period of more than 90 days is refused"
expect 400 -G -d start_date=2026-01-01T00:00:00Z -d end_date=2026-12-31T00:00:00Z "$open311/requests.json"

# --- Revoking ----------------------------------------------------------------------------------------------------

step "The town hall revokes the staff token (voisinage token revoke): refused at the next request"
v token revoke "$staff_token_id"
expect 401 "${as_staff[@]}" "$api/grievances/$reference"

step "Done: every request succeeded"
