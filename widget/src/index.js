// Entry point of the bundle: styles, configuration, then the widget once the page is parsed.

import css from './widget.css';
import { readConfig } from './config.js';
import { ChatWidget } from './widget.js';

const config = readConfig();

function boot() {
  const style = document.createElement('style');
  style.textContent = css;
  document.head.appendChild(style);
  window.vergemontChat = new ChatWidget(config);
  if (window.performance && typeof window.performance.mark === 'function') {
    window.performance.mark('vg-widget-ready');
  }
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
else boot();
