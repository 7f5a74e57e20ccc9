// Default sanitizer options for the libFuzzer build: SIMBMC_FUZZ compiles with recoverable UBSan, so
// without halt_on_error a UBSan report would scroll by and the fuzzer would keep going as if clean.
// Environment variables (UBSAN_OPTIONS, ASAN_OPTIONS) still override these.
extern "C" const char* __ubsan_default_options() { return "halt_on_error=1:print_stacktrace=1"; }
extern "C" const char* __asan_default_options() { return "detect_leaks=1"; }
