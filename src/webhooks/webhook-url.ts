import net from 'node:net';
import { assertFetchableUrl, BlockedTargetError, guardedLookup, type LookupFunction } from '../platform/net/ssrf.js';
import { hasUnstorableCharacter } from '../platform/http/validation.js';

export const MAX_URL_LENGTH = 2048;
const LOOKUP_TIMEOUT_MS = 5000;

export interface EndpointUrlPolicy {
  /** http:// is accepted as well as https://. */
  allowHttp: boolean;
  /** Loopback, private and link-local targets are accepted. */
  allowPrivateHosts: boolean;
  /** DNS resolution (every address of a name); tests answer with any address. */
  resolve?: LookupFunction;
}

/** The URL as it will be stored (normalized), or why it cannot be an endpoint. */
export type EndpointUrlCheck = { ok: true; url: string } | { ok: false; reason: string };

/**
 * The policy for an endpoint URL at creation and on update: https (or http when allowed), no
 * credentials, at most 2048 characters, and a host that is public, whether an IP literal or a name
 * every one of whose addresses is. The delivery side checks the addresses again when it connects,
 * since a name can later resolve elsewhere.
 */
export async function checkEndpointUrl(raw: string, policy: EndpointUrlPolicy): Promise<EndpointUrlCheck> {
  const refuse = (reason: string): EndpointUrlCheck => ({ ok: false, reason });
  if (hasUnstorableCharacter(raw)) return refuse('The url field must not contain NUL characters or unpaired surrogates.');
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return refuse('The url field must be a valid URL.');
  }
  const schemes = policy.allowHttp ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(url.protocol)) return refuse(policy.allowHttp ? 'The url field must be an http or https URL.' : 'The url field must be an https URL.');
  if (url.username || url.password) return refuse('The url field must not contain credentials.');
  if (url.href.length > MAX_URL_LENGTH) return refuse(`The url field must not be greater than ${MAX_URL_LENGTH} characters.`);
  try {
    assertFetchableUrl(url.href, { allowPrivateHosts: policy.allowPrivateHosts, allowedHosts: [] });
  } catch (error) {
    if (error instanceof BlockedTargetError) return refuse(PRIVATE_TARGET);
    throw error;
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (net.isIP(host) !== 0) return { ok: true, url: url.href };
  const resolved = await resolveHost(host, policy);
  return resolved ?? { ok: true, url: url.href };
}

const PRIVATE_TARGET = 'The url field must not point to a loopback, private or link-local address.';

/** undefined when the name resolves to public addresses only (or any address, when private hosts are allowed). */
function resolveHost(host: string, policy: EndpointUrlPolicy): Promise<EndpointUrlCheck | undefined> {
  const lookup = guardedLookup(!policy.allowPrivateHosts, policy.resolve);
  return new Promise((settle) => {
    const timer = setTimeout(() => settle({ ok: false, reason: `The url field's host ${host} could not be resolved in time.` }), LOOKUP_TIMEOUT_MS);
    lookup(host, { all: true }, (error, addresses) => {
      clearTimeout(timer);
      if (error instanceof BlockedTargetError) settle({ ok: false, reason: PRIVATE_TARGET });
      else if (error || addresses.length === 0) settle({ ok: false, reason: `The url field's host ${host} does not resolve.` });
      else settle(undefined);
    });
  });
}
