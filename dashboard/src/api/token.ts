/**
 * The dashboard's token: `rotor up` prints the URL with `#token=…`. On load it moves from the fragment into
 * sessionStorage (this tab only) and out of the address bar, so it is not left in history or a copied link.
 */

const STORAGE_KEY = 'rotor.dashboard.token';

export function takeTokenFromLocation(): string | null {
  const params = new URLSearchParams(window.location.hash.replace(/^#/, ''));
  const fromHash = params.get('token');
  if (fromHash) {
    sessionStorage.setItem(STORAGE_KEY, fromHash);
    params.delete('token');
    const rest = params.toString();
    const url = window.location.pathname + window.location.search + (rest ? `#${rest}` : '');
    window.history.replaceState(window.history.state, '', url);
    return fromHash;
  }
  return sessionStorage.getItem(STORAGE_KEY);
}

export function forgetToken(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}
