// What the admin portal's Chromium tests share: a signed-in portal page, waiting on the page (through the
// debugger protocol: the portal's CSP forbids eval), screenshots kept as test artifacts, and axe-core.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import type { Browser, Page } from 'playwright-core';
import { signIn } from './browser.js';

/** The bootstrap Global Administrator's password on test servers (admin@{tenant domain}). */
export const ADMIN_PASSWORD = 'Bootstrap-Admin-Pw-1';

/** Screenshots of every page are kept as test artifacts (LATCHKEY_SCREENSHOTS, or test-artifacts/screenshots). */
export const SHOTS = process.env.LATCHKEY_SCREENSHOTS || path.resolve(import.meta.dirname, '..', '..', 'test-artifacts', 'screenshots');
fs.mkdirSync(SHOTS, { recursive: true });

/** Waits until `expression` is true in the page. */
export async function until(page: Page, expression: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await page.evaluate(expression))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${expression}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A full-page screenshot named admin-portal-{name}.png. */
export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `admin-portal-${name}.png`), fullPage: true });
}

/** No serious or critical axe-core violation on the page as it is now. */
export async function noSeriousViolations(page: Page, what: string): Promise<void> {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`), [], `axe on ${what}`);
}

/** A new browser context at `width`, signed in to the portal at `origin` as `upn`, on `start` (default /admin). */
export async function openPortal(browser: Browser, origin: string, upn: string, password: string, opts: { width?: number; start?: string } = {}): Promise<{ page: Page; close: () => Promise<void> }> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: opts.width ?? 1280, height: 800 }, reducedMotion: 'reduce' });
  const page = await context.newPage();
  await page.goto(`${origin}${opts.start ?? '/admin'}`);
  await signIn(page, upn, password);
  await page.waitForURL((u) => u.pathname.startsWith('/admin/'));
  return { page, close: () => context.close() };
}
