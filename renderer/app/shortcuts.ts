/** Every keyboard shortcut, in one table the help overlay (?) renders. Single keys never fire while typing. */
export interface Shortcut {
  readonly keys: string;
  readonly what: string;
  readonly where: 'anywhere' | 'case' | 'timeline';
}

export const SHORTCUTS: readonly Shortcut[] = [
  { keys: '?', what: 'Show or hide this help', where: 'anywhere' },
  { keys: 'Esc', what: 'Close a dialog or this help', where: 'anywhere' },
  { keys: 'Shift+T', what: 'Switch between light and dark theme', where: 'anywhere' },
  { keys: 'g then c', what: 'Go to the case list', where: 'anywhere' },
  { keys: '1 … 9', what: 'Switch tab (Timeline, Hosts, Walkthrough, Artifacts, Events, Findings, Annotations, Search, Export)', where: 'case' },
  { keys: '/', what: 'Search in this case', where: 'case' },
  { keys: '← →', what: 'Pan by a tenth of the window (Shift: a whole window)', where: 'timeline' },
  { keys: '+ / -', what: 'Zoom in / out around the centre', where: 'timeline' },
  { keys: '0', what: 'Fit the whole case', where: 'timeline' },
  { keys: 'r', what: 'Raw / corrected time', where: 'timeline' },
  { keys: 'Wheel', what: 'Zoom around the pointer (Shift+wheel pans)', where: 'timeline' },
  { keys: 'Drag', what: 'Pan', where: 'timeline' },
  { keys: 'Shift+drag', what: 'Select a window (brush) and zoom to it', where: 'timeline' },
  { keys: 'Click', what: 'Select an event: related events light up; double-click opens it in the viewer', where: 'timeline' },
  { keys: 'a', what: 'Annotate the selected event', where: 'timeline' },
  { keys: 'Enter', what: 'Open the selected event at its line in the artifact viewer', where: 'timeline' },
];
