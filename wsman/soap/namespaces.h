// Namespace and Action URIs of AMT's WS-Management surface (spec/wsman.md §1.1, §1.4).
#pragma once

#include <string_view>

namespace mesim::wsman::soap {

namespace ns {
inline constexpr std::string_view kEnvelope = "http://www.w3.org/2003/05/soap-envelope";
inline constexpr std::string_view kAddressing = "http://schemas.xmlsoap.org/ws/2004/08/addressing";
inline constexpr std::string_view kWsman = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd";
inline constexpr std::string_view kTrust = "http://schemas.xmlsoap.org/ws/2005/02/trust";
inline constexpr std::string_view kWsse =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
inline constexpr std::string_view kCimBinding = "http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd";
inline constexpr std::string_view kEnumeration = "http://schemas.xmlsoap.org/ws/2004/09/enumeration";
inline constexpr std::string_view kTransfer = "http://schemas.xmlsoap.org/ws/2004/09/transfer";
inline constexpr std::string_view kEventing = "http://schemas.xmlsoap.org/ws/2004/08/eventing";
inline constexpr std::string_view kIdentity = "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd";
inline constexpr std::string_view kCommon = "http://schemas.dmtf.org/wbem/wscim/1/common";
inline constexpr std::string_view kXsi = "http://www.w3.org/2001/XMLSchema-instance";
inline constexpr std::string_view kXml = "http://www.w3.org/XML/1998/namespace";
}  // namespace ns

inline constexpr std::string_view kAnonymous = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous";
inline constexpr std::string_view kFaultDetailPrefix = "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/";

// Resource URI prefixes; a class URI is prefix + class name.
inline constexpr std::string_view kAmtSchema = "http://intel.com/wbem/wscim/1/amt-schema/1/";
inline constexpr std::string_view kCimSchema = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/";
inline constexpr std::string_view kIpsSchema = "http://intel.com/wbem/wscim/1/ips-schema/1/";

namespace action {
inline constexpr std::string_view kGet = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get";
inline constexpr std::string_view kPut = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Put";
inline constexpr std::string_view kCreate = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create";
inline constexpr std::string_view kDelete = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete";
inline constexpr std::string_view kEnumerate = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate";
inline constexpr std::string_view kPull = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull";
inline constexpr std::string_view kRelease = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Release";
inline constexpr std::string_view kAddressingFault = "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault";
inline constexpr std::string_view kWsmanFault = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault";
inline constexpr std::string_view kEnumerationFault = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/fault";
inline constexpr std::string_view kEventingFault = "http://schemas.xmlsoap.org/ws/2004/08/eventing/fault";
}  // namespace action

}  // namespace mesim::wsman::soap
