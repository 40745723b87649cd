#pragma once

// The `mod` command group is spread over several files; cmd/mod.cpp creates it and calls these.

#include <CLI/CLI.hpp>

#include "cmd/cli.h"
#include "lib/clock.h"

namespace voisinage {

void SetupModRules(CLI::App& mod, Invocation& invocation);   // cmd/mod_rules.cpp
void SetupModTriage(CLI::App& mod, Invocation& invocation);  // cmd/mod_triage.cpp: triage and undo

/// Prints a case as `mod show` does (from ShowCase), cutting texts longer than `max_text` bytes.
void PrintCase(const nlohmann::json& moderation_case, size_t max_text, size_t max_reports);

}  // namespace voisinage
