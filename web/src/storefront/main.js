import { createApp } from 'vue';
import App from './App.vue';
import { router } from './router.js';
import { i18n } from '../shared/i18n.js';
import { installVant } from '../shared/vant.js';
import '../shared/theme.css';

const app = createApp(App);
installVant(app);
app.use(i18n);
app.use(router);
app.mount('#app');
