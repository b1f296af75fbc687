// `jiancang up --demo` as a new user meets it: the storefront shows the seeded drops (one on
// sale, one counting down, the 3D work), the pinned announcement, the still image, the
// animation and the 3D model (in <model-viewer>, from the node itself), and the demo collector's
// account signs in already verified, holding an airdropped copy whose certificate checks out.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { criticalViolations, launchBrowser, phonePage, screenshot, startNode } from './support.mjs';

let node;
let browser;

before(async () => {
  node = await startNode(['--demo']);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await node?.stop();
});

test('the demo start prints its accounts and seeds a living storefront', async () => {
  assert.match(node.output(), /demo collector: 13100000003 \/ demo collector 2026/);
  const page = await phonePage(browser, node.url);
  await page.goto('/');
  await page.locator('.drop-card').nth(2).waitFor();
  assert.equal(await page.locator('.drop-card').count(), 3);
  await page.locator('.van-notice-bar').filter({ hasText: '欢迎来到鉴藏演示' }).waitFor();
  await page.locator('.banners').waitFor();
  await screenshot(page, 'demo-home');

  // The countdown drop counts down.
  await page.locator('.drop-card', { hasText: '流光' }).click();
  await page.getByTestId('countdown').waitFor();
  assert.match(await page.locator('.media img').getAttribute('src'), /^\/media\/[0-9a-f]{64}$/);
  await screenshot(page, 'demo-countdown-animation');

  // The 3D work: <model-viewer> loads the model from the node.
  await page.goto('/');
  await page.locator('.drop-card', { hasText: '青铜鼎' }).click();
  const viewer = page.getByTestId('model-viewer');
  await viewer.waitFor({ timeout: 20000 });
  await page.waitForFunction(() => document.querySelector('model-viewer')?.loaded === true, null, { timeout: 30000 });
  await screenshot(page, 'demo-3d');
  assert.deepEqual(await criticalViolations(page), [], '3D drop page: critical accessibility violations');

  // The demo collector is verified and may buy at once.
  await page.goto('/login');
  await page.locator('input[name=phone]').fill('13100000003');
  await page.locator('input[name=password]').fill('demo collector 2026');
  await page.getByTestId('login-submit').click();
  await page.waitForURL(/\/me$/);
  await page.getByTestId('identity-cell').filter({ hasText: '已认证' }).waitFor();
  await screenshot(page, 'demo-collector');

  // Its airdropped copy is minted by the node within seconds; its certificate checks out.
  await page.goto('/collection');
  await page.locator('.tile').first().waitFor({ timeout: 30000 });
  await page.locator('.tile').first().click();
  await page.getByTestId('open-certificate').click();
  await page.getByTestId('certificate-verified').waitFor({ timeout: 20000 });
  await screenshot(page, 'demo-certificate');
  assert.deepEqual(page.problems, [], 'the pages logged errors');
});
