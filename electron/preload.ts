/**
 * The renderer's only door to the backend: one function per API method (names from the contract), plus
 * a subscription to the contract's event names. No generic ipcRenderer, no Node.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { METHODS, EVENT_NAMES } from '../shared/api/contract';

const api: Record<string, (input: unknown) => Promise<unknown>> = {};
for (const m of METHODS) api[m] = (input: unknown) => ipcRenderer.invoke(`cf:${m}`, input);

contextBridge.exposeInMainWorld('casefile', {
  api,
  on(event: string, handler: (payload: unknown) => void): () => void {
    if (!(EVENT_NAMES as readonly string[]).includes(event)) throw new Error(`unknown event ${event}`);
    const listener = (_e: IpcRendererEvent, name: string, payload: unknown) => {
      if (name === event) handler(payload);
    };
    ipcRenderer.on('cf:event', listener);
    return () => ipcRenderer.off('cf:event', listener);
  },
  savePdf: (caseId: number) => ipcRenderer.invoke('cf:desktop.savePdf', caseId),
});
