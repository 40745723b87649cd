// Browser tests of the pages of `voisinage serve`: Debian's headless Chromium driven through playwright-core
// against a real server on a free loopback port, axe-core (WCAG 2.1 A and AA rules) on every page, and
// screenshots of each page at 1280 and 375 px written to $SCREENSHOT_DIR (build/screenshots by default).
//
//   node tests/browser/pages.test.js      (VOISINAGE_BIN: the binary, default build/cmd/voisinage)

'use strict';
const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const SOURCE = path.resolve(__dirname, '..', '..');
const BINARY = process.env.VOISINAGE_BIN || path.join(SOURCE, 'build', 'cmd', 'voisinage');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.SCREENSHOT_DIR || path.join(SOURCE, 'build', 'screenshots');
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const XSS = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'><svg onload=alert(3)>';
const SANDRINE = 'sandrine.petit@mairie-thomery.example.fr'; // a moderator of examples/thomery.yaml

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'voisinage-browser-'));
const db = path.join(dir, 'town.db');
const cli = (...args) => execFileSync(BINARY, ['--db', db, ...args.map(String)], { encoding: 'utf8' });
const invitation = () =>
  cli('invite', 'create', '--neighbourhood', 'centre-bourg', '--count', '1', '--format', 'csv')
    .split('\n')[1].split(',')[0];

let passed = 0;
let failed = 0;
const pagesChecked = [];
let browser = null;

async function step(name, body) {
  try {
    await body();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (error) {
    failed += 1;
    const where = [];
    for (const page of browser.contexts().flatMap((context) => context.pages()))
      where.push(`page ${page.url()}: ${(await page.textContent('h1', { timeout: 1000 }).catch(() => '(no h1)'))}`);
    console.log(`not ok - ${name}\n${[String(error.stack || error), ...where].join('\n').replace(/^/gm, '  # ')}`);
  }
}

// Clicks a link or a submit button and returns once the page it leads to has loaded: a click alone returns as
// soon as that page starts to load, when its text may not be there yet.
async function load(page, control) {
  await Promise.all([page.waitForEvent('load'), control.click()]);
}

// axe-core on the page (evaluated through the DevTools protocol, which the page's CSP does not govern), no
// horizontal scrolling at 320 px (WCAG 1.4.10, the width of 400 % zoom at 1280 px), screenshots.
async function check(page, name) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() =>
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }));
  const violations = result.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  assert.deepEqual(violations, [], `axe-core on ${name} (${page.url()})`);
  const viewport = page.viewportSize();
  await page.setViewportSize({ width: 320, height: 800 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(overflow <= 320, `${name}: ${overflow} px wide at 320 px`);
  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: path.join(SHOTS, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize(viewport);
  pagesChecked.push(name);
}

function startServer() {
  return new Promise((resolve, reject) => {
    // No per-address limit: the steps load pages faster than a person would (test_web.py tests the limit).
    const args = ['--db', db, 'serve', '--listen', '127.0.0.1:0', '--client-rate', '0'];
    const server = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    server.stdout.on('data', (chunk) => {
      out += chunk;
      const match = out.match(/serving on (http:\/\/127\.0\.0\.1:\d+) /);
      if (match) resolve({ server, url: match[1] });
    });
    server.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
    setTimeout(() => reject(new Error('serve did not start')), 15000);
  });
}

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  cli('init', '--from', path.join(SOURCE, 'examples', 'thomery.yaml'));
  cli('import', 'merchants', path.join(SOURCE, 'examples', 'registries', 'sirene_thomery.csv'));
  cli('post', 'add', '--as', 'marie.lefevre@mairie-thomery.example.fr', '--neighbourhood', 'centre-bourg', '--kind',
    'announcement', '--title', 'Travaux rue de la République', '--body', 'La rue sera fermée lundi matin.');
  const { server, url } = await startServer();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const resident = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'fr-FR' });
  const lucie = await resident.newPage();
  let postUrl = '';
  const title = 'Perceuse à prêter';
  try {
    await step('the home page lists the neighbourhoods and the town hall\'s announcements', async () => {
      await lucie.goto(`${url}/`);
      assert.equal(await lucie.textContent('h1'), 'Bienvenue à Thomery');
      await lucie.getByRole('link', { name: 'Travaux rue de la République', exact: true }).waitFor();
      await check(lucie, 'accueil');
    });

    await step('a resident joins with an invitation code and is signed in', async () => {
      await lucie.goto(`${url}/rejoindre`);
      await check(lucie, 'rejoindre');
      await lucie.getByLabel('Code d’invitation').fill(invitation());
      await lucie.getByLabel('Nom affiché').fill('Lucie B.');
      await load(lucie, lucie.getByRole('button', { name: 'Rejoindre' }));
      assert.match(lucie.url(), /\/quartiers\/centre-bourg\?bienvenue=1$/);
      await lucie.getByText('Connecté·e').waitFor();
    });

    await step('a used code is refused next to the field', async () => {
      const other = await browser.newPage();
      const code = invitation();
      cli('member', 'list'); // the CLI works on the file meanwhile
      for (const name of ['Premier', 'Second']) {
        await other.goto(`${url}/rejoindre`);
        await other.getByLabel('Code d’invitation').fill(code);
        await other.getByLabel('Nom affiché').fill(name);
        await load(other, other.getByRole('button', { name: 'Rejoindre' }));
        if (name === 'Premier') await load(other, other.getByRole('button', { name: 'Se déconnecter' }));
      }
      assert.match(await other.textContent('#f-code-erreur'), /Ce code d’invitation a déjà été utilisé\./);
      await check(other, 'rejoindre-erreur');
      await other.close();
    });

    await step('a resident posts; errors are shown next to the fields', async () => {
      await lucie.goto(`${url}/quartiers/centre-bourg`);
      await load(lucie, lucie.getByRole('link', { name: 'Publier un message' }));
      await check(lucie, 'publier');
      await lucie.getByLabel('Type de message').selectOption('event');
      await load(lucie, lucie.getByRole('button', { name: 'Publier' }));
      await lucie.getByText('Le formulaire contient des erreurs').waitFor();
      await check(lucie, 'publier-erreurs');
      await lucie.getByLabel('Type de message').selectOption('offer');
      await lucie.getByLabel('Précision (offre ou demande)').selectOption('lend');
      await lucie.getByLabel('Titre').fill(title);
      await lucie.getByLabel('Texte').fill('Je prête ma perceuse le week-end.\nPassez rue de la République.');
      await load(lucie, lucie.getByRole('button', { name: 'Publier' }));
      await lucie.getByText('Votre message est publié.').waitFor();
      postUrl = lucie.url().split('?')[0];
      await check(lucie, 'message');
    });

    const neighbour = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await step('a neighbour replies and reports the post', async () => {
      await neighbour.goto(`${url}/rejoindre`);
      await neighbour.getByLabel('Code d’invitation').fill(invitation());
      await neighbour.getByLabel('Nom affiché').fill('Paul G.');
      await load(neighbour, neighbour.getByRole('button', { name: 'Rejoindre' }));
      await neighbour.goto(postUrl);
      await neighbour.getByLabel('Votre réponse').fill('Merci, je passe samedi !');
      await load(neighbour, neighbour.getByRole('button', { name: 'Envoyer la réponse' }));
      await neighbour.getByText('Merci, je passe samedi !').waitFor();
      await neighbour.goto(`${url}/quartiers/centre-bourg`);
      await neighbour.getByText('Merci, je passe samedi !').waitFor();
      await check(neighbour, 'quartier');
      await load(neighbour, neighbour.getByRole('link', { name: `Signaler le message « ${title} »` }));
      await check(neighbour, 'signaler');
      await neighbour.getByLabel('Raison du signalement').selectOption('illegal');
      await load(neighbour, neighbour.getByRole('button', { name: 'Envoyer le signalement' }));
      assert.match(await neighbour.textContent('#f-good_faith-erreur'), /bonne foi : cochez la case/);
      await check(neighbour, 'signaler-erreurs');
      await neighbour.getByLabel('Raison du signalement').selectOption('scam');
      await load(neighbour, neighbour.getByRole('button', { name: 'Envoyer le signalement' }));
      assert.equal(await neighbour.textContent('h1'), 'Signalement reçu');
      await check(neighbour, 'signalement-recu');
    });

    await step('a moderator\'s `mod hide` in the terminal takes the post off the page', async () => {
      const target = `post:${postUrl.split('/').pop()}`;
      const reported = JSON.parse(cli('mod', 'queue', '--json')).find((c) => c.target === target);
      cli('mod', 'hide', reported.id, '--reason', 'scam', '--as', SANDRINE);
      await neighbour.goto(`${url}/quartiers/centre-bourg`);
      assert.equal(await neighbour.getByText(title).count(), 0);
      await neighbour.goto(postUrl);
      assert.equal(await neighbour.textContent('h1'), 'Page introuvable');
      await check(neighbour, 'introuvable');
    });

    await step('an anonymous grievance gets a reference and a status page', async () => {
      const visitor = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
      await visitor.goto(`${url}/doleances/nouvelle`);
      await check(visitor, 'doleance-formulaire');
      await visitor.getByLabel('Catégorie').selectOption('eclairage_public');
      await visitor.getByLabel('Titre').fill('Lampadaire éteint');
      await visitor.getByLabel('Description').fill('Le lampadaire devant le 12 rue de la Paix est éteint depuis lundi.');
      await visitor.getByLabel('Adresse ou lieu').fill('12 rue de la Paix');
      await visitor.getByLabel('Je préfère rester anonyme').check();
      await load(visitor, visitor.getByRole('button', { name: 'Envoyer à la mairie' }));
      const reference = await visitor.textContent('.reference');
      assert.match(reference, /^DOL-\d{4}-\d{6}$/);
      await check(visitor, 'doleance-envoyee');
      cli('grievance', 'respond', reference, 'Une équipe passe jeudi.');
      await load(visitor, visitor.getByRole('link', { name: `Suivre la doléance ${reference}` }));
      assert.equal(await visitor.textContent('h1'), `Doléance ${reference}`);
      await visitor.getByText('Une équipe passe jeudi.').waitFor();
      await check(visitor, 'doleance-suivi');
      await visitor.close();
    });

    await step('the directory is searched with and without accents', async () => {
      const names = async (query) => {
        await lucie.goto(`${url}/annuaire`);
        await lucie.getByLabel('Nom, activité ou adresse').fill(query);
        await load(lucie, lucie.getByRole('button', { name: 'Rechercher' }));
        return lucie.locator('.fiches a').allTextContents();
      };
      const plain = await names('epicerie');
      assert.ok(plain.length > 0, 'epicerie finds something');
      assert.deepEqual(await names('ÉPICERIE'), plain);
      assert.deepEqual(await names('Épicerie'), plain);
      await check(lucie, 'annuaire');
      await load(lucie, lucie.locator('.fiches a').first());
      await check(lucie, 'fiche');
    });

    await step('markup in every field and in the query string stays inert', async () => {
      // Without the CSP, so that only the escaping protects the page.
      const context = await browser.newContext({ bypassCSP: true });
      const page = await context.newPage();
      const dialogs = [];
      page.on('dialog', async (dialog) => { dialogs.push(dialog.message()); await dialog.dismiss(); });
      const injected = () => page.evaluate(() =>
        document.querySelectorAll('script, img, svg, [onerror], [onload]').length);
      await page.goto(`${url}/rejoindre`);
      await page.getByLabel('Code d’invitation').fill(invitation());
      await page.getByLabel('Nom affiché').fill(XSS.slice(0, 60));
      await load(page, page.getByRole('button', { name: 'Rejoindre' }));
      await load(page, page.getByRole('link', { name: 'Publier un message' }));
      await page.getByLabel('Type de message').selectOption('event');
      await page.getByLabel('Titre').fill(XSS);
      await page.getByLabel('Texte').fill(XSS);
      await page.getByLabel('Date de l’événement').fill('2027-06-05');
      await page.getByLabel('Lieu de l’événement').fill(XSS);
      await load(page, page.getByRole('button', { name: 'Publier' }));
      assert.equal(await injected(), 0);
      await page.goto(`${url}/quartiers/centre-bourg`);
      assert.ok((await page.textContent('main')).includes('<script>alert(1)</script>'));
      assert.equal(await injected(), 0);
      await page.goto(`${url}/doleances/nouvelle`);
      for (const field of ['title', 'description', 'address', 'postcode', 'contact_name', 'contact_email', 'contact_phone'])
        await page.locator(`#f-${field}`).fill(XSS);
      await load(page, page.getByRole('button', { name: 'Envoyer à la mairie' }));
      await page.getByText('Le formulaire contient des erreurs').waitFor();
      assert.equal(await injected(), 0);
      for (const query of [`/annuaire?q=${encodeURIComponent(XSS)}&type=${encodeURIComponent(XSS)}`,
        `/quartiers/centre-bourg?avant=${encodeURIComponent(XSS)}`, `/${encodeURIComponent(XSS)}`,
        `/doleances/suivi?reference=${encodeURIComponent(XSS)}`]) {
        await page.goto(url + query);
        assert.equal(await injected(), 0, query);
      }
      assert.deepEqual(dialogs, []);
      await context.close();
    });
  } finally {
    await browser.close();
    server.kill('SIGTERM');
    await new Promise((resolve) => server.on('exit', resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`axe-core (wcag2a, wcag2aa, wcag21a, wcag21aa): no violation on ${pagesChecked.length} pages: ${pagesChecked.join(', ')}`);
  console.log(`screenshots: ${SHOTS}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
