// SIRENE rows: see rows_fuzz.h.

#include "tests/fuzz/rows_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<std::string> kHeaders = {"sirene_2025.csv", "sirene_2019.csv",
                                                    "sirene_geo_2024.csv"};
  voisinage::fuzz::MapRows(kHeaders, voisinage::MakeSireneMapper, data, size);
  return 0;
}
