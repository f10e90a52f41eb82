/** Hash routes: #/ (case list), #/case/ID/TAB. Kept in the hash so a reload stays on the same case. */
export const TABS = ['timeline', 'hosts', 'walkthrough', 'artifacts', 'events', 'findings', 'annotations', 'search', 'export', 'charts'] as const;
export type Tab = (typeof TABS)[number];

export type Route = { readonly view: 'cases' } | { readonly view: 'case'; readonly caseId: number; readonly tab: Tab };

export function parseRoute(hash: string): Route {
  const m = /^#\/case\/(\d+)(?:\/([a-z]+))?/.exec(hash);
  if (m) {
    const tab = (TABS as readonly string[]).includes(m[2] ?? '') ? (m[2] as Tab) : 'timeline';
    return { view: 'case', caseId: Number(m[1]), tab };
  }
  return { view: 'cases' };
}

export function routeHash(r: Route): string {
  switch (r.view) {
    case 'cases':
      return '#/';
    case 'case':
      return `#/case/${r.caseId}/${r.tab}`;
    default: {
      const never: never = r;
      return never;
    }
  }
}
