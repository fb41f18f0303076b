// Between the CIM model and XML: writing instances and method outputs in AMT's style, reading Put/
// Create bodies and method inputs (text values, repeated elements for arrays, inline EPRs).
#pragma once

#include <pugixml.hpp>

#include <optional>
#include <string>

#include "wsman/cim/class_def.h"
#include "wsman/soap/response_writer.h"

namespace mesim::wsman::ops {

// `<p:Name>` for each property A->Z under `parent`, p bound to `nsUri`.
void writeProperties(soap::ResponseWriter& w, pugi::xml_node parent, const std::string& nsUri,
                     const cim::PropertyMap& props);
// `<p:ClassName>properties</p:ClassName>` with p bound to the class's resource URI.
pugi::xml_node writeInstance(soap::ResponseWriter& w, pugi::xml_node parent, const cim::ClassDef& cls,
                             const cim::Instance& instance);

// The element children of `element` as values by local name; the properties of an embedded instance (an element
// of elements) also as "Outer.Inner". Faults on nesting it cannot read.
std::optional<soap::Fault> readValues(pugi::xml_node element, cim::Arguments& out);

}  // namespace mesim::wsman::ops
