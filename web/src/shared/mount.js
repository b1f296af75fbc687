// Starts one of the three apps: Vant's components, the interface language, the router, the theme.
import { createApp } from 'vue';
import { i18n } from './i18n.js';
import { installVant } from './vant.js';
import './theme.css';

export function mountApp(App, router) {
  const app = createApp(App);
  installVant(app);
  app.use(i18n);
  app.use(router);
  app.mount('#app');
}
