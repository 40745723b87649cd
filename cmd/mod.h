#pragma once

// The `mod` command group is spread over several files; cmd/mod.cpp creates it and calls these.

#include <CLI/CLI.hpp>

#include "cmd/cli.h"
#include "lib/clock.h"

namespace voisinage {

void SetupModRules(CLI::App& mod, Invocation& invocation);  // cmd/mod_rules.cpp

}  // namespace voisinage
