// The web front-end end to end, in Debian's Chromium at 375×812 against the real binary:
// the first operator signs in and changes the one-time password, onboards an issuer, drafts a
// series; a second account, made a reviewer, approves it; the operator publishes it and opens a
// drop. A new collector registers, passes real-name verification, waits in the room, buys,
// pays in the sandbox, sees the token arrive without reloading, opens its certificate, which
// the page verifies, and gives the token to the second account after the holding period; the
// issuer drafts a blind box whose odds the reviewer sees, and its holder opens it after the
// reveal; a corrupted certificate shows the failure. axe-core checks the main
// pages. Screenshots of each screen go to $JIANCANG_WEB_ARTIFACTS.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  criticalViolations,
  launchBrowser,
  localDateTime,
  makePng,
  phonePage,
  residentId,
  screenshot,
  startNode,
} from './support.mjs';

const OPERATOR = '13000000000';
const OPERATOR_PASSWORD = 'operator passphrase 1';
const REVIEWER = '13900000001';
const COLLECTOR = '13800000002';
const PASSWORD = 'collector passphrase';

let node;
let browser;
const pages = [];

before(async () => {
  node = await startNode();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await node?.stop();
});

async function newPage() {
  const page = await phonePage(browser, node.url);
  pages.push(page);
  return page;
}

// Waits until `locator` shows `text`, re-reading it (event streams update it in place).
async function waitForText(locator, text, timeout = 30000) {
  await locator.filter({ hasText: text }).first().waitFor({ timeout });
}

function assertNoProblems(page, where) {
  assert.deepEqual(page.problems, [], `${where}: the page logged errors`);
}

test('an operator publishes a series and a collector buys it, pays, and checks its certificate', async () => {
  // --- The first operator: one-time password, then a password of their own.
  const operator = await newPage();
  await operator.goto('/console/');
  await operator.locator('input[name=phone]').fill(OPERATOR);
  await operator.locator('input[name=password]').fill(node.operatorPassword);
  await operator.getByTestId('console-login').click();
  await operator.waitForURL(/\/me\/password/);
  await screenshot(operator, 'operator-must-change-password');
  await operator.locator('input[name=current_password]').fill(node.operatorPassword);
  await operator.locator('input[name=new_password]').fill(OPERATOR_PASSWORD);
  await operator.getByTestId('password-submit').click();
  await operator.waitForURL(/\/console\/$/);
  await operator.getByTestId('console-issuers').waitFor();
  await screenshot(operator, 'console-dashboard');

  // --- The operator onboards their own account as an issuer, with a licence document.
  await operator.getByTestId('console-issuers').click();
  await operator.locator('input[name=phone]').fill(OPERATOR);
  await operator.locator('input[name=display_name]').fill('鉴藏博物馆');
  await operator.getByTestId('media-input').setInputFiles({ name: 'licence.png', mimeType: 'image/png', buffer: makePng(64, 1) });
  await operator.getByTestId('onboard-issuer').and(operator.locator(':not([disabled])')).waitFor();
  await operator.getByTestId('onboard-issuer').click();
  await waitForText(operator.locator('.van-cell'), '鉴藏博物馆');
  await screenshot(operator, 'console-issuer-onboarded');

  // --- A draft series with an image made here.
  await operator.goto('/console/series/new');
  await operator.getByTestId('media-input').setInputFiles({ name: 'work.png', mimeType: 'image/png', buffer: makePng(256, 7) });
  await operator.locator('.preview img').waitFor();
  await operator.locator('input[name=title]').fill('青绿山水 · 第一辑');
  await operator.locator('textarea[name=description]').fill('以传统青绿山水为灵感的数字作品。');
  await operator.locator('input[name=edition_cap]').fill('100');
  // A short test policy: a gift is allowed 8.64 s (0.0001 day) after the mint.
  await operator.locator('input[name=hold]').fill('0.0001');
  await screenshot(operator, 'console-series-draft');
  await operator.getByTestId('save-series').click();
  await operator.waitForURL(/\/console\/series$/);
  await operator.getByTestId('submit-series').click();
  await waitForText(operator.getByTestId('series-state'), '审核中');

  // --- A second account, made a reviewer by the operator, approves it.
  const reviewer = await newPage();
  await reviewer.goto('/login');
  await reviewer.getByRole('tab', { name: '注册' }).click();
  await reviewer.locator('input[name=phone]').fill(REVIEWER);
  await reviewer.locator('input[name=password]').fill(PASSWORD);
  await reviewer.getByTestId('login-submit').click();
  await reviewer.waitForURL(/\/me$/);

  await operator.goto('/console/users');
  const reviewerCard = operator.getByTestId(`user-${REVIEWER}`);
  await reviewerCard.getByTestId('role-reviewer').click();
  await reviewerCard.locator('[data-testid=role-reviewer][aria-pressed=true]').waitFor();
  await screenshot(operator, 'console-users');

  await reviewer.goto('/console/review');
  await reviewer.getByTestId('approve').click();
  await waitForText(reviewer.locator('.van-empty'), '没有待审核的系列');
  await screenshot(reviewer, 'console-review-done');

  // --- Published on chain, then a drop that starts in a few seconds.
  await operator.goto('/console/series');
  await operator.getByTestId('publish-series').click();
  await waitForText(operator.getByTestId('series-state'), '已发布', 30000);
  await screenshot(operator, 'console-series-published');

  await operator.goto('/console/drops/new');
  await operator.locator('select[name=series] option').first().waitFor({ state: 'attached' });
  await operator.locator('input[name=title]').fill('青绿山水 首发');
  await operator.locator('input[name=price]').fill('9.9');
  // One copy: the collector's purchase sells the drop out.
  await operator.locator('input[name=stock]').fill('1');
  const startsAt = Date.now() + 25000;
  await operator.locator('input[name=starts_at]').fill(localDateTime(startsAt));
  await operator.locator('input[name=ends_at]').fill(localDateTime(Date.now() + 3600000));
  await screenshot(operator, 'console-drop-new');
  await operator.getByTestId('create-drop').click();
  await operator.waitForURL(/\/console\/drops$/);
  await waitForText(operator.locator('.van-cell'), '青绿山水 首发');

  // --- A collector: registration, real-name verification, the drop, the queue.
  const collector = await newPage();
  await collector.goto('/');
  await waitForText(collector.locator('.drop-card'), '青绿山水 首发');
  await screenshot(collector, 'storefront-home');
  assert.deepEqual(await criticalViolations(collector), [], 'home page: critical accessibility violations');

  await collector.goto('/login');
  await collector.getByRole('tab', { name: '注册' }).click();
  await collector.locator('input[name=phone]').fill(COLLECTOR);
  await collector.locator('input[name=password]').fill(PASSWORD);
  await collector.getByTestId('login-submit').click();
  await collector.waitForURL(/\/me$/);
  await collector.getByTestId('identity-cell').click();
  await collector.locator('input[name=name]').fill('李四');
  await collector.locator('input[name=id_number]').fill(residentId('19900101', 1));
  await screenshot(collector, 'storefront-identity');
  await collector.getByTestId('identity-submit').click();
  await collector.getByTestId('identity-done').waitFor();

  await collector.goto('/');
  await collector.locator('.drop-card').first().click();
  await collector.getByTestId('countdown').waitFor();
  await collector.getByTestId('join-queue').click();
  await collector.getByTestId('queue').waitFor();
  await screenshot(collector, 'storefront-waiting-room');
  assert.deepEqual(await criticalViolations(collector), [], 'drop page: critical accessibility violations');

  // At the start the place is drawn, then let in, over the event stream: no reload.
  await waitForText(collector.getByTestId('queue-admitted'), '轮到你了', Math.max(5000, startsAt - Date.now() + 20000));
  assert.match(await collector.getByTestId('queue-position').innerText(), /1/);
  await screenshot(collector, 'storefront-admitted');

  // --- Buying: the sandbox provider's page, then back to the order, which fills in by itself.
  await collector.getByTestId('buy').click();
  await collector.waitForURL(/\/sandbox\/pay\//);
  await screenshot(collector, 'sandbox-payment');
  await collector.getByRole('button', { name: /Pay/ }).click();
  await collector.getByRole('link', { name: /Back to the shop/ }).click();
  await collector.waitForURL(/\/orders\/\d+$/);
  await collector.getByTestId('delivered').waitFor({ timeout: 30000 });
  await screenshot(collector, 'storefront-order-delivered');

  // The only copy is sold: the drop page says so plainly and offers nothing to buy.
  const orderUrl = collector.url();
  await collector.goto('/drops/1');
  await collector.getByTestId('sold-out').waitFor();
  assert.equal(await collector.getByTestId('buy').count(), 0);
  await screenshot(collector, 'storefront-sold-out');
  await collector.goto(orderUrl);
  await collector.getByTestId('view-token').click();
  await waitForText(collector.getByTestId('token-label'), '#001/100');
  await screenshot(collector, 'storefront-token');
  assert.match(await collector.getByTestId('gift-policy').innerText(), /可转赠/);

  await collector.goto('/collection');
  await collector.locator('.tile').first().waitFor();
  await screenshot(collector, 'storefront-collection');

  // --- The certificate, checked in the page against the members' keys.
  await collector.goto('/tokens/1/1/certificate');
  await collector.getByTestId('certificate-verified').waitFor({ timeout: 20000 });
  assert.equal(await collector.getByTestId('certificate-serial').innerText(), '#001/100');
  assert.equal(await collector.getByTestId('certificate-check').count(), 6);
  await screenshot(collector, 'storefront-certificate-verified');
  assert.deepEqual(await criticalViolations(collector), [], 'certificate page: critical accessibility violations');

  // --- A gift to the second account once the holding period is over: refused while the
  // recipient has no verified name, given once they have one.
  await collector.goto('/tokens/1/1');
  await collector.getByTestId('gift').and(collector.locator(':not([disabled])')).waitFor({ timeout: 20000 });
  await waitForText(collector.getByTestId('gift-policy'), '现在可转赠');
  await collector.getByTestId('gift').click();
  await collector.locator('input[name=to_phone]').fill(REVIEWER);
  await collector.getByTestId('gift-confirm').click();
  await waitForText(collector.getByTestId('gift-error'), '尚未完成实名认证');
  await screenshot(collector, 'storefront-gift-refused');

  await reviewer.goto('/me/identity');
  await reviewer.locator('input[name=name]').fill('王五');
  await reviewer.locator('input[name=id_number]').fill(residentId('19850505', 2));
  await reviewer.getByTestId('identity-submit').click();
  await reviewer.getByTestId('identity-done').waitFor();

  await collector.getByTestId('gift-confirm').click();
  await collector.getByTestId('token-mine').waitFor({ state: 'detached', timeout: 20000 });
  await screenshot(collector, 'storefront-gift-given');
  await reviewer.goto('/collection');
  await reviewer.getByTestId('token-1-1').waitFor();
  await screenshot(reviewer, 'storefront-gift-received');

  // --- The operator sees the sale in the console: the order, and the charts.
  await operator.goto('/console/orders');
  await operator.getByPlaceholder('输入订单号查找').fill('1');
  await operator.getByPlaceholder('输入订单号查找').press('Enter');
  await waitForText(operator.locator('.van-cell'), '已到账');
  await operator.goto('/console/charts');
  await operator.getByTestId('sales-chart').locator('canvas').waitFor();
  await operator.getByTestId('circulation-chart').locator('canvas').waitFor();
  await screenshot(operator, 'console-charts');

  for (const page of pages) assertNoProblems(page, page.url());
});

test('an issuer drafts a blind box with its odds, a reviewer sees them, and its holder opens it', async () => {
  const [operator, reviewer, collector] = pages;
  // --- Drafted in the console: the published series as its only item, in both boxes.
  await operator.goto('/console/series/new');
  await operator.getByTestId('media-input').setInputFiles({ name: 'box.png', mimeType: 'image/png', buffer: makePng(128, 11) });
  await operator.locator('.preview img').waitFor();
  await operator.locator('input[name=title]').fill('青绿盲盒');
  await operator.getByTestId('blind-box-switch').click();
  await operator.getByTestId('blind-box-item').first().waitFor();
  await operator.getByTestId('blind-box-count').first().fill('2');
  assert.equal(await operator.locator('input[name=edition_cap]').count(), 0, 'a box has as many copies as boxes');
  await screenshot(operator, 'console-blind-box-draft');
  await operator.getByTestId('save-series').click();
  await operator.waitForURL(/\/console\/series$/);
  const card = operator.getByTestId('series-2');
  await card.getByTestId('submit-series').click();
  await waitForText(card.getByTestId('series-state'), '审核中');

  // --- The reviewer sees the odds before approving them.
  await reviewer.goto('/console/review');
  await waitForText(reviewer.getByTestId('review-box-item'), '2 (100.0%)');
  await screenshot(reviewer, 'console-blind-box-review');
  await reviewer.getByTestId('approve').click();
  await waitForText(reviewer.locator('.van-empty'), '没有待审核的系列');
  await operator.goto('/console/series');
  await card.getByTestId('publish-series').click();
  await waitForText(card.getByTestId('series-state'), '已发布', 30000);

  // --- One box airdropped to the collector (the API: the console has no airdrop form yet).
  const airdrop = await operator.evaluate(async (phone) => {
    const me = await (await fetch('/api/v1/me')).json();
    const response = await fetch('/api/v1/airdrops', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
      body: JSON.stringify({ series_draft_id: 2, title: '盲盒空投', phones: [phone] }),
    });
    return response.status;
  }, COLLECTOR);
  assert.equal(airdrop, 201);
  // The box reaches the collector's collection once the node's minter has minted it.
  const delivered = await collector.evaluate(async () => {
    for (let attempt = 0; attempt < 120; attempt += 1) {
      const { orders } = await (await fetch('/api/v1/orders')).json();
      if (orders.some((order) => order.series_id === 2 && order.state === 'delivered')) return true;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return false;
  });
  assert.ok(delivered, 'the airdropped box was not delivered within 30 s');
  await collector.goto('/tokens/2/1');
  await collector.getByTestId('blind-box-odds').waitFor();
  await waitForText(collector.getByTestId('blind-box-stage'), '发售中');
  assert.equal(await collector.getByTestId('open-box').count(), 0, 'no opening before the reveal');

  // --- The issuer reveals, and the holder opens the box into its item.
  await operator.goto('/console/series');
  await card.getByTestId('reveal-box').click();
  await operator.locator('.van-toast').filter({ hasText: '已揭晓' }).waitFor({ timeout: 20000 });
  await collector.reload();
  await waitForText(collector.getByTestId('blind-box-stage'), '已揭晓');
  await collector.getByTestId('blind-box-seed').waitFor();
  await screenshot(collector, 'storefront-blind-box-revealed');
  await collector.getByTestId('open-box').click();
  await collector.waitForURL(/\/tokens\/1\/\d+$/);
  await collector.getByTestId('token-mine').waitFor();
  await screenshot(collector, 'storefront-blind-box-opened');
  for (const page of [operator, reviewer, collector]) assertNoProblems(page, page.url());
});

test('a corrupted certificate is shown as failing its check', async () => {
  const page = await newPage();
  // The same certificate with one hex digit of the holder changed on the way.
  await page.route('**/api/v1/tokens/1/1/certificate', async (route) => {
    const response = await route.fetch();
    const text = await response.text();
    const owner = JSON.parse(text).token.owner;
    const forged = owner.slice(0, -1) + (owner.endsWith('0') ? '1' : '0');
    await route.fulfill({ response, body: text.replace(owner, forged) });
  });
  await page.goto('/tokens/1/1/certificate');
  await page.getByTestId('certificate-failed').waitFor({ timeout: 20000 });
  const verdict = await page.getByTestId('certificate-failed').innerText();
  assert.match(verdict, /验证失败/);
  assert.match(verdict, /owner-mismatch|proof/);
  await screenshot(page, 'storefront-certificate-forged');
});

// T23 of the reliability catalogue, for the browser's verifier: random byte flips anywhere in a
// real certificate are all caught (run here in Node, the same module the page runs).
test('every one of 2,000 random byte flips in a certificate fails the in-browser check', async () => {
  const { verifyCertificate } = await import('../src/shared/certificate.js');
  const response = await fetch(`${node.url}/api/v1/tokens/1/1/certificate`);
  assert.equal(response.status, 200);
  const original = Buffer.from(await response.arrayBuffer());
  const chain = await (await fetch(`${node.url}/api/v1/chain`)).json();
  const genuine = verifyCertificate(original.toString('utf8'), chain.chain_id);
  assert.equal(genuine.ok, true, JSON.stringify(genuine.failure));
  const decoder = new TextDecoder('utf-8'); // as a browser reads a page: bad bytes become U+FFFD
  const reasons = new Map();
  let seed = 0x2545f491;
  const random = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x100000000;
  };
  for (let i = 0; i < 2000; i += 1) {
    const flipped = Buffer.from(original);
    const at = Math.floor(random() * flipped.length);
    flipped[at] ^= 1 + Math.floor(random() * 255);
    const result = verifyCertificate(decoder.decode(flipped), chain.chain_id);
    assert.equal(result.ok, false, `a flip at byte ${at} was not caught`);
    reasons.set(result.failure.code, (reasons.get(result.failure.code) ?? 0) + 1);
  }
  // Not only malformed JSON: flips inside values reach the cryptographic checks too.
  assert.ok(reasons.size >= 4, `failures by reason: ${JSON.stringify([...reasons])}`);
});

test('the explorer shows the chain, its blocks with signatures, and the series', async () => {
  const page = await newPage();
  await page.goto('/explorer/');
  await page.getByTestId('chain-height').waitFor();
  await page.getByTestId('latest-tx').first().waitFor();
  await screenshot(page, 'explorer-chain');
  // The bought copy and the item the opened box minted.
  await page.goto('/explorer/series/1');
  await waitForText(page.getByTestId('series-minted'), '2');
  assert.match(await page.getByTestId('series-cap').innerText(), /100/);
  await screenshot(page, 'explorer-series');
  // The blind box with its seed and sealing block: what anyone recomputes its boxes from.
  await page.goto('/explorer/series/2');
  await page.getByTestId('blind-box-seed').waitFor();
  await screenshot(page, 'explorer-blind-box');
  await page.goto('/explorer/blocks/1');
  await waitForText(page.locator('.van-tag'), '已签名');
  await screenshot(page, 'explorer-block');
  assert.deepEqual(await criticalViolations(page), [], 'explorer: critical accessibility violations');
  assertNoProblems(page, 'explorer');
});
