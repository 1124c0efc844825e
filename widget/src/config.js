// Widget settings, read from the data attributes of its <script> tag (or window.VergemontChatConfig).

function currentScript() {
  return document.currentScript || document.querySelector('script[data-socket-url]');
}

function trimSlash(value) {
  return String(value || '').replace(/\/+$/, '');
}

export function readConfig() {
  const script = currentScript();
  const data = (script && script.dataset) || {};
  const overrides = window.VergemontChatConfig || {};
  return {
    socketUrl: trimSlash(overrides.socketUrl || data.socketUrl || window.location.origin),
    socketPath: overrides.socketPath || data.socketPath || '/socket.io',
    feedbackUrl: overrides.feedbackUrl || data.feedbackUrl || '/api/feedback',
    documentsUrl: trimSlash(overrides.documentsUrl || data.documentsUrl || '/documents'),
    storagePrefix: overrides.storagePrefix || 'vergemont-chat',
    replyTimeoutMs: Number(overrides.replyTimeoutMs || data.replyTimeoutMs || 30000),
  };
}
