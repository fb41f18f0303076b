// Which class derives from which in AMT's object model (cim_hierarchy.cpp holds the table).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace mesim::wsman::cim {

// The direct superclass of `className` ("" for a root class), or nullopt for a class the table does not know.
std::optional<std::string_view> superclassOf(std::string_view className);

// Every class the table knows, sorted.
std::vector<std::string_view> knownClasses();

// For the unit test: the table is sorted, which superclassOf's binary search relies on.
bool hierarchyIsSorted();

}  // namespace mesim::wsman::cim
