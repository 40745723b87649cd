// RNA rows (waldec and import files): see rows_fuzz.h.

#include "tests/fuzz/rows_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<std::string> kHeaders = {"rna_waldec_2025.csv", "rna_waldec_2015.csv",
                                                    "rna_import_2015.csv"};
  voisinage::fuzz::MapRows(kHeaders, voisinage::MakeRnaMapper, data, size);
  return 0;
}
