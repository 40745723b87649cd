#pragma once

// The French HTML pages of voisinage serve for residents (templates/web/): the town's home, the
// neighbourhoods' feeds, the directory, joining with an invitation code, posting, replying, reporting, and
// grievances. No JavaScript; every form carries a CSRF token (lib/web/csrf.h); sessions are server-side
// (lib/web/session.h); writes go through the server's batch writer.

#include <httplib.h>

#include "lib/server/context.h"

namespace voisinage {

/// Registers the pages under / (and /static/site.css). Register it after the API and Open311: it answers
/// every other GET with the French 404 page.
void RegisterPages(httplib::Server& http, ServerContext& context);

/// True for a path of the pages: anything outside /api/ and /open311/ (not a request too malformed to have
/// one).
bool IsPagePath(const std::string& path);

/// Replaces an error the server gave before any page handler ran (too many requests, a request too large or
/// malformed, an unknown path for the method) with the French page for its status; keeps the status and the
/// headers (Retry-After).
void SendPageError(ServerContext& context, httplib::Response& res);

}  // namespace voisinage
