// `jiancang up --demo` as a new user meets it: the storefront shows the seeded drops (one on
// sale, one counting down, the 3D work, a blind box with its odds read from the chain), the
// pinned announcement, the still image, the
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
  await page.locator('.drop-card').nth(3).waitFor();
  assert.equal(await page.locator('.drop-card').count(), 4);
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

  // The blind box shows its published odds, as committed on chain, before any box is sold.
  await page.goto('/');
  await page.locator('.drop-card', { hasText: '盲盒' }).click();
  const odds = page.getByTestId('blind-box-item-odds');
  await odds.nth(2).waitFor();
  assert.deepEqual(await odds.allTextContents(), ['60.0%', '30.0%', '10.0%']);
  await page.getByTestId('blind-box-stage').filter({ hasText: '发售中' }).waitFor();
  await screenshot(page, 'demo-blind-box');
  assert.deepEqual(await criticalViolations(page), [], 'blind-box drop page: critical accessibility violations');

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

// The same demo on an SM2/SM3 chain (国密): the custodial keys, the blocks' attestations and the
// certificate all use SM2 and SM3, and the page's verifier checks them.
test("on an SM2 chain the airdropped copy's certificate is verified in the browser", async () => {
  const sm2Node = await startNode(['--demo', '--suite', 'sm2']);
  try {
    const page = await phonePage(browser, sm2Node.url);
    const chain = await (await fetch(`${sm2Node.url}/api/v1/chain`)).json();
    assert.equal(chain.suite, 'sm2');
    // The airdrop is minted by the node's minter a moment after the start.
    let certificate = null;
    for (let attempt = 0; attempt < 60 && !certificate; attempt += 1) {
      const response = await fetch(`${sm2Node.url}/api/v1/tokens/1/1/certificate`);
      if (response.ok) certificate = await response.text();
      else await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.ok(certificate, 'the airdropped token was not minted within 30 s');
    const { verifyCertificate } = await import('../src/shared/certificate.js');
    const result = verifyCertificate(certificate, chain.chain_id);
    assert.equal(result.ok, true, JSON.stringify(result.failure));
    const forged = certificate.replace(/"owner":"([0-9a-f]{39})([0-9a-f])"/, (m, head, last) => `"owner":"${head}${last === '0' ? '1' : '0'}"`);
    assert.notEqual(forged, certificate);
    assert.equal(verifyCertificate(forged, chain.chain_id).ok, false);

    await page.goto('/tokens/1/1/certificate');
    await page.getByTestId('certificate-verified').waitFor({ timeout: 20000 });
    await screenshot(page, 'demo-sm2-certificate');
    assert.deepEqual(page.problems, [], 'the pages logged errors');
  } finally {
    await sm2Node.stop();
  }
});
