// Real Chromium (Debian's /usr/bin/chromium) through playwright-core; tests that need it skip with a reason
// when it is missing, and fail when LATCHKEY_REQUIRE_BROWSER=1 (CI).
import fs from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.LATCHKEY_CHROMIUM ?? '/usr/bin/chromium';

export function browserSkipReason(): string | false {
  if (fs.existsSync(CHROMIUM)) return false;
  if (process.env.LATCHKEY_REQUIRE_BROWSER === '1') throw new Error(`Chromium is required (LATCHKEY_REQUIRE_BROWSER=1) but ${CHROMIUM} does not exist`);
  return `Chromium not installed at ${CHROMIUM}`;
}

export function launchBrowser(userDataDir?: string): Promise<Browser> {
  void userDataDir;
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/** A persistent profile (cookies survive a browser restart, as a real user's do). */
export function launchPersistent(userDataDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    ignoreHTTPSErrors: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/** Fills Entra's sign-in pages: user name, password, then "Stay signed in?" Yes or No. */
export async function signIn(page: Page, user: string, password: string, opts: { kmsi?: boolean } = {}): Promise<void> {
  await page.waitForSelector('#i0116');
  await page.fill('#i0116', user);
  await page.click('#idSIButton9');
  await page.waitForSelector('#i0118');
  await page.fill('#i0118', password);
  await page.click('#idSIButton9');
  await page.waitForSelector('text=Stay signed in?');
  await page.click(opts.kmsi === false ? '#idBtn_Back' : '#idSIButton9');
}

/**
 * Navigates to an authorization URL and returns the redirect to `redirectPrefix` (nothing needs to listen
 * there: the request is observed, then the page is left).
 */
export async function captureRedirect(page: Page, redirectPrefix: string, act: () => Promise<void>): Promise<URL> {
  const req = page.waitForRequest((r) => r.url().startsWith(redirectPrefix), { timeout: 30_000 });
  await act();
  const request = await req;
  // Let the navigation to the app's URL end before the test goes on: where nothing serves it, Chromium
  // commits its error page a moment later, which would interrupt the test's next navigation.
  await request.response().catch(() => null);
  await page.waitForURL((u) => u.href.startsWith(redirectPrefix) || u.protocol === 'chrome-error:', { timeout: 5_000, waitUntil: 'commit' }).catch(() => {});
  return new URL(request.url());
}

/**
 * Closes a page that may still be navigating to a redirect target. Chromium sometimes never acknowledges
 * closing a page whose navigation is mid-commit; the page dies with its context anyway.
 */
export async function closeQuietly(page: Page, ms = 3000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([page.close().catch(() => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** Opens the demo portal, signs in through Latchkey's pages, and waits for the portal's signed-in page. */
export async function signInToDemoPortal(page: Page, origin: string, user: string, password: string): Promise<void> {
  await page.goto(`${origin}/demo/`);
  await page.click('#signin');
  await signIn(page, user, password);
  await page.waitForSelector('#userName');
}
