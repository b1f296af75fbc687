import { createRouter, createWebHistory } from 'vue-router';
import { session, loadSession } from '../shared/session.js';

// Pages load on first visit, so the home page carries only its own code.
const routes = [
  { path: '/', name: 'home', component: () => import('./pages/HomePage.vue'), meta: { tab: 'home' } },
  { path: '/login', name: 'login', component: () => import('./pages/LoginPage.vue') },
  { path: '/drops/:id', name: 'drop', component: () => import('./pages/DropPage.vue') },
  { path: '/orders', name: 'orders', component: () => import('./pages/OrdersPage.vue'), meta: { auth: true } },
  { path: '/orders/:id', name: 'order', component: () => import('./pages/OrderPage.vue'), meta: { auth: true } },
  {
    path: '/collection',
    name: 'collection',
    component: () => import('./pages/CollectionPage.vue'),
    meta: { auth: true, tab: 'collection' },
  },
  { path: '/tokens/:series/:serial', name: 'token', component: () => import('./pages/TokenPage.vue') },
  {
    path: '/tokens/:series/:serial/certificate',
    name: 'certificate',
    component: () => import('./pages/CertificatePage.vue'),
  },
  { path: '/me', name: 'me', component: () => import('./pages/MePage.vue'), meta: { auth: true, tab: 'me' } },
  { path: '/me/identity', name: 'identity', component: () => import('./pages/IdentityPage.vue'), meta: { auth: true } },
  { path: '/me/password', name: 'password', component: () => import('./pages/PasswordPage.vue'), meta: { auth: true } },
  { path: '/tickets', name: 'tickets', component: () => import('./pages/TicketsPage.vue'), meta: { auth: true } },
  { path: '/tickets/:id', name: 'ticket', component: () => import('./pages/TicketPage.vue'), meta: { auth: true } },
  { path: '/:rest(.*)*', name: 'not-found', component: () => import('./pages/NotFoundPage.vue') },
];

export const router = createRouter({
  history: createWebHistory('/'),
  routes,
  scrollBehavior: (to, from, saved) => saved ?? { top: 0 },
});

router.beforeEach(async (to) => {
  if (!session.loaded) {
    try {
      await loadSession();
    } catch {
      // The node is unreachable: the page itself shows the error when it loads its data.
    }
  }
  if (to.meta.auth && !session.user) return { name: 'login', query: { redirect: to.fullPath } };
  if (session.user?.must_change_password && to.name !== 'password' && to.name !== 'login') {
    return { name: 'password', query: { redirect: to.fullPath } };
  }
  return true;
});
