import { createRouter, createWebHistory } from 'vue-router';
import { session, loadSession } from '../shared/session.js';

export const router = createRouter({
  history: createWebHistory('/console/'),
  routes: [
    { path: '/', name: 'home', component: () => import('./pages/DashboardPage.vue') },
    { path: '/login', name: 'login', component: () => import('./pages/LoginPage.vue'), meta: { open: true } },
    { path: '/issuers', name: 'issuers', component: () => import('./pages/IssuersPage.vue') },
    { path: '/series', name: 'series', component: () => import('./pages/SeriesPage.vue') },
    { path: '/series/new', name: 'series-new', component: () => import('./pages/SeriesEditPage.vue') },
    { path: '/series/:id', name: 'series-edit', component: () => import('./pages/SeriesEditPage.vue') },
    { path: '/review', name: 'review', component: () => import('./pages/ReviewPage.vue') },
    { path: '/drops', name: 'drops', component: () => import('./pages/DropsPage.vue') },
    { path: '/drops/new', name: 'drop-new', component: () => import('./pages/DropNewPage.vue'), meta: { section: 'drops' } },
    { path: '/announcements', name: 'announcements', component: () => import('./pages/AnnouncementsPage.vue') },
    { path: '/users', name: 'users', component: () => import('./pages/UsersPage.vue') },
    { path: '/orders', name: 'orders', component: () => import('./pages/OrdersPage.vue') },
    { path: '/charts', name: 'charts', component: () => import('./pages/ChartsPage.vue') },
    { path: '/:rest(.*)*', name: 'not-found', component: () => import('../storefront/pages/NotFoundPage.vue') },
  ],
});

router.beforeEach(async (to) => {
  if (!session.loaded) await loadSession().catch(() => {});
  if (!to.meta.open && !session.user) return { name: 'login', query: { redirect: to.fullPath } };
  if (session.user?.must_change_password && !to.meta.open) {
    window.location.assign(`/me/password?redirect=${encodeURIComponent('/console' + to.fullPath)}`);
    return false;
  }
  return true;
});
