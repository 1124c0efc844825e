// Posts a rating to the web app, with the question, the answer and its sources.

import { PAYLOAD, aroundCards } from './messages.js';

// What the person read: the answer's words; the recommendations' introduction, each product with
// its reasons, and the notes.
function answerText(entry) {
  const custom = entry.custom || {};
  if (custom.type === PAYLOAD.ANSWER) return custom.text || entry.text || '';
  if (custom.type === PAYLOAD.RECOMMENDATIONS) {
    const names = custom.items.map((item) => `${item.name} : ${item.reasons.join(' ; ')}`);
    const { before, after } = aroundCards(entry.text, custom.items);
    return [...before, ...names, ...after].filter(Boolean).join('\n');
  }
  return entry.text || '';
}

function answerSources(entry) {
  const custom = entry.custom || {};
  if (custom.type === PAYLOAD.ANSWER) return custom.sources;
  if (custom.type === PAYLOAD.RECOMMENDATIONS) return custom.items.flatMap((item) => item.sources);
  return [];
}

export async function postFeedback(url, sessionId, entry, rating) {
  const custom = entry.custom || {};
  const body = {
    conversation_id: sessionId,
    message_id: entry.id,
    rating,
    question: entry.question || '',
    answer: answerText(entry).slice(0, 20000) || '(réponse vide)',
    sources: answerSources(entry).slice(0, 50),
    mode: custom.type === PAYLOAD.ANSWER ? custom.mode : 'recommendations',
    validated: custom.type === PAYLOAD.ANSWER ? custom.validated : null,
    channel: 'website',
  };
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (!response.ok) throw new Error(`feedback refused: HTTP ${response.status}`);
  return response.json();
}
