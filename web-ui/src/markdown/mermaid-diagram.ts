// Mermaid diagrams, drawn on demand from a finished ```mermaid block. The library is loaded only the
// first time one is asked for (it is large), with its strict security level and SVG-only labels, and
// the diagram is shown as an <img> of the SVG: an image runs no script and fetches nothing, whatever
// the model wrote, and its own styles need no exception to the page's Content-Security-Policy.

let loaded: Promise<typeof import('mermaid').default> | undefined;
let drawn = 0;

function mermaidLibrary(dark: boolean): Promise<typeof import('mermaid').default> {
  loaded ??= import('mermaid').then(({ default: mermaid }) => mermaid);
  return loaded.then((mermaid) => {
    mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', htmlLabels: false, flowchart: { htmlLabels: false }, theme: dark ? 'dark' : 'default' });
    return mermaid;
  });
}

/** The diagram as an SVG data URL for an <img>; rejects with mermaid's own message when the source does not parse. */
export async function mermaidImage(source: string, dark: boolean): Promise<string> {
  const mermaid = await mermaidLibrary(dark);
  const { svg } = await mermaid.render(`mermaid-${++drawn}`, source);
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}
