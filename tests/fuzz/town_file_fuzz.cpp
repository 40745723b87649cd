// The town-file loader on any YAML text. Refusing it with an Error is an expected outcome; any other
// exception (a YAML or JSON one not wrapped, std::out_of_range...) escaping is a finding.

#include "lib/error.h"
#include "lib/town/town_file.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace voisinage;
  // Relative polygon paths point into examples/ (the seeds name examples/thomery's files).
  static const std::string path = fuzz::SourcePath("examples/fuzz.yaml");
  try {
    const TownFile town = ParseTownFile(std::string(fuzz::AsText(data, size)), path);
    FUZZ_CHECK(!town.town.name.empty());
    FUZZ_CHECK(!town.town.postcodes.empty());
  } catch (const Error& e) {
    FUZZ_CHECK(*e.what() != '\0');
  }
  return 0;
}
