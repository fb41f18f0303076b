// All classes the simulated AMT serves, by resource URI, with their base/subclass relation for
// polymorphic operations. makeAmtClassRegistry() is the one list of registered classes.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "wsman/cim/class_def.h"

namespace mesim::wsman::cim {

class ClassRegistry {
 public:
  void add(ClassDef def);
  const ClassDef* byUri(std::string_view resourceUri) const;
  const ClassDef* byName(std::string_view name) const;
  // `cls` and every registered class deriving from it (transitively), `cls` first.
  std::vector<const ClassDef*> family(const ClassDef& cls) const;
  // Works out every class's family once, after the last add(): a polymorphic operation (and every Get, which finds
  // its instance among the family's) then looks it up instead of walking the hierarchy for each registered class.
  // add() forgets it; family() still answers without it.
  void precomputeFamilies();
  // The direct superclass of `cls` in the schema (cim_hierarchy.h), or its `base` for a class the schema's table
  // does not know; "" for a root.
  std::string superclass(const ClassDef& cls) const;
  const std::vector<std::unique_ptr<ClassDef>>& all() const { return classes_; }

 private:
  std::vector<std::unique_ptr<ClassDef>> classes_;
  std::map<std::string, const ClassDef*, std::less<>> byUri_;
  std::map<std::string, const ClassDef*, std::less<>> byName_;
  std::map<const ClassDef*, std::vector<const ClassDef*>> families_;  // precomputeFamilies()
};

// One instance served together with the class it belongs to (a subclass for polymorphic results).
struct ServedInstance {
  const ClassDef* cls = nullptr;
  Instance instance;
};

// The instances of `cls` and of its subclasses.
std::vector<ServedInstance> instancesOf(const ClassRegistry& registry, const ClassDef& cls, CimContext& ctx);

ClassRegistry makeAmtClassRegistry();

}  // namespace mesim::wsman::cim
