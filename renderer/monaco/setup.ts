import * as monaco from 'monaco-editor';
import { loader } from '@monaco-editor/react';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';
import JsonWorker from 'monaco-editor/languages/features/json/json.worker?worker';
import { registerLanguages } from './languages';

/**
 * Monaco fully offline: the editor and its workers are bundled by Vite and @monaco-editor/react is told to use
 * this copy instead of fetching one from a CDN (notes/toolchain.md). `getWorker` is required by monaco 0.57.
 */
self.MonacoEnvironment = {
  getWorker: (_id: string, label: string) => (label === 'json' ? new JsonWorker() : new EditorWorker()),
};
loader.config({ monaco });
registerLanguages(monaco);

export { monaco };
