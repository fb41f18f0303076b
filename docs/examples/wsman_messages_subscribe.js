// Prints a WS-Eventing Subscribe for a mesim device built with DMT's @device-management-toolkit/wsman-messages.
// The package has no Subscribe of its own: its WSManMessageCreator makes the header (Action, ResourceURI,
// MessageID, selector) and the Subscribe body is AMT's (docs/guide-event-subscribers.md). Send it with curl:
//   NODE_PATH=tests/clients/node_modules node wsman_messages_subscribe.js NOTIFY_URL [MODE [SINK_USER SINK_PASS]] |
//     curl -s --digest -u admin:P@ssw0rd -H 'Content-Type: application/soap+xml;charset=UTF-8' --data-binary @- \
//          http://127.0.0.1:16992/wsman
'use strict';
const { CIM } = require('@device-management-toolkit/wsman-messages');

const [url, mode = 'PushWithAck', sinkUser, sinkPass] = process.argv.slice(2);
if (!url) { console.error('usage: wsman_messages_subscribe.js NOTIFY_URL [Push|PushWithAck] [SINK_USER SINK_PASS]'); process.exit(2); }
const modes = {
  Push: 'http://schemas.xmlsoap.org/ws/2004/08/eventing/DeliveryModes/Push',
  PushWithAck: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/PushWithAck',
};
const creator = new CIM.Messages().wsmanMessageCreator;
let header = creator.createHeader('http://schemas.xmlsoap.org/ws/2004/08/eventing/Subscribe', 'CIM_FilterCollection',
                                  { name: 'InstanceID', value: 'Intel(r) AMT:All' });
let auth = '';
if (sinkUser) {  // Digest credentials for the event sink travel in the header as a WS-Trust UsernameToken
  header = header.replace('</Header>',
    '<t:IssuedTokens xmlns:t="http://schemas.xmlsoap.org/ws/2005/02/trust" ' +
    'xmlns:se="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">' +
    '<t:RequestSecurityTokenResponse><t:TokenType>http://docs.oasis-open.org/wss/2004/01/' +
    'oasis-200401-wss-username-token-profile-1.0#UsernameToken</t:TokenType><t:RequestedSecurityToken>' +
    '<se:UsernameToken><se:Username>' + sinkUser + '</se:Username><se:Password>' + sinkPass + '</se:Password>' +
    '</se:UsernameToken></t:RequestedSecurityToken></t:RequestSecurityTokenResponse></t:IssuedTokens></Header>');
  auth = '<w:Auth Profile="http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/digest"/>';
}
const body = '<Body><e:Subscribe xmlns:e="http://schemas.xmlsoap.org/ws/2004/08/eventing">' +
  '<e:Delivery Mode="' + modes[mode] + '"><e:NotifyTo><a:Address>' + url + '</a:Address>' +
  '<a:ReferenceParameters><m:node xmlns:m="http://example.com/qa">wsman-messages</m:node></a:ReferenceParameters>' +
  '</e:NotifyTo>' + auth + '</e:Delivery><e:Expires>PT1H</e:Expires></e:Subscribe></Body>';
process.stdout.write(creator.createXml(header, body));
