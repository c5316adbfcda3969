// Takes the screenshots of docs/console.md: the console in Chromium over the demo HQ (mock model).
//
//   node --conditions=agentrix-source --import tsx tests/console/screenshots.ts
import { fileURLToPath } from 'node:url';
import { startConsoleDemo } from './console-demo.js';
import { buildConsole, launchChromium } from './console-fixture.js';

const images = fileURLToPath(new URL('../../docs/images/', import.meta.url));
const pages: [name: string, hash: string, ready: string][] = [
  ['agents', '#/agents', 'tr[data-agent="worker-2"][data-state="running"]'],
  ['thread', '#/agents/researcher/threads/main', '.message.tool'],
  ['spend', '#/spend', 'tr[data-spend="architect"]'],
  ['queues', '#/queues', '[data-dead-letters="intake"] tbody tr'],
  ['hq', '#/hq', '[data-goal="docs-1.2"]'],
  ['approvals', '#/approvals', '.approval'],
  ['mcp', '#/mcp', '[data-mcp="everything"]'],
];

const assets = await buildConsole();
const demo = await startConsoleDemo(assets.dir);
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  demo.busy('worker-2');
  for (const [name, hash, ready] of pages) {
    await page.goto(`${demo.url}${hash}`);
    await page.reload();
    await page.locator(ready).first().waitFor({ timeout: 15_000 });
    if (name === 'hq') await page.locator('[data-goal="docs-1.2"] button.link').click();
    await page.waitForTimeout(300);
    const path = `${images}console-${name}.png`;
    await page.screenshot({ path });
    process.stdout.write(`${path}\n`);
  }
} finally {
  await browser.close();
  await demo.close();
  await assets.remove();
}
