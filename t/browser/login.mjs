// A person's login through auth_oidc, in Debian's chromium (headless) driven by puppeteer-core:
// open a protected page, log in on the provider's page, land on the page asked for, log out
// through the provider, and be asked to log in again when the page is loaded again (not shown
// from the browser's cache).
//
//   node login.mjs PAGE_URL USER CA_CERT_PEM
//
// Prints one line per step, "ok <what>" or "not ok <what>: <why>", and exits 1 on the first
// failure. The provider's certificate is trusted by its SPKI pin (made from CA_CERT_PEM's
// sibling idp.crt), nothing else.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import process from 'node:process';

import puppeteer from 'puppeteer-core';

const [pageUrl, user, caPem] = process.argv.slice(2);
if (!pageUrl || !user || !caPem) {
  process.stderr.write('usage: node login.mjs PAGE_URL USER CA_CERT_PEM\n');
  process.exit(2);
}
const serverCert = new crypto.X509Certificate(fs.readFileSync(path.join(path.dirname(caPem), 'idp.crt')));
const spki = crypto.createHash('sha256')
  .update(serverCert.publicKey.export({ type: 'spki', format: 'der' }))
  .digest('base64');

let failed = false;
const check = (ok, what, why) => {
  process.stdout.write(ok ? `ok ${what}\n` : `not ok ${what}: ${why}\n`);
  if (!ok) failed = true;
  return ok;
};

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', `--ignore-certificate-errors-spki-list=${spki}`, '--no-first-run'],
});
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(15000);

  await page.goto(pageUrl, { waitUntil: 'load' });
  const loginForm = await page.$('input[name="login"]');
  if (!check(loginForm !== null, 'the protected page sends the browser to the provider\'s login page', page.url())) throw new Error('stop');

  await page.type('input[name="login"]', user);
  await page.type('input[name="password"]', 'any password');
  const [landing] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.click('button[type="submit"]'),
  ]);
  // The last navigation of the chain is the page itself.
  await page.waitForFunction((url) => window.location.href === url, {}, pageUrl).catch(() => {});
  check(page.url() === pageUrl, 'after the login the browser is back on the page it asked for', page.url());
  const text = await page.evaluate(() => document.body.innerText.trim());
  check(text === 'page', 'the page is served', JSON.stringify(text));
  const reload = await page.reload({ waitUntil: 'load' });
  check(reload.headers()['x-user'] === user, 'the backend learns who logged in', JSON.stringify(reload.headers()['x-user']));
  check(reload.headers()['cache-control'] === 'private, no-cache', 'the page is private and revalidated',
    JSON.stringify(reload.headers()['cache-control']));

  const cookies = await browser.cookies();
  const session = cookies.find((c) => c.name === 'NGX_OIDC_SESSION');
  check(session !== undefined, 'the browser keeps a session cookie', cookies.map((c) => c.name).join(','));
  check(session?.httpOnly === true && session?.sameSite === 'Lax', 'it is HttpOnly and SameSite=Lax',
    JSON.stringify({ httpOnly: session?.httpOnly, sameSite: session?.sameSite }));
  check(!cookies.some((c) => c.name.startsWith('NGX_OIDC_SESSION_login_')), 'no login cookie is left', cookies.map((c) => c.name).join(','));
  void landing;

  const origin = new URL(pageUrl).origin;
  await page.goto(`${origin}/logout`, { waitUntil: 'load' });
  const confirm = await page.$('button[name="logout"]');
  if (check(confirm !== null, 'logout goes through the provider, which asks to confirm', page.url())) {
    await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      confirm.click(),
    ]);
    await page.waitForFunction((url) => window.location.href === url, {}, `${origin}/bye`).catch(() => {});
    check(page.url() === `${origin}/bye`, 'and sends the browser back to post_logout_uri', page.url());
  }
  const after = await browser.cookies();
  check(!after.some((c) => c.name === 'NGX_OIDC_SESSION'), 'the session cookie is gone', after.map((c) => c.name).join(','));

  await page.goto(pageUrl, { waitUntil: 'load' });
  check((await page.$('input[name="login"]')) !== null, 'the protected page asks to log in again', page.url());
} catch (err) {
  if (err.message !== 'stop') check(false, 'the browser run', err.message);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
