// The only way the widget creates elements: text always goes through textContent, attributes are
// set one by one, and nothing is ever parsed as HTML.

export function el(tag, options = {}, children = []) {
  const node = document.createElement(tag);
  if (options.className) node.className = options.className;
  if (options.text !== undefined) node.textContent = String(options.text);
  for (const [name, value] of Object.entries(options.attrs || {})) {
    if (value !== null && value !== undefined && value !== false) node.setAttribute(name, String(value));
  }
  for (const child of children) if (child) node.appendChild(child);
  return node;
}

export function srOnly(text) {
  return el('span', { className: 'vg-sr', text });
}
