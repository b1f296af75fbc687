// How amounts, times and hashes are shown.
import { i18n } from './i18n.js';

export function yuan(fen) {
  const value = Number(fen) / 100;
  return '¥' + value.toFixed(value % 1 === 0 ? 0 : 2);
}

export function dateTime(millis) {
  if (!millis) return '—';
  return new Date(Number(millis)).toLocaleString(i18n.global.locale.value, { hour12: false });
}

export function shortHash(hex, keep = 8) {
  if (!hex) return '';
  return hex.length <= keep * 2 + 1 ? hex : `${hex.slice(0, keep)}…${hex.slice(-keep)}`;
}

// "2 天 3 小时" / "2 d 3 h": a duration in milliseconds, in its two largest units.
export function duration(millis) {
  const { t } = i18n.global;
  let seconds = Math.max(0, Math.round(Number(millis) / 1000));
  const units = [
    ['day', 86400],
    ['hour', 3600],
    ['minute', 60],
    ['second', 1],
  ];
  const parts = [];
  for (const [unit, size] of units) {
    const count = Math.floor(seconds / size);
    seconds -= count * size;
    if (count > 0 || (parts.length === 0 && unit === 'second')) parts.push(t(`units.${unit}`, { n: count }));
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

export function mediaKind(mime) {
  if (!mime) return 'unknown';
  if (mime.startsWith('image/')) return 'image';
  if (mime.startsWith('video/')) return 'video';
  if (mime.startsWith('audio/')) return 'audio';
  if (mime.startsWith('model/')) return 'model';
  return 'unknown';
}
