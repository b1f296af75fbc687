// A page's data: load() runs `fetcher`, keeping loading and error state for LoadState.vue.
import { ref } from 'vue';

export function useLoad(fetcher) {
  const data = ref(null);
  const loading = ref(true);
  const error = ref(null);
  async function load() {
    loading.value = data.value === null;
    error.value = null;
    try {
      data.value = await fetcher();
    } catch (caught) {
      error.value = caught;
    } finally {
      loading.value = false;
    }
  }
  return { data, loading, error, load };
}
