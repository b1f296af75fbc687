import App from './App.vue';
import { router } from './router.js';
import { mountApp } from '../shared/mount.js';

mountApp(App, router);
