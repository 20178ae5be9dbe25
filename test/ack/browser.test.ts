// The acknowledgement page in a real headless Chromium, as an owner on a phone would use it:
// JavaScript off (the page needs none), pick who you are, press the button, see the
// confirmation; the page loads nothing from anywhere and breaks no rule of its own CSP.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { launchChromium } from '../metrics/html-check.js';
import { hook, linkOf, payWorkflow, perTest, until } from './helpers.js';

vi.setConfig({ testTimeout: 60_000 });

let browser: Browser;
const t = perTest();

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser.close();
});

describe('the acknowledgement page in Chromium', () => {
  it('acknowledges with a tap on a phone-sized screen, with JavaScript off and nothing loaded from outside', async () => {
    t.s.flow('pay', payWorkflow(t.server.url));
    const d = await t.s.daemon();
    const id = await hook(d.url, { n: 11 });
    await until(async () => (await t.s.status(id)) === 'escalated', 'the run ends escalated');
    const link = linkOf(t.server);

    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => problems.push(m.text()));
    const requests: string[] = [];
    page.on('request', (r) => requests.push(`${r.method()} ${r.url()}`));
    await page.goto(link);
    expect(await page.locator('h1').textContent()).toBe('Acknowledge escalation');
    expect(await page.locator('dd').allTextContents()).toContain('invoice 11 is stuck');
    // Everything fits the width of the phone: nothing to scroll sideways.
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.selectOption('select[name=as]', 'li@example.com');
    await page.click('button[type=submit]');
    await page.waitForLoadState();
    expect(await page.locator('h1').textContent()).toBe('Acknowledged');
    expect(await page.locator('body').textContent()).toContain('Thank you, li@example.com');
    expect(problems).toEqual([]);
    expect(requests).toEqual([`GET ${link}`, `POST ${link}`]);
    expect(await t.s.escalation(id)).toMatchObject({ ackedBy: 'li@example.com', ackedVia: 'link' });

    await page.goto(link);
    expect(await page.locator('h1').textContent()).toBe('Already acknowledged');
    await context.close();
  });
});
