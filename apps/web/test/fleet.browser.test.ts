import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTRPCClient, httpLink } from '@trpc/client';
import type { Browser } from 'playwright-core';
import type { AppRouter } from '@lepton/api';
import { buildWebApp, launchChromium, startServer, tearDown, type RunningServer } from './harness';

/**
 * The fleet page in Chromium against a real server: two devices enrolled with admin-made tokens, one with
 * telemetry. The page needs the admin key the server printed at its first start.
 */
let webDir: string | undefined;
let server: RunningServer | undefined;
let browser: Browser | undefined;
let adminKey = '';

const client = (key?: string) =>
  createTRPCClient<AppRouter>({ links: [httpLink({ url: `${server!.url}/trpc`, headers: () => (key ? { authorization: `Bearer ${key}` } : {}) })] });

beforeAll(async () => {
  webDir = await buildWebApp();
  server = await startServer(webDir);
  adminKey = /Admin API key: (\S+)/.exec(server.output())![1]!;
  const admin = client(adminKey);
  for (const [name, group] of [['kiosk-1', 'lobby'], ['kiosk-2', undefined]] as const) {
    const { token } = await admin.devices.createToken.mutate({ ttlSeconds: 60, ...(group ? { group } : {}) });
    const { credential } = await client().devices.enroll.mutate({ token, name });
    const device = client(credential);
    await device.fleet.sync.mutate({});
    if (name === 'kiosk-1') {
      const events = [3, 1, 2].map((ms, i) => ({ id: `browser-test-${i}`, at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), kind: 'infer' as const, ok: true, latencyMs: ms }));
      await device.fleet.telemetry.mutate({ events });
      await device.fleet.report.mutate({ reports: [{ deploymentId: 'dep_default_silero-vad-v5', model: 'silero-vad-v5', version: '5.0.0', state: 'healthy' }] });
    }
  }
  browser = await launchChromium();
}, 180_000);

afterAll(() => tearDown(browser, server, webDir), 30_000);

describe('fleet page', () => {
  it('shows devices with versions, health, last seen and a latency plot, and the deployments', async () => {
    const page = await browser!.newPage();
    await page.goto(`${server!.url}/#fleet`);
    await page.fill('#fleet-key', adminKey);
    await page.click('#fleet-auth button');
    await page.waitForSelector('#fleet[data-state="ready"]');
    const rows = await page.$$eval('#fleet-devices tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    expect(rows).toHaveLength(2);
    const kiosk = rows.find((r) => r[1] === 'kiosk-1')!;
    expect(kiosk[2]).toBe('lobby');
    expect(kiosk[3]).toBe('silero-vad-v5@5.0.0 (healthy)');
    // The variant the server assigns and why (no variant builds in this test: fp32 is all there is).
    expect(kiosk[4]).toBe('fp32 (fp32: no 8-bit variant, fp32 fallback)');
    expect(kiosk[5]).toBe('ok');
    expect(kiosk[6]).toBe('2.00 ms');
    expect(kiosk[8]).toMatch(/^\d+s ago$/);
    const points = await page.getAttribute('#fleet-devices tbody tr:first-child polyline', 'points');
    expect(points).toBe('2.0,2.0 80.0,23.3 158.0,12.7'); // 3, 1, 2 ms on 0..3 ms in the 160x36 plot
    expect(rows.find((r) => r[1] === 'kiosk-2')![3]).toBe('silero-vad-v5@5.0.0 (pending)');
    const deployments = await page.$$eval('#fleet-deployments tbody tr td', (tds) => tds.map((td) => td.textContent));
    expect(deployments).toEqual(['dep_default_silero-vad-v5', 'silero-vad-v5@5.0.0', 'all devices, 100%', 'active', 'pending 1, healthy 1']);
    await page.close();
  });

  it('says UNAUTHORIZED for a wrong key', async () => {
    const page = await browser!.newPage();
    await page.goto(`${server!.url}/#fleet`);
    await page.fill('#fleet-key', 'lpk_wrong');
    await page.click('#fleet-auth button');
    await page.waitForSelector('#fleet[data-state="error"]');
    expect(await page.textContent('#fleet-status')).toMatch(/^server: UNAUTHORIZED: /);
    await page.close();
  });
});
