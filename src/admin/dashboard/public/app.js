// The dashboard shell: sign-in, navigation between pages, a refresh every few seconds, confirmations.
import { api, ApiError, session } from './api.js';
import { formatTime } from './dom.js';
import * as feed from './feed.page.js';
import * as images from './images.page.js';
import * as orders from './orders.page.js';
import * as parked from './parked.page.js';
import * as queues from './queues.page.js';
import * as webhooks from './webhooks.page.js';
import * as circuits from './circuits.page.js';
import * as jobs from './jobs.page.js';
import * as recent from './recent.page.js';
import * as job from './job.page.js';
import * as workers from './workers.page.js';

const PAGES = { queues, workers, parked, jobs, recent, job, orders, feed, images, webhooks, circuits };
const REFRESH_MS = 5_000;
const $ = (id) => document.getElementById(id);

let refreshTimer;
let renderSeq = 0;

function currentPage() {
  const name = location.hash.slice(1).split('?')[0];
  return PAGES[name] ? name : 'queues';
}

/** What the hash says after the page's name: `#orders?item=42`. */
function pageParams() {
  const query = location.hash.indexOf('?');
  return new URLSearchParams(query < 0 ? '' : location.hash.slice(query + 1));
}

function showLogin(message = '') {
  clearTimeout(refreshTimer);
  $('page').hidden = true;
  $('nav').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
  $('token').focus();
}

function flash(message, kind = 'info') {
  const element = $('flash');
  element.textContent = message;
  element.className = kind;
}

/** Resolves true when the operator confirms `text` in the page's dialog. */
function confirmAction(text) {
  const dialog = $('confirm');
  $('confirm-text').textContent = text;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true }));
}

/** Runs an operator action, reports its outcome and shows the page as it is afterwards. */
async function act(action, describe) {
  try {
    flash(describe(await action()), 'ok');
  } catch (error) {
    flash(error.message, 'error');
  }
  await render();
}

async function render() {
  clearTimeout(refreshTimer);
  if (!session.token()) return showLogin();
  const name = currentPage();
  const page = PAGES[name];
  const seq = ++renderSeq;
  for (const link of document.querySelectorAll('#nav a')) link.classList.toggle('active', link.getAttribute('href') === `#${name}`);
  const params = pageParams();
  $('login').hidden = true;
  $('nav').hidden = false;
  $('page').hidden = false;
  $('page-title').textContent = page.title;
  try {
    const content = await page.render({ api, act, confirm: confirmAction, refresh: render, params });
    if (seq !== renderSeq) return;
    $('page-body').replaceChildren(...[content].flat(Infinity).filter(Boolean));
    $('page-status').textContent = `updated ${formatTime(Date.now())}`;
  } catch (error) {
    if (seq !== renderSeq) return;
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      session.signOut();
      return showLogin(error.status === 401 ? 'The token was refused; sign in again.' : 'This token lacks the admin ability.');
    }
    $('page-status').textContent = `refresh failed: ${error.message}`;
  }
  if (page.autoRefresh === false) return;
  refreshTimer = setTimeout(() => {
    if ($('confirm').open) refreshTimer = setTimeout(render, REFRESH_MS);
    else void render();
  }, REFRESH_MS);
}

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const token = $('token').value.trim();
  try {
    await api.verify(token);
  } catch (error) {
    const reason = error.status === 401 ? 'This token is not valid.' : error.status === 403 ? 'This token lacks the admin ability.' : error.message;
    return showLogin(reason);
  }
  session.signIn(token);
  $('token').value = '';
  flash('');
  await render();
});

$('sign-out').addEventListener('click', () => {
  session.signOut();
  flash('');
  showLogin();
});

window.addEventListener('hashchange', () => {
  flash('');
  void render();
});

void render();
