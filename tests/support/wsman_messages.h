// WS-Man requests framed exactly as wsman-messages 5.x writes them (WSMan.ts createHeader/createBody,
// spec/wsman.md §1.2), for tests and benchmarks. No I/O.
#pragma once

#include <string>

namespace mesim::test {

// `messageId` fixed by default so two answers can be compared byte for byte; `selectors` are w:Selector elements.
inline std::string wsmanEnvelope(const std::string& action, const std::string& resourceUri, const std::string& body = "",
                                 const std::string& messageId = "1", const std::string& selectors = "") {
  return "<?xml version=\"1.0\" encoding=\"utf-8\"?><Envelope xmlns=\"http://www.w3.org/2003/05/soap-envelope\" "
         "xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" "
         "xmlns:w=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\"><Header><a:Action>" +
         action + "</a:Action><a:To>/wsman</a:To><w:ResourceURI>" + resourceUri + "</w:ResourceURI><a:MessageID>" +
         messageId +
         "</a:MessageID><a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</"
         "a:Address></a:ReplyTo><w:OperationTimeout>PT60S</w:OperationTimeout>" +
         (selectors.empty() ? "" : "<w:SelectorSet>" + selectors + "</w:SelectorSet>") + "</Header><Body>" + body +
         "</Body></Envelope>";
}

// CIM_PowerManagementService.RequestPowerStateChange of the managed system to `state` (2 on, 8 off-soft, ...).
inline std::string wsmanRequestPowerStateChange(int state) {
  const std::string uri = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_PowerManagementService";
  const std::string epr =
      "<Address xmlns=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\">http://schemas.xmlsoap.org/ws/2004/08/"
      "addressing</Address><ReferenceParameters xmlns=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\">"
      "<ResourceURI xmlns=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\">http://schemas.dmtf.org/wbem/wscim/1/"
      "cim-schema/2/CIM_ComputerSystem</ResourceURI><SelectorSet xmlns=\"http://schemas.dmtf.org/wbem/wsman/1/"
      "wsman.xsd\"><Selector Name=\"CreationClassName\">CIM_ComputerSystem</Selector><Selector Name=\"Name\">"
      "ManagedSystem</Selector></SelectorSet></ReferenceParameters>";
  return wsmanEnvelope(uri + "/RequestPowerStateChange", uri,
                       "<h:RequestPowerStateChange_INPUT xmlns:h=\"" + uri + "\"><h:PowerState>" +
                           std::to_string(state) + "</h:PowerState><h:ManagedElement>" + epr +
                           "</h:ManagedElement></h:RequestPowerStateChange_INPUT>");
}

// WS-Eventing Subscribe of `url` to every alert ("Intel(r) AMT:All"), Push mode, no credentials.
inline std::string wsmanSubscribePush(const std::string& url) {
  return wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/08/eventing/Subscribe",
                       "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_FilterCollection",
                       "<e:Subscribe xmlns:e=\"http://schemas.xmlsoap.org/ws/2004/08/eventing\"><e:Delivery Mode=\""
                       "http://schemas.xmlsoap.org/ws/2004/08/eventing/DeliveryModes/Push\"><e:NotifyTo><a:Address>" +
                           url + "</a:Address></e:NotifyTo></e:Delivery></e:Subscribe>",
                       "1", "<w:Selector Name=\"InstanceID\">Intel(r) AMT:All</w:Selector>");
}

}  // namespace mesim::test
