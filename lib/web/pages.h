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

}  // namespace voisinage
