// Default options of the sanitizer build (VOISINAGE_SANITIZE), compiled into each of its executables so that
// a test run by hand behaves as in scripts/test. The environment (ASAN_OPTIONS, UBSAN_OPTIONS) still
// overrides. Exit status 86 is used by no command: a sanitizer report can never pass for an expected failure.

extern "C" {

const char* __asan_default_options() {
  // detect_stack_use_after_return is clang 14's default already; named so that another clang keeps it.
  return "exitcode=86:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:"
         "check_initialization_order=1";
}

const char* __ubsan_default_options() {
  return "exitcode=86:print_stacktrace=1:halt_on_error=1";
}

const char* __lsan_default_options() {
  return "exitcode=86";
}

}  // extern "C"
