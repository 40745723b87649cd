#pragma once

#include <ostream>
#include <string>

#include "lib/store/db.h"

namespace voisinage {

/// The EU DSA Transparency Database category for one of our report reasons (the mapping is documented in
/// voisinage-mod(1)).
std::string DsaCategory(const std::string& reason);

/// Writes the statements of reasons of the restrictive decisions taken since `since` (hide, remove, lock,
/// silence, suspend, ban; undone ones excluded) in the Transparency Database's field names and values, as
/// "jsonl" (one statement a line) or "csv" (RFC 4180, a header line), with no personal data: the content is
/// identified by its platform id only. Returns how many statements were written; throws Error on a bad format
/// or date.
int64_t ExportDecisions(Db& db, const std::string& since, const std::string& format, std::ostream& out);

}  // namespace voisinage
