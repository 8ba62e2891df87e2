import type { ModelRecord } from '@lepton/contracts';
import { variantText } from './variants-view';

/** The registry's models as a table, and the VAD ones as choices for the run controls. */
export function renderModels(table: HTMLTableElement, select: HTMLSelectElement, models: ModelRecord[]): void {
  const body = table.tBodies[0] ?? table.createTBody();
  body.replaceChildren();
  for (const m of models) {
    const row = body.insertRow();
    row.dataset['modelId'] = m.id;
    const variants = m.variants.map(variantText).join(', ');
    for (const text of [m.id, m.name, m.version, m.task, variants || '–']) row.insertCell().textContent = text;
  }
  const vad = models.filter((m) => m.task === 'vad');
  select.replaceChildren(
    ...vad.map((m) => {
      const option = document.createElement('option');
      option.value = `${m.id}@${m.version}`;
      option.textContent = `${m.name} (${m.id} ${m.version})`;
      return option;
    }),
  );
  select.disabled = vad.length === 0;
}

export function selectedModel(select: HTMLSelectElement, models: ModelRecord[]): ModelRecord | undefined {
  return models.find((m) => `${m.id}@${m.version}` === select.value);
}
