import { useEffect, useState } from 'preact/hooks';
import { type State, store, subscribe } from './store.js';

/** The store, re-rendering the component when it changes (at most every 500 ms). */
export function useStore(): State {
  const [, setVersion] = useState(0);
  useEffect(() => subscribe(() => setVersion((v) => v + 1)), []);
  return store;
}
