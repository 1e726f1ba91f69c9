// Types for the markdown-it plugins render.ts uses, which ship none. markdown-it-texmath:
declare module 'markdown-it-texmath' {
  import type MarkdownIt from 'markdown-it';
  import type { KatexOptions } from 'katex';
  interface TexmathOptions {
    readonly engine: { renderToString(tex: string, options?: KatexOptions): string };
    readonly delimiters?: string | readonly string[];
    readonly katexOptions?: KatexOptions;
  }
  const texmath: (md: MarkdownIt, options: TexmathOptions) => void;
  export default texmath;
}

declare module 'markdown-it-task-lists' {
  import type MarkdownIt from 'markdown-it';
  const taskLists: (md: MarkdownIt, options?: { readonly enabled?: boolean; readonly label?: boolean }) => void;
  export default taskLists;
}
