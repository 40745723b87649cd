#include "lib/store/schema.h"

#include "lib/clock.h"
#include "lib/registry/directory.h"
#include "lib/store/db.h"

namespace voisinage {

namespace {

// Timestamps are ISO 8601 UTC text ("2026-11-29T10:00:00Z"); they sort and compare as strings.
const char* const kTownSchema = R"sql(
CREATE TABLE schema_migration (
  version    INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  applied_at TEXT NOT NULL
);

CREATE TABLE setting (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE town (
  id                  INTEGER PRIMARY KEY CHECK (id = 1),
  name                TEXT NOT NULL,
  insee               TEXT NOT NULL,
  postcodes           TEXT NOT NULL DEFAULT '[]',  -- JSON array of strings
  timezone            TEXT NOT NULL DEFAULT 'Europe/Paris',
  url                 TEXT NOT NULL DEFAULT '',
  auto_hide_score     REAL,
  auto_hide_reporters INTEGER,
  created_at          TEXT NOT NULL,
  updated_at          TEXT NOT NULL
);

CREATE TABLE neighbourhood (
  id             INTEGER PRIMARY KEY,
  slug           TEXT NOT NULL UNIQUE,
  name           TEXT NOT NULL,
  polygon        TEXT,             -- GeoJSON Polygon or MultiPolygon geometry
  min_lon REAL, min_lat REAL, max_lon REAL, max_lat REAL,
  from_town_file INTEGER NOT NULL DEFAULT 0,
  archived_at    TEXT,
  merged_into_id INTEGER REFERENCES neighbourhood(id),
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL
);

CREATE TABLE neighbourhood_postcode (
  neighbourhood_id INTEGER NOT NULL REFERENCES neighbourhood(id) ON DELETE CASCADE,
  postcode         TEXT NOT NULL,
  PRIMARY KEY (neighbourhood_id, postcode)
) WITHOUT ROWID;
CREATE INDEX neighbourhood_postcode_by_code ON neighbourhood_postcode(postcode);

CREATE TABLE grievance_category (
  id         INTEGER PRIMARY KEY,
  code       TEXT NOT NULL UNIQUE,
  name       TEXT NOT NULL,
  grp        TEXT NOT NULL DEFAULT '',
  service    TEXT NOT NULL DEFAULT '',
  sla_days   INTEGER NOT NULL CHECK (sla_days > 0),
  active     INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE word_rule (
  id             INTEGER PRIMARY KEY,
  pattern        TEXT NOT NULL UNIQUE,
  action         TEXT NOT NULL CHECK (action IN ('block', 'hold', 'flag', 'censor')),
  from_town_file INTEGER NOT NULL DEFAULT 0,
  created_at     TEXT NOT NULL
);

CREATE TABLE member (
  id               INTEGER PRIMARY KEY,
  display_name     TEXT NOT NULL,
  email            TEXT UNIQUE,
  role             TEXT NOT NULL CHECK (role IN
                     ('resident', 'merchant', 'association', 'townhall', 'moderator', 'admin')),
  neighbourhood_id INTEGER REFERENCES neighbourhood(id),
  from_town_file   INTEGER NOT NULL DEFAULT 0,
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL,
  removed_at       TEXT
);
CREATE INDEX member_by_neighbourhood ON member(neighbourhood_id);

CREATE TABLE invitation (
  id               INTEGER PRIMARY KEY,
  neighbourhood_id INTEGER NOT NULL REFERENCES neighbourhood(id),
  code_hash        TEXT NOT NULL UNIQUE,  -- keyed BLAKE2b of the normalised code
  created_at       TEXT NOT NULL,
  expires_at       TEXT NOT NULL,
  used_at          TEXT,
  used_by          INTEGER REFERENCES member(id),
  revoked_at       TEXT
);
CREATE INDEX invitation_by_neighbourhood ON invitation(neighbourhood_id);
)sql";

// Shops and associations from the registries (SIRENE, RNA) and the town hall's own files.
const char* const kDirectorySchema = R"sql(
CREATE TABLE import_run (
  id          INTEGER PRIMARY KEY,
  kind        TEXT NOT NULL CHECK (kind IN ('merchant', 'association')),
  format      TEXT NOT NULL,
  file_name   TEXT NOT NULL,
  sha256      TEXT NOT NULL,
  encoding    TEXT NOT NULL,
  delimiter   TEXT NOT NULL,
  filters     TEXT NOT NULL DEFAULT '',
  started_at  TEXT NOT NULL,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  read        INTEGER NOT NULL DEFAULT 0,
  inserted    INTEGER NOT NULL DEFAULT 0,
  updated     INTEGER NOT NULL DEFAULT 0,
  unchanged   INTEGER NOT NULL DEFAULT 0,
  closed      INTEGER NOT NULL DEFAULT 0,
  skipped     INTEGER NOT NULL DEFAULT 0,
  rejected    INTEGER NOT NULL DEFAULT 0,
  duplicates  INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE directory_entry (
  id               INTEGER PRIMARY KEY,
  kind             TEXT NOT NULL CHECK (kind IN ('merchant', 'association')),
  registry_key     TEXT NOT NULL,         -- SIRET, RNA number, or the town file's own key
  source           TEXT NOT NULL,         -- sirene | rna | csv
  name             TEXT NOT NULL DEFAULT '',  -- public name; empty when the registry gives none
  sort_key         TEXT NOT NULL DEFAULT '',  -- the name folded (lib/text/fold.h): sorts "Épicerie" with the E
  short_name       TEXT NOT NULL DEFAULT '',
  activity_code    TEXT NOT NULL DEFAULT '',  -- NAF code (merchants), object codes (associations)
  activity_label   TEXT NOT NULL DEFAULT '',
  description      TEXT NOT NULL DEFAULT '',
  address          TEXT NOT NULL DEFAULT '',
  postcode         TEXT NOT NULL DEFAULT '',
  city             TEXT NOT NULL DEFAULT '',
  insee            TEXT NOT NULL DEFAULT '',
  lat              REAL,
  lon              REAL,
  website          TEXT NOT NULL DEFAULT '',
  phone            TEXT NOT NULL DEFAULT '',
  email            TEXT NOT NULL DEFAULT '',
  created_on       TEXT NOT NULL DEFAULT '',
  declared_on      TEXT NOT NULL DEFAULT '',
  dissolved_on     TEXT NOT NULL DEFAULT '',
  -- Not "IN (...)": SQLite builds a temporary index for such a list on every insert, which halves import speed.
  status           TEXT NOT NULL CHECK (status = 'active' OR status = 'closed' OR status = 'dissolved'
                                        OR status = 'deleted'),
  neighbourhood_id INTEGER REFERENCES neighbourhood(id),
  content_hash     INTEGER NOT NULL,       -- of the imported fields: an unchanged row is not rewritten
  first_import_id  INTEGER REFERENCES import_run(id),
  last_import_id   INTEGER REFERENCES import_run(id),
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL,
  UNIQUE (kind, registry_key)
);
CREATE INDEX directory_entry_by_neighbourhood ON directory_entry(neighbourhood_id);

-- The search index, replaced in version 7: the folded text of each entry (rowid = directory_entry.id). Contentless
-- and without positions, which makes imports a third faster: the text is recomputed from the entry to remove it.
-- The text is folded already: the tokenizer only splits words.
CREATE VIRTUAL TABLE directory_search USING fts5(text, tokenize = 'unicode61 remove_diacritics 0', detail = none,
                                                 content = '');
)sql";

// Posts, reports, moderation cases and decisions, and the append-only audit log.
const char* const kModerationSchema = R"sql(
CREATE TABLE post (
  id               INTEGER PRIMARY KEY,
  neighbourhood_id INTEGER NOT NULL REFERENCES neighbourhood(id),
  author_id        INTEGER NOT NULL REFERENCES member(id),
  parent_id        INTEGER REFERENCES post(id),  -- a reply
  kind             TEXT NOT NULL CHECK (kind = 'offer' OR kind = 'request' OR kind = 'event' OR
                                        kind = 'announcement' OR kind = 'discussion' OR kind = 'lost_found' OR
                                        kind = 'reply'),
  subkind          TEXT NOT NULL DEFAULT '',     -- lend | give | swap | help for offers and requests
  title            TEXT NOT NULL DEFAULT '',
  body             TEXT NOT NULL,
  event_at         TEXT NOT NULL DEFAULT '',
  event_place      TEXT NOT NULL DEFAULT '',
  status           TEXT NOT NULL DEFAULT 'visible' CHECK (status = 'visible' OR status = 'held' OR
                                                          status = 'hidden' OR status = 'removed'),
  locked           INTEGER NOT NULL DEFAULT 0,   -- no more replies
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL
);
CREATE INDEX post_feed ON post(neighbourhood_id, status, id);
CREATE INDEX post_by_author ON post(author_id);
CREATE INDEX post_replies ON post(parent_id);

-- One case per reported target (a post or a member); it gathers the reports and the decisions.
CREATE TABLE moderation_case (
  id           INTEGER PRIMARY KEY,
  target_type  TEXT NOT NULL CHECK (target_type = 'post' OR target_type = 'member'),
  target_id    INTEGER NOT NULL,
  status       TEXT NOT NULL DEFAULT 'open' CHECK (status = 'open' OR status = 'closed'),
  score        REAL NOT NULL DEFAULT 0,
  urgent       INTEGER NOT NULL DEFAULT 0,
  reporters    INTEGER NOT NULL DEFAULT 0,
  auto_hidden  INTEGER NOT NULL DEFAULT 0,
  version      INTEGER NOT NULL DEFAULT 0,  -- bumped by every change: concurrent moderators detect each other
  claimed_by   INTEGER REFERENCES member(id),
  claimed_until TEXT,
  opened_at    TEXT NOT NULL,
  updated_at   TEXT NOT NULL,
  closed_at    TEXT,
  UNIQUE (target_type, target_id)
);
CREATE INDEX moderation_case_queue ON moderation_case(status, urgent, score);

CREATE TABLE report (
  id             INTEGER PRIMARY KEY,
  case_id        INTEGER NOT NULL REFERENCES moderation_case(id),
  reporter_id    INTEGER REFERENCES member(id),  -- NULL for an automated flag (word rule)
  reason         TEXT NOT NULL,
  details        TEXT NOT NULL DEFAULT '',
  snapshot       TEXT NOT NULL,                  -- JSON: the target as it was when reported
  weight         REAL NOT NULL,                  -- what this report added to the case's score
  notifier_name  TEXT NOT NULL DEFAULT '',       -- legal notices (reason 'illegal', DSA art. 16)
  notifier_email TEXT NOT NULL DEFAULT '',
  good_faith     INTEGER NOT NULL DEFAULT 0,
  outcome        TEXT NOT NULL DEFAULT '',       -- upheld | dismissed, once decided
  created_at     TEXT NOT NULL,
  UNIQUE (case_id, reporter_id)
);
CREATE INDEX report_by_reporter ON report(reporter_id);

-- Every decision, with its statement of reasons (JSON), automated or not.
CREATE TABLE decision (
  id           INTEGER PRIMARY KEY,
  case_id      INTEGER REFERENCES moderation_case(id),
  target_type  TEXT NOT NULL,
  target_id    INTEGER NOT NULL,
  action       TEXT NOT NULL,
  reason       TEXT NOT NULL,
  note         TEXT NOT NULL DEFAULT '',
  moderator_id INTEGER REFERENCES member(id),    -- NULL when automated
  automated    INTEGER NOT NULL DEFAULT 0,
  until        TEXT,
  statement    TEXT NOT NULL,
  undone_at    TEXT,
  created_at   TEXT NOT NULL
);
CREATE INDEX decision_by_target ON decision(target_type, target_id);

-- Restrictions on members (silence, suspension, ban) and strikes; expired ones are ignored when read.
CREATE TABLE restriction (
  id          INTEGER PRIMARY KEY,
  member_id   INTEGER NOT NULL REFERENCES member(id),
  kind        TEXT NOT NULL CHECK (kind = 'warning' OR kind = 'silence' OR kind = 'suspension' OR kind = 'ban'),
  decision_id INTEGER NOT NULL REFERENCES decision(id),
  starts_at   TEXT NOT NULL,
  until       TEXT,                               -- NULL: permanent (ban) or a warning's strike expiry
  lifted_at   TEXT
);
CREATE INDEX restriction_by_member ON restriction(member_id);

-- Appeals against a decision: by its author, or by a reporter against a dismissal; open six months.
CREATE TABLE appeal (
  id            INTEGER PRIMARY KEY,
  decision_id   INTEGER NOT NULL REFERENCES decision(id),
  appellant_id  INTEGER NOT NULL REFERENCES member(id),
  text          TEXT NOT NULL,
  status        TEXT NOT NULL DEFAULT 'open' CHECK (status = 'open' OR status = 'upheld' OR status = 'rejected'),
  decided_by    INTEGER REFERENCES member(id),
  decided_at    TEXT,
  decision_note TEXT NOT NULL DEFAULT '',
  created_at    TEXT NOT NULL,
  UNIQUE (decision_id, appellant_id)
);

-- Append-only: every moderation and administrative action, each entry chained to the previous by a hash.
CREATE TABLE audit_log (
  id        INTEGER PRIMARY KEY,
  at        TEXT NOT NULL,
  actor     TEXT NOT NULL,     -- "member:12", "system", "cli"
  action    TEXT NOT NULL,
  target    TEXT NOT NULL,     -- "post:4", "case:2", "member:7"...
  reason    TEXT NOT NULL DEFAULT '',
  details   TEXT NOT NULL DEFAULT '{}',  -- JSON: before/after, note
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: entries cannot be changed'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: entries cannot be deleted'); END;
)sql";

// Grievances (doléances) and their events. acknowledged_at, resolved_at and closed_at are derived from the
// events by lib/grievance (written in the same transaction as the event); they are columns so that
// statistics and exports over a million grievances need no scan of the events.
const char* const kGrievanceSchema = R"sql(
CREATE TABLE grievance (
  id               INTEGER PRIMARY KEY,
  reference        TEXT NOT NULL UNIQUE,        -- DOL-YYYY-NNNNNN
  year             INTEGER NOT NULL,
  seq              INTEGER NOT NULL,
  category_id      INTEGER NOT NULL REFERENCES grievance_category(id),
  title            TEXT NOT NULL,
  description      TEXT NOT NULL,
  address          TEXT NOT NULL DEFAULT '',
  postcode         TEXT NOT NULL DEFAULT '',
  lat              REAL,
  lon              REAL,
  neighbourhood_id INTEGER REFERENCES neighbourhood(id),
  reporter_id      INTEGER REFERENCES member(id),
  contact_name     TEXT NOT NULL DEFAULT '',
  contact_email    TEXT NOT NULL DEFAULT '',
  contact_phone    TEXT NOT NULL DEFAULT '',
  channel          TEXT NOT NULL CHECK (channel = 'web' OR channel = 'phone' OR channel = 'counter' OR
                                        channel = 'mail' OR channel = 'app'),
  status           TEXT NOT NULL DEFAULT 'new',
  service          TEXT NOT NULL DEFAULT '',
  assignee_id      INTEGER REFERENCES member(id),
  expected_on      TEXT NOT NULL DEFAULT '',
  duplicate_of     INTEGER REFERENCES grievance(id),
  public           INTEGER NOT NULL DEFAULT 1,
  reopened         INTEGER NOT NULL DEFAULT 0,
  acknowledged_at  TEXT,
  resolved_at      TEXT,
  closed_at        TEXT,
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL,
  UNIQUE (year, seq)
);
CREATE INDEX grievance_by_created ON grievance(created_at);
CREATE INDEX grievance_by_status ON grievance(status);
CREATE INDEX grievance_by_reporter ON grievance(reporter_id);

CREATE TABLE grievance_event (
  id           INTEGER PRIMARY KEY,
  grievance_id INTEGER NOT NULL REFERENCES grievance(id),
  at           TEXT NOT NULL,
  actor        TEXT NOT NULL,
  kind         TEXT NOT NULL,   -- created | status | reopened | assigned | response | note | merged | followed
  old_status   TEXT NOT NULL DEFAULT '',
  new_status   TEXT NOT NULL DEFAULT '',
  note         TEXT NOT NULL DEFAULT '',
  public       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX grievance_event_by_grievance ON grievance_event(grievance_id, id);

CREATE TABLE grievance_follower (
  grievance_id INTEGER NOT NULL REFERENCES grievance(id),
  member_id    INTEGER NOT NULL REFERENCES member(id),
  since        TEXT NOT NULL,
  PRIMARY KEY (grievance_id, member_id)
) WITHOUT ROWID;
CREATE INDEX grievance_follower_by_member ON grievance_follower(member_id);
)sql";

// Bearer tokens for the API and Open311 (api_key): only a keyed hash of each token is stored.
const char* const kTokenSchema = R"sql(
CREATE TABLE api_token (
  id          INTEGER PRIMARY KEY,
  member_id   INTEGER NOT NULL REFERENCES member(id),
  label       TEXT NOT NULL DEFAULT '',
  token_hash  TEXT NOT NULL UNIQUE,   -- KeyedHash (lib/store/secret.h) of the token
  created_at  TEXT NOT NULL,
  expires_at  TEXT,                   -- NULL: does not expire
  revoked_at  TEXT
);
CREATE INDEX api_token_by_member ON api_token(member_id);
)sql";

// Sessions of the web pages (lib/web/session.h): only a keyed hash of each session id is stored, as for
// tokens.
const char* const kWebSessionSchema = R"sql(
CREATE TABLE web_session (
  id            INTEGER PRIMARY KEY,
  session_hash  TEXT NOT NULL UNIQUE,  -- KeyedHash (lib/store/secret.h) of the id held by the cookie
  member_id     INTEGER NOT NULL REFERENCES member(id),
  created_at    TEXT NOT NULL,
  expires_at    TEXT NOT NULL
);
CREATE INDEX web_session_by_member ON web_session(member_id);
CREATE INDEX web_session_by_expiry ON web_session(expires_at);
)sql";

// The search index again, without per-row sizes (columnsize = 0: nothing uses bm25()), the name's words
// marked in its text (SearchText() in lib/registry/directory.h); and what ranking needs of each entry,
// packed, so that a search need not read every entry it matches. DirectoryWriter::IndexAll fills both from
// the entries. A change to Fold(), SearchText() or RankCode() needs a migration that rebuilds them the same
// way.
const char* const kRankedSearchSchema = R"sql(
DROP TABLE directory_search;
CREATE VIRTUAL TABLE directory_search USING fts5(text, tokenize = 'unicode61 remove_diacritics 0', detail = none,
                                                 content = '', columnsize = 0);
CREATE TABLE directory_rank (
  block INTEGER PRIMARY KEY,  -- the entries whose id >> 10 is this
  codes BLOB NOT NULL         -- 1024 bytes: the rank code of each (RankCode() in lib/registry/directory.cpp)
);
)sql";

const std::vector<Migration> kMigrations = {
    {1, "town, neighbourhoods, categories, word rules, members, invitations", kTownSchema},
    {2, "directory of shops and associations, import runs", kDirectorySchema},
    {3, "posts, reports, moderation cases, decisions, restrictions, appeals, audit log", kModerationSchema},
    {4, "grievances, their events and followers", kGrievanceSchema},
    {5, "API tokens", kTokenSchema},
    {6, "sessions of the web pages", kWebSessionSchema},
    {7, "directory search: names marked in the index, rank codes", kRankedSearchSchema,
     DirectoryWriter::IndexAll},
};

}  // namespace

const std::vector<Migration>& Migrations() {
  return kMigrations;
}

int LatestSchemaVersion() {
  return kMigrations.back().version;
}

int ApplyMigrations(SQLite::Database& sql) {
  // Readers must not queue behind writers: only take the write lock when there is something to apply.
  if (sql.execAndGet("PRAGMA user_version").getInt() >= LatestSchemaVersion()) return 0;
  int applied = 0;
  for (const Migration& migration : kMigrations) {
    SQLite::Transaction transaction(sql, SQLite::TransactionBehavior::IMMEDIATE);
    // Re-read inside the transaction: another process may have migrated meanwhile.
    int current = sql.execAndGet("PRAGMA user_version").getInt();
    if (migration.version <= current) continue;
    sql.exec(migration.sql);
    if (migration.then) migration.then(sql);
    SQLite::Statement record(sql, "INSERT INTO schema_migration(version, name, applied_at) VALUES (?, ?, ?)");
    record.bind(1, migration.version);
    record.bind(2, migration.name);
    record.bind(3, NowIso());
    record.exec();
    sql.exec(fmt::format("PRAGMA application_id = {}", kApplicationId));
    sql.exec(fmt::format("PRAGMA user_version = {}", migration.version));
    transaction.commit();
    ++applied;
  }
  return applied;
}

}  // namespace voisinage
