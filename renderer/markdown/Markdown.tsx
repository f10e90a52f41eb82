import type { ReactNode } from 'react';
import { parseMarkdown, type Block, type Inline } from './parse';
import { visible, visibleLines } from '../util/text';

/** Renders the safe subset with React elements only: every string goes through React's escaping. */
export function Markdown({ source, className }: { source: string; className?: string }): ReactNode {
  const blocks = parseMarkdown(source);
  return <div className={`md ${className ?? ''}`}>{blocks.map((b, i) => renderBlock(b, i))}</div>;
}

function renderBlock(b: Block, key: number): ReactNode {
  switch (b.t) {
    case 'p':
      return <p key={key}>{renderInlines(b.children)}</p>;
    case 'h':
      return b.level === 1 ? <h3 key={key}>{renderInlines(b.children)}</h3> : <h4 key={key}>{renderInlines(b.children)}</h4>;
    case 'ul':
      return (
        <ul key={key}>
          {b.items.map((it, i) => (
            <li key={i}>{renderInlines(it)}</li>
          ))}
        </ul>
      );
    case 'ol':
      return (
        <ol key={key} start={b.start}>
          {b.items.map((it, i) => (
            <li key={i}>{renderInlines(it)}</li>
          ))}
        </ol>
      );
    case 'pre':
      return (
        <pre key={key} className="md-pre">
          {visibleLines(b.text)}
        </pre>
      );
    default: {
      const never: never = b;
      return never;
    }
  }
}

function renderInlines(nodes: readonly Inline[]): ReactNode[] {
  return nodes.map((n, i) => {
    switch (n.t) {
      case 'text':
        return <span key={i}>{visible(n.text)}</span>;
      case 'code':
        return <code key={i}>{visible(n.text)}</code>;
      case 'strong':
        return <strong key={i}>{renderInlines(n.children)}</strong>;
      case 'em':
        return <em key={i}>{renderInlines(n.children)}</em>;
      case 'link':
        // Shown, not followed: the app denies navigation; the address is in the tooltip for the reader to copy.
        return (
          <span key={i} className="md-link" title={n.href}>
            {visible(n.text)}
          </span>
        );
      default: {
        const never: never = n;
        return never;
      }
    }
  });
}
