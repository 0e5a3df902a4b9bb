import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import type { LookupFunction } from '../../src/platform/net/ssrf.js';
import { checkEndpointUrl, MAX_URL_LENGTH } from '../../src/webhooks/webhook-url.js';

/** Answers every name with `addresses`, or with ENOTFOUND when there are none; never the network. */
function answering(...addresses: string[]): LookupFunction {
  return (hostname, _options, callback) => {
    const answer: LookupAddress[] = addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    if (answer.length === 0) callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
    else callback(null, answer);
  };
}

const strict = { allowHttp: false, allowPrivateHosts: false, resolve: answering('93.184.215.14') };
const reasonOf = async (url: string, policy = strict) => {
  const checked = await checkEndpointUrl(url, policy);
  return checked.ok ? undefined : checked.reason;
};

describe('the webhook endpoint URL policy', () => {
  it('accepts an https URL whose host resolves to public addresses, and stores it normalized', async () => {
    expect(await checkEndpointUrl('https://Hooks.Example.com/in?x=1', strict)).toEqual({ ok: true, url: 'https://hooks.example.com/in?x=1' });
    expect(await checkEndpointUrl('https://93.184.215.14:8443/hook', strict)).toEqual({ ok: true, url: 'https://93.184.215.14:8443/hook' });
  });

  it('refuses http unless allowed, and every other scheme always', async () => {
    expect(await reasonOf('http://hooks.example.com/')).toMatch(/https URL/);
    expect(await reasonOf('http://hooks.example.com/', { ...strict, allowHttp: true })).toBeUndefined();
    for (const url of ['ftp://hooks.example.com/', 'file:///etc/passwd', 'javascript:alert(1)', 'data:text/plain,x']) {
      expect(await reasonOf(url, { ...strict, allowHttp: true }), url).toMatch(/http or https URL/);
    }
  });

  it('refuses text that is not a URL, and URLs with credentials', async () => {
    for (const url of ['', 'not a url', 'https://', '//hooks.example.com/', 'https://exa mple.com/']) expect(await reasonOf(url), url).toMatch(/valid URL/);
    expect(await reasonOf('https://user:pass@hooks.example.com/')).toMatch(/credentials/);
    expect(await reasonOf('https://user@hooks.example.com/')).toMatch(/credentials/);
  });

  it('refuses loopback, private and link-local IP literals, however they are written', async () => {
    for (const url of [
      'https://127.0.0.1/',
      'https://127.1/',
      'https://0x7f000001/',
      'https://2130706433/',
      'https://10.1.2.3/',
      'https://172.16.0.1/',
      'https://192.168.1.1/',
      'https://169.254.169.254/latest/meta-data',
      'https://0.0.0.0/',
      'https://[::1]/',
      'https://[::ffff:127.0.0.1]/',
      'https://[fe80::1]/',
      'https://[fd00::1]/',
    ]) {
      expect(await reasonOf(url), url).toMatch(/loopback, private or link-local/);
    }
  });

  it('refuses a name when any of its addresses is not public', async () => {
    expect(await reasonOf('https://localhost/', { ...strict, resolve: answering('127.0.0.1') })).toMatch(/loopback, private or link-local/);
    expect(await reasonOf('https://rebind.example/', { ...strict, resolve: answering('93.184.215.14', '10.0.0.7') })).toMatch(/loopback, private or link-local/);
    expect(await reasonOf('https://v6.example/', { ...strict, resolve: answering('::1') })).toMatch(/loopback, private or link-local/);
  });

  it('accepts private targets, literal or resolved, when private hosts are allowed', async () => {
    const open = { ...strict, allowHttp: true, allowPrivateHosts: true, resolve: answering('127.0.0.1') };
    for (const url of ['http://127.0.0.1:8080/hook', 'https://[::1]/', 'https://169.254.169.254/', 'https://localhost/']) {
      expect(await reasonOf(url, open), url).toBeUndefined();
    }
  });

  it('refuses a name that does not resolve, even when private hosts are allowed', async () => {
    expect(await reasonOf('https://nowhere.invalid/', { ...strict, resolve: answering() })).toMatch(/does not resolve/);
    expect(await reasonOf('https://nowhere.invalid/', { ...strict, allowPrivateHosts: true, resolve: answering() })).toMatch(/does not resolve/);
  });

  it(`refuses a URL longer than ${MAX_URL_LENGTH} characters once normalized`, async () => {
    const base = 'https://hooks.example.com/';
    expect(await reasonOf(base + 'a'.repeat(MAX_URL_LENGTH - base.length))).toBeUndefined();
    expect(await reasonOf(base + 'a'.repeat(MAX_URL_LENGTH - base.length + 1))).toMatch(/2048 characters/);
    // Percent-encoding makes the stored form longer than what was sent.
    expect(await reasonOf(base + 'é'.repeat(700))).toMatch(/2048 characters/);
  });

  it('refuses NUL characters and unpaired surrogates', async () => {
    expect(await reasonOf('https://hooks.example.com/\u0000')).toMatch(/NUL/);
    expect(await reasonOf('https://hooks.example.com/\ud800')).toMatch(/unpaired surrogates/);
  });
});
