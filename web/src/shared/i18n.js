// The interface language: Simplified Chinese by default, English on request (remembered in
// localStorage). API errors are shown by their stable code in the user's language; a code the
// catalogue does not know falls back to the API's own (English) message.
import { createI18n } from 'vue-i18n';
import zhCN from '../locales/zh-CN.js';
import en from '../locales/en.js';
import { useVantLocale } from './vant.js';

const stored = typeof localStorage !== 'undefined' ? localStorage.getItem('jiancang.locale') : null;
const locale = stored === 'en' || stored === 'zh-CN' ? stored : 'zh-CN';

export const i18n = createI18n({
  legacy: false,
  locale,
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN, en },
});
useVantLocale(locale);
if (typeof document !== 'undefined') document.documentElement.lang = locale;

export function setLocale(next) {
  localStorage.setItem('jiancang.locale', next);
  window.location.reload();
}

// A message for people from anything a page caught.
export function errorText(error) {
  const { t, te } = i18n.global;
  const code = error?.code;
  if (code && te(`errors.${code}`)) return t(`errors.${code}`);
  if (code === 'network') return t('errors.network');
  if (error?.message) return error.message;
  return t('errors.unknown');
}
