// Builds the DOM of one conversation entry (user message, bot text, answer with sources,
// recommendation cards, quick replies, feedback scale).

import { el, srOnly } from './dom.js';
import { CATEGORY_LABELS, RATINGS, TEXT } from './text.js';
import { PAYLOAD, aroundCards, isRateable } from './messages.js';

const PDF_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*\.pdf$/i;

export function documentLink(documentsUrl, source) {
  if (!PDF_NAME.test(source.document)) return null;
  const anchor = source.page ? `#page=${source.page}` : '';
  return `${documentsUrl}/${encodeURIComponent(source.document)}${anchor}`;
}

function sourcesBlock(sources, documentsUrl) {
  if (!sources.length) return null;
  const items = sources.map((source) => {
    const href = documentLink(documentsUrl, source);
    const header = el('p', { className: 'vg-source-ref' }, [
      el('span', { className: 'vg-source-doc', text: source.document }),
      source.page ? el('span', { className: 'vg-source-page', text: ` — ${TEXT.page(source.page)}` }) : null,
    ]);
    const passage = source.passage ? el('blockquote', { className: 'vg-passage', text: source.passage }) : null;
    const link = href
      ? el('a', { className: 'vg-source-link', text: TEXT.openPdf(source.page), attrs: { href, target: '_blank', rel: 'noopener noreferrer' } }, [srOnly(` ${TEXT.opensNewTab}`)])
      : null;
    return el('li', { className: 'vg-source' }, [header, passage, link]);
  });
  return el('details', { className: 'vg-sources' }, [
    el('summary', { text: TEXT.sources(sources.length) }),
    el('ol', {}, items),
  ]);
}

function recommendationCards(custom, documentsUrl) {
  const cards = custom.items.map((item) => {
    const label = CATEGORY_LABELS[item.category] || item.category;
    return el('li', { className: 'vg-card', attrs: { 'data-code': item.code } }, [
      el('h4', { className: 'vg-card-title', text: item.name }),
      label ? el('p', { className: 'vg-card-category', text: label }) : null,
      item.reasons.length ? el('p', { className: 'vg-card-heading', text: TEXT.reasons }) : null,
      item.reasons.length ? el('ul', { className: 'vg-reasons' }, item.reasons.map((r) => el('li', { text: r }))) : null,
      item.warnings.length ? el('p', { className: 'vg-card-heading', text: TEXT.warnings }) : null,
      item.warnings.length ? el('ul', { className: 'vg-warnings' }, item.warnings.map((w) => el('li', { text: w }))) : null,
      sourcesBlock(item.sources, documentsUrl),
    ]);
  });
  return el('ul', { className: 'vg-cards', attrs: { 'aria-label': TEXT.recommendations } }, cards);
}

function categoriesList(custom) {
  return el(
    'ul',
    { className: 'vg-categories', attrs: { 'aria-label': TEXT.categories } },
    custom.items.map((item) => el('li', {}, [el('strong', { text: item.label }), el('span', { text: item.description ? ` : ${item.description}` : '' })])),
  );
}

export function feedbackBlock(entry, onRate) {
  const status = el('span', { className: 'vg-feedback-status', attrs: { role: 'status' } });
  const label = el('span', { className: 'vg-feedback-question', text: TEXT.feedbackQuestion, attrs: { id: `vg-fq-${entry.id}` } });
  const buttons = RATINGS.map((rating) => {
    const button = el('button', {
      className: 'vg-rate',
      text: rating.emoji,
      attrs: { type: 'button', 'aria-label': rating.label, title: rating.label, 'aria-pressed': entry.rating === rating.value ? 'true' : 'false', 'data-rating': rating.value },
    });
    button.addEventListener('click', () => onRate(entry, rating.value, { buttons, status }));
    return button;
  });
  if (entry.rating) status.textContent = TEXT.feedbackThanks;
  return el('div', { className: 'vg-feedback', attrs: { role: 'group', 'aria-labelledby': `vg-fq-${entry.id}` } }, [
    label,
    el('span', { className: 'vg-rates' }, buttons),
    status,
  ]);
}

export function quickReplies(entry, onQuickReply) {
  if (!entry.buttons || !entry.buttons.length) return null;
  const group = el('div', { className: 'vg-quick', attrs: { role: 'group', 'aria-label': TEXT.suggestions } });
  for (const button of entry.buttons) {
    const node = el('button', { className: 'vg-quick-reply', text: button.title, attrs: { type: 'button', disabled: entry.answered ? 'disabled' : null } });
    node.addEventListener('click', () => onQuickReply(entry, button, group));
    group.appendChild(node);
  }
  return group;
}

export function renderEntry(entry, { documentsUrl, onQuickReply, onRate }) {
  const isUser = entry.role === 'user';
  const classes = ['vg-msg', isUser ? 'vg-user' : 'vg-bot'];
  if (entry.pending) classes.push('vg-pending');
  const node = el('li', { className: classes.join(' '), attrs: { 'data-id': entry.id } });
  node.appendChild(srOnly(`${isUser ? TEXT.you : TEXT.bot} : `));
  // One message per answer: a payload is shown instead of the text that repeats it for
  // messaging apps (the answer with its citation, the products in words).
  const custom = entry.custom;
  const cards = custom && custom.type === PAYLOAD.RECOMMENDATIONS && custom.items.length ? custom : null;
  let text = entry.text;
  if (custom && custom.type === PAYLOAD.ANSWER && custom.text) text = custom.text;
  const around = cards ? aroundCards(text, cards.items) : { before: text ? [text] : [], after: [] };
  if (around.before.length) node.appendChild(el('p', { className: 'vg-text', text: around.before.join('\n\n') }));
  if (entry.pending) node.appendChild(el('span', { className: 'vg-pending-note', text: TEXT.pending }));
  if (custom && custom.type === PAYLOAD.ANSWER) {
    if (custom.mode === 'extractive') node.appendChild(el('p', { className: 'vg-mode', text: TEXT.extractive }));
    const block = sourcesBlock(custom.sources, documentsUrl);
    if (block) node.appendChild(block);
  } else if (cards) {
    node.appendChild(recommendationCards(cards, documentsUrl));
    if (around.after.length) node.appendChild(el('p', { className: 'vg-note', text: around.after.join('\n\n') }));
  } else if (custom && custom.type === PAYLOAD.CATEGORIES && custom.items.length && !text) {
    node.appendChild(categoriesList(custom));
  }
  if (!isUser) {
    const replies = quickReplies(entry, onQuickReply);
    if (replies) node.appendChild(replies);
    if (isRateable(entry)) node.appendChild(feedbackBlock(entry, onRate));
  }
  return node;
}
