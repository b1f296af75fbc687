// A form's submission: `busy` while it runs, `failure` (a message for people) when it throws.
// run() returns the action's result, or undefined when it failed.
import { ref } from 'vue';
import { errorText } from './i18n.js';

export function useSubmit() {
  const busy = ref(false);
  const failure = ref('');
  async function run(action) {
    busy.value = true;
    failure.value = '';
    try {
      return await action();
    } catch (caught) {
      failure.value = errorText(caught);
      return undefined;
    } finally {
      busy.value = false;
    }
  }
  return { busy, failure, run };
}

// Where to go after a login or a password change: the ?redirect= path if it is one of this
// site's ("//host" would leave it), otherwise `fallback`.
export function redirectTarget(route, fallback) {
  const target = route.query.redirect;
  return typeof target === 'string' && target.startsWith('/') && !target.startsWith('//') ? target : fallback;
}
