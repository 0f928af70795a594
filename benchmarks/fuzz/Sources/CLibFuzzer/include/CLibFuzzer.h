#include <stddef.h>
#include <stdint.h>

// libFuzzer's own driver (compiler-rt's FuzzerInterface.h), linked in by -sanitize=fuzzer. The
// targets call it from their Swift main rather than let libFuzzer own main: SwiftPM links every
// executable's main to the module's own entry point.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
