// Updating an emergency: a new revision, through the same plan step.
import { h, fill } from '../dom.js';
import { get } from '../api.js';
import { t } from '../i18n.js';
import { declareFlow } from './declare.js';
import { sevBadge, hazardTitle } from '../widgets.js';

export async function render(root, ctx) {
  const e = await get(`/emergencies/${ctx.params.id}`, { signal: ctx.signal });
  if (e.status !== 'active') {
    fill(root, h('div', { class: 'empty' }, h('p', {}, t('update.not_active')), h('a', { href: `#/emergencies/${e.id}` }, t('common.back'))));
    return;
  }
  const flow = declareFlow({
    ctx, mode: 'update', emergency: e,
    onDone: () => ctx.navigate(`#/emergencies/${e.id}`),
    onCancel: () => ctx.navigate(`#/emergencies/${e.id}`),
  });
  fill(root,
    h('div', { class: 'crumb-line' }, h('a', { href: `#/emergencies/${e.id}` }, '‹ ', hazardTitle(e), ` #${e.id}`)),
    h('div', { class: 'page-head' }, h('h1', {}, t('update.title')), sevBadge(e.severity), h('span', { class: 'muted' }, e.headline)),
    flow.el);
  await flow.ready;
}
