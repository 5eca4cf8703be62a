import { contentTypeOf } from "../handlers/lib/image/formats.js";
import { chooseFormat, isNegotiatedPath, negotiatedPath, type Offer } from "../handlers/lib/contract/negotiation.js";
import type { OutputFormat } from "../handlers/lib/config/settings.js";

/**
 * The variants' viewer-request function (cloudfront-js-2.0): an extension-less `/variants/{id}/{name}` is
 * rewritten to the negotiated object of the best of the stack's formats the viewer's Accept allows; every other
 * path passes untouched. The negotiation is handlers/lib/contract/negotiation.ts' own functions, embedded by their
 * source text (what runs at the edge is what the tests run), and the offers are the stack's `formats`.
 */
export function negotiationFunctionCode(formats: readonly OutputFormat[]): string {
  const offers: Offer[] = formats.map((format) => ({ format, type: contentTypeOf(format) }));
  return `var OFFERS = ${JSON.stringify(offers)};
${chooseFormat.toString()}
${isNegotiatedPath.toString()}
${negotiatedPath.toString()}
function handler(event) {
  var request = event.request;
  if (isNegotiatedPath(request.uri)) {
    var accept = request.headers.accept;
    request.uri = negotiatedPath(request.uri, chooseFormat(accept ? accept.value : "", OFFERS));
  }
  return request;
}
`;
}
