import { createRouter, createWebHistory } from 'vue-router';

export const router = createRouter({
  history: createWebHistory('/explorer/'),
  routes: [
    { path: '/', name: 'home', component: () => import('./pages/ChainPage.vue') },
    { path: '/blocks/:id', name: 'block', component: () => import('./pages/BlockPage.vue') },
    { path: '/tx/:hash', name: 'tx', component: () => import('./pages/TransactionPage.vue') },
    { path: '/series/:id', name: 'series', component: () => import('./pages/SeriesPage.vue') },
    { path: '/tokens/:series/:serial', name: 'token', component: () => import('./pages/TokenPage.vue') },
    { path: '/accounts/:address', name: 'account', component: () => import('./pages/AccountPage.vue') },
    { path: '/:rest(.*)*', name: 'not-found', component: () => import('../storefront/pages/NotFoundPage.vue') },
  ],
  scrollBehavior: (to, from, saved) => saved ?? { top: 0 },
});
