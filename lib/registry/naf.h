#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace voisinage {

/// One activity of the French NAF rev. 2 nomenclature (INSEE), with its official French label.
struct NafActivity {
  /// Dotted sub-class code, e.g. "47.22Z".
  std::string_view code;
  /// French label, e.g. "Commerce de détail de viandes et de produits à base de viande en magasin spécialisé"
  std::string_view label;
};

/// The label of a dotted NAF rev. 2 code: the sub-class label when known, else the label of its division
/// (the first two digits, e.g. "47" → "Commerce de détail, à l'exception des automobiles et des motocycles"),
/// else empty. Accepts the code with or without the dot ("4722Z") and in lower case. Never throws.
std::string NafLabel(std::string_view code);

/// Normalises a NAF code to the dotted upper-case form "47.22Z"; returns empty when it is not a NAF rev. 2
/// code (two digits, a dot optional, two digits, one letter A-Z). Never throws.
std::string NormaliseNafCode(std::string_view code);

/// The local-shop codes kept by `import merchants --naf local`: the single documented list (see the comment
/// above its definition in naf.cpp), in code order.
const std::vector<std::string_view>& LocalShopNafCodes();

/// True when the (normalised) code is in LocalShopNafCodes(); "4722z" counts as "47.22Z". Never throws.
bool IsLocalShopNaf(std::string_view code);

}  // namespace voisinage
