#include "firmware/core/xml_text.h"
#include "firmware/lme/lms_event.h"

#include <algorithm>

#include "firmware/lme/lme_client.h"

namespace mesim::lme {

Bytes makeLmsEventRequest(const UserNotification& n) {
  std::string body =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
      "<a:Envelope xmlns:a=\"http://www.w3.org/2003/05/soap-envelope\""
      " xmlns:b=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\""
      " xmlns:c=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\""
      " xmlns:g=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_AlertIndication\""
      " xmlns:h=\"http://schemas.dmtf.org/wbem/wscim/1/common\">"
      "<a:Header>"
      "<b:To>http://localhost:0/</b:To>"
      "<b:ReplyTo><b:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</b:Address></b:ReplyTo>"
      "<b:Action a:mustUnderstand=\"true\">http://schemas.dmtf.org/wbem/wsman/1/wsman/Event</b:Action>"
      "<c:ResourceURI>http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_AlertIndication</c:ResourceURI>"
      "</a:Header>"
      "<a:Body><g:CIM_AlertIndication>"
      "<g:AlertType>8</g:AlertType>"
      "<g:AlertingElementFormat>2</g:AlertingElementFormat>"
      "<g:AlertingManagedElement>Interop:CIM_ComputerSystem.CreationClassName=\"CIM_ComputerSystem\","
      "Name=\"Intel(r) AMT\"</g:AlertingManagedElement>"
      "<g:IndicationFilterName>Intel(r) AMT:User Notification</g:IndicationFilterName>";
  if (!n.indicationTime.empty())
    body += "<g:IndicationTime><h:Datetime>" + core::xmlEscape(n.indicationTime) + "</h:Datetime></g:IndicationTime>";
  body += "<g:Message>" + core::xmlEscape(n.message) + "</g:Message>";
  body += "<g:MessageArguments>" + core::xmlEscape(n.messageArguments) + "</g:MessageArguments>";
  body += "<g:MessageID>" + core::xmlEscape(n.messageId) + "</g:MessageID>";
  body +=
      "<g:OwningEntity>Intel(r) AMT</g:OwningEntity>"
      "<g:PerceivedSeverity>2</g:PerceivedSeverity>"
      "<g:SystemName>Intel(r) AMT</g:SystemName>"
      "</g:CIM_AlertIndication></a:Body></a:Envelope>";
  std::string request = "POST / HTTP/1.1\r\nHost: localhost:0\r\nUser-Agent: Intel(R) AMT Agent\r\n"
                        "Content-Type: application/soap+xml;charset=UTF-8\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body;
  return Bytes(request.begin(), request.end());
}

void BufferPeer::read(std::size_t maxBytes, ReadHandler handler) {
  if (closed_) return;
  if (offset_ >= data_.size()) {
    held_ = std::move(handler);  // no more to give, and no end of stream until LMS closes
    return;
  }
  std::size_t n = std::min(maxBytes, data_.size() - offset_);
  ByteView chunk(data_.data() + offset_, n);
  offset_ += n;
  handler(chunk);
}

void BufferPeer::write(Bytes data, WriteHandler handler) {
  if (closed_) return;
  received_ += data.size();
  handler(true);
}

void BufferPeer::close() {
  closed_ = true;
  held_ = nullptr;
}

}  // namespace mesim::lme
