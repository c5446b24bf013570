// How an ordinary upstream reads a request target it was sent: percent-decode once, overlong UTF-8
// read as the ASCII it spells (lenient decoders do), backslash as a separator (Windows/IIS, many
// frameworks), `;params` cut from each segment (Tomcat, Jetty), dot segments resolved. Class 3 asks
// whether what a gateway forwarded for a /public/ route still lands under /public/ when read this way.

const OVERLONG = new Map([
  ['c0ae', '.'],
  ['c0af', '/'],
  ['e080ae', '.'],
  ['e080af', '/'],
  ['c1dc', '\\'],
]);

export function resolveLikeUpstream(target) {
  let path = target.split('?')[0];
  const abs = /^[a-z]+:\/\/[^/]*/i.exec(path);
  if (abs) path = path.slice(abs[0].length) || '/';
  const bytes = [];
  for (let i = 0; i < path.length; i++) {
    const hex = path[i] === '%' ? path.slice(i + 1, i + 3) : '';
    if (/^[0-9a-f]{2}$/i.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else bytes.push(path.charCodeAt(i) & 0xff);
  }
  let text = '';
  for (let i = 0; i < bytes.length; i++) {
    const two = hexOf(bytes, i, 2);
    const three = hexOf(bytes, i, 3);
    if (OVERLONG.has(three)) {
      text += OVERLONG.get(three);
      i += 2;
    } else if (OVERLONG.has(two)) {
      text += OVERLONG.get(two);
      i += 1;
    } else text += String.fromCharCode(bytes[i]);
  }
  const out = [];
  for (const raw of text.replaceAll('\\', '/').split('/')) {
    const seg = raw.split(';')[0];
    if (seg === '..') out.pop();
    else if (seg !== '.' && seg !== '') out.push(seg);
  }
  return `/${out.join('/')}`;
}

function hexOf(bytes, at, n) {
  return bytes
    .slice(at, at + n)
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('');
}
