import { createTRPCClient, httpLink } from '@trpc/client';
import type { AppRouter } from '@lepton/api';
import { describeError, formatError } from './errors';

/** A tRPC client that sends `Authorization: Bearer <key>` (the fleet and variant-build pages). */
export function keyedClient(baseUrl: string, key: () => string) {
  return createTRPCClient<AppRouter>({ links: [httpLink({ url: `${baseUrl}/trpc`, headers: () => ({ authorization: `Bearer ${key()}` }) })] });
}
export type KeyedClient = ReturnType<typeof keyedClient>;

/** The key form and status line of a keyed section: `#<prefix>-auth`, `#<prefix>-key`, `#<prefix>-status`. */
export function keyFormHtml(prefix: string, label: string, button: string): string {
  return `<form id="${prefix}-auth"><label>${label} <input id="${prefix}-key" type="password" autocomplete="off" /></label>
      <button type="submit">${button}</button></form>
    <p id="${prefix}-status" role="status"></p>`;
}

export interface KeyPanelOptions {
  /** The section holding keyFormHtml(prefix, …); its data-state becomes loading, then ready | error. */
  section: HTMLElement;
  prefix: string;
  baseUrl: string;
  /** sessionStorage entries to read the key from, first found wins; the first is where a submitted key is kept. */
  stores: [string, ...string[]];
  /** Fetch and render; the answer is the status line, and `againMs` asks for one more refresh that long after. */
  load: (client: KeyedClient) => Promise<{ status: string; againMs?: number }>;
  /** Refresh this often from the first submit on, whatever each refresh answered. */
  everyMs?: number;
}

/**
 * An API key typed in once per tab (sessionStorage, never the URL), a client that sends it, and refresh: each
 * submit stores the key and loads; a stored key submits the form at once. Errors show on the status line as
 * `server: CODE: message`.
 */
export function installKeyPanel(opts: KeyPanelOptions): void {
  const { section, prefix } = opts;
  const form = section.querySelector<HTMLFormElement>(`#${prefix}-auth`)!;
  const key = section.querySelector<HTMLInputElement>(`#${prefix}-key`)!;
  const status = section.querySelector<HTMLElement>(`#${prefix}-status`)!;
  key.value = opts.stores.map((s) => sessionStorage.getItem(s)).find((v) => v !== null) ?? '';
  let again: ReturnType<typeof setTimeout> | undefined;
  let every: ReturnType<typeof setInterval> | undefined;

  async function refresh(): Promise<void> {
    clearTimeout(again);
    const client = keyedClient(opts.baseUrl, () => key.value.trim());
    section.dataset['state'] = 'loading';
    try {
      const { status: text, againMs } = await opts.load(client);
      status.textContent = text;
      section.dataset['state'] = 'ready';
      if (againMs !== undefined) again = setTimeout(() => void refresh(), againMs);
    } catch (err) {
      status.textContent = formatError(describeError(err, 'server'));
      section.dataset['state'] = 'error';
    }
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    sessionStorage.setItem(opts.stores[0], key.value.trim());
    void refresh();
    if (opts.everyMs !== undefined) every ??= setInterval(() => void refresh(), opts.everyMs);
  });
  if (key.value) form.requestSubmit();
}

/** "1 job", "2 jobs". */
export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
